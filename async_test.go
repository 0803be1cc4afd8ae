package hookpoint_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/config"
)

// fakeClock is an injected clock whose Sleep returns at once and moves time forward, so
// retry schedules run without waiting.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_800_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

func (c *fakeClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

func (c *fakeClock) options(rec hookpoint.Recorder) hookpoint.Options {
	return hookpoint.Options{Now: c.Now, Sleep: c.Sleep, Recorder: rec}
}

// failFirst answers the first n requests with status code and the rest with 200.
func failFirst(n int32, code int, header ...string) http.HandlerFunc {
	var seen atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) <= n {
			for i := 0; i+1 < len(header); i += 2 {
				w.Header().Set(header[i], header[i+1])
			}
			w.WriteHeader(code)
			return
		}
		w.WriteHeader(200)
	}
}

func drain(t *testing.T, eng *hookpoint.Engine) hookpoint.AsyncReport {
	t.Helper()
	// The budget is on the wall clock and stands for as much time on the engine's clock:
	// enough for every schedule in these tests, which the fake clock runs at once.
	ctx, cancel := context.WithTimeout(context.Background(), 1000*time.Hour)
	defer cancel()
	return eng.Drain(ctx)
}

func TestAsyncRetriesOnSchedule(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, failFirst(3, 500))
	clock := newFakeClock()
	rec := &recorder{}
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("async-signing-key-0123456789"))
	eng := engine(t, fmt.Sprintf(`
hooks:
  - id: ship
    order: 1
    on: ["*"]
    mode: async
    retry: {max_attempts: 6, schedule: [1s, 2s, 3s]}
    http: {url: %q, sign: {secret: %q}}
  - {id: after, order: 2, on: ["*"], exec: {command: /bin/true}}
`, rc.URL, secret), clock.options(rec))
	ev := hookpoint.NewEvent("backup.pre")
	ev.Gate = true
	out, err := eng.Fire(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(out.Results); got != "ship:queued,after:ok" || out.Verdict != hookpoint.Proceed {
		t.Fatalf("results %s verdict %s", got, out.Verdict)
	}
	queued := out.Results[0]
	if queued.Mode != "async" || !strings.HasPrefix(queued.DeliveryID, "msg_") || queued.Target != "POST "+rc.URL {
		t.Errorf("queued result %+v", queued)
	}
	rep := drain(t, eng)
	if rep.Delivered != 1 || len(rep.Undelivered) != 0 {
		t.Errorf("report %+v", rep)
	}
	if w := clock.Waits(); !slices.Equal(w, []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}) {
		t.Errorf("waits %v, want the schedule 1s 2s 3s", w)
	}
	reqs := rc.requests()
	if len(reqs) != 4 {
		t.Fatalf("%d attempts, want 4", len(reqs))
	}
	stamps := map[string]bool{}
	for i, q := range reqs {
		if id := q.Header.Get("webhook-id"); id != queued.DeliveryID || q.Header.Get("X-Hookpoint-Delivery") != id {
			t.Errorf("attempt %d: webhook-id %q X-Hookpoint-Delivery %q, want %q on every retry", i+1, id, q.Header.Get("X-Hookpoint-Delivery"), queued.DeliveryID)
		}
		stamps[q.Header.Get("webhook-timestamp")] = true
		verifySignature(t, q, secret)
	}
	if len(stamps) != 4 {
		t.Errorf("webhook-timestamp should be the time of each attempt: %v", stamps)
	}
	var got []string
	for _, r := range rec.all() {
		if r.HookID != "ship" {
			continue
		}
		got = append(got, fmt.Sprintf("%d:%s:%d", r.Attempt, r.Outcome, r.Status))
		if r.DeliveryID != queued.DeliveryID || r.Mode != "async" || r.EventID != ev.ID {
			t.Errorf("record %+v", r)
		}
	}
	if strings.Join(got, ",") != "1:failed:500,2:failed:500,3:failed:500,4:ok:200" {
		t.Errorf("records %v", got)
	}
}

func TestAsyncAttemptsUsedUp(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, statusByPath)
	clock := newFakeClock()
	eng := engine(t, fmt.Sprintf(`
hooks:
  - {id: down, on: ["*"], mode: async, retry: {max_attempts: 5, schedule: [1s, 2s]}, http: {url: "%s/500"}}
`, rc.URL), clock.options(nil))
	out := fireOne(t, eng)
	rep := drain(t, eng)
	if w := clock.Waits(); !slices.Equal(w, []time.Duration{time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second}) {
		t.Errorf("waits %v: the last wait of the schedule repeats", w)
	}
	if len(rc.requests()) != 5 {
		t.Errorf("%d attempts, want max_attempts 5", len(rc.requests()))
	}
	if rep.Delivered != 0 || len(rep.Undelivered) != 1 {
		t.Fatalf("report %+v", rep)
	}
	u := rep.Undelivered[0]
	if !u.Final || u.Attempts != 5 || !strings.Contains(u.LastError, "500") || u.HookID != "down" || u.DeliveryID != out.Results[0].DeliveryID || u.EventID != out.Event.ID || u.EventType != "backup.pre" {
		t.Errorf("undelivered %+v", u)
	}
}

func TestAsyncDefaultScheduleWithJitter(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, statusByPath)
	clock := newFakeClock()
	eng := engine(t, fmt.Sprintf(`
hooks:
  - {id: capped, order: 1, on: ["*"], mode: async, retry: {max_attempts: 4}, http: {url: "%[1]s/503"}}
`, rc.URL), clock.options(nil))
	fireOne(t, eng)
	rep := drain(t, eng)
	w := clock.Waits()
	bounds := [][2]time.Duration{{5 * time.Second, 6 * time.Second}, {5 * time.Minute, 6 * time.Minute}, {30 * time.Minute, 36 * time.Minute}}
	if len(w) != len(bounds) {
		t.Fatalf("waits %v", w)
	}
	for i, b := range bounds {
		if w[i] < b[0] || w[i] > b[1] {
			t.Errorf("wait %d = %s, want within %s..%s (the default schedule plus up to 20%% jitter)", i+1, w[i], b[0], b[1])
		}
	}
	if len(rep.Undelivered) != 1 || rep.Undelivered[0].Attempts != 4 || !rep.Undelivered[0].Final {
		t.Errorf("report %+v", rep)
	}
}

func TestAsyncWithoutRetryUsesWholeDefaultSchedule(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, statusByPath)
	clock := newFakeClock()
	eng := engine(t, fmt.Sprintf(`hooks: [{id: d, on: ["*"], mode: async, http: {url: "%s/500"}}]`, rc.URL), clock.options(nil))
	fireOne(t, eng)
	rep := drain(t, eng)
	if n := len(rc.requests()); n != 8 {
		t.Errorf("%d attempts, want 8 (the first and one per wait of the default schedule)", n)
	}
	var total time.Duration
	for _, d := range clock.Waits() {
		total += d
	}
	var sched time.Duration
	for _, d := range config.DefaultSchedule {
		sched += d
	}
	if total < sched || total > sched+sched/5 {
		t.Errorf("retries spread over %s, want the default schedule (%s) plus at most 20%% jitter", total, sched)
	}
	if len(rep.Undelivered) != 1 || !rep.Undelivered[0].Final {
		t.Errorf("report %+v", rep)
	}
}

func TestAsyncRetryAfter(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			w.Header().Set("Retry-After", "1") // shorter than the schedule: the schedule wins
			w.WriteHeader(http.StatusTooManyRequests)
		case 3:
			w.Header().Set("Retry-After", "3600") // ignored on a 500
			w.WriteHeader(500)
		default:
			w.WriteHeader(204)
		}
	})
	clock := newFakeClock()
	eng := engine(t, fmt.Sprintf(`hooks: [{id: limited, on: ["*"], mode: async, retry: {max_attempts: 5, schedule: [10s]}, http: {url: %q}}]`, rc.URL), clock.options(nil))
	fireOne(t, eng)
	rep := drain(t, eng)
	if w := clock.Waits(); !slices.Equal(w, []time.Duration{120 * time.Second, 10 * time.Second, 10 * time.Second}) {
		t.Errorf("waits %v, want 2m0s (Retry-After) 10s 10s", w)
	}
	if rep.Delivered != 1 {
		t.Errorf("report %+v", rep)
	}
}

func TestAsyncGoneStopsRetrying(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, statusByPath)
	clock := newFakeClock()
	rec := &recorder{}
	eng := engine(t, fmt.Sprintf(`hooks: [{id: gone, on: ["*"], mode: async, retry: {max_attempts: 10, schedule: [1s]}, http: {url: "%s/410"}}]`, rc.URL), clock.options(rec))
	fireOne(t, eng)
	rep := drain(t, eng)
	if len(rc.requests()) != 1 || len(clock.Waits()) != 0 || len(rec.all()) != 1 {
		t.Errorf("%d attempts, waits %v, %d records: 410 Gone must not be retried", len(rc.requests()), clock.Waits(), len(rec.all()))
	}
	if len(rep.Undelivered) != 1 || !rep.Undelivered[0].Final || rep.Undelivered[0].Attempts != 1 || !strings.Contains(rep.Undelivered[0].LastError, "410") {
		t.Errorf("report %+v", rep)
	}
}

func TestAsyncDoesNotAffectVerdict(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, statusByPath)
	clock := newFakeClock()
	eng := engine(t, fmt.Sprintf(`
hooks:
  - {id: async-abort, order: 1, on: ["*"], on_failure: abort, mode: async, retry: {max_attempts: 2, schedule: [1s]}, http: {url: "%[1]s/500"}}
  - {id: async-unrenderable, order: 2, on: ["*"], on_failure: abort, mode: async, http: {url: '%[1]s/{{ env "MISSING_SECRET" }}'}}
  - {id: sync-after, order: 3, on: ["*"], http: {url: "%[1]s/200"}}
`, rc.URL), hookpoint.Options{Now: clock.Now, Sleep: clock.Sleep, LookupEnv: func(string) (string, bool) { return "", false }})
	out := fireOne(t, eng, func(e *hookpoint.Event) { e.Gate = true })
	if out.Verdict != hookpoint.Proceed || out.AbortedBy() != nil {
		t.Errorf("verdict %s aborted by %+v: async hooks must not decide it", out.Verdict, out.AbortedBy())
	}
	if got := ids(out.Results); got != "async-abort:queued,async-unrenderable:failed,sync-after:ok" {
		t.Errorf("results %s", got)
	}
	if e := out.Results[1].Error; !strings.Contains(e, "MISSING_SECRET") {
		t.Errorf("render failure: %q", e)
	}
	rep := drain(t, eng)
	if len(rep.Undelivered) != 2 {
		t.Fatalf("report %+v: both async failures must be reported", rep)
	}
	for _, u := range rep.Undelivered {
		if !u.Final {
			t.Errorf("%+v should be final", u)
		}
	}
}

func TestDrainOutOfTime(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, statusByPath)
	var slept atomic.Int32
	eng := engine(t, fmt.Sprintf(`
hooks:
  - {id: hourly, on: ["*"], mode: async, retry: {max_attempts: 5, schedule: [1h]}, http: {url: "%s/503"}}
`, rc.URL), hookpoint.Options{Sleep: func(ctx context.Context, d time.Duration) error {
		slept.Add(1)
		<-ctx.Done() // a real wait of an hour, for the purpose of the test
		return ctx.Err()
	}})
	fireOne(t, eng)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep := eng.Drain(ctx)
	if ctx.Err() != nil {
		t.Error("Drain waited for its deadline although the next attempt (in 1h) could never start before it")
	}
	if rep.Delivered != 0 || len(rep.Undelivered) != 1 {
		t.Fatalf("report %+v", rep)
	}
	u := rep.Undelivered[0]
	if u.Final || u.Attempts != 1 || !strings.Contains(u.LastError, "503") {
		t.Errorf("undelivered %+v: out of time is not final", u)
	}
	if len(rc.requests()) != 1 {
		t.Errorf("%d attempts", len(rc.requests()))
	}
}

func TestDrainCutsInFlightAttempt(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	rec := &recorder{}
	eng := engine(t, fmt.Sprintf(`
hooks:
  - {id: hanging, on: ["*"], mode: async, retry: {max_attempts: 3, schedule: [1s]}, http: {url: %q, timeout: 10m}}
`, rc.URL), hookpoint.Options{Recorder: rec})
	fireOne(t, eng)
	waitFor(t, "the attempt to reach the receiver", func() bool { return len(rc.requests()) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	rep := eng.Drain(ctx)
	if rep.Delivered != 0 || len(rep.Undelivered) != 1 {
		t.Fatalf("report %+v: an in-flight delivery must be reported, not dropped", rep)
	}
	if u := rep.Undelivered[0]; u.Final || u.Attempts != 1 || u.LastError == "" {
		t.Errorf("undelivered %+v", u)
	}
	if recs := rec.all(); len(recs) != 1 || recs[0].Outcome == "ok" {
		t.Errorf("records %+v", recs)
	}
}

func TestAsyncManyEventsAndExec(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	counter := filepath.Join(dir, "count")
	// Fails twice, then succeeds, counting its runs in a file.
	flaky := script(t, dir, "flaky.sh", `n=$(cat "`+counter+`" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "`+counter+`"; [ $n -ge 3 ]`)
	rc := newReceiver(t, nil)
	clock := newFakeClock()
	rec := &recorder{}
	eng := engine(t, fmt.Sprintf(`
hooks:
  - {id: web, on: ["backup.post"], mode: async, http: {url: %q}}
  - {id: flaky, on: ["backup.end"], mode: async, retry: {max_attempts: 5, schedule: [1s]}, exec: {command: %q}}
`, rc.URL, flaky), clock.options(rec))
	deliveries := map[string]bool{}
	for range 5 {
		ev := hookpoint.NewEvent("backup.post")
		out, err := eng.Fire(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		deliveries[out.Results[0].DeliveryID] = true
	}
	end := hookpoint.NewEvent("backup.end")
	if _, err := eng.Fire(context.Background(), end); err != nil {
		t.Fatal(err)
	}
	rep := drain(t, eng)
	if rep.Delivered != 6 || len(rep.Undelivered) != 0 {
		t.Errorf("report %+v", rep)
	}
	if len(deliveries) != 5 || len(rc.requests()) != 5 {
		t.Errorf("%d delivery ids, %d requests", len(deliveries), len(rc.requests()))
	}
	if b, _ := os.ReadFile(counter); strings.TrimSpace(string(b)) != "3" {
		t.Errorf("the exec hook ran %s times, want 3", b)
	}
	n := 0
	for _, r := range rec.all() {
		if r.HookID == "flaky" {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d records for the exec hook, want 3", n)
	}
	// A second Drain reports the same.
	if again := drain(t, eng); again.Delivered != 6 {
		t.Errorf("second drain %+v", again)
	}
}

func TestDrainWithoutAsyncHooks(t *testing.T) {
	t.Parallel()
	eng := engine(t, `hooks: [{id: s, on: ["*"], exec: {command: /bin/true}}]`, hookpoint.Options{})
	fireOne(t, eng)
	if rep := drain(t, eng); rep.Delivered != 0 || len(rep.Undelivered) != 0 {
		t.Errorf("report %+v", rep)
	}
}

func TestDrainDeadlineOnEngineClock(t *testing.T) {
	t.Parallel()
	// The engine runs on an injected clock far from the wall clock; a Drain budget of one
	// minute allows the retry after 30s and not the one an hour later.
	// The first answer is held until Drain has started, so that every wait is planned
	// against Drain's deadline (before Drain, retries are not bounded by one).
	release := make(chan struct{})
	var once sync.Once
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { <-release })
		statusByPath(w, r)
	})
	clock := newFakeClock()
	eng := engine(t, fmt.Sprintf(`
hooks:
  - {id: slowly, on: ["*"], mode: async, retry: {max_attempts: 5, schedule: [30s, 1h]}, http: {url: "%s/500"}}
`, rc.URL), clock.options(nil))
	fireOne(t, eng)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reports := make(chan hookpoint.AsyncReport, 1)
	go func() { reports <- eng.Drain(ctx) }()
	waitFor(t, "Drain to start", func() bool { return hookpoint.DrainStarted(eng) })
	close(release)
	rep := <-reports
	if w := clock.Waits(); !slices.Equal(w, []time.Duration{30 * time.Second}) {
		t.Errorf("waits %v, want only 30s", w)
	}
	if len(rep.Undelivered) != 1 || rep.Undelivered[0].Attempts != 2 || rep.Undelivered[0].Final {
		t.Errorf("report %+v, want 2 attempts and not final", rep)
	}
}
