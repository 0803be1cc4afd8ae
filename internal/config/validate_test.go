package config_test

import (
	"errors"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
)

// validHook is an http hook that passes every rule, for cases that need a second hook.
const validHook = "  - id: ok\n    on: [x]\n    http: {url: \"http://h.example/\"}\n"

// A 32-byte key, and one of 15 bytes (too short).
const (
	goodSecret  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	shortSecret = "whsec_MTIzNDU2Nzg5MDEyMzQ1"
)

// TestValidationRules has a case for every rule of validate.go, each checked in YAML and
// in JSON: the issue's file, line, field and message.
func TestValidationRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		src   string
		wants []want
	}{
		// The list of hooks and ids.
		{"null hook", "hooks:\n  - ~\n", []want{{2, "hooks[0]", "a hook must be an object"}}},
		{"id missing", "hooks:\n  - on: [x]\n    http: {url: \"http://h.example/\"}\n", []want{{2, "hooks[0]", "id is required"}}},
		{"id empty", "hooks:\n  - id: \"\"\n    on: [x]\n    http: {url: \"http://h.example/\"}\n", []want{{2, "hooks[0]", "id is required"}}},
		{"id upper case", "hooks:\n  - id: Backup\n    on: [x]\n    http: {url: \"http://h.example/\"}\n", []want{{2, "hooks[0].id", `"Backup" is not a valid id`}}},
		{"id starts with dash", "hooks:\n  - id: -a\n    on: [x]\n    http: {url: \"http://h.example/\"}\n", []want{{2, "hooks[0].id", "starting with a letter or digit"}}},
		{"id with space", "hooks:\n  - id: a b\n    on: [x]\n    http: {url: \"http://h.example/\"}\n", []want{{2, "hooks[0].id", "not a valid id"}}},
		{"duplicate id", "hooks:\n" + validHook + validHook, []want{{5, "hooks[1].id", `duplicate id "ok" (first used by hooks[0])`}}},

		// on, status, on_failure, mode.
		{"on missing", "hooks:\n  - id: a\n    http: {url: \"http://h.example/\"}\n", []want{{2, "hooks[0].on", "on is required"}}},
		{"on empty list", "hooks:\n  - id: a\n    on: []\n    http: {url: \"http://h.example/\"}\n", []want{{3, "hooks[0].on", "on is required"}}},
		{"on null", "hooks:\n  - id: a\n    on: ~\n    http: {url: \"http://h.example/\"}\n", []want{{3, "hooks[0].on", "on is required"}}},
		{"on pattern with space", "hooks:\n  - id: a\n    on: [\"backup pre\"]\n    http: {url: \"http://h.example/\"}\n", []want{{3, "hooks[0].on[0]", `"backup pre" is not a valid event pattern`}}},
		{"on pattern with slash, as a string", "hooks:\n  - id: a\n    on: backup/pre\n    http: {url: \"http://h.example/\"}\n", []want{{3, "hooks[0].on[0]", "not a valid event pattern"}}},
		{"on empty pattern", "hooks:\n  - id: a\n    on: [x, \"\"]\n    http: {url: \"http://h.example/\"}\n", []want{{3, "hooks[0].on[1]", `"" is not a valid event pattern`}}},
		{"on block list item", "hooks:\n  - id: a\n    on:\n      - x\n      - \"a?\"\n    http: {url: \"http://h.example/\"}\n", []want{{5, "hooks[0].on[1]", `"a?" is not a valid event pattern`}}},
		{"status unknown", hookDoc("status: [success, done]", "http: {url: \"http://h.example/\"}"), []want{{4, "hooks[0].status[1]", `"done" is not a status`}}},
		{"status upper case", hookDoc("status: FAIL", "http: {url: \"http://h.example/\"}"), []want{{4, "hooks[0].status[0]", `"FAIL" is not a status`}}},
		{"status any with another", hookDoc("status:", "  - fail", "  - any", "http: {url: \"http://h.example/\"}"), []want{{6, "hooks[0].status[1]", "any matches every status; list it alone"}}},
		{"on_failure unknown", hookDoc("on_failure: stop", "http: {url: \"http://h.example/\"}"), []want{{4, "hooks[0].on_failure", `"stop" is not a failure policy`}}},
		{"mode unknown", hookDoc("mode: background", "http: {url: \"http://h.example/\"}"), []want{{4, "hooks[0].mode", `"background" is not a mode`}}},
		{"mode upper case", hookDoc("mode: ASYNC", "http: {url: \"http://h.example/\"}"), []want{{4, "hooks[0].mode", "use sync or async"}}},

		// Limits of async hooks.
		{"max_in_flight on a sync hook", hookDoc("max_in_flight: 3", "http: {url: \"http://h.example/\"}"), []want{{4, "hooks[0].max_in_flight", "apply to async hooks only"}}},
		{"rate on a sync hook", hookDoc("rate: 5/s", "http: {url: \"http://h.example/\"}"), []want{{4, "hooks[0].rate", "apply to async hooks only"}}},
		{"max_in_flight negative", hookDoc("mode: async", "max_in_flight: -2", "http: {url: \"http://h.example/\"}"), []want{{5, "hooks[0].max_in_flight", "must be from 1 to 10000"}}},
		{"rate without unit", hookDoc("mode: async", "rate: 50", "http: {url: \"http://h.example/\"}"), []want{{5, "hooks[0].rate", `"50" is not a rate`}}},
		{"rate zero", hookDoc("mode: async", "rate: 0/s", "http: {url: \"http://h.example/\"}"), []want{{5, "hooks[0].rate", "is not a rate"}}},
		{"rate per day", hookDoc("mode: async", "rate: 5/d", "http: {url: \"http://h.example/\"}"), []want{{5, "hooks[0].rate", "per s, m or h"}}},

		// The server section.
		{"server db scheme", "server:\n  db: mysql://x\n", []want{{2, "server.db", `"mysql://x" is not a database`}}},
		{"server log format", "server:\n  log_format: xml\n", []want{{2, "server.log_format", `"xml" is not a log format`}}},
		{"ingest secret written in the file", "server:\n  ingest:\n    xo: {secret: hunter2hunter2}\n", []want{{3, "server.ingest.xo.secret", "must not be written in the config file"}}},
		{"ingest secret missing", "server:\n  ingest:\n    virtfusion: {token: \"\"}\n", []want{{3, "server.ingest.virtfusion.token", "token is required"}}},
		{"ingest header name", "server:\n  ingest:\n    zerobyte: {header: \"X Secret\", secret: '{{ env \"Z\" }}'}\n", []want{{3, "server.ingest.zerobyte.header", "is not a header name"}}},

		// retry.
		{"retry on a sync hook", hookDoc("retry: {max_attempts: 3}", "http: {url: \"http://h.example/\"}"), []want{{4, "hooks[0].retry", "retry applies to async hooks only"}}},
		{"retry with mode sync", hookDoc("mode: sync", "retry:", "  max_attempts: 3", "http: {url: \"http://h.example/\"}"), []want{{5, "hooks[0].retry", "set mode: async"}}},
		{"retry max_attempts negative", hookDoc("mode: async", "retry:", "  max_attempts: -1", "http: {url: \"http://h.example/\"}"), []want{{6, "hooks[0].retry.max_attempts", "must be from 1 to 100"}}},
		{"retry max_attempts too many", hookDoc("mode: async", "retry:", "  max_attempts: 101", "http: {url: \"http://h.example/\"}"), []want{{6, "hooks[0].retry.max_attempts", "must be from 1 to 100"}}},
		{"retry schedule zero", hookDoc("mode: async", "retry:", "  schedule:", "    - 5s", "    - 0s", "http: {url: \"http://h.example/\"}"), []want{{8, "hooks[0].retry.schedule[1]", "a wait must be longer than zero"}}},
		{"retry schedule negative", hookDoc("mode: async", "retry: {schedule: [-1m]}", "http: {url: \"http://h.example/\"}"), []want{{5, "hooks[0].retry.schedule[0]", "longer than zero"}}},

		// The action.
		{"no action", hookDoc("description: nothing to do"), []want{{2, "hooks[0]", "an action is required: add http: or exec:"}}},
		{"null action", hookDoc("http: ~"), []want{{2, "hooks[0]", "an action is required"}}},
		{"both actions", hookDoc("http: {url: \"http://h.example/\"}", "exec: {command: /bin/true}"), []want{{2, "hooks[0]", "exactly one action: http or exec, not both"}}},

		// http: url and method.
		{"url missing", hookDoc("http:", "  method: POST"), []want{{4, "hooks[0].http.url", "url is required"}}},
		{"url template syntax", hookDoc("http:", "  url: \"http://h/{{ .data.x\""), []want{{5, "hooks[0].http.url", "template error on line 1 of the value"}}},
		{"url unknown function", hookDoc("http:", "  url: \"http://h/{{ nope }}\""), []want{{5, "hooks[0].http.url", `function "nope" not defined`}}},
		{"url constant with another scheme", hookDoc("http:", "  url: ftp://h.example/x"), []want{{5, "hooks[0].http.url", "the scheme must be http or https"}}},
		{"url constant without host", hookDoc("http:", "  url: \"http:///x\""), []want{{5, "hooks[0].http.url", "has no host"}}},
		{"url constant with a space", hookDoc("http:", "  url: \"http://h.example/a b\""), []want{{5, "hooks[0].http.url", "space or control character"}}},
		{"method unknown", httpHook("method: HEAD"), []want{{6, "hooks[0].http.method", `"HEAD" is not a supported method`}}},
		{"method unknown lower case", httpHook("method: options"), []want{{6, "hooks[0].http.method", `"OPTIONS" is not a supported method`}}},

		// http: body and body_type.
		{"body_type unknown", httpHook("body_type: yaml", "body: x"), []want{{6, "hooks[0].http.body_type", `"yaml" is not a body type`}}},
		{"body_type none with a body", httpHook("body_type: none", "body: x"), []want{{7, "hooks[0].http.body", "body_type none sends no body"}}},
		{"GET with a body", httpHook("method: GET", "body: x"), []want{{7, "hooks[0].http.body", "body_type none sends no body"}}},
		{"GET with body_type json", httpHook("method: GET", "body_type: json"), []want{{7, "hooks[0].http.body_type", "GET requests carry no body"}}},
		{"body_type xml without a body", httpHook("body_type: xml"), []want{{4, "hooks[0].http.body", "body_type xml needs a body"}}},
		{"body_type text without a body", httpHook("body_type: text"), []want{{4, "hooks[0].http.body", "body_type text needs a body"}}},
		{"body_type form without a body", httpHook("body_type: form"), []want{{4, "hooks[0].http.body", "body_type form needs a body"}}},
		{"structured xml body", httpHook("body_type: xml", "body: {a: b}"), []want{{7, "hooks[0].http.body", "a structured body needs body_type json or form"}}},
		{"structured text body", httpHook("body_type: text", "body: [a]"), []want{{7, "hooks[0].http.body", "write text bodies as a string"}}},
		{"form body as a list", httpHook("body_type: form", "body: [a, b]"), []want{{7, "hooks[0].http.body", "a form body must be an object"}}},
		{"form value an object", httpHook("body_type: form", "body:", "  a: x", "  b: {c: d}"), []want{{9, "hooks[0].http.body.b", "form values must be strings, numbers or booleans"}}},
		{"form value a list", httpHook("body_type: form", "body: {a: [1]}"), []want{{7, "hooks[0].http.body.a", "form values must be"}}},
		{"structured body leaf template", httpHook("body:", "  vm: \"{{ .data.vmid \"", "  n: 1"), []want{{7, "hooks[0].http.body.vm", "template error"}}},
		{"structured body nested leaf template", httpHook("body: {a: [\"ok\", \"{{ end }}\"]}"), []want{{6, "hooks[0].http.body.a[1]", "template error"}}},
		{"json body constant invalid", httpHook("body: \"{\\\"a\\\": }\""), []want{{6, "hooks[0].http.body", "not valid JSON"}}},
		{"json body template syntax", httpHook("body_type: json", "body: \"{{ if }}\""), []want{{7, "hooks[0].http.body", "template error"}}},
		{"xml body constant invalid", httpHook("body_type: xml", "body: \"<a><b></a>\""), []want{{7, "hooks[0].http.body", "not well-formed XML"}}},
		{"xml body two roots", httpHook("body_type: xml", "body: \"<a/><b/>\""), []want{{7, "hooks[0].http.body", "exactly one root element"}}},
		{"form body constant invalid", httpHook("body_type: form", "body: \"a=%zz\""), []want{{7, "hooks[0].http.body", "not valid form encoding"}}},

		// http: headers.
		{"header name invalid", httpHook("headers:", "  \"X Bad\": v"), []want{{7, "hooks[0].http.headers.X Bad", `"X Bad" is not a valid header name`}}},
		{"header name with colon", httpHook("headers: {\"X:A\": v}"), []want{{6, "hooks[0].http.headers.X:A", "not a valid header name"}}},
		{"header Content-Length", httpHook("headers:", "  content-length: \"5\""), []want{{7, "hooks[0].http.headers.content-length", "the Content-Length header is set by hookpoint"}}},
		{"header webhook-signature", httpHook("headers:", "  webhook-signature: v1,x"), []want{{7, "hooks[0].http.headers.webhook-signature", "Webhook-Signature header is set by hookpoint"}}},
		{"header Transfer-Encoding", httpHook("headers:", "  Transfer-Encoding: chunked"), []want{{7, "hooks[0].http.headers.Transfer-Encoding", "cannot be configured"}}},
		{"header value with a line break", httpHook("headers:", "  X-A: \"a\\r\\nX-B: b\""), []want{{7, "hooks[0].http.headers.X-A", "control character"}}},
		{"header value template", httpHook("headers:", "  X-A: \"{{ .x \""), []want{{7, "hooks[0].http.headers.X-A", "template error"}}},

		// http: auth.
		{"auth type missing", httpHook("auth:", "  token: t"), []want{{6, "hooks[0].http.auth.type", `"" is not an auth type`}}},
		{"auth type unknown", httpHook("auth:", "  type: digest"), []want{{7, "hooks[0].http.auth.type", `"digest" is not an auth type`}}},
		{"auth none with a token", httpHook("auth:", "  type: none", "  token: t"), []want{{8, "hooks[0].http.auth.token", "token does not apply to auth type none"}}},
		{"auth basic with a token", httpHook("auth:", "  type: basic", "  username: u", "  token: t"), []want{{9, "hooks[0].http.auth.token", "token does not apply to auth type basic"}}},
		{"auth basic with base64", httpHook("auth:", "  type: basic", "  username: u", "  base64: true"), []want{{9, "hooks[0].http.auth.base64", "base64 does not apply"}}},
		{"auth basic without username", httpHook("auth:", "  type: basic", "  password: p"), []want{{6, "hooks[0].http.auth.username", "basic auth needs a username"}}},
		{"auth basic username template", httpHook("auth:", "  type: basic", "  username: \"{{\""), []want{{8, "hooks[0].http.auth.username", "template error"}}},
		{"auth basic password template", httpHook("auth:", "  type: basic", "  username: u", "  password: \"{{ .x\""), []want{{9, "hooks[0].http.auth.password", "template error"}}},
		{"auth bearer without token", httpHook("auth:", "  type: bearer"), []want{{6, "hooks[0].http.auth.token", "bearer auth needs a token"}}},
		{"auth bearer with username", httpHook("auth:", "  type: bearer", "  token: t", "  username: u"), []want{{9, "hooks[0].http.auth.username", "username does not apply to auth type bearer"}}},
		{"auth bearer with header", httpHook("auth:", "  type: bearer", "  token: t", "  header: X-Key"), []want{{9, "hooks[0].http.auth.header", "header does not apply to auth type bearer"}}},
		{"auth bearer token template", httpHook("auth:", "  type: bearer", "  token: \"{{ .x\""), []want{{8, "hooks[0].http.auth.token", "template error"}}},
		{"auth api_key without token", httpHook("auth:", "  type: api_key", "  header: X-Key"), []want{{6, "hooks[0].http.auth.token", "api_key auth needs a token"}}},
		{"auth api_key without header or query", httpHook("auth:", "  type: api_key", "  token: t"), []want{{6, "hooks[0].http.auth", "set exactly one of header and query"}}},
		{"auth api_key with header and query", httpHook("auth:", "  type: api_key", "  token: t", "  header: X-Key", "  query: key"), []want{{6, "hooks[0].http.auth", "set exactly one of header and query"}}},
		{"auth api_key header name invalid", httpHook("auth:", "  type: api_key", "  token: t", "  header: \"X Key\""), []want{{9, "hooks[0].http.auth.header", `"X Key" is not a valid header name`}}},
		{"auth api_key with base64", httpHook("auth:", "  type: api_key", "  token: t", "  query: k", "  base64: true"), []want{{10, "hooks[0].http.auth.base64", "base64 does not apply to auth type api_key"}}},

		// http: timeout, tls, sign, expect.
		{"http timeout negative", httpHook("timeout: -1s"), []want{{6, "hooks[0].http.timeout", "must be between 0 and 24h"}}},
		{"http timeout too long", httpHook("timeout: 25h"), []want{{6, "hooks[0].http.timeout", "must be between 0 and 24h"}}},
		{"http timeout seconds too long", httpHook("timeout: 86401"), []want{{6, "hooks[0].http.timeout", "must be between 0 and 24h"}}},
		{"tls cert without key", httpHook("tls:", "  cert_file: /c.pem"), []want{{6, "hooks[0].http.tls", "cert_file and key_file go together"}}},
		{"tls key without cert", httpHook("tls: {key_file: /k.pem}"), []want{{6, "hooks[0].http.tls", "go together"}}},
		{"sign without secret", httpHook("sign: {}"), []want{{6, "hooks[0].http.sign.secret", "at least one secret"}}},
		{"sign with empty list", httpHook("sign:", "  secret: []"), []want{{7, "hooks[0].http.sign.secret", "at least one secret (whsec_...) is required"}}},
		{"sign secret without prefix", httpHook("sign:", "  secret: MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), []want{{7, "hooks[0].http.sign.secret[0]", "starts with whsec_"}}},
		{"sign secret not base64", httpHook("sign: {secret: \"whsec_not base64!\"}"), []want{{6, "hooks[0].http.sign.secret[0]", "not valid base64"}}},
		{"sign secret too short", httpHook("sign:", "  secret:", "    - "+goodSecret, "    - "+shortSecret), []want{{9, "hooks[0].http.sign.secret[1]", "too short"}}},
		{"sign secret template", httpHook("sign: {secret: \"{{ env \"}"), []want{{6, "hooks[0].http.sign.secret[0]", "template error"}}},
		{"expect below 100", httpHook("expect: 99"), []want{{6, "hooks[0].http.expect[0]", "99 is not an HTTP status code"}}},
		{"expect above 599", httpHook("expect: [200, 600]"), []want{{6, "hooks[0].http.expect[1]", "600 is not an HTTP status code"}}},
		{"expect a redirect", httpHook("expect:", "  - 200", "  - 302"), []want{{8, "hooks[0].http.expect[1]", "redirects are never followed"}}},

		// exec.
		{"command missing", hookDoc("exec:", "  args: [a]"), []want{{4, "hooks[0].exec.command", "command is required"}}},
		{"command template", hookDoc("exec:", "  command: \"/bin/{{ .data.x }}\""), []want{{5, "hooks[0].exec.command", "the command is fixed text"}}},
		{"command placeholder", hookDoc("exec:", "  command: /opt/%CV4PVE_AUTOSNAP_VMID%.sh"), []want{{5, "hooks[0].exec.command", "pass event values in args or env"}}},
		{"command NUL", hookDoc("exec:", "  command: \"/bin/a\\0b\""), []want{{5, "hooks[0].exec.command", "NUL byte"}}},
		{"shell with args", execHook("shell: true", "args: [a]"), []want{{7, "hooks[0].exec.args", "use env instead of args"}}},
		{"arg template", execHook("args:", "  - ok", "  - \"{{ .x\""), []want{{8, "hooks[0].exec.args[1]", "template error"}}},
		{"arg NUL", execHook("args: [\"a\\0\"]"), []want{{6, "hooks[0].exec.args[0]", "NUL byte"}}},
		{"env name invalid", execHook("env:", "  1X: v"), []want{{7, "hooks[0].exec.env.1X", `"1X" is not a valid environment variable name`}}},
		{"env name with dash", execHook("env: {A-B: v}"), []want{{6, "hooks[0].exec.env.A-B", "not a valid environment variable name"}}},
		{"env value template", execHook("env:", "  A: \"{{ .x\""), []want{{7, "hooks[0].exec.env.A", "template error"}}},
		{"stdin unknown", execHook("stdin: yaml"), []want{{6, "hooks[0].exec.stdin", `"yaml" is not a stdin mode`}}},
		{"exec timeout negative", execHook("timeout: -5"), []want{{6, "hooks[0].exec.timeout", "must be between 0 and 24h"}}},
		{"exec timeout too long", execHook("timeout: 48h"), []want{{6, "hooks[0].exec.timeout", "must be between 0 and 24h"}}},

		// Several issues at once come sorted by line.
		{"several", "hooks:\n  - id: A\n    on: [\"a b\"]\n    mode: later\n    http: {url: \"ftp://x\"}\n" + validHook,
			[]want{{2, "hooks[0].id", "not a valid id"}, {3, "hooks[0].on[0]", "not a valid event pattern"}, {4, "hooks[0].mode", "not a mode"}, {5, "hooks[0].http.url", "scheme"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inBothFormats(t, tc.src, func(t *testing.T, name string, data []byte) {
				cfg, err := config.Parse(name, data)
				if cfg != nil {
					t.Errorf("Parse returned a config with the error")
				}
				checkIssues(t, err, name, tc.wants...)
				// Issues come sorted by line.
				issues := issuesOf(t, err)
				if !sort.SliceIsSorted(issues, func(i, j int) bool { return issues[i].Line < issues[j].Line }) {
					t.Errorf("issues not sorted by line: %v", err)
				}
			})
		})
	}
}

// TestValidRules has the accepted side of the rules: each config loads and compiles.
func TestValidRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		src   string
		check func(t *testing.T, h *config.Hook)
	}{
		{"id forms", "hooks:\n  - id: 0.backup_db-1\n    on: [x]\n    http: {url: \"http://h.example/\"}\n", func(t *testing.T, h *config.Hook) {
			if h.ID != "0.backup_db-1" {
				t.Errorf("id = %q", h.ID)
			}
		}},
		{"patterns", "hooks:\n  - id: a\n    on: [\"*\", \"backup.*\", \"vzdump.backup-start\", \"A_b.*.c\", \"**\"]\n    http: {url: \"http://h.example/\"}\n", func(t *testing.T, h *config.Hook) {
			if len(h.On) != 5 || h.On[2] != "vzdump.backup-start" {
				t.Errorf("on = %q", h.On)
			}
		}},
		{"status any alone", hookDoc("status: any", "http: {url: \"http://h.example/\"}"), nil},
		{"every status", hookDoc("status: [success, warning, fail, cancelled]", "http: {url: \"http://h.example/\"}"), func(t *testing.T, h *config.Hook) {
			if len(h.Status) != 4 {
				t.Errorf("status = %q", h.Status)
			}
		}},
		{"policies and modes", hookDoc("on_failure: ignore", "mode: async", "http: {url: \"http://h.example/\"}"), func(t *testing.T, h *config.Hook) {
			if h.FailurePolicy(true) != config.OnFailureIgnore || !h.IsAsync() {
				t.Errorf("policy %q async %v", h.FailurePolicy(true), h.IsAsync())
			}
		}},
		{"retry zero attempts means the default", hookDoc("mode: async", "retry: {max_attempts: 0}", "http: {url: \"http://h.example/\"}"), nil},
		{"retry bounds", hookDoc("mode: async", "retry: {max_attempts: 100, schedule: [1ms, 90]}", "http: {url: \"http://h.example/\"}"), func(t *testing.T, h *config.Hook) {
			if got := h.Retry.Schedule; len(got) != 2 || got[0].D() != time.Millisecond || got[1].D() != 90*time.Second {
				t.Errorf("schedule = %v", got)
			}
		}},
		{"timeout bounds", httpHook("timeout: 24h"), func(t *testing.T, h *config.Hook) {
			if h.HTTP.Timeout.D() != config.MaxTimeout {
				t.Errorf("timeout = %v", h.HTTP.Timeout.D())
			}
		}},
		{"expect bounds", httpHook("expect: [100, 204, 410, 599]"), nil},
		{"header names", httpHook("headers: {X-Custom_1: a, \"Authorization\": \"Bearer {{ env \\\"T\\\" }}\", Host: h.example}"), func(t *testing.T, h *config.Hook) {
			want := []string{"Authorization", "Host", "X-Custom_1"}
			if strings.Join(h.HTTP.Compiled.HeaderNames, ",") != strings.Join(want, ",") {
				t.Errorf("header names = %q, want %q", h.HTTP.Compiled.HeaderNames, want)
			}
		}},
		{"auth none", httpHook("auth: {type: none}"), nil},
		{"auth basic without password", httpHook("auth: {type: basic, username: u}"), func(t *testing.T, h *config.Hook) {
			if h.HTTP.Compiled.Username == nil || h.HTTP.Compiled.Password == nil {
				t.Error("basic auth templates not compiled")
			}
		}},
		{"auth bearer base64", httpHook("auth: {type: bearer, token: t, base64: true}"), func(t *testing.T, h *config.Hook) {
			if h.HTTP.Compiled.Token == nil {
				t.Error("token not compiled")
			}
		}},
		{"auth api_key query", httpHook("auth: {type: api_key, token: t, query: key}"), nil},
		{"sign template secret is not checked until sent", httpHook("sign: {secret: '{{ env \"WHSEC\" }}'}"), func(t *testing.T, h *config.Hook) {
			if len(h.HTTP.Compiled.Secrets) != 1 {
				t.Errorf("secrets = %d", len(h.HTTP.Compiled.Secrets))
			}
		}},
		{"sign several secrets", httpHook("sign: {secret: [" + goodSecret + ", '{{ file \"/s\" }}']}"), func(t *testing.T, h *config.Hook) {
			if len(h.HTTP.Compiled.Secrets) != 2 {
				t.Errorf("secrets = %d", len(h.HTTP.Compiled.Secrets))
			}
		}},
		{"xml body", httpHook("body_type: xml", "body: \"<a v='{{ .data.v }}'>{{ .data.x }}</a>\""), nil},
		{"text body", httpHook("body_type: text", "body: \"hello {{ .data.x }}\""), nil},
		{"form structured body", httpHook("body_type: form", "body: {a: \"{{ .data.x }}\", n: 1, ok: true}"), nil},
		{"autosnap placeholders", httpHook("body: '{\"vm\": \"%CV4PVE_AUTOSNAP_VMID%\"}'"), nil},
		{"shell with env", execHook("shell: true", "env: {VM: \"{{ .data.vmid }}\"}"), nil},
		{"stdin json", execHook("stdin: json"), nil},
		{"stdin none", execHook("stdin: none"), nil},
		{"exec timeout zero is the default", execHook("timeout: 0"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inBothFormats(t, tc.src, func(t *testing.T, name string, data []byte) {
				cfg := mustParse(t, name, data)
				if len(cfg.Hooks) != 1 {
					t.Fatalf("%d hooks", len(cfg.Hooks))
				}
				h := cfg.Hooks[0]
				if h.HTTP != nil && h.HTTP.Compiled == nil || h.Exec != nil && h.Exec.Compiled == nil {
					t.Fatal("templates not compiled")
				}
				if tc.check != nil {
					tc.check(t, h)
				}
			})
		})
	}
}

// TestHTTPDefaults checks the method and body_type validation fills in.
func TestHTTPDefaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		lines            []string
		method, bodyType string
	}{
		{nil, http.MethodPost, config.BodyJSON},
		{[]string{"method: post"}, http.MethodPost, config.BodyJSON},
		{[]string{"method: get"}, http.MethodGet, config.BodyNone},
		{[]string{"method: PUT"}, http.MethodPut, config.BodyJSON},
		{[]string{"method: Patch"}, http.MethodPatch, config.BodyJSON},
		{[]string{"method: DELETE"}, http.MethodDelete, config.BodyNone},
		{[]string{"method: DELETE", "body: {id: x}"}, http.MethodDelete, config.BodyJSON},
		{[]string{"body: {id: x}"}, http.MethodPost, config.BodyJSON},
		{[]string{"body_type: none"}, http.MethodPost, config.BodyNone},
		{[]string{"method: GET", "body_type: none"}, http.MethodGet, config.BodyNone},
		{[]string{"body_type: text", "body: hi"}, http.MethodPost, config.BodyText},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.lines, ","), func(t *testing.T) {
			t.Parallel()
			inBothFormats(t, httpHook(tc.lines...), func(t *testing.T, name string, data []byte) {
				a := mustParse(t, name, data).Hooks[0].HTTP
				if a.Method != tc.method || a.BodyType != tc.bodyType {
					t.Errorf("method %q body_type %q, want %q %q", a.Method, a.BodyType, tc.method, tc.bodyType)
				}
				if a.Timeout != 0 {
					t.Errorf("timeout %v, want 0 (the default applies when sending)", a.Timeout.D())
				}
			})
		})
	}
}

// TestHookDefaults checks what a hook means when it says nothing.
func TestHookDefaults(t *testing.T) {
	t.Parallel()
	h := mustParse(t, "c.yaml", []byte(httpHook())).Hooks[0]
	if !h.IsEnabled() || h.IsAsync() || h.Order != 0 || h.Action() != "http" {
		t.Errorf("enabled %v async %v order %d action %q", h.IsEnabled(), h.IsAsync(), h.Order, h.Action())
	}
	if h.FailurePolicy(true) != config.OnFailureAbort || h.FailurePolicy(false) != config.OnFailureWarn {
		t.Errorf("failure policy gate %q, notification %q", h.FailurePolicy(true), h.FailurePolicy(false))
	}
	if len(h.Status) != 0 {
		t.Errorf("status %q, want empty (any)", h.Status)
	}
	e := mustParse(t, "c.yaml", []byte(execHook())).Hooks[0]
	if e.Action() != "exec" || e.Exec.Shell || e.Exec.Timeout != 0 || e.Exec.Stdin != "" {
		t.Errorf("exec defaults: %+v", e.Exec)
	}
	off := mustParse(t, "c.yaml", []byte(hookDoc("enabled: false", "http: {url: \"http://h.example/\"}"))).Hooks[0]
	if off.IsEnabled() {
		t.Error("enabled: false is enabled")
	}
	warn := mustParse(t, "c.yaml", []byte(hookDoc("on_failure: warn", "http: {url: \"http://h.example/\"}"))).Hooks[0]
	if warn.FailurePolicy(true) != config.OnFailureWarn {
		t.Errorf("on_failure warn on a gate = %q", warn.FailurePolicy(true))
	}
}

// TestDuplicateHeaderNames: names differ only in case; which one is reported depends
// on map order, so either is accepted.
func TestDuplicateHeaderNames(t *testing.T) {
	t.Parallel()
	src := httpHook("headers:", "  X-Token: a", "  x-token: b")
	inBothFormats(t, src, func(t *testing.T, name string, data []byte) {
		_, err := config.Parse(name, data)
		issues := issuesOf(t, err)
		if len(issues) != 1 {
			t.Fatalf("issues: %v", err)
		}
		is := issues[0]
		ok := is.Line == 7 && is.Field == "hooks[0].http.headers.X-Token" || is.Line == 8 && is.Field == "hooks[0].http.headers.x-token"
		if !ok || is.File != name || !strings.Contains(is.Message, "header X-Token is given twice") {
			t.Errorf("issue %+v", is)
		}
	})
}

// TestValidateInCode checks Validate on a config built in Go: no file, no positions.
func TestValidateInCode(t *testing.T) {
	t.Parallel()
	cfg := &config.Config{Hooks: []*config.Hook{
		{ID: "a", On: config.StringList{"x"}, HTTP: &config.HTTP{URL: "http://h.example/", Method: "put"}},
		nil,
		{ID: "b", On: config.StringList{"x"}, Exec: &config.Exec{Command: "/bin/true", Args: []string{"{{ .data.x }}"}}},
	}}
	checkIssues(t, cfg.Validate(), "config", want{0, "hooks[1]", "a hook must be an object"})
	cfg.Hooks = append(cfg.Hooks[:1], cfg.Hooks[2])
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Hooks[0].HTTP.Method != http.MethodPut || cfg.Hooks[0].HTTP.Compiled == nil || len(cfg.Hooks[1].Exec.Compiled.Args) != 1 {
		t.Errorf("Validate did not normalize and compile: %+v %+v", cfg.Hooks[0].HTTP, cfg.Hooks[1].Exec.Compiled)
	}
	named := &config.Config{File: "api", Hooks: []*config.Hook{{ID: "a"}}}
	err := named.Validate()
	checkIssues(t, err, "api", want{0, "hooks[0].on", "on is required"}, want{0, "hooks[0]", "an action is required"})
	if !errors.As(err, new(*config.Error)) {
		t.Errorf("%T", err)
	}
}

func TestDecodeSigningSecret(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		keyLen  int
		errFrag string
	}{
		{goodSecret, 24, ""},
		{"whsec_" + strings.Repeat("A", 24), 18, ""},
		{shortSecret, 0, "too short"},
		{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 0, "starts with whsec_"},
		{"whsec_***", 0, "not valid base64"},
		{"whsec_", 0, "too short"},
	}
	for _, tc := range cases {
		key, err := config.DecodeSigningSecret(tc.in)
		switch {
		case tc.errFrag == "" && (err != nil || len(key) != tc.keyLen):
			t.Errorf("%q: key %d bytes, err %v; want %d bytes", tc.in, len(key), err, tc.keyLen)
		case tc.errFrag != "" && (err == nil || !strings.Contains(err.Error(), tc.errFrag)):
			t.Errorf("%q: err %v, want ...%s...", tc.in, err, tc.errFrag)
		}
	}
}
