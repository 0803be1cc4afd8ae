package store_test

import (
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/store"
)

func TestSameHookState(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := t0.Add(d); return &x }
	base := store.HookState{Enabled: true, LastSuccessAt: at(0), LastOutcome: "ok"}
	for _, c := range []struct {
		name  string
		after store.HookState
		same  bool
	}{
		{"equal", base, true},
		{"equal times, other pointers", store.HookState{Enabled: true, LastSuccessAt: at(0), LastOutcome: "ok"}, true},
		{"success within the grain", store.HookState{Enabled: true, LastSuccessAt: at(store.LastSuccessGrain - 1), LastOutcome: "ok"}, true},
		{"success a grain later", store.HookState{Enabled: true, LastSuccessAt: at(store.LastSuccessGrain), LastOutcome: "ok"}, false},
		{"success earlier by a grain", store.HookState{Enabled: true, LastSuccessAt: at(-store.LastSuccessGrain), LastOutcome: "ok"}, false},
		{"first success", store.HookState{Enabled: true, LastOutcome: "ok"}, false},
		{"outcome", store.HookState{Enabled: true, LastSuccessAt: at(0), LastOutcome: "failed"}, false},
		{"disabled", store.HookState{LastSuccessAt: at(0), LastOutcome: "ok"}, false},
		{"reason", store.HookState{Enabled: true, DisabledReason: "x", LastSuccessAt: at(0), LastOutcome: "ok"}, false},
		{"failing", store.HookState{Enabled: true, FailingSince: at(0), LastSuccessAt: at(0), LastOutcome: "ok"}, false},
	} {
		if got := store.SameHookState(base, c.after); got != c.same {
			t.Errorf("%s: SameHookState = %v, want %v", c.name, got, c.same)
		}
	}
	// FailingSince has no grain.
	a := store.HookState{FailingSince: at(0)}
	if store.SameHookState(a, store.HookState{FailingSince: at(time.Nanosecond)}) {
		t.Error("FailingSince a nanosecond apart: same, want different")
	}
}
