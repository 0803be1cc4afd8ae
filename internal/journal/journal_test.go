package journal_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/journal"
)

func sample(i int) journal.Record {
	code := 3
	return journal.Record{
		Time: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), RunID: "run_1", EventID: "evt_1",
		EventType: "backup.pre", HookID: "h" + strings.Repeat("x", i%7), DeliveryID: "msg_1",
		Action: "exec", Mode: "sync", Target: "/bin/false", Attempt: i, Outcome: "failed",
		ExitCode: &code, DurationMS: 1.5, Error: "exit status 3", Response: strings.Repeat("y", i),
	}
}

func TestWriterOneJSONLinePerRecord(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := &journal.Writer{W: &buf}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() { defer wg.Done(); w.Record(sample(i + 1)) }()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 50 {
		t.Fatalf("got %d lines, want 50", len(lines))
	}
	seen := map[int]bool{}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
		for _, k := range []string{"time", "run_id", "event_id", "event_type", "hook_id", "action", "target", "attempt", "outcome", "exit_code", "duration_ms", "error", "response"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line lacks %q: %s", k, l)
			}
		}
		seen[int(m["attempt"].(float64))] = true
	}
	if len(seen) != 50 {
		t.Errorf("records lost or duplicated: %d distinct", len(seen))
	}
}

func TestRecordOmitsEmpty(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(journal.Record{EventID: "e", EventType: "t", HookID: "h", Action: "http", Mode: "sync", Attempt: 1, Outcome: "ok", Status: 200})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m["status"] != float64(200) {
		t.Errorf("status = %v", m["status"])
	}
	for _, k := range []string{"exit_code", "error", "response", "run_id"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s present although empty: %s", k, b)
		}
	}
	// exit code 0 is a value, not an absence.
	zero := 0
	b, _ = json.Marshal(journal.Record{ExitCode: &zero})
	if !strings.Contains(string(b), `"exit_code":0`) {
		t.Errorf("exit_code 0 missing: %s", b)
	}
}

func TestFileAppendsPrivately(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	for round := range 2 {
		f, err := journal.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() { defer wg.Done(); f.Record(sample(round*100 + i)) }()
		}
		wg.Wait()
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("journal mode = %v, want 0600 (it may hold response excerpts)", st.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var r journal.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		n++
	}
	if n != 40 {
		t.Errorf("%d records after two opens, want 40 (the file is appended to)", n)
	}
}

func TestOpenFileError(t *testing.T) {
	t.Parallel()
	_, err := journal.OpenFile(filepath.Join(t.TempDir(), "missing-dir", "j.jsonl"))
	if err == nil || !strings.HasPrefix(err.Error(), "journal: ") {
		t.Errorf("OpenFile in a missing directory = %v, want a journal: error", err)
	}
}

type collect struct {
	mu   sync.Mutex
	recs []journal.Record
}

func (c *collect) Record(r journal.Record) { c.mu.Lock(); c.recs = append(c.recs, r); c.mu.Unlock() }

func TestMultiAndLogger(t *testing.T) {
	t.Parallel()
	var a, b collect
	var logBuf bytes.Buffer
	l := journal.Logger{L: slog.New(slog.NewJSONHandler(&logBuf, nil))}
	m := journal.Multi{&a, &b, l}
	ok := journal.Record{EventType: "backup.post", HookID: "ping", Outcome: "ok", Status: 204}
	m.Record(ok)
	m.Record(sample(1))
	if len(a.recs) != 2 || len(b.recs) != 2 {
		t.Fatalf("Multi delivered %d and %d records, want 2 each", len(a.recs), len(b.recs))
	}
	lines := strings.Split(strings.TrimSpace(logBuf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("logger wrote %d lines", len(lines))
	}
	var first, second map[string]any
	_ = json.Unmarshal([]byte(lines[0]), &first)
	_ = json.Unmarshal([]byte(lines[1]), &second)
	if first["level"] != "INFO" || first["status"] != float64(204) || first["hook"] != "ping" {
		t.Errorf("ok record logged as %v", first)
	}
	if second["level"] != "WARN" || second["exit_code"] != float64(3) || second["error"] != "exit status 3" || second["run_id"] != "run_1" {
		t.Errorf("failed record logged as %v", second)
	}
}
