package receiver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// Request is what rules and arguments read from an incoming request.
type Request struct {
	Method     string
	RemoteAddr string
	Headers    map[string]any // canonical name -> first value
	Query      map[string]any // name -> first value
	Payload    any            // parsed JSON or form body, or nil
	Body       []byte
	// SoftSignatureFailures makes a wrong signature a mismatch rather than an error
	// (trigger-signature-soft-failures).
	SoftSignatureFailures bool
	header                http.Header
	// replay remembers the hook's standard-webhooks message ids; reserved are those
	// this request added to it.
	replay   *seenIDs
	reserved []string
}

// turnedAway forgets the message ids this request reserved: it was refused before its
// command could run (no room), so the sender may deliver the message again.
func (req *Request) turnedAway() {
	for _, id := range req.reserved {
		req.replay.forget(id)
	}
	req.reserved = nil
}

// newRequest reads what rules need from r; body has already been read (bounded).
func newRequest(r *http.Request, body []byte, contentType string) *Request {
	req := newHeadRequest(r)
	req.setBody(body, contentType)
	return req
}

// newHeadRequest reads what is known before the body: the method, the client's
// address, headers and query.
func newHeadRequest(r *http.Request) *Request {
	req := &Request{Method: r.Method, RemoteAddr: r.RemoteAddr, header: r.Header,
		Headers: map[string]any{}, Query: map[string]any{}}
	for k, v := range r.Header {
		if len(v) > 0 {
			req.Headers[k] = v[0]
		}
	}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			req.Query[k] = v[0]
		}
	}
	return req
}

// setBody takes the body and parses it as contentType (the request's Content-Type
// when empty) into Payload.
func (req *Request) setBody(body []byte, contentType string) {
	req.Body = body
	if contentType == "" {
		contentType = req.header.Get("Content-Type")
	}
	mt, params, _ := mime.ParseMediaType(contentType)
	switch {
	case strings.Contains(mt, "json"):
		if p, err := decodeJSON(body); err == nil {
			if list, ok := p.([]any); ok {
				p = map[string]any{"root": list} // webhook serves a top-level array as "root"
			}
			req.Payload = p
		}
	case mt == "application/x-www-form-urlencoded":
		if vals, err := url.ParseQuery(string(body)); err == nil {
			m := map[string]any{}
			for k, v := range vals {
				m[k] = v[0] // the first value, as webhook does
			}
			req.Payload = m
		}
	case mt == "multipart/form-data":
		req.Payload = multipartValues(body, params["boundary"])
	}
}

// maxMultipartParts bounds the fields read from a multipart body (the body itself is
// already bounded).
const maxMultipartParts = 1000

// multipartValues reads the fields of a multipart/form-data body: the first value of
// each, as webhook keeps them. File parts are read as fields too (bounded by the body).
func multipartValues(body []byte, boundary string) any {
	if boundary == "" {
		return nil
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	m := map[string]any{}
	for i := 0; i < maxMultipartParts; i++ {
		part, err := mr.NextPart()
		if err != nil {
			break
		}
		name := part.FormName()
		data, err := io.ReadAll(part)
		if err != nil || name == "" {
			continue
		}
		if _, seen := m[name]; seen {
			continue
		}
		if part.FileName() != "" {
			// As webhook: a file part is data only when it is JSON.
			if mt, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type")); mt == "application/json" {
				if v, err := decodeJSON(data); err == nil {
					m[name] = v
				}
			}
			continue
		}
		m[name] = string(data)
	}
	return m
}

// decodeJSON decodes one JSON value keeping numbers as written (json.Number), as webhook
// does: 12345678901234567890 and 1.0 are passed on unchanged, not rounded to a float64.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// errNoParameter is a missing argument: the rule using it does not match.
var errNoParameter = errors.New("parameter not found")

// Get returns the value an argument names, as text.
func (req *Request) Get(a Argument) (string, error) {
	switch a.Source {
	case SourceHeader:
		if v, ok := lookupPath(req.Headers, textproto.CanonicalMIMEHeaderKey(a.Name)); ok {
			return text(v)
		}
	case SourceQuery, SourceQueryAlias:
		if v, ok := lookupPath(req.Query, a.Name); ok {
			return text(v)
		}
	case SourcePayload:
		if v, ok := lookupPath(req.Payload, a.Name); ok {
			return text(v)
		}
	case SourceRequest:
		switch strings.ToLower(a.Name) {
		case "method":
			return req.Method, nil
		case "remote-addr":
			return req.RemoteAddr, nil
		}
	case SourceString:
		return a.Name, nil
	case SourceEntirePayload:
		return jsonText(req.Payload)
	case SourceEntireHeaders:
		return jsonText(req.Headers)
	case SourceEntireQuery:
		return jsonText(req.Query)
	case SourceRawBody:
		return string(req.Body), nil
	}
	return "", fmt.Errorf("%w: %s %q", errNoParameter, a.Source, a.Name)
}

// text renders a payload value the way webhook passes it: strings as they are, other
// values as JSON.
func text(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case nil:
		return "<nil>", nil // webhook prints a JSON null with %v
	}
	return jsonText(v)
}

func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// lookupPath follows a dot path through maps and lists (numbers index lists). A key
// that itself holds dots is found when it matches the rest of the path whole.
func lookupPath(v any, path string) (any, bool) {
	if path == "" {
		return v, v != nil
	}
	switch x := v.(type) {
	case map[string]any:
		if e, ok := x[path]; ok {
			return e, true
		}
		head, rest, more := strings.Cut(path, ".")
		e, ok := x[head]
		if !ok {
			return nil, false
		}
		if !more {
			return e, true
		}
		return lookupPath(e, rest)
	case []any:
		head, rest, more := strings.Cut(path, ".")
		i, err := strconv.Atoi(head)
		if err != nil || i < 0 || i >= len(x) {
			return nil, false
		}
		if !more {
			return x[i], true
		}
		return lookupPath(x[i], rest)
	}
	return nil, false
}
