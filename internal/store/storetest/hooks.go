package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/store"
)

func newHook(id string, def string) *store.Hook {
	return &store.Hook{
		ID:        id,
		Def:       []byte(def),
		ManagedBy: "api",
		Enabled:   true,
		CreatedAt: t0,
		UpdatedAt: t0,
	}
}

var hookTests = map[string]func(t *testing.T, s store.Store){
	"RoundTrip": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		full := &store.Hook{
			ID:             "hook-ünï",
			Version:        42, // ignored: the store numbers versions
			Def:            []byte(`{"id":"hook-ünï","on":["backup.*"],"http":{"url":"https://example.com/"}}`),
			ManagedBy:      "file",
			Enabled:        false,
			DisabledReason: "410 Gone from https://example.com/",
			FailingSince:   ptr(at(-time.Hour).In(elsewhere)),
			LastSuccessAt:  ptr(at(-2 * time.Hour)),
			LastOutcome:    "failed",
			CreatedAt:      at(time.Nanosecond).In(elsewhere),
			UpdatedAt:      at(2 * time.Nanosecond),
		}
		must(t, s.PutHook(ctx, full))
		if full.Version != 1 {
			t.Fatalf("Version of a new hook: got %d, want 1", full.Version)
		}
		bare := newHook("hook-a", `{}`)
		must(t, s.PutHook(ctx, bare))

		got, err := s.GetHook(ctx, full.ID)
		must(t, err)
		equal(t, "GetHook", got, full)
		got, err = s.GetHook(ctx, bare.ID)
		must(t, err)
		equal(t, "GetHook", got, bare)
		list, err := s.ListHooks(ctx)
		must(t, err)
		equal(t, "ListHooks", list, []*store.Hook{bare, full})
	},
	"Versions": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		put := func(def, managedBy string, updated time.Time, wantVersion int) *store.Hook {
			t.Helper()
			h := newHook("h", def)
			h.ManagedBy = managedBy
			h.CreatedAt, h.UpdatedAt = updated, updated // CreatedAt is kept from the first put
			must(t, s.PutHook(ctx, h))
			if h.Version != wantVersion {
				t.Fatalf("PutHook %s %s: Version %d, want %d", def, managedBy, h.Version, wantVersion)
			}
			got, err := s.GetHook(ctx, "h")
			must(t, err)
			equal(t, "GetHook after PutHook", got, h)
			return h
		}
		h := put(`{"v":"a"}`, "api", at(0), 1)
		if !h.CreatedAt.Equal(t0) {
			t.Fatalf("CreatedAt %s, want %s", h.CreatedAt, t0)
		}
		h = put(`{"v":"a"}`, "api", at(time.Minute), 1) // unchanged: same version
		if !h.CreatedAt.Equal(t0) {
			t.Fatalf("CreatedAt after a replace: %s, want %s", h.CreatedAt, t0)
		}
		put(`{"v":"b"}`, "api", at(2*time.Minute), 2)
		put(`{"v":"b"}`, "file", at(3*time.Minute), 3)

		for v, want := range map[int]store.HookVersion{
			1: {HookID: "h", Version: 1, Def: []byte(`{"v":"a"}`), ManagedBy: "api", CreatedAt: at(0)},
			2: {HookID: "h", Version: 2, Def: []byte(`{"v":"b"}`), ManagedBy: "api", CreatedAt: at(2 * time.Minute)},
			3: {HookID: "h", Version: 3, Def: []byte(`{"v":"b"}`), ManagedBy: "file", CreatedAt: at(3 * time.Minute)},
		} {
			got, err := s.HookVersion(ctx, "h", v)
			must(t, err)
			equal(t, fmt.Sprintf("HookVersion %d", v), got, &want)
		}
		_, err := s.HookVersion(ctx, "h", 4)
		wantErr(t, "HookVersion 4", err, store.ErrNotFound)
		_, err = s.HookVersion(ctx, "other", 1)
		wantErr(t, "HookVersion of an unknown hook", err, store.ErrNotFound)

		// Versions outlive the hook, and a re-created hook goes on counting.
		must(t, s.DeleteHook(ctx, "h"))
		got, err := s.HookVersion(ctx, "h", 2)
		must(t, err)
		if string(got.Def) != `{"v":"b"}` {
			t.Fatalf("HookVersion 2 after DeleteHook: %s", got.Def)
		}
		h = put(`{"v":"a"}`, "api", at(time.Hour), 4)
		if !h.CreatedAt.Equal(at(time.Hour)) {
			t.Fatalf("CreatedAt of the re-created hook: %s, want %s", h.CreatedAt, at(time.Hour))
		}
	},
	"ReplaceEveryField": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		h := newHook("h", `{}`)
		h.Enabled = false
		h.DisabledReason = "no success for 72h"
		h.FailingSince, h.LastSuccessAt = ptr(at(-time.Hour)), ptr(at(-2*time.Hour))
		h.LastOutcome = "failed"
		must(t, s.PutHook(ctx, h))

		repl := newHook("h", `{}`)
		repl.ManagedBy = "api"
		repl.UpdatedAt = at(time.Hour)
		must(t, s.PutHook(ctx, repl))
		got, err := s.GetHook(ctx, "h")
		must(t, err)
		equal(t, "GetHook after replace", got, repl)
	},
	"SetState": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		h := newHook("h", `{"a":1}`)
		must(t, s.PutHook(ctx, h))
		st := store.HookState{
			Enabled:        false,
			DisabledReason: "410 Gone",
			FailingSince:   ptr(at(time.Nanosecond).In(elsewhere)),
			LastSuccessAt:  ptr(at(-time.Nanosecond)),
			LastOutcome:    "failed",
		}
		must(t, s.SetHookState(ctx, "h", st))
		want := *h
		want.Enabled, want.DisabledReason, want.FailingSince, want.LastSuccessAt, want.LastOutcome =
			st.Enabled, st.DisabledReason, st.FailingSince, st.LastSuccessAt, st.LastOutcome
		got, err := s.GetHook(ctx, "h")
		must(t, err)
		equal(t, "GetHook after SetHookState", got, &want)

		must(t, s.SetHookState(ctx, "h", store.HookState{Enabled: true, LastOutcome: "ok"}))
		want.Enabled, want.DisabledReason, want.FailingSince, want.LastSuccessAt, want.LastOutcome =
			true, "", nil, nil, "ok"
		got, err = s.GetHook(ctx, "h")
		must(t, err)
		equal(t, "GetHook after clearing", got, &want)

		wantErr(t, "SetHookState of an unknown hook", s.SetHookState(ctx, "missing", st), store.ErrNotFound)
	},
	"RecordHookOutcome": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		h := newHook("h", `{"a":1}`)
		must(t, s.PutHook(ctx, h))
		const span = 72 * time.Hour
		failingSince := at(time.Nanosecond)
		steps := []struct {
			ok      bool
			outcome string
			at      time.Time
			span    time.Duration
			want    store.HookState
		}{
			{false, "failed", failingSince, span, store.HookState{Enabled: true, FailingSince: &failingSince, LastOutcome: "failed"}},
			{false, "timeout", at(time.Hour), span, store.HookState{Enabled: true, FailingSince: &failingSince, LastOutcome: "timeout"}},
			{false, "failed", at(100 * time.Hour), 0, store.HookState{Enabled: true, FailingSince: &failingSince, LastOutcome: "failed"}}, // no span, no disabling
			{false, "failed", failingSince.Add(span - time.Nanosecond), span, store.HookState{Enabled: true, FailingSince: &failingSince, LastOutcome: "failed"}},
			{false, "failed", failingSince.Add(span), span, store.HookState{Enabled: false, DisabledReason: "failing since 2025-03-04T05:06:07Z without a success", FailingSince: &failingSince, LastOutcome: "failed"}},
			{true, "ok", at(80 * time.Hour), span, store.HookState{Enabled: false, DisabledReason: "failing since 2025-03-04T05:06:07Z without a success", LastSuccessAt: ptr(at(80 * time.Hour)), LastOutcome: "ok"}},
		}
		before := store.HookState{Enabled: true}
		for i, step := range steps {
			gotBefore, gotAfter, err := s.RecordHookOutcome(ctx, "h", step.ok, step.outcome, step.at, step.span)
			must(t, err)
			equal(t, fmt.Sprintf("step %d: before", i), gotBefore, before)
			equal(t, fmt.Sprintf("step %d: after", i), gotAfter, step.want)
			got, err := s.GetHook(ctx, "h")
			must(t, err)
			want := *h
			want.Enabled, want.DisabledReason, want.FailingSince, want.LastSuccessAt, want.LastOutcome =
				step.want.Enabled, step.want.DisabledReason, step.want.FailingSince, step.want.LastSuccessAt, step.want.LastOutcome
			equal(t, fmt.Sprintf("step %d: stored hook", i), got, &want)
			before = step.want
		}

		// Successes closer than LastSuccessGrain to the one stored write nothing; one
		// further moves it.
		last := at(80 * time.Hour)
		for _, step := range []struct {
			at   time.Time
			kept time.Time
		}{
			{last.Add(store.LastSuccessGrain / 2), last},
			{last.Add(store.LastSuccessGrain - time.Nanosecond), last},
			{last.Add(store.LastSuccessGrain), last.Add(store.LastSuccessGrain)},
		} {
			_, after, err := s.RecordHookOutcome(ctx, "h", true, "ok", step.at, span)
			must(t, err)
			equal(t, "LastSuccessAt returned", after.LastSuccessAt, ptr(step.at))
			got, err := s.GetHook(ctx, "h")
			must(t, err)
			equal(t, fmt.Sprintf("LastSuccessAt stored after a success at %s", step.at.Format(time.RFC3339Nano)), got.LastSuccessAt, ptr(step.kept))
		}

		// Inside a transaction that rolls back, nothing changes.
		err := s.InTx(ctx, func(tx store.Tx) error {
			if _, _, err := tx.RecordHookOutcome(ctx, "h", false, "failed", at(90*time.Hour), span); err != nil {
				return err
			}
			return errBoom
		})
		wantErr(t, "InTx", err, errBoom)
		got, err := s.GetHook(ctx, "h")
		must(t, err)
		equal(t, "LastOutcome after rollback", got.LastOutcome, "ok")

		_, _, err = s.RecordHookOutcome(ctx, "missing", true, "ok", t0, span)
		wantErr(t, "RecordHookOutcome of an unknown hook", err, store.ErrNotFound)
	},
	"DeleteAndNotFound": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		_, err := s.GetHook(ctx, "missing")
		wantErr(t, "GetHook", err, store.ErrNotFound)
		wantErr(t, "DeleteHook", s.DeleteHook(ctx, "missing"), store.ErrNotFound)

		must(t, s.PutHook(ctx, newHook("h", `{}`)))
		must(t, s.PutHook(ctx, newHook("keep", `{}`)))
		must(t, s.PutSecrets(ctx, "h", []store.Secret{{HookID: "h", Name: "auth.token", Ciphertext: []byte{1, 2, 3}}}))
		must(t, s.PutSecrets(ctx, "keep", []store.Secret{{HookID: "keep", Name: "auth.token", Ciphertext: []byte{4}}}))
		must(t, s.DeleteHook(ctx, "h"))
		_, err = s.GetHook(ctx, "h")
		wantErr(t, "GetHook after DeleteHook", err, store.ErrNotFound)
		wantErr(t, "DeleteHook twice", s.DeleteHook(ctx, "h"), store.ErrNotFound)
		list, err := s.ListHooks(ctx)
		must(t, err)
		if len(list) != 1 || list[0].ID != "keep" {
			t.Fatalf("ListHooks after DeleteHook: %d hooks", len(list))
		}

		// Its secrets went with it: a re-created hook has none.
		must(t, s.PutHook(ctx, newHook("h", `{}`)))
		secrets, err := s.GetSecrets(ctx, "h")
		must(t, err)
		if len(secrets) != 0 {
			t.Fatalf("re-created hook has %d secrets", len(secrets))
		}
		secrets, err = s.GetSecrets(ctx, "keep")
		must(t, err)
		if len(secrets) != 1 {
			t.Fatalf("the other hook has %d secrets, want 1", len(secrets))
		}
	},
}

var secretTests = map[string]func(t *testing.T, s store.Store){
	"ReplacedAsSet": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		must(t, s.PutHook(ctx, newHook("h", `{}`)))
		got, err := s.GetSecrets(ctx, "h")
		must(t, err)
		if len(got) != 0 {
			t.Fatalf("a new hook has %d secrets", len(got))
		}
		binary := make([]byte, 300)
		for i := range binary {
			binary[i] = byte(i)
		}
		first := []store.Secret{
			{HookID: "h", Name: "sign.secret[1]", Ciphertext: binary},
			{HookID: "h", Name: "auth.token", Ciphertext: []byte("sealed-1")},
			{HookID: "h", Name: "sign.secret[0]", Ciphertext: []byte{0}},
		}
		must(t, s.PutSecrets(ctx, "h", first))
		got, err = s.GetSecrets(ctx, "h")
		must(t, err)
		equal(t, "GetSecrets (by name)", got, []store.Secret{first[1], first[2], first[0]})

		second := []store.Secret{
			{HookID: "h", Name: "auth.password", Ciphertext: []byte("sealed-2")},
			{HookID: "h", Name: "auth.token", Ciphertext: []byte("sealed-3")},
		}
		must(t, s.PutSecrets(ctx, "h", second))
		got, err = s.GetSecrets(ctx, "h")
		must(t, err)
		equal(t, "GetSecrets after replacing", got, second)

		must(t, s.PutSecrets(ctx, "h", nil))
		got, err = s.GetSecrets(ctx, "h")
		must(t, err)
		if len(got) != 0 {
			t.Fatalf("after an empty set: %d secrets", len(got))
		}
	},
	"AllOrNone": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		must(t, s.PutHook(ctx, newHook("h", `{}`)))
		old := []store.Secret{{HookID: "h", Name: "auth.token", Ciphertext: []byte("old")}}
		must(t, s.PutSecrets(ctx, "h", old))
		dup := []store.Secret{
			{HookID: "h", Name: "a", Ciphertext: []byte("1")},
			{HookID: "h", Name: "a", Ciphertext: []byte("2")},
		}
		wantErr(t, "PutSecrets with a repeated name", s.PutSecrets(ctx, "h", dup), store.ErrConflict)
		got, err := s.GetSecrets(ctx, "h")
		must(t, err)
		equal(t, "GetSecrets after a refused PutSecrets", got, old)
	},
	"UnknownHook": func(t *testing.T, s store.Store) {
		ctx := t.Context()
		err := s.PutSecrets(ctx, "missing", []store.Secret{{HookID: "missing", Name: "a", Ciphertext: []byte("x")}})
		wantErr(t, "PutSecrets", err, store.ErrNotFound)
		_, err = s.GetSecrets(ctx, "missing")
		wantErr(t, "GetSecrets", err, store.ErrNotFound)
	},
}
