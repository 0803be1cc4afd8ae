package main

// End-to-end tests of `hookpoint serve` through a crash and a shutdown: SIGKILL while
// deliveries are in flight, then SIGTERM with deliveries slower than the grace, each
// followed by a restart on the same database. The receiver is slow on purpose and
// records the delivery id and webhook-id of every request, so that the tests can tell
// a delivery lost from one repeated, and a repeat with a new id from one with the same.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	serveToken = "e2e-serve-admin-token-0123456789"
	// serveSecret signs the deliveries, so that they carry a webhook-id.
	serveSecret = "whsec_aG9va3BvaW50LWNyYXNoLXRlc3Qta2V5"
)

// serveHook is the config of the tests: one async hook to the receiver.
const serveHook = `hooks:
  - id: slow
    on: ["backup.*"]
    mode: async
    max_in_flight: %d
    http:
      url: "RECV/deliver"
      timeout: 60s
      sign: {secret: '{{ env "E2E_WHSEC" }}'}
`

// slowReceiver holds each request for delay, and before that until its gate is open.
// It counts the requests it holds at once for each life of the server (epoch).
type slowReceiver struct {
	srv   *httptest.Server
	delay time.Duration

	mu    sync.Mutex
	gate  chan struct{}
	epoch int
	held  map[int]int    // epoch → requests held now
	peak  map[int]int    // epoch → most requests held at once
	now   map[string]int // delivery id → its requests held now
	hits  []hit
}

// hit is one request the receiver got.
type hit struct {
	delivery  string // X-Hookpoint-Delivery
	webhookID string // webhook-id
	epoch     int
	at        time.Time
	answered  bool
	cut       time.Time // when the client went away before the answer
}

func newSlowReceiver(t *testing.T, delay time.Duration) *slowReceiver {
	t.Helper()
	r := &slowReceiver{delay: delay, gate: make(chan struct{}), held: map[int]int{}, peak: map[int]int{}, now: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() {
		r.open()
		r.srv.Close()
	})
	return r
}

func (r *slowReceiver) URL() string { return r.srv.URL }

func (r *slowReceiver) serve(w http.ResponseWriter, req *http.Request) {
	_, _ = io.Copy(io.Discard, req.Body)
	d := req.Header.Get("X-Hookpoint-Delivery")
	r.mu.Lock()
	ep, gate := r.epoch, r.gate
	r.hits = append(r.hits, hit{delivery: d, webhookID: req.Header.Get("Webhook-Id"), epoch: ep, at: time.Now()})
	i := len(r.hits) - 1
	r.held[ep]++
	r.peak[ep] = max(r.peak[ep], r.held[ep])
	r.now[d]++
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.held[ep]--
		if r.now[d]--; r.now[d] == 0 {
			delete(r.now, d)
		}
		r.mu.Unlock()
	}()
	cut := func() {
		r.mu.Lock()
		r.hits[i].cut = time.Now()
		r.mu.Unlock()
	}
	select {
	case <-gate:
	case <-req.Context().Done():
		cut()
		return
	}
	select {
	case <-time.After(r.delay):
	case <-req.Context().Done():
		cut()
		return
	}
	w.WriteHeader(http.StatusOK)
	r.mu.Lock()
	r.hits[i].answered = true
	r.mu.Unlock()
}

// open lets the requests through (once).
func (r *slowReceiver) open() {
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.gate:
	default:
		close(r.gate)
	}
}

// nextEpoch starts counting for the next life of the server.
func (r *slowReceiver) nextEpoch() {
	r.mu.Lock()
	r.epoch++
	r.mu.Unlock()
}

// holding returns the delivery ids of the requests held now.
func (r *slowReceiver) holding() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for d := range r.now {
		ids = append(ids, d)
	}
	return ids
}

func (r *slowReceiver) snapshot() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit(nil), r.hits...)
}

// answered is how many requests were answered.
func (r *slowReceiver) answered() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, h := range r.hits {
		if h.answered {
			n++
		}
	}
	return n
}

func (r *slowReceiver) peakOf(epoch int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peak[epoch]
}

// crashServe is a `hookpoint serve` of these tests (startServe of e2e_serve_test.go).
type crashServe struct{ *serveProc }

// startCrashServe starts `hookpoint serve` on the database in dir with the config file.
func startCrashServe(t *testing.T, dir, config string, rcv *slowReceiver, args ...string) crashServe {
	t.Helper()
	env := childEnv(t, "HOOKPOINT_TOKEN="+serveToken, "E2E_WHSEC="+serveSecret)
	// synchronous=NORMAL keeps every commit through a crash of the process, which is
	// what these tests do (FULL differs only on a power loss), without an fsync per
	// commit that would make them crawl on a busy disk.
	argv := append([]string{"--config", config, "--db", "sqlite://" + filepath.Join(dir, "hookpoint.db"),
		"--allow-origin", rcv.URL(), "--sqlite-synchronous", "NORMAL"}, args...)
	return crashServe{startServe(t, dir, env, argv...)}
}

var serveClient = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

// api sends a request with the admin token and decodes the JSON answer into out.
func (s crashServe) api(method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+serveToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := serveClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}

// submitted is an event the server accepted, with the id of its async delivery.
type submitted struct{ event, delivery string }

// submit posts n events, batch at a time from batch clients, each batch answered before
// the next, and returns them with their delivery ids.
func (s crashServe) submit(t *testing.T, n, batch int) []submitted {
	t.Helper()
	out := make([]submitted, n)
	for start := 0; start < n; start += batch {
		var wg sync.WaitGroup
		errs := make(chan error, batch)
		for i := start; i < min(start+batch, n); i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var ans struct {
					EventID string `json:"event_id"`
					Results []struct {
						HookID     string `json:"hook_id"`
						DeliveryID string `json:"delivery_id"`
						Outcome    string `json:"outcome"`
					} `json:"results"`
				}
				ev := map[string]any{"type": "backup.end", "status": "success", "data": map[string]any{"n": i}}
				if err := s.api("POST", "/v1/events", ev, &ans); err != nil {
					errs <- err
					return
				}
				if len(ans.Results) != 1 || ans.Results[0].Outcome != "queued" || ans.Results[0].DeliveryID == "" {
					errs <- fmt.Errorf("event %d answered %+v", i, ans)
					return
				}
				out[i] = submitted{ans.EventID, ans.Results[0].DeliveryID}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	return out
}

// pending is how many deliveries are queued or retrying.
func (s crashServe) pending() (int, error) {
	var ans struct {
		Deliveries []json.RawMessage `json:"deliveries"`
	}
	err := s.api("GET", "/v1/deliveries?status=queued,retrying&limit=500", nil, &ans)
	return len(ans.Deliveries), err
}

// waitDelivered waits until no delivery is queued or retrying, with a deadline far
// beyond what the work needs on a loaded machine and far below River's rescue of stuck
// jobs.
func (s crashServe) waitDelivered(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		n, err := s.pending()
		if err == nil && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries still pending after 2 minutes: %d (err %v)\n%s", n, err, s.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// wantNoneFailed checks that no delivery failed or was cancelled.
func (s crashServe) wantNoneFailed(t *testing.T) {
	t.Helper()
	var ans struct {
		Deliveries []map[string]any `json:"deliveries"`
	}
	if err := s.api("GET", "/v1/deliveries?status=failed,cancelled&limit=10", nil, &ans); err != nil {
		t.Fatal(err)
	}
	if len(ans.Deliveries) > 0 {
		t.Errorf("%d deliveries failed or were cancelled, first: %v", len(ans.Deliveries), ans.Deliveries[0])
	}
}

// byDelivery groups the hits by delivery id, checking that each carries its delivery id
// as its webhook-id.
func byDelivery(t *testing.T, hits []hit) map[string][]hit {
	t.Helper()
	m := map[string][]hit{}
	for _, h := range hits {
		if h.webhookID != h.delivery {
			t.Errorf("a request of delivery %q has webhook-id %q", h.delivery, h.webhookID)
		}
		m[h.delivery] = append(m[h.delivery], h)
	}
	return m
}

// SIGKILL with deliveries in flight, then a restart on the same database: every event
// accepted is delivered, only deliveries in flight at the kill are sent twice, with the
// same webhook-id, and the deliveries resume at the restart, not after River's rescue
// of stuck jobs.
func TestServeKillWithDeliveriesInFlight(t *testing.T) {
	const (
		events      = 2000
		maxInFlight = 16
	)
	rcv := newSlowReceiver(t, 40*time.Millisecond)
	dir := t.TempDir()
	config := writeConfig(t, nil, "hookpoint.yaml", strings.ReplaceAll(fmt.Sprintf(serveHook, maxInFlight), "RECV", rcv.URL()))

	hp := startCrashServe(t, dir, config, rcv, "--workers", "16")
	// The receiver holds the first requests while the events go in, so that a backlog
	// is waiting when it lets them through.
	start := time.Now()
	accepted := hp.submit(t, events, 64)
	t.Logf("%d events accepted in %s", events, time.Since(start).Round(time.Millisecond))
	rcv.open()
	start = time.Now()
	eventually(t, "a quarter of the deliveries", func() bool { return rcv.answered() >= events/4 })
	t.Logf("%d answered in %s", events/4, time.Since(start).Round(time.Millisecond))
	inFlight := len(rcv.holding())
	killedAt := time.Now()
	if err := hp.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-hp.done
	before := rcv.snapshot()
	rcv.nextEpoch()

	restartedAt := time.Now()
	hp = startCrashServe(t, dir, config, rcv, "--workers", "16")
	hp.waitDelivered(t)
	t.Logf("all delivered %s after the restart", time.Since(restartedAt).Round(time.Millisecond))
	hp.wantNoneFailed(t)

	hits := rcv.snapshot()
	deliveries := byDelivery(t, hits)
	for _, s := range accepted {
		if len(deliveries[s.delivery]) == 0 {
			t.Errorf("event %s: delivery %s never reached the receiver", s.event, s.delivery)
		}
	}
	var dups []string
	for id, hs := range deliveries {
		if len(hs) == 1 {
			continue
		}
		dups = append(dups, id)
		// A delivery is sent at most once by each life of the server, and again only
		// when the first life was killed before it recorded the attempt.
		if len(hs) != 2 || hs[0].epoch != 0 || hs[1].epoch != 1 {
			t.Errorf("delivery %s sent %d times, in lives %v", id, len(hs), epochs(hs))
		}
	}
	// An attempt holds its hook's max_in_flight slot until it is recorded, so at most
	// that many attempts can be sent but not recorded when the server dies.
	if len(dups) > maxInFlight {
		t.Errorf("%d deliveries sent twice, more than max_in_flight (%d): %v", len(dups), maxInFlight, dups)
	}
	for ep := 0; ep <= 1; ep++ {
		if p := rcv.peakOf(ep); p > maxInFlight {
			t.Errorf("life %d of the server held %d requests at once, max_in_flight is %d", ep, p, maxInFlight)
		}
	}
	answeredBefore := 0
	for _, h := range before {
		if h.answered {
			answeredBefore++
		}
	}
	first := hits[len(before)].at // the restart sent at least the deliveries cut by the kill
	t.Logf("%d events; %d answered before the kill; %d requests in flight at the kill (at most %d at once); %d deliveries sent twice, each with the same webhook-id",
		events, answeredBefore, inFlight, rcv.peakOf(0), len(dups))
	t.Logf("first delivery %s after the restart (%s after the kill)", first.Sub(restartedAt).Round(time.Millisecond), first.Sub(killedAt).Round(time.Millisecond))
}

func epochs(hs []hit) []int {
	var out []int
	for _, h := range hs {
		out = append(out, h.epoch)
	}
	return out
}

// SIGTERM with deliveries in flight to a receiver slower than the grace: the server
// exits soon after the grace, and after a restart those deliveries complete with the
// webhook-id they were first sent with.
func TestServeTermWithSlowDeliveries(t *testing.T) {
	const (
		events      = 12
		maxInFlight = 4
		grace       = 2 * time.Second
	)
	rcv := newSlowReceiver(t, 10*time.Millisecond)
	dir := t.TempDir()
	config := writeConfig(t, nil, "hookpoint.yaml", strings.ReplaceAll(fmt.Sprintf(serveHook, maxInFlight), "RECV", rcv.URL()))

	hp := startCrashServe(t, dir, config, rcv, "--shutdown-timeout", grace.String())
	accepted := hp.submit(t, events, events)
	// The gate stays shut: the receiver is slower than any grace.
	eventually(t, "max_in_flight requests held by the receiver", func() bool { return len(rcv.holding()) == maxInFlight })
	held := rcv.holding()

	termAt := time.Now()
	if err := hp.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-hp.done:
	case <-time.After(grace + 30*time.Second):
		t.Fatalf("serve still running %s after SIGTERM with a grace of %s\n%s", time.Since(termAt).Round(time.Millisecond), grace, hp.output())
	}
	exited := time.Since(termAt)
	if code := hp.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("serve exited with status %d after SIGTERM, want 0\n%s", code, hp.output())
	}
	before := rcv.snapshot()
	for _, h := range before {
		if h.cut.IsZero() {
			t.Errorf("delivery %s was answered, but the receiver held every request", h.delivery)
		} else {
			t.Logf("delivery %s: the server gave up its request %s after SIGTERM", h.delivery, h.cut.Sub(termAt).Round(time.Millisecond))
		}
	}

	rcv.nextEpoch()
	rcv.open()
	hp = startCrashServe(t, dir, config, rcv, "--shutdown-timeout", grace.String())
	hp.waitDelivered(t)
	hp.wantNoneFailed(t)
	deliveries := byDelivery(t, rcv.snapshot())
	for _, s := range accepted {
		hs := deliveries[s.delivery]
		if len(hs) == 0 || hs[len(hs)-1].epoch != 1 || !hs[len(hs)-1].cut.IsZero() {
			t.Errorf("event %s: delivery %s was not answered after the restart: %d requests", s.event, s.delivery, len(hs))
		}
	}
	for _, id := range held {
		if hs := deliveries[id]; len(hs) != 2 || hs[0].epoch != 0 || hs[1].epoch != 1 {
			t.Errorf("delivery %s, in flight at SIGTERM, was sent %d times in lives %v; want once before and once after the restart", id, len(hs), epochs(hs))
		}
	}
	t.Logf("exited %s after SIGTERM (grace %s); %d deliveries in flight then, each sent again with its webhook-id after the restart",
		exited.Round(time.Millisecond), grace, len(held))
}
