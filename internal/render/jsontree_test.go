package render

import (
	"encoding/json"
	"github.com/hookpoint/hookpoint/internal/jsonwrite"
	"testing"
)

// appendTree must write exactly what encoding/json writes (HTML escaping off).
func TestAppendTreeMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	values := []any{
		nil, true, false, 0, -42, int64(1) << 40, 3.25, "", "plain",
		"quote\" backslash\\ slash/ <&> \n\r\t\b\f \x00\x01\x1f \x7f",
		"é 日本 🎉 \u2028\u2029", "bad utf8 \xff\xfe end",
		map[string]any{"b": "2", "a": []any{"x", 1, nil, map[string]any{"z": false}}, "": "empty key", "k\"q": "v"},
		[]any{}, map[string]any{},
	}
	for _, v := range values {
		got, err := appendTree(nil, v)
		if err != nil {
			t.Fatalf("%#v: %v", v, err)
		}
		want, err := jsonwrite.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%#v:\n got %s\nwant %s", v, got, want)
		}
		if !json.Valid(got) {
			t.Errorf("%#v: invalid JSON %s", v, got)
		}
	}
}
