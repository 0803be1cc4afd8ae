package journal

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// hugeRecord has 1 MiB values in every field that carries one; the target's is
// multi-byte, so that a cut must find a character boundary.
func hugeRecord() Record {
	big := strings.Repeat("v", 1<<20)
	return Record{
		RunID: big, EventID: "evt_1", EventType: "backup.pre", HookID: "h", DeliveryID: "msg_1", Action: "http", Mode: "sync",
		Target: "POST https://x/?v=" + strings.Repeat("é", 1<<19), Attempt: 1, Outcome: "failed", Error: big, Response: big,
	}
}

var wantTruncated = []string{"run_id", "target", "error", "response"}

// TestRecordBounded: a record with 1 MiB values is written as a bounded JSON line that
// names the fields it cut, each cut on a UTF-8 boundary and marked.
func TestRecordBounded(t *testing.T) {
	t.Parallel()
	r := hugeRecord()
	line := r.AppendJSON(nil)
	if len(line) > 16<<10 {
		t.Fatalf("a %d-byte journal line", len(line))
	}
	var got Record
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatalf("invalid JSON: %v", err)
	}
	if !slices.Equal(got.Truncated, wantTruncated) {
		t.Errorf("truncated %q, want %q", got.Truncated, wantTruncated)
	}
	for name, v := range map[string]string{"run_id": got.RunID, "target": got.Target, "error": got.Error, "response": got.Response} {
		if !utf8.ValidString(v) || !strings.Contains(v, "…[cut ") {
			t.Errorf("%s: %.80q... is not a marked cut on a character boundary", name, v)
		}
	}
	if got.EventID != "evt_1" || got.HookID != "h" {
		t.Errorf("short fields changed: %+v", got)
	}
	// The caller's record is left as it was; bounding it gives the same document.
	if len(r.Target) < 1<<20 || r.Truncated != nil {
		t.Error("AppendJSON changed the record")
	}
	r.Bound()
	want, _ := json.Marshal(r)
	if !bytes.Equal(line, want) || !bytes.Equal(r.AppendJSON(nil), want) {
		t.Errorf("AppendJSON and json.Marshal of the bounded record differ")
	}
}

// TestRecordersBounded: the file, writer and log recorders write bounded lines that say
// what was cut.
func TestRecordersBounded(t *testing.T) {
	t.Parallel()
	var text, js, w bytes.Buffer
	Multi{
		Logger{L: slog.New(slog.NewTextHandler(&text, nil))},
		Logger{L: slog.New(slog.NewJSONHandler(&js, nil))},
		&Writer{W: &w},
	}.Record(hugeRecord())
	for name, out := range map[string]string{"text log": text.String(), "json log": js.String(), "writer": w.String()} {
		if len(out) > 16<<10 {
			t.Errorf("%s: a %d-byte line", name, len(out))
		}
		if !strings.Contains(out, "…[cut ") || !strings.Contains(out, "truncated") {
			t.Errorf("%s: does not say what was cut: %.300s", name, out)
		}
	}
}
