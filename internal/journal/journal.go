// Package journal records every hook execution as one JSON line: what ran, for which
// event, where it went (secrets masked) and how it ended.
package journal

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/hookpoint/hookpoint/internal/clip"
	"github.com/hookpoint/hookpoint/internal/safefile"
)

// Record is one hook execution (one attempt).
type Record struct {
	Time       time.Time `json:"time"`
	RunID      string    `json:"run_id,omitempty"`
	EventID    string    `json:"event_id"`
	EventType  string    `json:"event_type"`
	HookID     string    `json:"hook_id"`
	DeliveryID string    `json:"delivery_id,omitempty"`
	Action     string    `json:"action"`
	Mode       string    `json:"mode"`
	Target     string    `json:"target,omitempty"`
	Attempt    int       `json:"attempt"`
	Outcome    string    `json:"outcome"`
	Status     int       `json:"status,omitempty"`
	ExitCode   *int      `json:"exit_code,omitempty"`
	DurationMS float64   `json:"duration_ms"`
	Error      string    `json:"error,omitempty"`
	Response   string    `json:"response,omitempty"`
	// Truncated names the fields (by their JSON names) that were cut to their bound;
	// each cut value ends with "…[cut N bytes]".
	Truncated []string `json:"truncated,omitempty"`
}

// Bounds of the fields of a record that carry values, in bytes, marker included.
const (
	MaxID       = 256
	MaxTarget   = 2 << 10
	MaxError    = 4 << 10
	MaxResponse = 4<<10 + 64 // an excerpt (4 KiB, already cut with its own marker) fits
)

// Bound cuts every field that can carry a value to its bound and names the cut ones in
// Truncated. The values are cut as they are, so secrets must be masked before: no part
// of a masked secret is left to cut. Recorders call it; it changes nothing the second
// time.
func (r *Record) Bound() {
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{
		{"run_id", &r.RunID, MaxID}, {"event_id", &r.EventID, MaxID}, {"event_type", &r.EventType, MaxID},
		{"hook_id", &r.HookID, MaxID}, {"delivery_id", &r.DeliveryID, MaxID},
		{"target", &r.Target, MaxTarget}, {"error", &r.Error, MaxError}, {"response", &r.Response, MaxResponse},
	} {
		if s, cut := clip.String(*f.v, f.max); cut {
			*f.v = s
			if !slices.Contains(r.Truncated, f.name) {
				r.Truncated = append(r.Truncated, f.name)
			}
		}
	}
}

// Recorder receives journal records. Implementations must be safe for concurrent use.
type Recorder interface {
	Record(Record)
}

// File appends records to a file, one JSON line each.
type File struct {
	mu  sync.Mutex
	f   *os.File
	err error
}

// OpenFile opens (creating it with mode 0600 if needed) a journal file for appending:
// a regular file, or a character device such as /dev/null. A FIFO is refused, not
// waited on.
func OpenFile(path string) (*File, error) {
	f, err := safefile.OpenAppend(path, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return &File{f: f}, nil
}

// Record writes r as one line, with a single write so that concurrent writers on the
// same file do not interleave.
func (j *File) Record(r Record) {
	b := append(r.AppendJSON(make([]byte, 0, 512)), '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.f.Write(b); err != nil && j.err == nil {
		j.err = err
	}
}

// Close closes the file and returns the first write error, if any.
func (j *File) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	cerr := j.f.Close()
	if j.err != nil {
		return fmt.Errorf("journal: %w", j.err)
	}
	return cerr
}

// Writer writes records as JSON lines to any writer.
type Writer struct {
	mu sync.Mutex
	W  io.Writer
}

// Record writes r as one line.
func (w *Writer) Record(r Record) {
	b := append(r.AppendJSON(make([]byte, 0, 512)), '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	_, _ = w.W.Write(b)
}

// Logger logs records through slog, at Info when they succeeded and Warn otherwise.
type Logger struct {
	L *slog.Logger
}

// Record logs r, bounded.
func (l Logger) Record(r Record) {
	r.Bound()
	level := slog.LevelInfo
	if r.Outcome != "ok" && r.Outcome != "skipped" {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("event", r.EventType), slog.String("hook", r.HookID), slog.String("action", r.Action),
		slog.String("mode", r.Mode), slog.String("target", r.Target), slog.Int("attempt", r.Attempt),
		slog.String("outcome", r.Outcome), slog.Float64("duration_ms", r.DurationMS),
	}
	if r.RunID != "" {
		attrs = append(attrs, slog.String("run_id", r.RunID))
	}
	if r.Status != 0 {
		attrs = append(attrs, slog.Int("status", r.Status))
	}
	if r.ExitCode != nil {
		attrs = append(attrs, slog.Int("exit_code", *r.ExitCode))
	}
	if r.Error != "" {
		attrs = append(attrs, slog.String("error", r.Error))
	}
	if len(r.Truncated) > 0 {
		attrs = append(attrs, slog.Any("truncated", r.Truncated))
	}
	l.L.LogAttrs(context.Background(), level, "hook", attrs...)
}

// Multi sends each record to every recorder.
type Multi []Recorder

// Record passes r on.
func (m Multi) Record(r Record) {
	for _, x := range m {
		x.Record(r)
	}
}
