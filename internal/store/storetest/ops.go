package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/store"
)

var countTests = map[string]func(t *testing.T, s store.Store){
	"EmptyListsAreNotNil": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		must(t, s.PutHook(ctx, newHook("h", `{}`)))
		lists := map[string]func() (int, bool, error){
			"UnfinishedEvents": func() (int, bool, error) { l, err := s.UnfinishedEvents(ctx, 0); return len(l), l == nil, err },
			"ListDeliveries": func() (int, bool, error) {
				l, err := s.ListDeliveries(ctx, store.DeliveryFilter{})
				return len(l), l == nil, err
			},
			"FailedDeliveries": func() (int, bool, error) { l, err := s.FailedDeliveries(ctx, "h", t0, 0); return len(l), l == nil, err },
			"Attempts":         func() (int, bool, error) { l, err := s.Attempts(ctx, "dlv_1"); return len(l), l == nil, err },
			"GetSecrets":       func() (int, bool, error) { l, err := s.GetSecrets(ctx, "h"); return len(l), l == nil, err },
			"ListTokens":       func() (int, bool, error) { l, err := s.ListTokens(ctx); return len(l), l == nil, err },
		}
		for name, list := range lists {
			n, isNil, err := list()
			must(t, err)
			if n != 0 || isNil {
				t.Errorf("%s on an empty store: %d elements, nil %v; want an empty slice", name, n, isNil)
			}
		}
		must(t, s.DeleteHook(ctx, "h"))
		hooks, err := s.ListHooks(ctx)
		must(t, err)
		if hooks == nil {
			t.Error("ListHooks with no hooks: nil, want an empty slice")
		}
	},
	"Empty": func(t *testing.T, s store.Store) {
		c, err := s.Counts(t.Context())
		must(t, err)
		want := &store.Counts{ByStatus: map[string]int{
			store.DeliveryQueued: 0, store.DeliveryRetrying: 0, store.DeliverySucceeded: 0,
			store.DeliveryFailed: 0, store.DeliveryCancelled: 0,
		}}
		equal(t, "Counts", c, want)
	},
	"Counts": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		withEvent(t, s, "evt_1")
		var ds []*store.Delivery
		add := func(status string, n int, created time.Time) {
			for range n {
				ds = append(ds, newDelivery(fmt.Sprintf("dlv_%02d", len(ds)), "evt_1", "h", status, created))
			}
		}
		add(store.DeliverySucceeded, 5, at(-time.Hour))
		add(store.DeliveryQueued, 3, at(time.Minute))
		add(store.DeliveryRetrying, 2, at(time.Nanosecond)) // the oldest pending
		add(store.DeliveryFailed, 4, at(-2*time.Hour))
		add(store.DeliveryCancelled, 1, at(0))
		must(t, s.InsertDeliveries(ctx, ds))

		for _, h := range []struct {
			id      string
			enabled bool
			reason  string
		}{
			{"on", true, ""},
			{"off", false, ""},
			{"auto-off", false, "410 Gone"},
			{"reason-only", true, "no success for 72h"},
		} {
			hook := newHook(h.id, `{}`)
			hook.Enabled, hook.DisabledReason = h.enabled, h.reason
			must(t, s.PutHook(ctx, hook))
		}

		c, err := s.Counts(ctx)
		must(t, err)
		want := &store.Counts{
			ByStatus: map[string]int{
				store.DeliveryQueued: 3, store.DeliveryRetrying: 2, store.DeliverySucceeded: 5,
				store.DeliveryFailed: 4, store.DeliveryCancelled: 1,
			},
			Pending:       5,
			OldestPending: ptr(at(time.Nanosecond)),
			HooksDisabled: 3,
		}
		equal(t, "Counts", c, want)
	},
}

// pruneFixture stores events whose fate under Prune(before = t0) is known.
type pruneCase struct {
	id     string
	state  string
	at     time.Time
	status []string // one delivery per status, each with two attempts
	goes   bool
}

var pruneCases = []pruneCase{
	{"evt_old_done", store.EventDone, at(-time.Hour), []string{store.DeliverySucceeded, store.DeliveryFailed, store.DeliveryCancelled}, true},
	{"evt_old_nodeliveries", store.EventDone, at(-time.Hour), nil, true},
	{"evt_old_interrupted", store.EventInterrupted, at(-time.Nanosecond), []string{store.DeliveryCancelled}, true},
	{"evt_old_retrying", store.EventDone, at(-time.Hour), []string{store.DeliverySucceeded, store.DeliveryRetrying}, false},
	{"evt_old_queued", store.EventDone, at(-time.Hour), []string{store.DeliveryQueued}, false},
	{"evt_old_received", store.EventReceived, at(-time.Hour), nil, false}, // its sync hooks may not have run
	{"evt_at_before", store.EventDone, at(0), []string{store.DeliverySucceeded}, false},
	{"evt_new", store.EventDone, at(time.Hour), []string{store.DeliveryFailed}, false},
}

func storePruneCase(t *testing.T, s store.Store, c pruneCase, attemptsAt time.Time) {
	t.Helper()
	ctx := t.Context()
	e := newEvent(c.id, c.at)
	e.State = c.state
	must(t, s.InsertEvent(ctx, e))
	for i, status := range c.status {
		d := newDelivery(fmt.Sprintf("dlv_%s_%d", c.id, i), c.id, "h", status, c.at)
		must(t, s.InsertDeliveries(ctx, []*store.Delivery{d}))
		for n := 1; n <= 2; n++ {
			a := newAttempt(d.ID, n)
			a.StartedAt = attemptsAt
			must(t, s.RecordAttempt(ctx, a, store.DeliveryUpdate{Status: status, Attempts: n, UpdatedAt: c.at}))
		}
	}
}

var pruneTests = map[string]func(t *testing.T, s store.Store){
	"WhatGoes": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		want := 0
		for _, c := range pruneCases {
			// Attempts as recent as their event, so that only the event rule applies.
			storePruneCase(t, s, c, at(time.Hour))
			if c.goes {
				want += 1 + len(c.status)*3 // the event, its deliveries, two attempts each
			}
		}
		n, err := s.Prune(ctx, t0, 100)
		must(t, err)
		if n != want {
			t.Fatalf("Prune removed %d rows, want %d", n, want)
		}
		for _, c := range pruneCases {
			_, err := s.GetEvent(ctx, c.id)
			if gone := err != nil; gone != c.goes {
				t.Errorf("%s: gone %v, want %v (%v)", c.id, gone, c.goes, err)
			}
			for i := range c.status {
				id := fmt.Sprintf("dlv_%s_%d", c.id, i)
				_, err := s.GetDelivery(ctx, id)
				if gone := err != nil; gone != c.goes {
					t.Errorf("%s: gone %v, want %v (%v)", id, gone, c.goes, err)
				}
				as, err := s.Attempts(ctx, id)
				must(t, err)
				if wantN := map[bool]int{true: 0, false: 2}[c.goes]; len(as) != wantN {
					t.Errorf("%s: %d attempts, want %d", id, len(as), wantN)
				}
			}
		}
		n, err = s.Prune(ctx, t0, 100)
		must(t, err)
		if n != 0 {
			t.Fatalf("second Prune removed %d rows", n)
		}
	},
	"OldAttempts": func(t *testing.T, s store.Store) {
		// Attempts started before before go whatever their delivery, in batches.
		ctx := t.Context()
		d := withDelivery(t, s, "dlv_1")
		for n := 1; n <= 5; n++ {
			a := newAttempt(d.ID, n)
			a.StartedAt = at(time.Duration(n-4) * time.Minute) // 1, 2, 3 before t0
			must(t, s.RecordAttempt(ctx, a, store.DeliveryUpdate{Status: store.DeliveryRetrying, Attempts: n, UpdatedAt: t0}))
		}
		n, err := s.Prune(ctx, t0, 2)
		must(t, err)
		equal(t, "rows of the first batch", n, 2)
		n, err = s.Prune(ctx, t0, 2)
		must(t, err)
		equal(t, "rows of the second batch", n, 1)
		as, err := s.Attempts(ctx, d.ID)
		must(t, err)
		equal(t, "attempts left", len(as), 2)
		equal(t, "first attempt left", as[0].N, 4)
		_, err = s.GetDelivery(ctx, d.ID)
		must(t, err)
	},
	"Batches": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		for i := range 7 {
			storePruneCase(t, s, pruneCase{id: fmt.Sprintf("evt_%d", i), state: store.EventDone,
				at: at(-time.Duration(i+1) * time.Minute), status: []string{store.DeliverySucceeded}}, at(time.Hour))
		}
		storePruneCase(t, s, pruneCases[3], at(time.Hour)) // stays
		var got []int
		for {
			n, err := s.Prune(ctx, t0, 3)
			must(t, err)
			got = append(got, n)
			if len(got) == 1 {
				// Oldest first: the first batch took evt_6, evt_5 and evt_4.
				for i := range 7 {
					_, err := s.GetEvent(ctx, fmt.Sprintf("evt_%d", i))
					if gone := err != nil; gone != (i >= 4) {
						t.Errorf("after the first batch, evt_%d gone: %v (%v)", i, gone, err)
					}
				}
			}
			if n == 0 || len(got) > 10 {
				break
			}
		}
		equal(t, "rows per batch", got, []int{12, 12, 4, 0}) // 3, 3, 1 events of 4 rows
		for i := range 7 {
			_, err := s.GetEvent(ctx, fmt.Sprintf("evt_%d", i))
			wantErr(t, "pruned event", err, store.ErrNotFound)
		}
		_, err := s.GetEvent(ctx, pruneCases[3].id)
		must(t, err)

		_, err = s.Prune(ctx, t0, 0)
		if err == nil {
			t.Fatal("Prune with a batch of 0: no error")
		}
	},
}
