package ingest

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/hookpoint/hookpoint/internal/clip"
	"github.com/hookpoint/hookpoint/internal/event"
)

// XOMaxBody bounds an XO request. XO sends the call's params and, on a post, its
// result, which for a few methods is large.
const XOMaxBody = 1 << 20

// Bounds of the error XO sends with a failed call's post.
const (
	xoErrorMessage = 2 << 10 // message
	xoErrorShort   = 128     // name, code
	xoErrorDetail  = 1 << 10 // data, params: dropped when their JSON is longer
)

// XO parses the requests of Xen Orchestra's web-hooks plugin (payload format "JSON"):
// {type, callId, userId, userName, userIp, method, params, timestamp} for a pre, plus
// duration and result or error for a post. XO can only be given a URL, so the secret is
// the path segment of /v1/ingest/xo/{secret}.
type XO struct{}

var _ Source = XO{}

// Name returns "xo".
func (XO) Name() string { return "xo" }

// MaxBody returns XOMaxBody.
func (XO) MaxBody() int64 { return XOMaxBody }

// Authenticate compares the URL's secret path segment with cfg.Secret. XO sends no
// credential of its own: nothing but Content-Type.
func (XO) Authenticate(r *Request, cfg Config) error {
	switch {
	case cfg.Secret == "":
		return unauthorized("no secret is configured for xo ingest (server.ingest.xo.secret)")
	case r.PathSecret == "":
		return unauthorized("the URL has no secret path segment (/v1/ingest/xo/{secret})")
	case !secretEqual(r.PathSecret, cfg.Secret):
		return unauthorized("the secret path segment of the URL does not match server.ingest.xo.secret")
	}
	return nil
}

// Parse turns an XO call into the event xo.<method>.pre (a gate) or xo.<method>.post
// (status success, or fail when XO sends an error). callId is the run id, so a call's
// pre and post correlate.
func (XO) Parse(r *Request) (*event.Event, error) {
	if err := checkSize(r.Body, XOMaxBody, "xo"); err != nil {
		return nil, err
	}
	m, err := decodeObject(r.Body)
	if err != nil {
		return nil, err
	}
	if _, office := m["@type"]; office && m["type"] == nil {
		return nil, &FieldError{Field: "@type", Message: "this is the web-hooks plugin's Office 365 format; set the hook's payload format to JSON"}
	}
	phase, ok, err := str(m, "type", "type")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, missing("type", `XO sends "pre" or "post"`)
	}
	if phase != "pre" && phase != "post" {
		return nil, &FieldError{Field: "type", Message: quote(phase) + ` is neither "pre" nor "post"`}
	}
	method, ok, err := str(m, "method", "method")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, missing("method", `the XO API method, such as "vm.snapshot"`)
	}
	if err := checkName(method, "method"); err != nil {
		return nil, err
	}
	callID, ok, err := id(m, "callId", "callId")
	if err != nil {
		return nil, err
	}
	if !ok || callID == "" {
		return nil, missing("callId", "XO sends one per call to match its pre and post")
	}
	params, hasParams, err := object(m, "params", "params")
	if err != nil {
		return nil, err
	}

	ev := newEvent("xo."+method+"."+phase, "xo")
	ev.Run = event.Run{ID: callID, Job: method, Kind: "xo"}
	ev.Data["phase"] = phase
	ev.Data["method"] = method
	ev.Data["call_id"] = callID
	if hasParams {
		ev.Data["params"] = params
		ev.Subject = xoSubject(method, params)
	}
	user := map[string]any{}
	for _, f := range [...]struct{ key, as string }{{"userId", "id"}, {"userName", "name"}, {"userIp", "ip"}} {
		v, ok, err := id(m, f.key, f.key)
		if err != nil {
			return nil, err
		}
		if ok {
			user[f.as] = v
		}
	}
	if len(user) > 0 {
		ev.Data["user"] = user
	}
	ts, ok, err := number(m, "timestamp", "timestamp")
	if err != nil {
		return nil, err
	}
	if ok {
		ev.Data["timestamp"] = ts
	}
	if phase == "pre" {
		ev.Gate = true
		return ev, nil
	}
	duration, ok, err := number(m, "duration", "duration")
	if err != nil {
		return nil, err
	}
	if ok {
		ev.Data["duration"] = duration
	}
	if e := m["error"]; e != nil {
		ev.Status = event.StatusFail
		ev.Data["error"] = xoError(e)
		return ev, nil
	}
	ev.Status = event.StatusSuccess
	if res, ok := m["result"]; ok {
		ev.Data["result"] = res
	}
	return ev, nil
}

// xoSubject is what a call acts on: params.id, which XO fills in for most methods, else
// the parameter named after the method's namespace (params.vm for vm.*).
func xoSubject(method string, params map[string]any) string {
	keys := []string{"id"}
	if ns, _, ok := strings.Cut(method, "."); ok {
		keys = append(keys, ns)
	}
	for _, k := range keys {
		if s, ok := params[k].(string); ok && s != "" && len(s) <= maxID {
			return s
		}
	}
	return ""
}

// xoError keeps what an operator needs from the error XO serialises with a failed call
// (its enumerable properties plus code, message, name and stack): the message, code and
// name, bounded, and data and params when they are short. The stack is dropped: it
// describes XO's code, and can be long.
func xoError(v any) map[string]any {
	e, ok := v.(map[string]any)
	if !ok {
		msg, _ := clip.String(event.Stringify(v), xoErrorMessage)
		return map[string]any{"message": msg}
	}
	out := map[string]any{}
	if s, ok := e["message"].(string); ok {
		out["message"], _ = clip.String(s, xoErrorMessage)
	}
	for _, k := range []string{"code", "name"} {
		switch x := e[k].(type) {
		case string:
			out[k], _ = clip.String(x, xoErrorShort)
		case json.Number:
			out[k] = x
		}
	}
	for _, k := range []string{"data", "params"} {
		if x, ok := e[k]; ok && x != nil {
			if b, err := json.Marshal(x); err == nil && len(b) <= xoErrorDetail {
				out[k] = x
			}
		}
	}
	return out
}

// Answer is always 200 with the verdict: XO does not read the answer. It waits for a pre
// only when the hook has waitForResponse, and then runs the method whatever the answer.
func (XO) Answer(ev *event.Event, o Outcome) Response {
	return respond(http.StatusOK, ev, o, abortMessage(ev, o)+"; Xen Orchestra runs the call anyway")
}
