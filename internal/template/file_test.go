package template

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestFileRefusesWhatIsNotARegularFile: the file function neither waits on a FIFO (with
// no writer, or behind a symbolic link) nor reads a device, and names the limit of what
// it reads.
func TestFileRefusesWhatIsNotARegularFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := dir + "/fifo"
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := dir + "/link"
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	big := dir + "/big"
	writeFile(t, big, strings.Repeat("x", MaxSecretFile+1))
	for _, tc := range []struct{ path, want string }{
		{fifo, "not a regular file (a FIFO)"},
		{link, "not a regular file (a FIFO)"},
		{"/dev/zero", "not a regular file (a character device)"},
		{big, "larger than the limit of " + strconv.Itoa(MaxSecretFile) + " bytes"},
	} {
		out, err := NewScope(nil).Render(MustParse("a", `{{file "`+tc.path+`"}}`, Text))
		if err == nil {
			t.Errorf("file %s: Render = %q, want an error", tc.path, out)
			continue
		}
		if want := `file "` + tc.path + `": ` + tc.want; !strings.Contains(err.Error(), want) {
			t.Errorf("file %s: error %q, want it to say %q", tc.path, err, want)
		}
	}
}
