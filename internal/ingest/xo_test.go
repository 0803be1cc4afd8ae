package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookpoint/hookpoint/internal/event"
)

// xoHeader is every header XO's web-hooks plugin sets itself.
func xoHeader() map[string][]string { return header("Content-Type", "application/json") }

func TestXOAuthenticate(t *testing.T) {
	t.Parallel()
	const secret = "Zq7-path-secret-41f0"
	for _, tc := range []struct {
		name       string
		configured string
		path       string
		want       string // "" when accepted
	}{
		{"the configured secret", secret, secret, ""},
		{"no secret configured refuses everything", "", secret, "no secret is configured"},
		{"no secret configured, none given", "", "", "no secret is configured"},
		{"no path segment", secret, "", "no secret path segment"},
		{"another secret", secret, "Zq7-path-secret-41f1", "does not match"},
		{"a prefix of the secret", secret, secret[:10], "does not match"},
		{"the secret and more", secret, secret + "x", "does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &Request{Header: xoHeader(), PathSecret: tc.path, Body: payload(t, "xo/pre.json")}
			err := XO{}.Authenticate(r, Config{Secret: tc.configured})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			unauthorizedErr(t, err, tc.want, secret, tc.path)
		})
	}
}

func TestXOParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file    string
		typ     string
		gate    bool
		status  string
		run     string
		subject string
		check   func(t *testing.T, d map[string]any)
	}{
		{"xo/pre.json", "xo.vm.snapshot.pre", true, "", "k3x9w2lq8a", "1b8f2f2c-6d5e-1a3c-9f64-6b1c0a7e42d3", func(t *testing.T, d map[string]any) {
			want := map[string]any{"id": "722d17b9-699b-49d2-8193-be1ac573d3de", "name": "admin@admin.net", "ip": "::ffff:192.168.1.20"}
			if dataJSON(t, d["user"]) != dataJSON(t, want) {
				t.Errorf("user %v, want %v", d["user"], want)
			}
			if dataJSON(t, d["params"]) != `{"id":"1b8f2f2c-6d5e-1a3c-9f64-6b1c0a7e42d3","name":"before-upgrade","saveMemory":false}` {
				t.Errorf("params %v", d["params"])
			}
			if d["timestamp"] != json.Number("1714557600123") || d["phase"] != "pre" || d["method"] != "vm.snapshot" || d["call_id"] != "k3x9w2lq8a" {
				t.Errorf("data %v", d)
			}
			for _, k := range []string{"duration", "result", "error"} {
				if _, ok := d[k]; ok {
					t.Errorf("a pre has %s", k)
				}
			}
		}},
		{"xo/post-success.json", "xo.vm.snapshot.post", false, event.StatusSuccess, "k3x9w2lq8a", "1b8f2f2c-6d5e-1a3c-9f64-6b1c0a7e42d3", func(t *testing.T, d map[string]any) {
			if d["result"] != "8d1c31a4-5a2e-4f0b-b1f7-0c2d9e6a7b11" || d["duration"] != json.Number("4407") || d["timestamp"] != json.Number("1714557604530") {
				t.Errorf("data %v", d)
			}
			if _, ok := d["error"]; ok {
				t.Error("a success has an error")
			}
		}},
		{"xo/post-error.json", "xo.vm.snapshot.post", false, event.StatusFail, "p0q7r1s9tz", "1b8f2f2c-6d5e-1a3c-9f64-6b1c0a7e42d3", func(t *testing.T, d map[string]any) {
			want := `{"code":2,"data":{"objectId":"1b8f2f2c-6d5e-1a3c-9f64-6b1c0a7e42d3","objectType":"VM","permission":"operate"},"message":"not enough permissions","name":"XoError"}`
			if got := dataJSON(t, d["error"]); got != want {
				t.Errorf("error %s\nwant  %s", got, want)
			}
			if _, ok := d["result"]; ok {
				t.Error("a failure has a result")
			}
		}},
		// The plugin's own test: callId "0", timestamp 0, and a post without params.
		{"xo/test-pre.json", "xo.vm.start.pre", true, "", "0", "67aac198-0174-11ea-8d71-362b9e155667", nil},
		{"xo/test-post.json", "xo.vm.start.post", false, event.StatusSuccess, "0", "", func(t *testing.T, d map[string]any) {
			if r, ok := d["result"]; !ok || r != "" {
				t.Errorf("result %#v, want the empty text XO sent", r)
			}
			if _, ok := d["params"]; ok {
				t.Error("params made up for a post without them")
			}
		}},
		// A backup job run by its schedule: no userIp, the user unknown to XO.
		{"xo/backup-pre.json", "xo.backupNg.runJob.pre", true, "", "f2h8d0c3vm", "4f0c2e9a-8b1d-4c3e-9a7f-2d6b5e1c0a98", func(t *testing.T, d map[string]any) {
			if dataJSON(t, d["user"]) != `{"id":"722d17b9-699b-49d2-8193-be1ac573d3de","name":"(unknown user)"}` {
				t.Errorf("user %v", d["user"])
			}
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			ev := parse(t, XO{}, &Request{Header: xoHeader(), Body: payload(t, tc.file), PathSecret: "s"})
			if ev.Type != tc.typ || ev.Gate != tc.gate || ev.Status != tc.status || ev.Subject != tc.subject {
				t.Errorf("type %q gate %v status %q subject %q, want %q %v %q %q", ev.Type, ev.Gate, ev.Status, ev.Subject, tc.typ, tc.gate, tc.status, tc.subject)
			}
			if ev.Run.ID != tc.run || ev.Run.Kind != "xo" || ev.Run.Job != ev.Data["method"] {
				t.Errorf("run %+v, want id %q", ev.Run, tc.run)
			}
			if tc.check != nil {
				tc.check(t, ev.Data)
			}
		})
	}
}

// XO moves the namespace parameter to params.id for most methods, not all: the subject
// falls back to it.
func TestXOSubjectFromNamespace(t *testing.T) {
	t.Parallel()
	body := `{"callId":"a","method":"vm.ejectCd","params":{"vm":"9a0e3c1d"},"type":"pre"}`
	if ev := parse(t, XO{}, &Request{Body: []byte(body)}); ev.Subject != "9a0e3c1d" {
		t.Errorf("subject %q", ev.Subject)
	}
	body = `{"callId":"a","method":"system.getMethodsInfo","params":{},"type":"pre"}`
	if ev := parse(t, XO{}, &Request{Body: []byte(body)}); ev.Subject != "" {
		t.Errorf("subject %q", ev.Subject)
	}
}

// The error XO serialises keeps its message, bounded; the stack is dropped whatever its
// length, and the whole stays within a few KiB.
func TestXOErrorBounded(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("é", 50<<10)
	post := map[string]any{
		"callId": "c", "method": "vm.delete", "type": "post", "params": map[string]any{"id": "v"},
		"error": map[string]any{
			"message": "disk busy: " + big, "code": "VDI_IN_USE", "name": "XapiError" + big,
			"stack":  "XapiError: disk busy\n" + strings.Repeat("    at somewhere (file.js:1:1)\n", 5000),
			"params": []any{"OpaqueRef:1", big}, "call": map[string]any{"method": "VM.destroy"},
		},
	}
	body, _ := json.Marshal(post)
	ev := parse(t, XO{}, &Request{Body: body})
	e := ev.Data["error"].(map[string]any)
	if _, ok := e["stack"]; ok {
		t.Error("the stack is kept")
	}
	if _, ok := e["params"]; ok {
		t.Error("params longer than the bound are kept")
	}
	if e["code"] != "VDI_IN_USE" || !strings.HasPrefix(e["message"].(string), "disk busy: éé") {
		t.Errorf("error %v", e)
	}
	if n := len(dataJSON(t, e)); n > 4<<10 {
		t.Errorf("error is %d bytes of JSON, want a few KiB at most", n)
	}
	// An error that is not an object is kept as its message.
	ev = parse(t, XO{}, &Request{Body: []byte(`{"callId":"c","method":"vm.start","type":"post","error":"boom"}`)})
	if ev.Status != event.StatusFail || dataJSON(t, ev.Data["error"]) != `{"message":"boom"}` {
		t.Errorf("status %q error %v", ev.Status, ev.Data["error"])
	}
	// error: null is a success, as XO's own example handler reads it.
	ev = parse(t, XO{}, &Request{Body: []byte(`{"callId":"c","method":"vm.start","type":"post","error":null,"result":true}`)})
	if ev.Status != event.StatusSuccess || ev.Data["result"] != true {
		t.Errorf("status %q data %v", ev.Status, ev.Data)
	}
}

func TestXOParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, field, want string
	}{
		{"office 365 format", string(payload(t, "xo/office365.json")), "@type", "set the hook's payload format to JSON"},
		{"no type", `{"callId":"a","method":"vm.start"}`, "type", "missing"},
		{"type neither pre nor post", `{"callId":"a","method":"vm.start","type":"pre/post"}`, "type", `"pre/post" is neither`},
		{"type a number", `{"callId":"a","method":"vm.start","type":1}`, "type", "expected text, got a number"},
		{"no method", `{"callId":"a","type":"pre"}`, "method", "missing"},
		{"method with a space", `{"callId":"a","method":"vm start","type":"pre"}`, "method", "only letters, digits"},
		{"method starting with a dot", `{"callId":"a","method":".vm","type":"pre"}`, "method", "must start with a letter or digit"},
		{"no callId", `{"method":"vm.start","type":"pre"}`, "callId", "missing"},
		{"empty callId", `{"callId":"","method":"vm.start","type":"pre"}`, "callId", "missing"},
		{"callId an object", `{"callId":{},"method":"vm.start","type":"pre"}`, "callId", "expected text or a number, got an object"},
		{"params a list", `{"callId":"a","method":"vm.start","type":"pre","params":[1]}`, "params", "expected an object, got a list"},
		{"userId an object", `{"callId":"a","method":"vm.start","type":"pre","userId":{"id":1}}`, "userId", "expected text or a number"},
		{"timestamp text", `{"callId":"a","method":"vm.start","type":"pre","timestamp":"now"}`, "timestamp", "expected a number, got text"},
		{"duration text", `{"callId":"a","method":"vm.start","type":"post","duration":"1s"}`, "duration", "expected a number"},
		{"type twice", `{"callId":"a","method":"vm.start","type":"pre","type":"post"}`, "type", "given more than once"},
		{"not JSON", `callId=a&method=vm.start`, "", "malformed JSON at line 1, column 1 (byte 0)"},
		{"a list", `[{"callId":"a"}]`, "", "expected a JSON object, got a list"},
		{"empty", ``, "", "the body is empty"},
		{"cut short", `{"callId":"a","method":"vm.st`, "", "the body ends at line 1, column 30 (byte 29)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parseError(t, XO{}, &Request{Header: xoHeader(), Body: []byte(tc.body)}, tc.field, tc.want)
		})
	}
}

func TestXOTooLarge(t *testing.T) {
	t.Parallel()
	body := []byte(`{"callId":"a","method":"vm.start","type":"post","result":"` + strings.Repeat("x", XOMaxBody) + `"}`)
	_, err := XO{}.Parse(&Request{Body: body})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error %v, want ErrTooLarge", err)
	}
	// At the limit it is accepted.
	body = bytes.Repeat([]byte(" "), XOMaxBody)
	copy(body, `{"callId":"a","method":"vm.start","type":"pre"}`)
	parse(t, XO{}, &Request{Body: body})
}

// TestXOOverSocket sends the request XO's web-hooks plugin makes (a POST with only
// Content-Type set by the plugin) to /v1/ingest/xo/{secret} on a real HTTP server, and
// checks the answer is 200 even when a hook aborts: XO runs the call anyway.
func TestXOOverSocket(t *testing.T) {
	t.Parallel()
	const secret = "3f9c0b7e1d2a4c6e8f0a1b3c5d7e9f10"
	for _, tc := range []struct {
		name    string
		path    string
		outcome Outcome
		status  int
	}{
		{"hooks proceed", secret, Outcome{Verdict: Proceed}, 200},
		{"a hook aborts", secret, Outcome{Verdict: Abort, AbortedBy: "freeze-app"}, 200},
		{"another secret", "3f9c0b7e1d2a4c6e8f0a1b3c5d7e9f11", Outcome{Verdict: Proceed}, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			events := make(chan *event.Event, 1)
			mux := http.NewServeMux()
			mux.Handle("POST /v1/ingest/xo/{secret}", ingestHandler(t, XO{}, Config{Secret: secret}, tc.outcome, events))
			srv := httptest.NewServer(mux)
			defer srv.Close()
			body := payload(t, "xo/pre.json")
			raw := "POST /v1/ingest/xo/" + tc.path + " HTTP/1.1\r\n" +
				"Content-Type: application/json\r\n" +
				"Host: " + srv.Listener.Addr().String() + "\r\n" +
				fmt.Sprintf("Content-Length: %d\r\n", len(body)) +
				"Connection: close\r\n\r\n" + string(body)
			resp := sendRaw(t, srv.Listener.Addr().String(), raw)
			if resp.status != tc.status {
				t.Fatalf("status %d, want %d (body %s)", resp.status, tc.status, resp.body)
			}
			if tc.status != 200 {
				return
			}
			ev := <-events
			want := fmt.Sprintf(`{"event_id":%q,"verdict":%q}`, ev.ID, tc.outcome.Verdict)
			if tc.outcome.Verdict == Abort {
				want = fmt.Sprintf(`{"event_id":%q,"verdict":"abort","aborted_by":"freeze-app","message":"hook freeze-app aborted xo.vm.snapshot.pre; Xen Orchestra runs the call anyway"}`, ev.ID)
			}
			if string(resp.body) != want {
				t.Errorf("answer %s\nwant   %s", resp.body, want)
			}
		})
	}
}
