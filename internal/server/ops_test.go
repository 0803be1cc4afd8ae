package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// /metrics counts attempts by hook and outcome, shows the queue, and never carries a URL
// or a secret; /readyz says when the database does not answer.
func TestMetricsAndReadiness(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/fail") {
			w.WriteHeader(500)
		}
	})
	e := newEnv(t, envOptions{})
	want(t, e.admin("POST", "/v1/hooks", map[string]any{"id": "good", "on": []string{"m.*"}, "mode": "async",
		"http": map[string]any{"url": rc.URL + "/ok/{{ secret \"p\" }}"}, "secrets": map[string]any{"p": "metric-Secret-77"}}), 201)
	want(t, e.admin("POST", "/v1/hooks", map[string]any{"id": "bad", "on": []string{"m.*"}, "mode": "async", "retry": map[string]any{"max_attempts": 1},
		"http": map[string]any{"url": rc.URL + "/fail"}}), 201)
	for i := 0; i < 3; i++ {
		want(t, e.admin("POST", "/v1/events", map[string]any{"type": "m.x"}), 200)
	}
	waitFor(t, "the six attempts", func() bool { return rc.count() == 6 })
	var body string
	waitFor(t, "the metrics of six attempts", func() bool {
		body = string(want(t, e.admin("GET", "/metrics", nil), 200).body)
		return strings.Contains(body, `hookpoint_attempts_total{hook="bad",mode="async",outcome="failed"} 3`) &&
			strings.Contains(body, `hookpoint_attempts_total{hook="good",mode="async",outcome="ok"} 3`) &&
			strings.Contains(body, `hookpoint_deliveries{status="succeeded"} 3`) && strings.Contains(body, "hookpoint_queue_depth 0")
	})
	for _, want := range []string{`hookpoint_deliveries{status="failed"} 3`, `hookpoint_deliveries{status="succeeded"} 3`,
		"hookpoint_queue_depth 0", "hookpoint_oldest_pending_seconds 0", "hookpoint_store_up 1", `hookpoint_attempt_duration_seconds_count{hook="good"} 3`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, "metric-Secret-77") || strings.Contains(body, rc.URL) {
		t.Errorf("metrics carry a URL or a secret")
	}
	// A read token may scrape; an emit token may not.
	tok := want(t, e.admin("POST", "/v1/tokens", map[string]any{"scope": "read"}), 201).json(t)["token"].(string)
	want(t, e.do("GET", "/metrics", tok, nil), 200)

	want(t, e.do("GET", "/readyz", "", nil), 200)
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	a := want(t, e.do("GET", "/readyz", "", nil), 503)
	if !strings.Contains(string(a.body), "not answering") {
		t.Errorf("readyz: %s", a.body)
	}
	want(t, e.do("GET", "/healthz", "", nil), 200)
	// An event that cannot be stored is refused, not accepted.
	a = want(t, e.admin("POST", "/v1/events", map[string]any{"type": "m.x"}), 503)
	if a.apiError(t)["code"] != "unavailable" {
		t.Errorf("%s", a.body)
	}

}

// Events and attempts older than server.retention go, with their deliveries; newer ones
// and deliveries still pending stay.
func TestRetention(t *testing.T) {
	t.Parallel()
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	rc := newReceiver(t, nil)
	e := newEnv(t, envOptions{now: now, config: fmt.Sprintf(`
hooks:
  - {id: h, on: [r.*], http: {url: "%s/h"}}
server:
  retention: 48h
`, rc.URL)})
	old := want(t, e.admin("POST", "/v1/events", map[string]any{"type": "r.old"}), 200).json(t)["event_id"].(string)
	offset.Store(int64(72 * time.Hour))
	recent := want(t, e.admin("POST", "/v1/events", map[string]any{"type": "r.new"}), 200).json(t)["event_id"].(string)
	// River's leader may have pruned already (it runs the job at start, and the clock
	// moved): what counts is what is left.
	if _, err := e.srv.Prune(context.Background()); err != nil {
		t.Fatalf("prune: %v", err)
	}
	want(t, e.admin("GET", "/v1/events/"+old, nil), 404)
	if ds := want(t, e.admin("GET", "/v1/events/"+recent, nil), 200).json(t)["deliveries"].([]any); len(ds) != 1 {
		t.Errorf("the recent event lost its delivery: %v", ds)
	}
	if ds := want(t, e.admin("GET", "/v1/deliveries?event_type=r.old", nil), 200).json(t)["deliveries"].([]any); len(ds) != 0 {
		t.Errorf("the old event's deliveries stayed: %v", ds)
	}
}
