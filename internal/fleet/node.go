package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/journal"
)

// The journal records of events sent to the server: hook_id and action "server".
const (
	HookID = "server"
	Action = "server"
)

// Outcomes of those records beyond ok and failed.
const (
	// OutcomeSpooled: a notification the server could not take, kept in the spool.
	OutcomeSpooled = "spooled"
	// OutcomeDropped: a spooled notification taken out unsent (the spool was full, or the
	// server refused it for good).
	OutcomeDropped = "dropped"
)

// Defaults of a Node.
const (
	DefaultGateTimeout = 15 * time.Minute // a gate waits for the server's sync hooks
	DefaultNoteTimeout = 30 * time.Second
	DefaultGateRetry   = 30 * time.Second
	DefaultNoteRetry   = 10 * time.Second
	DefaultFlushBudget = 30 * time.Second
	// recentlyDown: a notification makes a single attempt when another process spooled
	// one this recently, so that a server that is down does not hold up every call.
	recentlyDown = time.Minute
	// spoolWait bounds the wait for the spool's lock when appending (a Flush holds it
	// for at most its budget and one request).
	spoolWait = 2*DefaultFlushBudget + DefaultNoteTimeout
	// flushWait bounds the wait for the lock before a Flush: another process that holds
	// it is sending the spool already, or appending for a moment.
	flushWait = 2 * time.Second
)

// Node fires events through the server, as the engine fires them locally: the server
// runs the hooks and its verdict is the outcome. When the server cannot be reached, a
// gate aborts (or proceeds, with Proceed) and a notification is kept in the spool, to be
// sent by Flush once a later event has been answered.
type Node struct {
	Client *Client
	Spool  *Spool
	// Journal gets one record per event sent (ok or failed), spooled or dropped; nil
	// for none.
	Journal journal.Recorder
	// Results gets each result the server answers (for the log on stderr); nil for none.
	Results journal.Recorder
	// Proceed lets a gate through when the server cannot be reached.
	Proceed bool
	// Timeouts of a whole send, and how long an unreachable server is tried again, for
	// gates and notifications; the defaults when 0.
	GateTimeout, NoteTimeout time.Duration
	GateRetry, NoteRetry     time.Duration
	// FlushBudget bounds a Flush; DefaultFlushBudget when 0.
	FlushBudget time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu       sync.Mutex
	answered bool // an event was answered: Flush sends the spool
	down     bool // the server could not be reached: later sends make one attempt
}

func (n *Node) now() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Fire sends ev and returns the server's verdict and results. When the server cannot
// be reached (or ctx ends first) the outcome has one result for hook "server" that says
// so: a failed gate (verdict abort, or proceed with Proceed), or a spooled notification
// (verdict proceed). A refusal by the server (*APIError) or an answer that is not one
// (ErrBadAnswer) is returned as an error: nothing is spooled, since sending again would
// not help.
func (n *Node) Fire(ctx context.Context, ev *event.Event) (*hookpoint.Outcome, error) {
	if err := ev.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", hookpoint.ErrInvalidEvent, err)
	}
	req := RequestFor(ev)
	timeout, retry := or(n.GateTimeout, DefaultGateTimeout), or(n.GateRetry, DefaultGateRetry)
	if !ev.Gate {
		timeout, retry = or(n.NoteTimeout, DefaultNoteTimeout), or(n.NoteRetry, DefaultNoteRetry)
		if n.Spool != nil && n.Spool.ChangedWithin(n.now(), recentlyDown) {
			retry = 0
		}
	}
	n.mu.Lock()
	if n.down {
		retry = 0
	}
	n.mu.Unlock()
	sent, err := n.Client.Send(ctx, &req, timeout, retry)
	rec := n.record(&req, sent)
	if err == nil {
		n.mu.Lock()
		n.answered, n.down = true, false
		n.mu.Unlock()
		rec.Outcome, rec.Response = "ok", summary(sent.Answer)
		n.journal(rec)
		if n.Results != nil {
			for _, r := range sent.Answer.Results {
				n.Results.Record(r.Record)
			}
		}
		return &hookpoint.Outcome{Event: ev, Verdict: sent.Answer.Verdict, Results: sent.Answer.Results}, nil
	}
	cancelled := ctx.Err() != nil
	if !cancelled && !errors.Is(err, ErrUnreachable) {
		rec.Outcome, rec.Error = "failed", err.Error()
		n.journal(rec)
		return nil, err
	}
	why := err.Error()
	if cancelled {
		why = fmt.Sprintf("cancelled before the server %s answered", n.Client.Server())
	} else {
		n.mu.Lock()
		n.down = true
		n.mu.Unlock()
	}
	out := &hookpoint.Outcome{Event: ev, Verdict: hookpoint.Proceed, Cancelled: cancelled}
	res := hookpoint.Result{Duration: sent.Elapsed}
	switch {
	case ev.Gate && n.Proceed && !cancelled:
		rec.Outcome, rec.Error = "failed", why+"; the gate proceeds (--server-unreachable proceed)"
		res.Policy = config.OnFailureWarn
	case ev.Gate:
		rec.Outcome, rec.Error = "failed", why
		if !cancelled {
			rec.Error += "; the gate aborts (--server-unreachable abort)"
		}
		res.Policy, out.Verdict = config.OnFailureAbort, hookpoint.Abort
	default:
		rec.Outcome, rec.Error = n.spool(ctx, &req, why)
		if rec.Outcome != OutcomeSpooled {
			res.Policy = config.OnFailureWarn
		}
	}
	res.Record = rec
	out.Results = []hookpoint.Result{res}
	n.journal(rec)
	return out, nil
}

// spool keeps a notification that could not be sent, and journals what the spool
// dropped to make room. It returns the outcome and error of the event's record.
func (n *Node) spool(ctx context.Context, req *Request, why string) (string, string) {
	if n.Spool == nil {
		return "failed", why + "; not kept: no spool"
	}
	// A signal that ended the send does not stop the event from being kept.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), spoolWait)
	defer cancel()
	dropped, err := n.Spool.Append(sctx, Entry{SpooledAt: n.now().UTC(), Server: n.Client.Server(), Reason: why, Request: *req})
	if err != nil {
		return "failed", fmt.Sprintf("%s; it could not be kept in the spool: %v", why, err)
	}
	for _, d := range dropped {
		if d.Entry.Request.ID == req.ID {
			return OutcomeDropped, why + "; not kept: " + d.Reason
		}
		n.journalDropped(d)
	}
	return OutcomeSpooled, fmt.Sprintf("%s; kept in the spool %s, to be sent when the server answers again", why, n.Spool.Path)
}

// Flush sends what the spool holds, oldest first, once an event of this process has
// been answered; it stops at the first that cannot be sent, or when FlushBudget is
// spent. Each sent or dropped entry is journaled. Another process sending the spool at
// the same time is not an error: that one sends it.
func (n *Node) Flush(ctx context.Context) (FlushReport, error) {
	n.mu.Lock()
	answered := n.answered
	n.mu.Unlock()
	if n.Spool == nil || !answered {
		return FlushReport{}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, or(n.FlushBudget, DefaultFlushBudget))
	defer cancel()
	rep, err := n.Spool.Flush(ctx, flushWait, func(ctx context.Context, e *Entry) (Disposal, string) {
		sent, err := n.Client.Send(ctx, &e.Request, or(n.NoteTimeout, DefaultNoteTimeout), 0)
		var ae *APIError
		switch {
		case err == nil:
			rec := n.record(&e.Request, sent)
			rec.Outcome, rec.Response = "ok", summary(sent.Answer)
			n.journal(rec)
			if n.Results != nil {
				for _, r := range sent.Answer.Results {
					n.Results.Record(r.Record)
				}
			}
			return Delivered, ""
		case errors.As(err, &ae) && !ae.Auth():
			return Refused, "the server refused the spooled event: " + ae.Error()
		}
		return Keep, "" // unreachable, the token refused, or no answer: kept for later
	})
	for _, d := range rep.Dropped {
		n.journalDropped(d)
	}
	if errors.Is(err, ErrBusy) {
		err = nil
	}
	return rep, err
}

func (n *Node) record(req *Request, s Sent) journal.Record {
	return journal.Record{
		Time: n.now().UTC(), RunID: req.RunID, EventID: req.ID, EventType: req.Type, HookID: HookID,
		Action: Action, Mode: "sync", Target: n.Client.Target(), Attempt: s.Attempts, Status: s.Status,
		DurationMS: float64(s.Elapsed) / float64(time.Millisecond),
	}
}

func (n *Node) journal(r journal.Record) {
	if n.Journal != nil {
		n.Journal.Record(r)
	}
}

func (n *Node) journalDropped(d Dropped) {
	rec := n.record(&d.Entry.Request, Sent{})
	rec.Outcome, rec.Error = OutcomeDropped, d.Reason
	n.journal(rec)
}

// summary is what a journal record keeps of an answer: the event id, the verdict, and
// whether the server had answered it before.
func summary(a *Answer) string {
	b, _ := json.Marshal(struct {
		EventID   string            `json:"event_id"`
		Verdict   hookpoint.Verdict `json:"verdict"`
		Hooks     int               `json:"hooks"`
		Duplicate bool              `json:"duplicate,omitempty"`
	}{a.EventID, a.Verdict, len(a.Results), a.Duplicate})
	return string(b)
}
