package journal

import (
	"encoding/json"
	"testing"
	"time"
)

// AppendJSON must produce the same document as encoding/json for every field shape.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	code := 3
	zero := 0
	records := []Record{
		{},
		{Time: time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC), RunID: "run_1", EventID: "evt_1", EventType: "backup.pre",
			HookID: "h", DeliveryID: "msg_1", Action: "http", Mode: "sync", Target: "POST https://x/?a=b&c=\"d\"", Attempt: 2,
			Outcome: "failed", Status: 503, DurationMS: 12.345, Error: "unexpected status 503", Response: "<html>\n\x00 é \xff"},
		{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)), EventID: "e", EventType: "t", HookID: "h", Action: "exec",
			Mode: "async", Attempt: 1, Outcome: "timeout", ExitCode: &code, DurationMS: 1e-3},
		{EventID: "e", ExitCode: &zero, DurationMS: 300000},
	}
	for i, r := range records {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got := r.AppendJSON(nil)
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("record %d: invalid JSON %s: %v", i, got, err)
		}
		_ = json.Unmarshal(want, &w)
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		if string(gb) != string(wb) {
			t.Errorf("record %d:\n got %s\nwant %s", i, got, want)
		}
	}
}
