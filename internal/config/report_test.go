package config_test

import (
	"strings"
	"testing"

	"github.com/hookpoint/hookpoint/internal/config"
)

// issueLines returns the issues of err as the lines a person reads.
func issueLines(t *testing.T, err error) []string {
	t.Helper()
	var out []string
	for _, is := range issuesOf(t, err) {
		out = append(out, is.String())
	}
	return out
}

// wantLines compares the lines of a report with the wanted ones, in order.
func wantLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestEveryProblemAtOnce: the problems of a file are all reported in one run, in file
// order, each at its line and column: a type error, an unknown field or a bad value does
// not hide the others.
func TestEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "the reviewer's file",
			src: `hooks:
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
`,
			want: []string{
				`c.yaml:3:12: hooks[0].order: 1.5 is not a whole number`,
				`c.yaml:5:5: hooks[0]: unknown field "colour" (this object takes: description, enabled, exec, http, id, max_in_flight, mode, on, on_failure, order, rate, retry, status)`,
				`c.yaml:7:7: hooks[0].http.url: the scheme must be http or https (the URL must start with http:// or https://)`,
				`c.yaml:8:16: hooks[0].http.timeout: "10x" is not a duration (write 10s, 5m, 1h30m or a number of seconds)`,
				`c.yaml:9:17: hooks[0].http.headers.X-Vm: template error on line 1 of the value: unclosed action`,
				`c.yaml:10:5: hooks[1].id: duplicate id "a" (first used by hooks[0])`,
				`c.yaml:11:5: hooks[1].on: on is required: list the event types (patterns with *) this hook runs for`,
				`c.yaml:12:13: hooks[1].status[0]: "fial" is not a status: use any, success, warning, fail or cancelled; did you mean "fail"?`,
				`c.yaml:13:5: hooks[1].mode: "asink" is not a mode: use sync or async; did you mean "async"?`,
				`c.yaml:17:7: hooks[1].exec.args: with shell: true the script is fixed and event values reach it only as environment variables; use env instead of args`,
			},
		},
		{
			name: "type errors hide nothing",
			src: `hooks:
  - id: a
    on: {backup: end}
    enabled: maybe
    mode: asink
    http:
      url: "http://h.example/{{ .data.x "
      expect: ok
  - id: b
    on: [x]
    http: http://h.example/
  - id: c
    on: [x]
    exec: {command: /bin/true, args: --verbose, timeout: [1s]}
`,
			want: []string{
				`c.yaml:3:9: hooks[0].on: expected a string or a list of strings`,
				`c.yaml:4:14: hooks[0].enabled: expected true or false, got "maybe"`,
				`c.yaml:5:5: hooks[0].mode: "asink" is not a mode: use sync or async; did you mean "async"?`,
				`c.yaml:7:7: hooks[0].http.url: template error on line 1 of the value: unclosed action`,
				`c.yaml:8:15: hooks[0].http.expect: expected a whole number, got "ok"`,
				`c.yaml:11:11: hooks[1].http: expected an object (name: value), got "http://h.example/"`,
				`c.yaml:14:38: hooks[2].exec.args: expected a list, got "--verbose"`,
				`c.yaml:14:58: hooks[2].exec.timeout: expected a duration such as 10s`,
			},
		},
		{
			name: "unknown fields hide nothing",
			src: `hooks:
  - id: a
    on: [x]
    onfailure: warn
    exec:
      command: /bin/echo
      args: ["{{ .data.x "]
      timeot: 5s
`,
			want: []string{
				`c.yaml:4:5: hooks[0]: unknown field "onfailure"; did you mean "on_failure"? (this object takes: description, enabled, exec, http, id, max_in_flight, mode, on, on_failure, order, rate, retry, status)`,
				`c.yaml:7:14: hooks[0].exec.args[0]: template error on line 1 of the value: unclosed action`,
				`c.yaml:8:7: hooks[0].exec: unknown field "timeot"; did you mean "timeout"? (this object takes: args, command, env, keep_children, shell, stdin, timeout, workdir)`,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Parse("c.yaml", []byte(tc.src))
			wantLines(t, issueLines(t, err), tc.want...)
		})
	}
}

// TestSyntaxErrorsWhereTheyAre: a YAML syntax error is reported at the line and column
// of the problem, not at the start of the block around it.
func TestSyntaxErrorsWhereTheyAre(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		src  string
		want string
	}{
		{"bad indentation on line 6", "hooks:\n  - id: a\n    on: [x]\n    http:\n      url: http://h.example/\n     method: GET\n",
			"c.yaml:6:6: this line is not indented like the lines above it"},
		{"bad indentation in a list", "hooks:\n  - id: a\n    on: [x]\n    http:\n      url: http://h.example/\n   method: GET\n",
			"c.yaml:6:4: this line is not indented like the lines above it"},
		{"a tab on line 4", "hooks:\n  - id: a\n    on: [x]\n\tmode: async\n    http: {url: http://h.example/}\n",
			"c.yaml:4:1: a tab: YAML indents with spaces only"},
		{"a quote never closed", "hooks:\n  - id: a\n    on: \"x\n    http: {url: http://h.example/}\n",
			"c.yaml:3:9: this quoted string is never closed"},
		{"a colon in a plain value", "hooks:\n  - id: a\n    on: [x]\n    description: note: this\n",
			`c.yaml:4:22: unexpected ":" (put a value that holds ": " in quotes)`},
		{"an alias to no anchor", "hooks:\n  - id: a\n    on: *events\n",
			"c.yaml:3:9: *events refers to no anchor: write &events on a value before it"},
		{"a character that starts nothing", "hooks:\n  - id: a\n    on: [x]\n    description: `x`\n",
			"c.yaml:4:18: found character that cannot start any token"},
		{"a flow list not closed", "hooks:\n  - id: a\n    on: [x]\n    http: {url: http://h.example/, expect: [200, 201}\n",
			"c.yaml:4:50: did not find expected ',' or ']'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Parse("c.yaml", []byte(tc.src))
			wantLines(t, issueLines(t, err), tc.want)
		})
	}
}

// TestJSONIsStrict: a file named .json is read as JSON (RFC 8259), so what YAML would
// forgive is an error, reported where it is; the same text in a .yaml file is YAML.
func TestJSONIsStrict(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		src  string
		want string
	}{
		{"a trailing comma in a list", `{"hooks": [{"id": "a", "on": ["x"], "exec": {"command": "/bin/true"}},]}`,
			`c.json:1:70: a comma before "]": JSON allows no comma after the last item`},
		{"a trailing comma in an object", "{\"hooks\": [\n  {\"id\": \"a\",\n   \"on\": [\"x\"],\n   \"exec\": {\"command\": \"/bin/true\"},\n  }\n]}\n",
			`c.json:4:36: a comma before "}": JSON allows no comma after the last item`},
		{"a comment", "// hooks\n{\"hooks\": []}\n",
			"c.json:1:1: JSON has no comments (a YAML file, hookpoint.yaml, can have # comments)"},
		{"single quotes", "{'hooks': []}",
			"c.json:1:2: JSON strings are written in double quotes"},
		{"a missing comma", "{\"hooks\": []\n \"server\": {}}\n",
			`c.json:2:2: not valid JSON: invalid character '"' after object key:value pair`},
		{"cut short", "{\"hooks\": [\n",
			"c.json:2:1: not valid JSON: unexpected end of JSON input"},
		{"text after the object", "{\"hooks\": []} x\n",
			"c.json:1:15: not valid JSON: invalid character 'x' after top-level value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Parse("c.json", []byte(tc.src))
			if cfg != nil {
				t.Error("got a config")
			}
			wantLines(t, issueLines(t, err), tc.want)
		})
	}
	// The case of the name does not matter; the same text in a YAML file is YAML.
	trailing := cases[0].src
	_, err := config.Parse("C.JSON", []byte(trailing))
	wantLines(t, issueLines(t, err), `C.JSON:1:70: a comma before "]": JSON allows no comma after the last item`)
	mustParse(t, "c.yaml", []byte(trailing))
	mustParse(t, "config", []byte(trailing))
}
