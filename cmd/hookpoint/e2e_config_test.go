package main

// End-to-end tests of what a person sees of a config: hookpoint check reporting every
// problem of a file at once, where each is; warnings about hooks that can never run; the
// message when there is no config at all; and no Go internals in any message.

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// stderrLines returns the lines of stderr.
func stderrLines(p proc) []string {
	return strings.Split(strings.TrimRight(p.stderr, "\n"), "\n")
}

// TestCheckReportsEverything: check reports every problem of a file in one run, each as
// file:line:column: field: message, in file order, then how many there are.
func TestCheckReportsEverything(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, nil, "hookpoint.yaml", `hooks:
  - id: a
    order: 1.5
    on: [backup.end]
    colour: red
    http:
      url: "ftp://files.example/x"
      timeout: 10x
      headers: {X-Vm: "{{ .data.vmid "}
  - id: a
    on: []
    status: fial
    mode: asink
    exec:
      command: /bin/echo
      shell: true
      args: ["{{ .data.x }}"]
  - id: c
    on: [vzdump.backup-strat]
    exec:
      command: /bin/echo
      env: {TOKEN: '{{ env "HP_E2E_UNSET_TOKEN" }}'}
`)
	p := runHP(t, childEnv(t), "check", "--config", path)
	wantExit(t, p, 2)
	want := []string{
		path + `:3:12: hooks[0].order: 1.5 is not a whole number`,
		path + `:5:5: hooks[0]: unknown field "colour" (this object takes: description, enabled, exec, http, id, max_in_flight, mode, on, on_failure, order, rate, retry, status)`,
		path + `:7:7: hooks[0].http.url: the scheme must be http or https (the URL must start with http:// or https://)`,
		path + `:8:16: hooks[0].http.timeout: "10x" is not a duration (write 10s, 5m, 1h30m or a number of seconds)`,
		path + `:9:17: hooks[0].http.headers.X-Vm: template error on line 1 of the value: unclosed action`,
		path + `:10:5: hooks[1].id: duplicate id "a" (first used by hooks[0])`,
		path + `:11:5: hooks[1].on: on is required: list the event types (patterns with *) this hook runs for`,
		path + `:12:13: hooks[1].status[0]: "fial" is not a status: use any, success, warning, fail or cancelled; did you mean "fail"?`,
		path + `:13:5: hooks[1].mode: "asink" is not a mode: use sync or async; did you mean "async"?`,
		path + `:17:7: hooks[1].exec.args: with shell: true the script is fixed and event values reach it only as environment variables; use env instead of args`,
		path + `:19:10: hooks[2].on[0]: warning: "vzdump.backup-strat" matches no event vzdump sends; did you mean "vzdump.backup-start"?`,
		path + `:22:13: hooks[2].exec.env.TOKEN: hook "c": secret env "HP_E2E_UNSET_TOKEN" is not set`,
		"hookpoint: " + path + ": 11 errors, 1 warning",
	}
	if got := stderrLines(p); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stderr:\n%s\nwant:\n%s", p.stderr, strings.Join(want, "\n"))
	}
}

// TestCheckWhereTheProblemIs: a syntax error is reported at its line and column; a file
// named .json is strict JSON.
func TestCheckWhereTheProblemIs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file, config string
		want               string // after the path
	}{
		{"bad indentation on line 6", "hookpoint.yaml", "hooks:\n  - id: a\n    on: [x]\n    http:\n      url: http://h.example/\n     method: GET\n",
			":6:6: this line is not indented like the lines above it"},
		{"a tab on line 4", "hookpoint.yaml", "hooks:\n  - id: a\n    on: [x]\n\tmode: async\n    exec: {command: /bin/true}\n",
			":4:1: a tab: YAML indents with spaces only"},
		{"a trailing comma in JSON", "hookpoint.json", "{\"hooks\": [\n  {\"id\": \"a\", \"on\": [\"x\"], \"exec\": {\"command\": \"/bin/true\"}},\n]}\n",
			`:2:61: a comma before "]": JSON allows no comma after the last item`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeConfig(t, nil, tc.file, tc.config)
			p := runHP(t, childEnv(t), "check", "--config", path)
			wantExit(t, p, 2)
			if got := stderrLines(p)[0]; got != path+tc.want {
				t.Errorf("first line of stderr %q, want %q", got, path+tc.want)
			}
		})
	}
	t.Run("the same text as YAML", func(t *testing.T) {
		t.Parallel()
		path := writeConfig(t, nil, "hookpoint.yaml", "{\"hooks\": [\n  {\"id\": \"a\", \"on\": [\"x\"], \"exec\": {\"command\": \"/bin/true\"}},\n]}\n")
		wantExit(t, runHP(t, childEnv(t), "check", "--config", path), 0)
	})
}

// TestCheckWarnings: check shows warnings about hooks that can never run, and a config
// with only warnings passes.
func TestCheckWarnings(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, nil, "hookpoint.yaml", `hooks:
  - id: freeze
    on: [autosnap.SnapCreatePre, xo.vm.snapshot.pre]
    exec: {command: /bin/true}
  - id: alert
    on: backup.pre
    status: fail
    exec: {command: /bin/true}
`)
	p := runHP(t, childEnv(t), "check", "--config", path)
	wantExit(t, p, 0)
	want := []string{
		path + `:3:10: hooks[0].on[0]: warning: "autosnap.SnapCreatePre" matches no event autosnap sends; did you mean "autosnap.snap-create-pre"?`,
		path + `:6:9: hooks[1].on[0]: warning: backup.pre events carry no status, so with status: fail this hook never runs for them; for fail use backup.abort or backup.end`,
	}
	if got := stderrLines(p); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stderr:\n%s\nwant:\n%s", p.stderr, strings.Join(want, "\n"))
	}
	if wantOut := path + ": OK, 2 hook(s), 2 enabled, 2 warnings\n"; p.stdout != wantOut {
		t.Errorf("stdout %q, want %q", p.stdout, wantOut)
	}
	// Other commands load the config without a word about it.
	p = runHP(t, childEnv(t), "emit", "--config", path, "app.started")
	wantExit(t, p, 0)
	if strings.Contains(p.stderr, "warning") {
		t.Errorf("emit shows warnings:\n%s", p.stderr)
	}
}

// TestNoConfig: without a config, the message names every place looked and says how to
// start one.
func TestNoConfig(t *testing.T) {
	t.Parallel()
	if fileExists(systemConfig) {
		t.Skipf("%s exists on this machine", systemConfig)
	}
	for _, args := range [][]string{{"check"}, {"emit", "backup.pre"}} {
		p := runHP(t, childEnv(t), args...)
		wantExit(t, p, 2)
		for _, want := range []string{
			"no config file",
			"--config", "HOOKPOINT_CONFIG", "./hookpoint.yaml", systemConfig,
			"examples/hookpoint.yaml", "hookpoint check --help",
		} {
			if !strings.Contains(p.stderr, want) {
				t.Errorf("%s: stderr does not say %q:\n%s", args[0], want, p.stderr)
			}
		}
	}
	// A file named by --config or HOOKPOINT_CONFIG that is not there is named as such.
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	p := runHP(t, childEnv(t, "HOOKPOINT_CONFIG="+missing), "check")
	wantExit(t, p, 2)
	if !strings.Contains(p.stderr, missing) || !strings.Contains(p.stderr, "HOOKPOINT_CONFIG") {
		t.Errorf("stderr does not name the file and where it came from:\n%s", p.stderr)
	}
	// check --help says where the file is looked for.
	p = runHP(t, childEnv(t), "check", "--help")
	wantExit(t, p, 0)
	for _, want := range []string{"HOOKPOINT_CONFIG", "./hookpoint.yaml", systemConfig, "warning"} {
		if !strings.Contains(p.stdout, want) {
			t.Errorf("check --help does not say %q:\n%s", want, p.stdout)
		}
	}
}

// goInternals are what must never reach a person: Go types and the shapes of
// text/template, encoding/json and YAML library errors.
var goInternals = regexp.MustCompile(`interface \{\}|Go value|executing "|error calling|<nil>|reflect|%!|runtime error|cannot unmarshal|!!(str|int|map|seq|bool|float)|\bconfig\.[A-Z]|map\[string\]|\[\]\*?[a-z]`)

// fieldPaths finds config paths such as hooks[0].http.url in a line.
var fieldPaths = regexp.MustCompile(`hooks\[\d+\](?:\.[A-Za-z0-9_-]+|\[\d+\])*`)

// TestNoGoInternals runs a corpus of bad configs, flags and templates through the real
// binary and checks every line it prints for Go internals and for a field named twice.
func TestNoGoInternals(t *testing.T) {
	t.Parallel()
	configs := map[string]string{
		"types.yaml": `hooks:
  - id: a
    order: first
    enabled: maybe
    on: {x: y}
    http: {url: http://h.example/, headers: [X-A], expect: [ok], timeout: [1s], auth: bearer}
  - 5
  - id: c
    on: [x]
    exec: {command: /bin/true, args: --verbose, env: [A=b], shell: 2}
server: on
`,
		"hooks-object.yaml":  "hooks:\n  a: {}\n",
		"hooks-string.yaml":  "hooks: none\n",
		"syntax-indent.yaml": "hooks:\n  - id: a\n   on: x\n",
		"syntax-tab.yaml":    "hooks:\n\t- id: a\n",
		"syntax-quote.yaml":  "hooks:\n  - id: \"a\n",
		"syntax-anchor.yaml": "hooks:\n  - id: a\n    on: *nope\n",
		"syntax-flow.yaml":   "hooks: [\n  {id: a}\n",
		"duplicates.yaml":    "hooks:\n  - id: a\n    id: b\n    on: [x]\n    http: {url: http://h.example/, body: {a: 1, a: 2}}\n",
		"self-alias.yaml":    "hooks:\n  - id: a\n    on: [x]\n    http: {url: http://h.example/, body: &b {a: *b}}\n",
		"strict.json":        "{\"hooks\": [{\"id\": \"a\", \"on\": 'x',},]}",
		"templates.yaml": `hooks:
  - id: parse
    on: [x]
    http: {url: "http://h.example/{{ .data.x ", headers: {X-A: "{{ nosuch }}"}, body: "{{ .data.x | }}"}
  - id: scheme
    on: [x]
    http: {url: "ftp://h.example/"}
`,
		"render.yaml": `hooks:
  - id: nested
    on: [x]
    exec: {command: /bin/echo, args: ["{{ .data.x.y }}", "{{ index .data.l 5 }}"]}
  - id: secret
    on: [x]
    http: {url: 'http://127.0.0.1:1/{{ env "HP_E2E_UNSET_SECRET" }}'}
  - id: base
    on: [x]
    http: {url: "{{ .data.u }}/ping"}
  - id: env-number
    on: [x]
    exec: {command: /bin/echo, args: ["{{ env .data.n }}", "{{ len .data.n }}"]}
`,
	}
	paths := map[string]string{}
	for name, text := range configs {
		paths[name] = writeConfig(t, nil, name, text)
	}
	render := paths["render.yaml"]
	runs := [][]string{
		{"render", "--config", render, "--data", "[1,2]", "x"},
		{"emit", "--config", render, "--data", "[1,2]", "x"},
		{"render", "--config", render, "--data", `"text"`, "x"},
		{"render", "--config", render, "--data", "{bad", "x"},
		{"render", "--config", render, "--data", `{"x": 1, "l": [1], "u": "ftp://h.example", "n": 5}`, "x"},
		{"render", "--config", render, "--data", `{"x": {"y": 1}, "l": [1, 2, 3, 4, 5, 6], "u": "http://h.example", "n": "HOME"}`, "x"},
		{"emit", "--config", render, "--data", `{"x": 1, "l": [1], "u": "ftp://h.example", "n": 5}`, "x"},
		{"emit", "--config", render, "--var", "novalue", "x"},
		{"emit", "--config", render, "--status", "bogus", "x"},
	}
	for name := range configs {
		runs = append(runs, []string{"check", "--config", paths[name]})
		runs = append(runs, []string{"emit", "--config", paths[name], "x"})
	}
	for _, args := range runs {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			p := runHP(t, childEnv(t), args...)
			if p.code == 0 && args[0] == "check" {
				t.Errorf("check passed a bad config")
			}
			for _, line := range strings.Split(p.output(), "\n") {
				if m := goInternals.FindString(line); m != "" {
					t.Errorf("%q shows Go internals (%q)", line, m)
				}
				seen := map[string]bool{}
				for _, f := range fieldPaths.FindAllString(line, -1) {
					if seen[f] {
						t.Errorf("%q names %s twice", line, f)
					}
					seen[f] = true
				}
				if namesFieldTwice(line) {
					t.Errorf("%q names a field twice", line)
				}
			}
		})
	}
}

// fieldToken is a word that may name a field: url, args[0], hooks[1].http.url.
var fieldToken = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.\[\]-]*$`)

// namesFieldTwice reports whether a line names one field twice in a row, as in
// "url: url: ..." or "args[0]: hooks[0].exec.args[0]:1:8: ...".
func namesFieldTwice(line string) bool {
	parts := strings.Split(line, ": ")
	for i := 0; i+1 < len(parts); i++ {
		a, b := parts[i], parts[i+1]
		if j := strings.IndexByte(b, ':'); j >= 0 {
			b = b[:j]
		}
		if j := strings.LastIndexByte(a, ' '); j >= 0 {
			a = a[j+1:]
		}
		if !fieldToken.MatchString(a) || !fieldToken.MatchString(b) {
			continue
		}
		if a == b || strings.HasSuffix(a, "."+b) || strings.HasSuffix(b, "."+a) {
			return true
		}
	}
	return false
}

// TestCheckWarnsAboutShortSecrets: a secret too short to be masked safely in what
// receivers answer is a warning (not an error), naming its length and where it is read;
// a long one is not; a config-file hook cannot use the API's stored secrets.
func TestCheckWarnsAboutShortSecrets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "tok")
	if err := os.WriteFile(secretFile, []byte("abcde\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := writeConfig(t, nil, "hookpoint.yaml", `hooks:
  - id: short
    on: [backup.pre]
    http:
      url: https://example.com/x
      auth: {type: bearer, token: '{{ env "HP_TEST_SHORT" }}'}
      headers: {X-File: '{{ file "`+secretFile+`" }}', X-Long: '{{ env "HP_TEST_LONG" }}'}
`)
	env := append(childEnv(t), "HP_TEST_SHORT=ab", "HP_TEST_LONG=long-enough-secret")
	p := runHP(t, env, "check", "--config", path)
	wantExit(t, p, 0)
	got := strings.Join(stderrLines(p), "\n")
	for _, want := range []string{
		`:6:28: hooks[0].http.auth.token: warning: hook "short": secret env "HP_TEST_SHORT" is 2 characters long: too short to be searched for`,
		`hooks[0].http.headers.X-File: warning: hook "short": secret file "` + secretFile + `" is 5 characters long: responses and command output that contain the same letters are masked too`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("stderr lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "HP_TEST_LONG") || len(stderrLines(p)) != 2 {
		t.Errorf("want exactly the two short secrets warned about:\n%s", got)
	}

	path = writeConfig(t, nil, "stored.yaml", `hooks:
  - id: stored
    on: [backup.pre]
    http: {url: 'https://example.com/{{ secret "url" }}'}
`)
	p = runHP(t, childEnv(t), "check", "--config", path)
	wantExit(t, p, 2)
	if !strings.Contains(p.stderr, `secret "url": only hooks managed through the server's API have stored secrets`) || strings.Count(p.stderr, `secret "url"`) != 1 {
		t.Errorf("stderr:\n%s", p.stderr)
	}
}
