package ingest

import (
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/hookpoint/hookpoint/internal/event"
)

// VirtFusionMaxBody bounds a VirtFusion request: the data of a server event holds the
// whole server object.
const VirtFusionMaxBody = 1 << 20

// VirtFusion parses VirtFusion webhooks: the envelope {event, created, hookId,
// hookEventId, eventStatus, controlDomain, controlName, controlSupportLink, data} and the
// X-VirtFusion-* headers that repeat it.
type VirtFusion struct{}

var _ Source = VirtFusion{}

// Name returns "virtfusion".
func (VirtFusion) Name() string { return "virtfusion" }

// MaxBody returns VirtFusionMaxBody.
func (VirtFusion) MaxBody() int64 { return VirtFusionMaxBody }

// Authenticate checks the header VirtFusion sends when the webhook has a token:
// "Authorization: Bearer base64(token)". The credential is decoded (standard base64,
// padded, as VirtFusion encodes it) and compared with cfg.Token; a token sent without
// the base64 encoding is refused.
func (VirtFusion) Authenticate(r *Request, cfg Config) error {
	if cfg.Token == "" {
		return unauthorized("no token is configured for virtfusion ingest (server.ingest.virtfusion.token)")
	}
	v, ok, err := single(r.Header, "Authorization")
	if err != nil {
		return err
	}
	if !ok {
		return unauthorized("no Authorization header: give the VirtFusion webhook the token server.ingest.virtfusion.token holds")
	}
	scheme, cred, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return unauthorized("the Authorization header is not a Bearer credential")
	}
	cred = strings.TrimSpace(cred)
	if cred == "" {
		return unauthorized("the Bearer credential is empty")
	}
	token, err := base64.StdEncoding.Strict().DecodeString(cred)
	if err != nil {
		return unauthorized("the bearer credential is not base64: VirtFusion sends Bearer base64(token)")
	}
	if !secretEqual(string(token), cfg.Token) {
		return unauthorized("the bearer token does not match server.ingest.virtfusion.token")
	}
	return nil
}

// The X-VirtFusion-* headers, spelt as VirtFusion documents them.
const (
	vfHeaderHook        = "X-VirtFusion-Hook"
	vfHeaderCreated     = "X-VirtFusion-Created"
	vfHeaderHookEvent   = "X-VirtFusion-Hook-Event"
	vfHeaderEvent       = "X-VirtFusion-Event"
	vfHeaderEventStatus = "X-VirtFusion-Event-Status"
)

// Parse turns a VirtFusion webhook into the event virtfusion.<event>. The event name,
// status, hook id and hook event id are read from the X-VirtFusion-* headers and the
// body; either may be missing, and when both are there they must agree. eventStatus
// success becomes status success and fail becomes fail; any other value leaves the
// status empty (data.event_status keeps it). The hook event id is the run id, the server
// (its uuid, else its id) the subject.
func (VirtFusion) Parse(r *Request) (*event.Event, error) {
	if err := checkSize(r.Body, VirtFusionMaxBody, "virtfusion"); err != nil {
		return nil, err
	}
	m, err := decodeObject(r.Body)
	if err != nil {
		return nil, err
	}
	evName, ok, err := vfField(r.Header, vfHeaderEvent, m, "event", false)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, missing("event", "VirtFusion names the event in the "+vfHeaderEvent+" header and the body's event field, and neither is there")
	}
	if err := checkName(evName, "event"); err != nil {
		return nil, err
	}
	status, _, err := vfField(r.Header, vfHeaderEventStatus, m, "eventStatus", false)
	if err != nil {
		return nil, err
	}
	hookID, _, err := vfField(r.Header, vfHeaderHook, m, "hookId", true)
	if err != nil {
		return nil, err
	}
	hookEventID, _, err := vfField(r.Header, vfHeaderHookEvent, m, "hookEventId", true)
	if err != nil {
		return nil, err
	}
	created, ok, err := id(m, "created", "created")
	if err != nil {
		return nil, err
	}
	if !ok {
		created = r.Header.Get(vfHeaderCreated)
	}
	data, err := vfData(m)
	if err != nil {
		return nil, err
	}

	ev := newEvent("virtfusion."+evName, "virtfusion")
	ev.Run = event.Run{ID: hookEventID, Kind: "virtfusion"}
	switch strings.ToLower(status) {
	case "success":
		ev.Status = event.StatusSuccess
	case "fail":
		ev.Status = event.StatusFail
	}
	ev.Subject = vfSubject(data)
	for k, v := range data {
		ev.Data[k] = v
	}
	envelope := map[string]string{
		"event":         evName,
		"event_status":  status,
		"hook_id":       hookID,
		"hook_event_id": hookEventID,
		"created":       created,
	}
	for _, f := range [...]struct{ key, as string }{{"controlDomain", "control_domain"}, {"controlName", "control_name"}, {"controlSupportLink", "control_support_link"}} {
		s, _, err := str(m, f.key, f.key)
		if err != nil {
			return nil, err
		}
		envelope[f.as] = s
	}
	for k, v := range envelope {
		ev.Data[k] = v
	}
	return ev, nil
}

// vfField reads one envelope field from its header and the body; when both carry it they
// must agree. In the body, an id (numeric) may be text or a number, a name only text.
func vfField(h http.Header, header string, m map[string]any, key string, numeric bool) (string, bool, error) {
	hv, inHeader := "", false
	switch vs := h.Values(header); len(vs) {
	case 0:
	case 1:
		hv, inHeader = vs[0], true
	default:
		return "", false, &FieldError{Field: header, Message: "sent more than once"}
	}
	if len(hv) > maxID {
		return "", false, &FieldError{Field: header, Message: "too long"}
	}
	read := id
	if !numeric {
		read = str
	}
	bv, inBody, err := read(m, key, key)
	if err != nil {
		return "", false, err
	}
	switch {
	case inHeader && inBody && hv != bv:
		return "", false, &FieldError{Field: header, Message: "says " + quote(hv) + " but the body's " + key + " is " + quote(bv)}
	case inHeader:
		return hv, true, nil
	}
	return bv, inBody, nil
}

// vfData returns the body's data object. VirtFusion is written in PHP, whose JSON
// encoder writes an empty object as [], so an empty list is taken as an empty object.
func vfData(m map[string]any) (map[string]any, error) {
	switch v := m["data"].(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return v, nil
	case []any:
		if len(v) == 0 {
			return map[string]any{}, nil
		}
	}
	return nil, wrongType("data", "an object", m["data"])
}

// vfSubject is the server an event is about: data.server.uuid, else data.server.id.
// VirtFusion sends false for the server when it has none.
func vfSubject(data map[string]any) string {
	server, ok := data["server"].(map[string]any)
	if !ok {
		return ""
	}
	for _, k := range []string{"uuid", "id"} {
		if s, ok, err := id(server, k, k); err == nil && ok && s != "" {
			return s
		}
	}
	return ""
}

// Answer is always 200 with the verdict: VirtFusion events report what already
// happened, so none is a gate and nothing in VirtFusion waits for the verdict.
func (VirtFusion) Answer(ev *event.Event, o Outcome) Response {
	return respond(http.StatusOK, ev, o, abortMessage(ev, o))
}
