package ingest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecodeObject(t *testing.T) {
	t.Parallel()
	m, err := decodeObject([]byte(" \n{\"big\": 12345678901234567890, \"f\": 1.50, \"l\": [{\"a\": null}], \"t\": true}\n "))
	if err != nil {
		t.Fatal(err)
	}
	// Numbers are kept as written, not rounded through a float64.
	if m["big"] != json.Number("12345678901234567890") || m["f"] != json.Number("1.50") || m["t"] != true {
		t.Errorf("%#v", m)
	}
	if dataJSON(t, m["l"]) != `[{"a":null}]` {
		t.Errorf("l %#v", m["l"])
	}
}

func TestDecodeObjectErrors(t *testing.T) {
	t.Parallel()
	// The body's own object is the first level.
	deep := strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1)
	deepList := `{"a":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + "}"
	for _, tc := range []struct {
		name, body, field, want string
	}{
		{"empty", "", "", "the body is empty; expected a JSON object"},
		{"white space", " \r\n\t", "", "the body is empty"},
		{"a string", `"x"`, "", "expected a JSON object, got text"},
		{"a number", `12`, "", "expected a JSON object, got a number"},
		{"null", `null`, "", "expected a JSON object, got null"},
		{"a trailing comma", `{"a":1,}`, "", `malformed JSON at line 1, column 8 (byte 7): invalid character '}' looking for beginning of object key string`},
		{"no colon", `{"a" 1}`, "", "malformed JSON at line 1, column 6 (byte 5): invalid character '1' after object key"},
		{"on the third line", "{\n  \"a\": 1,\n  \"b\": tru\n}", "", `malformed JSON at line 3, column 11 (byte 22): invalid character '\n' in literal true (expecting 'e')`},
		{"columns count characters", "{\"é\": x}", "", "malformed JSON at line 1, column 7 (byte 7)"},
		{"a control character in a string", "{\"a\": \"\x01\"}", "", "malformed JSON at line 1, column 8 (byte 7): invalid character '\\x01' in string literal"},
		{"cut in a string", `{"a": "b`, "", "the body ends at line 1, column 9 (byte 8) before the JSON value is complete"},
		{"two objects", `{"a":1} {"b":2}`, "", "unexpected data after the JSON object at line 1, column 9 (byte 8)"},
		{"a duplicate key", `{"a":1,"a":1}`, "a", "given more than once"},
		{"a duplicate key in a list", `{"l":[{},{"k":1,"k":2}]}`, "l[1].k", "given more than once"},
		{"nested too deep", deep, strings.TrimSuffix(strings.Repeat("a.", maxDepth), "."), "nested more than 64 levels deep"},
		{"lists nested too deep", deepList, "a" + strings.Repeat("[0]", maxDepth-1), "nested more than 64 levels deep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeObject([]byte(tc.body))
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T), want a *FieldError", err, err)
			}
			if fe.Field != tc.field || !strings.Contains(fe.Message, tc.want) {
				t.Fatalf("field %q message %q, want %q and %q", fe.Field, fe.Message, tc.field, tc.want)
			}
			noInternals(t, fe.Error())
		})
	}
	// At the bound it decodes.
	ok := strings.Repeat(`{"a":`, maxDepth) + "1" + strings.Repeat("}", maxDepth)
	if _, err := decodeObject([]byte(ok)); err != nil {
		t.Errorf("%d levels: %v", maxDepth, err)
	}
}
