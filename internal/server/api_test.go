package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Every route but /healthz and /readyz wants a token; a scope allows only its routes.
func TestAuthentication(t *testing.T) { onEachDriver(t, testAuthentication) }

func testAuthentication(t *testing.T, db string) {
	t.Parallel()
	e := newEnv(t, envOptions{db: db})
	for _, path := range []string{"/v1/hooks", "/v1/deliveries", "/v1/tokens", "/metrics"} {
		a := want(t, e.do("GET", path, "", nil), 401)
		if a.apiError(t)["code"] != "unauthorized" || !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s without a token: %s %v", path, a.body, a.header)
		}
		want(t, e.do("GET", path, "wrong-token", nil), 401)
		want(t, e.do("GET", path, "hp_admin_aaaaaaaaaaaaaaaa_"+strings.Repeat("a", 52), nil), 401)
	}
	want(t, e.do("GET", "/healthz", "", nil), 200)
	want(t, e.do("GET", "/readyz", "", nil), 200)

	tokens := map[string]string{}
	for _, scope := range []string{"read", "emit"} {
		m := want(t, e.admin("POST", "/v1/tokens", map[string]any{"scope": scope, "description": scope + " token"}), 201).json(t)
		tokens[scope] = m["token"].(string)
	}
	// read: GET only, and not the tokens.
	want(t, e.do("GET", "/v1/hooks", tokens["read"], nil), 200)
	want(t, e.do("GET", "/v1/deliveries", tokens["read"], nil), 200)
	want(t, e.do("GET", "/v1/tokens", tokens["read"], nil), 403)
	a := want(t, e.do("POST", "/v1/events", tokens["read"], map[string]any{"type": "x.y"}), 403)
	if a.apiError(t)["code"] != "forbidden" {
		t.Errorf("403 body %s", a.body)
	}
	want(t, e.do("POST", "/v1/hooks", tokens["read"], map[string]any{"id": "h"}), 403)
	// emit: events and ingest only.
	want(t, e.do("POST", "/v1/events", tokens["emit"], map[string]any{"type": "x.y"}), 200)
	want(t, e.do("GET", "/v1/hooks", tokens["emit"], nil), 403)
	want(t, e.do("GET", "/v1/deliveries", tokens["emit"], nil), 403)

	// Tokens are shown once, listed without their secret, and revoked for good.
	list := want(t, e.admin("GET", "/v1/tokens", nil), 200)
	if strings.Contains(string(list.body), tokens["read"]) || strings.Contains(string(list.body), "hash") {
		t.Errorf("the token list shows a secret: %s", list.body)
	}
	id := strings.Split(tokens["emit"], "_")[2]
	want(t, e.admin("DELETE", "/v1/tokens/"+id, nil), 204)
	want(t, e.do("POST", "/v1/events", tokens["emit"], map[string]any{"type": "x.y"}), 401)
	want(t, e.admin("DELETE", "/v1/tokens/nosuchtoken", nil), 404)
}

// Every bad input gets a JSON error with the right status and the field at fault.
func TestBadInputs(t *testing.T) { onEachDriver(t, testBadInputs) }

func testBadInputs(t *testing.T, db string) {
	t.Parallel()
	e := newEnv(t, envOptions{db: db})
	cases := []struct {
		name, method, path string
		body               any
		status             int
		code, field, msg   string
	}{
		{"malformed JSON", "POST", "/v1/events", "{\"type\": \"a.b\",\n \"data\": {", 400, "invalid", "", "not valid JSON"},
		{"syntax error position", "POST", "/v1/events", "{\"type\": \"a.b\",\n  x}", 400, "invalid", "", "line 2, column 3"},
		{"unknown field", "POST", "/v1/events", `{"type":"a.b","typo":1}`, 400, "invalid", "typo", `unknown field "typo"`},
		{"wrong type", "POST", "/v1/events", `{"type":"a.b","gate":"yes"}`, 400, "invalid", "gate", "gate must be true or false"},
		{"data not an object", "POST", "/v1/events", `{"type":"a.b","data":[1,2]}`, 400, "invalid", "data", "must be an object"},
		{"missing type", "POST", "/v1/events", `{"status":"fail"}`, 400, "invalid", "type", "type is required"},
		{"bad type", "POST", "/v1/events", `{"type":"a b"}`, 400, "invalid", "type", "event type"},
		{"bad status", "POST", "/v1/events", `{"type":"a.b","status":"done"}`, 400, "invalid", "status", "status"},
		{"two values", "POST", "/v1/events", `{"type":"a.b"} {}`, 400, "invalid", "", "more than one"},
		{"empty body", "POST", "/v1/events", "", 400, "invalid", "", "empty"},
		{"too large", "POST", "/v1/events", `{"type":"a.b","data":{"x":"` + strings.Repeat("x", 1<<20) + `"}}`, 413, "too_large", "", "larger than"},
		{"wrong method", "PATCH", "/v1/hooks", nil, 405, "method_not_allowed", "", "GET or POST"},
		{"wrong method on an id", "POST", "/v1/deliveries/msg_x", nil, 405, "method_not_allowed", "", "GET"},
		{"unknown route", "GET", "/v1/nothing", nil, 404, "not_found", "", "no such route"},
		{"unknown hook", "GET", "/v1/hooks/nope", nil, 404, "not_found", "", `no hook with id "nope"`},
		{"unknown delivery", "GET", "/v1/deliveries/msg_nope", nil, 404, "not_found", "", "no delivery"},
		{"unknown event", "GET", "/v1/events/evt_nope", nil, 404, "not_found", "", "no event"},
		{"invalid hook", "POST", "/v1/hooks", `{"id":"h","on":["a.b"],"http":{"url":"ftp://x"}}`, 400, "invalid_hook", "http.url", "http or https"},
		{"hook with two problems", "POST", "/v1/hooks", `{"id":"H","on":[],"http":{"url":"https://x.example"}}`, 400, "invalid_hook", "id", "and 1 more"},
		{"hook reading env", "POST", "/v1/hooks", `{"id":"h","on":["a"],"http":{"url":"https://x.example/{{ env \"HOME\" }}"}}`, 400, "invalid_hook", "http.url", "server's own environment"},
		{"hook reading a file by pipe", "POST", "/v1/hooks", `{"id":"h","on":["a"],"http":{"url":"https://x.example/","body":{"k":"{{ \"hookpoint.key\" | file }}"}}}`, 400, "invalid_hook", "http.body.k", "server's own environment"},
		{"hook reading env through a variable", "POST", "/v1/hooks", `{"id":"h","on":["a"],"http":{"url":"https://x.example/","headers":{"X":"{{ with $f := \"HOME\" }}{{ env $f }}{{ end }}"}}}`, 400, "invalid_hook", "http.headers.X", "server's own environment"},
		{"hook reading env in a define", "POST", "/v1/hooks", `{"id":"h","on":["a"],"http":{"url":"https://x.example/","body_type":"text","body":"{{ define \"x\" }}{{ \"HOME\" | env }}{{ end }}{{ template \"x\" }}"}}`, 400, "invalid_hook", "http.body", "server's own environment"},
		{"hook naming a secret by a variable", "POST", "/v1/hooks", `{"id":"h","on":["a"],"http":{"url":"https://x.example/","headers":{"X":"{{ \"p\" | secret }}"}},"secrets":{"p":"x"}}`, 400, "invalid_hook", "http.headers.X", "constant"},
		{"source_env that changes how commands run", "POST", "/v1/events", `{"type":"a.b","source_env":{"BASH_ENV":"$(id)"}}`, 400, "invalid", "source_env", "not a variable an adapter passes on"},
		{"source_env LD_PRELOAD", "POST", "/v1/events", `{"type":"a.b","source_env":{"LD_PRELOAD":"/tmp/x.so"}}`, 400, "invalid", "source_env", "not a variable"},
		{"the server's own event type", "POST", "/v1/events", `{"type":"hookpoint.hook.disabled","data":{"hook_id":"x"}}`, 400, "invalid", "type", "server's own"},
		{"time out of range", "POST", "/v1/events", `{"type":"a.b","time":"9999-12-31T23:59:59Z"}`, 400, "invalid", "time", "1970 and 2200"},
		{"until out of range", "GET", "/v1/deliveries?until=9999-01-01T00:00:00Z", nil, 400, "invalid", "until", "1970 and 2200"},
		{"hook with exec", "POST", "/v1/hooks", `{"id":"h","on":["a"],"exec":{"command":"/bin/true"}}`, 400, "invalid_hook", "exec", "api_exec"},
		{"hook missing secret", "POST", "/v1/hooks", `{"id":"h","on":["a"],"http":{"url":"https://x.example/{{ secret \"u\" }}"}}`, 400, "invalid_hook", "http.url", `secret "u" is not set`},
		{"bad limit", "GET", "/v1/deliveries?limit=0", nil, 400, "invalid", "limit", "from 1 to 500"},
		{"bad status filter", "GET", "/v1/deliveries?status=lost", nil, 400, "invalid", "status", "not a delivery status"},
		{"unknown filter", "GET", "/v1/deliveries?hook=x", nil, 400, "invalid", "hook", "unknown parameter"},
		{"bad since", "GET", "/v1/deliveries?since=yesterday", nil, 400, "invalid", "since", "RFC 3339"},
		{"recover without since", "POST", "/v1/hooks/nope/recover", `{}`, 404, "not_found", "", "no hook"},
		{"token scope", "POST", "/v1/tokens", `{"scope":"root"}`, 400, "invalid", "scope", "admin, emit or read"},
		{"not JSON", "POST", "/v1/tokens", "scope=admin", 400, "invalid", "", "not valid JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := want(t, e.admin(c.method, c.path, c.body), c.status)
			er := a.apiError(t)
			if er["code"] != c.code || !strings.Contains(fmt.Sprint(er["message"]), c.msg) || fmt.Sprint(er["field"]) != c.field && !(c.field == "" && er["field"] == nil) {
				t.Errorf("error %v; want code %q, field %q, message with %q", er, c.code, c.field, c.msg)
			}
			if strings.Contains(string(a.body), "Go value") || strings.Contains(string(a.body), "interface {}") || strings.Contains(string(a.body), "json: ") {
				t.Errorf("Go internals in %s", a.body)
			}
			if a.header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", a.header.Get("Content-Type"))
			}
		})
	}
	if a := want(t, e.admin("PATCH", "/v1/hooks", nil), 405); a.header.Get("Allow") != "GET, POST" {
		t.Errorf("Allow %q", a.header.Get("Allow"))
	}
}

// An event runs its sync hooks before it is answered, queues its async ones, and is
// stored with every delivery; a repeated idempotency key gets the first answer.
func TestEventsSyncAndAsync(t *testing.T) { onEachDriver(t, testEventsSyncAndAsync) }

func testEventsSyncAndAsync(t *testing.T, db string) {
	t.Parallel()
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/gate" {
			w.WriteHeader(500)
			fmt.Fprint(w, "frozen? no")
		}
	})
	e := newEnv(t, envOptions{db: db, config: fmt.Sprintf(`
hooks:
  - {id: notify, order: 1, on: ["backup.*"], mode: async, http: {url: "%[1]s/async?vm={{ .data.vmid }}"}}
  - {id: sync-ok, order: 2, on: ["backup.*"], http: {url: "%[1]s/sync"}}
  - {id: gate, order: 3, on: ["backup.pre"], http: {url: "%[1]s/gate"}}
  - {id: after-gate, order: 4, on: ["backup.pre"], http: {url: "%[1]s/never"}}
`, rc.URL)})

	a := want(t, e.admin("POST", "/v1/events", map[string]any{"type": "backup.pre", "data": map[string]any{"vmid": "101"}, "idempotency_key": "k1"}), 200).json(t)
	if a["verdict"] != "abort" {
		t.Fatalf("verdict %v: %v", a["verdict"], a)
	}
	results := a["results"].([]any)
	outcomes := ""
	for _, r := range results {
		m := r.(map[string]any)
		outcomes += fmt.Sprintf("%s=%s ", m["hook_id"], m["outcome"])
	}
	if outcomes != "notify=queued sync-ok=ok gate=failed after-gate=skipped " {
		t.Errorf("outcomes %s", outcomes)
	}
	evID := a["event_id"].(string)
	waitFor(t, "the async delivery", func() bool { return rc.count() == 3 })
	req, _ := rc.request(2)
	if req.URL.Path != "/async" || req.URL.Query().Get("vm") != "101" || req.Header.Get("X-Hookpoint-Event-Id") != evID || req.Header.Get("X-Hookpoint-Hook") != "notify" {
		t.Errorf("async request %s %v", req.URL, req.Header)
	}

	// The same key with the same event: the first answer, nothing sent or stored again.
	b := want(t, e.admin("POST", "/v1/events", map[string]any{"idempotency_key": "k1", "data": map[string]any{"vmid": "101"}, "type": "backup.pre"}), 200).json(t)
	if b["event_id"] != evID || b["duplicate"] != true || b["verdict"] != "abort" {
		t.Errorf("repeated key answered %v", b)
	}
	// The same key with another event is refused; so is another token's use of it,
	// which is another key (no token learns another's answers or pre-empts its gate).
	a422 := want(t, e.admin("POST", "/v1/events", map[string]any{"type": "backup.pre", "data": map[string]any{"vmid": "999"}, "idempotency_key": "k1"}), 422)
	if a422.apiError(t)["code"] != "idempotency_key_reused" {
		t.Errorf("%s", a422.body)
	}
	emit := want(t, e.admin("POST", "/v1/tokens", map[string]any{"scope": "emit"}), 201).json(t)["token"].(string)
	other := want(t, e.do("POST", "/v1/events", emit, map[string]any{"type": "other.event", "idempotency_key": "k1"}), 200).json(t)
	if other["event_id"] == evID || other["duplicate"] == true {
		t.Errorf("another token's key k1 replayed the admin's answer: %v", other)
	}
	time.Sleep(50 * time.Millisecond)
	if rc.count() != 3 {
		t.Errorf("the repeated event sent requests: %d", rc.count())
	}

	// The event with its four deliveries: one per hook, as it went.
	ev := want(t, e.admin("GET", "/v1/events/"+evID, nil), 200).json(t)
	ds := ev["deliveries"].([]any)
	status := map[string]string{}
	for _, d := range ds {
		m := d.(map[string]any)
		status[m["hook_id"].(string)] = m["status"].(string)
	}
	waitFor(t, "the async delivery to be recorded", func() bool {
		d, _ := e.delivery(results[0].(map[string]any)["delivery_id"].(string))
		return d["status"] == "succeeded"
	})
	if status["sync-ok"] != "succeeded" || status["gate"] != "failed" || status["after-gate"] != "cancelled" || len(ds) != 4 {
		t.Errorf("deliveries %v", status)
	}
	// A sync attempt is kept with its request (masked) and the response excerpt.
	gate := results[2].(map[string]any)["delivery_id"].(string)
	d, as := e.delivery(gate)
	if d["attempts"].(float64) != 1 || len(as) != 1 {
		t.Fatalf("gate delivery %v %v", d, as)
	}
	at := as[0].(map[string]any)
	if at["status"].(float64) != 500 || at["response"] != "frozen? no" || at["request"].(map[string]any)["url"] != rc.URL+"/gate" {
		t.Errorf("attempt %v", at)
	}
}

// An event whose id exists already is refused before any of its hooks runs: hooks that
// ran for an event that is then not stored would leave no trace.
func TestEventIDReusedRunsNothing(t *testing.T) { onEachDriver(t, testEventIDReusedRunsNothing) }

func testEventIDReusedRunsNothing(t *testing.T, db string) {
	t.Parallel()
	rc := newReceiver(t, nil)
	e := newEnv(t, envOptions{db: db, config: fmt.Sprintf("hooks:\n  - {id: s, on: [d.x], http: {url: %q}}\n", rc.URL+"/s")})
	body := map[string]any{"type": "d.x", "id": "fixed-id-123"}
	want(t, e.admin("POST", "/v1/events", body), 200)
	for i := 0; i < 2; i++ {
		a := want(t, e.admin("POST", "/v1/events", body), 409)
		if a.apiError(t)["field"] != "id" {
			t.Errorf("%s", a.body)
		}
	}
	if rc.count() != 1 {
		t.Errorf("the hook ran %d times for one stored event", rc.count())
	}
}
