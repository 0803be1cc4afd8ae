package receiver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeHooks(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseAcceptsJSONAndYAML(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, text string }{
		{"json", `[
	{
		"id": "deploy",
		"execute-command": "/bin/true",
		"command-working-directory": "/tmp",
		"response-message": "ok",
		"response-headers": [{"name": "X-A", "value": "1"}],
		"include-command-output-in-response": true,
		"include-command-output-in-response-on-error": true,
		"pass-arguments-to-command": [{"source": "payload", "name": "head_commit.id"}],
		"pass-environment-to-command": [{"source": "header", "name": "X-Event", "envname": "EVENT"}],
		"pass-file-to-command": [{"source": "payload", "name": "data", "envname": "DATA", "base64decode": true}],
		"parse-parameters-as-json": [{"source": "payload", "name": "payload"}],
		"trigger-rule": {"and": [
			{"match": {"type": "payload-hmac-sha256", "secret": "s", "parameter": {"source": "header", "name": "X-Hub-Signature-256"}}},
			{"not": {"match": {"type": "value", "value": "refs/heads/wip", "parameter": {"source": "payload", "name": "ref"}}}},
			{"or": [
				{"match": {"type": "regex", "regex": "^main$", "parameter": {"source": "url", "name": "branch"}}},
				{"match": {"type": "ip-whitelist", "ip-range": "10.0.0.0/8"}}
			]}
		]},
		"trigger-rule-mismatch-http-response-code": 400,
		"trigger-signature-soft-failures": true,
		"incoming-payload-content-type": "application/json",
		"success-http-response-code": 202,
		"http-methods": ["POST"],
		"timeout": "90s",
		"max-concurrency": 2,
		"max-queue": 3,
		"some-field-webhook-does-not-know": 1
	}
]`},
		{"yaml", `
- id: deploy
  execute-command: /bin/true
  command-working-directory: /tmp
  response-message: ok
  response-headers: [{name: X-A, value: "1"}]
  include-command-output-in-response: true
  include-command-output-in-response-on-error: true
  pass-arguments-to-command: [{source: payload, name: head_commit.id}]
  pass-environment-to-command: [{source: header, name: X-Event, envname: EVENT}]
  pass-file-to-command: [{source: payload, name: data, envname: DATA, base64decode: true}]
  parse-parameters-as-json: [{source: payload, name: payload}]
  trigger-rule:
    and:
      - match: {type: payload-hmac-sha256, secret: s, parameter: {source: header, name: X-Hub-Signature-256}}
      - not: {match: {type: value, value: refs/heads/wip, parameter: {source: payload, name: ref}}}
      - or:
          - match: {type: regex, regex: "^main$", parameter: {source: url, name: branch}}
          - match: {type: ip-whitelist, ip-range: 10.0.0.0/8}
  trigger-rule-mismatch-http-response-code: 400
  trigger-signature-soft-failures: true
  incoming-payload-content-type: application/json
  success-http-response-code: 202
  http-methods: [POST]
  timeout: 90
  max-concurrency: 2
  max-queue: 3
  some-field-webhook-does-not-know: 1
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hooks := parseHooks(t, tc.text)
			if len(hooks) != 1 {
				t.Fatalf("%d hooks", len(hooks))
			}
			h := hooks[0]
			switch {
			case h.ID != "deploy", h.ExecuteCommand != "/bin/true", h.CommandWorkingDirectory != "/tmp",
				h.ResponseMessage != "ok", len(h.ResponseHeaders) != 1 || h.ResponseHeaders[0] != (Header{"X-A", "1"}),
				!h.CaptureOutput, !h.CaptureOutputOnError,
				len(h.PassArguments) != 1 || h.PassArguments[0] != arg(SourcePayload, "head_commit.id"),
				len(h.PassEnvironment) != 1 || h.PassEnvironment[0] != (Argument{Source: "header", Name: "X-Event", EnvName: "EVENT"}),
				len(h.PassFiles) != 1 || !h.PassFiles[0].Base64Decode,
				len(h.ParseParametersAsJSON) != 1,
				h.TriggerRule == nil || len(h.TriggerRule.And) != 3 || h.TriggerRule.And[1].Not == nil || len(h.TriggerRule.And[2].Or) != 2,
				h.MismatchCode != 400, !h.SignatureSoftFailures, h.IncomingPayloadContentType != "application/json",
				h.SuccessCode != 202, len(h.HTTPMethods) != 1, time.Duration(h.Timeout) != 90*time.Second,
				h.MaxConcurrency != 2, h.MaxQueue != 3:
				t.Fatalf("parsed %+v", *h)
			}
			if h.TriggerRule.And[2].Or[0].Match.re == nil {
				t.Fatal("regex not compiled")
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	const okRule = `{match: {type: value, value: x, parameter: {source: url, name: a}}}`
	for _, tc := range []struct {
		name, text string
		want       []string // substrings of the error, after the file name
	}{
		{"bad json", `[{"id": "a", "execute-command": "/bin/true"`, []string{"line"}},
		{"bad yaml", "- id: a\n  execute-command: [unclosed\n", []string{"line"}},
		{"yaml tab indent", "- id: a\n\texecute-command: x\n", []string{"line"}},
		{"not a list", `{"id": "a"}`, []string{"cannot unmarshal"}},
		{"wrong field type", "- id: a\n  max-queue: [1]\n", []string{"cannot unmarshal"}},
		{"bad duration", "- id: a\n  timeout: soon\n", []string{`"soon" is not a duration`}},
		{"missing id", "- execute-command: /bin/true\n", []string{"hook 1: id is required"}},
		{"missing id second", "- id: a\n- response-message: x\n", []string{"hook 2: id is required"}},
		{"empty entry", "- id: a\n-\n", []string{"hook 2: empty"}},
		{"query mark in id", "- id: a?b\n", []string{`hook "a?b"`, "cannot contain"}},
		{"duplicate id", "- id: a\n- id: b\n- id: a\n", []string{`hook "a": duplicate id`}},
		{"negative limit", "- id: a\n  max-queue: -2\n", []string{`hook "a"`, "cannot be negative"}},
		{"bad regex", "- id: re\n  trigger-rule: {match: {type: regex, regex: '(', parameter: {source: url, name: a}}}\n",
			[]string{`hook "re"`, "match regex", "missing closing )"}},
		{"bad ip-range cidr", "- id: ip\n  trigger-rule: {match: {type: ip-whitelist, ip-range: 10.0.0.0/33}}\n",
			[]string{`hook "ip"`, "ip-range", "10.0.0.0/33"}},
		{"bad ip-range address", "- id: ip\n  trigger-rule: {match: {type: ip-whitelist, ip-range: '10.0.0.1 gateway'}}\n",
			[]string{`"gateway" is not an address or CIDR`}},
		{"empty ip-range", "- id: ip\n  trigger-rule: {match: {type: ip-whitelist}}\n", []string{"needs an ip-range"}},
		{"bad argument source", "- id: src\n  pass-arguments-to-command: [{source: body, name: x}]\n",
			[]string{`hook "src"`, `argument source "body"`}},
		{"bad env source", "- id: src\n  pass-environment-to-command: [{source: headers, name: x}]\n", []string{`"headers"`}},
		{"bad file source", "- id: src\n  pass-file-to-command: [{name: x}]\n", []string{`argument source ""`}},
		{"bad json-param source", "- id: src\n  parse-parameters-as-json: [{source: cookie, name: x}]\n", []string{`"cookie"`}},
		{"bad rule parameter source", "- id: src\n  trigger-rule: {match: {type: value, value: x, parameter: {source: nope, name: a}}}\n",
			[]string{`"nope"`}},
		{"standard-webhooks without whsec_", "- id: sw\n  trigger-rule: {match: {type: standard-webhooks, secret: plain}}\n",
			[]string{`hook "sw"`, "standard-webhooks secret", "whsec_"}},
		{"standard-webhooks bad base64", "- id: sw\n  trigger-rule: {match: {type: standard-webhooks, secret: 'whsec_!!!'}}\n",
			[]string{"not valid base64"}},
		{"standard-webhooks short key", "- id: sw\n  trigger-rule: {match: {type: standard-webhooks, secret: whsec_c2hvcnQ=}}\n",
			[]string{"too short"}},
		{"standard-webhooks no secret", "- id: sw\n  trigger-rule: {match: {type: standard-webhooks}}\n", []string{"needs a secret"}},
		{"unknown match type", "- id: m\n  trigger-rule: {match: {type: scalr-signature}}\n", []string{`match type "scalr-signature" is not supported`}},
		{"rule with two kinds", "- id: two\n  trigger-rule: {match: {type: value, value: x, parameter: {source: url, name: a}}, not: " + okRule + "}\n",
			[]string{`hook "two"`, "exactly one of and, or, not, match"}},
		{"empty rule", "- id: none\n  trigger-rule: {}\n", []string{"exactly one of"}},
		{"nested rule with two kinds", "- id: nested\n  trigger-rule: {or: [" + okRule + ", {and: [" + okRule + "], or: [" + okRule + "]}]}\n",
			[]string{"exactly one of"}},
		{"bad rule under not", "- id: n\n  trigger-rule: {not: {match: {type: regex, regex: '[', parameter: {source: url, name: a}}}}\n",
			[]string{"match regex"}},
		{"several errors at once", "- id: a\n  max-concurrency: -1\n- execute-command: x\n", []string{"cannot be negative", "hook 2: id is required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := Parse("/etc/hooks/h.yaml", []byte(tc.text))
			if err == nil {
				t.Fatalf("no error for\n%s", tc.text)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "/etc/hooks/h.yaml: ") {
				t.Errorf("error does not start with the file name: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
		})
	}
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := writeHooks(t, dir, "a.json", `[{"id": "one"}, {"id": "two"}]`)
	b := writeHooks(t, dir, "b.yaml", "- id: three\n- id: two\n")
	bad := writeHooks(t, dir, "bad.yaml", "- id: x\n  trigger-rule: {match: {type: regex, regex: '*', parameter: {source: url, name: q}}}\n")
	for _, tc := range []struct {
		name  string
		paths []string
		want  []string
	}{
		{"duplicate id across files", []string{a, b}, []string{b, `hook id "two" is also defined in ` + a}},
		{"missing file", []string{a, filepath.Join(dir, "nope.json")}, []string{"hooks file", "nope.json", "no such file"}},
		{"bad rule", []string{a, bad}, []string{bad + `: line 2: hook "x": match regex`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hooks, _, err := Load(tc.paths, LoadOptions{})
			if err == nil {
				t.Fatalf("loaded %d hooks, want an error", len(hooks))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	t.Run("several files", func(t *testing.T) {
		t.Parallel()
		hooks, _, err := Load([]string{a, writeHooks(t, t.TempDir(), "c.yaml", "- id: three\n")}, LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, h := range hooks {
			ids = append(ids, h.ID)
		}
		if strings.Join(ids, ",") != "one,two,three" {
			t.Fatalf("ids %v", ids)
		}
	})
}

func TestLoadTemplate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"HOOK_SECRET": "s3cret", "HOOK_ID": "from-env"}
	getenv := func(k string) string { return env[k] }
	text := `[{"id": "{{ getenv "HOOK_ID" }}", "execute-command": "/bin/true",
  "trigger-rule": {"match": {"type": "payload-hmac-sha1", "secret": "{{ getenv "HOOK_SECRET" }}",
    "parameter": {"source": "header", "name": "X-Hub-Signature"}}},
  "response-message": "{{ getenv "UNSET" }}|{{ "a" | printf "%s%s" "b" }}"}]`
	p := writeHooks(t, dir, "hooks.json.tmpl", text)

	hooks, _, err := Load([]string{p}, LoadOptions{Template: true, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	h := hooks[0]
	if h.ID != "from-env" || h.TriggerRule.Match.Secret != "s3cret" || h.ResponseMessage != "|ba" {
		t.Fatalf("template not applied: id %q secret %q message %q", h.ID, h.TriggerRule.Match.Secret, h.ResponseMessage)
	}

	t.Run("without -template the text is taken as it is", func(t *testing.T) {
		t.Parallel()
		p := writeHooks(t, t.TempDir(), "h.yaml", "- id: '{{ getenv \"HOOK_ID\" }}'\n")
		hooks, _, err := Load([]string{p}, LoadOptions{Getenv: getenv})
		if err != nil {
			t.Fatal(err)
		}
		if hooks[0].ID != `{{ getenv "HOOK_ID" }}` {
			t.Fatalf("id %q", hooks[0].ID)
		}
	})
	t.Run("os.Getenv by default", func(t *testing.T) {
		t.Parallel()
		// PATH is set in every test environment; t.Setenv cannot be used with t.Parallel.
		p := writeHooks(t, t.TempDir(), "h.yaml", "- id: x\n  response-message: '{{ getenv \"PATH\" }}'\n")
		hooks, _, err := Load([]string{p}, LoadOptions{Template: true})
		if err != nil {
			t.Fatal(err)
		}
		if hooks[0].ResponseMessage != os.Getenv("PATH") {
			t.Fatalf("message %q", hooks[0].ResponseMessage)
		}
	})
	for _, tc := range []struct{ name, text, want string }{
		{"template syntax error", `[{"id": "{{ getenv "X" }"}]`, "template"},
		{"unknown function", `[{"id": "{{ env "X" }}"}]`, `function "env" not defined`},
		{"execution error", `[{"id": "{{ index 1 2 }}"}]`, "template"},
		{"result is not a hooks file", `[{"id": "{{ getenv "HOOK_ID" }}", "timeout": "{{ getenv "HOOK_SECRET" }}"}]`, "is not a duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := writeHooks(t, t.TempDir(), "hooks.json", tc.text)
			_, _, err := Load([]string{p}, LoadOptions{Template: true, Getenv: getenv})
			if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %s and saying %q", err, p, tc.want)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		want time.Duration
	}{
		{"30s", 30 * time.Second}, {"1m30s", 90 * time.Second}, {"5", 5 * time.Second},
		{"0.5", 500 * time.Millisecond}, {`"250ms"`, 250 * time.Millisecond},
	} {
		hooks := parseHooks(t, "- id: a\n  timeout: "+tc.text+"\n")
		if got := time.Duration(hooks[0].Timeout); got != tc.want {
			t.Errorf("timeout: %s = %s, want %s", tc.text, got, tc.want)
		}
	}
}
