package web

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
)

func TestFormField(t *testing.T) {
	t.Parallel()
	for api, want := range map[string]string{
		"http.url":               "http.url",
		"on[1]":                  "on",
		"http.headers.X-Vm":      "http.headers",
		`http.headers["X-Vm"]`:   "http.headers",
		"retry.schedule[0]":      "retry.schedule",
		"http.sign.secret[1]":    "http.sign.secret",
		"http.auth.token":        "http.auth.token",
		"exec.env.DB_PASSWORD":   "exec.env",
		"secrets.webhook":        "secrets",
		"secrets":                "secrets",
		"":                       "",
		"hooks":                  "",
		"sample.type":            "sample.type",
		"http.tls.ca_file":       "http.tls.ca_file",
		"http.something.unknown": "http",
	} {
		if got := formField(api); got != want {
			t.Errorf("formField(%q) = %q, want %q", api, got, want)
		}
	}
}

func TestParseLocalTime(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v, tz string
		want  time.Time
		bad   bool
	}{
		{"", "", time.Time{}, false},
		{"2h", "", now.Add(-2 * time.Hour), false},
		{"2026-11-30T02:00:00Z", "-60", time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC), false},
		{"2026-11-30T02:00", "", time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC), false},
		{"2026-11-30T02:00", "-60", time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC), false}, // Berlin in winter
		{"2026-11-30T02:00", "300", time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC), false}, // New York
		{"2026-11-30 02:00", "x", time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC), false},
		{"yesterday", "", time.Time{}, true},
		{"-2h", "", time.Time{}, true},
	} {
		got, err := parseLocalTime(tc.v, tc.tz, now)
		if (err != nil) != tc.bad || !got.Equal(tc.want) {
			t.Errorf("parseLocalTime(%q, %q) = %v, %v; want %v (error %v)", tc.v, tc.tz, got, err, tc.want, tc.bad)
		}
	}
}

func TestMaskHeader(t *testing.T) {
	t.Parallel()
	for _, tc := range [][3]string{
		{"Authorization", "Bearer abc", "Bearer ****"},
		{"authorization", "abc", "****"},
		{"X-Api-Token", "abc", "****"},
		{"X-Auth-Token", "Bearer ****", "Bearer ****"},
		{"Webhook-Signature", "v1,****", "v1,****"},
		{"Content-Type", "application/json", "application/json"},
		{"X-Vm", "101", "101"},
		{"Cookie", "a=b; c=d", "****"},
	} {
		if got := maskHeader(tc[0], tc[1]); got != tc[2] {
			t.Errorf("maskHeader(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for next, want := range map[string]string{
		"/ui/hooks?q=a":        "/ui/hooks?q=a",
		"":                     "/",
		"//evil.example":       "/",
		"/\\evil.example":      "/",
		"https://evil.example": "/",
		"ui/hooks":             "/",
		"/a\r\nSet-Cookie: x":  "/",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

// The form's fields become the API's JSON; secret fields left empty keep the current
// value where it still applies.
func TestHookInput(t *testing.T) {
	t.Parallel()
	cur := &Hook{ID: "h", Def: &config.Hook{ID: "h", HTTP: &config.HTTP{URL: "https://x.example",
		Auth: &config.Auth{Type: "bearer", Token: `{{ secret "auth.token" }}`},
		Sign: &config.Sign{Secret: config.StringList{`{{ secret "sign.secret.0" }}`}}}}}
	for _, tc := range []struct {
		name    string
		form    url.Values
		cur     *Hook
		want    string
		secrets map[string]string
		errs    int
	}{
		{"minimal", url.Values{"id": {"a"}, "on": {"x.y"}, "action": {"http"}, "http.url": {"https://a.example"}, "enabled": {"on"}}, nil,
			`{"http":{"url":"https://a.example"},"id":"a","on":["x.y"]}`, map[string]string{}, 0},
		{"lists, numbers and a disabled definition", url.Values{"id": {"a"}, "on": {"a.*, b.end\nc"}, "order": {"-2"}, "status": {"fail", "warning"},
			"retry.max_attempts": {"x"}, "retry.schedule": {"5s 1m"}, "action": {"http"}, "http.url": {"u"}, "http.expect": {"200, 2x"}}, nil,
			`{"enabled":false,"http":{"expect":[200,"2x"],"url":"u"},"id":"a","on":["a.*","b.end","c"],"order":-2,"retry":{"max_attempts":"x","schedule":["5s","1m"]},"status":["fail","warning"]}`,
			map[string]string{}, 0},
		{"headers, a structured body, secrets", url.Values{"id": {"a"}, "enabled": {"on"}, "action": {"http"}, "http.headers": {"X-A: 1\r\nX-B:  two words \n"},
			"http.body": {`{"a": "{{ .data.x }}"}`}, "http.body_structured": {"on"},
			"new_secret.name": {"k", ""}, "new_secret.value": {"v", ""}, "secret.old": {"new value"}, "secret.kept": {""}}, nil,
			`{"http":{"body":{"a":"{{ .data.x }}"},"headers":{"X-A":"1","X-B":"two words"}},"id":"a"}`, map[string]string{"k": "v", "old": "new value"}, 0},
		{"an edit keeps the token and the signing secrets", url.Values{"id": {"ignored"}, "enabled": {"on"}, "action": {"http"}, "http.url": {"https://x.example"},
			"http.auth.type": {"bearer"}, "http.sign": {"on"}}, cur,
			`{"http":{"auth":{"token":"{{ secret \"auth.token\" }}","type":"bearer"},"sign":{"secret":["{{ secret \"sign.secret.0\" }}"]},"url":"https://x.example"}}`, map[string]string{}, 0},
		{"a token does not follow to basic auth", url.Values{"enabled": {"on"}, "action": {"http"}, "http.auth.type": {"basic"}, "http.auth.username": {"u"}}, cur,
			`{"http":{"auth":{"type":"basic","username":"u"}}}`, map[string]string{}, 0},
		{"exec", url.Values{"id": {"e"}, "enabled": {"on"}, "action": {"exec"}, "exec.command": {"/bin/x  "}, "exec.args": {"--a\r\n\n{{ .data.x }}"},
			"exec.env": {"A=1\nB = two"}, "exec.shell": {"on"}, "http.url": {"ignored"}}, nil,
			`{"exec":{"args":["--a","{{ .data.x }}"],"command":"/bin/x  ","env":{"A":"1","B":"two"},"shell":true},"id":"e"}`, map[string]string{}, 0},
		{"lines that do not parse", url.Values{"id": {"a"}, "enabled": {"on"}, "action": {"http"}, "http.headers": {"no colon"},
			"http.body": {"{"}, "http.body_structured": {"on"}, "new_secret.name": {"", "n"}, "new_secret.value": {"v", ""}}, nil,
			`{"http":{},"id":"a"}`, map[string]string{}, 4},
	} {
		in, errs := hookInput(tc.form, tc.cur)
		var got, want any
		_ = json.Unmarshal(in.Def, &got)
		_ = json.Unmarshal([]byte(tc.want), &want)
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(in.Secrets, tc.secrets) || len(errs) != tc.errs {
			t.Errorf("%s:\n got %s %v %v\nwant %s %v (%d errors)", tc.name, in.Def, in.Secrets, errs, tc.want, tc.secrets, tc.errs)
		}
	}
}

// A hook shown in the form and sent back unchanged is the same hook.
func TestValuesOfRoundTrip(t *testing.T) {
	t.Parallel()
	doc := []byte(`hooks:
  - id: full
    description: all of it
    enabled: false
    order: 5
    on: [a.*, b.end]
    status: [fail]
    on_failure: ignore
    mode: async
    retry: {max_attempts: 3, schedule: [5s, 1m30s]}
    max_in_flight: 2
    rate: 10/m
    http:
      url: "https://x.example/{{ .data.a }}"
      method: PATCH
      body_type: xml
      body: "<a>{{ .data.a }}</a>"
      headers: {X-A: "1"}
      timeout: 2h
      expect: [200, 202]
      auth: {type: api_key, token: '{{ env "K" }}', query: key}
      tls: {insecure_skip_verify: true}
`)
	cfg, err := config.Parse("x.yaml", doc)
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.Hooks[0]
	// As an edit: the id comes from the path, the token (a secret field, never shown)
	// is kept.
	in, errs := hookInput(valuesOf(&Hook{ID: "full", Def: h}), &Hook{ID: "full", Def: h})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var def map[string]any
	if err := json.Unmarshal(in.Def, &def); err != nil {
		t.Fatal(err)
	}
	def["id"] = "full"
	in.Def, _ = json.Marshal(def)
	back, err := config.Parse("y.json", append(append([]byte(`{"hooks":[`), in.Def...), ']', '}'))
	if err != nil {
		t.Fatalf("%v\n%s", err, in.Def)
	}
	a, _ := json.Marshal(h)
	b, _ := json.Marshal(back.Hooks[0])
	if string(a) != string(b) {
		t.Errorf("round trip:\n %s\n %s", a, b)
	}
}
