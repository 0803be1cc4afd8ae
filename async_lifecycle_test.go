package hookpoint_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint"
)

// Fire may run while Drain runs (the engine is safe for concurrent use): what is fired
// once Drain has started is reported as undelivered, never lost and never a race.
func TestFireDuringDrain(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, statusByPath)
	eng := engine(t, `hooks:
  - id: note
    on: ["x"]
    mode: async
    retry: {max_attempts: 2, schedule: [1ms]}
    http: {url: "`+rc.URL+`/200"}
`, hookpoint.Options{})
	ctx := context.Background()
	var wg sync.WaitGroup
	fired := 0
	var mu sync.Mutex
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 25; j++ {
				if _, err := eng.Fire(ctx, hookpoint.NewEvent("x")); err != nil {
					t.Error(err)
				}
				mu.Lock()
				fired++
				mu.Unlock()
			}
		}()
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	time.Sleep(time.Millisecond) // let some Fire calls in first; the count below holds either way
	eng.Drain(dctx)
	wg.Wait()
	rep2 := eng.Drain(dctx)
	if rep2.Delivered+len(rep2.Undelivered) != 100 {
		t.Fatalf("delivered %d + undelivered %d, want every one of the 100 async deliveries accounted for", rep2.Delivered, len(rep2.Undelivered))
	}
	for _, u := range rep2.Undelivered {
		if !strings.Contains(u.LastError, "draining") {
			t.Errorf("undelivered %s: %q, want it to say the engine was draining", u.DeliveryID, u.LastError)
		}
	}
}

// Close stops deliveries that are waiting for a retry, so no goroutine outlives the
// engine, and they are reported.
func TestCloseStopsPendingRetries(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, statusByPath)
	c, err := hookpoint.ParseConfig("close.yaml", []byte(`hooks:
  - id: note
    on: ["x"]
    mode: async
    retry: {max_attempts: 5, schedule: [1h]}
    http: {url: "`+rc.URL+`/500"}
`))
	if err != nil {
		t.Fatal(err)
	}
	eng := hookpoint.New(c, hookpoint.Options{})
	if _, err := eng.Fire(context.Background(), hookpoint.NewEvent("x")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first attempt", func() bool { return len(rc.requests()) == 1 })
	done := make(chan struct{})
	go func() { eng.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not stop a delivery waiting an hour for its retry")
	}
	rep := eng.Drain(context.Background())
	if len(rep.Undelivered) != 1 || rep.Undelivered[0].Final || rep.Undelivered[0].Attempts != 1 {
		t.Fatalf("report after Close = %+v, want the one delivery undelivered after 1 attempt, not final", rep)
	}
}
