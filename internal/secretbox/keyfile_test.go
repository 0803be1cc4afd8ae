package secretbox

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/hookpoint/hookpoint/internal/safefile"
)

func TestLoadOrCreateKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secret.key")
	b1, created, err := LoadOrCreateKey(path)
	if err != nil || !created {
		t.Fatalf("first start: created %v, %v", created, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode() != 0o600 {
		t.Fatalf("key file mode %v (%v), want -rw-------", st.Mode(), err)
	}
	text, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(text), keyPrefix) || !strings.HasSuffix(string(text), "\n") {
		t.Fatalf("key file %q", text)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(strings.TrimPrefix(string(text), keyPrefix)))
	if err != nil || len(key) != KeySize {
		t.Fatalf("key %d bytes, %v", len(key), err)
	}
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".hookpoint-key-*"))
	if len(matches) != 0 {
		t.Errorf("temporary files left: %v", matches)
	}

	b2, created, err := LoadOrCreateKey(path)
	if err != nil || created {
		t.Fatalf("second start: created %v, %v", created, err)
	}
	sealed := b1.Seal([]byte("s3cret"), ad)
	if pt, err := b2.Open(sealed, ad); err != nil || string(pt) != "s3cret" {
		t.Fatalf("a value sealed before a restart: %q, %v", pt, err)
	}
	if b1.KeyID() != b2.KeyID() {
		t.Fatalf("key id %s, then %s", b1.KeyID(), b2.KeyID())
	}
	if after, _ := os.ReadFile(path); string(after) != string(text) {
		t.Fatal("the key file changed on the second start")
	}
}

// TestCreateKeyConcurrently: two servers starting at once share one key; neither reads a
// key file that is still being written.
func TestCreateKeyConcurrently(t *testing.T) {
	t.Parallel()
	for range 20 {
		path := filepath.Join(t.TempDir(), "secret.key")
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			ids     = map[string]bool{}
			creates int
		)
		for range 4 {
			wg.Go(func() {
				b, created, err := LoadOrCreateKey(path)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
				ids[b.KeyID()] = true
				if created {
					creates++
				}
			})
		}
		wg.Wait()
		if creates != 1 || len(ids) != 1 {
			t.Fatalf("%d creations, %d distinct keys; want 1 and 1", creates, len(ids))
		}
	}
}

func writeKeyFile(t *testing.T, text string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret.key")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func validKeyText() string {
	return keyPrefix + base64.StdEncoding.EncodeToString(make([]byte, KeySize)) + "\n"
}

func TestKeyFileMode(t *testing.T) {
	t.Parallel()
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o666, 0o700 | 0o070, 0o610} {
		path := writeKeyFile(t, validKeyText(), mode)
		_, _, err := LoadOrCreateKey(path)
		var me *ModeError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Errorf("mode %04o: %v, want a refusal saying chmod 600", mode, err)
		}
	}
	path := writeKeyFile(t, validKeyText(), 0o644)
	_, _, err := LoadOrCreateKey(path)
	want := "secret key file " + path + " has mode 0644: group or others can read it, and it must be readable by its owner only; fix it with: chmod 600 " + path
	if err == nil || err.Error() != want {
		t.Errorf("message\n got %v\nwant %s", err, want)
	}
	for _, mode := range []os.FileMode{0o600, 0o400} {
		if _, _, err := LoadOrCreateKey(writeKeyFile(t, validKeyText(), mode)); err != nil {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
}

func TestKeyFileNotRegular(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	toZero := filepath.Join(dir, "zero")
	if err := os.Symlink("/dev/zero", toZero); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "dir")
	os.Mkdir(sub, 0o700)
	dangling := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(dir, "nowhere"), dangling)
	for _, path := range []string{fifo, toZero, sub} {
		_, created, err := LoadOrCreateKey(path)
		if !errors.Is(err, safefile.ErrNotRegular) || created || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want a refusal naming it", path, err)
		}
	}
	// A symbolic link that leads nowhere is not followed to create a key elsewhere.
	if _, _, err := LoadOrCreateKey(dangling); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dangling link: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); err == nil {
		t.Error("a key file was created through a dangling symbolic link")
	}
}

func TestKeyFileContent(t *testing.T) {
	t.Parallel()
	tests := []struct{ text, want string }{
		{"", "empty; if no secret was ever stored with it, delete it and a new key is generated"},
		{"  \n", "empty; if no secret was ever stored with it, delete it and a new key is generated"},
		{"c2VjcmV0\n", "not a hookpoint secret key (it should start with hookpoint-secretbox-v1:)"},
		{"hookpoint-secretbox-v2:AAAA\n", "written by a newer hookpoint (its key format is not hookpoint-secretbox-v1)"},
		{keyPrefix + "not base64!\n", "the key is not valid base64"},
		{keyPrefix + base64.StdEncoding.EncodeToString(make([]byte, 16)), "the key is 16 bytes, not 32"},
		{validKeyText() + validKeyText(), "holds more than one line; this version reads one key"},
		{strings.Repeat("x", maxKeyFile+1), "larger than 4096 bytes, not a hookpoint key file"},
	}
	for _, tt := range tests {
		path := writeKeyFile(t, tt.text, 0o600)
		_, _, err := LoadOrCreateKey(path)
		if err == nil || err.Error() != "secret key file "+path+": "+tt.want {
			t.Errorf("%.40q: %v, want %q", tt.text, err, tt.want)
		}
	}
	// Leading and trailing white space (an editor's newline) is fine.
	if _, _, err := LoadOrCreateKey(writeKeyFile(t, "\n"+strings.TrimSpace(validKeyText())+"\r\n", 0o600)); err != nil {
		t.Error(err)
	}
}

func TestKeyFileDirectoryMissing(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "missing", "secret.key")
	if _, _, err := LoadOrCreateKey(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("%v, want an error naming %s", err, path)
	}
}
