package ingest

import (
	"net/http"
	"sort"
	"strings"

	"github.com/hookpoint/hookpoint/internal/event"
)

// GenericMaxBody bounds a generic request.
const GenericMaxBody = 1 << 20

// genericFields are the fields a generic body may hold.
var genericFields = []string{"data", "gate", "run_id", "status", "subject", "type"}

// Generic parses hookpoint's own shape, for systems that can be told what to send:
// {type, status, subject, gate, run_id, data}. Only type is required; any other field is
// refused, by name.
type Generic struct{}

var _ Source = Generic{}

// Name returns "generic".
func (Generic) Name() string { return "generic" }

// MaxBody returns GenericMaxBody.
func (Generic) MaxBody() int64 { return GenericMaxBody }

// Authenticate always refuses: the generic source has no secret of its own. A caller is
// accepted only with one of the server's admin or emit tokens, which the server checks
// before it asks the source.
func (Generic) Authenticate(*Request, Config) error {
	return unauthorized("generic ingest accepts only a hookpoint admin or emit token (Authorization: Bearer <token>)")
}

// Parse turns a generic body into the event it describes.
func (Generic) Parse(r *Request) (*event.Event, error) {
	if err := checkSize(r.Body, GenericMaxBody, "generic"); err != nil {
		return nil, err
	}
	m, err := decodeObject(r.Body)
	if err != nil {
		return nil, err
	}
	var unknown []string
	for k := range m {
		if i := sort.SearchStrings(genericFields, k); i == len(genericFields) || genericFields[i] != k {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, &FieldError{Field: unknown[0], Message: "unknown field; a generic event has " + strings.Join(genericFields, ", ")}
	}
	typ, ok, err := str(m, "type", "type")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, missing("type", `the event type, such as "backup.pre"`)
	}
	if err := checkName(typ, "type"); err != nil {
		return nil, err
	}
	ev := newEvent(typ, "generic")
	if ev.Status, _, err = str(m, "status", "status"); err != nil {
		return nil, err
	}
	if !event.ValidStatus(ev.Status) {
		return nil, &FieldError{Field: "status", Message: quote(ev.Status) + " is not " + oneOf("success", "warning", "fail", "cancelled") + " or empty"}
	}
	if ev.Subject, _, err = id(m, "subject", "subject"); err != nil {
		return nil, err
	}
	if ev.Run.ID, _, err = id(m, "run_id", "run_id"); err != nil {
		return nil, err
	}
	switch g := m["gate"].(type) {
	case nil:
	case bool:
		ev.Gate = g
	default:
		return nil, wrongType("gate", "true/false", g)
	}
	data, _, err := object(m, "data", "data")
	if err != nil {
		return nil, err
	}
	for k, v := range data {
		ev.Data[k] = v
	}
	return ev, nil
}

// Answer is 409 with a JSON body naming the hook when the hooks abort a gate event, so a
// caller that only looks at the status code stops its job; 200 with the verdict
// otherwise. (409, not 422: the request was understood; it is the hooks that refuse.)
func (Generic) Answer(ev *event.Event, o Outcome) Response {
	if o.Verdict == Abort && ev != nil && ev.Gate {
		return respond(http.StatusConflict, ev, o, abortMessage(ev, o))
	}
	return respond(http.StatusOK, ev, o, abortMessage(ev, o))
}
