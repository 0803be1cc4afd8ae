package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/store"
)

// withDelivery stores an event and a queued delivery of it.
func withDelivery(t *testing.T, s store.Store, id string) *store.Delivery {
	t.Helper()
	withEvent(t, s, "evt_"+id)
	d := newDelivery(id, "evt_"+id, "h", store.DeliveryQueued, t0)
	must(t, s.InsertDeliveries(t.Context(), []*store.Delivery{d}))
	return d
}

func newAttempt(deliveryID string, n int) *store.Attempt {
	return &store.Attempt{
		DeliveryID:  deliveryID,
		N:           n,
		HookVersion: 1,
		StartedAt:   at(time.Duration(n) * time.Minute),
		DurationMS:  12.5,
		Outcome:     "failed",
		StatusCode:  500,
	}
}

var attemptTests = map[string]func(t *testing.T, s store.Store){
	"RoundTrip": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		d := withDelivery(t, s, "dlv_1")
		first := &store.Attempt{
			DeliveryID:  d.ID,
			N:           1,
			HookVersion: 3,
			StartedAt:   at(time.Nanosecond).In(elsewhere),
			DurationMS:  1234.567891,
			Outcome:     "timeout",
			Error:       "context deadline exceeded — «ünï»",
			Node:        "node-ü",
		} // ExitCode and Request nil
		second := &store.Attempt{
			DeliveryID:  d.ID,
			N:           2,
			HookVersion: 4,
			StartedAt:   at(time.Minute + 2*time.Nanosecond),
			DurationMS:  0.001,
			Outcome:     "ok",
			StatusCode:  200,
			ExitCode:    ptr(0), // zero, not nil
			Response:    strings.Repeat("réponse ", 10_000),
			Request:     []byte(`{"method":"POST","url":"https://example.com/","headers":{"Authorization":"Bearer ****"}}`),
		}
		u1 := store.DeliveryUpdate{Status: store.DeliveryRetrying, Attempts: 1, NextAttemptAt: ptr(at(time.Minute)), LastError: first.Error, UpdatedAt: at(time.Second)}
		u2 := store.DeliveryUpdate{Status: store.DeliverySucceeded, Attempts: 2, Snoozes: 1, LastStatus: 200, UpdatedAt: at(2 * time.Minute)}
		must(t, s.RecordAttempt(ctx, first, u1))
		must(t, s.RecordAttempt(ctx, second, u2))
		if first.ID <= 0 || second.ID <= first.ID {
			t.Fatalf("attempt ids %d then %d: want positive and growing", first.ID, second.ID)
		}
		got, err := s.Attempts(ctx, d.ID)
		must(t, err)
		equal(t, "Attempts", got, []*store.Attempt{first, second})
		want := applyUpdate(*d, u2)
		gotD, err := s.GetDelivery(ctx, d.ID)
		must(t, err)
		equal(t, "delivery after RecordAttempt", gotD, &want)

		exit := newAttempt(d.ID, 3)
		exit.ExitCode = ptr(-1)
		must(t, s.RecordAttempt(ctx, exit, u2))
		got, err = s.Attempts(ctx, d.ID)
		must(t, err)
		equal(t, "Attempts", got, []*store.Attempt{first, second, exit})

		got, err = s.Attempts(ctx, "dlv_missing")
		must(t, err)
		equal(t, "Attempts of an unknown delivery", len(got), 0)
	},
	"StaleNumber": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		d := withDelivery(t, s, "dlv_1")
		u := store.DeliveryUpdate{Status: store.DeliveryRetrying, Attempts: 2, LastError: "500", LastStatus: 500, UpdatedAt: at(time.Minute)}
		// Attempt 2 was rescued while its worker hung, and attempt 3 recorded; then the
		// stale worker of attempt 2 comes back.
		must(t, s.RecordAttempt(ctx, newAttempt(d.ID, 1), u))
		must(t, s.RecordAttempt(ctx, newAttempt(d.ID, 3), u))
		before, err := s.Attempts(ctx, d.ID)
		must(t, err)

		stale := store.DeliveryUpdate{Status: store.DeliverySucceeded, Attempts: 2, LastStatus: 200, UpdatedAt: at(time.Hour)}
		for _, n := range []int{2, 3, 1} { // an older number not recorded, the same, an older recorded
			a := newAttempt(d.ID, n)
			a.Outcome = "ok"
			wantErr(t, "RecordAttempt of a recorded number", s.RecordAttempt(ctx, a, stale), store.ErrConflict)
			if a.ID != 0 {
				t.Fatalf("refused attempt got id %d", a.ID)
			}
		}
		after, err := s.Attempts(ctx, d.ID)
		must(t, err)
		equal(t, "Attempts after refusals", after, before)
		want := applyUpdate(*d, u)
		got, err := s.GetDelivery(ctx, d.ID)
		must(t, err)
		equal(t, "delivery after refusals", got, &want)

		// The next number is still welcome.
		must(t, s.RecordAttempt(ctx, newAttempt(d.ID, 4), stale))

		err = s.RecordAttempt(ctx, newAttempt("dlv_missing", 1), u)
		wantErr(t, "RecordAttempt of an unknown delivery", err, store.ErrNotFound)
	},
	"NumbersPerDelivery": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		a := withDelivery(t, s, "dlv_a")
		b := withDelivery(t, s, "dlv_b")
		u := store.DeliveryUpdate{Status: store.DeliveryRetrying, Attempts: 1, UpdatedAt: t0}
		must(t, s.RecordAttempt(ctx, newAttempt(a.ID, 1), u))
		must(t, s.RecordAttempt(ctx, newAttempt(b.ID, 1), u))
	},
	"AtomicInTx": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		d := withDelivery(t, s, "dlv_1")
		err := s.InTx(ctx, func(tx store.Tx) error {
			must(t, tx.RecordAttempt(ctx, newAttempt(d.ID, 1), store.DeliveryUpdate{Status: store.DeliveryFailed, Attempts: 1, UpdatedAt: at(time.Hour)}))
			got, err := tx.Attempts(ctx, d.ID)
			must(t, err)
			equal(t, "Attempts inside the transaction", len(got), 1)
			return errBoom
		})
		wantErr(t, "InTx", err, errBoom)
		got, err := s.Attempts(ctx, d.ID)
		must(t, err)
		equal(t, "Attempts after rollback", len(got), 0)
		gotD, err := s.GetDelivery(ctx, d.ID)
		must(t, err)
		equal(t, "delivery after rollback", gotD, d)
		// The number was not used up.
		must(t, s.RecordAttempt(ctx, newAttempt(d.ID, 1), store.DeliveryUpdate{Status: store.DeliveryRetrying, Attempts: 1, UpdatedAt: t0}))
	},
}
