package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/catalog"
	"github.com/hookpoint/hookpoint/internal/deliver"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/queue"
	"github.com/hookpoint/hookpoint/internal/store"
)

// eventRequest is the body of POST /v1/events: an event as the command line makes it.
type eventRequest struct {
	Type    string `json:"type"`
	Gate    *bool  `json:"gate"`
	Status  string `json:"status"`
	Subject string `json:"subject"`
	Source  string `json:"source"`
	RunID   string `json:"run_id"`
	Job     string `json:"job"`
	Kind    string `json:"kind"`
	// ID and Time are kept when given (a fleet client's spool sends events later).
	ID        string            `json:"id"`
	Time      *time.Time        `json:"time"`
	Data      map[string]any    `json:"data"`
	SourceEnv map[string]string `json:"source_env"`
	// IdempotencyKey makes a repeated submission answer the first answer and create
	// nothing.
	IdempotencyKey string `json:"idempotency_key"`
}

// EventAnswer is what an event is answered with.
type EventAnswer struct {
	EventID   string             `json:"event_id"`
	Verdict   hookpoint.Verdict  `json:"verdict"`
	Results   []hookpoint.Result `json:"results"`
	Duplicate bool               `json:"duplicate,omitempty"`
}

const maxIdempotencyKey = 200

func (s *Server) postEvent(w http.ResponseWriter, r *http.Request) error {
	var req eventRequest
	if err := decodeJSON(w, r, maxEventBody, &req); err != nil {
		return err
	}
	ev, err := req.event(s.now())
	if err != nil {
		return err
	}
	key := ""
	if req.IdempotencyKey != "" {
		// Keys are the caller's own: another token's key is another key, so that no
		// token can learn another's answers or pre-empt its gate.
		c, _ := callerOf(r.Context())
		who := "admin"
		if c.tokenID != "" {
			who = "token " + c.tokenID
		}
		key = who + ": " + req.IdempotencyKey
	}
	ans, err := s.processKeyed(r.Context(), ev, "api", key, requestHash(&req))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ans)
	return nil
}

// requestHash identifies what an event request asks for, whatever its JSON spacing or
// key order, and whatever its idempotency key: the same key sent with another event is
// refused.
func requestHash(req *eventRequest) string {
	c := *req
	c.IdempotencyKey = ""
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// storedAnswer is what the events table keeps of an answer: the answer and the hash of
// the request it answered.
type storedAnswer struct {
	RequestSHA256 string       `json:"request_sha256,omitempty"`
	Answer        *EventAnswer `json:"answer"`
}

// event checks the request and makes the event.
func (req *eventRequest) event(now time.Time) (*event.Event, error) {
	if req.Type == "" {
		return nil, badRequest("type", "type is required: the event type, such as backup.pre")
	}
	if len(req.IdempotencyKey) > maxIdempotencyKey {
		return nil, badRequest("idempotency_key", "at most %d characters", maxIdempotencyKey)
	}
	ev := event.New(req.Type)
	if req.ID != "" {
		if !idRE.MatchString(req.ID) {
			return nil, badRequest("id", "an event id has 1 to 100 letters, digits, '_' and '-'")
		}
		ev.ID = req.ID
	}
	ev.Time = now.UTC()
	if req.Time != nil {
		ev.Time = req.Time.UTC()
	}
	ev.Status, ev.Subject = req.Status, req.Subject
	if req.Source != "" {
		ev.Source = req.Source
	}
	ev.Run = event.Run{ID: req.RunID, Job: req.Job, Kind: req.Kind}
	if req.Data != nil {
		ev.Data = req.Data
	}
	ev.SourceEnv = req.SourceEnv
	// A type ending in .pre is a gate unless said otherwise, as on the command line.
	ev.Gate = event.GateByName(ev.Type)
	if req.Gate != nil {
		ev.Gate = *req.Gate
	}
	if err := ev.Validate(); err != nil {
		field := "type"
		if strings.Contains(err.Error(), "status") {
			field = "status"
		}
		return nil, badRequest(field, "%s", err.Error())
	}
	for k := range ev.SourceEnv {
		if !catalog.SourceEnvName(k) {
			return nil, badRequest("source_env", "%q is not a variable an adapter passes on (vzdump's, CV4PVE_AUTOSNAP_*, JETBACKUP_*): other variables could change how exec hooks run", clipText(k, 60))
		}
	}
	if strings.HasPrefix(ev.Type, "hookpoint.") {
		return nil, badRequest("type", "event types hookpoint.* are the server's own (hookpoint.hook.failing, ...) and cannot be sent")
	}
	if y := ev.Time.Year(); y < 1970 || y > 2200 {
		return nil, badRequest("time", "the event's time must be between the years 1970 and 2200")
	}
	return ev, nil
}

// process fires ev's hooks and stores the event, its deliveries and the sync attempts in
// one transaction with the async deliveries' jobs; the answer is given only after the
// commit.
func (s *Server) process(ctx context.Context, ev *event.Event, origin, idemKey string) (*EventAnswer, error) {
	return s.processKeyed(ctx, ev, origin, idemKey, "")
}

func (s *Server) processKeyed(ctx context.Context, ev *event.Event, origin, idemKey, reqHash string) (*EventAnswer, error) {
	// Events whose hooks run at once are bounded: each may run a command.
	select {
	case s.eventSlots <- struct{}{}:
		defer func() { <-s.eventSlots }()
	default:
		return nil, &apiError{Status: http.StatusServiceUnavailable, Code: "busy", RetryAfter: 1,
			Message: "too many events are being processed at once; try again"}
	}
	received := s.now()
	release := s.inflight.acquire("event " + ev.ID)
	defer release()
	if idemKey != "" {
		release := s.inflight.acquire(idemKey)
		defer release()
		prev, err := s.store.EventByIdempotencyKey(ctx, idemKey)
		if err == nil {
			return replayAnswer(prev, reqHash)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, errors.Join(errUnavailable, err)
		}
	}
	if _, err := s.store.GetEvent(ctx, ev.ID); err == nil {
		// Refused before any hook runs: hooks that ran for an event that is then not
		// stored would leave no trace.
		return nil, errorf(http.StatusConflict, "conflict", "id", "an event with id %q exists already", ev.ID)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, errors.Join(errUnavailable, err)
	}
	batch := s.queue.NewBatch()
	out, err := s.engine.FireWith(ctx, ev, batch)
	if err != nil {
		return nil, badRequest("type", "%s", err.Error())
	}
	ans := &EventAnswer{EventID: ev.ID, Verdict: out.Verdict, Results: slices.Clone(out.Results)}
	for i := range ans.Results {
		ans.Results[i].Request = nil // the delivery log shows it; the answer stays small
	}
	raw, err := json.Marshal(storedAnswer{RequestSHA256: reqHash, Answer: ans})
	if err != nil {
		return nil, err
	}
	se := queue.FromEvent(ev, origin, idemKey, received)
	se.State, se.Verdict, se.Answer = store.EventDone, string(out.Verdict), raw

	now := s.now()
	var (
		deliveries     []*store.Delivery
		attempts       []*store.Attempt
		syncDeliveries []*store.Delivery
		asyncJobs      []queue.Job
		syncOut        []hookpoint.Result
	)
	for _, res := range out.Results {
		_, version, _ := s.hooks.Hook(res.HookID)
		d := &store.Delivery{
			ID: res.DeliveryID, EventID: ev.ID, EventType: ev.Type, HookID: res.HookID, HookVersion: version,
			Mode: res.Mode, CreatedAt: now, UpdatedAt: now,
		}
		switch res.Outcome {
		case hookpoint.OutcomeQueued:
			d.Status = store.DeliveryQueued
			asyncJobs = append(asyncJobs, queue.Job{DeliveryID: d.ID, HookID: d.HookID, From: 1})
		case hookpoint.OutcomeSkipped:
			d.ID = event.NewID("msg")
			d.Status, d.LastError = store.DeliveryCancelled, res.Error
		default:
			d.Status, d.Attempts, d.LastError, d.LastStatus = store.DeliveryFailed, 1, res.Error, res.Status
			if res.Outcome == deliver.OK {
				d.Status = store.DeliverySucceeded
			}
			if d.ID == "" { // a hook that could not be rendered or was refused before a delivery id
				d.ID = event.NewID("msg")
			}
			a := &store.Attempt{
				DeliveryID: d.ID, N: 1, HookVersion: version, StartedAt: res.Time.Add(-res.Duration),
				DurationMS: res.DurationMS, Outcome: res.Outcome, StatusCode: res.Status, ExitCode: res.ExitCode,
				Error: res.Error, Response: res.Response, Node: s.opts.Node,
			}
			if res.Request != nil {
				a.Request, _ = json.Marshal(res.Request.Bounded(queue.MaxStoredBody))
			}
			attempts = append(attempts, a)
			syncDeliveries = append(syncDeliveries, d)
			syncOut = append(syncOut, res)
		}
		deliveries = append(deliveries, d)
	}
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.InsertEvent(ctx, se); err != nil {
			return err
		}
		if err := tx.InsertDeliveries(ctx, deliveries); err != nil {
			return err
		}
		for i, a := range attempts {
			d := syncDeliveries[i]
			if err := tx.RecordAttempt(ctx, a, store.DeliveryUpdate{Status: d.Status, Attempts: d.Attempts,
				LastError: d.LastError, LastStatus: d.LastStatus, UpdatedAt: d.UpdatedAt}); err != nil {
				return err
			}
		}
		return s.queue.Insert(ctx, tx, asyncJobs)
	})
	if errors.Is(err, store.ErrConflict) && idemKey != "" {
		prev, perr := s.store.EventByIdempotencyKey(ctx, idemKey)
		if perr == nil {
			return replayAnswer(prev, reqHash)
		}
	}
	if errors.Is(err, store.ErrConflict) {
		return nil, errorf(http.StatusConflict, "conflict", "id", "an event with id %q exists already", ev.ID)
	}
	if err != nil {
		s.log.Error("event not stored", "event", ev.ID, "type", ev.Type, "err", err)
		return nil, errors.Join(errUnavailable, err)
	}
	for _, res := range syncOut {
		s.syncOutcome(ctx, res)
	}
	return ans, nil
}

// syncOutcome applies a sync hook's result to its hook's state.
func (s *Server) syncOutcome(ctx context.Context, res hookpoint.Result) {
	before, after, err := s.store.RecordHookOutcome(ctx, res.HookID, res.Outcome == deliver.OK, res.Outcome, s.now(), s.autoDisableAfter())
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Error("hook state not recorded", "hook", res.HookID, "err", err)
		}
		return
	}
	if before.Enabled != after.Enabled || (before.FailingSince == nil) != (after.FailingSince == nil) {
		s.hookStateChanged(ctx, res.HookID, before, after)
	}
}

func replayAnswer(prev *store.Event, reqHash string) (*EventAnswer, error) {
	if prev.State != store.EventDone || len(prev.Answer) == 0 {
		return nil, errorf(http.StatusConflict, "in_progress", "idempotency_key", "an event with this idempotency key is still being processed")
	}
	var sa storedAnswer
	if err := json.Unmarshal(prev.Answer, &sa); err != nil || sa.Answer == nil {
		return nil, fmt.Errorf("stored answer of %s: %v", prev.ID, err)
	}
	if sa.RequestSHA256 != reqHash {
		return nil, errorf(http.StatusUnprocessableEntity, "idempotency_key_reused", "idempotency_key", "this idempotency key was used for another event; use a new key for a new event")
	}
	sa.Answer.Duplicate = true
	return sa.Answer, nil
}

// getEvent answers an event with its deliveries.
func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	ev, err := s.store.GetEvent(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("event", id)
	}
	if err != nil {
		return err
	}
	ds, err := s.store.ListDeliveries(r.Context(), store.DeliveryFilter{EventID: id, Limit: 1000})
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []*store.Delivery{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"event": ev, "deliveries": ds})
	return nil
}

// idempotency serialises submissions with the same key on this node, so that the second
// finds the first's answer instead of running the hooks again.
type idempotency struct {
	mu   sync.Mutex
	keys map[string]*keyLock
}

type keyLock struct {
	mu   sync.Mutex
	refs int
}

func (m *idempotency) acquire(key string) (release func()) {
	m.mu.Lock()
	if m.keys == nil {
		m.keys = map[string]*keyLock{}
	}
	l := m.keys[key]
	if l == nil {
		l = &keyLock{}
		m.keys[key] = l
	}
	l.refs++
	m.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		m.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(m.keys, key)
		}
		m.mu.Unlock()
	}
}
