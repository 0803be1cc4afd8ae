package deliver

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/render"
)

func TestTail(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-value"
	mask := func(s string) string { return strings.ReplaceAll(s, secret, "****") }
	var lines []string
	for i := 1; i <= 30; i++ {
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	tests := []struct {
		name string
		raw  string
		cut  bool
		mask func(string) string
		want string
	}{
		{"empty", "", false, nil, ""},
		{"one line", "gate says no\n", false, nil, "gate says no"},
		{"masked", "token " + secret + "\n", false, mask, "token ****"},
		{"last ten lines", strings.Join(lines, "\n") + "\n", false, nil, "..." + strings.Join(lines[20:], "\n")},
		{"ten lines exactly", strings.Join(lines[:10], "\n"), false, nil, strings.Join(lines[:10], "\n")},
		{"long line", strings.Repeat("x", 5000) + " END", false, nil, "..." + strings.Repeat("x", MaxTail-4) + " END"},
		// The kept window starts inside a secret: that start is dropped with the slack.
		{"window starts in a secret", secret[4:] + strings.Repeat(".", maskSlack+MaxTail) + "end", true, mask, "..." + strings.Repeat(".", MaxTail-3) + "end"},
		{"short window cut in a secret", secret[4:] + " end", true, mask, ""},
		{"invalid UTF-8 at the cut", "\xa9" + strings.Repeat("y", MaxTail-1), false, nil, "\uFFFD" + strings.Repeat("y", MaxTail-1)},
	}
	for _, tt := range tests {
		if got := tail([]byte(tt.raw), tt.cut, tt.mask); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	t.Parallel()
	b := &tailBuffer{max: 8}
	for _, s := range []string{"abc", "defgh", "ij", strings.Repeat("k", 3)} {
		_, _ = b.Write([]byte(s))
	}
	if string(b.buf) != "fghijkkk" || !b.dropped {
		t.Errorf("buffer %q dropped %v, want the last 8 bytes and dropped", b.buf, b.dropped)
	}
	_, _ = b.Write([]byte(strings.Repeat("z", 20)))
	if string(b.buf) != "zzzzzzzz" || cap(b.buf) > 64 {
		t.Errorf("buffer %q (cap %d) after a long write", b.buf, cap(b.buf))
	}
	small := &tailBuffer{max: 8}
	_, _ = small.Write([]byte("12345678"))
	if small.dropped {
		t.Error("a write of exactly max bytes into an empty buffer dropped nothing")
	}
}

// A command that asks for it gets the end of its stderr apart, masked; one that does not
// (the receiver's) keeps stdout and stderr in one pipe.
func TestRunKeepsStderrTail(t *testing.T) {
	t.Parallel()
	mask := func(s string) string { return strings.ReplaceAll(s, "hunter2", "****") }
	c := &render.Command{
		Argv:    []string{"/bin/sh", "-c", "echo progress; echo 'password hunter2 refused' >&2; exit 4"},
		Env:     []string{"PATH=/usr/bin:/bin"},
		Timeout: time.Minute, Mask: mask, StderrTail: true,
	}
	res := Run(context.Background(), c)
	if res.Stderr != "password **** refused" || res.Outcome != Failed {
		t.Errorf("stderr tail %q outcome %s, want the masked stderr of a failed command", res.Stderr, res.Outcome)
	}
	if !strings.Contains(res.Excerpt, "progress") || !strings.Contains(res.Excerpt, "password **** refused") {
		t.Errorf("excerpt %q, want stdout and stderr", res.Excerpt)
	}
	c.StderrTail = false
	if res := Run(context.Background(), c); res.Stderr != "" {
		t.Errorf("stderr tail %q without StderrTail", res.Stderr)
	}
}
