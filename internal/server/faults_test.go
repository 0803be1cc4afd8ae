package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Receivers that fail in every way a receiver can: each handled by policy, and a hook
// whose receiver hangs does not delay another hook's deliveries.
func TestFaults(t *testing.T) { onEachDriver(t, testFaults) }

func testFaults(t *testing.T, db string) {
	t.Parallel()
	hang := make(chan struct{})
	var flaky, limited atomic.Int32
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/500":
			w.WriteHeader(500)
		case "/flaky":
			if flaky.Add(1) <= 2 {
				w.WriteHeader(503)
				return
			}
		case "/slow":
			time.Sleep(2 * time.Second)
		case "/reset":
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		case "/redirect":
			w.Header().Set("Location", "https://elsewhere.example/x")
			w.WriteHeader(302)
		case "/gone":
			w.WriteHeader(410)
		case "/429":
			if limited.Add(1) == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(429)
			}
		case "/hang":
			<-hang
		}
	})
	t.Cleanup(func() { close(hang) }) // before the receiver's own cleanup waits for it
	retry := "retry: {max_attempts: 3, schedule: [50ms]}"
	e := newEnv(t, envOptions{db: db, config: fmt.Sprintf(`
hooks:
  - {id: h500, on: [f.500], mode: async, %[2]s, http: {url: "%[1]s/500"}}
  - {id: flaky, on: [f.flaky], mode: async, %[2]s, http: {url: "%[1]s/flaky"}}
  - {id: slow, on: [f.slow], mode: async, %[2]s, http: {url: "%[1]s/slow", timeout: 200ms}}
  - {id: reset, on: [f.reset], mode: async, %[2]s, http: {url: "%[1]s/reset"}}
  - {id: redirect, on: [f.redirect], mode: async, %[2]s, http: {url: "%[1]s/redirect"}}
  - {id: gone, on: [f.gone], mode: async, %[2]s, http: {url: "%[1]s/gone"}}
  - {id: limited, on: [f.429], mode: async, %[2]s, http: {url: "%[1]s/429"}}
  - {id: hang, on: [f.hang], mode: async, max_in_flight: 2, http: {url: "%[1]s/hang", timeout: 60s}}
  - {id: healthy, on: [f.healthy], mode: async, http: {url: "%[1]s/ok"}}
  - {id: alert, on: ["hookpoint.hook.*"], http: {url: "%[1]s/alert?hook={{ .data.hook_id }}&type={{ .event.type }}"}}
`, rc.URL, retry)})

	ids := map[string]string{}
	for _, typ := range []string{"500", "flaky", "slow", "reset", "redirect", "gone", "429"} {
		a := want(t, e.admin("POST", "/v1/events", map[string]any{"type": "f." + typ}), 200).json(t)
		ids[typ] = a["results"].([]any)[0].(map[string]any)["delivery_id"].(string)
	}
	// The hanging receiver holds its two workers; the healthy hook goes on.
	for i := 0; i < 4; i++ {
		want(t, e.admin("POST", "/v1/events", map[string]any{"type": "f.hang"}), 200)
	}
	var healthy []string
	for i := 0; i < 20; i++ {
		a := want(t, e.admin("POST", "/v1/events", map[string]any{"type": "f.healthy"}), 200).json(t)
		healthy = append(healthy, a["results"].([]any)[0].(map[string]any)["delivery_id"].(string))
	}
	for _, id := range healthy {
		waitFor(t, "healthy deliveries while another receiver hangs", func() bool {
			d, _ := e.delivery(id)
			return d["status"] == "succeeded"
		})
	}
	hangs := 0
	for i := 0; i < rc.count(); i++ {
		if r, _ := rc.request(i); r.URL.Path == "/hang" {
			hangs++
		}
	}
	if hangs != 2 {
		t.Errorf("%d attempts at the hanging receiver at once, want its max_in_flight 2", hangs)
	}

	final := func(typ, status string) (map[string]any, []any) {
		t.Helper()
		var d map[string]any
		var as []any
		waitFor(t, typ+" to end "+status, func() bool {
			d, as = e.delivery(ids[typ])
			return d["status"] == status
		})
		return d, as
	}
	for _, typ := range []string{"500", "slow", "reset", "redirect"} {
		d, as := final(typ, "failed")
		if d["attempts"].(float64) != 3 || len(as) != 3 {
			t.Errorf("%s: %v attempts, want 3 (max_attempts)", typ, d["attempts"])
		}
	}
	if _, as := final("slow", "failed"); as[0].(map[string]any)["outcome"] != "timeout" {
		t.Errorf("slow: outcome %v", as[0])
	}
	if d, _ := final("redirect", "failed"); !strings.Contains(d["last_error"].(string), "https://elsewhere.example/x") {
		t.Errorf("redirect: the Location is not recorded: %v", d["last_error"])
	}
	if d, as := final("flaky", "succeeded"); d["attempts"].(float64) != 3 || len(as) != 3 {
		t.Errorf("flaky: %v", d)
	}
	// Every attempt of one delivery carries the same webhook id.
	seen := map[string]int{}
	for i := 0; i < rc.count(); i++ {
		if r, _ := rc.request(i); r.URL.Path == "/flaky" {
			seen[r.Header.Get("X-Hookpoint-Delivery")]++
		}
	}
	if len(seen) != 1 || seen[ids["flaky"]] != 3 {
		t.Errorf("flaky attempts carried delivery ids %v, want %s three times", seen, ids["flaky"])
	}
	// 429 with Retry-After: a wait that uses up no attempt.
	if d, as := final("429", "succeeded"); d["attempts"].(float64) != 1 || d["snoozes"].(float64) != 1 || len(as) != 2 {
		t.Errorf("429: %v, %d attempts recorded", d, len(as))
	}
	// 410 Gone: one attempt, the hook disabled, and an event another hook alerts on.
	if d, as := final("gone", "failed"); d["attempts"].(float64) != 1 || len(as) != 1 {
		t.Errorf("gone: %v", d)
	}
	h := want(t, e.admin("GET", "/v1/hooks/gone", nil), 200).json(t)
	if h["enabled"] != false || !strings.Contains(fmt.Sprint(h["disabled_reason"]), "410") {
		t.Errorf("after 410 the hook is %v", h)
	}
	waitFor(t, "the alert on hookpoint.hook.disabled", func() bool {
		for i := 0; i < rc.count(); i++ {
			if r, _ := rc.request(i); r.URL.Path == "/alert" && r.URL.Query().Get("hook") == "gone" && r.URL.Query().Get("type") == "hookpoint.hook.disabled" {
				return true
			}
		}
		return false
	})
}

// A failed delivery can be retried by hand; recover queues every failed delivery of a
// hook since a time, once its receiver is back.
func TestRetryAndRecover(t *testing.T) { onEachDriver(t, testRetryAndRecover) }

func testRetryAndRecover(t *testing.T, db string) {
	t.Parallel()
	var down atomic.Bool
	down.Store(true)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			w.WriteHeader(502)
		}
	})
	e := newEnv(t, envOptions{db: db, config: fmt.Sprintf(`
hooks:
  - {id: ping, on: ["job.*"], mode: async, retry: {max_attempts: 1}, http: {url: "%s/ping"}}
`, rc.URL)})
	since := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	var ids []string
	for i := 0; i < 5; i++ {
		a := want(t, e.admin("POST", "/v1/events", map[string]any{"type": "job.end", "data": map[string]any{"n": i}}), 200).json(t)
		ids = append(ids, a["results"].([]any)[0].(map[string]any)["delivery_id"].(string))
	}
	for _, id := range ids {
		waitFor(t, "the failure", func() bool { d, _ := e.delivery(id); return d["status"] == "failed" })
	}
	// Listing with filters and a cursor, newest first.
	page := want(t, e.admin("GET", "/v1/deliveries?hook_id=ping&status=failed&limit=2", nil), 200).json(t)
	got := page["deliveries"].([]any)
	if len(got) != 2 || got[0].(map[string]any)["id"] != ids[4] || page["next_cursor"] != ids[3] {
		t.Fatalf("page 1 %v", page)
	}
	page = want(t, e.admin("GET", "/v1/deliveries?hook_id=ping&status=failed&limit=2&cursor="+ids[3], nil), 200).json(t)
	if got := page["deliveries"].([]any); len(got) != 2 || got[0].(map[string]any)["id"] != ids[2] {
		t.Errorf("page 2 %v", page)
	}
	if n := len(want(t, e.admin("GET", "/v1/deliveries?event_type=job.*&status=succeeded", nil), 200).json(t)["deliveries"].([]any)); n != 0 {
		t.Errorf("%d succeeded", n)
	}

	down.Store(false)
	// One by hand: a pending one cannot be retried twice.
	want(t, e.admin("POST", "/v1/deliveries/"+ids[0]+"/retry", nil), 202)
	waitFor(t, "the retried delivery", func() bool { d, _ := e.delivery(ids[0]); return d["status"] == "succeeded" })
	if d, as := e.delivery(ids[0]); d["attempts"].(float64) != 2 || len(as) != 2 {
		t.Errorf("retried: %v", d)
	}
	// The rest in bulk.
	a := want(t, e.admin("POST", "/v1/hooks/ping/recover", map[string]any{"since": since}), 202).json(t)
	if a["requeued"].(float64) != 4 {
		t.Errorf("recover %v", a)
	}
	for _, id := range ids[1:] {
		waitFor(t, "the recovered delivery "+id, func() bool {
			d, _ := e.delivery(id)
			if d["status"] != "succeeded" {
				t.Logf("%v", d)
			}
			return d["status"] == "succeeded"
		})
	}
	if a := want(t, e.admin("POST", "/v1/hooks/ping/recover", map[string]any{"since": since}), 202).json(t); a["requeued"].(float64) != 0 {
		t.Errorf("a second recover requeued %v", a["requeued"])
	}
}

// A hook failing without a success for auto_disable_after is disabled, and the server
// says so with events another hook routes: failing at the first failure, disabled at the
// end of the span, recovered at the first success after re-enabling.
func TestAutoDisableAndStateEvents(t *testing.T) { onEachDriver(t, testAutoDisableAndStateEvents) }

func testAutoDisableAndStateEvents(t *testing.T, db string) {
	t.Parallel()
	var up atomic.Bool
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/flaky" && !up.Load() {
			w.WriteHeader(500)
		}
	})
	e := newEnv(t, envOptions{db: db, config: fmt.Sprintf(`
hooks:
  - {id: flaky, on: [s.x], http: {url: "%[1]s/flaky"}}
  - {id: alert, on: ["hookpoint.hook.*"], http: {url: "%[1]s/alert?hook={{ .data.hook_id }}&type={{ .event.type }}&reason={{ .data.reason }}"}}
server:
  auto_disable_after: 300ms
`, rc.URL)})
	alerts := func() []string {
		var out []string
		for i := 0; i < rc.count(); i++ {
			if r, _ := rc.request(i); r.URL.Path == "/alert" && r.URL.Query().Get("hook") == "flaky" {
				out = append(out, r.URL.Query().Get("type"))
			}
		}
		return out
	}
	want(t, e.admin("POST", "/v1/events", map[string]any{"type": "s.x"}), 200)
	waitFor(t, "hookpoint.hook.failing", func() bool { return fmt.Sprint(alerts()) == "[hookpoint.hook.failing]" })
	time.Sleep(350 * time.Millisecond) // past auto_disable_after
	want(t, e.admin("POST", "/v1/events", map[string]any{"type": "s.x"}), 200)
	waitFor(t, "hookpoint.hook.disabled", func() bool {
		return fmt.Sprint(alerts()) == "[hookpoint.hook.failing hookpoint.hook.disabled]"
	})
	h := want(t, e.admin("GET", "/v1/hooks/flaky", nil), 200).json(t)
	if h["enabled"] != false || !strings.Contains(fmt.Sprint(h["disabled_reason"]), "without a success") {
		t.Errorf("after the span: %v", h)
	}
	n := rc.count()
	want(t, e.admin("POST", "/v1/events", map[string]any{"type": "s.x"}), 200)
	if rc.count() != n {
		t.Errorf("a disabled hook was called")
	}
	up.Store(true)
	want(t, e.admin("POST", "/v1/hooks/flaky/enable", nil), 200)
	want(t, e.admin("POST", "/v1/events", map[string]any{"type": "s.x"}), 200)
	waitFor(t, "hookpoint.hook.recovered", func() bool {
		return fmt.Sprint(alerts()) == "[hookpoint.hook.failing hookpoint.hook.disabled hookpoint.hook.recovered]"
	})
}

// Replacing a hook whose attempts hang cancels them; they and the ones waiting are made
// again as the hook now says (a slot is never lost to the old version), and deleting a
// hook ends its pending deliveries; a hook made again with the same id does not inherit
// them.
func TestChangingABusyHook(t *testing.T) { onEachDriver(t, testChangingABusyHook) }

func testChangingABusyHook(t *testing.T, db string) {
	t.Parallel()
	hang := make(chan struct{})
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		}
	})
	t.Cleanup(func() { close(hang) })
	e := newEnv(t, envOptions{db: db})
	def := func(path string) map[string]any {
		return map[string]any{"id": "busy", "on": []string{"b.*"}, "mode": "async", "max_in_flight": 2,
			"retry": map[string]any{"max_attempts": 2, "schedule": []string{"50ms"}}, "http": map[string]any{"url": rc.URL + path, "timeout": "60s"}}
	}
	want(t, e.admin("POST", "/v1/hooks", def("/hang")), 201)
	var ids []string
	for i := 0; i < 3; i++ {
		a := want(t, e.admin("POST", "/v1/events", map[string]any{"type": "b.x"}), 200).json(t)
		ids = append(ids, a["results"].([]any)[0].(map[string]any)["delivery_id"].(string))
	}
	waitFor(t, "two attempts hanging", func() bool { return rc.count() == 2 })
	want(t, e.admin("PUT", "/v1/hooks/busy", def("/ok")), 200)
	a := want(t, e.admin("POST", "/v1/events", map[string]any{"type": "b.y"}), 200).json(t)
	ids = append(ids, a["results"].([]any)[0].(map[string]any)["delivery_id"].(string))
	for _, id := range ids {
		waitFor(t, "every delivery made as the hook now says", func() bool { d, _ := e.delivery(id); return d["status"] == "succeeded" })
	}
	// The cut attempts were not recorded: each delivery has one attempt, to /ok.
	for _, id := range ids {
		if _, as := e.delivery(id); len(as) != 1 || !strings.HasSuffix(as[0].(map[string]any)["request"].(map[string]any)["url"].(string), "/ok") {
			t.Errorf("%s: attempts %v", id, as)
		}
	}

	// Deleting ends pending deliveries at once; a new hook of the same id does not get
	// the old one's failures through recover or retry.
	want(t, e.admin("PUT", "/v1/hooks/busy", def("/hang")), 200)
	a = want(t, e.admin("POST", "/v1/events", map[string]any{"type": "b.z"}), 200).json(t)
	pending := a["results"].([]any)[0].(map[string]any)["delivery_id"].(string)
	waitFor(t, "the attempt hanging again", func() bool { return rc.count() >= 7 })
	want(t, e.admin("DELETE", "/v1/hooks/busy", nil), 204)
	waitFor(t, "the pending delivery cancelled", func() bool { d, _ := e.delivery(pending); return d["status"] == "cancelled" })
	want(t, e.admin("POST", "/v1/hooks", def("/ok")), 201)
	r := want(t, e.admin("POST", "/v1/hooks/busy/recover", map[string]any{"since": "2000-01-01T00:00:00Z"}), 202).json(t)
	if r["requeued"].(float64) != 0 {
		t.Errorf("a new hook recovered an old one's deliveries: %v", r)
	}
	want(t, e.admin("POST", "/v1/deliveries/"+pending+"/retry", nil), 409)
}
