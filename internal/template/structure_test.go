package template

import (
	"strings"
	"testing"
)

// A value may fill the places the template's literal text leaves for it, but no values —
// alone, side by side, next to literal text or as the items of a range — may change the
// structure the literal text defines: the elements and attributes of XML, the keys of
// JSON, the scheme, host, port and path segments of a URL, the fields of a form. Each
// case below did change it before the structural check existed.
func TestValuesCannotChangeStructure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		kind Kind
		src  string
		data map[string]any
		want string // part of the error
	}{
		// XML: sections closed across values, or across a value and the literal text.
		{"CDATA closed by two values", XML, `<r><![CDATA[{{.data.a}}{{.data.b}}]]></r>`,
			ab("]]", "><x/><![CDATA["), "CDATA"},
		{"CDATA closed by literal and value", XML, `<r><![CDATA[x]{{.data.a}}]]></r>`,
			ab("]><x/><![CDATA[", ""), "CDATA"},
		{"CDATA closed by value and literal", XML, `<r><![CDATA[{{.data.a}}]>]]></r>`,
			ab("]", ""), "CDATA"},
		{"CDATA closed by range items", XML, `<r><![CDATA[{{range .data.list}}{{.}}{{end}}]]></r>`,
			list("]]", "><y/><![CDATA["), "CDATA"},
		{"comment closed by literal and value", XML, `<r><!--a-{{.data.a}}--></r>`,
			ab("-><y/>", ""), "comment"},
		{"comment closed by range items", XML, `<r><!--{{range .data.list}}{{.}}x{{end}}--></r>`,
			list("a", "-"), "comment"},
		{"entity made of literal and value", XML, `<r>&{{.data.a}};</r>`,
			ab("lt", ""), "reference"},
		// URL: dot segments and percent-escapes split across actions, the scheme and
		// host chosen by a value placed after literal text, a port added by a value.
		{"dot segment from two actions", URL, `https://h.example/{{.data.a}}.{{.data.b}}/x`,
			ab("", "."), "path segment"},
		{"dot segment from value and literal", URL, `https://h.example/.{{.data.a}}/x`,
			ab(".", ""), "path segment"},
		{"dot segment from range", URL, `https://h.example/{{range .data.list}}{{.}}{{end}}/x`,
			list(".", "."), "path segment"},
		{"scheme and host after literal text", URL, `http{{.data.a}}://h.example/`,
			ab("s://evil.example/?", ""), "scheme"},
		{"scheme letter after literal text", URL, `http{{.data.a}}://h.example/`,
			ab("s", ""), "scheme"},
		{"port added by a host value", URL, `https://{{.data.a}}/x`,
			ab("h.example:8443", ""), "port"},
		{"bracket added to a host by a value", URL, `https://{{.data.a}}.example.com/p`,
			ab("]", ""), "brackets"},
		{"host extended after a base value", URL, `{{.data.a}}{{.data.b}}/x`,
			ab("https://h.example", ".evil.example"), "host"},
		{"percent-escape made of literal and value", URL, `https://h.example/a%{{.data.a}}b`,
			ab("2F", ""), "percent"},
		{"dot segment percent-escaped", URL, `https://h.example/%2e{{.data.a}}/x`,
			ab(".", ""), "path segment"},
		// JSON: a key from a value repeating a literal one, tokens merged across sources.
		{"key repeated by a value", JSON, `{"role":"user","{{.data.a}}":"{{.data.b}}"}`,
			ab("role", "admin"), "key"},
		{"key repeated by a whole value", JSON, `{"role":"user",{{.data.a}}:1}`,
			ab("role", ""), "key"},
		{"number merged from two values", JSON, `{"n":{{.data.a}}{{.data.b}}}`,
			abAny(float64(1), float64(2)), "value"},
		{"number merged with literal", JSON, `{"n":-{{.data.a}}}`,
			abAny(float64(1), nil), "value"},
		{"unicode escape made of literal and value", JSON, `{"s":"\u00{{.data.a}}"}`,
			ab("22", ""), "escape"},
		// Form: a field repeated by a value-named field, percent-escapes split.
		{"field repeated by a value", Form, `role=user&{{.data.a}}={{.data.b}}`,
			ab("role", "admin"), "field"},
		{"percent-escape across literal and value", Form, `a=%{{.data.a}}&b=1`,
			ab("26", ""), "percent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := render(t, tt.src, tt.kind, tt.data)
			if err == nil {
				t.Fatalf("rendered %s; want a refusal", short(out))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

// The same templates with ordinary values render, and values keep their freedom where
// the template leaves room for them.
func TestValuesFillTheirPlaces(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		kind Kind
		src  string
		data map[string]any
		want string
	}{
		{"CDATA", XML, `<r><![CDATA[{{.data.a}}{{.data.b}}]]></r>`, ab("]", "]"), `<r><![CDATA[]]]]></r>`},
		{"comment", XML, `<r><!--a-{{.data.a}}--></r>`, ab("x", ""), `<r><!--a-x--></r>`},
		{"escaped text", XML, `<r>{{.data.a}}{{.data.b}}</r>`, ab("&", "lt;"), `<r>&amp;lt;</r>`},
		{"literal entity", XML, `<r>&amp;{{.data.a}}</r>`, ab("x", ""), `<r>&amp;x</r>`},
		{"xml function", XML, `<r>{{xml .data.a}}</r>`, ab("<&>", ""), `<r>&lt;&amp;&gt;</r>`},
		{"segment with dots inside", URL, `https://h.example/{{.data.a}}.{{.data.b}}/x`, ab("a", "b"), `https://h.example/a.b/x`},
		{"three dots", URL, `https://h.example/{{.data.a}}/x`, ab("...", ""), `https://h.example/.../x`},
		{"scheme from a value at the start", URL, `{{.data.a}}://h.example/`, ab("https", ""), `https://h.example/`},
		{"base URL then path", URL, `{{.data.a}}/x/{{.data.b}}`, ab("https://h.example:8443/p", "q r"), `https://h.example:8443/p/x/q%20r`},
		{"host from a value", URL, `https://{{.data.a}}.example.com:8443/`, ab("eu-1", ""), `https://eu-1.example.com:8443/`},
		{"port from a value", URL, `https://h.example:{{.data.a}}/`, ab("8080", ""), `https://h.example:8080/`},
		{"ipv6 literal host", URL, `https://[::1]:{{.data.a}}/`, ab("8080", ""), `https://[::1]:8080/`},
		{"query", URL, `https://h.example/?a={{.data.a}}&b={{urlquery .data.b}}`, ab("&x=1", "=?"), `https://h.example/?a=%26x%3D1&b=%3D%3F`},
		{"literal percent-escape", URL, `https://h.example/a%20{{.data.a}}`, ab("b", ""), `https://h.example/a%20b`},
		{"key from a value", JSON, `{"role":"user","{{.data.a}}":"{{.data.b}}"}`, ab("name", "x"), `{"role":"user","name":"x"}`},
		{"whole object value", JSON, `{"m":{{.data.a}}}`, abAny(map[string]any{"k": "v", "n": float64(1)}, nil), `{"m":{"k":"v","n":1}}`},
		{"json function", JSON, `{"m":{{json .data.a}}}`, abAny([]any{"x", float64(2)}, nil), `{"m":["x",2]}`},
		{"range with literal commas", JSON, `[{{range $i, $v := .data.list}}{{if $i}},{{end}}{{$v}}{{end}}]`, list("a", "b"), `["a","b"]`},
		{"literal unicode escape", JSON, `{"s":"\u0041{{.data.a}}"}`, ab("b", ""), `{"s":"\u0041b"}`},
		{"form", Form, `a={{.data.a}}&b={{.data.b}}`, ab("x&y=z", "%41"), `a=x%26y%3Dz&b=%2541`},
		{"repeated literal field", Form, `{{range .data.list}}tag={{.}}&{{end}}x=1`, list("a", "b"), `tag=a&tag=b&x=1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			equal(t, "output", mustRender(t, tt.src, tt.kind, tt.data), tt.want)
		})
	}
}

func ab(a, b string) map[string]any {
	return map[string]any{"data": map[string]any{"a": a, "b": b}}
}

func abAny(a, b any) map[string]any {
	return map[string]any{"data": map[string]any{"a": a, "b": b}}
}

func list(items ...string) map[string]any {
	l := make([]any, len(items))
	for i, s := range items {
		l[i] = s
	}
	return map[string]any{"data": map[string]any{"list": l}}
}
