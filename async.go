package hookpoint

import (
	"context"
	"sync"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/deliver"
	"github.com/hookpoint/hookpoint/internal/journal"
	"github.com/hookpoint/hookpoint/internal/render"
)

// asyncDelivery delivers async hooks in-process, in the background, with retries. It is
// what the command line uses when no server takes them; Drain waits for them before exit.
type asyncDelivery struct {
	eng *Engine

	ctx    context.Context // cancelled by Close, or when Drain runs out of time
	cancel context.CancelFunc

	mu          sync.Mutex
	wg          sync.WaitGroup
	drain       chan struct{} // closed when Drain starts
	deadline    time.Time     // set by Drain, on the engine's clock
	draining    bool          // Drain has started: nothing more is enqueued
	delivered   int
	undelivered []Undelivered
}

func newAsyncDelivery(e *Engine) *asyncDelivery {
	ctx, cancel := context.WithCancel(context.Background())
	return &asyncDelivery{eng: e, ctx: ctx, cancel: cancel, drain: make(chan struct{})}
}

// Undelivered is an async delivery that had not succeeded when Drain returned.
type Undelivered struct {
	HookID     string `json:"hook_id"`
	EventType  string `json:"event_type"`
	EventID    string `json:"event_id"`
	DeliveryID string `json:"delivery_id"`
	Attempts   int    `json:"attempts"`
	LastError  string `json:"last_error"`
	// Final is set when retrying stopped for good (410 Gone, attempts used up, or a
	// hook that cannot be rendered) rather than for want of time.
	Final bool `json:"final"`
}

// AsyncReport says what became of the async deliveries of this engine.
type AsyncReport struct {
	Delivered   int           `json:"delivered"`
	Undelivered []Undelivered `json:"undelivered"`
}

// Enqueue takes d for delivery in the background (the in-process Queue).
func (a *asyncDelivery) Enqueue(_ context.Context, d *Delivery) Result {
	h, ev, deliveryID := d.Hook, d.Event, d.ID
	res := Result{Record: journal.Record{
		Time: a.eng.opts.Now().UTC(), RunID: ev.Run.ID, EventID: ev.ID, EventType: ev.Type, HookID: h.ID,
		DeliveryID: deliveryID, Action: h.Action(), Mode: config.ModeAsync, Outcome: OutcomeQueued,
	}}
	r, err := render.Hook(h, ev, deliveryID, a.eng.renderOptions(h))
	if err != nil {
		d := deliver.Result{Outcome: deliver.Failed, Error: "render: " + err.Error()}
		fin := a.eng.finish(h, ev, nil, deliveryID, 1, d)
		a.done(h, ev, deliveryID, 1, fin.Error, false, true)
		return fin
	}
	res.Target = r.Target()
	res.Record.Bound()
	a.mu.Lock()
	if a.draining {
		a.mu.Unlock()
		d := deliver.Result{Outcome: deliver.Failed, Error: "not delivered: the engine is draining or closed"}
		fin := a.eng.finish(h, ev, r, deliveryID, 0, d)
		a.done(h, ev, deliveryID, 0, fin.Error, false, true)
		return fin
	}
	a.wg.Add(1)
	a.mu.Unlock()
	go a.deliver(h, ev, r)
	return res
}

func (a *asyncDelivery) deliver(h *config.Hook, ev *Event, r *render.Rendered) {
	defer a.wg.Done()
	e := a.eng
	for n := 1; ; n++ {
		d := e.attempt(a.ctx, r)
		fin := e.finish(h, ev, r, r.DeliveryID, n, d)
		if d.OK() {
			a.done(h, ev, r.DeliveryID, n, "", true, true)
			return
		}
		errText := fin.Error
		if d.Gone {
			a.done(h, ev, r.DeliveryID, n, errText+" (410 Gone: not retried)", false, true)
			return
		}
		wait, more := Schedule(h, n+1)
		if !more {
			a.done(h, ev, r.DeliveryID, n, errText, false, true)
			return
		}
		if d.RetryAfter > wait {
			wait = d.RetryAfter
		}
		if !a.wait(wait) {
			a.done(h, ev, r.DeliveryID, n, errText, false, false)
			return
		}
	}
}

// wait sleeps before the next attempt; it returns false when the next attempt could not
// start before the drain deadline.
func (a *asyncDelivery) wait(d time.Duration) bool {
	e := a.eng
	next := e.opts.Now().Add(d)
	a.mu.Lock()
	draining, deadline, drain, ctx := a.draining, a.deadline, a.drain, a.ctx
	a.mu.Unlock()
	if draining && next.After(deadline) {
		return false
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- e.opts.Sleep(sctx, d) }()
	select {
	case err := <-errc:
		return err == nil
	case <-drain:
		a.mu.Lock()
		deadline = a.deadline
		a.mu.Unlock()
		if next.After(deadline) {
			return false
		}
		return <-errc == nil
	}
}

func (a *asyncDelivery) done(h *config.Hook, ev *Event, deliveryID string, attempts int, lastErr string, ok, final bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ok {
		a.delivered++
		return
	}
	a.undelivered = append(a.undelivered, Undelivered{
		HookID: h.ID, EventType: ev.Type, EventID: ev.ID, DeliveryID: deliveryID,
		Attempts: attempts, LastError: lastErr, Final: final,
	})
}

// Drain waits for the async deliveries of this engine until they are done or ctx is
// done, whichever is first; attempts that would start after ctx's deadline are not made.
// It reports what was delivered and what was not; nothing is dropped without a word.
func (e *Engine) Drain(ctx context.Context) AsyncReport {
	a := e.async
	a.mu.Lock()
	if !a.draining {
		a.draining = true
		if dl, ok := ctx.Deadline(); ok {
			// ctx's deadline is on the wall clock; attempts are planned on the engine's
			// clock (Options.Now), which may be injected.
			a.deadline = e.opts.Now().Add(time.Until(dl))
		} else {
			a.deadline = time.Unix(1<<40, 0)
		}
		close(a.drain)
	}
	a.mu.Unlock()
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		a.cancel() // in-flight attempts end now and report as undelivered
		<-done
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return AsyncReport{Delivered: a.delivered, Undelivered: append([]Undelivered(nil), a.undelivered...)}
}

// close stops every delivery still waiting or in flight and waits for them to end.
func (a *asyncDelivery) close() {
	a.mu.Lock()
	if !a.draining {
		a.draining = true
		a.deadline = a.eng.opts.Now()
		close(a.drain)
	}
	a.mu.Unlock()
	a.cancel()
	a.wg.Wait()
}
