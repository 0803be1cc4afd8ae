package config_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/hookpoint/hookpoint/internal/config"
)

// want is one issue a test expects: where it is and a fragment of its message.
type want struct {
	line  int
	field string
	msg   string
}

// hookDoc returns a config with one hook "a" on event "x" (lines 1 to 3) followed by
// lines, each indented under the hook: the first of lines is on line 4.
func hookDoc(lines ...string) string {
	var b strings.Builder
	b.WriteString("hooks:\n  - id: a\n    on: [x]\n")
	for _, l := range lines {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}

// httpHook is hookDoc with an http action whose url is line 5; lines follow from line 6,
// indented under http:.
func httpHook(lines ...string) string {
	all := []string{"http:", "  url: http://h.example/x"}
	for _, l := range lines {
		all = append(all, "  "+l)
	}
	return hookDoc(all...)
}

// execHook is hookDoc with an exec action whose command is line 5; lines follow from
// line 6, indented under exec:.
func execHook(lines ...string) string {
	all := []string{"exec:", "  command: /bin/true"}
	for _, l := range lines {
		all = append(all, "  "+l)
	}
	return hookDoc(all...)
}

// yamlToJSON converts a YAML document to JSON that puts every node on the line it has in
// the YAML, so that a case written once in YAML checks lines and fields in JSON as well.
// It does not follow aliases.
func yamlToJSON(t testing.TB, src string) string {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatalf("the YAML of the case does not parse: %v", err)
	}
	var b strings.Builder
	line := 1
	pad := func(n *yaml.Node) {
		for line < n.Line {
			b.WriteByte('\n')
			line++
		}
	}
	str := func(s string) string {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSuffix(buf.String(), "\n")
	}
	var emit func(n *yaml.Node)
	emit = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.DocumentNode:
			emit(n.Content[0])
		case yaml.MappingNode:
			pad(n)
			b.WriteByte('{')
			for i := 0; i+1 < len(n.Content); i += 2 {
				if i > 0 {
					b.WriteByte(',')
				}
				pad(n.Content[i])
				b.WriteString(str(n.Content[i].Value) + ": ")
				emit(n.Content[i+1])
			}
			b.WriteByte('}')
		case yaml.SequenceNode:
			pad(n)
			b.WriteByte('[')
			for i, c := range n.Content {
				if i > 0 {
					b.WriteByte(',')
				}
				emit(c)
			}
			b.WriteByte(']')
		case yaml.ScalarNode:
			pad(n)
			switch n.ShortTag() {
			case "!!null":
				b.WriteString("null")
			case "!!bool", "!!int", "!!float":
				if !json.Valid([]byte(n.Value)) {
					t.Fatalf("scalar %q has no JSON form", n.Value)
				}
				b.WriteString(n.Value)
			default:
				b.WriteString(str(n.Value))
			}
		default:
			t.Fatalf("yamlToJSON: node kind %v not supported", n.Kind)
		}
	}
	emit(&doc)
	b.WriteByte('\n')
	out := b.String()
	if !json.Valid([]byte(out)) {
		t.Fatalf("yamlToJSON made invalid JSON:\n%s", out)
	}
	return out
}

// inBothFormats runs f on src as YAML and as the JSON yamlToJSON makes of it.
func inBothFormats(t *testing.T, src string, f func(t *testing.T, name string, data []byte)) {
	t.Helper()
	js := yamlToJSON(t, src)
	t.Run("yaml", func(t *testing.T) {
		t.Parallel()
		f(t, "hookpoint.yaml", []byte(src))
	})
	t.Run("json", func(t *testing.T) {
		t.Parallel()
		f(t, "hookpoint.json", []byte(js))
	})
}

// issuesOf returns the issues of a config error, failing the test for any other error.
func issuesOf(t testing.TB, err error) []config.Issue {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want issues")
	}
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error is %T (%v), want *config.Error", err, err)
	}
	if len(ce.Issues) == 0 {
		t.Fatal("*config.Error with no issues")
	}
	return ce.Issues
}

// checkIssues asserts that err holds exactly the wanted issues, in any order, each in
// file.
func checkIssues(t testing.TB, err error, file string, wants ...want) {
	t.Helper()
	got := issuesOf(t, err)
	used := make([]bool, len(got))
	for _, w := range wants {
		found := false
		for i, is := range got {
			if used[i] || is.File != file || is.Line != w.line || is.Field != w.field || !strings.Contains(is.Message, w.msg) {
				continue
			}
			used[i], found = true, true
			break
		}
		if !found {
			t.Errorf("missing issue %s:%d: %s: ...%s...", file, w.line, w.field, w.msg)
		}
	}
	for i, is := range got {
		if !used[i] {
			t.Errorf("unexpected issue %s (file %q, line %d, field %q)", is, is.File, is.Line, is.Field)
		}
	}
}

// mustParse parses data and fails the test on any error.
func mustParse(t testing.TB, name string, data []byte) *config.Config {
	t.Helper()
	cfg, err := config.Parse(name, data)
	if err != nil {
		t.Fatalf("Parse(%s): %v\n%s", name, err, data)
	}
	return cfg
}
