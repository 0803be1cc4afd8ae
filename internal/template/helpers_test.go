package template

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// longValue is a 1 MiB value made of the characters that need escaping almost
// everywhere, so that every escaper works on its slow path.
var longValue = func() string {
	const unit = `a"b\c<d>&e'f%g?h#i/j=k+l é😀`
	s := strings.Repeat(unit, (1<<20)/len(unit)+1)
	return strings.ToValidUTF8(s[:1<<20], "")
}()

// hostileValues are values that break naive templating in at least one kind of text.
var hostileValues = []string{
	"",
	"plain",
	`"`,
	`'`,
	`\`,
	`\"`,
	`\u0022`,
	`<&>`,
	"<a>x</a>",
	"&amp;",
	"&#0;",
	"a\r\nX-Injected: 1",
	"\r",
	"\n",
	"\x00",
	"a\x00b",
	"\t",
	"\x01\x1b\x1f\x7f",
	"é",
	"😀",
	"\u202eRTL override\u202c",
	"עברית والعربية",
	"\u2028\u2029",
	"\ufeff",
	"\ufffe\uffff",
	"\U0010FFFF",
	"\ufffd",
	"\xff\xfe",
	"a\xc3",
	"\xed\xa0\x80", // an encoded surrogate: invalid UTF-8
	"]]>",
	"--",
	"-",
	"a-",
	"-->",
	"<!--",
	"<![CDATA[",
	"{{",
	"}}",
	"{{.data.v}}",
	"%",
	"%41",
	"%zz",
	"?#&=/",
	"../",
	"a/b",
	"+",
	" ",
	" leading and trailing ",
	";",
	"@evil.example",
	"evil.example:8080",
	"[::1]",
	"javascript:alert(1)",
	"https://evil.example/",
	`","admin":true,"x":"`,
	`"}],"x":{"`,
	`</a><b>injected</b><a>`,
	`" injected="1`,
	`' injected='1`,
	"null",
	"123",
	"true",
	"%CV4PVE_AUTOSNAP_VMID%",
	longValue,
}

// vdata is the template root with the value under test at .data.v.
func vdata(v any) map[string]any {
	return map[string]any{"data": map[string]any{"v": v}}
}

// parsed caches the templates the tests and fuzzers render again and again.
var parsed sync.Map // of parseKey -> *Template

type parseKey struct {
	src  string
	kind Kind
}

// render parses src for kind and renders it over data, failing the test on a parse error.
func render(t testing.TB, src string, kind Kind, data map[string]any) (string, error) {
	t.Helper()
	key := parseKey{src, kind}
	tp, ok := parsed.Load(key)
	if !ok {
		p, err := Parse("test", src, kind)
		if err != nil {
			t.Fatalf("Parse(%q, %s): %v", short(src), kind, err)
		}
		tp, _ = parsed.LoadOrStore(key, p)
	}
	return NewScope(data).Render(tp.(*Template))
}

// mustRender is render for cases that must succeed.
func mustRender(t testing.TB, src string, kind Kind, data map[string]any) string {
	t.Helper()
	out, err := render(t, src, kind, data)
	if err != nil {
		t.Fatalf("Render(%q, %s): %v", short(src), kind, err)
	}
	return out
}

// short quotes s for messages, cut to a readable length.
func short(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%q...(%d bytes)", s[:80], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// wellFormed checks out for kind independently of the package's own check, with the
// parsers a receiver would use.
func wellFormed(kind Kind, out string) error {
	switch kind {
	case URL:
		for i := 0; i < len(out); i++ {
			if out[i] <= ' ' || out[i] == 0x7f {
				return fmt.Errorf("byte %d is %q", i, out[i])
			}
		}
		u, err := url.Parse(out)
		if err != nil {
			return err
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return fmt.Errorf("scheme %q", u.Scheme)
		}
		if u.Host == "" {
			return errors.New("no host")
		}
		if _, err := http.NewRequest(http.MethodGet, out, nil); err != nil {
			return err
		}
	case JSON:
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			return err
		}
	case XML:
		_, err := parseXML(out)
		return err
	case Form:
		if _, err := url.ParseQuery(out); err != nil {
			return err
		}
	case Header:
		if _, err := headerRoundTrip(out); err != nil {
			return err
		}
	case Arg:
		if strings.IndexByte(out, 0) >= 0 {
			return errors.New("NUL byte")
		}
	}
	return nil
}

// xmlNode is an element of rendered XML.
type xmlNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr
	Text    string // all character data and CDATA directly inside, joined
	Comment string // all comments directly inside, joined
	Nodes   []*xmlNode
}

// parseXML checks that out is one well-formed element, with nothing but white space,
// comments and processing instructions around it, and decodes it.
func parseXML(out string) (*xmlNode, error) {
	d := xml.NewDecoder(strings.NewReader(out))
	d.Strict = true
	var root *xmlNode
	var stack []*xmlNode
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		var top *xmlNode
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch x := tok.(type) {
		case xml.StartElement:
			n := &xmlNode{XMLName: x.Name, Attrs: x.Attr}
			if top == nil {
				if root != nil {
					return nil, errors.New("more than one root element")
				}
				root = n
			} else {
				top.Nodes = append(top.Nodes, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if top == nil {
				if len(bytes.Trim(x, " \t\r\n")) > 0 {
					return nil, fmt.Errorf("text %q outside the root element", x)
				}
				continue
			}
			top.Text += string(x)
		case xml.Comment:
			if bytes.Contains(x, []byte("--")) || bytes.HasSuffix(x, []byte("-")) {
				return nil, fmt.Errorf("comment %q", x)
			}
			if top != nil {
				top.Comment += string(x)
			}
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

// headerRoundTrip sends out as the value of one header through an HTTP/1.1 request
// parser and returns what the receiver sees; it fails if the value adds a header or
// breaks the request.
func headerRoundTrip(out string) (string, error) {
	raw := "GET / HTTP/1.1\r\nHost: example.com\r\nX-Value: " + out + "\r\n\r\n"
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		return "", err
	}
	if len(req.Header) != 1 || len(req.Header["X-Value"]) != 1 {
		return "", fmt.Errorf("the value produced the headers %q", req.Header)
	}
	return req.Header.Get("X-Value"), nil
}

// wantJSON is what a JSON string carrying v decodes to: JSON cannot carry invalid UTF-8,
// so each invalid byte becomes U+FFFD.
func wantJSON(v string) string { return string([]rune(v)) }

// isXMLChar reports whether XML 1.0 can carry r at all.
func isXMLChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// wantXML is what XML text or an attribute carrying v decodes to: characters XML cannot
// carry, and invalid UTF-8 bytes, become U+FFFD.
func wantXML(v string) string {
	var b strings.Builder
	for _, r := range []rune(v) {
		if !isXMLChar(r) {
			r = '\uFFFD'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// wantXMLRaw is wantXML for unescaped text (CDATA): a parser turns CR LF and CR into LF.
func wantXMLRaw(v string) string {
	s := wantXML(v)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// hasHeaderControl reports whether v holds a byte a header value cannot carry.
func hasHeaderControl(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}
