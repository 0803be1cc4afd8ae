package template

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"github.com/hookpoint/hookpoint/internal/jsonwrite"
	"io"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/hookpoint/hookpoint/internal/event"
)

// state is where the next byte of output lands.
type state int

const (
	stNone state = iota // kinds without inner structure

	// URL
	stURLPrefix   // nothing but a scheme or nothing at all yet: the value supplies the URL's start
	stURLHost     // within the authority
	stURLPath     // within the path
	stURLQuery    // after '?'
	stURLFragment // after '#'

	// JSON
	stJSONValue     // outside any string
	stJSONString    // inside a string
	stJSONStringEsc // right after a backslash inside a string

	// XML
	stXMLText    // character data
	stXMLTag     // inside <...> but not in a quoted attribute value
	stXMLAttrDQ  // inside a "..." attribute value
	stXMLAttrSQ  // inside a '...' attribute value
	stXMLComment // inside <!-- -->
	stXMLCDATA   // inside <![CDATA[ ]]>
	stXMLPI      // inside <? ?> or <! > declarations
)

// lexer tracks the state over the output, resuming where it stopped.
type lexer struct {
	pos int
	st  state
	// URL: whether "://" or a path has been seen.
	sawScheme bool
}

func (l *lexer) scan(k Kind, b []byte) {
	switch k {
	case URL:
		l.scanURL(b)
	case JSON:
		l.scanJSON(b)
	case XML:
		l.scanXML(b)
	default:
		l.st = stNone
	}
	l.pos = len(b)
}

func (l *lexer) scanURL(b []byte) {
	if l.pos == 0 && l.st == stNone {
		l.st = stURLPrefix
	}
	for i := l.pos; i < len(b); i++ {
		c := b[i]
		switch l.st {
		case stURLPrefix:
			if c == ':' && bytes.HasPrefix(b[i:], []byte("://")) {
				l.st, l.sawScheme = stURLHost, true
				i += 2
			} else if c == '?' {
				l.st = stURLQuery
			} else if c == '#' {
				l.st = stURLFragment
			} else if c == '/' {
				l.st = stURLPath
			}
		case stURLHost:
			switch c {
			case '/':
				l.st = stURLPath
			case '?':
				l.st = stURLQuery
			case '#':
				l.st = stURLFragment
			}
		case stURLPath:
			if c == '?' {
				l.st = stURLQuery
			} else if c == '#' {
				l.st = stURLFragment
			}
		case stURLQuery:
			if c == '#' {
				l.st = stURLFragment
			}
		}
	}
	// Output that is not empty but has no scheme yet, like "https:", is still a prefix.
	if l.st == stURLPrefix && l.sawScheme {
		l.st = stURLHost
	}
}

func (l *lexer) scanJSON(b []byte) {
	if l.st == stNone {
		l.st = stJSONValue
	}
	for i := l.pos; i < len(b); i++ {
		c := b[i]
		switch l.st {
		case stJSONValue:
			if c == '"' {
				l.st = stJSONString
			}
		case stJSONString:
			if c == '\\' {
				l.st = stJSONStringEsc
			} else if c == '"' {
				l.st = stJSONValue
			}
		case stJSONStringEsc:
			l.st = stJSONString
		}
	}
}

func (l *lexer) scanXML(b []byte) {
	if l.st == stNone {
		l.st = stXMLText
	}
	for i := l.pos; i < len(b); i++ {
		c := b[i]
		switch l.st {
		case stXMLText:
			if c != '<' {
				continue
			}
			rest := b[i:]
			switch {
			case bytes.HasPrefix(rest, []byte("<!--")):
				l.st = stXMLComment
				i += 3
			case bytes.HasPrefix(rest, []byte("<![CDATA[")):
				l.st = stXMLCDATA
				i += 8
			case bytes.HasPrefix(rest, []byte("<?")), bytes.HasPrefix(rest, []byte("<!")):
				l.st = stXMLPI
				i++
			default:
				l.st = stXMLTag
			}
		case stXMLTag:
			switch c {
			case '"':
				l.st = stXMLAttrDQ
			case '\'':
				l.st = stXMLAttrSQ
			case '>':
				l.st = stXMLText
			}
		case stXMLAttrDQ:
			if c == '"' {
				l.st = stXMLTag
			}
		case stXMLAttrSQ:
			if c == '\'' {
				l.st = stXMLTag
			}
		case stXMLComment:
			if bytes.HasPrefix(b[i:], []byte("-->")) {
				l.st = stXMLText
				i += 2
			}
		case stXMLCDATA:
			if bytes.HasPrefix(b[i:], []byte("]]>")) {
				l.st = stXMLText
				i += 2
			}
		case stXMLPI:
			if c == '>' {
				l.st = stXMLText
			}
		}
	}
}

// JSONText is JSON produced by the json function: inserted as it is where a JSON value
// is expected.
type JSONText string

// XMLText is XML-escaped text produced by the xml function: inserted as it is in XML
// character data and attribute values.
type XMLText string

// URLText is query-escaped text produced by the urlquery function: inserted as it is in
// URLs and form bodies.
type URLText string

// The String methods make event.Stringify, and so every other position and function,
// see the text itself rather than a JSON-quoted string.

func (t JSONText) String() string { return string(t) }
func (t XMLText) String() string  { return string(t) }
func (t URLText) String() string  { return string(t) }

// escape is the final step of every action: it turns the action's value into text that
// is safe where it lands, and marks the Write that text/template makes of it next as the
// action's span of the output.
func (b *binding) escape(v any) (string, error) {
	out, sp, err := b.escapeValue(v)
	if err != nil {
		return "", err
	}
	b.w.pending, b.w.hasPending = sp, true
	return out, nil
}

// escapeValue returns the escaped text of v and the span it will fill (without its
// position).
func (b *binding) escapeValue(v any) (string, span, error) {
	w := b.w
	k := w.kind
	sp := span{st: stNone, secret: b.scope.isSecret(v)}
	switch k {
	case Text:
		return event.Stringify(v), sp, nil
	case Arg:
		s := event.Stringify(v)
		if strings.IndexByte(s, 0) >= 0 {
			return "", sp, errf(k, "value contains a NUL byte, which no argument or environment variable can carry")
		}
		return s, sp, nil
	case Header:
		s := event.Stringify(v)
		if i := strings.IndexFunc(s, isHeaderControl); i >= 0 {
			return "", sp, errf(k, "value contains the control character %q at byte %d; a header value cannot carry CR, LF or other control characters", s[i], i)
		}
		return s, sp, nil
	case Form:
		if u, ok := v.(URLText); ok {
			return string(u), sp, nil
		}
		return url.QueryEscape(event.Stringify(v)), sp, nil
	case URL:
		sp.st = w.context()
		if sp.st == stURLPrefix && w.buf.Len() > 0 {
			return "", sp, errf(k, "a value cannot stand between literal text and the end of the URL's scheme: a value may start the URL, or follow its \"://\"")
		}
		out, err := escapeURL(sp.st, v)
		return out, sp, err
	case JSON:
		sp.st = w.context()
		out, err := escapeJSON(sp.st, v)
		return out, sp, err
	case XML:
		sp.st = w.context()
		out, err := escapeXML(sp.st, v)
		return out, sp, err
	}
	return "", sp, errf(k, "unknown template kind")
}

func isHeaderControl(r rune) bool {
	return (r < 0x20 && r != '\t') || r == 0x7f
}

func escapeURL(st state, v any) (string, error) {
	if u, ok := v.(URLText); ok && st != stURLPrefix && st != stURLHost {
		return string(u), nil
	}
	s := event.Stringify(v)
	switch st {
	case stURLPrefix:
		// The value is the start of the URL (typically a base URL from a secret); the
		// whole URL is parsed and checked once rendered.
		if i := strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }); i >= 0 {
			return "", errf(URL, "value for the start of the URL contains a space or control character at byte %d", i)
		}
		return s, nil
	case stURLHost:
		for i := 0; i < len(s); i++ {
			c := s[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-_:[]", c) >= 0) {
				return "", errf(URL, "a value cannot be part of a host name: byte %d is not a letter, digit, '.', '-', '_', ':' or bracket", i)
			}
		}
		return s, nil
	case stURLPath, stURLFragment:
		return url.PathEscape(s), nil
	default: // stURLQuery
		return url.QueryEscape(s), nil
	}
}

func escapeJSON(st state, v any) (string, error) {
	switch st {
	case stJSONStringEsc:
		return "", errf(JSON, "a value cannot follow a backslash inside a JSON string")
	case stJSONString:
		b, err := jsonwrite.Marshal(event.Stringify(v))
		if err != nil {
			return "", errf(JSON, "%v", err)
		}
		return string(b[1 : len(b)-1]), nil
	}
	if j, ok := v.(JSONText); ok {
		if !json.Valid([]byte(j)) {
			return "", errf(JSON, "the json function produced invalid JSON")
		}
		return string(j), nil
	}
	switch x := v.(type) {
	case XMLText:
		v = string(x)
	case URLText:
		v = string(x)
	}
	b, err := jsonwrite.Marshal(v)
	if err != nil {
		return "", errf(JSON, "value cannot be written as JSON: %v", err)
	}
	return string(b), nil
}

func escapeXML(st state, v any) (string, error) {
	var s string
	pre := false
	if x, ok := v.(XMLText); ok {
		s, pre = string(x), true
	} else {
		s = event.Stringify(v)
	}
	switch st {
	case stXMLText, stXMLAttrDQ, stXMLAttrSQ:
		if pre {
			return s, nil
		}
		return xmlEscape(s), nil
	case stXMLCDATA:
		if strings.Contains(s, "]]>") {
			return "", errf(XML, "value contains \"]]>\", which cannot stand inside a CDATA section")
		}
		return strings.Map(xmlSafeRune, s), nil
	case stXMLComment:
		if strings.Contains(s, "--") || strings.HasSuffix(s, "-") {
			return "", errf(XML, "value contains \"--\" or ends with \"-\", which cannot stand inside an XML comment")
		}
		return strings.Map(xmlSafeRune, s), nil
	case stXMLTag:
		return "", errf(XML, "a value inside a tag must be a quoted attribute value; element and attribute names cannot come from values")
	default:
		return "", errf(XML, "a value cannot stand inside a processing instruction or declaration")
	}
}

// xmlSafeRune replaces characters that XML 1.0 cannot carry, even escaped, with U+FFFD.
func xmlSafeRune(r rune) rune {
	if r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF) {
		if r == utf8.RuneError {
			return '\uFFFD'
		}
		return r
	}
	return '\uFFFD'
}

func xmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		case '\n':
			b.WriteString("&#xA;")
		case '\r':
			b.WriteString("&#xD;")
		case '\t':
			b.WriteString("&#x9;")
		default:
			b.WriteRune(xmlSafeRune(r))
		}
	}
	return b.String()
}

// check verifies that the whole output is well-formed for its kind.
func check(k Kind, out []byte) error {
	switch k {
	case URL:
		return checkURL(string(out))
	case JSON:
		if !json.Valid(out) {
			var v any
			err := json.Unmarshal(out, &v)
			return errf(k, "rendered body is not valid JSON: %v", err)
		}
	case XML:
		return checkXML(out)
	case Form:
		if _, err := url.ParseQuery(string(out)); err != nil {
			return errf(k, "rendered body is not valid form encoding: %v", err)
		}
	case Header:
		if i := bytes.IndexFunc(out, isHeaderControl); i >= 0 {
			return errf(k, "header value contains the control character %q at byte %d", out[i], i)
		}
	case Arg:
		if bytes.IndexByte(out, 0) >= 0 {
			return errf(k, "value contains a NUL byte")
		}
	}
	return nil
}

// checkURL accepts absolute http and https URLs with a host and nothing that needs
// escaping.
func checkURL(s string) error {
	if i := strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }); i >= 0 {
		return errf(URL, "the URL contains a space or control character at byte %d", i)
	}
	u, err := url.Parse(s)
	if err != nil {
		return errf(URL, "the URL does not parse: %s", urlParseReason(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errf(URL, "the scheme must be http or https (the URL must start with http:// or https://)")
	}
	if u.Host == "" {
		return errf(URL, "the URL has no host")
	}
	return nil
}

func checkXML(out []byte) error {
	d := xml.NewDecoder(bytes.NewReader(out))
	d.Strict = true
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return errf(XML, "rendered body is not well-formed XML: %v", err)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			// The decoder accepts text outside the root element; XML does not.
			if depth == 0 && len(bytes.Trim(x, " \t\r\n")) > 0 {
				// Not quoted: the text may hold a secret, and a cut-off quote escapes masking.
				return errf(XML, "rendered body has text outside the root element")
			}
		}
	}
	if roots != 1 {
		return errf(XML, "rendered body must have exactly one root element, it has %d", roots)
	}
	return nil
}

// urlParseReason says why a URL did not parse without quoting any of it: net/url's
// errors quote the URL or the piece at fault, which may be part of a secret.
func urlParseReason(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "invalid port"):
		return "the port is not a number"
	case strings.Contains(msg, "in host name"):
		return "the host name has a character that a host name cannot have"
	case strings.Contains(msg, "invalid URL escape"):
		return "a percent sign is not followed by two hexadecimal digits"
	case strings.Contains(msg, "missing protocol scheme"), strings.Contains(msg, "first path segment in URL cannot contain colon"):
		return "it does not start with a scheme such as https://"
	case strings.Contains(msg, "invalid userinfo"):
		return "the user information before '@' has a character it cannot have"
	case strings.Contains(msg, "IPv6"), strings.Contains(msg, "missing ']'"):
		return "the bracketed IPv6 address is not valid"
	case strings.Contains(msg, "control character"):
		return "it contains a control character"
	}
	return "it is not a valid URL"
}
