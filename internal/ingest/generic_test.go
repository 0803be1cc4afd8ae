package ingest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hookpoint/hookpoint/internal/event"
)

// The generic source has no secret: only the server's own tokens let a caller in.
func TestGenericAuthenticate(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{{}, {Secret: "s", Token: "t", Header: "X-Token"}} {
		r := &Request{Header: header("Authorization", "Bearer t", "X-Token", "s"), PathSecret: "s"}
		unauthorizedErr(t, Generic{}.Authenticate(r, cfg), "admin or emit token")
	}
}

func TestGenericParse(t *testing.T) {
	t.Parallel()
	ev := parse(t, Generic{}, &Request{Body: payload(t, "generic/gate.json")})
	if ev.Type != "backup.pre" || !ev.Gate || ev.Status != "" || ev.Subject != "db-01" || ev.Run.ID != "nightly-2024-05-01" {
		t.Errorf("event %+v", ev)
	}
	if ev.Data["vmid"] != json.Number("101") || ev.Data["label"] != "daily" || len(ev.Data) != 2 {
		t.Errorf("data %v", ev.Data)
	}
	ev = parse(t, Generic{}, &Request{Body: payload(t, "generic/post.json")})
	if ev.Type != "backup.post" || ev.Gate || ev.Status != event.StatusSuccess {
		t.Errorf("event %+v", ev)
	}
	// Only type is required.
	ev = parse(t, Generic{}, &Request{Body: []byte(`{"type":"db.dump.end"}`)})
	if ev.Type != "db.dump.end" || ev.Gate || ev.Status != "" || ev.Subject != "" || ev.Run.ID != "" || len(ev.Data) != 0 {
		t.Errorf("event %+v", ev)
	}
	// A run id may be a number; null is the same as absent.
	ev = parse(t, Generic{}, &Request{Body: []byte(`{"type":"x","run_id":42,"gate":null,"data":null,"status":null}`)})
	if ev.Run.ID != "42" || ev.Gate {
		t.Errorf("event %+v", ev)
	}
}

func TestGenericParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, field, want string
	}{
		{"an unknown field", `{"type":"a","source":"me"}`, "source", "unknown field; a generic event has data, gate, run_id, status, subject, type"},
		{"the first unknown field by name", `{"type":"a","zz":1,"id":2}`, "id", "unknown field"},
		{"a misspelt field", `{"type":"a","runId":"r"}`, "runId", "unknown field"},
		{"no type", `{"data":{}}`, "type", "missing"},
		{"a type with a space", `{"type":"backup pre"}`, "type", "only letters, digits"},
		{"an empty type", `{"type":""}`, "type", "empty"},
		{"a long type", `{"type":"a` + strings.Repeat("b", 200) + `"}`, "type", "longer than 128 bytes"},
		{"an unknown status", `{"type":"a","status":"ok"}`, "status", `"ok" is not one of success, warning, fail, cancelled or empty`},
		{"gate as text", `{"type":"a","gate":"yes"}`, "gate", "expected true/false, got text"},
		{"data a list", `{"type":"a","data":[1]}`, "data", "expected an object, got a list"},
		{"run_id an object", `{"type":"a","run_id":{}}`, "run_id", "expected text or a number, got an object"},
		{"subject true", `{"type":"a","subject":true}`, "subject", "expected text or a number, got true/false"},
		{"a data key twice", `{"type":"a","data":{"k":1,"k":2}}`, "data.k", "given more than once"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parseError(t, Generic{}, &Request{Body: []byte(tc.body)}, tc.field, tc.want)
		})
	}
}
