package safefile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hookpoint/hookpoint/internal/safefile"
)

// fifo makes a FIFO that nobody writes to (or reads from): opening it the usual way
// would wait forever.
func fifo(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadFileRefusesWhatIsNotARegularFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	link := filepath.Join(dir, "link")
	if err := os.Symlink(fifo(t), link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{"fifo", fifo(t), "not a regular file (a FIFO)"},
		{"symlink to a fifo", link, "not a regular file (a FIFO)"},
		{"dev zero", "/dev/zero", "not a regular file (a character device)"},
		{"directory", dir, "not a regular file (a directory)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := safefile.ReadFile(tc.path, 1<<10)
			if err == nil || !errors.Is(err, safefile.ErrNotRegular) {
				t.Fatalf("ReadFile(%s) = %v, want a not-regular error", tc.path, err)
			}
			if want := tc.path + ": " + tc.want; err.Error() != want {
				t.Errorf("message %q, want %q", err, want)
			}
		})
	}
}

func TestReadFileBounds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, []byte(strings.Repeat("x", 1025)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := safefile.ReadFile(big, 1024)
	if !errors.Is(err, safefile.ErrTooLarge) || err.Error() != big+": larger than the limit of 1024 bytes" {
		t.Fatalf("ReadFile over the limit: %v", err)
	}
	if b, err := safefile.ReadFile(big, 1025); err != nil || len(b) != 1025 {
		t.Fatalf("ReadFile at the limit: %d bytes, %v", len(b), err)
	}
	if got := safefile.Reason(err).Error(); got != "larger than the limit of 1024 bytes" {
		t.Errorf("Reason = %q", got)
	}
	_, err = safefile.ReadFile(filepath.Join(dir, "none"), 10)
	if !errors.Is(err, os.ErrNotExist) || safefile.Reason(err).Error() != "no such file or directory" {
		t.Fatalf("missing file: %v", err)
	}
}

func TestOpenAppend(t *testing.T) {
	t.Parallel()
	_, err := safefile.OpenAppend(fifo(t), 0o600)
	if !errors.Is(err, safefile.ErrNotRegular) || !strings.HasSuffix(err.Error(), ": not a regular file (a FIFO)") {
		t.Fatalf("OpenAppend(fifo) = %v", err)
	}
	for _, p := range []string{"/dev/null", filepath.Join(t.TempDir(), "journal")} {
		f, err := safefile.OpenAppend(p, 0o600)
		if err != nil {
			t.Fatalf("OpenAppend(%s): %v", p, err)
		}
		if _, err := f.WriteString("x\n"); err != nil {
			t.Errorf("write %s: %v", p, err)
		}
		f.Close()
	}
}

func TestWriteFile(t *testing.T) {
	t.Parallel()
	if err := safefile.WriteFile(fifo(t), []byte("1\n"), 0o644); !errors.Is(err, safefile.ErrNotRegular) {
		t.Fatalf("WriteFile(fifo) = %v", err)
	}
	p := filepath.Join(t.TempDir(), "pid")
	for _, s := range []string{"12345\n", "6\n"} {
		if err := safefile.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != s {
			t.Errorf("file holds %q, want %q", b, s)
		}
	}
}
