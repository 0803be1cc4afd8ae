package queue

import (
	"encoding/json"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/hookpoint/hookpoint/internal/config"
)

// limits bounds the attempts of each hook on this server: at most max_in_flight at once
// and no more often than its rate. A job that finds its hook at a bound is snoozed for
// about as long as it would wait, so that the workers go to other hooks meanwhile.
type limits struct {
	mu    sync.Mutex
	hooks map[string]*hookLimit
}

type hookLimit struct {
	version  int
	inFlight int
	max      int
	rate     *rate.Limiter
}

func newLimits() *limits { return &limits{hooks: map[string]*hookLimit{}} }

// busySnooze is how long a job waits when its hook has max_in_flight attempts running.
const busySnooze = 250 * time.Millisecond

// acquire takes a slot for an attempt of h; it returns the release function, or the
// time to wait when there is no slot.
func (l *limits) acquire(h *config.Hook, version int, now time.Time) (release func(), wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	hl := l.hooks[h.ID]
	if hl == nil || hl.version != version {
		bound := h.MaxInFlight
		if bound <= 0 {
			bound = config.DefaultMaxInFlight
		}
		next := &hookLimit{version: version, max: bound}
		if hl != nil {
			next.inFlight = hl.inFlight // attempts under the old settings still count
		}
		if h.Rate != nil {
			// A burst of one second's worth: 50/s may start 50 at once, 600/m 10.
			burst := max(1, int(h.Rate.PerSecond()))
			next.rate = rate.NewLimiter(rate.Limit(h.Rate.PerSecond()), burst)
		}
		hl = next
		l.hooks[h.ID] = hl
	}
	if hl.inFlight >= hl.max {
		return nil, busySnooze + time.Duration(rand.Int64N(int64(busySnooze)))
	}
	if hl.rate != nil {
		r := hl.rate.ReserveN(now, 1)
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			return nil, d + time.Duration(rand.Int64N(int64(d)/4+1))
		}
	}
	hl.inFlight++
	return func() {
		l.mu.Lock()
		hl.inFlight--
		l.mu.Unlock()
	}, 0
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
