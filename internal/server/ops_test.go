package server_test

import (
	"net/http"
	"strings"
	"testing"
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
			strings.Contains(body, `hookpoint_attempts_total{hook="good",mode="async",outcome="ok"} 3`)
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
