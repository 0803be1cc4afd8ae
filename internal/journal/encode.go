package journal

import (
	"slices"
	"strconv"
	"time"

	"github.com/hookpoint/hookpoint/internal/jsonwrite"
)

// AppendJSON appends r, bounded (see Bound), as one JSON object: the same document
// json.Marshal writes for the bounded record, without reflection, as journals are
// written for every hook execution.
func (r *Record) AppendJSON(b []byte) []byte {
	if r.needsBound() {
		c := *r
		c.Truncated = slices.Clone(r.Truncated)
		c.Bound()
		r = &c
	}
	b = append(b, `{"time":`...)
	b = jsonwrite.String(b, r.Time.Format(time.RFC3339Nano))
	b = optString(b, "run_id", r.RunID)
	b = field(b, "event_id", r.EventID)
	b = field(b, "event_type", r.EventType)
	b = field(b, "hook_id", r.HookID)
	b = optString(b, "delivery_id", r.DeliveryID)
	b = field(b, "action", r.Action)
	b = field(b, "mode", r.Mode)
	b = optString(b, "target", r.Target)
	b = append(b, `,"attempt":`...)
	b = strconv.AppendInt(b, int64(r.Attempt), 10)
	b = field(b, "outcome", r.Outcome)
	if r.Status != 0 {
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(r.Status), 10)
	}
	if r.ExitCode != nil {
		b = append(b, `,"exit_code":`...)
		b = strconv.AppendInt(b, int64(*r.ExitCode), 10)
	}
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, r.DurationMS, 'f', -1, 64)
	b = optString(b, "error", r.Error)
	b = optString(b, "response", r.Response)
	if len(r.Truncated) > 0 {
		b = append(b, `,"truncated":[`...)
		for i, name := range r.Truncated {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonwrite.String(b, name)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// needsBound reports whether a field is over its bound (cheaper than Bound when none is,
// which is nearly always).
func (r *Record) needsBound() bool {
	return len(r.RunID) > MaxID || len(r.EventID) > MaxID || len(r.EventType) > MaxID || len(r.HookID) > MaxID ||
		len(r.DeliveryID) > MaxID || len(r.Target) > MaxTarget || len(r.Error) > MaxError || len(r.Response) > MaxResponse
}

func field(b []byte, name, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return jsonwrite.String(b, v)
}

func optString(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	return field(b, name, v)
}
