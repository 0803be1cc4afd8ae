// Package safefile reads the files that a config or a command line names (secrets,
// configs, hooks files, certificates, event data) so that no such file can hang or
// exhaust hookpoint: only regular files are read, a FIFO is never waited on, and no more
// than a stated number of bytes is read.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is wrapped by the error for a path that is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by the error for a file larger than the limit.
var ErrTooLarge = errors.New("file too large")

// Error is a file that was refused, and why. Its message names the path:
// "/etc/x: not a regular file (a FIFO)".
type Error struct {
	Path string
	Err  error // wraps ErrNotRegular or ErrTooLarge
}

func (e *Error) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

type notRegular struct{ kind string }

func (e notRegular) Error() string { return "not a regular file (" + e.kind + ")" }
func (e notRegular) Is(target error) bool {
	return target == ErrNotRegular
}

type tooLarge struct{ limit int64 }

func (e tooLarge) Error() string { return fmt.Sprintf("larger than the limit of %d bytes", e.limit) }
func (e tooLarge) Is(target error) bool {
	return target == ErrTooLarge
}

// Reason returns what is wrong with a file without its path, for messages that name the
// path already: "not a regular file (a FIFO)", or the system's reason ("no such file or
// directory").
func Reason(err error) error {
	var se *Error
	if errors.As(err, &se) {
		return se.Err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// kind names a file type for people.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeDir != 0:
		return "a directory"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "an irregular file"
}

// Open opens the regular file at path for reading. Symbolic links are followed; what
// they end at must be a regular file too. A FIFO, device, socket or directory is refused
// without waiting: the file is looked at before it is opened, opened without blocking,
// and looked at again through the open descriptor (it may have been swapped in between).
func Open(path string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		// Not even opened: opening a device can have effects of its own.
		return nil, &Error{Path: path, Err: notRegular{kind(st.Mode())}}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	st, err = f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, &Error{Path: path, Err: notRegular{kind(st.Mode())}}
	}
	return f, nil
}

// ReadFile reads the regular file at path, refusing it when it holds more than limit
// bytes. Nothing beyond limit+1 bytes is read, whatever the file's size claims.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > limit {
		return nil, &Error{Path: path, Err: tooLarge{limit}}
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &Error{Path: path, Err: tooLarge{limit}}
	}
	return b, nil
}

// OpenAppend opens path for appending, creating it with perm when it does not exist. It
// is for files that hookpoint writes (journals, logs): a regular file or a character
// device such as /dev/null or /dev/stderr. A FIFO (whose open would wait for a reader,
// and whose writes for the reader to read), directory or socket is refused.
func OpenAppend(path string, perm fs.FileMode) (*os.File, error) {
	return openWrite(path, os.O_APPEND, perm)
}

// WriteFile writes data to path as os.WriteFile does, with the same refusals as
// OpenAppend.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	f, err := openWrite(path, os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func openWrite(path string, flag int, perm fs.FileMode) (*os.File, error) {
	if st, err := os.Stat(path); err == nil && !writable(st.Mode()) {
		return nil, &Error{Path: path, Err: notRegular{kind(st.Mode())}}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|flag|syscall.O_NONBLOCK|syscall.O_NOCTTY, perm)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && !writable(st.Mode()) {
		err = &Error{Path: path, Err: notRegular{kind(st.Mode())}}
	}
	if err == nil {
		// Writes to a terminal or other device wait as usual from here on.
		err = syscall.SetNonblock(int(f.Fd()), false)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func writable(m fs.FileMode) bool {
	return m.IsRegular() || m&fs.ModeCharDevice != 0
}
