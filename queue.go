package hookpoint

import (
	"context"
	"maps"
	"math/rand/v2"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/deliver"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/render"
)

// Queue takes the deliveries of async hooks. The command line's in-process retrier and
// the server's durable queue (River) both implement it; the engine — matching, order,
// gates, escaping, masking — is the same whichever it has.
type Queue interface {
	// Enqueue takes d and returns the result to report for it now: queued, or failed
	// when it cannot be taken.
	Enqueue(ctx context.Context, d *Delivery) Result
}

// Delivery is one async hook's delivery of one event.
type Delivery struct {
	Hook *Hook
	// Event is the delivery's own copy: it outlives Fire.
	Event *Event
	// ID is the webhook-id and X-Hookpoint-Delivery of every attempt.
	ID string
}

func newDelivery(h *Hook, ev *Event) *Delivery {
	evc := *ev
	evc.Data = maps.Clone(ev.Data)
	return &Delivery{Hook: h, Event: &evc, ID: event.NewID("msg")}
}

// Schedule returns the wait before attempt n (n >= 2) of an async hook and whether
// there is one: the hook's retry.schedule (its last entry repeated up to
// retry.max_attempts), or the default schedule with up to 20% jitter, so that deliveries
// that failed together do not retry in lockstep.
func Schedule(h *Hook, n int) (time.Duration, bool) {
	max := 0
	var sched []time.Duration
	if h.Retry != nil {
		max = h.Retry.MaxAttempts
		for _, d := range h.Retry.Schedule {
			sched = append(sched, d.D())
		}
	}
	jitter := len(sched) == 0
	if jitter {
		sched = config.DefaultSchedule
	}
	if max == 0 {
		max = len(sched) + 1
	}
	if n > max || n < 2 {
		return 0, false
	}
	i := min(n-2, len(sched)-1)
	d := sched[i]
	if jitter {
		d += time.Duration(rand.Int64N(int64(d)/5 + 1))
	}
	return d, true
}

// Attempt is what one attempt at a delivery did.
type Attempt struct {
	Result Result
	// Request is what was sent, as shown to people (secrets masked); nil when the hook
	// could not be rendered.
	Request *Preview
	// RetryAfter is the wait a 429 or 503 answer asked for; Gone is set on 410 Gone.
	RetryAfter time.Duration
	Gone       bool
	// OK reports success.
	OK bool
}

// Attempt renders d's hook for its event and makes attempt number n (1 for the first),
// recording it like every other execution. The server's durable queue calls it for each
// attempt, so a delivery is rendered and signed anew each time and nothing rendered is
// kept but the masked view.
func (e *Engine) Attempt(ctx context.Context, d *Delivery, n int) Attempt {
	r, err := render.Hook(d.Hook, d.Event, d.ID, e.renderOptions(d.Hook))
	if err != nil {
		res := deliver.Result{Outcome: deliver.Failed, Error: "render: " + err.Error()}
		return Attempt{Result: e.finish(d.Hook, d.Event, nil, d.ID, n, res)}
	}
	p := r.Preview(e.opts.Now())
	res := e.attempt(ctx, r)
	return Attempt{
		Result: e.finish(d.Hook, d.Event, r, d.ID, n, res), Request: &p,
		RetryAfter: res.RetryAfter, Gone: res.Gone, OK: res.OK(),
	}
}
