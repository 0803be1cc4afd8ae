package fleet_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/fleet"
)

func entry(id string) fleet.Entry {
	return fleet.Entry{SpooledAt: time.Now().UTC(), Server: "http://x", Request: fleet.Request{Type: "backup.end", ID: id, IdempotencyKey: id, Time: time.Now().UTC(), Data: map[string]any{"n": id}}}
}

func newSpool(t *testing.T) *fleet.Spool {
	t.Helper()
	return &fleet.Spool{Path: filepath.Join(t.TempDir(), "state", "spool.jsonl")}
}

func appendAll(t *testing.T, s *fleet.Spool, ids ...string) []fleet.Dropped {
	t.Helper()
	var dropped []fleet.Dropped
	for _, id := range ids {
		d, err := s.Append(context.Background(), entry(id))
		if err != nil {
			t.Fatal(err)
		}
		dropped = append(dropped, d...)
	}
	return dropped
}

// flushAll sends everything, recording the ids in order.
func flushAll(t *testing.T, s *fleet.Spool) ([]string, fleet.FlushReport) {
	t.Helper()
	var ids []string
	rep, err := s.Flush(context.Background(), time.Minute, func(_ context.Context, e *fleet.Entry) (fleet.Disposal, string) {
		ids = append(ids, e.Request.ID)
		return fleet.Delivered, ""
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids, rep
}

func TestSpoolAppendAndFlushOldestFirst(t *testing.T) {
	t.Parallel()
	s := newSpool(t)
	if ids, rep := flushAll(t, s); len(ids) != 0 || rep.Left != 0 {
		t.Fatalf("an empty spool sent %q", ids)
	}
	appendAll(t, s, "evt_1", "evt_2", "evt_3")
	for _, p := range []string{s.Path, s.Path + ".lock"} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", p, err, st.Mode().Perm())
		}
	}
	ids, rep := flushAll(t, s)
	if !slices.Equal(ids, []string{"evt_1", "evt_2", "evt_3"}) || rep.Sent != 3 || rep.Left != 0 {
		t.Fatalf("sent %q (%+v), want the three oldest first", ids, rep)
	}
	if st, err := os.Stat(s.Path); err != nil || st.Mode().Perm() != 0o600 || st.Size() != 0 {
		t.Errorf("after sending: %v, %v", st, err)
	}
	if ids, _ := flushAll(t, s); len(ids) != 0 {
		t.Errorf("sent again: %q", ids)
	}
}

// A spool over its bounds drops its oldest entries, and says which.
func TestSpoolBounds(t *testing.T) {
	t.Parallel()
	s := newSpool(t)
	s.MaxEvents = 3
	dropped := appendAll(t, s, "evt_1", "evt_2", "evt_3", "evt_4", "evt_5")
	var ids []string
	for _, d := range dropped {
		ids = append(ids, d.Entry.Request.ID)
		if !strings.Contains(d.Reason, "the spool is full") {
			t.Errorf("reason %q", d.Reason)
		}
	}
	if !slices.Equal(ids, []string{"evt_1", "evt_2"}) {
		t.Errorf("dropped %q, want the two oldest", ids)
	}
	if sent, _ := flushAll(t, s); !slices.Equal(sent, []string{"evt_3", "evt_4", "evt_5"}) {
		t.Errorf("kept %q", sent)
	}

	line := func() int64 {
		b, _ := os.ReadFile(s.Path)
		return int64(len(b))
	}
	s = newSpool(t)
	appendAll(t, s, "evt_a")
	s.MaxBytes = 2*line() + 10 // room for two entries
	dropped = appendAll(t, s, "evt_b", "evt_c")
	if len(dropped) != 1 || dropped[0].Entry.Request.ID != "evt_a" {
		t.Errorf("by bytes: dropped %+v, want evt_a", dropped)
	}
	if n, _ := s.Len(); n != 2 {
		t.Errorf("%d entries left, want 2", n)
	}
}

// Keep stops the flush: the entry and those after it stay for the next one; refused
// entries and lines that cannot be read leave the spool, reported.
func TestSpoolFlushKeepsAndDrops(t *testing.T) {
	t.Parallel()
	s := newSpool(t)
	appendAll(t, s, "evt_1", "evt_2")
	f, err := os.OpenFile(s.Path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(`{"event": {"type": "cut off by a cra` + "\n")
	f.Close()
	appendAll(t, s, "evt_3", "evt_4")

	var tried []string
	rep, err := s.Flush(context.Background(), time.Minute, func(_ context.Context, e *fleet.Entry) (fleet.Disposal, string) {
		tried = append(tried, e.Request.ID)
		switch e.Request.ID {
		case "evt_2":
			return fleet.Refused, "400 invalid"
		case "evt_4":
			return fleet.Keep, ""
		}
		return fleet.Delivered, ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tried, []string{"evt_1", "evt_2", "evt_3", "evt_4"}) || rep.Sent != 2 || rep.Left != 1 || len(rep.Dropped) != 2 {
		t.Fatalf("tried %q, report %+v", tried, rep)
	}
	if rep.Dropped[0].Reason != "400 invalid" || !strings.Contains(rep.Dropped[1].Reason, "could not be read") {
		t.Errorf("dropped %+v", rep.Dropped)
	}
	if ids, _ := flushAll(t, s); !slices.Equal(ids, []string{"evt_4"}) {
		t.Errorf("next flush sent %q, want evt_4", ids)
	}
}

// A writer that died in the middle of a line leaves no mark on the entries after it.
func TestSpoolAfterAPartialLine(t *testing.T) {
	t.Parallel()
	s := newSpool(t)
	appendAll(t, s, "evt_1")
	f, _ := os.OpenFile(s.Path, os.O_APPEND|os.O_WRONLY, 0)
	_, _ = f.WriteString(`{"spooled_at":"2026-`)
	f.Close()
	appendAll(t, s, "evt_2")
	ids, rep := flushAll(t, s)
	if !slices.Equal(ids, []string{"evt_1", "evt_2"}) || len(rep.Dropped) != 1 {
		t.Errorf("sent %q, report %+v; want both entries and the broken line dropped", ids, rep)
	}
}

// Writers and senders at once, each with its own descriptor as separate processes
// have: no entry is lost, none is sent twice, the file stays whole.
func TestSpoolConcurrent(t *testing.T) {
	t.Parallel()
	path := newSpool(t).Path
	const writers, each = 6, 20
	var (
		mu   sync.Mutex
		sent = map[string]int{}
		wg   sync.WaitGroup
	)
	errs := make(chan error, 64)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &fleet.Spool{Path: path, LockPoll: time.Millisecond}
			for i := 0; i < each; i++ {
				if _, err := s.Append(context.Background(), entry(fmt.Sprintf("evt_%d_%d", w, i))); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	flush := func() {
		s := &fleet.Spool{Path: path, LockPoll: time.Millisecond}
		_, err := s.Flush(context.Background(), time.Minute, func(_ context.Context, e *fleet.Entry) (fleet.Disposal, string) {
			mu.Lock()
			sent[e.Request.ID]++
			mu.Unlock()
			return fleet.Delivered, ""
		})
		if err != nil {
			errs <- err
		}
	}
	for f := 0; f < 4; f++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				flush()
			}
		}()
	}
	wg.Wait()
	flush() // what the writers added after the last concurrent flush
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(sent) != writers*each {
		t.Errorf("%d entries sent, want %d", len(sent), writers*each)
	}
	for id, n := range sent {
		if n != 1 {
			t.Errorf("%s sent %d times", id, n)
		}
	}
}

func TestDefaultSpoolPath(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		euid int
		env  map[string]string
		want string
	}{
		{0, map[string]string{"HOME": "/root"}, "/var/lib/hookpoint/spool.jsonl"},
		{1000, map[string]string{"HOME": "/home/a", "XDG_STATE_HOME": "/home/a/st"}, "/home/a/st/hookpoint/spool.jsonl"},
		{1000, map[string]string{"HOME": "/home/a", "XDG_STATE_HOME": "relative"}, "/home/a/.local/state/hookpoint/spool.jsonl"},
		{1000, map[string]string{}, ""},
	} {
		got, err := fleet.DefaultSpoolPath(tc.euid, env(tc.env))
		if got != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("euid %d, %v: %q, %v; want %q", tc.euid, tc.env, got, err, tc.want)
		}
	}
}
