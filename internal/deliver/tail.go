package deliver

import (
	"strings"
	"sync"
)

// Bounds of the stderr tail kept with an exec result: what a person is shown of a
// failing command next to its exit status.
const (
	MaxTail      = 1 << 10
	MaxTailLines = 10
)

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu      sync.Mutex
	buf     []byte
	max     int
	dropped bool
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	if len(p) >= b.max {
		b.dropped = b.dropped || len(b.buf) > 0 || len(p) > b.max
		b.buf = append(b.buf[:0], p[len(p)-b.max:]...)
		return n, nil
	}
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		// Shift rather than grow: the buffer never holds more than max bytes.
		copy(b.buf, b.buf[over:])
		b.buf = b.buf[:b.max]
		b.dropped = true
	}
	return n, nil
}

// tail returns the masked, bounded end of what was written.
func (b *tailBuffer) tail(mask func(string) string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return tail(b.buf, b.dropped, mask)
}

// tail masks the kept end of an output and bounds it to its last MaxTailLines lines and
// MaxTail bytes; a tail that was cut starts with "...". cut says whether raw is only the
// end of something longer: then mask is applied before the first maskSlack bytes are
// dropped, since they may hold the end of a secret that mask could not recognise.
func tail(raw []byte, cut bool, mask func(string) string) string {
	s := string(raw)
	if mask != nil {
		s = mask(s)
		if cut {
			s = s[min(len(s), maskSlack):]
		}
	}
	s = strings.TrimRight(s, "\r\n")
	if len(s) > MaxTail {
		s, cut = s[len(s)-MaxTail:], true
	}
	if n := strings.Count(s, "\n"); n >= MaxTailLines {
		i := len(s)
		for range MaxTailLines {
			i = strings.LastIndexByte(s[:i], '\n')
		}
		s, cut = s[i+1:], true
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if cut && s != "" {
		s = "..." + s
	}
	return s
}
