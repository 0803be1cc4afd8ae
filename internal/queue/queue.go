// Package queue is the server's durable delivery of async hooks, on River.
//
// River keeps the jobs: leases, snoozes, prompt wake-ups, leader election and pruning.
// hookpoint keeps everything River deletes when a job ends: the event, the delivery and
// every attempt live in the store, and a job's only argument is its delivery's id,
// unique among the jobs not yet finished. Each attempt is rendered and signed anew from
// the stored event and the hook's current definition, so nothing rendered is stored but
// the masked view.
//
// Retries are hookpoint's, not River's: after a failed attempt the worker records it and
// snoozes the job until the next attempt of the hook's schedule. River's snoozes do not
// use up its attempts, so the delivery's own counters decide when to stop: Attempts for
// the attempts the schedule allows, Snoozes for the waits a receiver asked for with
// Retry-After (capped, since they would otherwise never end).
package queue

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/journal"
	"github.com/hookpoint/hookpoint/internal/store"
)

// MaxStoredBody bounds the body kept with each attempt's request (the whole body was
// sent; its start is enough to see what it was, and a large event would otherwise be
// stored again with every attempt).
const MaxStoredBody = 16 << 10

// Name is the River queue deliveries are worked from.
const Name = "hookpoint_delivery"

// Args is a delivery job: the delivery's id, and the number of the attempt the job was
// made for (1, or one more than the attempts so far when a finished delivery is retried
// by hand). The pair is unique among unfinished jobs: a delivery has one job at a time,
// and a retry made while the job that recorded its failure is still being completed by
// River (its completions are batched) gets a job of its own instead of being taken for
// that one and dropped.
type Args struct {
	DeliveryID string `json:"delivery_id" river:"unique"`
	From       int    `json:"from" river:"unique"`
	// HookID is the delivery's hook, so that River can bound the job by the hook's
	// timeout without reading the delivery (see Queue.jobTimeout). Jobs made before it
	// was added have none.
	HookID string `json:"hook_id,omitempty"`
}

// Kind names the job kind in River's table.
func (Args) Kind() string { return "hookpoint.delivery" }

// InsertOpts: one unfinished job per delivery; River's own retry budget is large because
// it only counts failures of the worker's infrastructure (the database), not of
// receivers, which the worker answers with snoozes.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       Name,
		MaxAttempts: 1000,
		UniqueOpts: river.UniqueOpts{
			ByArgs: true,
			ByState: []rivertype.JobState{
				rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
				rivertype.JobStateRunning, rivertype.JobStateScheduled,
			},
		},
	}
}

// Hooks is what the worker needs of the server's hooks.
type Hooks interface {
	// Hook returns the hook's current definition (validated and compiled) and version.
	Hook(id string) (h *config.Hook, version int, ok bool)
}

// StateChange is told when a delivery changed its hook's state: failing (FailingSince
// set), recovered (FailingSince cleared), disabled.
type StateChange func(ctx context.Context, hookID string, before, after store.HookState)

// Options configure a Queue.
type Options struct {
	Store  store.Store
	Engine *hookpoint.Engine
	Hooks  Hooks
	// Workers is how many attempts run at once in all (default 100). Each hook has its
	// own bound too (max_in_flight), so that a slow receiver cannot hold them all.
	Workers int
	// FetchCooldown and FetchPollInterval tune how soon River picks up jobs (defaults
	// 2ms and 200ms; see docs/benchmarks.md for how they were chosen).
	FetchCooldown     time.Duration
	FetchPollInterval time.Duration
	// RescueStuckJobsAfter is how long a job may run before River's rescuer looks at it
	// (River's own JobTimeout is not used: each attempt has its hook's timeout).
	//
	// On SQLite (default 15 minutes) it hardly matters: one server owns the file, and
	// the jobs a killed server left running are given back when it starts again.
	//
	// On PostgreSQL (default PostgresRescueAfter) it is how a dead node's work reaches
	// another: River rescues a job running for longer than both this and the job's own
	// timeout, the hook's timeout plus AttemptGrace (see Queue.jobTimeout).
	RescueStuckJobsAfter time.Duration
	// AutoDisableAfter disables a hook failing without a success for this long
	// (0: config.DefaultAutoDisableAfter; negative: never).
	AutoDisableAfter time.Duration
	// MaxSnoozes caps the Retry-After waits that do not use up an attempt (default 20).
	MaxSnoozes int
	// MaxRetryAfter caps one Retry-After wait (default 24h).
	MaxRetryAfter time.Duration
	// Node names this server in attempts (several nodes share PostgreSQL).
	Node string
	// OnStateChange is told of hook state changes (the server emits hookpoint.hook.*).
	OnStateChange StateChange
	// OnAttempt is told of every attempt made (metrics).
	OnAttempt func(hookID string, a hookpoint.Attempt)
	// Periodic are more periodic jobs for River's leader to run (retention, ...).
	Periodic []*river.PeriodicJob
	// Register adds more workers (for the periodic jobs).
	Register func(*river.Workers)
	Now      func() time.Time
	Logger   *slog.Logger
}

func (o *Options) defaults() {
	if o.Workers <= 0 {
		o.Workers = 100
	}
	if o.FetchCooldown <= 0 {
		o.FetchCooldown = 2 * time.Millisecond
	}
	if o.FetchPollInterval <= 0 {
		o.FetchPollInterval = 200 * time.Millisecond
	}
	if o.AutoDisableAfter == 0 {
		o.AutoDisableAfter = config.DefaultAutoDisableAfter
	}
	if o.MaxSnoozes <= 0 {
		o.MaxSnoozes = 20
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Queue delivers async hooks durably.
type Queue struct {
	opts   Options
	limits *limits
	driver driver
	// timeouts bounds each job by its hook's timeout (PostgreSQL), so that River's
	// rescuer gives a dead node's jobs to another; without it jobs have no bound.
	timeouts bool
}

// driver is the part of the River client that depends on the database's transaction
// type.
type driver interface {
	insertTx(ctx context.Context, tx store.Tx, params []river.InsertManyParams) error
	start(ctx context.Context) error
	stop(ctx context.Context) error
}

// wakeWith returns the function that gives a parked job back to River at once.
func (q *Queue) wakeWith(retry func(ctx context.Context, jobID int64) error) func(int64) {
	return func(jobID int64) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := retry(ctx, jobID); err != nil {
			q.opts.Logger.Debug("parked job not woken; it wakes by itself", "job", jobID, "err", err)
		}
	}
}

// stopRiver lets attempts in flight finish until ctx is done, then cancels them: River
// gives their jobs back, and they are made again (after the restart, or by another
// server on PostgreSQL) with the same webhook-id.
func stopRiver[TTx any](ctx context.Context, client *river.Client[TTx]) error {
	err := client.Stop(ctx)
	if ctx.Err() == nil {
		return err
	}
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(err, client.StopAndCancel(cctx))
}

func riverConfig(o *Options, w *worker) *river.Config {
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	if o.Register != nil {
		o.Register(workers)
	}
	return &river.Config{
		Queues:               map[string]river.QueueConfig{Name: {MaxWorkers: o.Workers}, river.QueueDefault: {MaxWorkers: 4}},
		Workers:              workers,
		FetchCooldown:        o.FetchCooldown,
		FetchPollInterval:    o.FetchPollInterval,
		RescueStuckJobsAfter: o.RescueStuckJobsAfter,
		JobTimeout:           -1, // every attempt has its hook's own timeout
		MaxAttempts:          1000,
		PeriodicJobs:         o.Periodic,
		Logger:               o.Logger.With("component", "river"),
		// Finished jobs go soon: what is worth keeping is in hookpoint's tables.
		CompletedJobRetentionPeriod: time.Hour,
		CancelledJobRetentionPeriod: time.Hour,
		DiscardedJobRetentionPeriod: 7 * 24 * time.Hour,
	}
}

// Job names a delivery to work and the attempt it is for.
type Job struct {
	DeliveryID string
	HookID     string
	// From is the number of the next attempt: 1 for a new delivery, attempts+snoozes+1
	// for a retried one.
	From int
}

// Insert adds a job for each delivery in tx: the deliveries become durable with the event
// when tx commits.
func (q *Queue) Insert(ctx context.Context, tx store.Tx, jobs []Job) error {
	if len(jobs) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(jobs))
	for i, j := range jobs {
		params[i] = river.InsertManyParams{Args: Args{DeliveryID: j.DeliveryID, From: max(j.From, 1), HookID: j.HookID}}
	}
	return q.driver.insertTx(ctx, tx, params)
}

// Start starts working deliveries.
func (q *Queue) Start(ctx context.Context) error { return q.driver.start(ctx) }

// Stop stops fetching and waits for the attempts in flight, until ctx is done; attempts
// still running then are cancelled, and their jobs are rescued later (another attempt
// with the same webhook-id).
func (q *Queue) Stop(ctx context.Context) error { return q.driver.stop(ctx) }

// Batch collects the async deliveries of one event, for the server to store with the
// event in one transaction. It is the engine's Queue for that event.
type Batch struct {
	Deliveries []*hookpoint.Delivery
	now        func() time.Time
}

var _ hookpoint.Queue = (*Batch)(nil)

// NewBatch returns an empty batch.
func (q *Queue) NewBatch() *Batch { return &Batch{now: q.opts.Now} }

// Enqueue keeps d; it is queued once the event is stored.
func (b *Batch) Enqueue(_ context.Context, d *hookpoint.Delivery) hookpoint.Result {
	b.Deliveries = append(b.Deliveries, d)
	ev := d.Event
	return hookpoint.Result{Record: journal.Record{
		Time: b.now().UTC(), RunID: ev.Run.ID, EventID: ev.ID, EventType: ev.Type, HookID: d.Hook.ID,
		DeliveryID: d.ID, Action: d.Hook.Action(), Mode: config.ModeAsync, Outcome: hookpoint.OutcomeQueued,
	}}
}

// worker makes one attempt per job.
type worker struct {
	river.WorkerDefaults[Args]
	q *Queue
}

// Timeout bounds a job for River: see Queue.jobTimeout.
func (w *worker) Timeout(job *river.Job[Args]) time.Duration { return w.q.jobTimeout(job.Args.HookID) }

// AttemptGrace is what a job may take beyond its hook's timeout: reading the delivery
// and the event, rendering, the output a command's children still hold, recording the
// attempt; and the difference between the clocks of the nodes and the database.
const AttemptGrace = 15 * time.Second

// PostgresRescueAfter is RescueStuckJobsAfter on PostgreSQL: the least time a job runs
// before River's rescuer gives it to another worker. Its own timeout usually decides.
const PostgresRescueAfter = 15 * time.Second

// jobTimeout is how long a delivery job of the hook may run. On SQLite there is none:
// the attempt is bounded by its hook's timeout, and one server owns the jobs.
//
// On PostgreSQL it is the hook's timeout plus AttemptGrace. River cancels a job at its
// timeout, and its rescuer (which the leader runs every 30 s) gives a job back for
// another attempt only once it has been running for longer than both its timeout and
// RescueStuckJobsAfter (River cannot rescue a job sooner without cancelling it sooner).
// So a job never outlives its bound on a live node, and the job of a node that died is
// taken up between its bound and about 35 s later (the rescuer's 30 s, then River's
// scheduler's 5 s; a new leader is elected within 20 s, less than any bound): 45 to 80 s
// after the attempt began for an HTTP hook with the default 30 s timeout, 5m15s to
// 5m50s for an exec hook with the default 5 minutes. The attempt made then has the same
// webhook-id and the same number; if the first one ended after all (a node cut off from
// the database, not dead), the store's RecordAttempt refuses the second record of that
// number.
func (q *Queue) jobTimeout(hookID string) time.Duration {
	if !q.timeouts {
		return -1
	}
	t := config.DefaultExecTimeout // the longest default, for a hook this node does not know
	if h, _, ok := q.opts.Hooks.Hook(hookID); ok && hookID != "" {
		t = attemptTimeout(h)
	}
	return t + AttemptGrace
}

// attemptTimeout is the longest one attempt of h may take: its action's timeout.
func attemptTimeout(h *config.Hook) time.Duration {
	switch {
	case h.HTTP != nil:
		return cmp.Or(h.HTTP.Timeout.D(), config.DefaultHTTPTimeout)
	case h.Exec != nil:
		return cmp.Or(h.Exec.Timeout.D(), config.DefaultExecTimeout)
	}
	return config.DefaultExecTimeout
}

func (w *worker) Work(ctx context.Context, job *river.Job[Args]) error {
	return w.q.work(ctx, job.Args.DeliveryID, job.ID)
}

// HookChanged cancels the attempts in flight of a hook that was replaced, disabled or
// deleted; they are made again as the hook now says, with the same webhook-id.
func (q *Queue) HookChanged(hookID string) { q.limits.changed(hookID) }

// errFinal marks deliveries that are already finished.
var errFinal = errors.New("the delivery is finished")

// work makes the next attempt of a delivery and decides what follows; a snooze error
// asks River to come back for the next attempt.
func (q *Queue) work(ctx context.Context, id string, jobID int64) error {
	o := &q.opts
	st := o.Store
	d, err := st.GetDelivery(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil // pruned, or its event was never committed
	}
	if err != nil {
		return err
	}
	if d.Status == store.DeliverySucceeded || d.Status == store.DeliveryFailed || d.Status == store.DeliveryCancelled {
		return nil
	}
	now := o.Now()
	h, version, ok := o.Hooks.Hook(d.HookID)
	if !ok {
		return q.finishWithout(ctx, d, store.DeliveryCancelled, "not delivered: the hook was deleted", now)
	}
	if !h.IsEnabled() {
		return q.finishWithout(ctx, d, store.DeliveryFailed, "not delivered: the hook is disabled", now)
	}
	actx, release, wait := q.limits.acquire(ctx, h, version, now, d.ID, jobID)
	if wait > 0 {
		return river.JobSnooze(wait)
	}
	defer release()

	se, err := st.GetEvent(ctx, d.EventID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return q.finishWithout(ctx, d, store.DeliveryCancelled, "not delivered: the event was pruned", now)
		}
		return err
	}
	ev := ToEvent(se)
	n := d.Attempts + d.Snoozes + 1
	start := o.Now()
	a := o.Engine.Attempt(actx, &hookpoint.Delivery{Hook: h, Event: ev, ID: d.ID}, n)
	if ctx.Err() != nil && !a.OK {
		// The server is stopping: the attempt did not finish. River gives the job back
		// and another attempt with the same webhook-id follows.
		return ctx.Err()
	}
	if actx.Err() != nil && !a.OK {
		// Its hook changed under it (HookChanged): not recorded, made again now as the
		// hook says.
		return river.JobSnooze(time.Millisecond)
	}
	end := o.Now()
	if o.OnAttempt != nil {
		o.OnAttempt(d.HookID, a)
	}
	upd := store.DeliveryUpdate{
		Attempts: d.Attempts, Snoozes: d.Snoozes, UpdatedAt: end,
		LastError: a.Result.Error, LastStatus: a.Result.Status,
	}
	var next time.Time
	switch {
	case a.OK:
		upd.Status, upd.Attempts = store.DeliverySucceeded, d.Attempts+1
	case a.Gone:
		upd.Status, upd.Attempts = store.DeliveryFailed, d.Attempts+1
		upd.LastError += " (410 Gone: the hook is disabled)"
	case a.RetryAfter > 0 && d.Snoozes < o.MaxSnoozes:
		// The receiver asked for a wait: not an attempt used up, but counted.
		upd.Status, upd.Snoozes = store.DeliveryRetrying, d.Snoozes+1
		next = end.Add(min(a.RetryAfter, o.MaxRetryAfter))
	default:
		upd.Attempts = d.Attempts + 1
		wait, more := time.Duration(0), false
		if h.IsAsync() {
			wait, more = hookpoint.Schedule(h, upd.Attempts+1)
		}
		if !more {
			upd.Status = store.DeliveryFailed
			break
		}
		upd.Status = store.DeliveryRetrying
		next = end.Add(max(wait, min(a.RetryAfter, o.MaxRetryAfter)))
	}
	if !next.IsZero() {
		upd.NextAttemptAt = &next
	}
	att := &store.Attempt{
		DeliveryID: d.ID, N: n, HookVersion: version, StartedAt: start,
		DurationMS: a.Result.DurationMS, Outcome: a.Result.Outcome, StatusCode: a.Result.Status,
		ExitCode: a.Result.ExitCode, Error: a.Result.Error, Response: a.Result.Response, Node: o.Node,
	}
	if a.Request != nil {
		att.Request, _ = jsonMarshal(a.Request.Bounded(MaxStoredBody))
	}
	// The attempt was made: record it even if the server is stopping (a bounded wait),
	// so that it is not made again for nothing.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	var before, after store.HookState
	var hookErr error
	err = st.InTx(rctx, func(tx store.Tx) error {
		if err := tx.RecordAttempt(rctx, att, upd); err != nil {
			return err
		}
		// The hook's state in the same transaction (one commit per attempt); an error
		// here does not undo the attempt's record.
		before, after, hookErr = tx.RecordHookOutcome(rctx, d.HookID, a.OK, a.Result.Outcome, end, o.AutoDisableAfter)
		if hookErr == nil && a.Gone && after.Enabled {
			gone := after
			gone.Enabled, gone.DisabledReason = false, "the receiver answered 410 Gone"
			if hookErr = tx.SetHookState(rctx, d.HookID, gone); hookErr == nil {
				before, after = after, gone
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			// A newer worker recorded this attempt (this one was rescued from under
			// it): never write over it.
			o.Logger.Warn("attempt already recorded by another worker", "delivery", d.ID, "attempt", n)
			return nil
		}
		return err
	}
	switch {
	case errors.Is(hookErr, store.ErrNotFound): // deleted meanwhile
	case hookErr != nil:
		o.Logger.Error("hook state not recorded", "hook", d.HookID, "err", hookErr)
	case o.OnStateChange != nil && (before.Enabled != after.Enabled || (before.FailingSince == nil) != (after.FailingSince == nil)):
		o.OnStateChange(ctx, d.HookID, before, after)
	}
	if upd.Status == store.DeliveryRetrying {
		return river.JobSnooze(max(next.Sub(o.Now()), time.Millisecond))
	}
	return nil
}

// recordTimeout bounds the recording of an attempt made.
const recordTimeout = 30 * time.Second

// finishWithout ends a delivery without an attempt.
func (q *Queue) finishWithout(ctx context.Context, d *store.Delivery, status, why string, now time.Time) error {
	return q.opts.Store.UpdateDelivery(ctx, d.ID, store.DeliveryUpdate{
		Status: status, Attempts: d.Attempts, Snoozes: d.Snoozes, LastError: why, LastStatus: d.LastStatus, UpdatedAt: now,
	})
}

// ToEvent turns a stored event back into the engine's.
func ToEvent(e *store.Event) *event.Event {
	return &event.Event{
		ID: e.ID, Type: e.Type, Time: e.Time, Source: e.Source, Subject: e.Subject, Gate: e.Gate,
		Status: e.Status, Run: event.Run{ID: e.RunID, Job: e.RunJob, Kind: e.RunKind}, Data: e.Data,
		SourceEnv: e.SourceEnv,
	}
}

// FromEvent is the stored form of an event.
func FromEvent(ev *event.Event, origin, idempotencyKey string, received time.Time) *store.Event {
	return &store.Event{
		ID: ev.ID, Type: ev.Type, Source: ev.Source, Subject: ev.Subject, Status: ev.Status, Gate: ev.Gate,
		RunID: ev.Run.ID, RunJob: ev.Run.Job, RunKind: ev.Run.Kind, Time: ev.Time, Data: ev.Data,
		SourceEnv: ev.SourceEnv, ReceivedAt: received, IdempotencyKey: idempotencyKey, Origin: origin,
	}
}

func (q *Queue) String() string { return fmt.Sprintf("queue %s (%d workers)", Name, q.opts.Workers) }
