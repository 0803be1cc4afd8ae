package deliver

import (
	"strings"
	"testing"
	"time"
)

func TestExcerpt(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-value"
	mask := func(s string) string { return strings.ReplaceAll(s, secret, "****") }
	pad := func(n int) string { return strings.Repeat(".", n) }
	tests := []struct {
		name string
		raw  string
		more bool
		mask func(string) string
		want string
	}{
		{"short", "hello", false, nil, "hello"},
		{"short masked", "a " + secret + " b", false, mask, "a **** b"},
		{"exactly the limit", pad(MaxExcerpt), false, nil, pad(MaxExcerpt)},
		{"over the limit", pad(MaxExcerpt + 1), false, nil, pad(MaxExcerpt) + "...(truncated)"},
		{"more without secrets", pad(10), true, nil, pad(10) + "...(truncated)"},
		// A secret across the limit is masked whole before the cut.
		{"secret across the limit", pad(MaxExcerpt-3) + secret + pad(10), false, mask, pad(MaxExcerpt-3) + "***...(truncated)"},
		// The capture ends inside a secret: the end of the capture is dropped.
		{"capture ends in a secret", pad(MaxExcerpt+maskSlack-5) + secret[:5], true, mask, pad(MaxExcerpt) + "...(truncated)"},
		{"short capture cut in a secret", "abc " + secret[:6], true, mask, "...(truncated)"},
	}
	for _, tt := range tests {
		got, cut := excerpt([]byte(tt.raw), tt.more, tt.mask)
		if cut != strings.HasSuffix(tt.want, "...(truncated)") {
			t.Errorf("%s: cut %v", tt.name, cut)
		}
		if got != tt.want {
			t.Errorf("%s: got %d bytes ending %q, want %d bytes ending %q", tt.name, len(got), got[max(0, len(got)-20):], len(tt.want), tt.want[max(0, len(tt.want)-20):])
		}
	}
}

// Retry-After is capped, however large or far away the receiver asks for.
func TestRetryAfterCapped(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"120": 2 * time.Minute, "0": 0, "-5": 0, "junk": 0, "": 0,
		"99999999999999999":             maxRetryAfter,
		"Fri, 01 Jan 2027 00:00:00 GMT": maxRetryAfter,
		"Thu, 01 Jan 2026 00:00:30 GMT": 30 * time.Second,
	} {
		if got := retryAfter(in, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}
