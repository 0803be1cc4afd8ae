package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hookpoint/hookpoint/internal/clip"
)

// maxDepth bounds how deeply objects and lists may nest in a body.
const maxDepth = 64

// maxName bounds names that become part of an event type, and maxID ids and subjects.
const (
	maxName = 128
	maxID   = 256
)

// checkSize refuses a body longer than limit.
func checkSize(body []byte, limit int64, source string) error {
	if int64(len(body)) > limit {
		return fmt.Errorf("%w: the %s body is %d bytes, more than the %d allowed", ErrTooLarge, source, len(body), limit)
	}
	return nil
}

// decodeObject parses body as exactly one JSON object. Numbers are kept as written
// (json.Number), objects become map[string]any and lists []any. A key given twice in one
// object is refused, so no field can say two things. Every error is a *FieldError whose
// message places a syntax error by line, column and byte offset and names no Go type.
func decodeObject(body []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, &FieldError{Message: "the body is empty; expected a JSON object"}
	}
	if !json.Valid(body) {
		return nil, syntaxError(body)
	}
	d := &decoder{body: body, dec: json.NewDecoder(bytes.NewReader(body))}
	d.dec.UseNumber()
	tok, err := d.token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, &FieldError{Message: "expected a JSON object, got " + tokenKind(tok)}
	}
	return d.object("", 1)
}

// syntaxError describes what makes body, which is not valid JSON, invalid. Unmarshal
// checks the whole body before it decodes anything, and its SyntaxError's offset counts
// the byte at fault.
func syntaxError(body []byte) error {
	var syn *json.SyntaxError
	if err := json.Unmarshal(body, new(struct{})); !errors.As(err, &syn) {
		return &FieldError{Message: "malformed JSON"}
	}
	at := position(body, syn.Offset-1)
	switch {
	case syn.Offset >= int64(len(body)) && strings.HasPrefix(syn.Error(), "unexpected end"):
		return &FieldError{Message: "malformed JSON: the body ends at " + position(body, int64(len(body))) + " before the JSON value is complete"}
	case strings.HasSuffix(syn.Error(), "after top-level value"):
		return &FieldError{Message: "unexpected data after the JSON object at " + at}
	}
	return &FieldError{Message: "malformed JSON at " + at + ": " + syn.Error()}
}

type decoder struct {
	body []byte
	dec  *json.Decoder
}

// token reads the next token of a body already known to be valid JSON.
func (d *decoder) token() (json.Token, error) {
	tok, err := d.dec.Token()
	if err != nil {
		return nil, &FieldError{Message: "malformed JSON at " + position(d.body, d.dec.InputOffset())}
	}
	return tok, nil
}

// value reads the value whose first token is tok.
func (d *decoder) value(tok json.Token, path string, depth int) (any, error) {
	switch tok {
	case json.Delim('{'):
		return d.object(path, depth+1)
	case json.Delim('['):
		return d.list(path, depth+1)
	}
	return tok, nil // string, json.Number, bool or nil
}

func (d *decoder) object(path string, depth int) (map[string]any, error) {
	if depth > maxDepth {
		return nil, &FieldError{Field: path, Message: fmt.Sprintf("nested more than %d levels deep", maxDepth)}
	}
	m := map[string]any{}
	for d.dec.More() {
		tok, err := d.token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string) // the decoder only returns strings as keys
		field := join(path, key)
		if _, dup := m[key]; dup {
			return nil, &FieldError{Field: field, Message: "given more than once"}
		}
		if tok, err = d.token(); err != nil {
			return nil, err
		}
		if m[key], err = d.value(tok, field, depth); err != nil {
			return nil, err
		}
	}
	_, err := d.token() // '}'
	return m, err
}

func (d *decoder) list(path string, depth int) ([]any, error) {
	if depth > maxDepth {
		return nil, &FieldError{Field: path, Message: fmt.Sprintf("nested more than %d levels deep", maxDepth)}
	}
	l := []any{}
	for i := 0; d.dec.More(); i++ {
		tok, err := d.token()
		if err != nil {
			return nil, err
		}
		v, err := d.value(tok, path+"["+strconv.Itoa(i)+"]", depth)
		if err != nil {
			return nil, err
		}
		l = append(l, v)
	}
	_, err := d.token() // ']'
	return l, err
}

// join appends key to a JSON path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// position places a byte offset as "line L, column C (byte N)", counting from 1.
func position(body []byte, off int64) string {
	off = min(max(off, 0), int64(len(body)))
	before := body[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return fmt.Sprintf("line %d, column %d (byte %d)", line, col, off)
}

// kind names the JSON type of a decoded value.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "text"
	case json.Number:
		return "a number"
	case bool:
		return "true/false"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return "an unknown value"
}

// tokenKind names the JSON type a value starting with tok has.
func tokenKind(tok json.Token) string {
	switch tok {
	case json.Delim('['):
		return "a list"
	case json.Delim('{'):
		return "an object"
	}
	return kind(tok)
}

// wrongType is a FieldError for a value of the wrong JSON type.
func wrongType(field, want string, got any) *FieldError {
	return &FieldError{Field: field, Message: "expected " + want + ", got " + kind(got)}
}

// missing is a FieldError for a required field.
func missing(field, why string) *FieldError {
	msg := "missing"
	if why != "" {
		msg += "; " + why
	}
	return &FieldError{Field: field, Message: msg}
}

// str returns the text at m[key]; absent and null are ("", false).
func str(m map[string]any, key, field string) (string, bool, error) {
	switch v := m[key].(type) {
	case nil:
		return "", false, nil
	case string:
		return v, true, nil
	default:
		return "", false, wrongType(field, "text", v)
	}
}

// id returns the text or number at m[key] as text, bounded to maxID bytes; absent and
// null are ("", false).
func id(m map[string]any, key, field string) (string, bool, error) {
	var s string
	switch v := m[key].(type) {
	case nil:
		return "", false, nil
	case string:
		s = v
	case json.Number:
		s = v.String()
	default:
		return "", false, wrongType(field, "text or a number", v)
	}
	if len(s) > maxID {
		return "", false, &FieldError{Field: field, Message: fmt.Sprintf("longer than %d bytes", maxID)}
	}
	return s, true, nil
}

// object returns the object at m[key]; absent and null are (nil, false).
func object(m map[string]any, key, field string) (map[string]any, bool, error) {
	switch v := m[key].(type) {
	case nil:
		return nil, false, nil
	case map[string]any:
		return v, true, nil
	default:
		return nil, false, wrongType(field, "an object", v)
	}
}

// number returns the number at m[key]; absent and null are ("", false).
func number(m map[string]any, key, field string) (json.Number, bool, error) {
	switch v := m[key].(type) {
	case nil:
		return "", false, nil
	case json.Number:
		return v, true, nil
	default:
		return "", false, wrongType(field, "a number", v)
	}
}

// checkName checks that s can be part of an event type: letters, digits, '.', '_' and '-',
// starting with a letter or digit, at most maxName bytes.
func checkName(s, field string) error {
	if s == "" {
		return &FieldError{Field: field, Message: "empty"}
	}
	if len(s) > maxName {
		return &FieldError{Field: field, Message: fmt.Sprintf("longer than %d bytes", maxName)}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || i > 0 && (c == '.' || c == '_' || c == '-')
		if !ok {
			return &FieldError{Field: field, Message: quote(s) + " must start with a letter or digit and hold only letters, digits, '.', '_' and '-'"}
		}
	}
	return nil
}

// quote quotes a value from the request for an error message, cut to a readable length.
// Callers never pass a secret.
func quote(s string) string {
	s, _ = clip.String(s, 80)
	return strconv.Quote(s)
}

// oneOf lists allowed values for an error message.
func oneOf(values ...string) string {
	return "one of " + strings.Join(values, ", ")
}
