package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/store"
)

// apiError is an error with the status and JSON body the API answers with:
// {"error": {"code", "message", "field"}}. Handlers return errors; one adapter writes
// them, so no handler writes its own error body.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// Allow lists the methods of a path, for 405 answers.
	Allow []string `json:"-"`
	// issues are every validation issue of an invalid hook (the web UI shows each
	// beside its field; the API's message lists them).
	issues []config.Issue
	// RetryAfter is the seconds a 503 asks the client to wait.
	RetryAfter int `json:"-"`
}

func (e *apiError) Error() string { return e.Message }

func errorf(status int, code, field, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

func badRequest(field, format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "invalid", field, format, args...)
}

func notFound(what, id string) *apiError {
	return errorf(http.StatusNotFound, "not_found", "", "no %s with id %q", what, id)
}

// handlerFunc is an API handler: it writes its answer, or returns the error to answer
// with.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// serveAPI turns errors into their JSON answers. Errors that are not apiErrors are the
// server's own: logged, and answered 500 (503 when the database is unreachable) without
// their text, which may hold details a client must not see.
func (s *Server) serveAPI(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		var ae *apiError
		if !errors.As(err, &ae) {
			switch {
			case errors.Is(err, store.ErrNotFound):
				ae = errorf(http.StatusNotFound, "not_found", "", "not found")
			case errors.Is(err, errUnavailable):
				ae = errorf(http.StatusServiceUnavailable, "unavailable", "", "%s", err.Error())
			case r.Context().Err() != nil:
				ae = errorf(http.StatusServiceUnavailable, "cancelled", "", "the request ended before it was answered")
			default:
				s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
				ae = errorf(http.StatusInternalServerError, "internal", "", "the server could not answer; its log says why")
			}
		}
		if len(ae.Allow) > 0 {
			w.Header().Set("Allow", strings.Join(ae.Allow, ", "))
		}
		if ae.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(ae.RetryAfter))
		}
		if ae.Status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hookpoint"`)
		}
		writeJSON(w, ae.Status, map[string]any{"error": ae})
	})
}

// errUnavailable wraps database failures: the client may try again later.
var errUnavailable = errors.New("the database is unavailable; nothing was accepted, try again")

// writeJSON writes v as the answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		slog.Error("answer not encodable", "err", err)
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"the answer could not be encoded"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// decodeJSON reads the request body into v: a JSON object of at most limit bytes, with
// no unknown fields and nothing after it. Errors name the field and what was expected,
// or the line and column of a syntax error.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "", "the body must be JSON (Content-Type: application/json), not %s", clipText(ct, 60))
	}
	body, err := readBody(w, r, limit)
	if err != nil {
		return err
	}
	return decodeJSONBytes(body, v)
}

// maxBodiesInFlight bounds the request bodies being read at once, so that slow clients
// sending large bodies hold at most this many times the largest body (64 MiB).
const maxBodiesInFlight = 64

var bodySlots = make(chan struct{}, maxBodiesInFlight)

// readBody reads a request body of at most limit bytes; a body that would be one more
// than maxBodiesInFlight being read at once is answered 503.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, errorf(http.StatusRequestEntityTooLarge, "too_large", "", "the body is larger than %d bytes", limit)
	}
	select {
	case bodySlots <- struct{}{}:
		defer func() { <-bodySlots }()
	default:
		return nil, &apiError{Status: http.StatusServiceUnavailable, Code: "busy", RetryAfter: 1,
			Message: "too many requests are sending their bodies at once; try again"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "too_large", "", "the body is larger than %d bytes", limit)
		}
		return nil, badRequest("", "the body could not be read")
	}
	return body, nil
}

func decodeJSONBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("", "the body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(body, err)
	}
	if dec.More() {
		return badRequest("", "the body holds more than one JSON value")
	}
	return nil
}

// jsonError says what is wrong with a JSON body in words.
func jsonError(body []byte, err error) *apiError {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := lineCol(body, int(se.Offset)-1) // Offset is just past the byte at fault
		return badRequest("", "the body is not valid JSON: at line %d, column %d", line, col)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("", "the body is not valid JSON: it ends too early")
	case errors.As(err, &te):
		field := te.Field
		return badRequest(field, "%s must be %s, not %s", fieldName(field), jsonKind(te.Type), te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badRequest(name, "unknown field %q", name)
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "json: ") {
		return badRequest("", "the body is not what this route takes")
	}
	// Errors of the types' own UnmarshalJSON are written for people.
	return badRequest("", "%s", msg)
}

func fieldName(f string) string {
	if f == "" {
		return "the body"
	}
	return f
}

// jsonKind names a Go type as JSON calls it.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "another kind of value"
}

func lineCol(b []byte, off int) (int, int) {
	off = min(max(off, 0), len(b))
	line := 1 + bytes.Count(b[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(b[:off], '\n')
	return line, col
}

// clipText bounds text quoted in a message.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
