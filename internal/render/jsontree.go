package render

import (
	"github.com/hookpoint/hookpoint/internal/jsonwrite"
	"sort"
	"strconv"
)

// appendTree writes a rendered structured body as JSON with sorted keys, the same bytes
// encoding/json writes with HTML escaping off, without reflection for the usual values
// (maps, lists, strings, numbers, booleans, null).
func appendTree(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return jsonwrite.String(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonwrite.String(b, k)
			b = append(b, ':')
			var err error
			if b, err = appendTree(b, x[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendTree(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	enc, err := jsonwrite.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, enc...), nil
}
