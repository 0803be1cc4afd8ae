package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/store"
)

// fieldErrors returns the errors shown beside each field of a form page.
func fieldErrors(body string) map[string]string {
	out := map[string]string{}
	re := regexp.MustCompile(`(?s)<div id="err-([^"]+)"[^>]*>(.*?)</div>`)
	tags := regexp.MustCompile(`<[^>]+>|✗`)
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		out[m[1]] = strings.TrimSpace(html.UnescapeString(tags.ReplaceAllString(m[2], "")))
	}
	return out
}

// The hook form validates exactly as the API does: the same definition gives the same
// messages, each beside the field the API names.
func TestHookFormValidatesAsTheAPI(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	e := newEnv(t, envOptions{})
	c := e.signIn(adminToken)
	for _, tc := range []struct {
		name  string
		form  url.Values
		api   map[string]any
		field string // the form field the error is beside
	}{
		{"a URL that is not http",
			url.Values{"id": {"a"}, "on": {"x.y"}, "action": {"http"}, "http.url": {"ftp://x.example/"}},
			map[string]any{"id": "a", "on": []string{"x.y"}, "http": map[string]any{"url": "ftp://x.example/"}}, "http.url"},
		{"no event",
			url.Values{"id": {"a"}, "action": {"http"}, "http.url": {rc.URL}},
			map[string]any{"id": "a", "http": map[string]any{"url": rc.URL}}, "on"},
		{"retry on a sync hook",
			url.Values{"id": {"a"}, "on": {"x.y"}, "action": {"http"}, "http.url": {rc.URL}, "retry.max_attempts": {"3"}},
			map[string]any{"id": "a", "on": []string{"x.y"}, "retry": map[string]any{"max_attempts": 3}, "http": map[string]any{"url": rc.URL}}, "retry"},
		{"a rate that is not one",
			url.Values{"id": {"a"}, "on": {"x.y"}, "mode": {"async"}, "rate": {"fast"}, "action": {"http"}, "http.url": {rc.URL}},
			map[string]any{"id": "a", "on": []string{"x.y"}, "mode": "async", "rate": "fast", "http": map[string]any{"url": rc.URL}}, "rate"},
		{"an order that is not a number",
			url.Values{"id": {"a"}, "on": {"x.y"}, "order": {"first"}, "action": {"http"}, "http.url": {rc.URL}},
			map[string]any{"id": "a", "on": []string{"x.y"}, "order": "first", "http": map[string]any{"url": rc.URL}}, "order"},
		{"a bad id",
			url.Values{"id": {"Not An Id"}, "on": {"x.y"}, "action": {"http"}, "http.url": {rc.URL}},
			map[string]any{"id": "Not An Id", "on": []string{"x.y"}, "http": map[string]any{"url": rc.URL}}, "id"},
		{"a token with basic auth",
			url.Values{"id": {"a"}, "on": {"x.y"}, "action": {"http"}, "http.url": {rc.URL}, "http.auth.type": {"basic"}, "http.auth.username": {"u"}, "http.auth.token": {"{{ secret \"t\" }}"}},
			map[string]any{"id": "a", "on": []string{"x.y"}, "http": map[string]any{"url": rc.URL, "auth": map[string]any{"type": "basic", "username": "u", "token": `{{ secret "t" }}`}}}, "http.auth.token"},
		{"a command without server.api_exec",
			url.Values{"id": {"a"}, "on": {"x.y"}, "action": {"exec"}, "exec.command": {"/bin/true"}},
			map[string]any{"id": "a", "on": []string{"x.y"}, "exec": map[string]any{"command": "/bin/true"}}, "exec"},
		{"a template reading the server's environment",
			url.Values{"id": {"a"}, "on": {"x.y"}, "action": {"http"}, "http.url": {rc.URL}, "http.headers": {"X-A: {{ env \"HOME\" }}"}},
			map[string]any{"id": "a", "on": []string{"x.y"}, "http": map[string]any{"url": rc.URL, "headers": map[string]any{"X-A": `{{ env "HOME" }}`}}}, "http.headers"},
		{"a body that is not JSON",
			url.Values{"id": {"a"}, "on": {"x.y"}, "action": {"http"}, "http.url": {rc.URL}, "http.body": {`{"a": {{ .data.x }`}},
			map[string]any{"id": "a", "on": []string{"x.y"}, "http": map[string]any{"url": rc.URL, "body": `{"a": {{ .data.x }`}}, "http.body"},
	} {
		st, m := e.api("POST", "/v1/hooks", tc.api)
		apiErr, _ := m["error"].(map[string]any)
		if st != 400 || apiErr == nil {
			t.Fatalf("%s: the API answers %d %v", tc.name, st, m)
		}
		msg, _ := apiErr["message"].(string)
		first, _, _ := strings.Cut(msg, " (and ")
		c.get("/ui/hooks/_new")
		p := want(t, c.post("/ui/hooks", tc.form), http.StatusBadRequest)
		errs := fieldErrors(p.body)
		if !strings.Contains(errs[tc.field], first) {
			t.Errorf("%s: beside %s the form shows %q; the API says %q (field %v); all: %v", tc.name, tc.field, errs[tc.field], first, apiErr["field"], errs)
		}
		if !strings.Contains(p.body, `aria-invalid="true"`) && !strings.Contains(p.body, `class="group-error"`) || !strings.Contains(p.body, `id="form-errors"`) {
			t.Errorf("%s: the field is not marked invalid or the errors not listed", tc.name)
		}
	}
	// What was typed is kept (secrets apart) and the hook is made once it is right.
	p := c.post("/ui/hooks", url.Values{"id": {"fixed"}, "description": {"kept <b>as typed</b>"}, "on": {"x.y"}, "action": {"http"}, "http.url": {"nope"}})
	if !strings.Contains(p.body, `value="kept &lt;b&gt;as typed&lt;/b&gt;"`) {
		t.Errorf("the description typed is not in the form shown again")
	}
	p = want(t, c.post("/ui/hooks", url.Values{"id": {"fixed"}, "on": {"x.y"}, "action": {"http"}, "http.url": {rc.URL}, "enabled": {"on"}}), 200)
	if !strings.Contains(p.url, "/ui/hooks/fixed") || !strings.Contains(p.body, "was created") {
		t.Errorf("after a valid form: %s", p.url)
	}
	// Every field of a hook survives the form: the edit page shows what was saved.
	def := map[string]any{"id": "full", "description": "all fields", "order": -3, "on": []string{"a.*", "b.end"},
		"status": []string{"fail", "cancelled"}, "on_failure": "ignore", "mode": "async", "max_in_flight": 3, "rate": "50/s",
		"retry": map[string]any{"max_attempts": 4, "schedule": []string{"5s", "1m"}},
		"http": map[string]any{"url": rc.URL + "/{{ .data.x }}", "method": "PUT", "body_type": "json", "body": map[string]any{"x": "{{ .data.x }}"},
			"headers": map[string]any{"X-One": "1"}, "timeout": "12s", "expect": []int{200, 204},
			"auth": map[string]any{"type": "api_key", "token": "k3y-value-1234", "header": "X-Key"}, "tls": map[string]any{"insecure_skip_verify": true}}}
	if st, m := e.api("POST", "/v1/hooks", def); st != 201 {
		t.Fatalf("full hook: %d %v", st, m)
	}
	p = want(t, c.get("/ui/hooks/full/edit"), 200)
	for _, w := range []string{`value="all fields"`, `value="-3"`, `value="a.*, b.end"`, `value="fail" checked`, `value="cancelled" checked`,
		`value="ignore" selected`, `value="async" selected`, `value="3"`, `value="50/s"`, `value="4"`, `value="5s, 1m"`,
		`value="PUT" selected`, `value="json" selected`, `name="http.body_structured" id="in-http.body_structured" checked`,
		`X-One: 1`, `value="12s"`, `value="200, 204"`, `value="api_key" selected`, `value="X-Key"`, `name="http.tls.insecure_skip_verify" id="in-http.tls.insecure_skip_verify" checked`,
		"A value is set, stored encrypted"} {
		if !strings.Contains(p.body, w) {
			t.Errorf("the edit page lacks %s", w)
		}
	}
	// Saved unchanged, it is the same hook (its version stays).
	form := formOf(t, p.body)
	form.Set("do", "save")
	want(t, c.post("/ui/hooks/full", form), 200)
	_, m := e.api("GET", "/v1/hooks/full", nil)
	if m["version"] != float64(1) {
		t.Errorf("saving an unchanged form made version %v: %v", m["version"], m)
	}
}

// formOf reads the values a browser would send from a form page (inputs, checked
// boxes, selected options, textareas; not the preview's sample).
func formOf(t *testing.T, body string) url.Values {
	t.Helper()
	v := url.Values{}
	attr := func(tag, name string) (string, bool) {
		m := regexp.MustCompile(`\s` + name + `="([^"]*)"`).FindStringSubmatch(tag)
		if m == nil {
			if regexp.MustCompile(`\s` + name + `[\s>]`).MatchString(tag) {
				return "", true
			}
			return "", false
		}
		return html.UnescapeString(m[1]), true
	}
	for _, tag := range regexp.MustCompile(`<input[^>]*>`).FindAllString(body, -1) {
		name, ok := attr(tag, "name")
		if !ok {
			continue
		}
		typ, _ := attr(tag, "type")
		val, _ := attr(tag, "value")
		if typ == "checkbox" || typ == "radio" {
			if _, on := attr(tag, "checked"); !on {
				continue
			}
			if val == "" {
				val = "on"
			}
		}
		v.Add(name, val)
	}
	for _, m := range regexp.MustCompile(`(?s)<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>`).FindAllStringSubmatch(body, -1) {
		v.Add(m[1], html.UnescapeString(m[2]))
	}
	for _, m := range regexp.MustCompile(`(?s)<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>`).FindAllStringSubmatch(body, -1) {
		sel := regexp.MustCompile(`<option value="([^"]*)" selected>`).FindStringSubmatch(m[2])
		if sel != nil {
			v.Add(m[1], html.UnescapeString(sel[1]))
		}
	}
	return v
}

// Recover: the first step says how many failed deliveries would be sent again, the
// second sends them.
func TestRecoverConfirmsTheCount(t *testing.T) {
	t.Parallel()
	failing := true
	rc := newReceiver(t, nil)
	rc.setReply(func(_ int, w http.ResponseWriter, r *http.Request) {
		if failing {
			w.WriteHeader(502)
		}
	})
	e := newEnv(t, envOptions{})
	e.api("POST", "/v1/hooks", map[string]any{"id": "r", "on": []string{"x.*"}, "mode": "async",
		"retry": map[string]any{"max_attempts": 1}, "http": map[string]any{"url": rc.URL}})
	for i := range 3 {
		e.api("POST", "/v1/events", map[string]any{"type": fmt.Sprintf("x.%d", i)})
	}
	waitFor(t, "three failures", func() bool {
		_, m := e.api("GET", "/v1/deliveries?hook_id=r&status=failed", nil)
		ds, _ := m["deliveries"].([]any)
		return len(ds) == 3
	})
	rc.setReply(nil)
	c := e.signIn(adminToken)
	c.get("/ui/hooks/r")
	p := want(t, c.post("/ui/hooks/r/recover", url.Values{"since": {"1h"}}), 200)
	if !strings.Contains(p.body, "3 failed deliveries") || !strings.Contains(p.body, `id="confirm-recover"`) {
		t.Fatalf("the confirmation: %s", clipBody(p.body))
	}
	if rc.count() != 3 {
		t.Fatalf("counting sent something: %d", rc.count())
	}
	form := formOf(t, p.body[strings.Index(p.body, `action="/ui/hooks/r/recover"`):])
	p = want(t, c.post("/ui/hooks/r/recover", form), 200)
	if !strings.Contains(p.body, "3 failed deliveries of hook r queued again") {
		t.Errorf("after recover: %s", clipBody(p.body))
	}
	waitFor(t, "the three sent again", func() bool { return rc.count() == 6 })
	// With nothing failed, it says so.
	c.get("/ui/hooks/r")
	if p := c.post("/ui/hooks/r/recover", url.Values{"since": {"2026-01-01T00:00"}, "tz": {"-60"}}); !strings.Contains(p.body, "nothing to send again") {
		t.Errorf("recover with nothing failed: %s", clipBody(p.body))
	}
}

// The deliveries page: filters, the pager, the live rows.
func TestDeliveriesPage(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	e := newEnv(t, envOptions{})
	e.api("POST", "/v1/hooks", map[string]any{"id": "a", "on": []string{"a.*"}, "http": map[string]any{"url": rc.URL}})
	e.api("POST", "/v1/hooks", map[string]any{"id": "b", "on": []string{"b.*"}, "http": map[string]any{"url": rc.URL + "/nope", "expect": 201}})
	// 55 deliveries of a, written to the store (firing 55 events costs seconds under -race).
	ctx := context.Background()
	now := time.Now()
	if err := e.store.InsertEvent(ctx, &store.Event{ID: "evt_many", Type: "a.n", Source: "test", Time: now, ReceivedAt: now, Origin: "api", State: store.EventDone}); err != nil {
		t.Fatal(err)
	}
	var ds []*store.Delivery
	for i := range 55 {
		at := now.Add(time.Duration(i-60) * time.Second)
		ds = append(ds, &store.Delivery{ID: fmt.Sprintf("msg_%03d", i), EventID: "evt_many", EventType: fmt.Sprintf("a.n%d", i), HookID: "a",
			HookVersion: 1, Mode: "sync", Status: store.DeliverySucceeded, Attempts: 1, CreatedAt: at, UpdatedAt: at})
	}
	if err := e.store.InsertDeliveries(ctx, ds); err != nil {
		t.Fatal(err)
	}
	e.api("POST", "/v1/events", map[string]any{"type": "b.one"})
	c := e.signIn(adminToken)
	rows := func(body string) int { return strings.Count(body, "<tr data-id=") }
	p := want(t, c.get("/ui/deliveries"), 200)
	if rows(p.body) != 50 || !strings.Contains(p.body, `id="older"`) || !strings.Contains(p.body, `data-live="/ui/deliveries/rows?"`) {
		t.Fatalf("first page: %d rows", rows(p.body))
	}
	older := regexp.MustCompile(`href="(/ui/deliveries\?[^"]*cursor=[^"]+)"`).FindStringSubmatch(p.body)
	p = want(t, c.get(html.UnescapeString(older[1])), 200)
	if rows(p.body) != 6 || strings.Contains(p.body, "data-live=") {
		t.Errorf("second page: %d rows, live %v", rows(p.body), strings.Contains(p.body, "data-live="))
	}
	for q, n := range map[string]int{"hook_id=b": 1, "hook_id=a": 50, "event_type=a.n1*": 11, "status=succeeded&hook_id=b": 0,
		"since=1h&event_type=b.*": 1, "until=2000-01-01T00:00": 0, "event_type=nothing": 0} {
		p := want(t, c.get("/ui/deliveries?"+q), 200)
		if rows(p.body) != n {
			t.Errorf("%s: %d rows, want %d", q, rows(p.body), n)
		}
		f := want(t, c.fragment("/ui/deliveries/rows?"+q), 200)
		if rows(f.body) != n || strings.Contains(f.body, "<html") {
			t.Errorf("rows of %s: %d, want %d", q, rows(f.body), n)
		}
	}
	if p := c.get("/ui/deliveries?since=yesterday"); p.status != 400 || !strings.Contains(p.body, "Since:") {
		t.Errorf("a bad time: %d", p.status)
	}
}

// A hook whose definition says enabled: false is off until its definition changes: the
// pages say so, offer no Enable button that could not work, and do not count it as
// needing attention.
func TestHookDefinedOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{config: `
hooks:
  - {id: parked, enabled: false, on: ["x.*"], http: {url: "https://x.example/"}}
`})
	c := e.signIn(adminToken)
	for _, path := range []string{"/ui/hooks", "/ui/hooks/parked"} {
		p := want(t, c.get(path), 200)
		if !strings.Contains(p.body, "off in its definition") || strings.Contains(p.body, "/ui/hooks/parked/enable") {
			t.Errorf("%s: %s", path, clipBody(p.body))
		}
	}
	if p := want(t, c.get("/"), 200); strings.Contains(p.body, `href="/ui/hooks/parked"`) {
		t.Errorf("the overview counts a hook off in its definition as needing attention")
	}
}
