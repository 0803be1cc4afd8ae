package receiver

import (
	"strings"
	"testing"
	"time"
)

// TestKeysMatchAnyCase: keys are matched as webhook matches them (encoding/json:
// whatever their case), at every level: hook, rule, match, argument, header. A rule
// spelled "Trigger-Rule" is enforced, not dropped.
func TestKeysMatchAnyCase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, text string }{
		{"json", `[{"ID": "deploy", "EXECUTE-COMMAND": "/bin/true", "Include-Command-Output-In-Response": true,
  "Response-Headers": [{"NAME": "X-A", "Value": "1"}],
  "Pass-Arguments-To-Command": [{"Source": "payload", "NAME": "ref"}],
  "Trigger-Rule-Mismatch-Http-Response-Code": 403,
  "Trigger-Rule": {"AND": [
    {"Match": {"Type": "value", "VALUE": "s3cret", "Parameter": {"SOURCE": "header", "Name": "X-Token"}}},
    {"NOT": {"match": {"TYPE": "ip-whitelist", "IP-Range": "10.0.0.0/8"}}}
  ]}}]`},
		{"yaml", `
- Id: deploy
  Execute-Command: /bin/true
  INCLUDE-COMMAND-OUTPUT-IN-RESPONSE: true
  response-HEADERS: [{Name: X-A, VALUE: "1"}]
  pass-arguments-to-COMMAND: [{SOURCE: payload, Name: ref}]
  trigger-rule-mismatch-http-response-code: 403
  TRIGGER-RULE:
    And:
      - MATCH: {type: value, Value: s3cret, PARAMETER: {source: header, NAME: X-Token}}
      - Not: {Match: {Type: ip-whitelist, ip-RANGE: 10.0.0.0/8}}
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hooks, warnings, err := Parse("hooks", []byte(tc.text))
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) != 0 {
				t.Errorf("warnings for keys webhook understands: %v", warnings)
			}
			h := hooks[0]
			switch {
			case h.ID != "deploy", h.ExecuteCommand != "/bin/true", !h.CaptureOutput, h.MismatchCode != 403,
				len(h.ResponseHeaders) != 1 || h.ResponseHeaders[0] != (Header{"X-A", "1"}),
				len(h.PassArguments) != 1 || h.PassArguments[0] != arg("payload", "ref"),
				h.TriggerRule == nil || len(h.TriggerRule.And) != 2,
				h.TriggerRule.And[0].Match == nil || *h.TriggerRule.And[0].Match != (MatchRule{Type: MatchValue, Value: "s3cret",
					Parameter: arg("header", "X-Token"), line: h.TriggerRule.And[0].Match.line}),
				h.TriggerRule.And[1].Not == nil || h.TriggerRule.And[1].Not.Match.IPRange != "10.0.0.0/8":
				t.Fatalf("parsed %+v, rule %+v", *h, h.TriggerRule)
			}
			req := testRequest(t, "POST", "/hooks/deploy", "", "", "X-Token: guess")
			if ok, err := h.TriggerRule.Evaluate(req, time.Now()); ok || err != nil {
				t.Fatalf("the rule let a request with the wrong token through (%v, %v)", ok, err)
			}
		})
	}
}

// TestKeysNotUnderstood: a key that matches no field is ignored, as webhook ignores it,
// but never silently: each one is a warning naming the file, the hook and the line.
// Two spellings of one field are resolved as webhook resolves them (sorted keys, the
// later one counting, objects merged) and warned about too.
func TestKeysNotUnderstood(t *testing.T) {
	t.Parallel()
	text := `[
  {"id": "deploy", "execute-command": "/bin/true",
   "trigger_rule": {"match": {"type": "value", "value": "x", "parameter": {"source": "header", "name": "X-Token"}}}},
  {"id": "typos", "execute-command": "/bin/true",
   "pass-arguments-to-command": [{"source": "string", "nmae": "x"}],
   "trigger-rule": {"match": {"type": "value", "value": "x", "parameter": {"source": "header", "name": "X-Token"}, "Ip_Range": "10.0.0.1"}},
   "responce-message": "hi"},
  {"id": "twice", "execute-command": "/bin/true",
   "trigger-rule": {"match": {"type": "value", "value": "one", "parameter": {"source": "header", "name": "X-A"}}},
   "Trigger-Rule": {"match": {"type": "value", "value": "two", "parameter": {"source": "header", "name": "X-A"}}}}
]`
	hooks, warnings, err := Parse("/etc/webhook/hooks.json", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range warnings {
		got = append(got, w.String())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		`/etc/webhook/hooks.json: line 3: hook "deploy": hook key "trigger_rule" is not understood and is ignored (did you mean "trigger-rule"?)`,
		`/etc/webhook/hooks.json: line 5: hook "typos": argument key "nmae" is not understood and is ignored`,
		`/etc/webhook/hooks.json: line 6: hook "typos": match key "Ip_Range" is not understood and is ignored (did you mean "ip-range"?)`,
		`/etc/webhook/hooks.json: line 7: hook "typos": hook key "responce-message" is not understood and is ignored`,
		`/etc/webhook/hooks.json: line 9: hook "twice": keys "Trigger-Rule" (line 10) and "trigger-rule" both set "trigger-rule"`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no warning %q in\n%s", want, all)
		}
	}
	if len(warnings) != 5 {
		t.Errorf("%d warnings, want 5:\n%s", len(warnings), all)
	}
	if hooks[0].TriggerRule != nil {
		t.Error("a misspelled trigger_rule was applied; webhook ignores it")
	}
	// webhook applies "Trigger-Rule" then "trigger-rule" (sorted), merging the second
	// into the first: the value of "trigger-rule" counts.
	if m := hooks[2].TriggerRule.Match; m == nil || m.Value != "one" {
		t.Errorf("two spellings of trigger-rule: got %+v, want the value of trigger-rule (one)", m)
	}
}

// TestEmptySecretsRefused: a -template whose getenv reads an unset variable is a
// warning; a value match whose value came from the template and is empty, and a
// signature rule with an empty secret, refuse their hook at load, naming the file, the
// hook and the rule's line.
func TestEmptySecretsRefused(t *testing.T) {
	t.Parallel()
	env := map[string]string{"TOKEN": "s3cret"}
	getenv := func(k string) string { return env[k] }
	load := func(t *testing.T, text string) ([]*Hook, []Warning, error) {
		p := writeHooks(t, t.TempDir(), "hooks.json", text)
		return Load([]string{p}, LoadOptions{Template: true, Getenv: getenv})
	}
	t.Run("value from an unset variable", func(t *testing.T) {
		t.Parallel()
		_, warnings, err := load(t, `[{"id": "deploy", "execute-command": "/bin/true",
  "trigger-rule": {"and": [
    {"match": {"type": "value", "value": "{{ getenv "TOKEN" }}", "parameter": {"source": "header", "name": "X-Token"}}},
    {"match": {"type": "value", "value": "{{ getenv "UNSET_TOKEN" }}", "parameter": {"source": "header", "name": "X-Other"}}}
  ]}}]`)
		if err == nil {
			t.Fatal("a value match that is empty because its variable is unset was accepted")
		}
		for _, w := range []string{"hooks.json: line 4: hook \"deploy\": match value comes from the template and is empty"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not say %q", err, w)
			}
		}
		if len(warnings) != 1 || warnings[0].Line != 4 || !strings.Contains(warnings[0].Msg, `getenv "UNSET_TOKEN": the variable is unset or empty`) {
			t.Errorf("warnings %v", warnings)
		}
	})
	t.Run("an empty value written as such is the operator's choice", func(t *testing.T) {
		t.Parallel()
		hooks, _, err := load(t, `[{"id": "empty-ok", "execute-command": "/bin/true",
  "trigger-rule": {"match": {"type": "value", "value": "", "parameter": {"source": "header", "name": "X-Token"}}}}]`)
		if err != nil || len(hooks) != 1 {
			t.Fatalf("%v", err)
		}
	})
	for _, typ := range []string{"payload-hmac-sha1", "payload-hmac-sha256", "payload-hmac-sha512", "payload-hash-sha1"} {
		t.Run(typ+" with an empty secret", func(t *testing.T) {
			t.Parallel()
			_, _, err := load(t, `[{"id": "signed", "execute-command": "/bin/true",
  "trigger-rule": {"or": [{"match": {"type": "ip-whitelist", "ip-range": "10.0.0.0/8"}},
    {"match": {"type": "`+typ+`", "secret": "{{ getenv "UNSET_SECRET" }}", "parameter": {"source": "header", "name": "X-Sig"}}}]}}]`)
			if err == nil || !strings.Contains(err.Error(), `hooks.json: line 3: hook "signed": `+typ+` rule has an empty secret`) {
				t.Fatalf("error %v", err)
			}
		})
	}
	t.Run("without -template too", func(t *testing.T) {
		t.Parallel()
		_, _, err := Parse("h.yaml", []byte("- id: s\n  trigger-rule:\n    match: {type: payload-hmac-sha256, secret: '', parameter: {source: header, name: X}}\n"))
		if err == nil || !strings.Contains(err.Error(), `h.yaml: line 3: hook "s": payload-hmac-sha256 rule has an empty secret`) {
			t.Fatalf("error %v", err)
		}
	})
}
