package sqlite

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrInUse is returned by Open when another process holds the database.
var ErrInUse = errors.New("the database is in use by another hookpoint serve")

// inUseError says who holds the database; it is ErrInUse.
type inUseError struct{ path, pid string }

func (e *inUseError) Error() string {
	return fmt.Sprintf("the database %s is in use by another hookpoint serve (pid %s)", e.path, e.pid)
}

func (e *inUseError) Is(target error) bool { return target == ErrInUse }

// fileLock is an exclusive flock on PATH + ".lock", which holds the pid of its owner.
//
// flock belongs to the open file description, so a second Open in the same process
// fails as a second process does, and the kernel drops the lock when the process dies:
// a crash never leaves a stale lock behind, only a stale pid in the file. The file is
// never removed: removing it would let a process that opened the old file before the
// removal and one that creates a new file both hold "the" lock.
type fileLock struct{ f *os.File }

func lockFile(dbPath string) (*fileLock, error) {
	path := dbPath + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			b, _ := os.ReadFile(path)
			pid := strings.TrimSpace(string(b))
			if _, err := strconv.Atoi(pid); err != nil {
				pid = "unknown"
			}
			return nil, &inUseError{path: dbPath, pid: pid}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: write pid: %w", path, err)
	}
	return &fileLock{f: f}, nil
}

// release drops the lock (closing the file releases the flock).
func (l *fileLock) release() error {
	return l.f.Close()
}
