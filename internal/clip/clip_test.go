package clip_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hookpoint/hookpoint/internal/clip"
)

func TestString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		limit    int
		want     string
		cut      bool
	}{
		{"short", "abc", 64, "abc", false},
		{"exact", strings.Repeat("a", 64), 64, strings.Repeat("a", 64), false},
		{"ascii", strings.Repeat("a", 100), 64, strings.Repeat("a", 46) + "…[cut 54 bytes]", true},
		// é is 2 bytes: the cut moves back to the start of a character.
		{"utf8", strings.Repeat("é", 50), 65, strings.Repeat("é", 23) + "…[cut 54 bytes]", true},
	} {
		got, cut := clip.String(tc.in, tc.limit)
		if got != tc.want || cut != tc.cut {
			t.Errorf("%s: String = %q, %v; want %q, %v", tc.name, got, cut, tc.want, tc.cut)
		}
		if len(got) > tc.limit || !utf8.ValidString(got) {
			t.Errorf("%s: %d bytes (limit %d), valid UTF-8 %v", tc.name, len(got), tc.limit, utf8.ValidString(got))
		}
		if again, cut := clip.String(got, tc.limit); again != got || cut {
			t.Errorf("%s: cutting twice changed %q to %q", tc.name, got, again)
		}
	}
}

// TestHandler: every value of a log line is cut, whatever its kind or where it was
// added, and the line says so.
func TestHandler(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("v", 1<<20)
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		var h slog.Handler = slog.NewTextHandler(&buf, nil)
		if format == "json" {
			h = slog.NewJSONHandler(&buf, nil)
		}
		log := slog.New(clip.NewHandler(h, 4<<10)).With("request_id", big).WithGroup("g")
		log.Warn(big, "target", big, "error", errors.New(big), "list", []string{big}, slog.Group("in", "v", big), "n", 3)
		line := buf.String()
		if len(line) > 32<<10 {
			t.Errorf("%s: a %d-byte log line", format, len(line))
		}
		if n := strings.Count(line, "…[cut "); n != 6 {
			t.Errorf("%s: %d values say they were cut, want 6: %.300s", format, n, line)
		}
	}
}
