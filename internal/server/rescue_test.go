package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookpoint/hookpoint/internal/store"
)

// On PostgreSQL a server starting does not take back the jobs left running, since
// another node may be running them: River's rescuer gives back only those running for
// longer than their hook's timeout plus the grace, which a dead node's are.
func TestPostgresRescuesOnlyDeadNodesJobs(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	now := time.Now()
	e := newEnv(t, envOptions{db: "postgres", config: fmt.Sprintf(`
hooks:
  - {id: h, on: [r.x], mode: async, http: {url: %q, timeout: 1s}}
`, rc.URL+"/h"), prepare: func(st store.Store) {
		ctx := t.Context()
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(st.InsertEvent(ctx, &store.Event{ID: "evt_1", Type: "r.x", Source: "test", Time: now, ReceivedAt: now, Origin: "api", State: store.EventDone}))
		// Two jobs another node took: one a minute ago (the node died), one now (it is
		// still at work on it).
		for _, j := range []struct {
			id  string
			ago string
		}{{"dlv_dead", "1 minute"}, {"dlv_alive", "0 seconds"}} {
			must(st.InsertDeliveries(ctx, []*store.Delivery{{ID: j.id, EventID: "evt_1", EventType: "r.x", HookID: "h",
				HookVersion: 1, Mode: "async", Status: store.DeliveryQueued, CreatedAt: now, UpdatedAt: now}}))
			_, err := st.Raw().(*pgxpool.Pool).Exec(ctx, `INSERT INTO river_job (state, attempt, max_attempts, attempted_at,
					attempted_by, args, kind, queue) VALUES ('running', 1, 1000, now() - $1::interval, '{node-b}', $2, 'hookpoint.delivery', 'hookpoint_delivery')`,
				j.ago, fmt.Sprintf(`{"delivery_id": %q, "from": 1, "hook_id": "h"}`, j.id))
			must(err)
		}
	}})

	waitFor(t, "the dead node's delivery", func() bool {
		d, _ := e.delivery("dlv_dead")
		return d["status"] == "succeeded"
	})
	time.Sleep(time.Second)
	if n := rc.count(); n != 1 {
		t.Fatalf("%d requests, want 1 (the dead node's job, not the live one's)", n)
	}
	if r, _ := rc.request(0); r.Header.Get("X-Hookpoint-Delivery") != "dlv_dead" {
		t.Errorf("X-Hookpoint-Delivery %q, want the delivery's id", r.Header.Get("X-Hookpoint-Delivery"))
	}
	var state string
	err := e.store.Raw().(*pgxpool.Pool).QueryRow(context.Background(),
		`SELECT state FROM river_job WHERE args->>'delivery_id' = 'dlv_alive'`).Scan(&state)
	if err != nil || state != "running" {
		t.Fatalf("the live node's job: %q, %v; want it left running", state, err)
	}
	if d, _ := e.delivery("dlv_alive"); d["status"] != "queued" {
		t.Fatalf("the live node's delivery: %v", d)
	}
}
