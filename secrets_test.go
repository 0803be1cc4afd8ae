package hookpoint_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/deliver"
)

var testSecrets = map[string]string{
	"API_TOKEN": "tok-Very-Secret-7f3a9c",
	"PASSWORD":  "pw<&>\"Secret'/?#1",
	"URL_KEY":   "key Secret/+&=9",
}

const fileSecret = "file-Secret-e51b07"

// secretForms are the ways the secrets may show up in text.
func secretForms() []string {
	var out []string
	for _, s := range append(mapValues(testSecrets), fileSecret) {
		out = append(out, s, url.QueryEscape(s), url.PathEscape(s), base64.StdEncoding.EncodeToString([]byte(s)))
	}
	out = append(out, base64.StdEncoding.EncodeToString([]byte("ops:"+testSecrets["PASSWORD"])))
	return out
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// echo answers with everything it received, with status 500 so that the answer lands in
// the error, the excerpt and the journal.
func echo(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/redirect" {
		w.Header().Set("Location", "https://elsewhere.example/?k="+r.URL.Query().Get("k"))
		w.WriteHeader(http.StatusFound)
		_, _ = fmt.Fprintf(w, "moved: %s", r.URL.String())
		return
	}
	body, _ := io.ReadAll(r.Body)
	w.WriteHeader(500)
	_, _ = fmt.Fprintf(w, "%s %s\n%v\n%s", r.Method, r.URL.String(), r.Header, body)
}

func TestSecretsNeverRecorded(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, echo)
	j := newJSONJournal()
	clock := newFakeClock()
	eng := engine(t, fmt.Sprintf(`
hooks:
  - id: bearer
    order: 1
    on: ["*"]
    http:
      url: '%[1]s/p/{{ env "URL_KEY" }}?k={{ env "URL_KEY" }}'
      auth: {type: bearer, token: '{{ env "API_TOKEN" }}'}
      headers: {X-File: '{{ file "/run/secrets/x" }}'}
      body: {password: '{{ env "PASSWORD" }}', token: '{{ env "API_TOKEN" }}'}
  - id: basic
    order: 2
    on: ["*"]
    http:
      url: '%[1]s/basic'
      auth: {type: basic, username: ops, password: '{{ env "PASSWORD" }}'}
      body_type: xml
      body: '<p a="{{ env "PASSWORD" }}">{{ file "/run/secrets/x" }}</p>'
  - id: query-key
    order: 3
    on: ["*"]
    http:
      url: '%[1]s/q'
      auth: {type: api_key, query: k, token: '{{ env "URL_KEY" }}'}
      body_type: form
      body: 'p={{ env "PASSWORD" }}'
  - id: redirect
    order: 4
    on: ["*"]
    http: {url: '%[1]s/redirect?k={{ env "API_TOKEN" }}'}
  - id: b64
    order: 5
    on: ["*"]
    http:
      url: '%[1]s/b64'
      auth: {type: bearer, base64: true, token: '{{ file "/run/secrets/x" }}'}
  - id: exec-echo
    order: 6
    on: ["*"]
    exec:
      command: /bin/sh
      args: ["-c", 'echo "arg=$1 env=$TOKEN"; echo "$TOKEN" >&2; exit 1', "sh", '{{ env "PASSWORD" }}']
      env: {TOKEN: '{{ env "API_TOKEN" }}'}
  - id: exec-slow
    order: 7
    on: ["*"]
    exec:
      command: /bin/sh
      args: ["-c", 'echo "$0"; sleep 30', '{{ file "/run/secrets/x" }}']
      timeout: 300ms
  - id: async-echo
    order: 8
    on: ["*"]
    mode: async
    retry: {max_attempts: 2, schedule: [1s]}
    http:
      url: '%[1]s/async?k={{ env "URL_KEY" }}'
      auth: {type: bearer, token: '{{ env "API_TOKEN" }}'}
  - id: refused
    order: 9
    on: ["*"]
    http: {url: 'http://127.0.0.1:1/{{ env "API_TOKEN" }}', timeout: 2s}
`, rc.URL), hookpoint.Options{
		Recorder:  j,
		Now:       clock.Now,
		Sleep:     clock.Sleep,
		LookupEnv: func(k string) (string, bool) { v, ok := testSecrets[k]; return v, ok },
		ReadFile: func(p string) ([]byte, error) {
			if p == "/run/secrets/x" {
				return []byte(fileSecret + "\n"), nil
			}
			return nil, fmt.Errorf("no such file")
		},
	})
	out := fireOne(t, eng, func(e *hookpoint.Event) { e.Data["vm"] = "100" })
	rep := eng.Drain(context.Background())

	// The receiver really got the secrets: otherwise this test proves nothing.
	var got strings.Builder
	for _, q := range rc.requests() {
		fmt.Fprintf(&got, "%s %s %v %s\n", q.Path, q.RawQuery, q.Header, q.Body)
	}
	for _, s := range []string{"tok-Very-Secret-7f3a9c", fileSecret, url.QueryEscape(testSecrets["URL_KEY"])} {
		if !strings.Contains(got.String(), s) {
			t.Fatalf("the receiver did not get %q; the test is broken", s)
		}
	}
	for _, r := range out.Results {
		if r.Outcome == hookpoint.OutcomeOK {
			t.Errorf("%s succeeded; every hook here should fail so that errors and excerpts are recorded", r.HookID)
		}
	}
	if len(rep.Undelivered) != 1 {
		t.Fatalf("report %+v", rep)
	}

	results, _ := json.Marshal(out.Results)
	undelivered, _ := json.Marshal(rep.Undelivered)
	journal := j.buf.String()
	if !strings.Contains(journal, "****") {
		t.Errorf("nothing was masked in the journal; the echoes should have been:\n%s", journal)
	}
	for _, form := range secretForms() {
		for what, text := range map[string]string{"journal": journal, "results": string(results), "undelivered": string(undelivered)} {
			if strings.Contains(text, form) {
				t.Errorf("%s shows the secret %q:\n%s", what, form, text)
			}
		}
	}
}

func TestSecretCutAtExcerptEdge(t *testing.T) {
	t.Parallel()
	secret := testSecrets["API_TOKEN"]
	lookup := func(k string) (string, bool) { v, ok := testSecrets[k]; return v, ok }
	// The receiver or command echoes the token so that the excerpt limit falls inside it.
	for _, keep := range []int{4, len(secret) / 2, len(secret) - 1} {
		for _, after := range []int{100, 1 << 20} {
			rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
				tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
				w.WriteHeader(500)
				_, _ = w.Write([]byte(strings.Repeat(".", deliver.MaxExcerpt-keep) + tok + strings.Repeat(".", after)))
			})
			rec := &recorder{}
			eng := engine(t, fmt.Sprintf(`
hooks:
  - {id: h, order: 1, on: ["*"], http: {url: %q, auth: {type: bearer, token: '{{ env "API_TOKEN" }}'}}}
  - id: x
    order: 2
    on: ["*"]
    exec:
      command: /bin/sh
      args: ["-c", 'head -c %d /dev/zero | tr "\0" .; printf %%s "$T"; head -c %d /dev/zero | tr "\0" .']
      env: {T: '{{ env "API_TOKEN" }}'}
`, rc.URL, deliver.MaxExcerpt-keep, after), hookpoint.Options{Recorder: rec, LookupEnv: lookup})
			fireOne(t, eng)
			for _, r := range rec.all() {
				if !strings.HasPrefix(r.Response, "....") {
					t.Errorf("%s keep %d after %d: response %.40q...", r.HookID, keep, after, r.Response)
				}
				if strings.Contains(r.Response, secret[:keep]) {
					t.Errorf("%s keep %d after %d: the journal shows the first %d characters of the secret: ...%q", r.HookID, keep, after, keep, r.Response[max(0, len(r.Response)-40):])
				}
			}
		}
	}
}

// Text that comes back from outside holds secrets in parts and other encodings: a default
// 404 page echoes the request path, a JSON error escapes its slashes, a proxy lowers the
// hex of percent-escapes. Every such echo is masked in the journal and the results, and
// what hookpoint renders itself is masked exactly where secrets went: values computed
// from a secret in a template variable are masked, the values next to them are not.
func TestSecretsEchoedInPartsAreMasked(t *testing.T) {
	t.Parallel()
	const (
		pathToken  = "XyZsecretTOKEN123"
		queryToken = "q9W8e7R6t5"
		varSecret  = "var-Secret-42"
	)
	echoes := map[string]func(r *http.Request) string{
		"express-404": func(r *http.Request) string { return "Cannot POST " + r.URL.Path },
		"json-slashes": func(r *http.Request) string {
			return `{"error":"no route","path":"` + strings.ReplaceAll(r.URL.Path, "/", `\/`) + `"}`
		},
		"segment-only": func(r *http.Request) string {
			segs := strings.Split(r.URL.Path, "/")
			return "unknown webhook " + segs[len(segs)-1]
		},
		"query-value":   func(r *http.Request) string { return "bad token=" + r.URL.Query().Get("token") },
		"lower-percent": func(r *http.Request) string { return "raw query: " + strings.ToLower(r.URL.RawQuery) },
		"html":          func(r *http.Request) string { return "<p>" + html.EscapeString(r.URL.String()) + "</p>" },
		"base64": func(r *http.Request) string {
			return base64.StdEncoding.EncodeToString([]byte(r.URL.Query().Get("token")))
		},
		"upper-var": func(r *http.Request) string { return "header: " + r.Header.Get("X-Up") },
	}
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(404)
		var b strings.Builder
		for _, name := range []string{"express-404", "json-slashes", "segment-only", "query-value", "lower-percent", "html", "base64", "upper-var"} {
			fmt.Fprintf(&b, "%s: %s\n", name, echoes[name](r))
		}
		_, _ = w.Write([]byte(b.String()))
	})
	hookURL := rc.URL + "/services/T0A1B2C3/B4D5E6F7/" + pathToken + "?token=" + queryToken + "&k=" + url.QueryEscape("a/b c")
	secrets := map[string]string{"HOOK_URL": hookURL, "VAR": varSecret, "SHORT": "x"}
	rec := &recorder{}
	eng := engine(t, `
hooks:
  - id: slack
    on: ["*"]
    http:
      url: '{{ env "HOOK_URL" }}'
      headers:
        X-Up: '{{ $v := env "VAR" }}{{ upper $v }}-{{ printf "%x" $v }}-{{ slice $v 4 }}'
        X-Vm: '{{ $s := env "SHORT" }}{{ .data.vm }}'
`, hookpoint.Options{Recorder: rec, LookupEnv: func(k string) (string, bool) { v, ok := secrets[k]; return v, ok }})
	ev := hookpoint.NewEvent("backup.pre")
	ev.Data["vm"] = "executing-100"
	previews, errs := eng.Render(ev)
	if len(errs) != 1 || errs[0] != nil {
		t.Fatalf("render errors: %v", errs)
	}
	shown, _ := json.Marshal(previews)
	out := fireOne(t, eng, func(e *hookpoint.Event) { e.Data["vm"] = "executing-100" })

	reqs := rc.requests()
	if len(reqs) != 1 || !strings.Contains(reqs[0].Path, pathToken) || reqs[0].Header.Get("X-Vm") != "executing-100" {
		t.Fatalf("the receiver did not get the request as sent: %+v", reqs)
	}
	recs := rec.all()
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	results, _ := json.Marshal(out.Results)
	up := strings.ToUpper(varSecret)
	leaks := []string{pathToken, queryToken, up, fmt.Sprintf("%x", varSecret), varSecret[4:],
		base64.StdEncoding.EncodeToString([]byte(queryToken))}
	for what, text := range map[string]string{"journal response": recs[0].Response, "journal target": recs[0].Target,
		"journal error": recs[0].Error, "results": string(results), "render": string(shown)} {
		for _, leak := range leaks {
			if strings.Contains(text, leak) {
				t.Errorf("%s shows %q:\n%s", what, leak, text)
			}
		}
	}
	// Every echo reached the journal (so the masking above was tested), and values that
	// are not secret stay readable: the data value after a secret variable, and words
	// that contain a secret too short to mask.
	for _, name := range []string{"express-404", "json-slashes", "segment-only", "query-value", "lower-percent", "html", "base64", "upper-var"} {
		if !strings.Contains(recs[0].Response, name+": ") {
			t.Errorf("the journal response lacks the %s echo:\n%s", name, recs[0].Response)
		}
	}
	if !strings.Contains(string(shown), `"executing-100"`) {
		t.Errorf("render masked a value that is not secret:\n%s", shown)
	}
	if !strings.Contains(recs[0].Response, "Cannot POST /services/") {
		t.Errorf("ordinary path words were masked:\n%s", recs[0].Response)
	}
}
