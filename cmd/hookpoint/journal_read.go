package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Reading journal files line by line with bounded memory, and following one that is being
// written (`hookpoint journal -f`).

// maxJournalLine bounds one journal line. A record is far smaller (its excerpts are
// bounded); a longer line is not a record hookpoint wrote, and is reported and skipped
// without being held in memory.
const maxJournalLine = 1 << 20

// lineSplitter cuts a stream into lines of at most max bytes. A line that grows past
// max is dropped as it comes and reported once its end is seen.
type lineSplitter struct {
	max      int
	pending  []byte // the start of the current line, at most max bytes
	skipping bool   // the current line is too long: its bytes are counted, not kept
	skipped  int64
	n        int // lines ended so far
}

// feed passes each line that ends in p to line (its number and bytes, without the line
// break; the slice is only valid during the call), and each line that was too long to
// tooLong (its number and length).
func (s *lineSplitter) feed(p []byte, line func(n int, b []byte), tooLong func(n int, size int64)) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		switch {
		case s.skipping:
			s.skipped += int64(len(chunk))
		case len(s.pending)+len(chunk) > s.max:
			s.skipping, s.skipped = true, int64(len(s.pending)+len(chunk))
			s.pending = s.pending[:0]
		default:
			s.pending = append(s.pending, chunk...)
		}
		if i < 0 {
			return
		}
		s.end(line, tooLong)
		p = p[i+1:]
	}
}

// flush ends a last line that has no line break.
func (s *lineSplitter) flush(line func(n int, b []byte), tooLong func(n int, size int64)) {
	if len(s.pending) > 0 || s.skipping {
		s.end(line, tooLong)
	}
}

// reset forgets a partial line (the file it came from was truncated).
func (s *lineSplitter) reset() {
	s.pending, s.skipping, s.skipped = s.pending[:0], false, 0
}

func (s *lineSplitter) end(line func(n int, b []byte), tooLong func(n int, size int64)) {
	s.n++
	if s.skipping {
		tooLong(s.n, s.skipped)
	} else {
		b := s.pending
		if len(b) > 0 && b[len(b)-1] == '\r' {
			b = b[:len(b)-1]
		}
		line(s.n, b)
	}
	s.reset()
}

// lineHandler receives the lines of a journal file and what went wrong reading it.
type lineHandler struct {
	line    func(file string, n int, b []byte)
	tooLong func(file string, n int, size int64)
	notice  func(file, msg string) // rotation, truncation
}

// readLines reads r to its end.
func readLines(file string, r io.Reader, h lineHandler) error {
	s := &lineSplitter{max: maxJournalLine}
	line := func(n int, b []byte) { h.line(file, n, b) }
	tooLong := func(n int, size int64) { h.tooLong(file, n, size) }
	buf := make([]byte, 64<<10)
	for {
		k, err := r.Read(buf)
		s.feed(buf[:k], line, tooLong)
		if errors.Is(err, io.EOF) {
			s.flush(line, tooLong)
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// followPoll is how often a followed file is looked at once its end is reached.
const followPoll = 250 * time.Millisecond

// followLines reads path to its end, then keeps reading what is appended until ctx is
// done. When the file at path is replaced (rotated), the rest of the old one is read and
// the new one followed from its start; when it shrinks (truncated), it is read again
// from its start. A line without its line break yet waits for the rest.
func followLines(ctx context.Context, path string, h lineHandler) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { f.Close() }()
	s := &lineSplitter{max: maxJournalLine}
	line := func(n int, b []byte) { h.line(path, n, b) }
	tooLong := func(n int, size int64) { h.tooLong(path, n, size) }
	buf := make([]byte, 64<<10)
	var offset int64
	tick := time.NewTicker(followPoll)
	defer tick.Stop()
	for {
		k, err := f.Read(buf)
		offset += int64(k)
		s.feed(buf[:k], line, tooLong)
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if k > 0 {
			continue
		}
		// At the end: has the file been replaced or cut?
		if cur, err := os.Stat(path); err == nil {
			open, oerr := f.Stat()
			switch {
			case oerr == nil && !os.SameFile(open, cur):
				s.flush(line, tooLong)
				nf, err := os.Open(path)
				if err != nil {
					break // it comes back on a later look
				}
				f.Close()
				f, offset = nf, 0
				s = &lineSplitter{max: maxJournalLine}
				h.notice(path, "the file was replaced (rotated); following the new one from its start")
				continue
			case cur.Size() < offset:
				if _, err := f.Seek(0, io.SeekStart); err != nil {
					return err
				}
				offset = 0
				s.reset()
				h.notice(path, "the file was truncated; reading it again from its start")
				continue
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// journalFileError names the file in an error of the operating system.
func journalFileError(path string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", path, pe.Err)
	}
	return fmt.Errorf("%s: %v", path, err)
}
