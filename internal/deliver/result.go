// Package deliver sends rendered HTTP requests and runs rendered commands, with
// timeouts, bounded capture of what comes back, and a Result that says how it went.
package deliver

import (
	"time"
)

// Outcomes of one attempt, as written in the journal.
const (
	OK      = "ok"
	Failed  = "failed"
	Timeout = "timeout"
	Skipped = "skipped"
)

// MaxExcerpt bounds the response body or command output kept with a result.
const MaxExcerpt = 4 << 10

// maskSlack is how much is read beyond MaxExcerpt so that secrets are masked before the
// cut: a secret (up to this long) that straddles the cut is not left half visible.
const maskSlack = 4 << 10

// excerpt masks the captured start of a body or output and bounds it to MaxExcerpt.
// more says whether raw is only the start of something longer. mask is nil when there
// are no secrets; otherwise, when there is more, the last maskSlack bytes of raw may hold
// the first part of a secret that mask could not recognise, and are dropped.
// It also reports whether the excerpt was cut.
func excerpt(raw []byte, more bool, mask func(string) string) (string, bool) {
	s := string(raw)
	if mask != nil {
		s = mask(s)
		if more {
			s = s[:max(0, len(s)-maskSlack)]
		}
	}
	if len(s) > MaxExcerpt {
		s, more = s[:MaxExcerpt], true
	}
	if more {
		s += "...(truncated)"
	}
	return s, more
}

// Result is how one attempt went.
type Result struct {
	Outcome  string
	Status   int    // HTTP status, 0 when no response
	ExitCode *int   // exec exit code (128+signal when killed by a signal)
	Location string // Location of a 3xx response
	Duration time.Duration
	Error    string
	Excerpt  string // the start of the response body or of the command's output
	// ExcerptCut says that Excerpt is only the start (it ends with "...(truncated)").
	ExcerptCut bool
	// Stderr is the end of the command's stderr, masked, at most MaxTailLines lines and
	// MaxTail bytes; exec only, when the command asked for it (render.Command.StderrTail).
	Stderr string
	// Output is the command's whole output (stdout and stderr as they came), up to
	// MaxOutput bytes; exec only, and not masked: for callers that hand it back to the
	// one who asked for the run (hookpoint listen), never for logs.
	Output string
	// RetryAfter is the wait a 429 or 503 response asked for.
	RetryAfter time.Duration
	// Gone is set on 410 Gone: the receiver asks never to be called again.
	Gone bool
}

// OK reports whether the attempt succeeded.
func (r *Result) OK() bool { return r.Outcome == OK }

// boundedBuffer keeps the first max bytes written to it and counts the rest.
type boundedBuffer struct {
	buf     []byte
	max     int
	dropped int64
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	room := b.max - len(b.buf)
	if room > len(p) {
		room = len(p)
	}
	if room > 0 {
		b.buf = append(b.buf, p[:room]...)
	}
	b.dropped += int64(len(p) - room)
	return len(p), nil
}

// excerpt returns the masked, bounded start of what was written.
func (b *boundedBuffer) excerpt(mask func(string) string) (string, bool) {
	return excerpt(b.buf, b.dropped > 0, mask)
}
