package template

import (
	"regexp"
	"testing"
)

// goInternals are the marks of Go and text/template internals in a message.
var goInternals = regexp.MustCompile(`interface \{\}|Go value|executing "|error calling|<nil>|reflect|%!|runtime error|float64|int64|\bslice/array\b|map\[|\[\]|untyped nil|nil pointer|hooks\[0\]`)

// TestCleanErr: errors of text/template when a template runs are said in words, naming
// the action that failed, without the template's name (the field, which the caller
// names), its position, Go types or text/template's own wording.
func TestCleanErr(t *testing.T) {
	t.Parallel()
	data := map[string]any{"data": map[string]any{
		"n": 1.0, "s": "str", "l": []any{1.0, "a"}, "m": map[string]any{"a": "b"}, "i": int64(3),
	}}
	cases := []struct {
		src, want string
	}{
		{`{{ .data.x.y }}`, `{{.data.x.y}}: .data.x has no value, so .y cannot be read`},
		{`{{ .data.x.y.z }}`, `{{.data.x.y.z}}: .data.x has no value, so .y cannot be read`},
		{`{{ .data.n.y }}`, `{{.data.n.y}}: .data.n is not an object, so .y cannot be read`},
		{`{{ .data.i.y }}`, `{{.data.i.y}}: .data.i is not an object, so .y cannot be read`},
		{`{{ $x := 1 }}{{ $x.y }}`, `{{$x.y}}: $x is not an object, so .y cannot be read`},
		{`{{ with .data.n }}{{ .y }}{{ end }}`, `{{.y}}: the value is not an object, so .y cannot be read`},
		{`{{ index .data.l 5 }}`, `{{index .data.l 5}}: index 5 is out of range`},
		{`{{ index .data.n 0 }}`, `{{index .data.n 0}}: index: cannot index a value of type number`},
		{`{{ index .data.x 0 }}`, `{{index .data.x 0}}: index of a missing value`},
		{`{{ index .data.m 1 }}`, `{{index .data.m 1}}: index: a map with keys of type text cannot be indexed by number`},
		{`{{ index .data.l "a" }}`, `{{index .data.l "a"}}: index: cannot index a list with text`},
		{`{{ env "HPX_UNSET_FOR_TEST" }}`, `env "HPX_UNSET_FOR_TEST": the variable is not set`},
		{`{{ file "/nonexistent/hookpoint" }}`, `file "/nonexistent/hookpoint": no such file or directory`},
		{`{{ b64dec .data.s }}`, `{{b64dec .data.s}}: b64dec: illegal base64 data at input byte 0`},
		{`{{ env .data.n }}`, `{{.data.n}}: expected text, got a number`},
		{`{{ replace 1 2 .data.s }}`, `{{1}}: expected text, found 1`},
		{`{{ len .data.n }}`, `{{len .data.n}}: a number has no length`},
		{`{{ len .data.x }}`, `{{len .data.x}}: a value that is not set has no length`},
		{`{{ slice .data.x 1 }}`, `{{slice .data.x 1}}: slice of a missing value`},
		{`{{ eq .data.l 1 }}`, `{{eq .data.l 1}}: cannot compare a list with a number`},
		{`{{ eq .data.m .data.m }}`, `{{eq .data.m .data.m}}: an object cannot be compared`},
		{`{{ call .data.s }}`, `{{call .data.s}}: .data.s is not a function`},
		{`{{ call .data.x }}`, `{{call .data.x}}: there is nothing to call`},
		{`{{ .data.s 1 }}`, `{{.data.s}}: .data.s takes no arguments`},
		{`{{ default }}`, `{{default}}: default takes 2 arguments, got 0`},
		{`{{ and }}`, `{{and}}: and takes at least 1 argument, got 0`},
		{`{{ template "x" }}`, `{{template "x"}}: template "x" not defined`},
		{`{{ range .data.n }}x{{ end }}`, `{{.data.n}}: range can't iterate over 1`},
	}
	for _, tc := range cases {
		t.Run(tc.src, func(t *testing.T) {
			t.Parallel()
			tp, err := Parse("hooks[0].http.body", tc.src, Text)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			_, err = NewScope(data).Render(tp)
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tc.want {
				t.Errorf("error %q\nwant     %q", err, tc.want)
			}
			if m := goInternals.FindString(err.Error()); m != "" {
				t.Errorf("error %q shows %q", err, m)
			}
		})
	}
}
