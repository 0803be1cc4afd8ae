package hookpoint

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/deliver"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/journal"
	"github.com/hookpoint/hookpoint/internal/jsonwrite"
	"github.com/hookpoint/hookpoint/internal/match"
	"github.com/hookpoint/hookpoint/internal/render"
	"github.com/hookpoint/hookpoint/internal/template"
)

// Verdict is what the hooks of an event decided.
type Verdict string

const (
	// Proceed: no hook with on_failure abort failed.
	Proceed Verdict = "proceed"
	// Abort: a hook with on_failure abort failed; a gate's job must not go on.
	Abort Verdict = "abort"
)

// Outcomes of a hook in a Result beyond those of an attempt.
const (
	OutcomeOK      = deliver.OK
	OutcomeFailed  = deliver.Failed
	OutcomeTimeout = deliver.Timeout
	OutcomeSkipped = deliver.Skipped
	// OutcomeQueued: an async hook handed to background delivery.
	OutcomeQueued = "queued"
)

// Result is what one hook did for an event: the journal record of its execution (the
// same fields, names and units), and what only the caller is shown.
type Result struct {
	journal.Record
	// Duration is DurationMS as a time.Duration.
	Duration time.Duration
	// Stderr is the end of an exec hook's stderr (at most 10 lines and 1 KiB, secrets
	// masked), to show beside a failure.
	Stderr string
	// Policy is the on_failure policy that applied when the hook failed.
	Policy string
	// Request is what a sync hook sent, secrets masked; kept only with
	// Options.KeepRequests.
	Request *Preview
}

// MarshalJSON writes the result as its journal record with policy and stderr added, so
// that `-o json` output and journals are read the same way.
func (r Result) MarshalJSON() ([]byte, error) {
	b := r.Record.AppendJSON(make([]byte, 0, 512))
	b = b[:len(b)-1] // the record's closing brace
	for _, f := range [...][2]string{{"stderr", r.Stderr}, {"policy", r.Policy}} {
		if f[1] == "" {
			continue
		}
		b = append(b, ',', '"')
		b = append(b, f[0]...)
		b = append(b, '"', ':')
		b = jsonwrite.String(b, f[1])
	}
	return append(b, '}'), nil
}

// Failed reports whether the hook ran and did not succeed.
func (r *Result) Failed() bool { return r.Outcome == OutcomeFailed || r.Outcome == OutcomeTimeout }

// Outcome is what happened when an event was fired.
type Outcome struct {
	Event   *Event   `json:"event"`
	Verdict Verdict  `json:"verdict"`
	Results []Result `json:"results"`
	// Cancelled is set when the context was cancelled while hooks ran.
	Cancelled bool `json:"cancelled,omitempty"`
}

// Warned reports whether a hook failed under on_failure warn.
func (o *Outcome) Warned() bool {
	for i := range o.Results {
		if o.Results[i].Failed() && o.Results[i].Policy == config.OnFailureWarn {
			return true
		}
	}
	return false
}

// AbortedBy returns the result that made the verdict abort, or nil.
func (o *Outcome) AbortedBy() *Result {
	for i := range o.Results {
		if o.Results[i].Failed() && o.Results[i].Policy == config.OnFailureAbort {
			return &o.Results[i]
		}
	}
	return nil
}

// ErrInvalidEvent is returned by Fire for an event with a bad type or status.
var ErrInvalidEvent = errors.New("invalid event")

// Fire runs the hooks that match ev (docs/architecture.md, "Firing one event"): enabled hooks whose patterns and
// status filter match, by order then id; sync hooks one after another, async hooks handed
// to background delivery. A failing hook with on_failure abort stops the remaining hooks
// and makes the verdict Abort. Every execution is recorded.
func (e *Engine) Fire(ctx context.Context, ev *Event) (*Outcome, error) {
	return e.FireWith(ctx, ev, e.queue)
}

// FireWith is Fire with the async hooks handed to q instead of the engine's queue: the
// server collects them so that they are stored in the same transaction as the event.
func (e *Engine) FireWith(ctx context.Context, ev *Event, q Queue) (*Outcome, error) {
	if err := ev.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	if ev.ID == "" {
		ev.ID = event.NewID("evt")
	}
	if ev.Time.IsZero() {
		ev.Time = e.opts.Now().UTC()
	}
	if ev.Source == "" {
		ev.Source = event.DefaultSource
	}
	out := &Outcome{Event: ev, Verdict: Proceed}
	stopped := false
	root := template.EventData(ev) // one per event, shared by its sync hooks
	for _, h := range match.Select(e.Hooks(), ev) {
		if !stopped && ctx.Err() != nil {
			stopped, out.Cancelled = true, true
			out.Verdict = Abort
		}
		if stopped {
			why := "an earlier hook aborted this event"
			if out.Cancelled {
				why = "cancelled before this hook ran"
			}
			out.Results = append(out.Results, e.skip(h, ev, why))
			continue
		}
		if h.IsAsync() {
			out.Results = append(out.Results, q.Enqueue(ctx, newDelivery(h, ev)))
			continue
		}
		res := e.runSync(ctx, h, ev, root)
		if res.Failed() {
			res.Policy = h.FailurePolicy(ev.Gate)
			if res.Policy == config.OnFailureAbort {
				out.Verdict = Abort
				stopped = true
			}
		}
		out.Results = append(out.Results, res)
	}
	if ctx.Err() != nil {
		out.Cancelled = true
	}
	if out.Cancelled && ev.Gate {
		// A gate whose hooks did not all run has not been let through.
		out.Verdict = Abort
	}
	return out, nil
}

func (e *Engine) skip(h *config.Hook, ev *Event, why string) Result {
	res := Result{Record: journal.Record{
		Time: e.opts.Now().UTC(), RunID: ev.Run.ID, EventID: ev.ID, EventType: ev.Type, HookID: h.ID,
		Action: h.Action(), Mode: mode(h), Outcome: OutcomeSkipped, Error: why,
	}}
	e.record(res.Record)
	return res
}

func mode(h *config.Hook) string {
	if h.IsAsync() {
		return config.ModeAsync
	}
	return config.ModeSync
}

// runSync renders and runs one sync hook once.
func (e *Engine) runSync(ctx context.Context, h *config.Hook, ev *Event, root *template.EventRoot) Result {
	deliveryID := event.NewID("msg")
	o := e.renderOptions(h)
	o.EventRoot = root
	r, err := render.Hook(h, ev, deliveryID, o)
	if err != nil {
		res := deliver.Result{Outcome: deliver.Failed, Error: "render: " + err.Error()}
		return e.finish(h, ev, nil, deliveryID, 1, res)
	}
	var p *Preview
	if e.opts.KeepRequests {
		pv := r.Preview(e.opts.Now())
		p = &pv
	}
	res := e.finish(h, ev, r, deliveryID, 1, e.attempt(ctx, r))
	res.Request = p
	return res
}

// attempt makes one attempt at a rendered hook.
func (e *Engine) attempt(ctx context.Context, r *render.Rendered) deliver.Result {
	if r.HTTP != nil {
		return e.http.Send(ctx, r.HTTP, r.DeliveryID)
	}
	return deliver.Run(ctx, r.Exec)
}

// finish records an attempt and turns it into a Result, masking secrets.
func (e *Engine) finish(h *config.Hook, ev *Event, r *render.Rendered, deliveryID string, attempt int, d deliver.Result) Result {
	mask := func(s string) string { return s }
	target := ""
	if r != nil {
		mask = r.Mask
		target = r.Target()
	}
	res := Result{
		Record: journal.Record{
			Time: e.opts.Now().UTC(), RunID: ev.Run.ID, EventID: ev.ID, EventType: ev.Type, HookID: h.ID,
			DeliveryID: deliveryID, Action: h.Action(), Mode: mode(h), Target: target, Attempt: attempt,
			Outcome: d.Outcome, Status: d.Status, ExitCode: d.ExitCode,
			DurationMS: float64(d.Duration.Microseconds()) / 1000, Error: mask(d.Error), Response: mask(d.Excerpt),
		},
		Duration: d.Duration,
		Stderr:   mask(d.Stderr),
	}
	// Cut to the journal's bounds after masking (no part of a secret is left to cut);
	// the caller sees the same values as the journal.
	res.Record.Bound()
	if d.ExcerptCut && !slices.Contains(res.Truncated, "response") {
		res.Truncated = append(res.Truncated, "response")
	}
	e.record(res.Record)
	return res
}

// Preview is a hook rendered for display: what it would send or run, secrets masked.
type Preview = render.Preview

// Render renders every hook that matches ev without sending or running anything. The
// previews and errors are in hook order; a hook that cannot be rendered has its error
// (secrets masked) and an empty preview with only the hook id.
func (e *Engine) Render(ev *Event) ([]Preview, []error) {
	hooks := match.Select(e.Hooks(), ev)
	previews := make([]Preview, len(hooks))
	errs := make([]error, len(hooks))
	for i, h := range hooks {
		r, err := render.Hook(h, ev, event.NewID("msg"), e.renderOptions(h))
		if err != nil {
			previews[i], errs[i] = Preview{Hook: h.ID, Action: h.Action(), Mode: mode(h)}, err
			continue
		}
		previews[i] = r.Preview(e.opts.Now())
	}
	return previews, errs
}
