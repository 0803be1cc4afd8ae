package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/store"
)

// writeEverything writes one row of every kind through q.
func writeEverything(t *testing.T, q store.Queries) {
	t.Helper()
	ctx := t.Context()
	must(t, q.InsertEvent(ctx, fullEvent("evt_tx")))
	must(t, q.InsertDeliveries(ctx, []*store.Delivery{newDelivery("dlv_tx", "evt_tx", "hook_tx", store.DeliveryQueued, t0)}))
	must(t, q.RecordAttempt(ctx, newAttempt("dlv_tx", 1), store.DeliveryUpdate{Status: store.DeliveryRetrying, Attempts: 1, UpdatedAt: t0}))
	must(t, q.PutHook(ctx, newHook("hook_tx", `{}`)))
	must(t, q.PutSecrets(ctx, "hook_tx", []store.Secret{{HookID: "hook_tx", Name: "auth.token", Ciphertext: []byte("x")}}))
	must(t, q.InsertToken(ctx, newToken("tok_tx", "hash-tx", t0)))
	must(t, q.FinishEvent(ctx, "evt_tx", store.EventDone, "allow", []byte(`{}`)))
}

// countEverything returns how many rows writeEverything wrote that q sees.
func countEverything(t *testing.T, q store.Queries) int {
	t.Helper()
	ctx := t.Context()
	n := 0
	found := func(err error) {
		t.Helper()
		switch {
		case err == nil:
			n++
		case !errors.Is(err, store.ErrNotFound):
			t.Fatal(err)
		}
	}
	_, err := q.GetEvent(ctx, "evt_tx")
	found(err)
	_, err = q.GetDelivery(ctx, "dlv_tx")
	found(err)
	as, err := q.Attempts(ctx, "dlv_tx")
	must(t, err)
	n += len(as)
	_, err = q.GetHook(ctx, "hook_tx")
	found(err)
	_, err = q.HookVersion(ctx, "hook_tx", 1)
	found(err)
	if secrets, err := q.GetSecrets(ctx, "hook_tx"); err == nil {
		n += len(secrets)
	}
	_, err = q.TokenByHash(ctx, []byte("hash-tx"))
	found(err)
	return n
}

const everything = 7

var txTests = map[string]func(t *testing.T, s store.Store){
	"Commit": func(t *testing.T, s store.Store) {
		err := s.InTx(t.Context(), func(tx store.Tx) error {
			writeEverything(t, tx)
			if n := countEverything(t, tx); n != everything {
				t.Errorf("the transaction sees %d of its %d rows", n, everything)
			}
			return nil
		})
		must(t, err)
		if n := countEverything(t, s); n != everything {
			t.Fatalf("after commit: %d of %d rows", n, everything)
		}
		e, err := s.GetEvent(t.Context(), "evt_tx")
		must(t, err)
		if e.State != store.EventDone {
			t.Fatalf("event state %q after commit", e.State)
		}
	},
	"RollbackOnError": func(t *testing.T, s store.Store) {
		wrapped := fmt.Errorf("render: %w", errBoom)
		err := s.InTx(t.Context(), func(tx store.Tx) error {
			writeEverything(t, tx)
			return wrapped
		})
		if err != wrapped { //nolint:errorlint // InTx returns fn's error as it is
			t.Fatalf("InTx returned %v, want fn's error as it is", err)
		}
		if n := countEverything(t, s); n != 0 {
			t.Fatalf("after rollback: %d rows written", n)
		}
		// The store is still usable, and the same rows can be written again.
		must(t, s.InTx(t.Context(), func(tx store.Tx) error { writeEverything(t, tx); return nil }))
		if n := countEverything(t, s); n != everything {
			t.Fatalf("after a commit that followed a rollback: %d of %d rows", n, everything)
		}
	},
	"RollbackOnPanic": func(t *testing.T, s store.Store) {
		func() {
			defer func() {
				if r := recover(); r != errBoom { //nolint:errorlint // the panic value as given
					t.Fatalf("recovered %v, want the panic to go through InTx", r)
				}
			}()
			_ = s.InTx(t.Context(), func(tx store.Tx) error {
				writeEverything(t, tx)
				panic(errBoom)
			})
		}()
		if n := countEverything(t, s); n != 0 {
			t.Fatalf("after a panic: %d rows written", n)
		}
		must(t, s.InsertEvent(t.Context(), newEvent("evt_after", t0)))
	},
	"FailedMethodLeavesTxAsItWas": func(t *testing.T, s store.Store) {
		// A method that fails inside a transaction writes nothing, and the transaction
		// goes on: what it wrote before and after commits.
		ctx := t.Context()
		withEvent(t, s, "evt_1")
		must(t, s.InsertDeliveries(ctx, []*store.Delivery{newDelivery("dlv_1", "evt_1", "h", store.DeliveryQueued, t0)}))
		must(t, s.PutHook(ctx, newHook("h", `{}`)))
		old := []store.Secret{{HookID: "h", Name: "auth.token", Ciphertext: []byte("old")}}
		must(t, s.PutSecrets(ctx, "h", old))

		err := s.InTx(ctx, func(tx store.Tx) error {
			must(t, tx.InsertEvent(ctx, newEvent("evt_before", t0)))
			err := tx.InsertDeliveries(ctx, []*store.Delivery{
				newDelivery("dlv_2", "evt_1", "h", store.DeliveryQueued, t0),
				newDelivery("dlv_1", "evt_1", "h", store.DeliveryQueued, t0),
			})
			wantErr(t, "InsertDeliveries with a repeated id", err, store.ErrConflict)
			err = tx.PutSecrets(ctx, "h", []store.Secret{
				{HookID: "h", Name: "a", Ciphertext: []byte("1")},
				{HookID: "h", Name: "a", Ciphertext: []byte("2")},
			})
			wantErr(t, "PutSecrets with a repeated name", err, store.ErrConflict)
			err = tx.RecordAttempt(ctx, newAttempt("dlv_missing", 1), store.DeliveryUpdate{Status: store.DeliveryFailed, UpdatedAt: t0})
			wantErr(t, "RecordAttempt of an unknown delivery", err, store.ErrNotFound)
			return tx.InsertEvent(ctx, newEvent("evt_after", t0))
		})
		must(t, err)
		for _, id := range []string{"evt_before", "evt_after"} {
			_, err := s.GetEvent(ctx, id)
			must(t, err)
		}
		_, err = s.GetDelivery(ctx, "dlv_2")
		wantErr(t, "delivery of the failed InsertDeliveries", err, store.ErrNotFound)
		secrets, err := s.GetSecrets(ctx, "h")
		must(t, err)
		equal(t, "secrets after the failed PutSecrets", secrets, old)
	},
	"Raw": func(t *testing.T, s store.Store) {
		if s.Raw() == nil {
			t.Fatal("Store.Raw is nil")
		}
		must(t, s.InTx(t.Context(), func(tx store.Tx) error {
			if tx.Raw() == nil {
				t.Error("Tx.Raw is nil")
			}
			return nil
		}))
	},
	"Concurrent": func(t *testing.T, s store.Store) {
		// Writers in goroutines, in and out of transactions, with readers: none fails.
		ctx := t.Context()
		const writers, each = 8, 15
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				check := func(err error) bool {
					if err != nil {
						t.Error(err)
					}
					return err == nil
				}
				for i := range each {
					id := fmt.Sprintf("%d_%d", w, i)
					err := s.InTx(ctx, func(tx store.Tx) error {
						if err := tx.InsertEvent(ctx, newEvent("evt_"+id, at(time.Duration(i)))); err != nil {
							return err
						}
						return tx.InsertDeliveries(ctx, []*store.Delivery{newDelivery("dlv_"+id, "evt_"+id, "h", store.DeliveryQueued, t0)})
					})
					if !check(err) {
						return
					}
					if i%3 == 0 {
						err := s.RecordAttempt(ctx, newAttempt("dlv_"+id, 1), store.DeliveryUpdate{Status: store.DeliverySucceeded, Attempts: 1, UpdatedAt: t0})
						if !check(err) {
							return
						}
					}
					if _, err := s.Counts(ctx); !check(err) {
						return
					}
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		c, err := s.Counts(ctx)
		must(t, err)
		if c.ByStatus[store.DeliverySucceeded] != writers*5 || c.Pending != writers*10 {
			t.Fatalf("counts %+v: want %d succeeded and %d pending", c, writers*5, writers*10)
		}
	},
}

var storeTests = map[string]func(t *testing.T, s store.Store){
	"PingAndDriver": func(t *testing.T, s store.Store) {
		must(t, s.Ping(t.Context()))
		if s.Driver() == "" {
			t.Fatal("Driver is empty")
		}
	},
}
