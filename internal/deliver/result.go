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

// Result is how one attempt went.
type Result struct {
	Outcome  string
	Status   int    // HTTP status, 0 when no response
	ExitCode *int   // exec exit code (128+signal when killed by a signal)
	Location string // Location of a 3xx response
	Duration time.Duration
	Error    string
	Excerpt  string // the start of the response body or of the command's output
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

func (b *boundedBuffer) String() string {
	if b.dropped > 0 {
		return string(b.buf) + "...(truncated)"
	}
	return string(b.buf)
}
