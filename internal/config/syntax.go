package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// syntaxIssue turns an error of the YAML parser into an issue at the place of the
// problem. The parser names only the line where the block around the problem starts, or
// no line at all; the place is found by parsing shorter and shorter beginnings of the
// file: the shortest one that fails the same way ends at the problem.
func syntaxIssue(file string, data []byte, err error) Issue {
	msg := err.Error()
	// The parser reads no further than it needs to decide; what it read bounds the search.
	hi, _ := parseYAML(data, true)
	if failsAs(data[:hi], msg) != nil || hi == 0 {
		hi = len(data)
	}
	lo := 1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if failsAs(data[:mid], msg) == nil {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	at := hi - 1
	problem := yamlLineRE.ReplaceAllString(msg, "$2")
	problem = strings.TrimPrefix(problem, "yaml: ")
	if m := unknownAnchorRE.FindStringSubmatch(problem); m != nil {
		// The alias ends where the search stops; it starts at its *.
		if star := bytes.LastIndexByte(data[:at+1], '*'); star >= 0 {
			at = star
		}
		problem = fmt.Sprintf("*%s refers to no anchor: write &%s on a value before it", m[1], m[1])
	} else {
		problem = explainSyntax(problem, data, at)
	}
	line, col := position(data, at)
	return Issue{File: file, Line: line, Column: col, Message: problem}
}

var unknownAnchorRE = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// explainSyntax says what the parser's message means at the byte at: a tab, a quote
// never closed, a line indented wrongly.
func explainSyntax(msg string, data []byte, at int) string {
	var c byte
	if at >= 0 && at < len(data) {
		c = data[at]
	}
	switch {
	case c == '\t' && strings.Contains(msg, "cannot start any token"):
		return "a tab: YAML indents with spaces only"
	case (c == '"' || c == '\'') && strings.Contains(msg, "end of stream"):
		return "this quoted string is never closed"
	case msg == "mapping values are not allowed in this context" && c == ':' && !firstOnLine(data, at):
		return `unexpected ":" (put a value that holds ": " in quotes)`
	case (msg == "did not find expected key" || msg == "did not find expected '-' indicator" ||
		msg == "mapping values are not allowed in this context") && firstOnLine(data, at):
		return "this line is not indented like the lines above it"
	}
	return msg
}

// firstOnLine reports whether the byte at starts the text of its line.
func firstOnLine(data []byte, at int) bool {
	start := bytes.LastIndexByte(data[:at], '\n') + 1
	return len(bytes.TrimLeft(data[start:at], " ")) == 0
}

// failsAs returns nil when data fails to parse with exactly msg, and a non-nil error
// otherwise.
func failsAs(data []byte, msg string) error {
	if _, err := parseYAML(data, false); err == nil || err.Error() != msg {
		return errors.New("fails otherwise")
	}
	return nil
}

// parseYAML parses the documents of data as Parse does (at most two) and returns the
// first error; with count, also how many bytes the parser read before it stopped.
func parseYAML(data []byte, count bool) (int, error) {
	var r io.Reader = bytes.NewReader(data)
	var cr *countingReader
	if count {
		cr = &countingReader{r: r}
		r = cr
	}
	dec := yaml.NewDecoder(r)
	var err error
	for i := 0; i < 2 && err == nil; i++ {
		var n yaml.Node
		err = dec.Decode(&n)
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	if cr != nil {
		return cr.n, err
	}
	return 0, err
}

// countingReader hands the parser one byte at a time and counts them, so that what the
// parser has read when it fails is known.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// position returns the line and column (in characters, from 1) of the byte at.
func position(data []byte, at int) (int, int) {
	at = min(max(at, 0), len(data))
	before := data[:at]
	line := bytes.Count(before, []byte("\n")) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCount(before[start:]) + 1
}

// jsonIssue checks data as strict JSON (RFC 8259), for a file named .json: what YAML
// would forgive (a trailing comma, a comment, single quotes) is an error there. It
// reports the first problem where it is.
func jsonIssue(file string, data []byte) (Issue, bool) {
	body := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(body)) == 0 || json.Valid(body) {
		return Issue{}, false
	}
	var v any
	err := json.Unmarshal(body, &v)
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return Issue{File: file, Message: "not valid JSON"}, true
	}
	skip := len(data) - len(body)
	at := int(se.Offset) - 1 // the byte that could not be
	msg := "not valid JSON: " + se.Error()
	if strings.Contains(se.Error(), "unexpected end") {
		at = len(body)
	}
	if at >= 0 && at < len(body) {
		switch c := body[at]; {
		case c == '}' || c == ']':
			prev := bytes.TrimRight(body[:at], " \t\r\n")
			if len(prev) > 0 && prev[len(prev)-1] == ',' {
				at = len(prev) - 1
				msg = fmt.Sprintf("a comma before %q: JSON allows no comma after the last item", string(c))
			}
		case c == '/' || c == '#':
			msg = "JSON has no comments (a YAML file, hookpoint.yaml, can have # comments)"
		case c == '\'':
			msg = "JSON strings are written in double quotes"
		}
	}
	line, col := position(body, at)
	if line == 1 {
		col += utf8.RuneCount(data[:skip])
	}
	return Issue{File: file, Line: line, Column: col, Message: msg}, true
}
