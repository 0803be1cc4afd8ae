package config_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/hookpoint/hookpoint/internal/config"
)

// TestLoadRefusesWhatIsNotARegularFile: a config that is a FIFO (even behind a symbolic
// link) is refused at once instead of waited on, and a device is not read.
func TestLoadRefusesWhatIsNotARegularFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "hookpoint.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, msg string }{
		{fifo, "cannot read the config file: not a regular file (a FIFO)"},
		{link, "cannot read the config file: not a regular file (a FIFO)"},
		{"/dev/zero", "cannot read the config file: not a regular file (a character device)"},
		{dir, "cannot read the config file: not a regular file (a directory)"},
	} {
		_, err := config.Load(tc.path)
		checkIssues(t, err, tc.path, want{0, "", tc.msg})
	}
}
