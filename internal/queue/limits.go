package queue

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/hookpoint/hookpoint/internal/config"
)

// limits bounds the attempts of each hook on this server: at most max_in_flight at once
// and no more often than its rate. A job that finds its hook at a bound is parked (its
// River job snoozed), and when an attempt of that hook ends one parked job is woken at
// once, so that a busy hook's backlog waits without polling the database. The snooze is
// only a safety net (a wake-up lost in a race): it grows with the number of jobs parked
// for the hook, so that thousands of them cost a few writes a second, not thousands.
//
// The bookkeeping of one hook is one object for the life of the server, whatever the
// hook's versions: an attempt releases the slot it took, and a new version only changes
// the bounds.
type limits struct {
	mu    sync.Mutex
	hooks map[string]*hookLimit
	// wake gives a parked job back to River at once.
	wake func(jobID int64)
}

type hookLimit struct {
	version  int
	inFlight int
	max      int
	rate     *rate.Limiter
	parked   map[string]int64 // delivery id -> River job id, snoozed for want of a slot
	running  map[*slot]context.CancelFunc
}

// slot is one attempt's hold on its hook. It is not empty: pointers to distinct
// zero-size values may be equal, and each slot must be a key of its own.
type slot struct{ _ byte }

func newLimits() *limits { return &limits{hooks: map[string]*hookLimit{}} }

const (
	// busySnooze is the shortest safety-net wait of a parked job.
	busySnooze = 250 * time.Millisecond
	// maxParkedSnooze bounds it.
	maxParkedSnooze = 30 * time.Second
)

// acquire takes a slot for an attempt of h by job jobID of delivery deliveryID. It
// returns the context the attempt runs in (cancelled when the hook changes) and the
// release function, or the time to wait when there is no slot.
func (l *limits) acquire(ctx context.Context, h *config.Hook, version int, now time.Time, deliveryID string, jobID int64) (context.Context, func(), time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	hl := l.hooks[h.ID]
	if hl == nil {
		hl = &hookLimit{parked: map[string]int64{}, running: map[*slot]context.CancelFunc{}}
		l.hooks[h.ID] = hl
	}
	if hl.version != version || hl.max == 0 {
		hl.version = version
		hl.max = h.MaxInFlight
		if hl.max <= 0 {
			hl.max = config.DefaultMaxInFlight
		}
		hl.rate = nil
		if h.Rate != nil {
			// A burst of one second's worth: 50/s may start 50 at once, 600/m 10.
			burst := max(1, int(h.Rate.PerSecond()))
			hl.rate = rate.NewLimiter(rate.Limit(h.Rate.PerSecond()), burst)
		}
	}
	delete(hl.parked, deliveryID)
	if hl.inFlight >= hl.max {
		hl.parked[deliveryID] = jobID
		d := busySnooze * time.Duration(1+len(hl.parked)/hl.max)
		d = min(d, maxParkedSnooze)
		return nil, nil, d + time.Duration(rand.Int64N(int64(d)/2+1))
	}
	if hl.rate != nil {
		r := hl.rate.ReserveN(now, 1)
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			return nil, nil, d + time.Duration(rand.Int64N(int64(d)/4+1))
		}
	}
	hl.inFlight++
	actx, cancel := context.WithCancel(ctx)
	s := &slot{}
	hl.running[s] = cancel
	return actx, func() {
		cancel()
		l.mu.Lock()
		hl.inFlight--
		delete(hl.running, s)
		var next int64
		for id, job := range hl.parked {
			delete(hl.parked, id)
			next = job
			break
		}
		wake := l.wake
		l.mu.Unlock()
		if next != 0 && wake != nil {
			wake(next)
		}
	}, 0
}

// changed cancels the attempts in flight of a hook that was replaced, disabled or
// deleted: they are made again (with the same webhook-id) as the hook now says.
func (l *limits) changed(hookID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	hl := l.hooks[hookID]
	if hl == nil {
		return
	}
	for _, cancel := range hl.running {
		cancel()
	}
	hl.max = 0 // the bounds are read again at the next acquire
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
