// Package event defines the event that flows through hookpoint: what happened (or is about
// to happen) to a job, with the variables hooks can use.
package event

import (
	"encoding/json"
	"fmt"
	"github.com/hookpoint/hookpoint/internal/jsonwrite"
	"math/rand/v2"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Statuses an event may carry. Pre phases carry no status.
const (
	StatusNone      = ""
	StatusSuccess   = "success"
	StatusWarning   = "warning"
	StatusFail      = "fail"
	StatusCancelled = "cancelled"
)

// ValidStatus reports whether s is one of the statuses an event may carry.
func ValidStatus(s string) bool {
	switch s {
	case StatusNone, StatusSuccess, StatusWarning, StatusFail, StatusCancelled:
		return true
	}
	return false
}

// Run correlates every event of one job run.
type Run struct {
	ID   string `json:"id"`
	Job  string `json:"job,omitempty"`
	Kind string `json:"kind,omitempty"`
}

// Event is something that happened or is about to happen.
type Event struct {
	ID      string         `json:"id"`
	Type    string         `json:"type"`
	Time    time.Time      `json:"time"`
	Source  string         `json:"source,omitempty"`
	Subject string         `json:"subject,omitempty"`
	Gate    bool           `json:"gate"`
	Status  string         `json:"status,omitempty"`
	Run     Run            `json:"-"`
	Data    map[string]any `json:"data"`
	// SourceEnv holds variables under the source tool's own names (for example
	// CV4PVE_AUTOSNAP_VMID), passed to exec hooks as they are.
	SourceEnv map[string]string `json:"-"`
}

// DefaultSource is the event source when none is given.
const DefaultSource = "hookpoint"

var typeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// GateByName reports whether an event of this type is a gate when its emitter does not
// say: the pre phase of a job (a type ending in ".pre", such as backup.pre) is.
func GateByName(typ string) bool { return strings.HasSuffix(typ, ".pre") }

// New returns an event of the given type with a fresh id and the current time.
func New(typ string) *Event {
	return &Event{ID: NewID("evt"), Type: typ, Time: time.Now().UTC(), Source: DefaultSource, Data: map[string]any{}}
}

// Validate checks the fields an emitter controls.
func (e *Event) Validate() error {
	if !typeRE.MatchString(e.Type) {
		return fmt.Errorf("event type %q: must start with a letter or digit and hold only letters, digits, '.', '_' and '-'", e.Type)
	}
	if !ValidStatus(e.Status) {
		return fmt.Errorf("event status %q: must be one of success, warning, fail, cancelled or empty", e.Status)
	}
	return nil
}

// MarshalJSON writes the event in hookpoint's own shape, with run_id at the top level.
func (e *Event) MarshalJSON() ([]byte, error) {
	type plain Event
	data := e.Data
	if data == nil {
		data = map[string]any{}
	}
	return json.Marshal(struct {
		*plain
		Time  string         `json:"time"`
		RunID string         `json:"run_id,omitempty"`
		Job   string         `json:"job,omitempty"`
		Kind  string         `json:"kind,omitempty"`
		Data  map[string]any `json:"data"`
	}{(*plain)(e), e.Time.UTC().Format(time.RFC3339Nano), e.Run.ID, e.Run.Job, e.Run.Kind, data})
}

// CloudEvent returns the event as a CloudEvents 1.0 structured-mode JSON document, the
// default body of HTTP hooks.
func (e *Event) CloudEvent() ([]byte, error) {
	data := e.Data
	if data == nil {
		data = map[string]any{}
	}
	return json.Marshal(struct {
		SpecVersion     string         `json:"specversion"`
		ID              string         `json:"id"`
		Source          string         `json:"source"`
		Type            string         `json:"type"`
		Subject         string         `json:"subject,omitempty"`
		Time            string         `json:"time"`
		DataContentType string         `json:"datacontenttype"`
		Gate            bool           `json:"gate"`
		Status          string         `json:"status,omitempty"`
		RunID           string         `json:"runid,omitempty"`
		Data            map[string]any `json:"data"`
	}{"1.0", e.ID, e.Source, e.Type, e.Subject, e.Time.UTC().Format(time.RFC3339Nano), "application/json", e.Gate, e.Status, e.Run.ID, data})
}

// EnvName turns a data key into the suffix of its HOOKPOINT_DATA_ variable: upper case,
// every character other than a letter or digit replaced by '_'.
func EnvName(key string) string {
	var b strings.Builder
	for _, r := range key {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Env returns the variables every exec hook receives for this event: HOOKPOINT_EVENT,
// HOOKPOINT_STATUS, HOOKPOINT_RUN_ID, one HOOKPOINT_DATA_<KEY> per data variable and the
// source tool's own variables, sorted by name. The hook id is added by the caller.
func (e *Event) Env() []string {
	env := []string{
		"HOOKPOINT_EVENT=" + e.Type,
		"HOOKPOINT_EVENT_ID=" + e.ID,
		"HOOKPOINT_STATUS=" + e.Status,
		"HOOKPOINT_RUN_ID=" + e.Run.ID,
	}
	keys := make([]string, 0, len(e.Data))
	for k := range e.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, "HOOKPOINT_DATA_"+EnvName(k)+"="+Stringify(e.Data[k]))
	}
	src := make([]string, 0, len(e.SourceEnv))
	for k, v := range e.SourceEnv {
		src = append(src, k+"="+v)
	}
	sort.Strings(src)
	return append(env, src...)
}

// Stringify renders a data value as text: strings as they are, nil as "", everything
// else as JSON.
func Stringify(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case fmt.Stringer:
		return x.String()
	}
	b, err := jsonwrite.Marshal(v) // <, > and & stay as written
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// NewID returns a prefixed, time-ordered unique id: prefix + "_" + 26 characters of
// Crockford base32 (48 bits of milliseconds, 80 random bits), the ULID layout.
func NewID(prefix string) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var raw [16]byte
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		raw[i] = byte(ms)
		ms >>= 8
	}
	// math/rand/v2's global source is ChaCha8 seeded by the runtime from the OS: ids are
	// unpredictable without a getrandom system call per id.
	r1, r2 := rand.Uint64(), rand.Uint64()
	for i := 0; i < 8; i++ {
		raw[6+i] = byte(r1 >> (8 * i))
	}
	raw[14], raw[15] = byte(r2), byte(r2>>8)
	// 128 bits -> 26 base32 digits (the first carries 3 bits).
	var out [26]byte
	var hi, lo uint64
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(raw[i])
		lo = lo<<8 | uint64(raw[8+i])
	}
	for i := 25; i >= 0; i-- {
		out[i] = alphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return prefix + "_" + string(out[:])
}
