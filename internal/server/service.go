package server

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"time"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/render"
	"github.com/hookpoint/hookpoint/internal/store"
	"github.com/hookpoint/hookpoint/internal/web"
)

// uiService is the web UI's view of the server: the API handlers' own functions
// (saveHook, setHookEnabled, retry, recoverFailed, ...) and the store, without HTTP.
type uiService struct{ s *Server }

var _ web.Service = uiService{}

// uiError turns the API's errors into the UI's: validation issues each with its field,
// refusals with their message and status, and not found.
func uiError(err error) error {
	if err == nil {
		return nil
	}
	var ae *apiError
	if errors.As(err, &ae) {
		if ae.Status == http.StatusNotFound {
			return errors.Join(web.ErrNotFound, err)
		}
		e := &web.Error{Status: ae.Status, Message: ae.Message}
		for _, is := range ae.issues {
			e.Fields = append(e.Fields, web.FieldError{Field: fieldOf(is), Message: is.Message})
		}
		if len(e.Fields) == 0 && ae.Field != "" {
			e.Fields = []web.FieldError{{Field: ae.Field, Message: ae.Message}}
		}
		if len(ae.issues) > 0 {
			e.Message = ""
		}
		return e
	}
	if errors.Is(err, store.ErrNotFound) {
		return errors.Join(web.ErrNotFound, err)
	}
	return err
}

func (u uiService) uiHook(e *entry) *web.Hook {
	return &web.Hook{
		ID: e.base.ID, Def: maskedHook(e.base), ManagedBy: e.managedBy, File: e.file, Version: e.version,
		SecretsSet: e.secretNames(), Enabled: e.hook.IsEnabled(), DisabledReason: e.state.DisabledReason,
		FailingSince: e.state.FailingSince, LastSuccessAt: e.state.LastSuccessAt, LastOutcome: e.state.LastOutcome,
		CreatedAt: e.created, UpdatedAt: e.updated,
	}
}

func (u uiService) Authenticate(ctx context.Context, tok string) (web.Principal, error) {
	c, err := u.s.identifyToken(ctx, tok)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
		return web.Principal{}, web.ErrBadToken
	}
	if err != nil {
		return web.Principal{}, err
	}
	return web.Principal{TokenID: c.tokenID, Scope: c.scope}, nil
}

func (u uiService) TokenActive(ctx context.Context, id string) (bool, error) {
	ts, err := u.s.store.ListTokens(ctx)
	if err != nil {
		return false, err
	}
	for _, t := range ts {
		if t.ID == id {
			return t.RevokedAt == nil, nil
		}
	}
	return false, nil
}

func (u uiService) Hooks(context.Context) ([]*web.Hook, error) {
	all := u.s.hooks.all()
	out := make([]*web.Hook, len(all))
	for i, e := range all {
		out[i] = u.uiHook(e)
	}
	return out, nil
}

func (u uiService) Hook(_ context.Context, id string) (*web.Hook, error) {
	e, ok := u.s.hooks.get(id)
	if !ok {
		return nil, web.ErrNotFound
	}
	return u.uiHook(e), nil
}

// request makes the API's hook request of a UI's input: masked values sent back
// unchanged are the current ones again.
func (u uiService) request(id string, in web.HookInput) (*hookRequest, error) {
	var def map[string]json.RawMessage
	if err := json.Unmarshal(in.Def, &def); err != nil || def == nil {
		return nil, web.Invalid(web.FieldError{Message: "the hook is not a JSON object"})
	}
	hr := &hookRequest{def: def, secrets: maps.Clone(in.Secrets)}
	if hr.secrets == nil {
		hr.secrets = map[string]string{}
	}
	if err := checkSecrets(hr.secrets); err != nil {
		return nil, uiError(err)
	}
	if cur, ok := u.s.hooks.get(id); ok && id != "" && cur.managedBy == managedAPI {
		unmaskDef(def, cur.base)
	}
	return hr, nil
}

func (u uiService) SaveHook(ctx context.Context, id string, in web.HookInput) (*web.Hook, error) {
	hr, err := u.request(id, in)
	if err != nil {
		return nil, err
	}
	u.keepIfSame(id, hr)
	e, err := u.s.saveHook(ctx, id, hr)
	if err != nil {
		return nil, uiError(err)
	}
	return u.uiHook(e), nil
}

// keepIfSame puts the stored definition back in hr when the form's is the same hook
// written differently (a form writes 1m for 1m0s, lists for single values), so that
// saving an unchanged form does not make a new version.
func (u uiService) keepIfSame(id string, hr *hookRequest) {
	cur, ok := u.s.hooks.get(id)
	if !ok || id == "" || cur.managedBy != managedAPI {
		return
	}
	probe := &hookRequest{def: maps.Clone(hr.def), secrets: maps.Clone(hr.secrets)}
	probe.def["id"], _ = json.Marshal(id)
	for name, v := range cur.secrets {
		if _, ok := probe.secrets[name]; !ok {
			probe.secrets[name] = v
		}
	}
	def, aerr := probe.prepare()
	if aerr != nil {
		return
	}
	h, issues := u.s.parseHook(def, probe.secrets)
	if len(issues) > 0 {
		return
	}
	a, err1 := json.Marshal(h)
	b, err2 := json.Marshal(cur.base)
	if err1 != nil || err2 != nil || string(a) != string(b) {
		return
	}
	var stored map[string]json.RawMessage
	if json.Unmarshal(cur.def, &stored) == nil {
		hr.def = stored
	}
}

func (u uiService) DeleteHook(ctx context.Context, id string) error {
	return uiError(u.s.removeHook(ctx, id))
}

func (u uiService) SetHookEnabled(ctx context.Context, id string, on bool) (*web.Hook, error) {
	e, err := u.s.setHookEnabled(ctx, id, on, "disabled in the web UI")
	if err != nil {
		return nil, uiError(err)
	}
	return u.uiHook(e), nil
}

func sampleRequest(ev web.SampleEvent) testRequest {
	return testRequest{Type: ev.Type, Status: ev.Status, Subject: ev.Subject, Data: ev.Data}
}

func (u uiService) PreviewHook(ctx context.Context, id string, in *web.HookInput, sample web.SampleEvent) (*render.Preview, error) {
	var (
		h       *config.Hook
		secrets map[string]string
	)
	cur, exists := u.s.hooks.get(id)
	switch {
	case in == nil:
		if !exists {
			return nil, web.ErrNotFound
		}
		h, secrets = cur.base, cur.secrets
	default:
		hr, err := u.request(id, *in)
		if err != nil {
			return nil, err
		}
		switch {
		case id != "":
			hr.def["id"], _ = json.Marshal(id)
		case len(hr.def["id"]) == 0 || string(hr.def["id"]) == `""`:
			hr.def["id"] = json.RawMessage(`"new-hook"`) // not chosen yet
		}
		if exists && cur.managedBy == managedAPI {
			for name, v := range cur.secrets { // as saveHook keeps them
				if _, ok := hr.secrets[name]; !ok {
					hr.secrets[name] = v
				}
			}
		}
		def, aerr := hr.prepare()
		if aerr != nil {
			return nil, uiError(aerr)
		}
		parsed, issues := u.s.parseHook(def, hr.secrets)
		if len(issues) > 0 {
			return nil, uiError(issuesError(issues))
		}
		h, secrets = parsed, hr.secrets
	}
	ev, err := testEvent(h, sampleRequest(sample))
	if err != nil {
		e := uiError(err).(*web.Error)
		for i := range e.Fields {
			e.Fields[i].Field = "sample." + e.Fields[i].Field
		}
		return nil, e
	}
	opts := render.Options{Environ: u.s.opts.Environ}
	if secrets != nil {
		opts.LookupSecret = func(name string) (string, bool) { v, ok := secrets[name]; return v, ok }
	}
	r, err := render.Hook(h, ev, event.NewID("msg"), opts)
	if err != nil {
		// The renderer's errors are masked.
		return nil, &web.Error{Status: http.StatusUnprocessableEntity, Message: "the hook cannot be rendered for this event: " + err.Error()}
	}
	p := r.Preview(u.s.now())
	return &p, nil
}

func (u uiService) TestHook(ctx context.Context, id string, sample web.SampleEvent) (*web.TestResult, error) {
	e, ok := u.s.hooks.get(id)
	if !ok {
		return nil, web.ErrNotFound
	}
	ev, err := testEvent(e.base, sampleRequest(sample))
	if err != nil {
		return nil, uiError(err)
	}
	h := *e.base
	on := true
	h.Enabled = &on
	a := u.s.engine.Attempt(ctx, &hookpoint.Delivery{Hook: &h, Event: ev, ID: event.NewID("msg")}, 1)
	return &web.TestResult{Event: ev, Request: a.Request, Result: a.Result}, nil
}

func (u uiService) Deliveries(ctx context.Context, f store.DeliveryFilter) ([]*store.Delivery, error) {
	ds, err := u.s.store.ListDeliveries(ctx, f)
	if errors.Is(err, store.ErrNotFound) && f.Cursor != "" {
		return nil, web.Errorf(http.StatusBadRequest, "the page asked for starts after a delivery that no longer exists; start from the newest")
	}
	return ds, err
}

func (u uiService) Delivery(ctx context.Context, id string) (*store.Delivery, []*store.Attempt, error) {
	d, err := u.s.store.GetDelivery(ctx, id)
	if err != nil {
		return nil, nil, uiError(err)
	}
	as, err := u.s.store.Attempts(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return d, as, nil
}

func (u uiService) Event(ctx context.Context, id string) (*store.Event, error) {
	ev, err := u.s.store.GetEvent(ctx, id)
	return ev, uiError(err)
}

func (u uiService) RetryDelivery(ctx context.Context, id string) error {
	_, err := u.s.retry(ctx, id)
	return uiError(err)
}

// maxRecoverCount bounds what CountFailed reads; more is reported as this many.
const maxRecoverCount = 100000

func (u uiService) CountFailed(ctx context.Context, hookID string, since time.Time) (int, error) {
	if _, ok := u.s.hooks.get(hookID); !ok {
		return 0, web.ErrNotFound
	}
	ds, err := u.s.store.FailedDeliveries(ctx, hookID, u.s.recoverSince(hookID, since), maxRecoverCount)
	return len(ds), err
}

func (u uiService) RecoverHook(ctx context.Context, hookID string, since time.Time) (int, error) {
	if _, ok := u.s.hooks.get(hookID); !ok {
		return 0, web.ErrNotFound
	}
	n, err := u.s.recoverFailed(ctx, hookID, since)
	return n, uiError(err)
}

func (u uiService) Counts(ctx context.Context) (*store.Counts, error) { return u.s.store.Counts(ctx) }

func (u uiService) DeliveryActivity(ctx context.Context, since time.Time, step time.Duration, n int) ([]store.ActivityBucket, error) {
	return u.s.store.DeliveryActivity(ctx, since, step, n)
}

func (u uiService) LatestEvents(ctx context.Context, perSource, maxSources int) ([]*store.Event, error) {
	return u.s.store.LatestEvents(ctx, perSource, maxSources)
}
