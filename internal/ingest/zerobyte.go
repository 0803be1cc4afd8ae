package ingest

import (
	"net/http"

	"github.com/hookpoint/hookpoint/internal/clip"
	"github.com/hookpoint/hookpoint/internal/event"
)

// ZerobyteMaxBody bounds a Zerobyte request: Zerobyte itself refuses to send a webhook
// body larger than 64 KiB.
const ZerobyteMaxBody = 64 << 10

// ZerobyteHeader is the header carrying the shared secret unless server.ingest.zerobyte
// names another; it is the one Zerobyte's documentation uses.
const ZerobyteHeader = "X-Zerobyte-Hook-Secret"

// zerobyteError bounds the error Zerobyte sends with a post (restic's output can be
// long).
const zerobyteError = 4 << 10

// Zerobyte parses Zerobyte's backup webhooks with the default body (the "backup
// context"): {phase, event, jobId, scheduleId, organizationId, sourcePath} for the
// pre-backup webhook, plus status and, when there is something to report, error for the
// post-backup webhook. A custom body configured in Zerobyte is not understood.
type Zerobyte struct{}

var _ Source = Zerobyte{}

// Name returns "zerobyte".
func (Zerobyte) Name() string { return "zerobyte" }

// MaxBody returns ZerobyteMaxBody.
func (Zerobyte) MaxBody() int64 { return ZerobyteMaxBody }

// Authenticate compares the secret header (cfg.Header, default ZerobyteHeader; names
// are case-insensitive, and Zerobyte sends them in lower case) with cfg.Secret.
func (Zerobyte) Authenticate(r *Request, cfg Config) error {
	header := cfg.Header
	if header == "" {
		header = ZerobyteHeader
	}
	if !validHeaderName(header) {
		return unauthorized("server.ingest.zerobyte.header is not a valid header name")
	}
	if cfg.Secret == "" {
		return unauthorized("no secret is configured for zerobyte ingest (server.ingest.zerobyte.secret)")
	}
	v, ok, err := single(r.Header, header)
	if err != nil {
		return err
	}
	if !ok {
		return unauthorized("no %s header: add it to the Zerobyte backup webhook's headers", header)
	}
	if !secretEqual(v, cfg.Secret) {
		return unauthorized("the %s header does not match server.ingest.zerobyte.secret", header)
	}
	return nil
}

// zerobyteStatus maps the status of a post-backup webhook to an event status.
var zerobyteStatus = map[string]string{
	"success":   event.StatusSuccess,
	"warning":   event.StatusWarning,
	"error":     event.StatusFail,
	"cancelled": event.StatusCancelled,
}

// Parse turns a Zerobyte backup webhook into zerobyte.backup.pre (a gate) or
// zerobyte.backup.post (status success, warning, fail for Zerobyte's "error", or
// cancelled). jobId, which Zerobyte makes afresh for each execution, is the run id;
// scheduleId, the backup job, is the subject and the run's job.
func (Zerobyte) Parse(r *Request) (*event.Event, error) {
	if err := checkSize(r.Body, ZerobyteMaxBody, "zerobyte"); err != nil {
		return nil, err
	}
	m, err := decodeObject(r.Body)
	if err != nil {
		return nil, err
	}
	phase, ok, err := str(m, "phase", "phase")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, missing("phase", `Zerobyte's default body has "pre" or "post"; leave the webhook's body empty in Zerobyte`)
	}
	if phase != "pre" && phase != "post" {
		return nil, &FieldError{Field: "phase", Message: quote(phase) + ` is neither "pre" nor "post"`}
	}
	want := "backup." + phase
	evName, ok, err := str(m, "event", "event")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, missing("event", `Zerobyte sends "`+want+`" with phase "`+phase+`"`)
	}
	if evName != want {
		return nil, &FieldError{Field: "event", Message: quote(evName) + ` does not go with phase "` + phase + `" (expected "` + want + `")`}
	}
	jobID, ok, err := id(m, "jobId", "jobId")
	if err != nil {
		return nil, err
	}
	if !ok || jobID == "" {
		return nil, missing("jobId", "Zerobyte sends one per backup execution")
	}
	fields := map[string]string{"job_id": jobID}
	for _, f := range [...]struct{ key, as string }{{"scheduleId", "schedule_id"}, {"organizationId", "organization_id"}, {"sourcePath", "source_path"}} {
		v, _, err := id(m, f.key, f.key)
		if err != nil {
			return nil, err
		}
		fields[f.as] = v
	}

	ev := newEvent("zerobyte."+want, "zerobyte")
	ev.Run = event.Run{ID: jobID, Job: fields["schedule_id"], Kind: "zerobyte"}
	ev.Subject = fields["schedule_id"]
	ev.Data["phase"] = phase
	for k, v := range fields {
		ev.Data[k] = v
	}
	if phase == "pre" {
		ev.Gate = true
		return ev, nil
	}
	status, ok, err := str(m, "status", "status")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, missing("status", "Zerobyte sends it with every post-backup webhook")
	}
	if ev.Status, ok = zerobyteStatus[status]; !ok {
		return nil, &FieldError{Field: "status", Message: quote(status) + " is not " + oneOf("success", "warning", "error", "cancelled")}
	}
	ev.Data["status"] = status
	msg, ok, err := str(m, "error", "error")
	if err != nil {
		return nil, err
	}
	if ok {
		ev.Data["error"], _ = clip.String(msg, zerobyteError)
	}
	return ev, nil
}

// Answer is 409 with a JSON body naming the hook when the hooks abort, 200 otherwise.
// Zerobyte treats any non-2xx answer as a failed webhook: to a pre-backup webhook it
// fails the backup before restic runs; to a post-backup webhook it records the failure
// with the result, and a clean backup becomes a warning.
func (Zerobyte) Answer(ev *event.Event, o Outcome) Response {
	if o.Verdict == Abort {
		return respond(http.StatusConflict, ev, o, abortMessage(ev, o))
	}
	return respond(http.StatusOK, ev, o, "")
}
