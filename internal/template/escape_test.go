package template

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// position is one place a value can land in a template of some kind.
type position struct {
	name string
	kind Kind
	src  string // reads the value at .data.v
	// reject returns the error text Render must fail with for v, or "" if v is
	// accepted.
	reject func(v string) string
	// mayFail marks positions where an accepted value can still make the whole output
	// ill-formed (the start or host of a URL), so that Render may fail for it.
	mayFail bool
	// decode checks that out carries v; nil when the position does not round-trip.
	decode func(t testing.TB, v, out string)
}

func always(msg string) func(string) string { return func(string) string { return msg } }

func rejectIf(cond func(string) bool, msg string) func(string) string {
	return func(v string) string {
		if cond(v) {
			return msg
		}
		return ""
	}
}

func isHostChars(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-_:[]", c) >= 0) {
			return false
		}
	}
	return true
}

func equal(t testing.TB, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %s, want %s", what, short(got), short(want))
	}
}

// decodeJSONObject unmarshals out into an object and checks it has exactly the keys
// in keys.
func decodeJSONObject(t testing.TB, out string, keys ...string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("output %s is not a JSON object: %v", short(out), err)
	}
	if len(m) != len(keys) {
		t.Errorf("object has %d keys, want %d (%q): the value changed the document's shape", len(m), len(keys), keys)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("object lacks key %q", k)
		}
	}
	return m
}

func jsonField(t testing.TB, m map[string]any, key string) string {
	t.Helper()
	s, ok := m[key].(string)
	if !ok {
		t.Fatalf("field %q is %T, want a string", key, m[key])
	}
	return s
}

func decodeXML(t testing.TB, out string) *xmlNode {
	t.Helper()
	n, err := parseXML(out)
	if err != nil {
		t.Fatalf("output %s is not well-formed XML: %v", short(out), err)
	}
	return n
}

func attr(n *xmlNode, name string) (string, int) {
	v, count := "", 0
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			v = a.Value
		}
		count++
	}
	return v, count
}

func decodeURL(t testing.TB, out string) *url.URL {
	t.Helper()
	u, err := url.Parse(out)
	if err != nil {
		t.Fatalf("output %s does not parse as a URL: %v", short(out), err)
	}
	return u
}

func decodeQuery(t testing.TB, q string, keys ...string) url.Values {
	t.Helper()
	vals, err := url.ParseQuery(q)
	if err != nil {
		t.Fatalf("query %s does not parse: %v", short(q), err)
	}
	if len(vals) != len(keys) {
		t.Errorf("query has %d keys, want %d (%q): the value added or removed a parameter", len(vals), len(keys), keys)
	}
	for k, vs := range vals {
		if len(vs) != 1 {
			t.Errorf("query key %s has %d values, want 1", short(k), len(vs))
		}
	}
	return vals
}

// positions lists every place a value can land, with what must come out.
var positions = []position{
	{
		name: "text", kind: Text, src: "before {{.data.v}} after",
		decode: func(t testing.TB, v, out string) { equal(t, "text", out, "before "+v+" after") },
	},
	{
		name: "arg", kind: Arg, src: "--name={{.data.v}}",
		reject: rejectIf(func(v string) bool { return strings.IndexByte(v, 0) >= 0 }, "NUL byte"),
		decode: func(t testing.TB, v, out string) { equal(t, "arg", out, "--name="+v) },
	},
	{
		name: "header", kind: Header, src: "Bearer x{{.data.v}}x",
		reject: rejectIf(hasHeaderControl, "control character"),
		decode: func(t testing.TB, v, out string) {
			got, err := headerRoundTrip(out)
			if err != nil {
				t.Fatalf("header %s: %v", short(out), err)
			}
			equal(t, "header as received", got, "Bearer x"+v+"x")
		},
	},
	{
		name: "url path segment", kind: URL, src: "https://example.com/a/{{.data.v}}/b",
		reject: func(v string) string {
			// A receiver that decodes "%2F" (or takes "\\" for "/") before it resolves
			// the path would see a dot segment.
			for _, piece := range strings.FieldsFunc(v, func(r rune) bool { return r == '/' || r == '\\' }) {
				if piece == "." || piece == ".." {
					return "a whole path segment"
				}
			}
			if v == "." || v == ".." {
				return "a whole path segment"
			}
			return ""
		},
		decode: func(t testing.TB, v, out string) {
			u := decodeURL(t, out)
			if u.Host != "example.com" || u.RawQuery != "" || u.Fragment != "" {
				t.Errorf("URL %s: host %q, query %q, fragment %q: the value escaped its segment", short(out), u.Host, u.RawQuery, u.Fragment)
			}
			seg, ok := strings.CutPrefix(out, "https://example.com/a/")
			if !ok {
				t.Fatalf("URL %s lost its prefix", short(out))
			}
			seg, ok = strings.CutSuffix(seg, "/b")
			if !ok || strings.ContainsAny(seg, "/?#") {
				t.Fatalf("URL %s: the value added a path segment, query or fragment", short(out))
			}
			got, err := url.PathUnescape(seg)
			if err != nil {
				t.Fatalf("segment %s: %v", short(seg), err)
			}
			equal(t, "path segment", got, v)
			equal(t, "decoded path", u.Path, "/a/"+v+"/b")
		},
	},
	{
		name: "url query value", kind: URL, src: "https://example.com/p?q={{.data.v}}&z=1",
		decode: func(t testing.TB, v, out string) {
			u := decodeURL(t, out)
			if u.Path != "/p" || u.Fragment != "" {
				t.Errorf("URL %s: path %q, fragment %q", short(out), u.Path, u.Fragment)
			}
			q := decodeQuery(t, u.RawQuery, "q", "z")
			equal(t, "q", q.Get("q"), v)
			equal(t, "z", q.Get("z"), "1")
		},
	},
	{
		name: "url query key", kind: URL, src: "https://example.com/p?{{.data.v}}=1",
		decode: func(t testing.TB, v, out string) {
			q := decodeQuery(t, decodeURL(t, out).RawQuery, v)
			equal(t, "value under the key", q.Get(v), "1")
		},
	},
	{
		name: "url query after a literal parameter", kind: URL, src: "https://example.com/p?a=1&b={{.data.v}}#f",
		decode: func(t testing.TB, v, out string) {
			u := decodeURL(t, out)
			equal(t, "fragment", u.Fragment, "f")
			q := decodeQuery(t, u.RawQuery, "a", "b")
			equal(t, "b", q.Get("b"), v)
		},
	},
	{
		name: "url fragment", kind: URL, src: "https://example.com/p?a=1#x{{.data.v}}",
		decode: func(t testing.TB, v, out string) {
			u := decodeURL(t, out)
			equal(t, "query", u.RawQuery, "a=1")
			equal(t, "fragment", u.Fragment, "x"+v)
		},
	},
	{
		name: "url urlquery function in query", kind: URL, src: "https://example.com/p?q={{urlquery .data.v}}",
		decode: func(t testing.TB, v, out string) {
			q := decodeQuery(t, decodeURL(t, out).RawQuery, "q")
			equal(t, "q (escaped once)", q.Get("q"), v)
		},
	},
	{
		name: "url host label", kind: URL, src: "https://{{.data.v}}.example.com/x",
		reject:  rejectIf(func(v string) bool { return !isHostChars(v) }, "host name"),
		mayFail: true,
		decode: func(t testing.TB, v, out string) {
			u := decodeURL(t, out)
			equal(t, "host", u.Host, v+".example.com")
			equal(t, "path", u.Path, "/x")
		},
	},
	{
		name: "url start", kind: URL, src: "{{.data.v}}/x?q=1",
		reject: rejectIf(func(v string) bool {
			return strings.IndexFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0
		}, "space or control character"),
		mayFail: true,
	},
	{
		name: "json string", kind: JSON, src: `{"a":"{{.data.v}}","b":1}`,
		decode: func(t testing.TB, v, out string) {
			m := decodeJSONObject(t, out, "a", "b")
			equal(t, "a", jsonField(t, m, "a"), wantJSON(v))
			if m["b"] != 1.0 {
				t.Errorf("b = %v, want 1", m["b"])
			}
		},
	},
	{
		name: "json string with literal text around", kind: JSON, src: `{"a":"<{{.data.v}}>\n"}`,
		decode: func(t testing.TB, v, out string) {
			m := decodeJSONObject(t, out, "a")
			equal(t, "a", jsonField(t, m, "a"), "<"+wantJSON(v)+">\n")
		},
	},
	{
		name: "json string as key", kind: JSON, src: `{"{{.data.v}}":1}`,
		decode: func(t testing.TB, v, out string) {
			m := decodeJSONObject(t, out, wantJSON(v))
			if m[wantJSON(v)] != 1.0 {
				t.Errorf("value under the key = %v, want 1", m[wantJSON(v)])
			}
		},
	},
	{
		name: "json value", kind: JSON, src: `{"a":{{.data.v}},"b":1}`,
		decode: func(t testing.TB, v, out string) {
			m := decodeJSONObject(t, out, "a", "b")
			equal(t, "a", jsonField(t, m, "a"), wantJSON(v))
		},
	},
	{
		name: "json value as key", kind: JSON, src: `{ {{.data.v}} : 1}`,
		decode: func(t testing.TB, v, out string) { decodeJSONObject(t, out, wantJSON(v)) },
	},
	{
		name: "json value in array", kind: JSON, src: `[{{.data.v}}, "{{.data.v}}"]`,
		decode: func(t testing.TB, v, out string) {
			var a []string
			if err := json.Unmarshal([]byte(out), &a); err != nil {
				t.Fatalf("output %s: %v", short(out), err)
			}
			if len(a) != 2 {
				t.Fatalf("array has %d elements, want 2", len(a))
			}
			equal(t, "a[0]", a[0], wantJSON(v))
			equal(t, "a[1]", a[1], wantJSON(v))
		},
	},
	{
		name: "json whole document", kind: JSON, src: `{{.data.v}}`,
		decode: func(t testing.TB, v, out string) {
			var s string
			if err := json.Unmarshal([]byte(out), &s); err != nil {
				t.Fatalf("output %s: %v", short(out), err)
			}
			equal(t, "document", s, wantJSON(v))
		},
	},
	{
		name: "json function as value", kind: JSON, src: `{"a":{{json .data.v}}}`,
		decode: func(t testing.TB, v, out string) {
			equal(t, "a (encoded once)", jsonField(t, decodeJSONObject(t, out, "a"), "a"), wantJSON(v))
		},
	},
	{
		name: "json function inside a string", kind: JSON, src: `{"a":"{{json .data.v}}"}`,
		decode: func(t testing.TB, v, out string) {
			// The string holds the JSON text, escaped once for the string.
			inner := jsonField(t, decodeJSONObject(t, out, "a"), "a")
			var s string
			if err := json.Unmarshal([]byte(inner), &s); err != nil {
				t.Fatalf("a = %s is not the JSON text of the value: %v", short(inner), err)
			}
			equal(t, "a decoded", s, wantJSON(v))
		},
	},
	{
		name: "json xml function inside a string", kind: JSON, src: `{"a":"{{xml .data.v}}"}`,
		decode: func(t testing.TB, v, out string) {
			inner := jsonField(t, decodeJSONObject(t, out, "a"), "a")
			n := decodeXML(t, "<r>"+inner+"</r>")
			equal(t, "a as XML text", n.Text, wantXML(v))
		},
	},
	{
		name: "json urlquery function inside a string", kind: JSON, src: `{"a":"{{urlquery .data.v}}"}`,
		decode: func(t testing.TB, v, out string) {
			inner := jsonField(t, decodeJSONObject(t, out, "a"), "a")
			got, err := url.QueryUnescape(inner)
			if err != nil {
				t.Fatalf("a = %s: %v", short(inner), err)
			}
			equal(t, "a unescaped", got, v)
		},
	},
	{
		name: "json after a backslash", kind: JSON, src: `{"a":"x\{{.data.v}}"}`,
		reject: always("backslash"),
	},
	{
		name: "json after an escaped backslash and quote", kind: JSON, src: `{"a":"x\\\"{{.data.v}}"}`,
		decode: func(t testing.TB, v, out string) {
			equal(t, "a", jsonField(t, decodeJSONObject(t, out, "a"), "a"), `x\"`+wantJSON(v))
		},
	},
	{
		name: "xml text", kind: XML, src: `<r><a>{{.data.v}}</a></r>`,
		decode: func(t testing.TB, v, out string) {
			n := decodeXML(t, out)
			if len(n.Nodes) != 1 || n.Nodes[0].XMLName.Local != "a" || len(n.Nodes[0].Nodes) != 0 {
				t.Fatalf("output %s: the value changed the element structure", short(out))
			}
			equal(t, "text", n.Nodes[0].Text, wantXML(v))
		},
	},
	{
		name: "xml text beside literal text", kind: XML, src: "<r>&lt;{{.data.v}}&amp;\n</r>",
		decode: func(t testing.TB, v, out string) {
			equal(t, "text", decodeXML(t, out).Text, "<"+wantXML(v)+"&\n")
		},
	},
	{
		name: "xml double-quoted attribute", kind: XML, src: `<r a="{{.data.v}}" b="1"/>`,
		decode: func(t testing.TB, v, out string) {
			n := decodeXML(t, out)
			got, count := attr(n, "a")
			if count != 2 {
				t.Errorf("element has %d attributes, want 2", count)
			}
			equal(t, "a", got, wantXML(v))
		},
	},
	{
		name: "xml single-quoted attribute", kind: XML, src: `<r a='x{{.data.v}}' b="1"></r>`,
		decode: func(t testing.TB, v, out string) {
			n := decodeXML(t, out)
			got, count := attr(n, "a")
			if count != 2 {
				t.Errorf("element has %d attributes, want 2", count)
			}
			equal(t, "a", got, "x"+wantXML(v))
		},
	},
	{
		name: "xml xml function in text", kind: XML, src: `<r>{{xml .data.v}}</r>`,
		decode: func(t testing.TB, v, out string) { equal(t, "text (escaped once)", decodeXML(t, out).Text, wantXML(v)) },
	},
	{
		name: "xml xml function in attribute", kind: XML, src: `<r a="{{xml .data.v}}"/>`,
		decode: func(t testing.TB, v, out string) {
			got, _ := attr(decodeXML(t, out), "a")
			equal(t, "a (escaped once)", got, wantXML(v))
		},
	},
	{
		name: "xml cdata", kind: XML, src: `<r><![CDATA[{{.data.v}}]]></r>`,
		reject: rejectIf(func(v string) bool { return strings.Contains(v, "]]>") }, "CDATA"),
		decode: func(t testing.TB, v, out string) { equal(t, "cdata", decodeXML(t, out).Text, wantXMLRaw(v)) },
	},
	{
		name: "xml comment", kind: XML, src: `<r><!--{{.data.v}}--></r>`,
		reject: rejectIf(func(v string) bool { return strings.Contains(v, "--") || strings.HasSuffix(v, "-") }, "comment"),
		decode: func(t testing.TB, v, out string) { equal(t, "comment", decodeXML(t, out).Comment, wantXML(v)) },
	},
	{
		name: "xml element name", kind: XML, src: `<r><{{.data.v}}/></r>`,
		reject: always("inside a tag"),
	},
	{
		name: "xml closing tag name", kind: XML, src: `<r></{{.data.v}}>`,
		reject: always("inside a tag"),
	},
	{
		name: "xml attribute name", kind: XML, src: `<r {{.data.v}}="1"/>`,
		reject: always("inside a tag"),
	},
	{
		name: "xml unquoted attribute value", kind: XML, src: `<r a={{.data.v}}/>`,
		reject: always("inside a tag"),
	},
	{
		name: "xml processing instruction", kind: XML, src: `<?pi {{.data.v}}?><r/>`,
		reject: always("processing instruction"),
	},
	{
		name: "form value", kind: Form, src: "a={{.data.v}}&b=2",
		decode: func(t testing.TB, v, out string) {
			q := decodeQuery(t, out, "a", "b")
			equal(t, "a", q.Get("a"), v)
			equal(t, "b", q.Get("b"), "2")
		},
	},
	{
		name: "form key", kind: Form, src: "{{.data.v}}=1",
		decode: func(t testing.TB, v, out string) { equal(t, "value under the key", decodeQuery(t, out, v).Get(v), "1") },
	},
	{
		name: "form urlquery function", kind: Form, src: "a={{urlquery .data.v}}",
		decode: func(t testing.TB, v, out string) { equal(t, "a (escaped once)", decodeQuery(t, out, "a").Get("a"), v) },
	},
}

// checkPosition renders v at p and checks the outcome: refused with the expected error
// and no output, or well-formed output that carries v.
func checkPosition(t testing.TB, p position, v string) {
	t.Helper()
	out, err := render(t, p.src, p.kind, vdata(v))
	want := ""
	if p.reject != nil {
		want = p.reject(v)
	}
	if err != nil {
		if out != "" {
			t.Errorf("Render failed but returned output %s", short(out))
		}
		if want != "" {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Render(%s) error = %q, want it to mention %q", short(v), err, want)
			}
			return
		}
		if !p.mayFail {
			t.Errorf("Render(%s) = %v, want success", short(v), err)
		}
		return
	}
	if want != "" {
		t.Fatalf("Render(%s) = %s, want an error mentioning %q", short(v), short(out), want)
	}
	if err := wellFormed(p.kind, out); err != nil {
		t.Fatalf("output %s is not well-formed %s: %v", short(out), p.kind, err)
	}
	if p.decode != nil {
		p.decode(t, v, out)
	}
}

func TestHostileValuesInEveryPosition(t *testing.T) {
	t.Parallel()
	for _, p := range positions {
		t.Run(p.kind.String()+"/"+p.name, func(t *testing.T) {
			t.Parallel()
			for _, v := range hostileValues {
				t.Run(fmt.Sprintf("%.24q", v), func(t *testing.T) { checkPosition(t, p, v) })
			}
		})
	}
}

// TestRejectionsAreClear checks the errors for values that cannot stand where they land:
// they say what is wrong and do not show template internals.
func TestRejectionsAreClear(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		kind Kind
		v    any
		want string
	}{
		{"X {{.data.v}}", Header, "a\r\nX-Evil: 1", `header: value contains the control character '\r' at byte 1`},
		{"X {{.data.v}}", Header, "a\nb", `control character '\n'`},
		{"X {{.data.v}}", Header, "\x00", `control character '\x00'`},
		{"--x={{.data.v}}", Arg, "a\x00", "arg: value contains a NUL byte"},
		{`<r><{{.data.v}}/></r>`, XML, "b", "xml: a value inside a tag must be a quoted attribute value"},
		{`{"a":"\{{.data.v}}"}`, JSON, "n", "json: a value cannot follow a backslash inside a JSON string"},
		{`{"a":{{.data.v}}}`, JSON, math.NaN(), "json: value cannot be written as JSON"},
		{`<r><![CDATA[{{.data.v}}]]></r>`, XML, "x]]>y", `value contains "]]>"`},
		{`<r><!--{{.data.v}}--></r>`, XML, "a--b", `cannot stand inside an XML comment`},
		{`https://{{.data.v}}/`, URL, "evil.example/x?", `cannot be part of a host name: byte 12 is not`},
		{`https://{{.data.v}}/`, URL, "user@evil.example", `cannot be part of a host name: byte 4 is not`},
		{`{{.data.v}}/x`, URL, "https://h/ x", "space or control character"},
		{`{{.data.v}}/x`, URL, "javascript:alert(1)", "the scheme must be http or https"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			out, err := render(t, tt.src, tt.kind, vdata(tt.v))
			if err == nil {
				t.Fatalf("Render = %s, want an error", short(out))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			for _, internal := range []string{escapeFunc, "template: ", "executing"} {
				if strings.Contains(err.Error(), internal) {
					t.Errorf("error %q shows the internal %q", err, internal)
				}
			}
		})
	}
}

func TestJSONValuePosition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    any
		want string // the JSON the field holds, compared by value
		raw  string // text the output must contain, when the spelling matters
	}{
		{"string is quoted", "100", `"100"`, `"100"`},
		{"int stays a number", 100, `100`, `:100}`},
		{"float stays a number", 2.5, `2.5`, `:2.5}`},
		{"decoded JSON number stays a number", json.Number("12345678901234567890"), `12345678901234567890`, `12345678901234567890`},
		{"bool", true, `true`, `:true}`},
		{"nil is null", nil, `null`, `:null}`},
		{"map becomes an object", map[string]any{"k": "<&>", "n": 1}, `{"k":"<&>","n":1}`, `"<&>"`},
		{"slice becomes an array", []any{"a", 1, nil}, `["a",1,null]`, ""},
		{"hostile string stays one string", `","admin":true,"x":"`, `"\",\"admin\":true,\"x\":\""`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := mustRender(t, `{"a":{{.data.v}}}`, JSON, vdata(tt.v))
			var got struct{ A json.RawMessage }
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("output %s: %v", out, err)
			}
			var g, w any
			if err := json.Unmarshal(got.A, &g); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.want), &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("a = %s, want %s", got.A, tt.want)
			}
			if !strings.Contains(out, tt.raw) {
				t.Errorf("output %s does not contain %s", out, tt.raw)
			}
		})
	}

	t.Run("missing key is null", func(t *testing.T) {
		t.Parallel()
		out := mustRender(t, `{"a":{{.data.nope}},"b":"{{.data.nope}}"}`, JSON, vdata("x"))
		if out != `{"a":null,"b":""}` {
			t.Errorf("output = %s, want {\"a\":null,\"b\":\"\"}", out)
		}
	})
}

func TestJSONStringPositionNonStrings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    any
		want string
	}{
		{100, "100"},
		{2.5, "2.5"},
		{float64(100), "100"}, // a vmid decoded from JSON
		{true, "true"},
		{nil, ""},
		{map[string]any{"k": `"a b"`}, `{"k":"\"a b\""}`},
		{[]any{1, "x"}, `[1,"x"]`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.v), func(t *testing.T) {
			t.Parallel()
			out := mustRender(t, `{"a":"{{.data.v}}"}`, JSON, vdata(tt.v))
			m := decodeJSONObject(t, out, "a")
			equal(t, "a", jsonField(t, m, "a"), tt.want)
		})
	}
}

// TestFunctionsEscapeOnce checks that the json, xml and urlquery functions are not
// escaped again where their output is already right, and that where it is not (another
// kind of text), their output is treated as plain text rather than as a Go value.
func TestFunctionsEscapeOnce(t *testing.T) {
	t.Parallel()
	v := `a "b" <c> & d/e?f=g#h é`
	data := map[string]any{"data": map[string]any{"v": v, "m": map[string]any{"k": v, "n": 1}}}
	tests := []struct {
		src  string
		kind Kind
		want string
	}{
		{`{{json .data.m}}`, Text, `{"k":"a \"b\" <c> & d/e?f=g#h é","n":1}`},
		{`{{json .data.v}}`, Arg, `"a \"b\" <c> & d/e?f=g#h é"`},
		{`{{xml .data.v}}`, Text, `a &quot;b&quot; &lt;c&gt; &amp; d/e?f=g#h é`},
		{`{{urlquery .data.v}}`, Header, `a+%22b%22+%3Cc%3E+%26+d%2Fe%3Ff%3Dg%23h+%C3%A9`},
		{`{{urlquery .data.v}}`, Text, `a+%22b%22+%3Cc%3E+%26+d%2Fe%3Ff%3Dg%23h+%C3%A9`},
		{`{"m":{{json .data.m}}}`, JSON, `{"m":{"k":"a \"b\" <c> & d/e?f=g#h é","n":1}}`},
		{`{"x":"{{urlquery .data.v}}"}`, JSON, `{"x":"a+%22b%22+%3Cc%3E+%26+d%2Fe%3Ff%3Dg%23h+%C3%A9"}`},
		{`{"x":{{urlquery .data.v}}}`, JSON, `{"x":"a+%22b%22+%3Cc%3E+%26+d%2Fe%3Ff%3Dg%23h+%C3%A9"}`},
		{`{"x":{{xml .data.v}}}`, JSON, `{"x":"a &quot;b&quot; &lt;c&gt; &amp; d/e?f=g#h é"}`},
		{`<r a="{{xml .data.v}}">{{xml .data.v}}</r>`, XML, `<r a="a &quot;b&quot; &lt;c&gt; &amp; d/e?f=g#h é">a &quot;b&quot; &lt;c&gt; &amp; d/e?f=g#h é</r>`},
		{`<r>{{json .data.m}}</r>`, XML, `<r>{&quot;k&quot;:&quot;a \&quot;b\&quot; &lt;c&gt; &amp; d/e?f=g#h é&quot;,&quot;n&quot;:1}</r>`},
		{`https://h/p?q={{urlquery .data.v}}`, URL, `https://h/p?q=a+%22b%22+%3Cc%3E+%26+d%2Fe%3Ff%3Dg%23h+%C3%A9`},
		{`https://h/p?q={{xml .data.v}}`, URL, `https://h/p?q=a+%26quot%3Bb%26quot%3B+%26lt%3Bc%26gt%3B+%26amp%3B+d%2Fe%3Ff%3Dg%23h+%C3%A9`},
		{`https://h/{{json .data.v}}`, URL, `https://h/%22a%20%5C%22b%5C%22%20%3Cc%3E%20&%20d%2Fe%3Ff=g%23h%20%C3%A9%22`},
		{`a={{urlquery .data.v}}&b={{xml .data.v}}`, Form, `a=a+%22b%22+%3Cc%3E+%26+d%2Fe%3Ff%3Dg%23h+%C3%A9&b=a+%26quot%3Bb%26quot%3B+%26lt%3Bc%26gt%3B+%26amp%3B+d%2Fe%3Ff%3Dg%23h+%C3%A9`},
		{`{{.data.v | urlquery | upper}}`, Text, `A+%22B%22+%3CC%3E+%26+D%2FE%3FF%3DG%23H+%C3%A9`},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String()+"/"+tt.src, func(t *testing.T) {
			t.Parallel()
			out := mustRender(t, tt.src, tt.kind, data)
			if out != tt.want {
				t.Errorf("output =\n%s\nwant\n%s", out, tt.want)
			}
			if err := wellFormed(tt.kind, out); err != nil {
				t.Errorf("output is not well-formed: %v", err)
			}
		})
	}
}

// TestBranches checks that escaping follows the context each branch, loop iteration and
// nested template actually produces.
func TestBranches(t *testing.T) {
	t.Parallel()
	v := `","admin":true,"x":"</a>&é` + "\r\n"
	tags := []any{v, "plain", `"`, `\`}
	data := func(flag bool) map[string]any {
		return map[string]any{"data": map[string]any{
			"v": v, "flag": flag, "tags": tags,
			"m": map[string]any{"k1": v, "k&2": "x y"},
		}}
	}

	t.Run("json if/else: string and value positions", func(t *testing.T) {
		t.Parallel()
		src := `{"a":{{if .data.flag}}"<{{.data.v}}>"{{else}}{{.data.v}}{{end}}}`
		for _, flag := range []bool{true, false} {
			out := mustRender(t, src, JSON, data(flag))
			want := v
			if flag {
				want = "<" + v + ">"
			}
			equal(t, fmt.Sprintf("a (flag=%v)", flag), jsonField(t, decodeJSONObject(t, out, "a"), "a"), want)
		}
	})

	t.Run("json range builds an array", func(t *testing.T) {
		t.Parallel()
		src := `{"tags":[{{range $i, $t := .data.tags}}{{if $i}},{{end}}{{if eq $i 1}}"{{$t}}"{{else}}{{$t}}{{end}}{{end}}]}`
		out := mustRender(t, src, JSON, data(true))
		var got struct{ Tags []any }
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("output %s: %v", out, err)
		}
		if !reflect.DeepEqual(got.Tags, tags) {
			t.Errorf("tags = %q, want %q", got.Tags, tags)
		}
	})

	t.Run("json range over an empty list", func(t *testing.T) {
		t.Parallel()
		d := data(true)
		d["data"].(map[string]any)["tags"] = []any{}
		out := mustRender(t, `{"tags":[{{range .data.tags}}{{.}}{{else}}"none"{{end}}]}`, JSON, d)
		equal(t, "output", out, `{"tags":["none"]}`)
	})

	t.Run("json nested template", func(t *testing.T) {
		t.Parallel()
		src := `{{define "quoted"}}"{{.}}"{{end}}{{define "bare"}}{{.}}{{end}}{"a":{{template "quoted" .data.v}},"b":{{template "bare" .data.v}}}`
		m := decodeJSONObject(t, mustRender(t, src, JSON, data(true)), "a", "b")
		equal(t, "a", jsonField(t, m, "a"), v)
		equal(t, "b", jsonField(t, m, "b"), v)
	})

	t.Run("json with and variables", func(t *testing.T) {
		t.Parallel()
		src := `{{$x := .data.v}}{{with .data.m}}{"a":"{{$x}}","b":{{.k1}}}{{end}}`
		m := decodeJSONObject(t, mustRender(t, src, JSON, data(true)), "a", "b")
		equal(t, "a", jsonField(t, m, "a"), v)
		equal(t, "b", jsonField(t, m, "b"), v)
	})

	t.Run("url range builds a query", func(t *testing.T) {
		t.Parallel()
		src := `https://example.com/p?{{range $k, $v := .data.m}}{{$k}}={{$v}}&{{end}}z=1`
		out := mustRender(t, src, URL, data(true))
		q := decodeQuery(t, decodeURL(t, out).RawQuery, "k1", "k&2", "z")
		equal(t, "k1", q.Get("k1"), v)
		equal(t, "k&2", q.Get("k&2"), "x y")
	})

	t.Run("url if chooses path or query", func(t *testing.T) {
		t.Parallel()
		src := `https://example.com/{{if .data.flag}}p/{{.data.v}}{{else}}p?v={{.data.v}}{{end}}`
		out := mustRender(t, src, URL, data(true))
		equal(t, "path", decodeURL(t, out).Path, "/p/"+v)
		out = mustRender(t, src, URL, data(false))
		equal(t, "query v", decodeURL(t, out).Query().Get("v"), v)
	})

	t.Run("xml range: attributes and text", func(t *testing.T) {
		t.Parallel()
		src := `<r>{{range .data.tags}}<i a="{{.}}">{{.}}</i>{{end}}</r>`
		n := decodeXML(t, mustRender(t, src, XML, data(true)))
		if len(n.Nodes) != len(tags) {
			t.Fatalf("%d elements, want %d", len(n.Nodes), len(tags))
		}
		for i, tag := range tags {
			a, _ := attr(n.Nodes[i], "a")
			equal(t, fmt.Sprintf("attribute %d", i), a, tag.(string))
			equal(t, fmt.Sprintf("text %d", i), n.Nodes[i].Text, tag.(string))
		}
	})

	t.Run("xml if: text in one branch, tag name in the other", func(t *testing.T) {
		t.Parallel()
		src := `<r>{{if .data.flag}}{{.data.v}}{{else}}<{{.data.v}}/>{{end}}</r>`
		equal(t, "text", decodeXML(t, mustRender(t, src, XML, data(true))).Text, v)
		if out, err := render(t, src, XML, data(false)); err == nil || !strings.Contains(err.Error(), "inside a tag") {
			t.Errorf("tag-name branch: Render = %q, %v; want an error", out, err)
		}
	})

	t.Run("form range", func(t *testing.T) {
		t.Parallel()
		src := `{{range $i, $t := .data.tags}}{{if $i}}&{{end}}t={{$t}}{{end}}`
		q, err := url.ParseQuery(mustRender(t, src, Form, data(true)))
		if err != nil {
			t.Fatal(err)
		}
		if len(q) != 1 || !reflect.DeepEqual(q["t"], []string{v, "plain", `"`, `\`}) {
			t.Errorf("t = %q", q["t"])
		}
	})

	t.Run("header if", func(t *testing.T) {
		t.Parallel()
		src := `{{if .data.flag}}{{.data.v}}{{else}}none{{end}}`
		if _, err := render(t, src, Header, data(true)); err == nil {
			t.Error("CR LF in the taken branch: want an error")
		}
		equal(t, "header", mustRender(t, src, Header, data(false)), "none")
	})
}

func TestURLPositions(t *testing.T) {
	t.Parallel()
	data := map[string]any{"data": map[string]any{
		"base": "https://api.example.com/v1", "host": "api.example.com:8443", "v": "a b/c?d", "port": 8443,
		"bad": "javascript:alert(1)",
	}}
	tests := []struct {
		src     string
		want    string
		wantErr string
	}{
		{"{{.data.base}}/items/{{.data.v}}?q={{.data.v}}", "https://api.example.com/v1/items/a%20b%2Fc%3Fd?q=a+b%2Fc%3Fd", ""},
		{"https://{{.data.host}}/x", "", "port"}, // the template has no port: a value cannot add one
		{"https://api.example.com:{{.data.port}}/x", "https://api.example.com:8443/x", ""},
		{"https://api.example.com/x#{{.data.v}}", "https://api.example.com/x#a%20b%2Fc%3Fd", ""},
		{"http://[::1]:80/{{.data.v}}", "http://[::1]:80/a%20b%2Fc%3Fd", ""},
		{"{{.data.bad}}", "", "scheme must be http or https"},
		{"https:///{{.data.v}}", "", "has no host"},
		{"/relative/{{.data.v}}", "", "scheme must be http or https"},
		{"https://{{.data.v}}/", "", "host name"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			out, err := render(t, tt.src, URL, data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Render = %q, %v; want an error containing %q", out, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "URL", out, tt.want)
		})
	}
}

func TestXMLWholeDocument(t *testing.T) {
	t.Parallel()
	src := `<?xml version="1.0" encoding="UTF-8"?>
<!-- {{.data.c}} -->
<event id="{{.data.v}}"><name>{{.data.v}}</name><raw><![CDATA[{{.data.v}}]]></raw></event>
`
	v := "vm <web> & \"db\" 'x' é\t"
	n := decodeXML(t, mustRender(t, src, XML, map[string]any{"data": map[string]any{"v": v, "c": "a comment"}}))
	id, _ := attr(n, "id")
	equal(t, "id", id, v)
	if len(n.Nodes) != 2 {
		t.Fatalf("%d children, want 2", len(n.Nodes))
	}
	equal(t, "name", n.Nodes[0].Text, v)
	equal(t, "raw", n.Nodes[1].Text, v)
}

// TestXMLOneRoot checks that the rendered XML is one element with nothing but white
// space, comments and processing instructions around it.
func TestXMLOneRoot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src     string
		wantErr bool
	}{
		{"<r/>", false},
		{"\n <r/>\n", false},
		{"<?xml version=\"1.0\"?><!-- c --><r/><!-- c -->", false},
		{"<r/><r/>", true},
		{"", true},
		{"text", true},
		{"<r/>text", true},
		{"text<r/>", true},
		{"<r/>{{.data.v}}", true},
		{"{{.data.v}}<r/>", true},
		{"<r>", true},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			var out string
			tp, err := Parse("t", tt.src, XML)
			if err == nil {
				out, err = NewScope(vdata("value")).Render(tp)
			}
			if tt.wantErr != (err != nil) {
				t.Errorf("Parse+Render = %q, %v; want error: %v", out, err, tt.wantErr)
			}
			if err == nil {
				if werr := wellFormed(XML, out); werr != nil {
					t.Errorf("accepted %q, which is not well-formed: %v", out, werr)
				}
			}
		})
	}
}

func TestNonStringValuesInOtherKinds(t *testing.T) {
	t.Parallel()
	data := map[string]any{"data": map[string]any{
		"n": float64(100), "b": true, "m": map[string]any{"k": "a b"}, "nil": nil,
	}}
	tests := []struct {
		src  string
		kind Kind
		want string
	}{
		{"https://h/{{.data.n}}?b={{.data.b}}&m={{.data.m}}&z={{.data.nil}}{{.data.missing}}", URL, "https://h/100?b=true&m=%7B%22k%22%3A%22a+b%22%7D&z="},
		{`<r n="{{.data.n}}">{{.data.m}}{{.data.nil}}</r>`, XML, `<r n="100">{&quot;k&quot;:&quot;a b&quot;}</r>`},
		{"n={{.data.n}}&m={{.data.m}}", Form, "n=100&m=%7B%22k%22%3A%22a+b%22%7D"},
		{"{{.data.n}} {{.data.b}} {{.data.nil}}", Header, "100 true "},
		{"{{.data.n}}", Arg, "100"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			equal(t, "output", mustRender(t, tt.src, tt.kind, data), tt.want)
		})
	}
}
