package event

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNewIDFormatAndUniqueness(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^evt_[0-9A-HJKMNP-TV-Z]{26}$`)
	seen := map[string]bool{}
	prev := ""
	for i := 0; i < 10000; i++ {
		id := NewID("evt")
		if !re.MatchString(id) {
			t.Fatalf("id %q does not have the ULID shape", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
		// The first 10 characters encode the millisecond: never earlier than the last.
		if prev != "" && id[4:14] < prev[4:14] {
			t.Fatalf("id %q sorts before the earlier %q", id, prev)
		}
		prev = id
	}
}

func TestEnvNameAndEnv(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"vmid": "VMID", "snap-name": "SNAP_NAME", "a.b c": "A_B_C", "Ünï": "_N_", "x9": "X9"} {
		if got := EnvName(in); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", in, got, want)
		}
	}
	e := &Event{ID: "evt_1", Type: "backup.end", Status: StatusFail, Run: Run{ID: "run_1"},
		Data:      map[string]any{"vmid": "101", "n": 3.0, "tags": []any{"a", "<b>"}, "none": nil},
		SourceEnv: map[string]string{"CV4PVE_AUTOSNAP_VMID": "101"}}
	env := e.Env()
	for _, want := range []string{"HOOKPOINT_EVENT=backup.end", "HOOKPOINT_EVENT_ID=evt_1", "HOOKPOINT_STATUS=fail", "HOOKPOINT_RUN_ID=run_1",
		"HOOKPOINT_DATA_VMID=101", "HOOKPOINT_DATA_N=3", `HOOKPOINT_DATA_TAGS=["a","<b>"]`, "HOOKPOINT_DATA_NONE=", "CV4PVE_AUTOSNAP_VMID=101"} {
		if !slices.Contains(env, want) {
			t.Errorf("Env() lacks %q: %v", want, env)
		}
	}
}

func TestStringify(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   any
		want string
	}{
		{nil, ""}, {"a&b", "a&b"}, {3.0, "3"}, {true, "true"},
		{map[string]any{"k": "<&>"}, `{"k":"<&>"}`}, {[]any{1.5, "x"}, `[1.5,"x"]`},
	}
	for _, c := range cases {
		if got := Stringify(c.in); got != c.want {
			t.Errorf("Stringify(%#v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestJSONForms(t *testing.T) {
	t.Parallel()
	e := &Event{ID: "evt_1", Type: "backup.pre", Time: time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC), Source: "hookpoint",
		Subject: "nightly", Gate: true, Run: Run{ID: "run_1", Job: "nightly", Kind: "backup"}, Data: map[string]any{"vmid": "101"}}
	var own map[string]any
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &own); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"id": "evt_1", "type": "backup.pre", "time": "2026-11-22T01:02:03Z", "gate": true,
		"run_id": "run_1", "job": "nightly", "kind": "backup", "subject": "nightly"} {
		if own[k] != want {
			t.Errorf("event JSON %s = %v, want %v (%s)", k, own[k], want, b)
		}
	}
	var ce map[string]any
	b, err = e.CloudEvent()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ce); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"specversion": "1.0", "id": "evt_1", "type": "backup.pre", "source": "hookpoint",
		"datacontenttype": "application/json", "runid": "run_1"} {
		if ce[k] != want {
			t.Errorf("CloudEvent %s = %v, want %v", k, ce[k], want)
		}
	}
	if d, _ := ce["data"].(map[string]any); d["vmid"] != "101" {
		t.Errorf("CloudEvent data = %v", ce["data"])
	}
	// An event without data still has a data object.
	b, _ = json.Marshal(&Event{ID: "e", Type: "t"})
	if !strings.Contains(string(b), `"data":{}`) {
		t.Errorf("nil data should marshal as {}: %s", b)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for typ, ok := range map[string]bool{"backup.pre": true, "vzdump.backup-start": true, "a_b": true, "": false, ".x": false, "a b": false, "a/b": false} {
		err := (&Event{Type: typ}).Validate()
		if (err == nil) != ok {
			t.Errorf("type %q: err = %v", typ, err)
		}
	}
	if err := (&Event{Type: "x", Status: "done"}).Validate(); err == nil {
		t.Error("status done accepted")
	}
}

func TestGateByName(t *testing.T) {
	t.Parallel()
	for typ, want := range map[string]bool{
		"backup.pre": true, "job.pre": true, "xo.vm.snapshot.pre": true,
		"backup.post": false, "backup.prepare": false, "pre": false, "backup.pre.done": false, "backup-pre": false,
	} {
		if got := GateByName(typ); got != want {
			t.Errorf("GateByName(%q) = %v, want %v", typ, got, want)
		}
	}
}
