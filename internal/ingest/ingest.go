// Package ingest turns the webhooks other systems send — Xen Orchestra's web-hooks
// plugin, VirtFusion, Zerobyte's backup webhooks, and a generic shape — into hookpoint
// events, authenticating each the way that system can.
//
// It is pure: no HTTP server, no database. The server (`hookpoint serve`) reads a
// request into a Request, then for the Source named by the path:
//
//  1. accepts the caller if it presents one of the server's own admin or emit tokens;
//     otherwise calls Authenticate with the rendered server.ingest.<source> settings and
//     answers 401 when it fails (ErrUnauthorized; the wrapped reason is safe to log);
//  2. reads at most MaxBody()+1 bytes of body and calls Parse: ErrTooLarge is a 413, a
//     *FieldError a 400 naming the field, and the event is otherwise fired;
//  3. writes what Answer returns for the verdict, as application/json.
//
// docs/ingest.md says what to configure on each system and what each does with the
// answer.
package ingest

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"

	"github.com/hookpoint/hookpoint/internal/event"
)

// Source parses one system's webhook requests.
type Source interface {
	// Name is the {source} of POST /v1/ingest/{source}: "xo", "virtfusion",
	// "zerobyte" or "generic". Events carry it as their source.
	Name() string
	// MaxBody is the largest body, in bytes, Parse accepts.
	MaxBody() int64
	// Authenticate checks the request's credentials against cfg, comparing secrets in
	// constant time; an empty configured secret refuses everything. It reads headers
	// and the path only, so it can run before the body is read. Its error wraps
	// ErrUnauthorized with a reason that is safe to log and never quotes a secret.
	Authenticate(r *Request, cfg Config) error
	// Parse turns the request into an event, or returns a *FieldError naming the
	// field (a JSON path such as "params.id", or a header name) and what is wrong
	// with it, or an error wrapping ErrTooLarge.
	Parse(r *Request) (*event.Event, error)
	// Answer is what the system is sent back once the event's hooks have run.
	Answer(ev *event.Event, o Outcome) Response
}

// Request is what a source needs from one HTTP request.
type Request struct {
	Header http.Header
	Body   []byte
	// PathSecret is the {secret} segment of /v1/ingest/xo/{secret}, unescaped.
	PathSecret string
}

// Config is one source's server.ingest.<source> settings, after the server has
// rendered their templates.
type Config struct {
	Secret string // xo: the path segment; zerobyte: the header's value
	Token  string // virtfusion: the token VirtFusion sends as Bearer base64(token)
	Header string // zerobyte: the header carrying Secret (default X-Zerobyte-Hook-Secret)
}

// Verdict is what the hooks of an event decided; it has the values of
// hookpoint.Verdict.
type Verdict string

// Verdicts.
const (
	Proceed Verdict = "proceed"
	Abort   Verdict = "abort"
)

// Outcome is what Answer needs to know about the hooks that ran.
type Outcome struct {
	Verdict Verdict
	// AbortedBy is the id of the hook that aborted the event, when Verdict is Abort.
	AbortedBy string
}

// Response is the answer to the system that sent the webhook: a status code and a small
// JSON body (Content-Type: application/json).
type Response struct {
	Status int
	Body   []byte
}

// ErrUnauthorized is wrapped by every Authenticate failure.
var ErrUnauthorized = errors.New("unauthorized")

// ErrTooLarge is wrapped by Parse when the body is longer than the source's MaxBody.
var ErrTooLarge = errors.New("payload too large")

// FieldError is a request that cannot become an event: Field names the JSON field (a
// path such as "params.id" or "data.errors[0]") or the header that is wrong, or is
// empty when the body as a whole is; Message says what is wrong, in words an operator
// can act on.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

var sources = map[string]Source{}

func register(s Source) { sources[s.Name()] = s }

func init() {
	register(XO{})
	register(VirtFusion{})
	register(Zerobyte{})
	register(Generic{})
}

// Lookup returns the source named name.
func Lookup(name string) (Source, bool) {
	s, ok := sources[name]
	return s, ok
}

// Names returns the names of every source, sorted.
func Names() []string {
	names := make([]string, 0, len(sources))
	for n := range sources {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// newEvent returns an event of type typ from source.
func newEvent(typ, source string) *event.Event {
	ev := event.New(typ)
	ev.Source = source
	return ev
}

// answer is the JSON body every source answers with.
type answer struct {
	EventID   string  `json:"event_id,omitempty"`
	Verdict   Verdict `json:"verdict"`
	AbortedBy string  `json:"aborted_by,omitempty"`
	Message   string  `json:"message,omitempty"`
}

// respond builds a Response; message is only sent with an abort.
func respond(status int, ev *event.Event, o Outcome, message string) Response {
	a := answer{Verdict: o.Verdict}
	if a.Verdict == "" {
		a.Verdict = Proceed
	}
	if ev != nil {
		a.EventID = ev.ID
	}
	if a.Verdict == Abort {
		a.AbortedBy = o.AbortedBy
		a.Message = message
	}
	body, err := json.Marshal(a)
	if err != nil { // strings only: cannot happen
		body = []byte(`{"verdict":"` + string(a.Verdict) + `"}`)
	}
	return Response{Status: status, Body: body}
}

// abortMessage says which hook stopped an event, for a person reading the answer.
func abortMessage(ev *event.Event, o Outcome) string {
	typ := "the event"
	if ev != nil {
		typ = ev.Type
	}
	if o.AbortedBy == "" {
		return "a hook aborted " + typ
	}
	return "hook " + o.AbortedBy + " aborted " + typ
}
