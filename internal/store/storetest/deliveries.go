package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/match"
	"github.com/hookpoint/hookpoint/internal/store"
)

func newDelivery(id, eventID, hookID, status string, created time.Time) *store.Delivery {
	return &store.Delivery{
		ID:          id,
		EventID:     eventID,
		EventType:   "backup.job.end",
		HookID:      hookID,
		HookVersion: 1,
		Mode:        "async",
		Status:      status,
		CreatedAt:   created,
		UpdatedAt:   created,
	}
}

// withEvent stores an event for deliveries to refer to.
func withEvent(t *testing.T, s store.Store, id string) {
	t.Helper()
	must(t, s.InsertEvent(t.Context(), newEvent(id, t0)))
}

var deliveryTests = map[string]func(t *testing.T, s store.Store){
	"RoundTrip": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		withEvent(t, s, "evt_1")
		full := &store.Delivery{
			ID:            "dlv_1",
			EventID:       "evt_1",
			EventType:     "backup.job.ünï",
			HookID:        "hook-ünï",
			HookVersion:   7,
			Mode:          "sync",
			Status:        store.DeliveryRetrying,
			Attempts:      3,
			Snoozes:       2,
			NextAttemptAt: ptr(at(time.Minute + time.Nanosecond).In(elsewhere)),
			LastError:     "dial tcp: connection refused — «ünï»",
			LastStatus:    503,
			CreatedAt:     at(time.Nanosecond).In(elsewhere),
			UpdatedAt:     at(2 * time.Nanosecond),
		}
		bare := newDelivery("dlv_2", "evt_1", "h", store.DeliveryQueued, time.Time{})
		bare.UpdatedAt = time.Time{}
		must(t, s.InsertDeliveries(ctx, []*store.Delivery{full, bare}))
		for _, want := range []*store.Delivery{full, bare} {
			got, err := s.GetDelivery(ctx, want.ID)
			must(t, err)
			equal(t, "GetDelivery", got, want)
		}
		must(t, s.InsertDeliveries(ctx, nil))
	},
	"InsertAllOrNone": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		withEvent(t, s, "evt_1")
		must(t, s.InsertDeliveries(ctx, []*store.Delivery{newDelivery("dlv_1", "evt_1", "h", store.DeliveryQueued, t0)}))

		err := s.InsertDeliveries(ctx, []*store.Delivery{
			newDelivery("dlv_2", "evt_1", "h", store.DeliveryQueued, t0),
			newDelivery("dlv_1", "evt_1", "h", store.DeliveryQueued, t0),
		})
		wantErr(t, "repeated id", err, store.ErrConflict)
		_, err = s.GetDelivery(ctx, "dlv_2")
		wantErr(t, "the delivery before the repeated one", err, store.ErrNotFound)

		err = s.InsertDeliveries(ctx, []*store.Delivery{
			newDelivery("dlv_3", "evt_1", "h", store.DeliveryQueued, t0),
			newDelivery("dlv_4", "evt_missing", "h", store.DeliveryQueued, t0),
		})
		wantErr(t, "unknown event", err, store.ErrNotFound)
		_, err = s.GetDelivery(ctx, "dlv_3")
		wantErr(t, "the delivery before the one of an unknown event", err, store.ErrNotFound)
	},
	"Update": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		withEvent(t, s, "evt_1")
		d := newDelivery("dlv_1", "evt_1", "h", store.DeliveryQueued, t0)
		must(t, s.InsertDeliveries(ctx, []*store.Delivery{d}))

		u := store.DeliveryUpdate{
			Status:        store.DeliveryRetrying,
			Attempts:      1,
			Snoozes:       1,
			NextAttemptAt: ptr(at(time.Minute + time.Nanosecond)),
			LastError:     "timeout",
			LastStatus:    504,
			UpdatedAt:     at(time.Second).In(elsewhere),
		}
		must(t, s.UpdateDelivery(ctx, d.ID, u))
		want := applyUpdate(*d, u)
		got, err := s.GetDelivery(ctx, d.ID)
		must(t, err)
		equal(t, "GetDelivery after UpdateDelivery", got, &want)

		u = store.DeliveryUpdate{Status: store.DeliverySucceeded, Attempts: 2, Snoozes: 1, LastStatus: 200, UpdatedAt: at(time.Hour)}
		must(t, s.UpdateDelivery(ctx, d.ID, u))
		want = applyUpdate(*d, u)
		got, err = s.GetDelivery(ctx, d.ID)
		must(t, err)
		equal(t, "GetDelivery after clearing NextAttemptAt", got, &want)

		wantErr(t, "UpdateDelivery of an unknown delivery", s.UpdateDelivery(ctx, "dlv_missing", u), store.ErrNotFound)
		_, err = s.GetDelivery(ctx, "dlv_missing")
		wantErr(t, "GetDelivery", err, store.ErrNotFound)
	},
	"ListFilters": testListFilters,
	"EventTypeGlob": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		withEvent(t, s, "evt_1")
		types := []string{
			"backup.job.end", "backup.job.start", "backup.end", "Backup.job.end", "restore.job.end",
			"a%b", "axb", "a_b", "aab", "a?b", "a[b]", "ab]", "a*b", `a\b`, "a.b", "ünï.cødé", "a", "",
		}
		var ds []*store.Delivery
		for i, typ := range types {
			d := newDelivery(fmt.Sprintf("dlv_%02d", i), "evt_1", "h", store.DeliveryQueued, at(time.Duration(i)))
			d.EventType = typ
			ds = append(ds, d)
		}
		must(t, s.InsertDeliveries(ctx, ds))
		patterns := []string{
			"*", "backup.*", "backup.*.end", "*.end", "*job*", "Backup.*", "BACKUP.JOB.END",
			"a%b", "a%", "a_b", "a_", "a?b", "a[b]", "a[", "ab]", "a*b", `a\b`, `a\*`, "a.b", "a",
			"ünï.*", "*é", "**", "a**b", "%", "_", "?", "[ab]", "[!x]b",
		}
		for _, p := range patterns {
			got, err := s.ListDeliveries(ctx, store.DeliveryFilter{EventType: p})
			must(t, err)
			var want []*store.Delivery
			for _, d := range ds {
				if match.Pattern(p, d.EventType) {
					want = append(want, d)
				}
			}
			sortNewestFirst(want)
			equal(t, fmt.Sprintf("EventType %q", p), ids(got), ids(want))
		}
	},
	"Pagination": testPagination,
	"Failed": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		withEvent(t, s, "evt_1")
		ds := []*store.Delivery{
			newDelivery("dlv_old", "evt_1", "h", store.DeliveryFailed, at(-time.Nanosecond)),
			newDelivery("dlv_since", "evt_1", "h", store.DeliveryFailed, at(0)), // since is inclusive
			newDelivery("dlv_b", "evt_1", "h", store.DeliveryFailed, at(time.Hour)),
			newDelivery("dlv_a", "evt_1", "h", store.DeliveryFailed, at(time.Hour)),
			newDelivery("dlv_ok", "evt_1", "h", store.DeliverySucceeded, at(time.Hour)),
			newDelivery("dlv_retry", "evt_1", "h", store.DeliveryRetrying, at(time.Hour)),
			newDelivery("dlv_other", "evt_1", "other", store.DeliveryFailed, at(time.Hour)),
		}
		must(t, s.InsertDeliveries(ctx, ds))
		got, err := s.FailedDeliveries(ctx, "h", t0, 0)
		must(t, err)
		equal(t, "FailedDeliveries", ids(got), []string{"dlv_b", "dlv_a", "dlv_since"})
		equal(t, "FailedDeliveries[0]", got[0], ds[2])
		got, err = s.FailedDeliveries(ctx, "h", t0, 2)
		must(t, err)
		equal(t, "FailedDeliveries limit 2", ids(got), []string{"dlv_b", "dlv_a"})
		got, err = s.FailedDeliveries(ctx, "h", time.Time{}, 0)
		must(t, err)
		equal(t, "FailedDeliveries since zero", ids(got), []string{"dlv_b", "dlv_a", "dlv_since", "dlv_old"})
		got, err = s.FailedDeliveries(ctx, "nobody", time.Time{}, 0)
		must(t, err)
		equal(t, "FailedDeliveries of an unknown hook", len(got), 0)
	},
}

func applyUpdate(d store.Delivery, u store.DeliveryUpdate) store.Delivery {
	d.Status, d.Attempts, d.Snoozes, d.NextAttemptAt = u.Status, u.Attempts, u.Snoozes, u.NextAttemptAt
	d.LastError, d.LastStatus, d.UpdatedAt = u.LastError, u.LastStatus, u.UpdatedAt
	return d
}

// sortNewestFirst orders deliveries as listings do: created_at, then id, descending.
func sortNewestFirst(ds []*store.Delivery) {
	slices.SortFunc(ds, func(a, b *store.Delivery) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
}

// selects is the reference implementation of DeliveryFilter, without Cursor and Limit.
func selects(f store.DeliveryFilter, d *store.Delivery) bool {
	return (f.HookID == "" || d.HookID == f.HookID) &&
		(f.EventID == "" || d.EventID == f.EventID) &&
		(len(f.Status) == 0 || slices.Contains(f.Status, d.Status)) &&
		(f.EventType == "" || match.Pattern(f.EventType, d.EventType)) &&
		(f.Since.IsZero() || !d.CreatedAt.Before(f.Since)) &&
		(f.Until.IsZero() || d.CreatedAt.Before(f.Until))
}

// deliveryFixture stores 60 deliveries over 3 events, 3 hooks, every status, 4 event
// types, with created_at ties (groups of three share one).
func deliveryFixture(t *testing.T, s store.Store) []*store.Delivery {
	t.Helper()
	for _, id := range []string{"evt_0", "evt_1", "evt_2"} {
		withEvent(t, s, id)
	}
	statuses := []string{store.DeliveryQueued, store.DeliveryRetrying, store.DeliverySucceeded, store.DeliveryFailed, store.DeliveryCancelled}
	types := []string{"backup.job.start", "backup.job.end", "restore.end", "backup_job%end"}
	var ds []*store.Delivery
	for i := range 60 {
		// ids are not in created_at order, so that the order tested is (created_at, id)
		id := fmt.Sprintf("dlv_%02d", (i*37)%60)
		d := newDelivery(id, fmt.Sprintf("evt_%d", i%3), fmt.Sprintf("hook-%d", i%4%3), statuses[i%5], at(time.Duration(i/3)*time.Microsecond+time.Duration(i/3)))
		d.EventType = types[i%4]
		ds = append(ds, d)
	}
	must(t, s.InsertDeliveries(t.Context(), ds))
	return ds
}

func testListFilters(t *testing.T, s store.Store) {
	ctx := t.Context()
	ds := deliveryFixture(t, s)
	mid := ds[30].CreatedAt
	filters := []store.DeliveryFilter{
		{},
		{HookID: "hook-1"},
		{HookID: "hook-missing"},
		{EventID: "evt_2"},
		{Status: []string{store.DeliveryFailed}},
		{Status: []string{store.DeliveryQueued, store.DeliveryRetrying}},
		{Status: []string{"unknown"}},
		{EventType: "backup.*"},
		{EventType: "*.end"},
		{EventType: "backup_job%end"},
		{EventType: "backup_*"},
		{Since: mid},
		{Until: mid},
		{Since: ds[12].CreatedAt, Until: ds[45].CreatedAt},
		{Since: mid.Add(time.Nanosecond)}, // between two created_at values
		{Until: mid.Add(time.Nanosecond)},
		{HookID: "hook-0", EventID: "evt_1", Status: []string{store.DeliveryQueued, store.DeliveryFailed, store.DeliverySucceeded}, EventType: "backup.job.*", Since: ds[3].CreatedAt, Until: ds[57].CreatedAt},
	}
	for _, f := range filters {
		var want []*store.Delivery
		for _, d := range ds {
			if selects(f, d) {
				want = append(want, d)
			}
		}
		sortNewestFirst(want)
		got, err := s.ListDeliveries(ctx, f)
		must(t, err)
		equal(t, fmt.Sprintf("ListDeliveries(%+v)", f), ids(got), ids(want))
		if len(want) > 0 {
			equal(t, "first delivery listed", got[0], want[0])
		}
		if len(want) > 2 {
			f.Limit = 2
			got, err := s.ListDeliveries(ctx, f)
			must(t, err)
			equal(t, fmt.Sprintf("ListDeliveries(%+v)", f), ids(got), ids(want[:2]))
		}
	}
}

func testPagination(t *testing.T, s store.Store) {
	ctx := t.Context()
	ds := deliveryFixture(t, s)
	for _, f := range []store.DeliveryFilter{
		{Limit: 4},  // ties straddle page ends
		{Limit: 1},  //
		{Limit: 7},  //
		{Limit: 60}, // one full page, then an empty one
		{Limit: 3, HookID: "hook-2"},
		{Limit: 2, Status: []string{store.DeliveryFailed, store.DeliveryQueued}, EventType: "backup.*"},
		{Limit: 5, Since: ds[9].CreatedAt, Until: ds[50].CreatedAt},
	} {
		var want []*store.Delivery
		for _, d := range ds {
			if selects(f, d) {
				want = append(want, d)
			}
		}
		sortNewestFirst(want)

		var got []string
		var added *store.Delivery
		for page := 0; ; page++ {
			if page > len(ds)+1 {
				t.Fatalf("filter %+v: pagination does not end", f)
			}
			list, err := s.ListDeliveries(ctx, f)
			must(t, err)
			if len(list) > f.Limit {
				t.Fatalf("filter %+v: page of %d deliveries", f, len(list))
			}
			if len(list) == 0 {
				break
			}
			got = append(got, ids(list)...)
			f.Cursor = list[len(list)-1].ID
			if page == 0 {
				// A delivery created after the first page never shows on a later one.
				added = newDelivery(fmt.Sprintf("dlv_new_%02d", len(ds)), "evt_0", "hook-2", store.DeliveryFailed, at(time.Hour))
				added.EventType = "backup.job.end"
				must(t, s.InsertDeliveries(ctx, []*store.Delivery{added}))
			}
		}
		f.Cursor = ""
		equal(t, fmt.Sprintf("pages of %+v", f), got, ids(want))
		if added != nil {
			ds = append(ds, added)
		}
	}

	_, err := s.ListDeliveries(ctx, store.DeliveryFilter{Cursor: "dlv_missing", Limit: 2})
	wantErr(t, "unknown cursor", err, store.ErrNotFound)
}
