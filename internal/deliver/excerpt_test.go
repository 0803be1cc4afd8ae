package deliver

import (
	"strings"
	"testing"
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
		if got := excerpt([]byte(tt.raw), tt.more, tt.mask); got != tt.want {
			t.Errorf("%s: got %d bytes ending %q, want %d bytes ending %q", tt.name, len(got), got[max(0, len(got)-20):], len(tt.want), tt.want[max(0, len(tt.want)-20):])
		}
	}
}
