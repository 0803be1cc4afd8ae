package secretbox

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hookpoint/hookpoint/internal/safefile"
)

// keyPrefix starts a key file: the version says how to read what follows, so that the
// format (one key now; several, for rotation, later) can change.
const keyPrefix = "hookpoint-secretbox-v1:"

// maxKeyFile bounds what is read of a key file; a v1 file is 68 bytes.
const maxKeyFile = 4 << 10

// LoadOrCreateKey returns a Box for the key in the file at path, creating the file with
// a new random key (mode 0600) when there is none; created says which happened. A key
// file that group or others may read is refused, as is anything but a regular file.
func LoadOrCreateKey(path string) (b *Box, created bool, err error) {
	b, err = create(path)
	if err == nil {
		return b, true, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, false, err
	}
	b, err = load(path)
	return b, false, err
}

// create writes a new key to path, unless path exists (the error then wraps
// fs.ErrExist). The key is written and synced in a temporary file that is then linked
// to path: link(2), like O_EXCL, never replaces a file, and another process starting at
// the same moment either wins or finds a complete key file, never an empty one. Where
// hard links are not supported, path is created with O_EXCL and written in place.
func create(path string) (*Box, error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fs.ErrExist
	}
	key := make([]byte, KeySize)
	rand.Read(key)
	b, err := New(key)
	if err != nil {
		return nil, err
	}
	text := []byte(keyPrefix + base64.StdEncoding.EncodeToString(key) + "\n")

	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".hookpoint-key-*")
	if err != nil {
		if _, serr := os.Lstat(path); serr == nil {
			return nil, fs.ErrExist
		}
		return nil, fmt.Errorf("creating secret key file %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := writeKey(tmp, text); err != nil {
		return nil, fmt.Errorf("writing secret key file %s: %w", path, err)
	}
	switch err := os.Link(tmpName, path); {
	case err == nil:
	case errors.Is(err, fs.ErrExist):
		return nil, err
	default:
		// No hard links here (some network and FUSE file systems).
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			if errors.Is(err, fs.ErrExist) {
				return nil, err
			}
			return nil, fmt.Errorf("creating secret key file %s: %w", path, err)
		}
		if err := writeKey(f, text); err != nil {
			os.Remove(path)
			return nil, fmt.Errorf("writing secret key file %s: %w", path, err)
		}
	}
	syncDir(dir)
	return b, nil
}

// writeKey sets f's mode to exactly 0600 (whatever the umask), writes text, syncs and
// closes f.
func writeKey(f *os.File, text []byte) error {
	err := f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(text)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a new directory entry durable: without the key, the secrets sealed with
// it are lost. Best effort: some file systems cannot sync a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// load reads the key file at path. The mode is checked on the descriptor the key is then
// read from, so it is the mode of the bytes used.
func load(path string) (*Box, error) {
	f, err := safefile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, safefile.Reason(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, &ModeError{Path: path, Mode: perm}
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	if len(raw) > maxKeyFile {
		return nil, fmt.Errorf("secret key file %s: larger than %d bytes, not a hookpoint key file", path, maxKeyFile)
	}
	key, err := parseKey(raw)
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return New(key)
}

// ModeError is a key file that group or others may read.
type ModeError struct {
	Path string
	Mode fs.FileMode
}

func (e *ModeError) Error() string {
	return fmt.Sprintf("secret key file %s has mode %04o: group or others can read it, and it must be readable by its owner only; fix it with: chmod 600 %s",
		e.Path, uint32(e.Mode), e.Path)
}

// parseKey reads a key file's text. Its errors never quote the file.
func parseKey(raw []byte) ([]byte, error) {
	text := string(bytes.TrimSpace(raw))
	switch {
	case text == "":
		return nil, errors.New("empty; if no secret was ever stored with it, delete it and a new key is generated")
	case strings.ContainsAny(text, "\r\n"):
		return nil, errors.New("holds more than one line; this version reads one key")
	case !strings.HasPrefix(text, keyPrefix):
		if strings.HasPrefix(text, "hookpoint-secretbox-v") {
			return nil, errors.New("written by a newer hookpoint (its key format is not " + strings.TrimSuffix(keyPrefix, ":") + ")")
		}
		return nil, errors.New("not a hookpoint secret key (it should start with " + keyPrefix + ")")
	}
	key, err := base64.StdEncoding.Strict().DecodeString(text[len(keyPrefix):])
	if err != nil {
		return nil, errors.New("the key is not valid base64")
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("the key is %d bytes, not %d", len(key), KeySize)
	}
	return key, nil
}
