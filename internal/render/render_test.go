package render_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/render"
	"github.com/hookpoint/hookpoint/internal/version"
)

// hook parses a config holding one hook and returns it.
func hook(t *testing.T, yaml string) *config.Hook {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte("hooks:\n"+yaml))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	if len(cfg.Hooks) != 1 {
		t.Fatalf("want one hook, got %d", len(cfg.Hooks))
	}
	return cfg.Hooks[0]
}

func testEvent() *event.Event {
	ev := event.New("backup.pre")
	ev.Status = "success"
	ev.Run = event.Run{ID: "run_42", Job: "nightly", Kind: "backup"}
	ev.Data["vmid"] = "100"
	ev.Data["name"] = "db \"primary\" <&>"
	return ev
}

var secrets = map[string]string{
	"TOKEN": "tok-SECRET-1",
	"PASS":  "pw-SECRET-2",
	"KEY":   "key SECRET/3&",
}

func lookupEnv(name string) (string, bool) { v, ok := secrets[name]; return v, ok }

func opts() render.Options {
	return render.Options{
		LookupEnv: lookupEnv,
		ReadFile: func(string) ([]byte, error) {
			return []byte("whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123")) + "\n"), nil
		},
		Environ: []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent", "HOOKPOINT_HOOK=inherited-must-be-replaced"},
	}
}

func TestHTTPDefaults(t *testing.T) {
	t.Parallel()
	h := hook(t, `  - {id: ping, on: ["*"], http: {url: "https://example.test/x"}}`)
	ev := testEvent()
	r, err := render.Hook(h, ev, "msg_1", opts())
	if err != nil {
		t.Fatal(err)
	}
	q := r.HTTP
	if q == nil || r.Exec != nil {
		t.Fatal("want an HTTP request only")
	}
	if q.Method != "POST" || q.URL != "https://example.test/x" || q.Timeout != config.DefaultHTTPTimeout {
		t.Errorf("method %s url %s timeout %s", q.Method, q.URL, q.Timeout)
	}
	want := map[string]string{
		"User-Agent":           "hookpoint/" + version.Version,
		"X-Hookpoint-Event":    "backup.pre",
		"X-Hookpoint-Event-Id": ev.ID,
		"X-Hookpoint-Hook":     "ping",
		"X-Hookpoint-Delivery": "msg_1",
		"X-Hookpoint-Status":   "success",
		"X-Hookpoint-Run":      "run_42",
		"Content-Type":         "application/json",
	}
	for k, v := range want {
		if got := q.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	var ce map[string]any
	if err := json.Unmarshal(q.Body, &ce); err != nil {
		t.Fatalf("default body is not JSON: %v: %s", err, q.Body)
	}
	if ce["specversion"] != "1.0" || ce["id"] != ev.ID || ce["type"] != "backup.pre" || ce["source"] != "hookpoint" || ce["runid"] != "run_42" {
		t.Errorf("default body is not the CloudEvents envelope of the event: %s", q.Body)
	}
	if d, _ := ce["data"].(map[string]any); d["name"] != "db \"primary\" <&>" {
		t.Errorf("data not carried: %s", q.Body)
	}
	if r.Target() != "POST https://example.test/x" {
		t.Errorf("Target = %q", r.Target())
	}
}

func TestHTTPBodyTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml, ctype string
		body              string
	}{
		{"get has no body", `{id: h, on: ["*"], http: {url: "https://x.test/", method: GET}}`, "", ""},
		{"delete has no body", `{id: h, on: ["*"], http: {url: "https://x.test/", method: delete}}`, "", ""},
		{"none", `{id: h, on: ["*"], http: {url: "https://x.test/", body_type: none}}`, "", ""},
		{"json template", `{id: h, on: ["*"], http: {url: "https://x.test/", body_type: json, body: '{"vm": "{{ .data.vmid }}"}'}}`, "application/json", `{"vm": "100"}`},
		{"json tree", `{id: h, on: ["*"], http: {url: "https://x.test/", body: {vm: "{{ .data.vmid }}", n: 1}}}`, "application/json", `{"n":1,"vm":"100"}`},
		{"xml", `{id: h, on: ["*"], http: {url: "https://x.test/", body_type: xml, body: '<vm id="{{ .data.vmid }}"/>'}}`, "application/xml; charset=utf-8", `<vm id="100"/>`},
		{"text", `{id: h, on: ["*"], http: {url: "https://x.test/", method: PUT, body_type: text, body: 'vm {{ .data.vmid }}'}}`, "text/plain; charset=utf-8", `vm 100`},
		{"form", `{id: h, on: ["*"], http: {url: "https://x.test/", body_type: form, body: {vm: "{{ .data.vmid }}"}}}`, "application/x-www-form-urlencoded", `vm=100`},
		{"header overrides content type", `{id: h, on: ["*"], http: {url: "https://x.test/", body_type: text, body: x, headers: {content-type: application/vnd.x}}}`, "application/vnd.x", `x`},
	}
	for _, tt := range tests {
		r, err := render.Hook(hook(t, "  - "+tt.yaml), testEvent(), "msg_1", opts())
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := r.HTTP.Header.Get("Content-Type"); got != tt.ctype {
			t.Errorf("%s: Content-Type %q, want %q", tt.name, got, tt.ctype)
		}
		if string(r.HTTP.Body) != tt.body {
			t.Errorf("%s: body %q, want %q", tt.name, r.HTTP.Body, tt.body)
		}
		if tt.body == "" && r.HTTP.Body != nil {
			t.Errorf("%s: body should be nil, is %q", tt.name, r.HTTP.Body)
		}
	}
}

func TestHTTPAuth(t *testing.T) {
	t.Parallel()
	basic := base64.StdEncoding.EncodeToString([]byte("ops:pw-SECRET-2"))
	tests := []struct {
		name, yaml       string
		header, want     string
		wantURL          string
		mustNotBeVisible []string
	}{
		{"none", `auth: {type: none}`, "Authorization", "", "https://x.test/p?a=1", nil},
		{"basic", `auth: {type: basic, username: ops, password: '{{ env "PASS" }}'}`, "Authorization", "Basic " + basic, "https://x.test/p?a=1", []string{"pw-SECRET-2", basic}},
		{"bearer", `auth: {type: bearer, token: '{{ env "TOKEN" }}'}`, "Authorization", "Bearer tok-SECRET-1", "https://x.test/p?a=1", []string{"tok-SECRET-1"}},
		{"bearer base64", `auth: {type: bearer, token: '{{ env "TOKEN" }}', base64: true}`, "Authorization", "Bearer " + base64.StdEncoding.EncodeToString([]byte("tok-SECRET-1")), "https://x.test/p?a=1", []string{"tok-SECRET-1", base64.StdEncoding.EncodeToString([]byte("tok-SECRET-1"))}},
		{"api key header", `auth: {type: api_key, header: X-Api-Key, token: '{{ env "TOKEN" }}'}`, "X-Api-Key", "tok-SECRET-1", "https://x.test/p?a=1", []string{"tok-SECRET-1"}},
		{"api key query", `auth: {type: api_key, query: api_key, token: '{{ env "KEY" }}'}`, "Authorization", "", "https://x.test/p?a=1&api_key=" + url.QueryEscape("key SECRET/3&"), []string{"key SECRET/3&", url.QueryEscape("key SECRET/3&")}},
	}
	for _, tt := range tests {
		h := hook(t, `  - {id: h, on: ["*"], http: {url: "https://x.test/p?a=1", `+tt.yaml+`}}`)
		r, err := render.Hook(h, testEvent(), "msg_1", opts())
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := r.HTTP.Header.Get(tt.header); got != tt.want {
			t.Errorf("%s: %s = %q, want %q", tt.name, tt.header, got, tt.want)
		}
		if r.HTTP.URL != tt.wantURL {
			t.Errorf("%s: URL = %q, want %q", tt.name, r.HTTP.URL, tt.wantURL)
		}
		p := r.Preview(time.Now())
		shown, _ := json.Marshal(p)
		for _, s := range append(tt.mustNotBeVisible, "SECRET") {
			if tt.mustNotBeVisible != nil && strings.Contains(string(shown)+r.Target(), s) {
				t.Errorf("%s: %q visible in preview or target: %s %s", tt.name, s, shown, r.Target())
			}
		}
	}
}

func TestAPIKeyQueryKeepsFragment(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"https://x.test/p#frag", "https://x.test/p?k=tok-SECRET-1#frag"},
		{"https://x.test/p?a=1#frag", "https://x.test/p?a=1&k=tok-SECRET-1#frag"},
		{"https://x.test/p", "https://x.test/p?k=tok-SECRET-1"},
	} {
		h := hook(t, `  - {id: h, on: ["*"], http: {url: "`+tt.in+`", auth: {type: api_key, query: k, token: '{{ env "TOKEN" }}'}}}`)
		r, err := render.Hook(h, testEvent(), "msg_1", opts())
		if err != nil {
			t.Fatal(err)
		}
		if r.HTTP.URL != tt.want {
			t.Errorf("%s -> %s, want %s", tt.in, r.HTTP.URL, tt.want)
		}
	}
}

func TestHeaderInjectionRefused(t *testing.T) {
	t.Parallel()
	h := hook(t, `  - {id: h, on: ["*"], http: {url: "https://x.test/", headers: {X-Vm: "{{ .data.vm }}"}}}`)
	for _, v := range []string{"a\r\nX-Injected: 1", "a\nb", "a\rb", "a\x00b"} {
		ev := testEvent()
		ev.Data["vm"] = v
		r, err := render.Hook(h, ev, "msg_1", opts())
		if err == nil {
			t.Errorf("%q: rendered header %q, want an error", v, r.HTTP.Header.Get("X-Vm"))
		}
	}
	ev := testEvent()
	ev.Data["vm"] = "tab\tand ünïcode"
	r, err := render.Hook(h, ev, "msg_1", opts())
	if err != nil || r.HTTP.Header.Get("X-Vm") != "tab\tand ünïcode" {
		t.Errorf("a harmless value was refused or changed: %v", err)
	}
}

func TestSigningKeysAndMaskedErrors(t *testing.T) {
	t.Parallel()
	h := hook(t, `  - {id: h, on: ["*"], http: {url: "https://x.test/", sign: {secret: ['{{ file "/etc/whsec" }}', 'whsec_`+base64.StdEncoding.EncodeToString([]byte("fedcba9876543210"))+`']}}}`)
	r, err := render.Hook(h, testEvent(), "msg_1", opts())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.HTTP.SigningKeys) != 2 || string(r.HTTP.SigningKeys[0]) != "0123456789abcdef0123" || string(r.HTTP.SigningKeys[1]) != "fedcba9876543210" {
		t.Errorf("signing keys %q", r.HTTP.SigningKeys)
	}
	p := r.Preview(time.Unix(1700000000, 0))
	var sig, id string
	for _, kv := range p.Headers {
		switch kv[0] {
		case "Webhook-Signature":
			sig = kv[1]
		case "Webhook-Id":
			id = kv[1]
		}
	}
	if id != "msg_1" || len(strings.Fields(sig)) != 2 {
		t.Errorf("preview webhook-id %q signature %q", id, sig)
	}

	// A secret that is not a signing key must not be echoed in the error.
	bad := hook(t, `  - {id: h, on: ["*"], http: {url: "https://x.test/", sign: {secret: '{{ env "TOKEN" }}'}}}`)
	if _, err := render.Hook(bad, testEvent(), "msg_1", opts()); err == nil || strings.Contains(err.Error(), "tok-SECRET-1") {
		t.Errorf("bad signing secret: err = %v", err)
	}
	// A missing secret is an error that names it.
	missing := hook(t, `  - {id: h, on: ["*"], http: {url: "https://x.test/", auth: {type: bearer, token: '{{ env "NOPE" }}'}}}`)
	if _, err := render.Hook(missing, testEvent(), "msg_1", opts()); err == nil || !strings.Contains(err.Error(), "NOPE") {
		t.Errorf("missing secret: err = %v", err)
	}
}

func TestSecretInURLMasked(t *testing.T) {
	t.Parallel()
	h := hook(t, `  - {id: h, on: ["*"], http: {url: 'https://x.test/{{ env "TOKEN" }}/ping?k={{ env "KEY" }}'}}`)
	r, err := render.Hook(h, testEvent(), "msg_1", opts())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.HTTP.URL, "tok-SECRET-1") {
		t.Fatalf("the real URL must carry the secret: %s", r.HTTP.URL)
	}
	if strings.Contains(r.Target(), "SECRET") {
		t.Errorf("Target leaks a secret: %s", r.Target())
	}
	if p := r.Preview(time.Now()); strings.Contains(p.URL, "SECRET") {
		t.Errorf("Preview URL leaks a secret: %s", p.URL)
	}
}

func TestCommand(t *testing.T) {
	t.Parallel()
	h := hook(t, `  - id: dump
    on: ["*"]
    exec:
      command: /usr/local/bin/dump
      args: ["--vm", "{{ .data.vmid }}", "{{ .data.name }}", '{{ env "TOKEN" }}']
      env: {DUMP_MODE: "full-{{ .data.vmid }}", PATH: /opt/bin}
      stdin: json
      workdir: /tmp
`)
	ev := testEvent()
	ev.Data["vm-name"] = "x"
	ev.SourceEnv = map[string]string{"CV4PVE_AUTOSNAP_VMID": "100"}
	r, err := render.Hook(h, ev, "msg_1", opts())
	if err != nil {
		t.Fatal(err)
	}
	c := r.Exec
	wantArgv := []string{"/usr/local/bin/dump", "--vm", "100", "db \"primary\" <&>", "tok-SECRET-1"}
	if !slices.Equal(c.Argv, wantArgv) {
		t.Errorf("argv %q, want %q", c.Argv, wantArgv)
	}
	if c.Dir != "/tmp" || c.Timeout != config.DefaultExecTimeout {
		t.Errorf("dir %q timeout %s", c.Dir, c.Timeout)
	}
	env := map[string]string{}
	for _, kv := range c.Env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := env[k]; dup {
			t.Errorf("variable %s set twice", k)
		}
		env[k] = v
	}
	for k, v := range map[string]string{
		"HOOKPOINT_EVENT": "backup.pre", "HOOKPOINT_STATUS": "success", "HOOKPOINT_RUN_ID": "run_42",
		"HOOKPOINT_HOOK": "dump", "HOOKPOINT_DATA_VMID": "100", "HOOKPOINT_DATA_VM_NAME": "x",
		"HOOKPOINT_DATA_NAME": "db \"primary\" <&>", "CV4PVE_AUTOSNAP_VMID": "100",
		"DUMP_MODE": "full-100", "PATH": "/opt/bin", "HOME": "/nonexistent",
	} {
		if env[k] != v {
			t.Errorf("env %s = %q, want %q", k, env[k], v)
		}
	}
	var got map[string]any
	if err := json.Unmarshal(c.Stdin, &got); err != nil {
		t.Fatalf("stdin: %v", err)
	}
	if got["id"] != ev.ID || got["type"] != "backup.pre" || got["run_id"] != "run_42" {
		t.Errorf("stdin is not the event: %s", c.Stdin)
	}
	p := r.Preview(time.Now())
	if shown, _ := json.Marshal(p); strings.Contains(string(shown), "SECRET") {
		t.Errorf("preview leaks a secret: %s", shown)
	}
}

func TestShellCommand(t *testing.T) {
	t.Parallel()
	h := hook(t, `  - {id: sh, on: ["*"], exec: {command: 'echo "$HOOKPOINT_DATA_VMID"', shell: true, timeout: 3s}}`)
	r, err := render.Hook(h, testEvent(), "msg_1", opts())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/bin/sh", "-c", `echo "$HOOKPOINT_DATA_VMID"`, "hookpoint-sh"}
	if !slices.Equal(r.Exec.Argv, want) || r.Exec.Timeout != 3*time.Second || r.Exec.Stdin != nil {
		t.Errorf("argv %q timeout %s stdin %q", r.Exec.Argv, r.Exec.Timeout, r.Exec.Stdin)
	}
}

func TestCommandRefusesNUL(t *testing.T) {
	t.Parallel()
	for _, y := range []string{
		`  - {id: a, on: ["*"], exec: {command: /bin/true, args: ["{{ .data.v }}"]}}`,
		`  - {id: a, on: ["*"], exec: {command: /bin/true, env: {V: "{{ .data.v }}"}}}`,
	} {
		ev := testEvent()
		ev.Data["v"] = "a\x00b"
		if _, err := render.Hook(hook(t, y), ev, "msg_1", opts()); err == nil {
			t.Errorf("%s: a NUL byte was accepted", y)
		}
	}
	ev := testEvent()
	ev.Data["v"] = "a\x00b" // reaches HOOKPOINT_DATA_V
	if _, err := render.Hook(hook(t, `  - {id: a, on: ["*"], exec: {command: /bin/true}}`), ev, "msg_1", opts()); err == nil {
		t.Error("a NUL byte in a data variable was accepted into the environment")
	}
}

func TestURLCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url, wantURL, user, pass string
		secret                   string
	}{
		{"https://ops:pa%3Ass@x.test/p?q=1#f", "https://x.test/p?q=1#f", "ops", "pa:ss", "pa:ss"},
		{"https://TOKEN123@x.test", "https://x.test", "TOKEN123", "", "TOKEN123"},
		{"https://u:{{ env \"PASS\" }}@x.test/a@b", "https://x.test/a@b", "u", "pw-SECRET-2", "pw-SECRET-2"},
	}
	for _, tt := range tests {
		h := hook(t, `  - {id: h, on: ["*"], http: {url: '`+tt.url+`'}}`)
		r, err := render.Hook(h, testEvent(), "msg_1", opts())
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		if r.HTTP.URL != tt.wantURL {
			t.Errorf("%s: URL %q, want %q", tt.url, r.HTTP.URL, tt.wantURL)
		}
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(tt.user+":"+tt.pass))
		if got := r.HTTP.Header.Get("Authorization"); got != want {
			t.Errorf("%s: Authorization %q, want %q", tt.url, got, want)
		}
		shown, _ := json.Marshal(r.Preview(time.Now()))
		if strings.Contains(string(shown)+r.Target(), tt.secret) || strings.Contains(string(shown), strings.TrimPrefix(want, "Basic ")) {
			t.Errorf("%s: the credentials are visible: %s %s", tt.url, r.Target(), shown)
		}
	}
	// An auth block wins over credentials in the URL.
	h := hook(t, `  - {id: h, on: ["*"], http: {url: 'https://a:b@x.test/', auth: {type: bearer, token: '{{ env "TOKEN" }}'}}}`)
	r, err := render.Hook(h, testEvent(), "msg_1", opts())
	if err != nil {
		t.Fatal(err)
	}
	if got := r.HTTP.Header.Get("Authorization"); got != "Bearer tok-SECRET-1" || r.HTTP.URL != "https://x.test/" {
		t.Errorf("Authorization %q URL %q", got, r.HTTP.URL)
	}
}
