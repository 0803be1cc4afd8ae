package config_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hookpoint/hookpoint/internal/config"
)

// TestUnknownFields checks that a field the type does not have is reported at every
// level, with the object's own path as the field and the fields it takes.
func TestUnknownFields(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		src  string
		want want
	}{
		{"root", "hooks: []\nhook: {}\n", want{2, "", `unknown field "hook"; did you mean "hooks"? (this object takes: hooks, server)`}},
		{"root yes", "hooks: []\nyes: true\n", want{2, "", `unknown field "yes"`}},
		{"hook", hookDoc("url: http://h.example/", "http: {url: \"http://h.example/\"}"), want{4, "hooks[0]", `unknown field "url" (this object takes: description, enabled, exec, http, id, max_in_flight, mode, on, on_failure, order, rate, retry, status)`}},
		{"hook field names are case-sensitive", hookDoc("ID: b", "http: {url: \"http://h.example/\"}"), want{4, "hooks[0]", `unknown field "ID"`}},
		{"second hook", "hooks:\n" + validHook + "  - id: b\n    on: [x]\n    onfailure: warn\n    http: {url: \"http://h.example/\"}\n", want{7, "hooks[1]", `unknown field "onfailure"`}},
		{"http", httpHook("params: {a: b}"), want{6, "hooks[0].http", `unknown field "params" (this object takes: auth, body, body_type, expect, headers, method, sign, timeout, tls, url)`}},
		{"auth", httpHook("auth:", "  type: bearer", "  token: t", "  prefix: Token"), want{9, "hooks[0].http.auth", `unknown field "prefix" (this object takes: base64, header, password, query, token, type, username)`}},
		{"tls", httpHook("tls:", "  verify: false"), want{7, "hooks[0].http.tls", `unknown field "verify" (this object takes: ca_file, cert_file, insecure_skip_verify, key_file)`}},
		{"sign", httpHook("sign:", "  secret: "+goodSecret, "  algorithm: hmac"), want{8, "hooks[0].http.sign", `unknown field "algorithm" (this object takes: secret)`}},
		{"exec", execHook("cwd: /tmp"), want{6, "hooks[0].exec", `unknown field "cwd" (this object takes: args, command, env, keep_children, shell, stdin, timeout, workdir)`}},
		{"retry", hookDoc("mode: async", "retry:", "  attempts: 3", "http: {url: \"http://h.example/\"}"), want{6, "hooks[0].retry", `unknown field "attempts" (this object takes: max_attempts, schedule)`}},
		{"server", "server:\n  listen: 127.0.0.1:8080\n  port: 8080\n", want{3, "server", `unknown field "port" (this object takes: allowed_origins, api_exec, auto_disable_after, db, ingest, listen, log_format, retention, secret_key_file, token_file)`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inBothFormats(t, tc.src, func(t *testing.T, name string, data []byte) {
				_, err := config.Parse(name, data)
				checkIssues(t, err, name, tc.want)
			})
		})
	}
}

// TestUnknownFieldsAllReported: unknown fields are all reported, at every level, beside
// the other problems (a type error elsewhere does not hide them, nor they it).
func TestUnknownFieldsAllReported(t *testing.T) {
	t.Parallel()
	src := "hooks:\n  - id: a\n    on: [x]\n    order: many\n    color: red\n    http:\n      url: http://h.example/\n      tls: {ca: x}\nextra: 1\n"
	inBothFormats(t, src, func(t *testing.T, name string, data []byte) {
		_, err := config.Parse(name, data)
		checkIssues(t, err, name,
			want{4, "hooks[0].order", `expected a whole number, got "many"`},
			want{5, "hooks[0]", `unknown field "color"`},
			want{8, "hooks[0].http.tls", `unknown field "ca"`},
			want{9, "", `unknown field "extra"`})
	})
}

// TestTypeErrors checks values of the wrong type, including the custom types StringList,
// IntList, Duration and Body.
func TestTypeErrors(t *testing.T) {
	t.Parallel()
	httpLine := "http: {url: \"http://h.example/\"}"
	cases := []struct {
		name string
		src  string
		want want
	}{
		// StringList.
		{"on an object", "hooks:\n  - id: a\n    on: {type: x}\n    " + httpLine + "\n", want{3, "hooks[0].on", "expected a string or a list of strings"}},
		{"on a nested list", "hooks:\n  - id: a\n    on: [[x]]\n    " + httpLine + "\n", want{3, "hooks[0].on[0]", "expected a string"}},
		{"on a null item", "hooks:\n  - id: a\n    on:\n      - x\n      - ~\n    " + httpLine + "\n", want{5, "hooks[0].on[1]", "expected a string"}},
		{"status an object item", hookDoc("status:", "  - fail", "  - {a: b}", httpLine), want{6, "hooks[0].status[1]", "expected a string"}},
		{"sign secret an object", httpHook("sign:", "  secret: {a: b}"), want{7, "hooks[0].http.sign.secret", "expected a string or a list of strings"}},
		// IntList.
		{"expect a word", httpHook("expect: ok"), want{6, "hooks[0].http.expect", `expected a whole number, got "ok"`}},
		{"expect a fraction", httpHook("expect: 200.5"), want{6, "hooks[0].http.expect", "200.5 is not a whole number"}},
		{"expect a fraction in a list", httpHook("expect:", "  - 200", "  - 201.5"), want{8, "hooks[0].http.expect[1]", "201.5 is not a whole number"}},
		{"max_attempts a fraction", hookDoc("mode: async", "retry: {max_attempts: 2.5}", httpLine), want{5, "hooks[0].retry.max_attempts", "2.5 is not a whole number"}},
		{"expect a word in a list", httpHook("expect:", "  - 200", "  - created"), want{8, "hooks[0].http.expect[1]", `expected a whole number, got "created"`}},
		{"expect an object", httpHook("expect: {a: 1}"), want{6, "hooks[0].http.expect", "expected a whole number or a list of them"}},
		// Duration.
		{"timeout a word", httpHook("timeout: soon"), want{6, "hooks[0].http.timeout", `"soon" is not a duration (write 10s, 5m, 1h30m or a number of seconds)`}},
		{"timeout a unit alone", execHook("timeout: s"), want{6, "hooks[0].exec.timeout", `"s" is not a duration`}},
		{"timeout empty", execHook("timeout: \"\""), want{6, "hooks[0].exec.timeout", `"" is not a duration`}},
		{"timeout nan", httpHook("timeout: nan"), want{6, "hooks[0].http.timeout", `"nan" is not a duration`}},
		{"timeout infinite", httpHook("timeout: \"+Inf\""), want{6, "hooks[0].http.timeout", `"+Inf" is not a duration`}},
		{"timeout past int64", httpHook("timeout: 1e300"), want{6, "hooks[0].http.timeout", `"1e300" is not a duration`}},
		{"timeout a list", httpHook("timeout: [10s]"), want{6, "hooks[0].http.timeout", "expected a duration such as 10s"}},
		{"schedule item", hookDoc("mode: async", "retry:", "  schedule:", "    - 5s", "    - later", httpLine), want{8, "hooks[0].retry.schedule[1]", `"later" is not a duration`}},
		// Body.
		{"body a number", httpHook("body: 5"), want{6, "hooks[0].http.body", "body must be a string (a template) or an object"}},
		{"body a boolean", httpHook("body: true"), want{6, "hooks[0].http.body", "body must be a string (a template) or an object"}},
		// Null items would be dropped by the decoder.
		{"null arg", execHook("args:", "  - --vm", "  - ~", "  - \"{{ .data.vmid }}\""), want{8, "hooks[0].exec.args[1]", "a list item is empty (null)"}},
		{"null schedule item", hookDoc("mode: async", "retry: {schedule: [5s, ~]}", httpLine), want{5, "hooks[0].retry.schedule[1]", "a list item is empty (null)"}},
		{"null origin", "server:\n  allowed_origins:\n    - ~\n", want{3, "server.allowed_origins[0]", "a list item is empty"}},
		// Plain Go types.
		{"enabled a word", hookDoc("enabled: maybe", httpLine), want{4, "hooks[0].enabled", `expected true or false, got "maybe"`}},
		{"shell a number", execHook("shell: 2"), want{6, "hooks[0].exec.shell", "expected true or false, got 2"}},
		{"order a word", hookDoc("order: first", httpLine), want{4, "hooks[0].order", `expected a whole number, got "first"`}},
		{"order a fraction", hookDoc("order: 1.5", httpLine), want{4, "hooks[0].order", "1.5 is not a whole number"}},
		{"order a whole float", hookDoc("order: 2.0", "mode: later", httpLine), want{5, "hooks[0].mode", "not a mode"}},
		{"max_attempts a word", hookDoc("mode: async", "retry:", "  max_attempts: many", httpLine), want{6, "hooks[0].retry.max_attempts", `expected a whole number, got "many"`}},
		{"id a list", "hooks:\n  - id: [a]\n    on: [x]\n    " + httpLine + "\n", want{2, "hooks[0].id", "expected a string, got a list"}},
		{"hooks an object", "hooks:\n  a: {}\n", want{2, "hooks", "expected a list, got an object"}},
		{"hooks a string", "hooks: none\n", want{1, "hooks", `expected a list, got "none"`}},
		{"hook a number", "hooks:\n  - 5\n", want{2, "hooks[0]", "expected an object (name: value), got 5"}},
		{"http a string", hookDoc("http: http://h.example/"), want{4, "hooks[0].http", `expected an object (name: value), got "http://h.example/"`}},
		{"headers a list", httpHook("headers: [X-A]"), want{6, "hooks[0].http.headers", "expected an object (name: value), got a list"}},
		{"header value an object", httpHook("headers:", "  X-A: {b: c}"), want{7, "hooks[0].http.headers.X-A", "expected a string, got an object"}},
		{"auth a string", httpHook("auth: bearer"), want{6, "hooks[0].http.auth", `expected an object (name: value), got "bearer"`}},
		{"base64 a word", httpHook("auth: {type: bearer, token: t, base64: sure}"), want{6, "hooks[0].http.auth.base64", `expected true or false, got "sure"`}},
		{"args a string", execHook("args: --verbose"), want{6, "hooks[0].exec.args", `expected a list, got "--verbose"`}},
		{"env a list", execHook("env: [A=b]"), want{6, "hooks[0].exec.env", "expected an object (name: value), got a list"}},
		{"server a string", "server: on\n", want{1, "server", `expected an object (name: value), got "on"`}},
		{"allowed_origins a string", "server:\n  allowed_origins: 10.0.0.0/8\n", want{2, "server.allowed_origins", `expected a list, got "10.0.0.0/8"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inBothFormats(t, tc.src, func(t *testing.T, name string, data []byte) {
				_, err := config.Parse(name, data)
				checkIssues(t, err, name, tc.want)
			})
		})
	}
}

// TestTypeErrorsAllReported: the decoder goes on past a type error, so every one is
// reported.
func TestTypeErrorsAllReported(t *testing.T) {
	t.Parallel()
	src := "hooks:\n  - id: a\n    on: [x]\n    order: first\n    http:\n      url: http://h.example/\n      timeout: soon\n      expect: ok\n"
	inBothFormats(t, src, func(t *testing.T, name string, data []byte) {
		_, err := config.Parse(name, data)
		checkIssues(t, err, name,
			want{4, "hooks[0].order", `expected a whole number, got "first"`},
			want{7, "hooks[0].http.timeout", "not a duration"},
			want{8, "hooks[0].http.expect", `expected a whole number, got "ok"`})
	})
}

// TestDuplicateKeys: a key written twice in one mapping is an error, not a silent
// override.
func TestDuplicateKeys(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		src  string
		want want
	}{
		{"root", "hooks: []\nserver: {}\nhooks: []\n", want{3, "hooks", `"hooks" is written twice in this object (first on line 1)`}},
		{"hook", "hooks:\n  - id: a\n    on: [x]\n    id: b\n    http: {url: \"http://h.example/\"}\n", want{4, "hooks[0].id", `"id" is written twice in this object (first on line 2)`}},
		{"http", httpHook("method: PUT", "method: POST"), want{7, "hooks[0].http.method", `"method" is written twice in this object (first on line 6)`}},
		{"headers", httpHook("headers:", "  X-A: a", "  X-A: b"), want{8, "hooks[0].http.headers.X-A", `"X-A" is written twice in this object (first on line 7)`}},
		{"body", httpHook("body:", "  vm: a", "  vm: b"), want{8, "hooks[0].http.body.vm", `"vm" is written twice in this object (first on line 7)`}},
		{"env", execHook("env:", "  A: a", "  A: b"), want{8, "hooks[0].exec.env.A", `"A" is written twice in this object (first on line 7)`}},
		{"server", "server:\n  db: a\n  db: b\n", want{3, "server.db", `"db" is written twice in this object (first on line 2)`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inBothFormats(t, tc.src, func(t *testing.T, name string, data []byte) {
				_, err := config.Parse(name, data)
				checkIssues(t, err, name, tc.want)
			})
		})
	}
}

// TestDocumentShape covers what is not a config at all: empty input, several documents,
// a root that is not a mapping, broken syntax.
func TestDocumentShape(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		src  string
		want want
	}{
		{"empty", "", want{0, "", "the config file is empty; it needs at least a hooks: list"}},
		{"blank", "\n  \n\n", want{0, "", "the config file is empty"}},
		{"a tab on its own line", "\n\t\n", want{2, "", "a tab: YAML indents with spaces only"}},
		{"comments only", "# hooks: []\n# nothing here\n", want{0, "", "the config file is empty"}},
		{"two documents", "hooks: []\n---\nhooks: []\n", want{2, "", "the file holds more than one YAML document"}},
		{"an empty second document", "hooks: []\n---\n", want{2, "", "more than one YAML document"}},
		{"a broken second document", "hooks: []\n---\nhooks: [\n", want{3, "", "did not find expected node content"}},
		{"a bare document marker", "---\n", want{2, "", "the config must be a mapping with a hooks: list"}},
		{"root a list", "- id: a\n  on: x\n", want{1, "", "the config must be a mapping"}},
		{"root a string", "hooks\n", want{1, "", "the config must be a mapping"}},
		{"root null", "~\n", want{1, "", "the config must be a mapping"}},
		{"JSON root a list", "[{\"id\": \"a\"}]", want{1, "", "the config must be a mapping"}},
		{"JSON root a string", "\"hooks\"", want{1, "", "the config must be a mapping"}},
		{"tab indentation", "hooks:\n\t- id: a\n", want{2, "", "a tab: YAML indents with spaces only"}},
		{"unclosed flow", "hooks: [\n  {id: a}\n", want{2, "", "did not find expected ',' or ']'"}},
		{"unclosed JSON", "{\"hooks\": [\n", want{1, "", "did not find expected node content"}},
		{"bad indentation", "hooks:\n  - id: a\n   on: x\n", want{3, "", "this line is not indented like the lines above it"}},
		{"unclosed quote", "hooks:\n  - id: \"a\n", want{2, "", "this quoted string is never closed"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Parse("c.yaml", []byte(tc.src))
			if cfg != nil {
				t.Error("got a config")
			}
			checkIssues(t, err, "c.yaml", tc.want)
		})
	}
}

// TestEmptyHookList: a file may hold no hooks (a server whose hooks come from its API).
func TestEmptyHookList(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"hooks: []\n", "{}", "hooks:\n", "server: {listen: \":8080\"}\n", `{"hooks": []}`} {
		cfg := mustParse(t, "c", []byte(src))
		if len(cfg.Hooks) != 0 {
			t.Errorf("%q: %d hooks", src, len(cfg.Hooks))
		}
	}
}

// TestYAML12Scalars: on, yes, no, off are plain strings as keys and in string fields;
// boolean fields still read them.
func TestYAML12Scalars(t *testing.T) {
	t.Parallel()
	src := "hooks:\n  - id: yes\n    description: no\n    on: [yes, on, no, off, y, n]\n    status: fail\n    exec:\n      command: /bin/echo\n      args: [yes, no, on, off, true, 1, 0x10, 1e3, \"\"]\n"
	cfg := mustParse(t, "c.yaml", []byte(src))
	h := cfg.Hooks[0]
	if h.ID != "yes" || h.Description != "no" {
		t.Errorf("id %q description %q", h.ID, h.Description)
	}
	if got := strings.Join(h.On, ","); got != "yes,on,no,off,y,n" {
		t.Errorf("on = %q", got)
	}
	if got := strings.Join(h.Exec.Args, ","); got != "yes,no,on,off,true,1,0x10,1e3," {
		t.Errorf("args = %q", got)
	}
	// The example of docs/configuration.md, "Reading the file": `on: [yes]` is the
	// pattern "yes", and a key `on` is the field on.
	one := mustParse(t, "c.yaml", []byte("hooks:\n  - id: a\n    on: yes\n    http: {url: \"http://h.example/\"}\n")).Hooks[0]
	if len(one.On) != 1 || one.On[0] != "yes" {
		t.Errorf("on: yes = %q", one.On)
	}
	// A mode or policy spelled on/off is a string, and so not a valid one.
	_, err := config.Parse("c.yaml", []byte(hookDoc("mode: on", "on_failure: no", "http: {url: \"http://h.example/\"}")))
	checkIssues(t, err, "c.yaml", want{4, "hooks[0].mode", `"on" is not a mode`}, want{5, "hooks[0].on_failure", `"no" is not a failure policy`})
	// Boolean fields accept the YAML 1.1 words too (yes/no/on/off), as go.yaml.in/yaml/v3
	// does for a bool target.
	for word, want := range map[string]bool{"no": false, "off": false, "yes": true, "on": true, "false": false, "true": true} {
		h := mustParse(t, "c.yaml", []byte(hookDoc("enabled: "+word, "http: {url: \"http://h.example/\"}"))).Hooks[0]
		if h.IsEnabled() != want {
			t.Errorf("enabled: %s -> %v", word, h.IsEnabled())
		}
	}
}

// TestScalarsIntoStrings: numbers and booleans written where a string is expected are
// read as their text, as YAML writes them.
func TestScalarsIntoStrings(t *testing.T) {
	t.Parallel()
	src := httpHook("headers:", "  X-Count: 5", "  X-Flag: true", "  X-Empty: ~", "body_type: text", "body: \"42\"")
	inBothFormats(t, src, func(t *testing.T, name string, data []byte) {
		a := mustParse(t, name, data).Hooks[0].HTTP
		if a.Headers["X-Count"] != "5" || a.Headers["X-Flag"] != "true" || a.Headers["X-Empty"] != "" {
			t.Errorf("headers %q", a.Headers)
		}
		if a.Body.Template != "42" || a.Body.IsStructured() {
			t.Errorf("body %+v", a.Body)
		}
	})
}

// TestBodyForms: a string is a template; an object or a list is structured, with its
// scalars kept as they are.
func TestBodyForms(t *testing.T) {
	t.Parallel()
	src := httpHook("body:", "  vm: \"{{ .data.vmid }}\"", "  n: 3", "  f: 1.5", "  ok: false", "  none: ~", "  list: [a, {b: \"{{ .run.id }}\"}]")
	inBothFormats(t, src, func(t *testing.T, name string, data []byte) {
		a := mustParse(t, name, data).Hooks[0].HTTP
		if !a.Body.IsStructured() || a.Body.Template != "" {
			t.Fatalf("body %+v", a.Body)
		}
		raw, err := json.Marshal(a.Body)
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"f":1.5,"list":["a",{"b":"{{ .run.id }}"}],"n":3,"none":null,"ok":false,"vm":"{{ .data.vmid }}"}`; string(raw) != want {
			t.Errorf("body JSON %s, want %s", raw, want)
		}
		tree, ok := a.Compiled.Tree.(map[string]any)
		if !ok || a.Compiled.Body != nil {
			t.Fatalf("compiled tree %T, body %v", a.Compiled.Tree, a.Compiled.Body)
		}
		if _, ok := tree["vm"].(interface{ Source() string }); !ok {
			t.Errorf("leaf vm is %T, want a template", tree["vm"])
		}
		if tree["n"] != 3 && tree["n"] != float64(3) {
			t.Errorf("leaf n is %#v", tree["n"])
		}
	})
	// A list body (JSON array).
	list := mustParse(t, "c.yaml", []byte(httpHook("body: [\"{{ .event.id }}\", 1]"))).Hooks[0].HTTP
	if _, ok := list.Compiled.Tree.([]any); !ok {
		t.Errorf("list body compiled to %T", list.Compiled.Tree)
	}
	// A string body.
	str := mustParse(t, "c.yaml", []byte(httpHook("body: '{\"vm\": {{ json .data.vmid }}}'"))).Hooks[0].HTTP
	if str.Body.IsStructured() || str.Compiled.Body == nil || str.Compiled.Tree != nil {
		t.Errorf("string body: %+v %+v", str.Body, str.Compiled)
	}
	// A block scalar is a string too.
	block := mustParse(t, "c.yaml", []byte(httpHook("body_type: xml", "body: |", "  <a>{{ .data.x }}</a>"))).Hooks[0].HTTP
	if block.Body.Template != "<a>{{ .data.x }}</a>\n" || block.Compiled.Body == nil {
		t.Errorf("block body %q", block.Body.Template)
	}
	// Keys that are not strings become strings.
	keys := mustParse(t, "c.yaml", []byte(httpHook("body: {1: a, true: [{2.5: b}]}"))).Hooks[0].HTTP
	if raw, _ := json.Marshal(keys.Body); string(raw) != `{"1":"a","true":[{"2.5":"b"}]}` {
		t.Errorf("body with other keys: %s", raw)
	}
	// JSON has no NaN nor infinities.
	_, err := config.Parse("c.yaml", []byte(httpHook("body:", "  a: .nan", "  b: [1, -.inf]")))
	checkIssues(t, err, "c.yaml", want{7, "hooks[0].http.body.a", "NaN is not a number JSON can carry"}, want{8, "hooks[0].http.body.b[1]", "-Inf is not a number JSON can carry"})
	// A null body is no body.
	null := mustParse(t, "c.yaml", []byte(httpHook("body: ~"))).Hooks[0].HTTP
	if null.Body != nil {
		t.Errorf("body: ~ is %+v", null.Body)
	}
}

// TestDurations covers every way of writing a duration.
func TestDurations(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"10s", 10 * time.Second},
		{"5m", 5 * time.Minute},
		{"1h30m", 90 * time.Minute},
		{"250ms", 250 * time.Millisecond},
		{"1.5s", 1500 * time.Millisecond},
		{"30", 30 * time.Second},
		{"\"30\"", 30 * time.Second},
		{"0.25", 250 * time.Millisecond},
		{"0", 0},
		{"1e2", 100 * time.Second},
	}
	for _, tc := range cases {
		src := httpHook("timeout: " + tc.in)
		inBothFormats(t, src, func(t *testing.T, name string, data []byte) {
			a := mustParse(t, name, data).Hooks[0].HTTP
			if a.Timeout.D() != tc.want {
				t.Errorf("timeout: %s = %v, want %v", tc.in, a.Timeout.D(), tc.want)
			}
		})
	}
}

// TestMergeKeysAndAliases: YAML anchors, aliases and merge keys are read as the decoder
// reads them, and checked for unknown fields like any other mapping.
func TestMergeKeysAndAliases(t *testing.T) {
	t.Parallel()
	src := `hooks:
  - id: base
    on: &events [backup.pre, &one backup.post]
    http: &target
      url: http://h.example/
      method: PUT
      timeout: 5s
  - id: copy
    on: [*one]
    http:
      <<: *target
      method: PATCH
  - <<: [{on: *events}, {description: merged}]
    id: third
    exec: {command: /bin/true}
`
	cfg := mustParse(t, "c.yaml", []byte(src))
	if len(cfg.Hooks) != 3 {
		t.Fatalf("%d hooks", len(cfg.Hooks))
	}
	copyHook := cfg.Hooks[1]
	if copyHook.HTTP.URL != "http://h.example/" || copyHook.HTTP.Method != "PATCH" || copyHook.HTTP.Timeout.D() != 5*time.Second {
		t.Errorf("merged http %+v", copyHook.HTTP)
	}
	if len(copyHook.On) != 1 || copyHook.On[0] != "backup.post" {
		t.Errorf("aliased pattern %q", copyHook.On)
	}
	third := cfg.Hooks[2]
	if third.Description != "merged" || len(third.On) != 2 {
		t.Errorf("merged hook %+v", third)
	}
	// The explicit key wins over the merged one, in positions too.
	if p := cfg.Pos("hooks[1].http.method"); p.Line != 12 {
		t.Errorf("hooks[1].http.method at %+v, want line 12", p)
	}
	if p := cfg.Pos("hooks[1].http.url"); p.Line != 5 {
		t.Errorf("hooks[1].http.url at %+v, want line 5 (the anchor's)", p)
	}

	// An unknown field inside a merged mapping is reported where it is written.
	bad := "hooks:\n  - id: a\n    on: [x]\n    http: &t {url: \"http://h.example/\", verb: PUT}\n  - id: b\n    on: [x]\n    http:\n      <<: *t\n"
	_, err := config.Parse("c.yaml", []byte(bad))
	checkIssues(t, err, "c.yaml", want{4, "hooks[0].http", `unknown field "verb"`}, want{4, "hooks[1].http", `unknown field "verb"`})

	// A quoted "<<" is an ordinary key, as in JSON.
	_, err = config.Parse("c.json", []byte(`{"hooks": [{"id": "a", "on": "x", "<<": {"mode": "async"}, "http": {"url": "http://h.example/"}}]}`))
	checkIssues(t, err, "c.json", want{1, "hooks[0]", `unknown field "<<"`})

	// An anchor that contains itself is an error, not a hang.
	_, err = config.Parse("c.yaml", []byte("hooks:\n  - id: a\n    on: [x]\n    http:\n      url: http://h.example/\n      body: &b {a: *b}\n"))
	if issues := issuesOf(t, err); !strings.Contains(issues[0].Message, "contains itself") {
		t.Errorf("self-containing anchor: %v", err)
	}
}

// TestJSONStrings: JSON escapes and characters that YAML reads differently (or not at
// all) come out as encoding/json reads them.
func TestJSONStrings(t *testing.T) {
	t.Parallel()
	descriptions := []string{
		`http:\/\/h.example\/x`,
		`\ud83d\ude00 smile`,
		`lone \ud800 surrogate`,
		`low first \udc00\ud800`,
		`escaped \\ud800 backslash`,
		`\u00e9t\u00E9 \u0041`,
		"raw \u0085 next line",
		"raw \x7f delete",
		"raw \u009f control",
		"raw \xff invalid",
		"raw \u2028 separator",
		`quote \" tab \t nul \u0000 slash \\/`,
	}
	for _, d := range descriptions {
		doc := `{"hooks": [{"id": "a", "on": "x", "description": "` + d + `", "http": {"url": "http://h.example/"}}]}`
		var ref struct {
			Hooks []struct{ Description string }
		}
		if err := json.Unmarshal([]byte(doc), &ref); err != nil {
			t.Fatalf("%q: the case is not JSON: %v", d, err)
		}
		cfg, err := config.Parse("c.json", []byte(doc))
		if err != nil {
			t.Errorf("%q: %v", d, err)
			continue
		}
		if got := cfg.Hooks[0].Description; got != ref.Hooks[0].Description {
			t.Errorf("%q: description %q, encoding/json reads %q", d, got, ref.Hooks[0].Description)
		}
	}
	// Lines are kept, so issues after an escape still point at the right line.
	doc := "{\"hooks\": [{\"id\": \"a\", \"description\": \"\\ud83d\\ude00\\/\",\n \"on\": \"x\",\n \"mode\": \"later\",\n \"http\": {\"url\": \"http:\\/\\/h.example\\/\"}}]}\n"
	_, err := config.Parse("c.json", []byte(doc))
	checkIssues(t, err, "c.json", want{3, "hooks[0].mode", `"later" is not a mode`})
	// A byte order mark before JSON.
	cfg := mustParse(t, "c.json", []byte("\ufeff"+`{"hooks": [{"id": "a", "on": "x", "description": "a\/b", "http": {"url": "http://h.example/"}}]}`))
	if cfg.Hooks[0].Description != "a/b" {
		t.Errorf("description %q", cfg.Hooks[0].Description)
	}
}

// TestJSONAndYAMLAgree: the full example in both formats loads to the same hooks.
func TestJSONAndYAMLAgree(t *testing.T) {
	t.Parallel()
	y, err := config.Load(filepath.Join("testdata", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := config.Load(filepath.Join("testdata", "full.json"))
	if err != nil {
		t.Fatal(err)
	}
	yb, _ := json.Marshal(y)
	jb, _ := json.Marshal(j)
	if string(yb) != string(jb) {
		t.Errorf("full.yaml and full.json differ:\n%s\n%s", yb, jb)
	}
}

// TestPos checks positions of fields, and the fallback to the nearest written parent.
func TestPos(t *testing.T) {
	t.Parallel()
	src := `hooks:
  - id: a
    on:
      - x
      - y
    http:
      url: http://h.example/
      headers:
        X-A: a
      body: {vm: "{{ .data.vmid }}", list: [1, 2]}
server:
  allowed_origins: [10.0.0.0/8]
`
	cfg := mustParse(t, "c.yaml", []byte(src))
	cases := []struct {
		path         string
		line, column int
	}{
		{"hooks", 1, 1},
		{"hooks[0]", 2, 5},
		{"hooks[0].id", 2, 5},
		{"hooks[0].on", 3, 5},
		{"hooks[0].on[1]", 5, 9},
		{"hooks[0].http.url", 7, 7},
		{"hooks[0].http.headers.X-A", 9, 9},
		{"hooks[0].http.body", 10, 7},
		{"hooks[0].http.body.vm", 10, 14},
		{"hooks[0].http.body.list[1]", 10, 48},
		{"server.allowed_origins[0]", 12, 21},
		// Fallbacks to the nearest parent that is written.
		{"hooks[0].http.method", 6, 5},
		{"hooks[0].http.headers.X-B", 8, 7},
		{"hooks[0].http.auth.token", 6, 5},
		{"hooks[0].on[7]", 3, 5},
		{"hooks[3].http.url", 1, 1},
		{"server.db", 11, 1},
		// Nothing written.
		{"nothing", 0, 0},
		{"", 0, 0},
	}
	for _, tc := range cases {
		if p := cfg.Pos(tc.path); p.Line != tc.line || p.Column != tc.column {
			t.Errorf("Pos(%q) = %d:%d, want %d:%d", tc.path, p.Line, p.Column, tc.line, tc.column)
		}
	}
	// A config built in code has no positions.
	if p := (&config.Config{}).Pos("hooks[0]"); p != (config.Position{}) {
		t.Errorf("Pos on a built config = %+v", p)
	}
}

// TestFieldOfTypeErrorsInFlowStyle: where several fields share a line (flow style), an
// issue names its very field and column, and every problem of the line is reported.
func TestFieldOfTypeErrorsInFlowStyle(t *testing.T) {
	t.Parallel()
	cases := []struct {
		src  string
		want []string
	}{
		{"hooks:\n  - {id: a, on: [x], on_failure: [warn], http: {url: \"http://h.example/\"}}\n",
			[]string{"c.yaml:2:34: hooks[0].on_failure: expected a string, got a list"}},
		{"hooks:\n  - id: a\n    on: x\n    http: {url: \"http://h.example/\", timeout: soon, method: PUT}\n",
			[]string{`c.yaml:4:47: hooks[0].http.timeout: "soon" is not a duration (write 10s, 5m, 1h30m or a number of seconds)`}},
		{"hooks:\n  - id: a\n    on: x\n    http:\n      {timeout: soon}\n",
			[]string{"c.yaml:4:5: hooks[0].http.url: url is required", `c.yaml:5:17: hooks[0].http.timeout: "soon" is not a duration (write 10s, 5m, 1h30m or a number of seconds)`}},
		{"hooks:\n  - id: a\n    on: [x, [y]]\n    http: {url: \"http://h.example/\"}\n",
			[]string{"c.yaml:3:13: hooks[0].on[1]: expected a string"}},
		// on_failure is not within on, though its name starts with it.
		{"hooks:\n  - {id: a, on: {a: b}, on_failure: warn, exec: {command: /bin/true}}\n",
			[]string{"c.yaml:2:17: hooks[0].on: expected a string or a list of strings"}},
	}
	for _, tc := range cases {
		_, err := config.Parse("c.yaml", []byte(tc.src))
		wantLines(t, issueLines(t, err), tc.want...)
	}
}

// TestLoad reads files: a good one, and the ways reading can fail.
func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "hookpoint.yaml")
	if err := os.WriteFile(good, []byte(httpHook()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.File != good || len(cfg.Hooks) != 1 {
		t.Errorf("File %q, %d hooks", cfg.File, len(cfg.Hooks))
	}

	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{\"hooks\": [\n  {\"id\": \"a\", \"on\": \"x\"}\n]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = config.Load(bad)
	checkIssues(t, err, bad, want{2, "hooks[0]", "an action is required"})

	missing := filepath.Join(dir, "missing.yaml")
	_, err = config.Load(missing)
	checkIssues(t, err, missing, want{0, "", "cannot read the config file: no such file or directory"})
	if strings.Count(err.Error(), missing) != 1 {
		t.Errorf("the path is repeated in %q", err)
	}

	_, err = config.Load(dir)
	checkIssues(t, err, dir, want{0, "", "cannot read the config file"})

	big := filepath.Join(dir, "big.yaml")
	data := append([]byte("hooks: []\n#"), make([]byte, config.MaxFileSize)...)
	for i := 11; i < len(data); i++ {
		data[i] = 'x'
	}
	if err := os.WriteFile(big, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = config.Load(big)
	checkIssues(t, err, big, want{0, "", "cannot read the config file: larger than the limit of 8388608 bytes"})
}

// TestParseName: the name given is the File of every issue; without one, "config".
func TestParseName(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"", "hooks: [\n", "bogus: 1\n", "hooks: x\n", hookDoc()} {
		_, err := config.Parse("", []byte(src))
		for _, is := range issuesOf(t, err) {
			if is.File != "config" {
				t.Errorf("%q: issue file %q, want config", src, is.File)
			}
		}
	}
}

func TestIssueAndErrorText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		is   config.Issue
		want string
	}{
		{config.Issue{File: "h.yaml", Line: 3, Column: 5, Field: "hooks[0].id", Message: "bad"}, "h.yaml:3:5: hooks[0].id: bad"},
		{config.Issue{File: "h.yaml", Line: 3, Field: "hooks[0].id", Message: "bad"}, "h.yaml:3: hooks[0].id: bad"},
		{config.Issue{File: "h.yaml", Column: 5, Message: "bad"}, "h.yaml: bad"},
		{config.Issue{File: "h.yaml", Line: 1, Column: 1, Message: "bad"}, "h.yaml:1:1: bad"},
	}
	for _, tc := range cases {
		if got := tc.is.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.is, got, tc.want)
		}
	}
	err := error(&config.Error{Issues: []config.Issue{cases[0].is, cases[2].is}})
	if got := err.Error(); got != "h.yaml:3:5: hooks[0].id: bad\nh.yaml: bad" {
		t.Errorf("Error() = %q", got)
	}
	// A real one names file, line, column and field.
	_, err = config.Parse("h.yaml", []byte(hookDoc("mode: later", "http: {url: \"http://h.example/\"}")))
	if got := err.Error(); got != `h.yaml:4:5: hooks[0].mode: "later" is not a mode: use sync or async` {
		t.Errorf("Error() = %q", got)
	}
	var ce *config.Error
	if !errors.As(err, &ce) || len(ce.Issues) != 1 {
		t.Errorf("not one *config.Error issue: %#v", err)
	}
}

// TestJSONUnmarshal covers the JSON decoding the API uses (encoding/json, not Parse).
func TestJSONUnmarshal(t *testing.T) {
	t.Parallel()
	var h config.Hook
	src := `{"id": "a", "on": "x", "status": ["fail", "cancelled"], "mode": "async",
		"retry": {"max_attempts": 3, "schedule": ["1s", 90, "2.5"]},
		"http": {"url": "http://h.example/", "timeout": 10, "expect": 204,
			"body": {"vm": "{{ .data.vmid }}"}, "sign": {"secret": ["a", "b"]}}}`
	if err := json.Unmarshal([]byte(src), &h); err != nil {
		t.Fatal(err)
	}
	if len(h.On) != 1 || h.On[0] != "x" || len(h.Status) != 2 {
		t.Errorf("on %q status %q", h.On, h.Status)
	}
	if s := h.Retry.Schedule; len(s) != 3 || s[0].D() != time.Second || s[1].D() != 90*time.Second || s[2].D() != 2500*time.Millisecond {
		t.Errorf("schedule %v", s)
	}
	if h.HTTP.Timeout.D() != 10*time.Second || len(h.HTTP.Expect) != 1 || h.HTTP.Expect[0] != 204 {
		t.Errorf("timeout %v expect %v", h.HTTP.Timeout.D(), h.HTTP.Expect)
	}
	if !h.HTTP.Body.IsStructured() || len(h.HTTP.Sign.Secret) != 2 {
		t.Errorf("body %+v secrets %q", h.HTTP.Body, h.HTTP.Sign.Secret)
	}
	var str config.Hook
	if err := json.Unmarshal([]byte(`{"http": {"body": "text {{ .x }}", "expect": [200, 201]}}`), &str); err != nil {
		t.Fatal(err)
	}
	if str.HTTP.Body.IsStructured() || str.HTTP.Body.Template != "text {{ .x }}" || len(str.HTTP.Expect) != 2 {
		t.Errorf("string body %+v expect %v", str.HTTP.Body, str.HTTP.Expect)
	}

	// null leaves a field as it is, as encoding/json does for its own types.
	var nulls config.Hook
	if err := json.Unmarshal([]byte(`{"id": "a", "on": null, "status": null, "retry": {"schedule": null}, "http": {"url": "http://h.example/", "timeout": null, "expect": null, "body": null}}`), &nulls); err != nil {
		t.Fatalf("nulls: %v", err)
	}
	if nulls.On != nil || nulls.Status != nil || nulls.HTTP.Timeout != 0 || nulls.HTTP.Expect != nil || nulls.HTTP.Body != nil {
		t.Errorf("nulls decoded to %+v %+v", nulls, nulls.HTTP)
	}

	bad := []struct{ src, frag string }{
		{`{"on": 5}`, "expected a string or a list of strings"},
		{`{"on": [1]}`, "expected a string or a list of strings"},
		{`{"status": {"a": "b"}}`, "expected a string or a list of strings"},
		{`{"http": {"expect": "200"}}`, "expected an integer or a list of integers"},
		{`{"http": {"expect": [1.5]}}`, "expected an integer or a list of integers"},
		{`{"http": {"timeout": "soon"}}`, `"soon" is not a duration`},
		{`{"http": {"timeout": true}}`, `"true" is not a duration`},
		{`{"http": {"timeout": "NaN"}}`, `"NaN" is not a duration`},
		{`{"http": {"timeout": 1e300}}`, `"1e300" is not a duration`},
		{`{"http": {"body": 5}}`, "body must be a string (a template) or an object"},
		{`{"http": {"body": false}}`, "body must be a string (a template) or an object"},
	}
	for _, tc := range bad {
		var h config.Hook
		err := json.Unmarshal([]byte(tc.src), &h)
		if err == nil || !strings.Contains(err.Error(), tc.frag) {
			t.Errorf("%s: %v, want ...%s...", tc.src, err, tc.frag)
		}
	}
}

// TestRoundTrip: a loaded config written as JSON (as the API answers) or YAML reads back
// to the same hooks.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	orig, err := config.Load(filepath.Join("testdata", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(orig)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(want), `"timeout":"10s"`) {
		t.Errorf("durations are not written as text: %s", want)
	}

	var viaJSON config.Config
	if err := json.Unmarshal(want, &viaJSON); err != nil {
		t.Fatal(err)
	}
	if err := viaJSON.Validate(); err != nil {
		t.Fatalf("JSON round trip does not validate: %v", err)
	}
	if got, _ := json.Marshal(&viaJSON); string(got) != string(want) {
		t.Errorf("JSON round trip:\n%s\nwant\n%s", got, want)
	}

	// The JSON written is itself a config file.
	reparsed := mustParse(t, "api.json", want)
	if got, _ := json.Marshal(reparsed); string(got) != string(want) {
		t.Errorf("JSON written and parsed:\n%s\nwant\n%s", got, want)
	}

	// So is the YAML written.
	y, err := yaml.Marshal(orig)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(y), "timeout: 10s") || !strings.Contains(string(y), "vm: '{{ .data.vmname }}'") {
		t.Errorf("YAML written:\n%s", y)
	}
	viaYAML := mustParse(t, "written.yaml", y)
	if got, _ := json.Marshal(viaYAML); string(got) != string(want) {
		t.Errorf("YAML round trip:\n%s\nwant\n%s", got, want)
	}
}

// TestAliasFanOut: an anchor reached again through an alias is not walked again, so a
// few kilobytes of aliases to a long list do not make millions of positions; the
// decoder then refuses the excessive aliasing.
func TestAliasFanOut(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("hooks:\n  - &h\n    id: a\n    on: [x]\n    exec:\n      command: /bin/true\n      args: [")
	b.WriteString(strings.Repeat("a,", 3000) + "a]\n")
	b.WriteString(strings.Repeat("  - *h\n", 3000))
	_, err := config.Parse("c.yaml", []byte(b.String()))
	checkIssues(t, err, "c.yaml", want{0, "", "excessive aliasing"})

	// A field reached through an alias is where its anchor writes it.
	src := "hooks:\n  - &h\n    id: a\n    on: [x]\n    exec: {command: /bin/true}\n  - <<: *h\n    id: b\n  - <<: *h\n    id: c\n"
	cfg := mustParse(t, "c.yaml", []byte(src))
	if p := cfg.Pos("hooks[1].exec.command"); p.Line != 5 {
		t.Errorf("hooks[1].exec.command at %+v, want line 5 (the anchor's)", p)
	}
	if p := cfg.Pos("hooks[2].exec.command"); p.Line != 5 {
		t.Errorf("hooks[2].exec.command at %+v, want line 5 (the anchor's)", p)
	}
	if p := cfg.Pos("hooks[2].id"); p.Line != 9 {
		t.Errorf("hooks[2].id at %+v, want line 9", p)
	}
}
