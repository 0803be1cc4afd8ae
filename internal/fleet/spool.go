package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hookpoint/hookpoint/internal/safefile"
)

// Entry is one spooled event: the request as it will be sent (its id, time and
// idempotency key are the original ones) and why it was kept.
type Entry struct {
	SpooledAt time.Time `json:"spooled_at"`
	Server    string    `json:"server,omitempty"` // where it was meant to go
	Reason    string    `json:"reason,omitempty"`
	Request   Request   `json:"event"`
}

// Default bounds of a spool.
const (
	DefaultMaxEvents = 10_000
	DefaultMaxBytes  = 16 << 20
)

// Spool keeps notifications that could not be sent, one JSON line each, oldest first,
// in a file of mode 0600. Every change happens under an exclusive flock of PATH.lock,
// so that hookpoint processes that run at once neither corrupt the file nor send an
// entry twice; the file is rewritten (a new file renamed over it) only to take entries
// out.
type Spool struct {
	Path      string
	MaxEvents int   // DefaultMaxEvents when 0
	MaxBytes  int64 // DefaultMaxBytes when 0
	// LockPoll is how often a held lock is tried again; 20ms when 0.
	LockPoll time.Duration
}

// ErrBusy is returned by Flush when another process holds the spool.
var ErrBusy = errors.New("the spool is in use by another hookpoint process")

// DefaultSpoolPath is where the spool is kept when --spool does not say:
// /var/lib/hookpoint/spool.jsonl for root, else $XDG_STATE_HOME/hookpoint/spool.jsonl,
// else ~/.local/state/hookpoint/spool.jsonl.
func DefaultSpoolPath(euid int, getenv func(string) string) (string, error) {
	if euid == 0 {
		return "/var/lib/hookpoint/spool.jsonl", nil
	}
	if d := getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "hookpoint", "spool.jsonl"), nil
	}
	if h := getenv("HOME"); filepath.IsAbs(h) {
		return filepath.Join(h, ".local", "state", "hookpoint", "spool.jsonl"), nil
	}
	return "", errors.New("no place for the spool: HOME and XDG_STATE_HOME are not set; give --spool FILE")
}

func (s *Spool) maxEvents() int {
	if s.MaxEvents > 0 {
		return s.MaxEvents
	}
	return DefaultMaxEvents
}

func (s *Spool) maxBytes() int64 {
	if s.MaxBytes > 0 {
		return s.MaxBytes
	}
	return DefaultMaxBytes
}

// Dropped is an entry taken out of the spool without being sent, and why.
type Dropped struct {
	Entry  Entry
	Reason string
}

// Append adds e at the end. When the spool would hold more than its bounds, the oldest
// entries are taken out to make room and returned. It waits for the lock until ctx ends.
func (s *Spool) Append(ctx context.Context, e Entry) ([]Dropped, error) {
	line, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	line = append(line, '\n')
	if int64(len(line)) > s.maxBytes() {
		return []Dropped{{Entry: e, Reason: fmt.Sprintf("the event is larger than the spool's bound of %d bytes", s.maxBytes())}}, nil
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	raw, err := s.read()
	if err != nil {
		return nil, err
	}
	if len(raw) > 0 && raw[len(raw)-1] != '\n' {
		// The end of a line whose writer died: close it, so that the new entry is a line
		// of its own (the broken one is reported when the spool is sent).
		raw = append(raw, '\n')
		line = append([]byte{'\n'}, line...)
	}
	n := bytes.Count(raw, []byte{'\n'})
	if n+1 <= s.maxEvents() && int64(len(raw)+len(line)) <= s.maxBytes() {
		return nil, s.appendLine(line)
	}
	// Over a bound: drop the oldest lines until the new one fits.
	line = bytes.TrimPrefix(line, []byte{'\n'})
	lines := splitLines(raw)
	size := int64(len(raw))
	var dropped []Dropped
	for len(lines) > 0 && (len(lines)+1 > s.maxEvents() || size+int64(len(line)) > s.maxBytes()) {
		old := lines[0]
		lines = lines[1:]
		size -= int64(len(old)) + 1
		var oe Entry
		_ = json.Unmarshal(old, &oe) // a line that cannot be read is dropped all the same
		dropped = append(dropped, Dropped{Entry: oe, Reason: fmt.Sprintf("the spool is full (%d events, %d bytes at most); the oldest is dropped", s.maxEvents(), s.maxBytes())})
	}
	var b bytes.Buffer
	for _, l := range lines {
		b.Write(l)
		b.WriteByte('\n')
	}
	b.Write(line)
	return dropped, s.replace(b.Bytes())
}

// Disposal is what Flush does with an entry once its send function has tried it.
type Disposal int

const (
	// Delivered: the server has it; it leaves the spool.
	Delivered Disposal = iota
	// Refused: the server refused it for good; it leaves the spool, reported as dropped.
	Refused
	// Keep: the server cannot take it now; it and the rest stay, and Flush ends.
	Keep
)

// FlushReport says what a Flush did.
type FlushReport struct {
	Sent    int
	Dropped []Dropped // refused by the server, or lines that could not be read
	Left    int       // entries still in the spool
}

// Flush hands the entries to send, oldest first, and takes out those it sent or
// dropped, until send says Keep or ctx ends. It holds the lock throughout, so that no
// other process sends the same entries; when another holds it, Flush waits up to wait
// and then returns ErrBusy. A missing or empty spool is a quick no-op.
func (s *Spool) Flush(ctx context.Context, wait time.Duration, send func(context.Context, *Entry) (Disposal, string)) (FlushReport, error) {
	var rep FlushReport
	if st, err := os.Stat(s.Path); err != nil || st.Size() == 0 {
		return rep, nil
	}
	lctx, cancel := context.WithTimeout(ctx, wait)
	unlock, err := s.lock(lctx)
	cancel()
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return rep, ErrBusy
		}
		return rep, err
	}
	defer unlock()
	raw, err := s.read()
	if err != nil {
		return rep, err
	}
	lines := splitLines(raw)
	done := 0 // lines handled from the front
	for _, l := range lines {
		if ctx.Err() != nil {
			break
		}
		var e Entry
		if err := json.Unmarshal(l, &e); err != nil || e.Request.ID == "" {
			rep.Dropped = append(rep.Dropped, Dropped{Entry: e, Reason: "a line of the spool could not be read (" + strconv.Quote(clipText(string(l), 80)) + ")"})
			done++
			continue
		}
		act, why := send(ctx, &e)
		if act == Keep {
			break
		}
		if act == Refused {
			rep.Dropped = append(rep.Dropped, Dropped{Entry: e, Reason: why})
		} else {
			rep.Sent++
		}
		done++
	}
	rest := lines[done:]
	rep.Left = len(rest)
	if done == 0 {
		return rep, nil
	}
	var b bytes.Buffer
	for _, l := range rest {
		b.Write(l)
		b.WriteByte('\n')
	}
	return rep, s.replace(b.Bytes())
}

// Len returns how many entries the spool holds (lines, without taking the lock).
func (s *Spool) Len() (int, error) {
	raw, err := s.read()
	if err != nil {
		return 0, err
	}
	return len(splitLines(raw)), nil
}

// ChangedWithin reports whether the spool holds entries and was written within d of
// now: another process found the server unreachable a moment ago.
func (s *Spool) ChangedWithin(now time.Time, d time.Duration) bool {
	st, err := os.Stat(s.Path)
	return err == nil && st.Size() > 0 && now.Sub(st.ModTime()) < d
}

// lock takes the exclusive flock of PATH.lock (creating the directory and the file), polling
// until ctx ends.
func (s *Spool) lock(ctx context.Context) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	f, err := safefile.OpenAppend(s.Path+".lock", 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool lock: %w", err)
	}
	poll := s.LockPoll
	if poll <= 0 {
		poll = 20 * time.Millisecond
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() {
				_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("spool lock %s.lock: %w", s.Path, err)
		}
		if err := sleep(ctx, poll); err != nil {
			f.Close()
			return nil, fmt.Errorf("spool lock %s.lock: %w", s.Path, err)
		}
	}
}

// read returns the spool's bytes; none when it does not exist.
func (s *Spool) read() ([]byte, error) {
	raw, err := safefile.ReadFile(s.Path, 2*s.maxBytes()+(8<<20))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return raw, nil
}

func (s *Spool) appendLine(line []byte) error {
	f, err := safefile.OpenAppend(s.Path, 0o600)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	_, err = f.Write(line)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// replace writes data as the whole spool: a new file beside it, synced, renamed over it.
func (s *Spool) replace(data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(s.Path), ".spool-*.tmp")
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.Path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// splitLines returns the non-empty lines of raw, without their newlines.
func splitLines(raw []byte) [][]byte {
	var out [][]byte
	for _, l := range bytes.Split(raw, []byte{'\n'}) {
		if len(bytes.TrimSpace(l)) > 0 {
			out = append(out, l)
		}
	}
	return out
}
