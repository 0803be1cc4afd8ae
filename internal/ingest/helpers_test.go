package ingest

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookpoint/hookpoint/internal/event"
)

// payload reads a testdata file.
func payload(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// header builds the headers net/http hands a handler for the given name/value pairs.
func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// parse parses a request that must be accepted and checks the event is valid.
func parse(t *testing.T, s Source, r *Request) *event.Event {
	t.Helper()
	ev, err := s.Parse(r)
	if err != nil {
		t.Fatalf("%s: Parse: %v", s.Name(), err)
	}
	if err := ev.Validate(); err != nil {
		t.Fatalf("%s: event does not validate: %v", s.Name(), err)
	}
	if ev.Source != s.Name() || ev.ID == "" || ev.Time.IsZero() || ev.Data == nil {
		t.Fatalf("%s: source %q, id %q, time %v, data %v", s.Name(), ev.Source, ev.ID, ev.Time, ev.Data)
	}
	return ev
}

// parseError parses a request that must be refused with a FieldError for field whose
// message holds want.
func parseError(t *testing.T, s Source, r *Request, field, want string) {
	t.Helper()
	ev, err := s.Parse(r)
	if err == nil {
		t.Fatalf("%s: Parse accepted it: %s %+v", s.Name(), ev.Type, ev.Data)
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("%s: error %v (%T), want a *FieldError", s.Name(), err, err)
	}
	if fe.Field != field || !strings.Contains(fe.Message, want) {
		t.Fatalf("%s: error field %q message %q, want field %q and a message with %q", s.Name(), fe.Field, fe.Message, field, want)
	}
	noInternals(t, err.Error())
}

// noInternals fails when an error message shows Go's internals rather than words.
func noInternals(t testing.TB, msg string) {
	t.Helper()
	for _, s := range []string{"Go value", "json:", "map[", "interface {}", "[]interface", "unmarshal", "reflect", "*ingest."} {
		if strings.Contains(msg, s) {
			t.Fatalf("error message %q shows Go internals (%q)", msg, s)
		}
	}
}

// unauthorizedErr checks an Authenticate failure: it wraps ErrUnauthorized, says why
// (holds want) and quotes none of secrets.
func unauthorizedErr(t *testing.T, err error, want string, secrets ...string) {
	t.Helper()
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("error %v, want ErrUnauthorized", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not say %q", err, want)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Fatalf("error %q quotes the secret %q", err, s)
		}
	}
}

// dataJSON returns an event's data as JSON, for comparing nested values.
func dataJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
