package server

import (
	"errors"
	"net/http"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/ingest"
	"github.com/hookpoint/hookpoint/internal/token"
)

// ingest is POST /v1/ingest/{source}[/{secret}]: a system's own webhook, authenticated
// the way that system can (or by an admin or emit token), turned into an event whose
// hooks run as for POST /v1/events, and answered as that system expects.
func (s *Server) ingest(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("source")
	src, ok := s.opts.Ingest[name]
	if !ok {
		if _, known := ingest.Lookup(name); known {
			return errorf(http.StatusNotFound, "not_configured", "", "the %s source is not configured: add server.ingest.%s to the config file", name, name)
		}
		return notFound("ingest source", name)
	}
	req := &ingest.Request{Header: r.Header, PathSecret: r.PathValue("secret")}
	// A token of the server's own (admin or emit) is accepted in place of the source's
	// secret; the source's check runs before the body is read.
	authed := false
	if _, ok := bearer(r); ok {
		c, err := s.identify(r)
		authed = err == nil && token.Allows(c.scope, http.MethodPost, "/v1/events")
	}
	if !authed {
		if err := src.Source.Authenticate(req, src.Config); err != nil {
			s.log.Warn("ingest refused", "source", name, "reason", err.Error(), "remote", r.RemoteAddr)
			return errorf(http.StatusUnauthorized, "unauthorized", "", "the request is not authenticated for the %s source", name)
		}
	}
	limit := src.Source.MaxBody()
	body, err := readBody(w, r, limit)
	if err != nil {
		return err
	}
	req.Body = body
	ev, err := src.Source.Parse(req)
	if err != nil {
		var fe *ingest.FieldError
		switch {
		case errors.As(err, &fe):
			return badRequest(fe.Field, "%s", fe.Message)
		case errors.Is(err, ingest.ErrTooLarge):
			return errorf(http.StatusRequestEntityTooLarge, "too_large", "", "the body is larger than %d bytes", limit)
		}
		return badRequest("", "the payload is not what %s sends", name)
	}
	ans, err := s.process(r.Context(), ev, "ingest/"+name, "")
	if err != nil {
		return err
	}
	o := ingest.Outcome{Verdict: ingest.Proceed}
	if ans.Verdict == hookpoint.Abort {
		o.Verdict = ingest.Abort
		for _, res := range ans.Results {
			if res.Failed() && res.Policy == "abort" {
				o.AbortedBy = res.HookID
				break
			}
		}
	}
	resp := src.Source.Answer(ev, o)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Hookpoint-Event-Id", ans.EventID)
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
	return nil
}
