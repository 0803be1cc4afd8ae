package deliver_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestTLSFilesAreRegularFiles: ca_file, cert_file and key_file that are FIFOs (even
// behind a symbolic link), devices or too large fail the hook with a message that says
// so, instead of hanging it or filling the memory.
func TestTLSFilesAreRegularFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.pem")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.pem")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.pem")
	if err := os.WriteFile(big, []byte(strings.Repeat("x", 1<<20+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	small := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(small, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, tls, errHas string }{
		{"ca_file fifo", `{ca_file: "` + fifo + `"}`, "tls.ca_file: " + fifo + ": not a regular file (a FIFO)"},
		{"ca_file symlink to a fifo", `{ca_file: "` + link + `"}`, "not a regular file (a FIFO)"},
		{"ca_file dev zero", `{ca_file: "/dev/zero"}`, "tls.ca_file: /dev/zero: not a regular file (a character device)"},
		{"ca_file too large", `{ca_file: "` + big + `"}`, "larger than the limit of 1048576 bytes"},
		{"cert_file fifo", `{cert_file: "` + fifo + `", key_file: "/dev/zero"}`, "tls.cert_file: " + fifo + ": not a regular file (a FIFO)"},
		{"cert_file too large", `{cert_file: "` + big + `", key_file: "/dev/zero"}`, "tls.cert_file: " + big + ": larger than the limit"},
		{"key_file fifo", `{cert_file: "` + small + `", key_file: "` + link + `"}`, "tls.key_file: " + link + ": not a regular file (a FIFO)"},
	} {
		res, _ := send(t, `  - {id: h, on: ["*"], http: {url: "https://127.0.0.1:1/", tls: `+tc.tls+`}}`)
		if res.OK() || !strings.Contains(res.Error, tc.errHas) {
			t.Errorf("%s: outcome %s error %q, want it to say %q", tc.name, res.Outcome, res.Error, tc.errHas)
		}
	}
}
