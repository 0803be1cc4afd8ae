package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/queue"
	"github.com/hookpoint/hookpoint/internal/store"
	"github.com/hookpoint/hookpoint/internal/template"
)

var (
	idRE        = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)
	envNameRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
	secretKeyRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
)

// maxSecret bounds one stored secret.
const maxSecret = 16 << 10

// HookView is a hook as the API shows it: its definition (secrets as references to
// stored secrets, never their values), where it is managed, and its state.
type HookView struct {
	Def       json.RawMessage `json:"-"`
	ManagedBy string          `json:"managed_by"`
	File      string          `json:"file,omitempty"`
	Version   int             `json:"version"`
	// SecretsSet names the stored secrets; their values are never shown.
	SecretsSet     []string   `json:"secrets_set"`
	Enabled        bool       `json:"enabled"`
	DisabledReason string     `json:"disabled_reason,omitempty"`
	FailingSince   *time.Time `json:"failing_since,omitempty"`
	LastSuccessAt  *time.Time `json:"last_success_at,omitempty"`
	LastOutcome    string     `json:"last_outcome,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// MarshalJSON writes the definition's fields and the view's side by side.
func (v HookView) MarshalJSON() ([]byte, error) {
	type plain HookView
	extra, err := json.Marshal(plain(v))
	if err != nil {
		return nil, err
	}
	def := bytes.TrimSpace(v.Def)
	if len(def) < 2 || def[0] != '{' {
		return extra, nil
	}
	inner := bytes.TrimSpace(def[1 : len(def)-1])
	if len(inner) == 0 {
		return extra, nil
	}
	out := make([]byte, 0, len(def)+len(extra))
	out = append(out, '{')
	out = append(out, inner...)
	out = append(out, ',')
	out = append(out, extra[1:]...)
	return out, nil
}

func (s *Server) view(e *entry) HookView {
	def := e.def
	if e.managedBy == managedFile {
		// A config file may hold literal credentials: they are never shown back.
		def, _ = json.Marshal(maskedHook(e.base))
	}
	return HookView{
		Def: def, ManagedBy: e.managedBy, File: e.file, Version: e.version, SecretsSet: e.secretNames(),
		Enabled: e.hook.IsEnabled(), DisabledReason: e.state.DisabledReason, FailingSince: e.state.FailingSince,
		LastSuccessAt: e.state.LastSuccessAt, LastOutcome: e.state.LastOutcome, CreatedAt: e.created, UpdatedAt: e.updated,
	}
}

func (s *Server) listHooks(w http.ResponseWriter, r *http.Request) error {
	all := s.hooks.all()
	views := make([]HookView, 0, len(all))
	for _, e := range all {
		views = append(views, s.view(e))
	}
	writeJSON(w, http.StatusOK, map[string]any{"hooks": views})
	return nil
}

func (s *Server) getHook(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	e, ok := s.hooks.get(id)
	if !ok {
		return notFound("hook", id)
	}
	writeJSON(w, http.StatusOK, s.view(e))
	return nil
}

// hookRequest is a hook as the API takes it: the config file's fields, and secrets to
// store (write-only). The read-only fields of HookView may be sent back and are ignored.
type hookRequest struct {
	def     map[string]json.RawMessage
	secrets map[string]string
}

var readOnlyFields = []string{"managed_by", "file", "version", "secrets_set", "disabled_reason", "failing_since",
	"last_success_at", "last_outcome", "created_at", "updated_at"}

func decodeHookRequest(w http.ResponseWriter, r *http.Request) (*hookRequest, error) {
	var def map[string]json.RawMessage
	if err := decodeJSON(w, r, maxHookBody, &def); err != nil {
		return nil, err
	}
	hr := &hookRequest{def: def, secrets: map[string]string{}}
	if raw, ok := def["secrets"]; ok {
		delete(def, "secrets")
		if err := json.Unmarshal(raw, &hr.secrets); err != nil {
			return nil, badRequest("secrets", "secrets must be an object of names and string values")
		}
		if err := checkSecrets(hr.secrets); err != nil {
			return nil, err
		}
	}
	for _, f := range readOnlyFields {
		delete(def, f)
	}
	return hr, nil
}

// checkSecrets checks the names and sizes of secrets to store.
func checkSecrets(secrets map[string]string) *apiError {
	for name, v := range secrets {
		if !secretKeyRE.MatchString(name) {
			return badRequest("secrets", "%q is not a secret name: use up to 64 letters, digits, '.', '_' and '-'", clipText(name, 70))
		}
		if v == "" || len(v) > maxSecret {
			return badRequest("secrets."+name, "a secret is 1 to %d bytes", maxSecret)
		}
	}
	return nil
}

// literalSecretFields are where a value written through the API is a secret to store
// (with the config file these must read env or file).
var literalSecretFields = []string{"auth.password", "auth.token"}

// prepare moves literal secrets out of the definition into the secrets to store,
// replacing them by references, and returns the definition as stored.
func (hr *hookRequest) prepare() ([]byte, *apiError) {
	httpRaw, ok := hr.def["http"]
	if ok {
		var h map[string]json.RawMessage
		if err := json.Unmarshal(httpRaw, &h); err == nil {
			if authRaw, ok := h["auth"]; ok {
				var auth map[string]json.RawMessage
				if err := json.Unmarshal(authRaw, &auth); err == nil {
					for _, f := range literalSecretFields {
						key := strings.TrimPrefix(f, "auth.")
						if ref, moved := hr.moveLiteral(auth[key], f); moved {
							auth[key] = ref
						}
					}
					h["auth"], _ = json.Marshal(auth)
				}
			}
			if signRaw, ok := h["sign"]; ok {
				var sign map[string]json.RawMessage
				if err := json.Unmarshal(signRaw, &sign); err == nil {
					var list []json.RawMessage
					if err := json.Unmarshal(sign["secret"], &list); err != nil {
						list = []json.RawMessage{sign["secret"]}
					}
					for i := range list {
						if ref, moved := hr.moveLiteral(list[i], fmt.Sprintf("sign.secret.%d", i)); moved {
							list[i] = ref
						}
					}
					sign["secret"], _ = json.Marshal(list)
					h["sign"], _ = json.Marshal(sign)
				}
			}
			hr.def["http"], _ = json.Marshal(h)
		}
	}
	def, err := json.Marshal(hr.def)
	if err != nil {
		return nil, badRequest("", "the hook cannot be encoded")
	}
	return def, nil
}

// moveLiteral stores a literal string value as the secret name and returns a reference
// to it.
func (hr *hookRequest) moveLiteral(raw json.RawMessage, name string) (json.RawMessage, bool) {
	var v string
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil || v == "" || strings.Contains(v, "{{") {
		return nil, false
	}
	hr.secrets[name] = v
	ref, _ := json.Marshal(`{{ secret "` + name + `" }}`)
	return ref, true
}

// parseHook validates a definition exactly as a config file's hook is validated, then
// applies the API's own rules: secrets come from the hook's stored secrets (env and file
// would read the server's environment and files), and exec hooks only where the config
// allows them.
func (s *Server) parseHook(def []byte, secrets map[string]string) (*config.Hook, []config.Issue) {
	doc := append(append([]byte(`{"hooks":[`), def...), ']', '}')
	cfg, issues := config.InspectData("hook.json", doc)
	var errs []config.Issue
	for _, is := range issues {
		if !is.Warning {
			errs = append(errs, is)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if cfg == nil || len(cfg.Hooks) != 1 || cfg.Hooks[0] == nil {
		return nil, []config.Issue{{Message: "the body must be one hook object"}}
	}
	h := cfg.Hooks[0]
	if h.Exec != nil && !s.serverConfig().APIExec {
		errs = append(errs, config.Issue{Field: "hooks[0].exec", Message: "hooks managed through the API cannot run commands on the server unless server.api_exec is set in its config file; use an http action"})
	}
	config.EachTemplate(h, func(field string, t *template.Template) {
		for _, fn := range []string{"env", "file"} {
			if t.Uses(fn) {
				errs = append(errs, config.Issue{Field: "hooks[0]." + field, Message: fmt.Sprintf("%s reads the server's own environment and files; hooks managed through the API read their secrets with secret \"NAME\" (set in secrets)", fn)})
			}
		}
		constant := 0
		for _, ref := range t.Refs() {
			if ref.Func != "secret" {
				continue
			}
			constant++
			if _, ok := secrets[ref.Arg]; !ok {
				errs = append(errs, config.Issue{Field: "hooks[0]." + field, Message: fmt.Sprintf("secret %q is not set: send it in secrets", ref.Arg)})
			}
		}
		if t.Uses("secret") && constant == 0 {
			errs = append(errs, config.Issue{Field: "hooks[0]." + field, Message: "name a secret with a constant: {{ secret \"NAME\" }}"})
		}
	})
	if h.HTTP != nil && h.HTTP.TLS != nil && (h.HTTP.TLS.CAFile != "" || h.HTTP.TLS.CertFile != "" || h.HTTP.TLS.KeyFile != "") {
		errs = append(errs, config.Issue{Field: "hooks[0].http.tls", Message: "ca_file, cert_file and key_file read the server's files; they are for hooks of the config file"})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return h, nil
}

// issuesError turns validation issues into the API's 400: the first as the error, all of
// them listed.
func issuesError(issues []config.Issue) *apiError {
	sort.SliceStable(issues, func(i, j int) bool { return fieldOf(issues[i]) < fieldOf(issues[j]) })
	first := issues[0]
	msg := first.Message
	if len(issues) > 1 {
		var rest []string
		for _, is := range issues[1:] {
			rest = append(rest, fieldOrBody(fieldOf(is))+": "+is.Message)
		}
		msg += fmt.Sprintf(" (and %d more: %s)", len(rest), strings.Join(rest, "; "))
	}
	return &apiError{Status: http.StatusBadRequest, Code: "invalid_hook", Field: fieldOf(first), Message: msg, issues: issues}
}

func fieldOrBody(f string) string {
	if f == "" {
		return "hook"
	}
	return f
}

func (s *Server) createHook(w http.ResponseWriter, r *http.Request) error {
	hr, err := decodeHookRequest(w, r)
	if err != nil {
		return err
	}
	e, err := s.saveHook(r.Context(), "", hr)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/hooks/"+e.hook.ID)
	writeJSON(w, http.StatusCreated, s.view(e))
	return nil
}

func (s *Server) putHook(w http.ResponseWriter, r *http.Request) error {
	hr, err := decodeHookRequest(w, r)
	if err != nil {
		return err
	}
	e, err := s.saveHook(r.Context(), r.PathValue("id"), hr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.view(e))
	return nil
}

// saveHook creates (id "") or replaces a hook managed through the API.
func (s *Server) saveHook(ctx context.Context, id string, hr *hookRequest) (*entry, error) {
	if id != "" {
		var bodyID string
		if raw, ok := hr.def["id"]; ok && json.Unmarshal(raw, &bodyID) == nil && bodyID != id {
			return nil, badRequest("id", "the body's id %q is not the path's %q; a hook's id cannot change", clipText(bodyID, 80), clipText(id, 80))
		}
		hr.def["id"], _ = json.Marshal(id)
		cur, ok := s.hooks.get(id)
		if !ok {
			return nil, notFound("hook", id)
		}
		if cur.managedBy == managedFile {
			return nil, errorf(http.StatusConflict, "managed_by_file", "", "hook %q is managed by the config file %s; change it there", id, cur.file)
		}
		// Secrets not sent again are kept.
		for name, v := range cur.secrets {
			if _, ok := hr.secrets[name]; !ok {
				hr.secrets[name] = v
			}
		}
	}
	def, aerr := hr.prepare()
	if aerr != nil {
		return nil, aerr
	}
	h, issues := s.parseHook(def, hr.secrets)
	if len(issues) > 0 {
		return nil, issuesError(issues)
	}
	// Only the secrets the hook refers to are kept.
	used := map[string]bool{}
	config.EachTemplate(h, func(_ string, t *template.Template) {
		for _, ref := range t.Refs() {
			if ref.Func == "secret" {
				used[ref.Arg] = true
			}
		}
	})
	var sealed []store.Secret
	kept := map[string]string{}
	for name, v := range hr.secrets {
		if !used[name] {
			continue
		}
		kept[name] = v
		sealed = append(sealed, store.Secret{HookID: h.ID, Name: name, Ciphertext: s.box.Seal([]byte(v), secretAD(h.ID, name))})
	}
	hs := s.hooks
	hs.mu.Lock()
	defer hs.mu.Unlock()
	cur, exists := hs.current.Load().byID[h.ID]
	if id == "" && exists {
		return nil, errorf(http.StatusConflict, "exists", "id", "a hook with id %q exists already; PUT /v1/hooks/%s replaces it", h.ID, h.ID)
	}
	now := s.now()
	row := &store.Hook{ID: h.ID, Def: def, ManagedBy: managedAPI, Enabled: true, CreatedAt: now, UpdatedAt: now}
	if exists {
		row.CreatedAt = cur.created
		st := cur.state
		row.Enabled, row.DisabledReason, row.FailingSince, row.LastSuccessAt, row.LastOutcome =
			st.Enabled, st.DisabledReason, st.FailingSince, st.LastSuccessAt, st.LastOutcome
	}
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.PutHook(ctx, row); err != nil {
			return err
		}
		return tx.PutSecrets(ctx, h.ID, sealed)
	})
	if err != nil {
		return nil, errors.Join(errUnavailable, err)
	}
	st := stateOf(row)
	e := &entry{base: h, hook: withState(h, st), version: row.Version, managedBy: managedAPI, secrets: kept, state: st,
		created: row.CreatedAt, updated: row.UpdatedAt, def: def}
	next := cloneMap(hs.current.Load().byID)
	next[h.ID] = e
	hs.publish(next)
	if exists {
		s.queue.HookChanged(h.ID)
	}
	return e, nil
}

func (s *Server) deleteHook(w http.ResponseWriter, r *http.Request) error {
	if err := s.removeHook(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// removeHook deletes a hook made through the API with its secrets.
func (s *Server) removeHook(ctx context.Context, id string) error {
	hs := s.hooks
	hs.mu.Lock()
	defer hs.mu.Unlock()
	cur, ok := hs.current.Load().byID[id]
	if !ok {
		return notFound("hook", id)
	}
	if cur.managedBy == managedFile {
		return errorf(http.StatusConflict, "managed_by_file", "", "hook %q is managed by the config file %s; remove it there", id, cur.file)
	}
	if err := s.store.DeleteHook(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return errors.Join(errUnavailable, err)
	}
	// Its pending deliveries end now, not when their next attempt comes.
	pending, err := s.store.ListDeliveries(ctx, store.DeliveryFilter{HookID: id, Status: []string{store.DeliveryQueued, store.DeliveryRetrying}})
	if err != nil {
		return errors.Join(errUnavailable, err)
	}
	now := s.now()
	for _, d := range pending {
		if err := s.store.UpdateDelivery(ctx, d.ID, store.DeliveryUpdate{Status: store.DeliveryCancelled, Attempts: d.Attempts,
			Snoozes: d.Snoozes, LastError: "not delivered: the hook was deleted", LastStatus: d.LastStatus, UpdatedAt: now}); err != nil {
			return errors.Join(errUnavailable, err)
		}
	}
	next := cloneMap(hs.current.Load().byID)
	delete(next, id)
	hs.publish(next)
	s.queue.HookChanged(id)
	return nil
}

// setEnabled enables (clearing an automatic disable) or disables a hook, file hooks too.
func (s *Server) setEnabled(w http.ResponseWriter, r *http.Request, on bool) error {
	e, err := s.setHookEnabled(r.Context(), r.PathValue("id"), on, "disabled through the API")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.view(e))
	return nil
}

// setHookEnabled enables or disables a hook; reason says who disabled it.
func (s *Server) setHookEnabled(ctx context.Context, id string, on bool, reason string) (*entry, error) {
	e, ok := s.hooks.get(id)
	if !ok {
		return nil, notFound("hook", id)
	}
	st := e.state
	st.Enabled = on
	st.DisabledReason = ""
	if !on {
		st.DisabledReason = reason
	} else if st.FailingSince != nil {
		// Still failing until a success says otherwise, but the auto-disable span starts
		// again now.
		now := s.now().UTC()
		st.FailingSince = &now
	}
	if err := s.store.SetHookState(ctx, id, st); err != nil {
		return nil, errors.Join(errUnavailable, err)
	}
	s.hooks.updateState(id, st)
	if !on {
		s.queue.HookChanged(id)
	}
	e, _ = s.hooks.get(id)
	return e, nil
}

func (s *Server) enableHook(w http.ResponseWriter, r *http.Request) error {
	return s.setEnabled(w, r, true)
}
func (s *Server) disableHook(w http.ResponseWriter, r *http.Request) error {
	return s.setEnabled(w, r, false)
}

// testRequest is the body of POST /v1/hooks/{id}/test: a sample event for the hook.
type testRequest struct {
	Type    string         `json:"type"`
	Status  string         `json:"status"`
	Subject string         `json:"subject"`
	Data    map[string]any `json:"data"`
}

// testHook sends one attempt of the hook (even when disabled) for a sample event and
// answers with what was sent (masked) and what came back; nothing is stored.
func (s *Server) testHook(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	e, ok := s.hooks.get(id)
	if !ok {
		return notFound("hook", id)
	}
	req := testRequest{}
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, maxEventBody, &req); err != nil {
			return err
		}
	}
	ev, err := testEvent(e.base, req)
	if err != nil {
		return err
	}
	h := *e.base
	on := true
	h.Enabled = &on
	a := s.engine.Attempt(r.Context(), &hookpoint.Delivery{Hook: &h, Event: ev, ID: event.NewID("msg")}, 1)
	writeJSON(w, http.StatusOK, map[string]any{"event": ev, "request": a.Request, "result": a.Result})
	return nil
}

// testEvent makes the sample event of a test (or a preview) of h.
func testEvent(h *config.Hook, req testRequest) (*event.Event, error) {
	if req.Type == "" {
		req.Type = sampleType(h)
	}
	ev := event.New(req.Type)
	ev.Status, ev.Subject, ev.Source = req.Status, req.Subject, "hookpoint.test"
	if req.Data != nil {
		ev.Data = req.Data
	}
	ev.Gate = event.GateByName(ev.Type)
	if err := ev.Validate(); err != nil {
		return nil, badRequest("type", "%s", err.Error())
	}
	return ev, nil
}

// sampleType is an event type the hook's first pattern matches.
func sampleType(h *config.Hook) string {
	if len(h.On) == 0 {
		return "hookpoint.test"
	}
	t := strings.ReplaceAll(h.On[0], "*", "test")
	return strings.Trim(t, ".")
}

// recoverRequest is the body of POST /v1/hooks/{id}/recover.
type recoverRequest struct {
	Since time.Time `json:"since"`
}

// recoverHook queues again every failed delivery of the hook since a time: what an
// operator does after a receiver's outage.
func (s *Server) recoverHook(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, ok := s.hooks.get(id); !ok {
		return notFound("hook", id)
	}
	var req recoverRequest
	if err := decodeJSON(w, r, maxSmallBody, &req); err != nil {
		return err
	}
	if req.Since.IsZero() {
		return badRequest("since", "since is required: the time (RFC 3339) from which failed deliveries are sent again")
	}
	req.Since = s.recoverSince(id, req.Since)
	total, err := s.recoverFailed(r.Context(), id, req.Since)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"hook_id": id, "since": req.Since, "requeued": total})
	return nil
}

// recoverSince is the time from which a recover of a hook takes failed deliveries:
// since, or the hook's creation when later (the deliveries of an earlier hook of the same
// id, deleted and made again, are not this hook's).
func (s *Server) recoverSince(id string, since time.Time) time.Time {
	if e, ok := s.hooks.get(id); ok && e.created.After(since) {
		return e.created
	}
	return since
}

// recoverFailed queues again the failed deliveries of a hook created since, in batches.
func (s *Server) recoverFailed(ctx context.Context, id string, since time.Time) (int, error) {
	since = s.recoverSince(id, since)
	total := 0
	for {
		ds, err := s.store.FailedDeliveries(ctx, id, since, 500)
		if err != nil {
			return total, errors.Join(errUnavailable, err)
		}
		if len(ds) == 0 {
			break
		}
		if err := s.requeue(ctx, ds); err != nil {
			return total, err
		}
		total += len(ds)
		if len(ds) < 500 {
			break
		}
	}
	return total, nil
}

// requeue sets deliveries back to queued, with a job each, in one transaction.
func (s *Server) requeue(ctx context.Context, ds []*store.Delivery) error {
	now := s.now()
	jobs := make([]queue.Job, len(ds))
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		for i, d := range ds {
			jobs[i] = queue.Job{DeliveryID: d.ID, HookID: d.HookID, From: d.Attempts + d.Snoozes + 1}
			if err := tx.UpdateDelivery(ctx, d.ID, store.DeliveryUpdate{
				Status: store.DeliveryQueued, Attempts: d.Attempts, Snoozes: d.Snoozes, NextAttemptAt: &now,
				LastError: d.LastError, LastStatus: d.LastStatus, UpdatedAt: now,
			}); err != nil {
				return err
			}
		}
		return s.queue.Insert(ctx, tx, jobs)
	})
	if err != nil {
		return errors.Join(errUnavailable, err)
	}
	return nil
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}
