package template

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// checkStructure refuses output in which values made structure: values fill the places
// the template's literal text leaves for them, but no values — alone, side by side, next
// to literal text or as the items of a range — may add, remove or reshape what the
// literal text defines. The escaping of each value makes this hold for one value at a
// time; this check, over the finished output and the spans the values filled, makes it
// hold for all of them together.
//
// out has passed check (it is well-formed for its kind), so the scanners here can rely
// on its syntax.
func checkStructure(k Kind, out []byte, spans []span) error {
	if len(spans) == 0 {
		return nil // all literal
	}
	o := origins{spans: spans}
	switch k {
	case JSON:
		return o.checkJSON(out)
	case XML:
		return o.checkXML(out)
	case URL:
		return o.checkURL(out)
	case Form:
		return o.checkForm(out)
	}
	return nil
}

// origins answers, for a byte of the output, which value (if any) wrote it.
type origins struct {
	spans []span // in output order, not overlapping
}

// at returns the index of the span that holds byte i, or -1 when the byte is literal.
func (o origins) at(i int) int {
	k := sort.Search(len(o.spans), func(k int) bool { return o.spans[k].end > i })
	if k < len(o.spans) && o.spans[k].start <= i {
		return k
	}
	return -1
}

func (o origins) literal(i int) bool { return o.at(i) < 0 }

// oneSource reports whether bytes [a, b) all come from the literal text or all from
// one value.
func (o origins) oneSource(a, b int) bool {
	if b <= a {
		return true
	}
	if k := o.at(a); k >= 0 {
		return o.spans[k].end >= b
	}
	k := sort.Search(len(o.spans), func(k int) bool { return o.spans[k].end > a })
	for ; k < len(o.spans) && o.spans[k].start < b; k++ {
		if o.spans[k].end > o.spans[k].start {
			return false
		}
	}
	return true
}

// ---- JSON ----

type jsonScan struct {
	origins
	out []byte
	err error
}

func (o origins) checkJSON(out []byte) error {
	s := &jsonScan{origins: o, out: out}
	i := s.value(s.ws(0))
	_ = i
	return s.err
}

func (s *jsonScan) fail(msg string) int {
	if s.err == nil {
		s.err = errf(JSON, "%s", msg)
	}
	return len(s.out)
}

func (s *jsonScan) ws(i int) int {
	for i < len(s.out) && (s.out[i] == ' ' || s.out[i] == '\t' || s.out[i] == '\n' || s.out[i] == '\r') {
		i++
	}
	return i
}

// structural reports whether the punctuation at i is the template's own, or part of a
// whole JSON value that one value produced.
func (s *jsonScan) structural(i int) bool {
	k := s.at(i)
	return k < 0 || s.spans[k].st == stJSONValue
}

const jsonAddsStructure = "values add JSON structure that the template does not have"

func (s *jsonScan) value(i int) int {
	if s.err != nil || i >= len(s.out) {
		return len(s.out)
	}
	switch c := s.out[i]; c {
	case '{':
		return s.object(i)
	case '[':
		if !s.structural(i) {
			return s.fail(jsonAddsStructure)
		}
		i = s.ws(i + 1)
		if i < len(s.out) && s.out[i] == ']' {
			if !s.structural(i) {
				return s.fail(jsonAddsStructure)
			}
			return i + 1
		}
		for s.err == nil && i < len(s.out) {
			i = s.ws(s.value(i))
			if i >= len(s.out) {
				break
			}
			if !s.structural(i) {
				return s.fail(jsonAddsStructure)
			}
			if s.out[i] == ']' {
				return i + 1
			}
			i = s.ws(i + 1) // ','
		}
		return len(s.out)
	case '"':
		end, _ := s.str(i, false)
		return end
	default:
		j := i
		for j < len(s.out) && strings.IndexByte("+-0123456789.eEtrufalsn", s.out[j]) >= 0 {
			j++
		}
		if !s.oneSource(i, j) {
			return s.fail("a value runs together with literal text or another value into one JSON value")
		}
		return j
	}
}

func (s *jsonScan) object(i int) int {
	if !s.structural(i) {
		return s.fail(jsonAddsStructure)
	}
	// The keys seen (decoded), for the duplicate check: a small array for the usual few,
	// slices of the output itself unless a key has escapes.
	var small [8][]byte
	keys := small[:0]
	seen := func(k []byte) bool {
		return slices.ContainsFunc(keys, func(x []byte) bool { return bytes.Equal(x, k) })
	}
	i = s.ws(i + 1)
	for s.err == nil && i < len(s.out) {
		if s.out[i] == '}' {
			if !s.structural(i) {
				return s.fail(jsonAddsStructure)
			}
			return i + 1
		}
		start := i
		end, key := s.str(i, true)
		if s.err != nil {
			return end
		}
		if seen(key) {
			if s.oneSource(start, end) && s.literal(start) {
				return s.fail("the key " + quoteShort(string(key)) + " appears twice in one object")
			}
			return s.fail("a key made from a value repeats another key of the same object")
		}
		keys = append(keys, key)
		i = s.ws(end)
		if i < len(s.out) && !s.structural(i) { // ':'
			return s.fail(jsonAddsStructure)
		}
		i = s.ws(s.value(s.ws(i + 1)))
		if i >= len(s.out) {
			break
		}
		if !s.structural(i) { // ',' or '}'
			return s.fail(jsonAddsStructure)
		}
		if s.out[i] == '}' {
			return i + 1
		}
		i = s.ws(i + 1)
	}
	return len(s.out)
}

// str checks the string starting at i and returns its end and, with text, its decoded
// text: both quotes come from the same source, and every escape sequence from one
// source.
func (s *jsonScan) str(i int, text bool) (int, []byte) {
	if i >= len(s.out) || s.out[i] != '"' {
		return s.fail(jsonAddsStructure), nil
	}
	j := i + 1
	for j < len(s.out) && s.out[j] != '"' {
		if s.out[j] == '\\' {
			n := 2
			if j+1 < len(s.out) && s.out[j+1] == 'u' {
				n = 6
			}
			if !s.oneSource(j, min(j+n, len(s.out))) {
				return s.fail("an escape sequence is made partly of a value and partly of literal text or another value"), nil
			}
			j += n
			continue
		}
		j++
	}
	end := min(j+1, len(s.out))
	if s.at(i) != s.at(end-1) {
		return s.fail("a JSON string is opened and closed by different values, or by a value and the literal text"), nil
	}
	if !text {
		return end, nil
	}
	raw := s.out[i+1 : end-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return end, raw
	}
	var decoded string
	if err := json.Unmarshal(s.out[i:end], &decoded); err != nil {
		return s.fail("a JSON string does not decode"), nil
	}
	return end, []byte(decoded)
}

// quoteShort quotes s for an error, cut to a readable length.
func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// ---- XML ----

func (o origins) checkXML(out []byte) error {
	allLiteral := func(a, b int) bool { return o.oneSource(a, b) && o.literal(a) }
	for i := 0; i < len(out); {
		switch out[i] {
		case '&':
			end := bytes.IndexByte(out[i:], ';')
			if end < 0 {
				return nil // check refused this already
			}
			if !o.oneSource(i, i+end+1) {
				return errf(XML, "a character or entity reference is made partly of a value and partly of literal text or another value")
			}
			i += end + 1
		case '<':
			rest := out[i:]
			switch {
			case bytes.HasPrefix(rest, []byte("<!--")):
				if !allLiteral(i, i+4) {
					return errf(XML, "a value opens a comment")
				}
				j := i + 4
				for {
					d := bytes.Index(out[j:], []byte("--"))
					if d < 0 {
						return nil
					}
					j += d
					if !allLiteral(j, min(j+3, len(out))) {
						return errf(XML, "values put \"--\" into a comment or close it: a comment's end must be the template's own")
					}
					if j+2 < len(out) && out[j+2] == '>' {
						i = j + 3
						break
					}
					j += 2
				}
			case bytes.HasPrefix(rest, []byte("<![CDATA[")):
				if !allLiteral(i, i+9) {
					return errf(XML, "a value opens a CDATA section")
				}
				d := bytes.Index(out[i+9:], []byte("]]>"))
				if d < 0 {
					return nil
				}
				end := i + 9 + d
				if !allLiteral(end, end+3) {
					return errf(XML, "values close a CDATA section (\"]]>\"): its end must be the template's own")
				}
				i = end + 3
			default:
				// A tag, a processing instruction or a declaration: every byte but the
				// contents of quoted attribute values is the template's own.
				j, quote := i, byte(0)
				for ; j < len(out); j++ {
					c := out[j]
					if quote != 0 {
						if c == quote {
							quote = 0
						} else if c == '&' {
							end := bytes.IndexByte(out[j:], ';')
							if end > 0 && !o.oneSource(j, j+end+1) {
								return errf(XML, "a character or entity reference is made partly of a value and partly of literal text or another value")
							}
							continue
						} else {
							continue
						}
					} else if c == '"' || c == '\'' {
						quote = c
					}
					if !o.literal(j) {
						return errf(XML, "values add markup (element or attribute names, tags) that the template does not have")
					}
					if quote == 0 && c == '>' {
						break
					}
				}
				i = j + 1
			}
		default:
			i++
		}
	}
	return nil
}

// ---- URL ----

func (o origins) checkURL(out []byte) error {
	s := string(out)
	// A value that starts the URL is its base: it may name the scheme, host and port
	// (the template author chose to take them from a value, typically a secret).
	baseEnd := 0
	if len(o.spans) > 0 {
		for _, sp := range o.spans {
			if sp.start > 0 {
				break
			}
			if sp.end > sp.start && sp.st == stURLPrefix {
				baseEnd = sp.end
			}
		}
	}
	own := func(i int) bool { return i < baseEnd || o.literal(i) }

	for i := 0; i < len(s); i++ {
		if s[i] == '%' && !o.oneSource(i, min(i+3, len(s))) {
			return errf(URL, "a percent-escape is made partly of a value and partly of literal text or another value")
		}
	}
	schemeEnd := strings.Index(s, "://")
	if schemeEnd < 0 {
		return nil // check refused this already
	}
	for i := 0; i < schemeEnd+3; i++ {
		if !own(i) {
			return errf(URL, "a value changes the URL's scheme")
		}
	}
	a0 := schemeEnd + 3
	a1 := len(s)
	if j := strings.IndexAny(s[a0:], "/?#"); j >= 0 {
		a1 = a0 + j
	}
	// Authority: [userinfo@]host[:port]. Its delimiters are the template's own (or the
	// base's); a host named by the base cannot be extended by another value.
	h0 := a0
	if at := strings.LastIndexByte(s[a0:a1], '@'); at >= 0 {
		h0 = a0 + at + 1
		if !own(h0 - 1) {
			return errf(URL, "a value adds user information to the URL")
		}
		for i := a0; i < h0-1; i++ {
			if s[i] == ':' && !own(i) {
				return errf(URL, "a value adds a password to the URL")
			}
		}
	}
	h1 := a1
	hostPart := s[h0:a1]
	if strings.HasPrefix(hostPart, "[") {
		if e := strings.IndexByte(hostPart, ']'); e >= 0 {
			if !own(h0) || !own(h0+e) {
				return errf(URL, "a value adds brackets to the URL's host")
			}
			h1 = h0 + e + 1
		}
	} else if c := strings.LastIndexByte(hostPart, ':'); c >= 0 {
		h1 = h0 + c
	}
	if h1 < a1 && s[h1] == ':' && !own(h1) {
		return errf(URL, "a value adds a port to the URL's host")
	}
	if h1 < a1 && s[h1] == ':' && h1+1 == a1 {
		return errf(URL, "the URL has a ':' after its host but no port number")
	}
	for i := h0; i < h1; i++ {
		if !own(i) && s[i] == ':' && !strings.HasPrefix(hostPart, "[") {
			return errf(URL, "a value adds a port to the URL's host")
		}
		if !own(i) && (s[i] == '[' || s[i] == ']') {
			return errf(URL, "a value adds brackets to the URL's host")
		}
	}
	if baseEnd > h0 {
		for i := h0; i < h1; i++ {
			if i >= baseEnd {
				return errf(URL, "a value or literal text extends the host that the value at the start of the URL names")
			}
		}
	}
	// Path: its slashes are the template's own, and no value makes a segment that a
	// client or server would resolve as "." or "..".
	p1 := len(s)
	if j := strings.IndexAny(s[a1:], "?#"); j >= 0 {
		p1 = a1 + j
	}
	seg := a1
	for i := a1; i <= p1; i++ {
		if i < p1 && s[i] != '/' {
			continue
		}
		if i < p1 && !own(i) {
			return errf(URL, "a value adds a path segment")
		}
		if i > seg || seg == a1 {
			start := seg
			if start < i && s[start] == '/' {
				start++
			}
			if o.valueIn(start, i, baseEnd) && dotSegment(s[start:i]) {
				return errf(URL, "values cannot make a whole path segment of \".\" or \"..\" (even percent-encoded, or after a \"/\" is decoded): it would move the request to another path")
			}
		}
		seg = i
	}
	// Query and fragment: the delimiters are the template's own.
	for i := p1; i < len(s); i++ {
		if s[i] == '#' {
			if !own(i) {
				return errf(URL, "a value adds a fragment")
			}
			break
		}
		if (s[i] == '?' || s[i] == '&' || s[i] == '=' || s[i] == ';') && !own(i) {
			return errf(URL, "a value adds a query parameter")
		}
	}
	return nil
}

// valueIn reports whether a value other than the base (which ends at baseEnd) wrote any
// of [a, b), or stands there with empty text: an empty value next to a literal "."
// makes a segment as surely as a value ".".
func (o origins) valueIn(a, b, baseEnd int) bool {
	for _, sp := range o.spans {
		if sp.end <= baseEnd && sp.end > sp.start {
			continue
		}
		if sp.start > b {
			break
		}
		if (sp.start < b && sp.end > a) || (sp.start == sp.end && sp.start >= a && sp.start <= b) {
			return true
		}
	}
	return false
}

// dotSegment reports whether a path segment is, or decodes to something that holds, a
// "." or ".." segment: receivers that decode percent-escapes (or treat "\\" as "/")
// before they resolve the path would see one.
func dotSegment(raw string) bool {
	dec, err := url.PathUnescape(raw)
	if err != nil {
		dec = raw
	}
	for _, piece := range strings.FieldsFunc(dec, func(r rune) bool { return r == '/' || r == '\\' }) {
		if piece == "." || piece == ".." {
			return true
		}
	}
	return dec == "." || dec == ".."
}

// ---- form ----

func (o origins) checkForm(out []byte) error {
	s := string(out)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '%':
			if !o.oneSource(i, min(i+3, len(s))) {
				return errf(Form, "a percent-escape is made partly of a value and partly of literal text or another value")
			}
		case '&', '=', ';':
			if !o.literal(i) {
				return errf(Form, "a value adds a field to the form")
			}
		}
	}
	// A field named by a value may not repeat another field: a receiver would take one
	// of them, perhaps the one the template wrote.
	type field struct {
		n       int
		byValue bool
	}
	fields := map[string]*field{}
	pos := 0
	for _, pair := range strings.Split(s, "&") {
		name, _, _ := strings.Cut(pair, "=")
		dec, err := url.QueryUnescape(name)
		if err != nil {
			dec = name
		}
		f := fields[dec]
		if f == nil {
			f = &field{}
			fields[dec] = f
		}
		f.n++
		f.byValue = f.byValue || (len(name) > 0 && !(o.oneSource(pos, pos+len(name)) && o.literal(pos)))
		if f.n > 1 && f.byValue {
			return errf(Form, "a field named by a value repeats another field of the form")
		}
		pos += len(pair) + 1
	}
	return nil
}
