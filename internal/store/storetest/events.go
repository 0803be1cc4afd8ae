package storetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/store"
)

// newEvent returns a done event received at received.
func newEvent(id string, received time.Time) *store.Event {
	return &store.Event{
		ID:         id,
		Type:       "backup.job.end",
		Source:     "vzdump",
		Time:       received.Add(-time.Second),
		ReceivedAt: received,
		Origin:     "api",
		State:      store.EventDone,
	}
}

// fullEvent sets every field, with values that are easy to get wrong.
func fullEvent(id string) *store.Event {
	return &store.Event{
		ID:             id,
		Type:           "backup.job.end",
		Source:         "vzdump/pve-1",
		Subject:        "vm/101 — «ünïcødé» 日本語 🚀",
		Status:         "warning",
		Gate:           true,
		RunID:          "run_01J",
		RunJob:         "nightly",
		RunKind:        "vzdump",
		Time:           time.Date(2025, 3, 4, 10, 36, 7, 987654321, elsewhere),
		ReceivedAt:     at(time.Nanosecond),
		IdempotencyKey: "key-" + id,
		Origin:         "ingest/xo",
		State:          store.EventReceived,
		Verdict:        "allow",
		Data: map[string]any{
			"vmid":    101,
			"big":     json.Number("12345678901234567890"),
			"float":   json.Number("1.0"),
			"ratio":   0.25,
			"ok":      true,
			"none":    nil,
			"list":    []any{"a", 1, map[string]any{"b": "c"}},
			"nested":  map[string]any{"ключ": "значение", "empty": map[string]any{}},
			"quote":   `"<&>'\` + "\n\t\x00",
			"日本語":     "🚀",
			"":        "empty key",
			"dot.key": "x",
		},
		SourceEnv: map[string]string{
			"CV4PVE_AUTOSNAP_VMID": "101",
			"EMPTY":                "",
			"UNICODE":              "«ünï» 🚀\n\"quoted\"",
		},
		Answer: []byte(`{"verdict":"allow","hooks":[]}`),
	}
}

var eventTests = map[string]func(t *testing.T, s store.Store){
	"RoundTrip": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		e := fullEvent("evt_1")
		must(t, s.InsertEvent(ctx, e))
		want := *e
		want.Data = asStored(t, e.Data)

		got, err := s.GetEvent(ctx, e.ID)
		must(t, err)
		equal(t, "GetEvent", got, &want)
		got, err = s.EventByIdempotencyKey(ctx, e.IdempotencyKey)
		must(t, err)
		equal(t, "EventByIdempotencyKey", got, &want)
	},
	"ZeroValues": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		e := &store.Event{ID: "evt_zero"} // zero times, nil Data, nil Answer
		must(t, s.InsertEvent(ctx, e))
		got, err := s.GetEvent(ctx, e.ID)
		must(t, err)
		equal(t, "GetEvent", got, e)

		e2 := newEvent("evt_empty", t0)
		e2.Data = map[string]any{} // empty, not nil
		e2.SourceEnv = map[string]string{}
		must(t, s.InsertEvent(ctx, e2))
		got, err = s.GetEvent(ctx, e2.ID)
		must(t, err)
		equal(t, "GetEvent", got, e2)
	},
	"LargeData": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		e := newEvent("evt_large", t0)
		e.Data = map[string]any{"log": strings.Repeat("ünïcødé line\n", 200_000)} // 3 MB
		for i := range 5000 {
			e.Data[fmt.Sprintf("k%05d", i)] = i
		}
		e.Answer = []byte(strings.Repeat("x", 1<<20))
		must(t, s.InsertEvent(ctx, e))
		got, err := s.GetEvent(ctx, e.ID)
		must(t, err)
		want := *e
		want.Data = asStored(t, e.Data)
		equal(t, "GetEvent", got, &want)
	},
	"Conflict": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		e := fullEvent("evt_1")
		must(t, s.InsertEvent(ctx, e))

		again := newEvent("evt_1", at(time.Hour))
		wantErr(t, "same id", s.InsertEvent(ctx, again), store.ErrConflict)
		sameKey := newEvent("evt_2", at(time.Hour))
		sameKey.IdempotencyKey = e.IdempotencyKey
		wantErr(t, "same idempotency key", s.InsertEvent(ctx, sameKey), store.ErrConflict)
		if _, err := s.GetEvent(ctx, "evt_2"); err == nil {
			t.Fatal("the event with a repeated key was stored")
		}
		got, err := s.EventByIdempotencyKey(ctx, e.IdempotencyKey)
		must(t, err)
		if got.ID != e.ID {
			t.Fatalf("key now gives %s, want %s", got.ID, e.ID)
		}
		// Empty keys are not keys: any number of events may have none.
		for i := range 3 {
			must(t, s.InsertEvent(ctx, newEvent(fmt.Sprintf("evt_nokey%d", i), t0)))
		}
		_, err = s.EventByIdempotencyKey(ctx, "")
		wantErr(t, "EventByIdempotencyKey(\"\")", err, store.ErrNotFound)
	},
	"ConflictLeavesTxUsable": func(t *testing.T, s store.Store) {
		// The server's idempotent submit: insert, and on a repeated key answer with the
		// stored event, in the same transaction.
		ctx := t.Context()
		e := fullEvent("evt_1")
		must(t, s.InsertEvent(ctx, e))
		err := s.InTx(ctx, func(tx store.Tx) error {
			dup := newEvent("evt_2", t0)
			dup.IdempotencyKey = e.IdempotencyKey
			wantErr(t, "repeated key", tx.InsertEvent(ctx, dup), store.ErrConflict)
			got, err := tx.EventByIdempotencyKey(ctx, e.IdempotencyKey)
			if err != nil {
				return err
			}
			if got.ID != e.ID {
				t.Errorf("key gives %s, want %s", got.ID, e.ID)
			}
			_, err = tx.GetEvent(ctx, "evt_missing")
			wantErr(t, "GetEvent", err, store.ErrNotFound)
			return tx.InsertEvent(ctx, newEvent("evt_3", t0))
		})
		must(t, err)
		_, err = s.GetEvent(ctx, "evt_3")
		must(t, err)
	},
	"NotFound": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		_, err := s.GetEvent(ctx, "evt_missing")
		wantErr(t, "GetEvent", err, store.ErrNotFound)
		_, err = s.EventByIdempotencyKey(ctx, "missing")
		wantErr(t, "EventByIdempotencyKey", err, store.ErrNotFound)
		wantErr(t, "FinishEvent", s.FinishEvent(ctx, "evt_missing", store.EventDone, "", nil), store.ErrNotFound)
	},
	"Finish": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		e := fullEvent("evt_1")
		e.Answer = nil
		must(t, s.InsertEvent(ctx, e))
		answer := []byte("{\"verdict\":\"deny\",\"reason\":\"ünï\"}\x00\xff")
		must(t, s.FinishEvent(ctx, e.ID, store.EventDone, "deny", answer))
		want := *e
		want.Data = asStored(t, e.Data)
		want.State, want.Verdict, want.Answer = store.EventDone, "deny", answer
		got, err := s.GetEvent(ctx, e.ID)
		must(t, err)
		equal(t, "after FinishEvent", got, &want)

		must(t, s.FinishEvent(ctx, e.ID, store.EventInterrupted, "", nil))
		want.State, want.Verdict, want.Answer = store.EventInterrupted, "", nil
		got, err = s.GetEvent(ctx, e.ID)
		must(t, err)
		equal(t, "after second FinishEvent", got, &want)
	},
	"Unfinished": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		add := func(id, state string, received time.Time) {
			e := newEvent(id, received)
			e.State = state
			must(t, s.InsertEvent(ctx, e))
		}
		add("evt_c", store.EventReceived, at(2*time.Second))
		add("evt_done", store.EventDone, at(0))
		add("evt_b", store.EventReceived, at(time.Second))
		add("evt_int", store.EventInterrupted, at(0))
		add("evt_a", store.EventReceived, at(time.Second)) // same time as evt_b: id decides
		add("evt_0", store.EventReceived, at(time.Nanosecond))

		got, err := s.UnfinishedEvents(ctx, 0)
		must(t, err)
		equal(t, "UnfinishedEvents(0)", eventIDs(got), []string{"evt_0", "evt_a", "evt_b", "evt_c"})
		got, err = s.UnfinishedEvents(ctx, 2)
		must(t, err)
		equal(t, "UnfinishedEvents(2)", eventIDs(got), []string{"evt_0", "evt_a"})

		must(t, s.FinishEvent(ctx, "evt_a", store.EventDone, "", nil))
		got, err = s.UnfinishedEvents(ctx, 2)
		must(t, err)
		equal(t, "UnfinishedEvents(2) after FinishEvent", eventIDs(got), []string{"evt_0", "evt_b"})
	},
}

func eventIDs(es []*store.Event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}
