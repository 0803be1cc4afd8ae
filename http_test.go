package hookpoint_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/deliver"
	"github.com/hookpoint/hookpoint/internal/version"
)

// fireOne fires one event of type backup.pre and fails the test on an error.
func fireOne(t *testing.T, eng *hookpoint.Engine, mutate ...func(*hookpoint.Event)) *hookpoint.Outcome {
	t.Helper()
	ev := hookpoint.NewEvent("backup.pre")
	for _, m := range mutate {
		m(ev)
	}
	out, err := eng.Fire(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDefaultHeadersAndBody(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	eng := engine(t, `hooks: [{id: notify, on: ["*"], http: {url: "`+rc.URL+`/hook"}}]`, hookpoint.Options{})
	var ev *hookpoint.Event
	out := fireOne(t, eng, func(e *hookpoint.Event) {
		ev = e
		e.Status = "success"
		e.Subject = "vm/100"
		e.Run.ID = "run_7"
		e.Data["vmid"] = "100"
		e.Data["size"] = 42
	})
	if out.Results[0].Outcome != hookpoint.OutcomeOK {
		t.Fatal(out.Results[0].Error)
	}
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	q := reqs[0]
	for k, v := range map[string]string{
		"User-Agent":           "hookpoint/" + version.Version,
		"X-Hookpoint-Event":    "backup.pre",
		"X-Hookpoint-Hook":     "notify",
		"X-Hookpoint-Delivery": out.Results[0].DeliveryID,
		"X-Hookpoint-Status":   "success",
		"Content-Type":         "application/json",
	} {
		if got := q.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if q.Method != "POST" || !strings.HasPrefix(out.Results[0].DeliveryID, "msg_") {
		t.Errorf("method %s delivery %q", q.Method, out.Results[0].DeliveryID)
	}
	var ce struct {
		SpecVersion, ID, Source, Type, Subject, Time, DataContentType, RunID string
		Data                                                                 map[string]any
	}
	if err := json.Unmarshal(q.Body, &ce); err != nil {
		t.Fatalf("default body: %v: %s", err, q.Body)
	}
	if ce.SpecVersion != "1.0" || ce.ID != ev.ID || ce.Type != "backup.pre" || ce.Source != "hookpoint" || ce.Subject != "vm/100" || ce.RunID != "run_7" || ce.DataContentType != "application/json" {
		t.Errorf("CloudEvents envelope: %+v", ce)
	}
	if tm, err := time.Parse(time.RFC3339Nano, ce.Time); err != nil || !tm.Equal(ev.Time) {
		t.Errorf("time %q", ce.Time)
	}
	if ce.Data["vmid"] != "100" || ce.Data["size"] != float64(42) {
		t.Errorf("data %v", ce.Data)
	}
}

func TestContentTypePerBodyType(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	eng := engine(t, fmt.Sprintf(`
hooks:
  - {id: j, order: 1, on: ["*"], http: {url: "%[1]s", body_type: json, body: '{"a": 1}'}}
  - {id: x, order: 2, on: ["*"], http: {url: "%[1]s", body_type: xml, body: '<a/>'}}
  - {id: t, order: 3, on: ["*"], http: {url: "%[1]s", body_type: text, body: 'hello'}}
  - {id: f, order: 4, on: ["*"], http: {url: "%[1]s", body_type: form, body: 'a=1'}}
  - {id: n, order: 5, on: ["*"], http: {url: "%[1]s", body_type: none}}
  - {id: g, order: 6, on: ["*"], http: {url: "%[1]s", method: GET}}
`, rc.URL), hookpoint.Options{})
	fireOne(t, eng)
	want := []struct{ method, ctype, body string }{
		{"POST", "application/json", `{"a": 1}`},
		{"POST", "application/xml; charset=utf-8", `<a/>`},
		{"POST", "text/plain; charset=utf-8", `hello`},
		{"POST", "application/x-www-form-urlencoded", `a=1`},
		{"POST", "", ``},
		{"GET", "", ``},
	}
	reqs := rc.requests()
	if len(reqs) != len(want) {
		t.Fatalf("%d requests", len(reqs))
	}
	for i, w := range want {
		q := reqs[i]
		if q.Method != w.method || q.Header.Get("Content-Type") != w.ctype || string(q.Body) != w.body {
			t.Errorf("%s: %s %q %q, want %s %q %q", q.Header.Get("X-Hookpoint-Hook"), q.Method, q.Header.Get("Content-Type"), q.Body, w.method, w.ctype, w.body)
		}
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	env := map[string]string{"USER": "backup-op", "PASS": "p@ss:word/1", "TOKEN": "tok_abc.DEF-123"}
	eng := engine(t, fmt.Sprintf(`
hooks:
  - {id: none, order: 1, on: ["*"], http: {url: "%[1]s/none", auth: {type: none}}}
  - {id: basic, order: 2, on: ["*"], http: {url: "%[1]s/basic", auth: {type: basic, username: '{{ env "USER" }}', password: '{{ env "PASS" }}'}}}
  - {id: bearer, order: 3, on: ["*"], http: {url: "%[1]s/bearer", auth: {type: bearer, token: '{{ env "TOKEN" }}'}}}
  - {id: bearer64, order: 4, on: ["*"], http: {url: "%[1]s/bearer64", auth: {type: bearer, token: '{{ env "TOKEN" }}', base64: true}}}
  - {id: keyheader, order: 5, on: ["*"], http: {url: "%[1]s/keyheader", auth: {type: api_key, header: X-API-Key, token: '{{ env "TOKEN" }}'}}}
  - {id: keyquery, order: 6, on: ["*"], http: {url: "%[1]s/keyquery?vm={{ .data.vm }}", auth: {type: api_key, query: api_key, token: '{{ env "PASS" }}'}}}
  - {id: urlcreds, order: 7, on: ["*"], http: {url: "%[2]s/urlcreds"}}
`, rc.URL, "http://ops:literal-pw@"+strings.TrimPrefix(rc.URL, "http://")), hookpoint.Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	out := fireOne(t, eng, func(e *hookpoint.Event) { e.Data["vm"] = "a&b" })
	for _, r := range out.Results {
		if r.Outcome != hookpoint.OutcomeOK {
			t.Fatalf("%s: %s %s", r.HookID, r.Outcome, r.Error)
		}
	}
	reqs := rc.requests()
	byHook := map[string]request{}
	for _, q := range reqs {
		byHook[q.Header.Get("X-Hookpoint-Hook")] = q
	}
	if a := byHook["none"].Header.Get("Authorization"); a != "" {
		t.Errorf("none: Authorization %q", a)
	}
	hr := &http.Request{Header: byHook["basic"].Header}
	if u, p, ok := hr.BasicAuth(); !ok || u != "backup-op" || p != "p@ss:word/1" {
		t.Errorf("basic: %q %q %v", u, p, ok)
	}
	if a := byHook["bearer"].Header.Get("Authorization"); a != "Bearer tok_abc.DEF-123" {
		t.Errorf("bearer: %q", a)
	}
	if a := byHook["bearer64"].Header.Get("Authorization"); a != "Bearer "+base64.StdEncoding.EncodeToString([]byte("tok_abc.DEF-123")) {
		t.Errorf("bearer base64: %q", a)
	}
	if k := byHook["keyheader"].Header.Get("X-Api-Key"); k != "tok_abc.DEF-123" || byHook["keyheader"].Header.Get("Authorization") != "" {
		t.Errorf("api_key header: %q", k)
	}
	qv, err := url.ParseQuery(byHook["keyquery"].RawQuery)
	if err != nil || qv.Get("api_key") != "p@ss:word/1" || qv.Get("vm") != "a&b" || len(qv) != 2 {
		t.Errorf("api_key query: %q %v", byHook["keyquery"].RawQuery, err)
	}
	hr = &http.Request{Header: byHook["urlcreds"].Header}
	if u, p, ok := hr.BasicAuth(); !ok || u != "ops" || p != "literal-pw" {
		t.Errorf("credentials in the URL: %q %q %v", u, p, ok)
	}
	// The secrets reached the receiver but not the results.
	b, _ := json.Marshal(out.Results)
	for _, s := range []string{"p@ss:word/1", url.QueryEscape("p@ss:word/1"), "tok_abc.DEF-123", "literal-pw"} {
		if strings.Contains(string(b), s) {
			t.Errorf("results show the secret %q: %s", s, b)
		}
	}
}

func TestHeaderInjectionFailsBeforeSending(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	rec := &recorder{}
	eng := engine(t, fmt.Sprintf(`
hooks:
  - {id: inject, on: ["*"], http: {url: %q, headers: {X-Vm-Name: "vm {{ .data.name }}"}}}
`, rc.URL), hookpoint.Options{Recorder: rec})
	for _, v := range []string{"web\r\nX-Injected: yes", "web\nX-Injected: yes", "web\rX-Injected: yes", "web\r\n\r\nGET /smuggled HTTP/1.1"} {
		out := fireOne(t, eng, func(e *hookpoint.Event) { e.Gate = true; e.Data["name"] = v })
		r := out.Results[0]
		if r.Outcome != hookpoint.OutcomeFailed || !strings.Contains(r.Error, "render") || out.Verdict != hookpoint.Abort {
			t.Errorf("%q: outcome %s verdict %s error %q", v, r.Outcome, out.Verdict, r.Error)
		}
		if !strings.Contains(r.Error, "X-Vm-Name") && !strings.Contains(r.Error, "headers") {
			t.Errorf("%q: error %q does not name the header", v, r.Error)
		}
	}
	if n := len(rc.requests()); n != 0 {
		t.Errorf("the receiver got %d requests, want none", n)
	}
	if n := len(rec.all()); n != 4 {
		t.Errorf("%d records, want 4 (a failed render is still an execution)", n)
	}
}

// hostile are event values that must reach a receiver unchanged.
var hostile = []string{
	`quote " apostrophe ' backslash \ slash /`,
	`<tag attr="x">&amp;</tag> ]]> <!-- -->`,
	"line\nbreak\r\nand\ttab",
	`{"json":"inside"} ", "x": "y`,
	`a=b&c=d+e%20f?g#h`,
	`../../etc/passwd`,
	"non-ASCII: é 日本 🎉",
	`{{ .data.other }} %CV4PVE_AUTOSNAP_VMID%`,
	`$(touch /tmp/x) ; rm -rf / ` + "`id`",
	"",
}

func TestHostileValuesArriveIntact(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	eng := engine(t, fmt.Sprintf(`
hooks:
  - id: url
    order: 1
    on: ["*"]
    http: {url: "%[1]s/p/{{ .data.v }}/end?q={{ .data.v }}&fixed=1#{{ .data.v }}", method: GET}
  - id: json-template
    order: 2
    on: ["*"]
    http:
      url: "%[1]s/json"
      body_type: json
      body: '{"s": "{{ .data.v }}", "raw": {{ .data.v }}, "list": [{{ .data.v }}, "x{{ .data.v }}y"]}'
  - id: json-tree
    order: 3
    on: ["*"]
    http:
      url: "%[1]s/tree"
      body: {s: "{{ .data.v }}", nested: {l: ["{{ .data.v }}", 1, true]}, mix: "<{{ .data.v }}>"}
  - id: xml
    order: 4
    on: ["*"]
    http:
      url: "%[1]s/xml"
      body_type: xml
      body: '<event a="{{ .data.v }}" b=''{{ .data.v }}''><v>{{ .data.v }}</v></event>'
  - id: form
    order: 5
    on: ["*"]
    http:
      url: "%[1]s/form"
      body_type: form
      body: 'v={{ .data.v }}&w=x{{ .data.v }}'
  - id: form-tree
    order: 6
    on: ["*"]
    http:
      url: "%[1]s/formtree"
      body_type: form
      body: {v: "{{ .data.v }}"}
  - id: text
    order: 7
    on: ["*"]
    http:
      url: "%[1]s/text"
      body_type: text
      body: 'v={{ .data.v }}'
  - id: header
    order: 8
    on: ["*"]
    http:
      url: "%[1]s/header"
      method: GET
      headers: {X-Value: '{{ .data.v | replace "\r" "" | replace "\n" "" }}'}
`, rc.URL), hookpoint.Options{})

	for _, v := range hostile {
		before := len(rc.requests())
		out := fireOne(t, eng, func(e *hookpoint.Event) { e.Data["v"] = v; e.Data["other"] = "SHOULD-NOT-APPEAR" })
		// A value that a receiver decoding "%2F" would resolve as ".." cannot be a path
		// segment: that hook fails before sending, the others go out.
		dots := slices.ContainsFunc(strings.FieldsFunc(v, func(r rune) bool { return r == '/' || r == '\\' }),
			func(p string) bool { return p == "." || p == ".." })
		for _, r := range out.Results {
			if dots && r.HookID == "url" {
				if r.Outcome != hookpoint.OutcomeFailed || !strings.Contains(r.Error, "path segment") {
					t.Errorf("%q: the url hook was not refused: %s %s", v, r.Outcome, r.Error)
				}
				continue
			}
			if r.Outcome != hookpoint.OutcomeOK {
				t.Errorf("%q: %s: %s %s", v, r.HookID, r.Outcome, r.Error)
			}
		}
		reqs := rc.requests()[before:]
		if dots {
			reqs = append([]request{{}}, reqs...) // the url hook sent nothing
		}
		if len(reqs) != 8 {
			t.Fatalf("%q: %d requests", v, len(reqs))
		}
		check := func(hook, what, got string) {
			t.Helper()
			if got != v {
				t.Errorf("%q: %s: %s arrived as %q", v, hook, what, got)
			}
		}

		// URL: path segment, query and nothing leaked into other parts.
		if !dots {
			q := reqs[0]
			seg := strings.TrimSuffix(strings.TrimPrefix(q.Path, "/p/"), "/end")
			if strings.Contains(seg, "/") {
				t.Errorf("%q: the value added path segments: %s", v, q.Path)
			}
			dec, err := url.PathUnescape(seg)
			if err != nil {
				t.Errorf("%q: path %v", v, err)
			}
			check("url", "path segment", dec)
			qv, err := url.ParseQuery(q.RawQuery)
			if err != nil {
				t.Errorf("%q: query %v", v, err)
			}
			check("url", "query", qv.Get("q"))
			if qv.Get("fixed") != "1" || len(qv) != 2 {
				t.Errorf("%q: the value changed the query's shape: %q", v, q.RawQuery)
			}
		}

		// JSON template.
		var js struct {
			S    string
			Raw  any
			List []string
		}
		if err := json.Unmarshal(reqs[1].Body, &js); err != nil {
			t.Errorf("%q: json body %v: %s", v, err, reqs[1].Body)
		}
		check("json-template", "string", js.S)
		check("json-template", "bare value", fmt.Sprint(js.Raw))
		if len(js.List) != 2 || js.List[0] != v || js.List[1] != "x"+v+"y" {
			t.Errorf("%q: list %q", v, js.List)
		}

		// JSON tree.
		var tree struct {
			S      string
			Nested struct{ L []any }
			Mix    string
		}
		if err := json.Unmarshal(reqs[2].Body, &tree); err != nil {
			t.Errorf("%q: tree body %v", v, err)
		}
		check("json-tree", "string", tree.S)
		if len(tree.Nested.L) != 3 || tree.Nested.L[0] != v || tree.Nested.L[1] != float64(1) || tree.Nested.L[2] != true || tree.Mix != "<"+v+">" {
			t.Errorf("%q: tree %+v", v, tree)
		}

		// XML.
		var x struct {
			A string `xml:"a,attr"`
			B string `xml:"b,attr"`
			V string `xml:"v"`
		}
		if err := xml.Unmarshal(reqs[3].Body, &x); err != nil {
			t.Errorf("%q: xml %v: %s", v, err, reqs[3].Body)
		}
		check("xml", "attribute", x.A)
		check("xml", "single-quoted attribute", x.B)
		check("xml", "text", x.V)

		// Forms.
		fv, err := url.ParseQuery(string(reqs[4].Body))
		if err != nil {
			t.Errorf("%q: form %v", v, err)
		}
		check("form", "field", fv.Get("v"))
		if fv.Get("w") != "x"+v || len(fv) != 2 {
			t.Errorf("%q: form shape %q", v, reqs[4].Body)
		}
		fv, _ = url.ParseQuery(string(reqs[5].Body))
		check("form-tree", "field", fv.Get("v"))

		// Text is sent as it is.
		check("text", "body", strings.TrimPrefix(string(reqs[6].Body), "v="))

		// A header gets the value minus what the template stripped, and nothing more.
		if got, want := reqs[7].Header.Get("X-Value"), strings.TrimSpace(strings.NewReplacer("\r", "", "\n", "").Replace(v)); got != want {
			t.Errorf("%q: header %q, want %q", v, got, want)
		}
		for _, r := range reqs {
			if strings.Contains(string(r.Body)+r.RawQuery+r.Path, "SHOULD-NOT-APPEAR") {
				t.Errorf("%q: a template in a value was executed: %s", v, r.Body)
			}
		}
	}
}

func TestHTTPFailures(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	big := strings.Repeat("x", 1<<20)
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			w.Header().Set("Location", "https://elsewhere.example/next")
			w.WriteHeader(http.StatusFound)
		case "/moved":
			http.Redirect(w, r, "/target", http.StatusPermanentRedirect)
		case "/target":
			_, _ = w.Write([]byte("should never be reached"))
		case "/400":
			w.WriteHeader(400)
		case "/404":
			w.WriteHeader(404)
		case "/500":
			w.WriteHeader(500)
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-release:
			}
		case "/big":
			_, _ = w.Write([]byte(big))
		case "/big-fail":
			w.WriteHeader(500)
			_, _ = w.Write([]byte(big))
		}
	})
	defer close(release)
	j := newJSONJournal()
	eng := engine(t, fmt.Sprintf(`
hooks:
  - {id: redirect, order: 1, on: ["*"], http: {url: "%[1]s/redirect"}}
  - {id: moved, order: 2, on: ["*"], http: {url: "%[1]s/moved"}}
  - {id: s400, order: 3, on: ["*"], http: {url: "%[1]s/400"}}
  - {id: s404, order: 4, on: ["*"], http: {url: "%[1]s/404"}}
  - {id: s500, order: 5, on: ["*"], http: {url: "%[1]s/500"}}
  - {id: expected-404, order: 6, on: ["*"], http: {url: "%[1]s/404", expect: [200, 404]}}
  - {id: unexpected-200, order: 7, on: ["*"], http: {url: "%[1]s/big", expect: 201}}
  - {id: slow, order: 8, on: ["*"], http: {url: "%[1]s/slow", timeout: 250ms}}
  - {id: big, order: 9, on: ["*"], http: {url: "%[1]s/big"}}
  - {id: big-fail, order: 10, on: ["*"], http: {url: "%[1]s/big-fail"}}
`, rc.URL), hookpoint.Options{Recorder: j})
	out := fireOne(t, eng) // not a gate: failures warn and everything runs
	want := "redirect:failed,moved:failed,s400:failed,s404:failed,s500:failed,expected-404:ok,unexpected-200:failed,slow:timeout,big:ok,big-fail:failed"
	if got := ids(out.Results); got != want {
		t.Fatalf("results\n%s\nwant\n%s", got, want)
	}
	if out.Verdict != hookpoint.Proceed || !out.Warned() {
		t.Errorf("verdict %s warned %v", out.Verdict, out.Warned())
	}
	for _, q := range rc.requests() {
		if q.Path == "/target" {
			t.Error("a redirect was followed")
		}
	}
	lines := j.lines(t)
	if len(lines) != 10 {
		t.Fatalf("%d journal lines", len(lines))
	}
	byHook := map[string]map[string]any{}
	for _, l := range lines {
		byHook[l["hook_id"].(string)] = l
	}
	if l := byHook["redirect"]; l["status"] != float64(302) || !strings.Contains(l["error"].(string), "https://elsewhere.example/next") {
		t.Errorf("redirect record: %v", l)
	}
	if l := byHook["moved"]; l["status"] != float64(308) || !strings.Contains(l["error"].(string), "/target") {
		t.Errorf("moved record: %v", l)
	}
	for hook, code := range map[string]int{"s400": 400, "s404": 404, "s500": 500, "expected-404": 404, "unexpected-200": 200} {
		if l := byHook[hook]; l["status"] != float64(code) {
			t.Errorf("%s: status %v", hook, l["status"])
		}
	}
	if l := byHook["slow"]; l["outcome"] != "timeout" || l["status"] != nil || !strings.Contains(l["error"].(string), "250ms") {
		t.Errorf("slow record: %v", l)
	}
	for _, hook := range []string{"big", "big-fail", "unexpected-200"} {
		resp, _ := byHook[hook]["response"].(string)
		if len(resp) > deliver.MaxExcerpt+64 || !strings.HasPrefix(resp, "xxxx") || !strings.HasSuffix(resp, "(truncated)") {
			t.Errorf("%s: response excerpt of %d bytes, want at most %d and marked truncated", hook, len(resp), deliver.MaxExcerpt+64)
		}
	}
}

func writeCertPEM(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := writeCertPEM(t, srv)
	eng := engine(t, fmt.Sprintf(`
hooks:
  - {id: with-ca, order: 1, on: ["*"], http: {url: "%[1]s/", tls: {ca_file: %[2]q}}}
  - {id: without-ca, order: 2, on: ["*"], http: {url: "%[1]s/"}}
  - {id: insecure, order: 3, on: ["*"], http: {url: "%[1]s/", tls: {insecure_skip_verify: true}}}
`, srv.URL, ca), hookpoint.Options{})
	out := fireOne(t, eng)
	if got := ids(out.Results); got != "with-ca:ok,without-ca:failed,insecure:ok" {
		t.Errorf("results %s", got)
	}
	if e := out.Results[1].Error; !strings.Contains(e, "certificate") {
		t.Errorf("without ca_file: error %q does not say why", e)
	}
	if out.Results[0].Status != 204 {
		t.Errorf("status %d", out.Results[0].Status)
	}
}

// verifySignature checks a Standard Webhooks request with the test's own HMAC.
func verifySignature(t *testing.T, q request, secrets ...string) {
	t.Helper()
	id, ts := q.Header.Get("webhook-id"), q.Header.Get("webhook-timestamp")
	var want []string
	for _, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil {
			t.Fatal(err)
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(id + "." + ts + "." + string(q.Body)))
		want = append(want, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	if got := q.Header.Get("webhook-signature"); got != strings.Join(want, " ") {
		t.Errorf("webhook-signature %q, want %q", got, strings.Join(want, " "))
	}
}

func TestSigning(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	s1 := "whsec_" + base64.StdEncoding.EncodeToString([]byte("current-signing-key-32-bytes...."))
	s2 := "whsec_" + base64.StdEncoding.EncodeToString([]byte("previous-signing-key-for-rotation"))
	now := time.Unix(1_750_000_000, 0)
	eng := engine(t, fmt.Sprintf(`
hooks:
  - {id: one, order: 1, on: ["*"], http: {url: "%[1]s", body: {vm: "{{ .data.vm }}"}, sign: {secret: '{{ env "WHSEC" }}'}}}
  - {id: two, order: 2, on: ["*"], http: {url: "%[1]s", sign: {secret: ['{{ env "WHSEC" }}', '{{ file "/run/old-whsec" }}']}}}
  - {id: unsigned, order: 3, on: ["*"], http: {url: "%[1]s"}}
`, rc.URL), hookpoint.Options{
		Now:       func() time.Time { return now },
		LookupEnv: func(k string) (string, bool) { return s1, k == "WHSEC" },
		ReadFile:  func(string) ([]byte, error) { return []byte(s2 + "\n"), nil },
	})
	out := fireOne(t, eng, func(e *hookpoint.Event) { e.Data["vm"] = `"100" <&>` })
	reqs := rc.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests", len(reqs))
	}
	for i, q := range reqs[:2] {
		if id := q.Header.Get("webhook-id"); id == "" || id != q.Header.Get("X-Hookpoint-Delivery") || id != out.Results[i].DeliveryID {
			t.Errorf("%d: webhook-id %q, X-Hookpoint-Delivery %q, result %q", i, id, q.Header.Get("X-Hookpoint-Delivery"), out.Results[i].DeliveryID)
		}
		if ts := q.Header.Get("webhook-timestamp"); ts != "1750000000" {
			t.Errorf("%d: webhook-timestamp %q", i, ts)
		}
	}
	verifySignature(t, reqs[0], s1)
	verifySignature(t, reqs[1], s1, s2)
	if reqs[0].Header.Get("webhook-id") == reqs[1].Header.Get("webhook-id") {
		t.Error("two deliveries share a webhook-id")
	}
	if h := reqs[2].Header; h.Get("webhook-id") != "" || h.Get("webhook-signature") != "" {
		t.Error("an unsigned hook sent signature headers")
	}
}
