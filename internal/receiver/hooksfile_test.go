package receiver

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLoadFileRefusesWhatIsNotARegularFile: a hooks file that is a FIFO (even behind a
// symbolic link) or a device is refused at once, not waited on or read without end.
func TestLoadFileRefusesWhatIsNotARegularFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "hooks.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	big := writeHooks(t, dir, "big.yaml", "- id: a\n#"+strings.Repeat("x", maxHooksFile))
	for _, tc := range []struct{ path, want string }{
		{fifo, "hooks file: " + fifo + ": not a regular file (a FIFO)"},
		{link, "hooks file: " + link + ": not a regular file (a FIFO)"},
		{"/dev/zero", "hooks file: /dev/zero: not a regular file (a character device)"},
		{big, "hooks file: " + big + ": larger than the limit of 8388608 bytes"},
	} {
		for _, tmpl := range []bool{false, true} {
			hooks, _, err := LoadFile(tc.path, LoadOptions{Template: tmpl})
			if err == nil || err.Error() != tc.want {
				t.Errorf("LoadFile(%s, template %v) = %d hooks, %v; want %q", tc.path, tmpl, len(hooks), err, tc.want)
			}
		}
	}
}
