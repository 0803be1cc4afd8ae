package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/store"
)

var activityTests = map[string]func(t *testing.T, s store.Store){
	"DeliveryActivity": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		withEvent(t, s, "evt_1")
		var ds []*store.Delivery
		add := func(status string, created time.Time) {
			ds = append(ds, newDelivery(fmt.Sprintf("dlv_%02d", len(ds)), "evt_1", "h", status, created))
		}
		add(store.DeliverySucceeded, at(-time.Nanosecond)) // before the first bucket
		add(store.DeliverySucceeded, at(0))                // the first instant of bucket 0
		add(store.DeliveryFailed, at(time.Minute-time.Nanosecond))
		add(store.DeliveryFailed, at(time.Minute)) // bucket 1
		add(store.DeliveryRetrying, at(2*time.Minute+30*time.Second))
		add(store.DeliveryQueued, at(3*time.Minute)) // just after the last bucket
		must(t, s.InsertDeliveries(ctx, ds))

		got, err := s.DeliveryActivity(ctx, t0.In(elsewhere), time.Minute, 3)
		must(t, err)
		counts := func(kv ...any) map[string]int {
			m := map[string]int{store.DeliveryQueued: 0, store.DeliveryRetrying: 0, store.DeliverySucceeded: 0,
				store.DeliveryFailed: 0, store.DeliveryCancelled: 0}
			for i := 0; i < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1].(int)
			}
			return m
		}
		equal(t, "DeliveryActivity", got, []store.ActivityBucket{
			{Start: at(0), ByStatus: counts(store.DeliverySucceeded, 1, store.DeliveryFailed, 1)},
			{Start: at(time.Minute), ByStatus: counts(store.DeliveryFailed, 1)},
			{Start: at(2 * time.Minute), ByStatus: counts(store.DeliveryRetrying, 1)},
		})
		for _, bad := range []struct {
			step time.Duration
			n    int
		}{{0, 3}, {time.Minute, 0}, {time.Minute, 1001}} {
			if _, err := s.DeliveryActivity(ctx, t0, bad.step, bad.n); err == nil {
				t.Errorf("DeliveryActivity(step %s, n %d): no error", bad.step, bad.n)
			}
		}
	},
	"LatestEvents": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		got, err := s.LatestEvents(ctx, 2, 10)
		must(t, err)
		if got == nil || len(got) != 0 {
			t.Fatalf("LatestEvents on an empty store: %v, want an empty slice", got)
		}
		for i, e := range []struct {
			id, source string
			at         time.Duration
		}{
			{"evt_v1", "vzdump", 0}, {"evt_v2", "vzdump", time.Minute}, {"evt_v3", "vzdump", 2 * time.Minute},
			{"evt_v0", "vzdump", 2 * time.Minute}, // the same time: the higher id is newer
			{"evt_x1", "xo", time.Hour},
			{"evt_a1", "a-source", -time.Hour},
			{"evt_z1", "zerobyte", 0},
		} {
			ev := newEvent(e.id, at(e.at))
			ev.Source = e.source
			ev.Data = map[string]any{"i": i}
			must(t, s.InsertEvent(ctx, ev))
		}
		got, err = s.LatestEvents(ctx, 2, 10)
		must(t, err)
		equal(t, "LatestEvents(2, 10)", eventIDs(got), []string{"evt_a1", "evt_v3", "evt_v0", "evt_x1", "evt_z1"})
		if got[1].Source != "vzdump" || got[1].Data == nil {
			t.Errorf("LatestEvents gives %+v, want the whole event", got[1])
		}
		got, err = s.LatestEvents(ctx, 1, 2)
		must(t, err)
		equal(t, "LatestEvents(1, 2)", eventIDs(got), []string{"evt_a1", "evt_v3"})
		got, err = s.LatestEvents(ctx, 0, 2)
		must(t, err)
		if got == nil || len(got) != 0 {
			t.Errorf("LatestEvents(0, 2): %v, want an empty slice", eventIDs(got))
		}
	},
}
