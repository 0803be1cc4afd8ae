package template

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// The structural fuzzers render templates whose values are fuzzed, and compare the
// structure of what comes out — parsed with the parsers a receiver would use, not with
// this package's own scanners — to the structure the same template has with benign
// values. A value may be refused; it may never change the elements and attributes of
// XML, the keys of JSON, the scheme, host, port and path segments of a URL or the fields
// of a form. Run each for a while:
//
//	go test -run='^$' -fuzz=FuzzStructureXML -fuzztime=10m ./internal/template/
//
// Inputs that once found something are kept under testdata/fuzz/FuzzStructure*.

// structTemplate is a template the structural fuzzers render, with benign values that
// render it, and what its structure leaves to values.
type structTemplate struct {
	src    string
	benign [3]string
	// valueKeys: the template names keys or fields from values, so only their number
	// (and the literal ones) are structure.
	valueKeys bool
	// hostSuffix: the host comes from a value inside this literal suffix.
	hostSuffix string
}

var structTemplates = map[Kind][]structTemplate{
	JSON: {
		{src: `{"a":"{{.data.a}}{{.data.b}}","b":{{.data.c}}}`},
		{src: `{"s":"\u00{{.data.a}}x{{.data.b}}"}`, benign: [3]string{"41"}},
		{src: `[{{range .data.list}}{{.}},{{end}}0]`},
		{src: `{"role":"user","{{.data.a}}":"{{.data.b}}"}`, benign: [3]string{"name"}, valueKeys: true},
		{src: `{ {{.data.a}}: {{.data.b}}, "x": [{{.data.c}}] }`, valueKeys: true},
		{src: `{"k":{{json .data.a}},"l":[{{.data.b}},"{{.data.c}}"]}`},
		{src: `{{.data.a}}`},
		{src: `{"a":"x{{.data.a}}\n{{.data.b}}\\{{.data.c}}"}`},
		{src: `{"t":[{{range $i, $v := .data.list}}{{if $i}},{{end}}{"v":"{{$v}}","w":{{$v}}}{{end}}]}`},
	},
	XML: {
		{src: `<r><![CDATA[{{.data.a}}{{.data.b}}]]></r>`},
		{src: `<r><![CDATA[x]{{.data.a}}]]>{{.data.b}}</r>`},
		{src: `<r><!--{{.data.a}}-{{.data.b}}--></r>`},
		{src: `<r><!--a-{{.data.a}}--></r>`},
		{src: `<r a="{{.data.a}}" b='{{.data.b}}'>{{.data.c}}</r>`},
		{src: `<r><![CDATA[{{range .data.list}}{{.}}{{end}}]]></r>`},
		{src: `<r>&{{.data.a}};{{.data.b}}</r>`, benign: [3]string{"amp"}},
		{src: `<r>{{range .data.list}}<i n="{{.}}">{{.}}</i>{{end}}</r>`},
		{src: `<?xml version="1.0"?><r>{{xml .data.a}}<![CDATA[{{.data.b}}]]><!--{{.data.c}}--></r>`},
		{src: `<r>]]{{.data.a}}<![CDATA[]{{.data.b}}]]>-{{.data.c}}</r>`},
		{src: `<r a="&{{.data.a}};">x</r>`, benign: [3]string{"lt"}},
	},
	URL: {
		{src: `https://h.example/{{.data.a}}.{{.data.b}}/x`},
		{src: `https://h.example/.{{.data.a}}/{{.data.b}}.`},
		{src: `https://{{.data.a}}.example.com/p/{{.data.b}}`, hostSuffix: ".example.com"},
		{src: `https://h.example:{{.data.a}}/{{.data.b}}`, benign: [3]string{"8080"}},
		{src: `https://h.example/a%{{.data.a}}b/{{.data.b}}`, benign: [3]string{"20"}},
		{src: `https://h.example/{{range .data.list}}{{.}}{{end}}/x`},
		{src: `https://h.example/p?a={{.data.a}}&b={{urlquery .data.b}}#{{.data.c}}`},
		{src: `https://u:{{.data.a}}@h.example/{{.data.b}}`},
		{src: `https://h.example/{{.data.a}}/{{.data.b}}{{.data.c}}?q=1`},
		{src: `https://h.example/%2e{{.data.a}}/x`},
		{src: `https://[::1]:8080/{{.data.a}}?{{.data.b}}={{.data.c}}`, valueKeys: true},
	},
	Form: {
		{src: `a={{.data.a}}&b={{.data.b}}`},
		{src: `role=user&{{.data.a}}={{.data.b}}`, benign: [3]string{"name"}, valueKeys: true},
		{src: `a=%{{.data.a}}&b={{.data.b}}`, benign: [3]string{"41"}},
		{src: `{{range .data.list}}t={{.}}&{{end}}x=1`},
		{src: `a={{urlquery .data.a}}{{.data.b}}&c={{.data.c}}`},
	},
	Header: {
		{src: `Bearer {{.data.a}}{{.data.b}}`},
		{src: `{{.data.a}}; q={{.data.b}}`},
	},
}

func structData(a, b, c string) map[string]any {
	return map[string]any{"data": map[string]any{"a": a, "b": b, "c": c, "list": []any{a, b, c}}}
}

func fuzzStructure(f *testing.F, kind Kind, seeds [][3]string) {
	tmpls := structTemplates[kind]
	for i := range tmpls {
		for _, s := range append(seeds, [3]string{"a", "b", "c"}) {
			f.Add(uint8(i), s[0], s[1], s[2])
		}
	}
	f.Fuzz(func(t *testing.T, i uint8, a, b, c string) {
		st := tmpls[int(i)%len(tmpls)]
		if len(a)+len(b)+len(c) > 4096 {
			return
		}
		tp, err := Parse("fuzz", st.src, kind)
		if err != nil {
			t.Fatalf("%s does not parse: %v", st.src, err)
		}
		benign := st.benign
		for j, v := range []string{"a", "b", "c"} {
			if benign[j] == "" {
				benign[j] = v
			}
		}
		want, err := NewScope(structData(benign[0], benign[1], benign[2])).Render(tp)
		if err != nil {
			// Templates whose literal text leaves no safe place for a value (a
			// percent-escape to be completed by one) are refused with any value.
			if out, err := NewScope(structData(a, b, c)).Render(tp); err == nil {
				t.Fatalf("%s: refused with benign values, but %q %q %q rendered %s", st.src, benign[0], benign[1], benign[2], short(out))
			}
			return
		}
		out, err := NewScope(structData(a, b, c)).Render(tp)
		if err != nil {
			return // refused before sending: allowed
		}
		ws, err := structureOf(kind, want, st)
		if err != nil {
			t.Fatalf("benign %s: %v", short(want), err)
		}
		gs, err := structureOf(kind, out, st)
		if err != nil {
			t.Fatalf("%s with %q %q %q rendered %s, which a receiver cannot parse: %v", st.src, a, b, c, short(out), err)
		}
		if gs != ws {
			t.Fatalf("%s with %q %q %q rendered %s:\nstructure %s\nwant      %s", st.src, a, b, c, short(out), gs, ws)
		}
	})
}

func FuzzStructureJSON(f *testing.F) {
	fuzzStructure(f, JSON, [][3]string{{"role", "admin", "1"}, {"22", "", ""}, {`","x":"`, `\`, "]"}})
}

func FuzzStructureXML(f *testing.F) {
	fuzzStructure(f, XML, [][3]string{{"]]", "><x/><![CDATA[", ""}, {"]><x/><![CDATA[", "", ""}, {"-><y/>", "-", "--"}, {"lt", "amp", "#x3c"}})
}

func FuzzStructureURL(f *testing.F) {
	fuzzStructure(f, URL, [][3]string{{"", ".", ""}, {".", ".", "."}, {"h.example:8443", "", ""}, {"2F", "%2e", "../x"}, {"evil.example/", "@", "#"}})
}

func FuzzStructureForm(f *testing.F) {
	fuzzStructure(f, Form, [][3]string{{"role", "admin", ""}, {"26", "&x=1", "="}, {"%", "2", "6"}})
}

func FuzzStructureHeader(f *testing.F) {
	fuzzStructure(f, Header, [][3]string{{"a\r\n", "X-Evil: 1", ""}, {"\n", "\x00", "\x7f"}})
}

// structureOf describes out's structure with the standard parsers, values abstracted.
func structureOf(k Kind, out string, st structTemplate) (string, error) {
	switch k {
	case JSON:
		return jsonStructure(out, st.valueKeys)
	case XML:
		return xmlStructure(out)
	case URL:
		return urlStructure(out, st)
	case Form:
		return formStructure(out, st.valueKeys)
	case Header:
		if strings.ContainsAny(out, "\r\n\x00") {
			return "", errors.New("a header value with a line break or NUL")
		}
		return "one header line", nil
	}
	return "", fmt.Errorf("no structure for %s", k)
}

func jsonStructure(out string, valueKeys bool) (string, error) {
	d := json.NewDecoder(strings.NewReader(out))
	d.UseNumber()
	var b strings.Builder
	type frame struct {
		obj       bool
		keys      map[string]bool
		expectKey bool
	}
	var stack []*frame
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.expectKey {
			if tok == json.Delim('}') {
				stack = stack[:len(stack)-1]
				b.WriteString("} ")
				if len(stack) > 0 {
					stack[len(stack)-1].expectKey = stack[len(stack)-1].obj
				}
				continue
			}
			key := tok.(string)
			if top.keys[key] {
				return "", fmt.Errorf("the key %q appears twice in one object", key)
			}
			top.keys[key] = true
			if valueKeys {
				key = "K"
			}
			fmt.Fprintf(&b, "%q: ", key)
			top.expectKey = false
			continue
		}
		switch x := tok.(type) {
		case json.Delim:
			b.WriteString(x.String())
			switch x {
			case '{':
				stack = append(stack, &frame{obj: true, keys: map[string]bool{}, expectKey: true})
			case '[':
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 {
					stack[len(stack)-1].expectKey = stack[len(stack)-1].obj
				}
			}
		case string:
			b.WriteString("s")
		case json.Number:
			b.WriteString("n")
		case bool:
			b.WriteString("b")
		case nil:
			b.WriteString("z")
		}
		if _, delim := tok.(json.Delim); !delim && top != nil && top.obj {
			top.expectKey = true
		}
		b.WriteByte(' ')
	}
	return b.String(), nil
}

func xmlStructure(out string) (string, error) {
	d := xml.NewDecoder(strings.NewReader(out))
	d.Strict = true
	var b strings.Builder
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
		// Text (and CDATA, which the decoder returns as text) is where values go: only
		// the markup around it is structure.
		switch x := tok.(type) {
		case xml.StartElement:
			var attrs []string
			for _, a := range x.Attr {
				attrs = append(attrs, a.Name.Space+":"+a.Name.Local)
			}
			sort.Strings(attrs)
			fmt.Fprintf(&b, "<%s %v> ", x.Name.Local, attrs)
		case xml.EndElement:
			fmt.Fprintf(&b, "</%s> ", x.Name.Local)
		case xml.Comment:
			b.WriteString("comment ")
		case xml.ProcInst:
			fmt.Fprintf(&b, "<?%s> ", x.Target)
		case xml.Directive:
			b.WriteString("directive ")
		}
	}
	return b.String(), nil
}

func urlStructure(out string, st structTemplate) (string, error) {
	u, err := url.Parse(out)
	if err != nil {
		return "", err
	}
	host := u.Hostname()
	if st.hostSuffix != "" {
		if !strings.HasSuffix(host, st.hostSuffix) || strings.ContainsAny(strings.TrimSuffix(host, st.hostSuffix), ":/@[]") {
			return "", fmt.Errorf("the host %q is not a name under %s", host, st.hostSuffix)
		}
		host = "*" + st.hostSuffix
	}
	segs := strings.Split(u.EscapedPath(), "/")
	for _, s := range segs {
		dec, err := url.PathUnescape(s)
		if err != nil {
			return "", err
		}
		// Receivers that decode before they resolve see these as dot segments.
		for _, piece := range strings.FieldsFunc(dec, func(r rune) bool { return r == '/' || r == '\\' }) {
			if piece == "." || piece == ".." {
				return "", fmt.Errorf("the path %q has a dot segment", u.EscapedPath())
			}
		}
	}
	var keys []string
	for k := range u.Query() {
		if st.valueKeys {
			k = "K"
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	user := ""
	if u.User != nil {
		_, hasPass := u.User.Password()
		user = fmt.Sprintf("user(pass=%v)@", hasPass)
	}
	return fmt.Sprintf("%s://%s%s port=%v segments=%d query=%v fragment=%v", u.Scheme, user, host, u.Port() != "", len(segs), keys, u.Fragment != "" || strings.Contains(out, "#")), nil
}

func formStructure(out string, valueKeys bool) (string, error) {
	q, err := url.ParseQuery(out)
	if err != nil {
		return "", err
	}
	var fields []string
	for k, vals := range q {
		if valueKeys && k != "role" {
			k = "K"
		}
		fields = append(fields, fmt.Sprintf("%s*%d", k, len(vals)))
	}
	sort.Strings(fields)
	return strings.Join(fields, " ") + fmt.Sprintf(" (%d pairs)", bytes.Count([]byte(out), []byte("&"))+1), nil
}
