package main

// End-to-end tests of how `hookpoint listen` reads hooks files: keys in any case, as
// webhook reads them; warnings for keys it does not understand; -validate; empty
// secrets refused.

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// postWith is post with headers ("Name: value").
func (l *listenProc) postWith(t *testing.T, id, body string, header ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", l.base+"/hooks/"+id, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for _, h := range header {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /hooks/%s: %v", id, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// casedHooks spells every key in another case than webhook's documentation does;
// webhook (encoding/json) reads them all, so the rule must be enforced.
const casedHooks = `[
  {
    "ID": "deploy",
    "EXECUTE-COMMAND": "/bin/sh",
    "Include-Command-Output-In-Response": true,
    "Pass-Arguments-To-Command": [
      {"Source": "string", "NAME": "-c"},
      {"SOURCE": "string", "Name": "echo ran >> \"$1\"; echo ran"},
      {"source": "string", "name": "sh"},
      {"Source": "string", "Name": "RAN_FILE"}
    ],
    "Trigger-Rule-Mismatch-HTTP-Response-Code": 403,
    "Trigger-Rule": {
      "AND": [
        {"Match": {"Type": "value", "Value": "s3cret", "Parameter": {"Source": "header", "Name": "X-Token"}}},
        {"NOT": {"MATCH": {"TYPE": "ip-whitelist", "IP-RANGE": "10.0.0.0/8"}}}
      ]
    }
  },
  {
    "id": "typo",
    "execute-command": "/bin/true",
    "trigger_rule": {"match": {"type": "value", "value": "x", "parameter": {"source": "header", "name": "X-Token"}}}
  }
]`

func TestListenHooksKeysInAnyCase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ran := filepath.Join(dir, "ran")
	f := filepath.Join(dir, "hooks.json")
	replaceFile(t, f, strings.ReplaceAll(casedHooks, "RAN_FILE", ran))
	l := startListen(t, "-hooks", f)

	// No token, a wrong token: refused by the rule, nothing runs.
	wantHook(t, l, "deploy", 403, "Hook rules were not satisfied.")
	if c, b := l.postWith(t, "deploy", "{}", "X-Token: guess"); c != 403 || b != "Hook rules were not satisfied." {
		t.Fatalf("wrong token: %d %q", c, b)
	}
	if fileExists(ran) {
		t.Fatal("the command ran for a request the Trigger-Rule refuses")
	}
	if c, b := l.postWith(t, "deploy", "{}", "X-Token: s3cret"); c != 200 || b != "ran\n" {
		t.Fatalf("right token: %d %q\n%s", c, b, l.stderr)
	}
	// The misspelled key is ignored, as webhook ignores it, and said so in the log.
	for _, w := range []string{`hook key \"trigger_rule\" is not understood and is ignored (did you mean \"trigger-rule\"?)"`,
		"file=" + f, "line=23", `hook="hook \"typo\""`} {
		if !strings.Contains(l.stderr.String(), w) {
			t.Errorf("the log does not say %s:\n%s", w, l.stderr)
		}
	}
}

func TestListenValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := filepath.Join(dir, "hooks.json")
	replaceFile(t, f, casedHooks)
	for _, flag := range []string{"-validate", "--check"} {
		p := runHP(t, childEnv(t), "listen", flag, "-hooks", f)
		wantExit(t, p, 0)
		for _, w := range []string{
			`hook "deploy"`, "command: /bin/sh",
			"rule: and(header X-Token equals a value of 6 characters, not(client address in 10.0.0.0/8))",
			`hook "typo"`, "command: /bin/true", "rule: none (every request runs the command)",
			`warning: ` + f + `: line 23: hook "typo": hook key "trigger_rule" is not understood and is ignored (did you mean "trigger-rule"?)`,
			"2 hook(s), 1 warning(s)",
		} {
			if !strings.Contains(p.stdout, w) {
				t.Errorf("%s: the output does not say %q:\n%s", flag, w, p.stdout)
			}
		}
		if strings.Contains(p.stdout, "s3cret") {
			t.Errorf("%s prints the compared value:\n%s", flag, p.stdout)
		}
	}

	bad := filepath.Join(dir, "bad.yaml")
	replaceFile(t, bad, "- id: ok\n  execute-command: /bin/true\n- id: broken\n  execute-command: /bin/true\n  trigger-rule:\n    match: {type: regex, regex: '(', parameter: {source: url, name: q}}\n")
	p := runHP(t, childEnv(t), "listen", "-validate", "-hooks", bad)
	wantExit(t, p, 2)
	if !strings.Contains(p.stderr, bad+`: line 6: hook "broken": match regex`) {
		t.Errorf("the error does not name the file, the line and the hook:\n%s", p.stderr)
	}
	syntax := filepath.Join(dir, "syntax.json")
	replaceFile(t, syntax, "[\n  {\"id\": \"a\",\n   \"execute-command\" \"/bin/true\"}\n]\n")
	p = runHP(t, childEnv(t), "listen", "--check", "-hooks", syntax)
	wantExit(t, p, 2)
	if !strings.Contains(p.stderr, syntax+": line 3") {
		t.Errorf("the syntax error does not name the file and the line:\n%s", p.stderr)
	}
}

// A -template hooks file whose token comes from an unset variable would compare
// requests against "": listen refuses to start, naming the file, the hook and the rule.
func TestListenRefusesEmptyTemplateSecret(t *testing.T) {
	t.Parallel()
	f := filepath.Join(t.TempDir(), "hooks.json")
	replaceFile(t, f, `[{"id": "deploy", "execute-command": "/bin/true",
  "trigger-rule": {"match": {"type": "value", "value": "{{ getenv "DEPLOY_TOKEN" }}",
    "parameter": {"source": "header", "name": "X-Token"}}}}]`)
	p := runHP(t, childEnv(t), "listen", "-template", "-hooks", f, "-ip", "127.0.0.1", "-port", "0")
	wantExit(t, p, 2)
	for _, w := range []string{f + `: line 2: hook "deploy": match value comes from the template and is empty`,
		`getenv \"DEPLOY_TOKEN\": the variable is unset or empty`} {
		if !strings.Contains(p.stderr, w) {
			t.Errorf("stderr does not say %q:\n%s", w, p.stderr)
		}
	}
	// With the variable set, it loads.
	p = runHP(t, childEnv(t, "DEPLOY_TOKEN=s3cret"), "listen", "-template", "-validate", "-hooks", f)
	wantExit(t, p, 0)
}
