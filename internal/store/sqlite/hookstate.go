package sqlite

import (
	"context"
	"time"

	"github.com/hookpoint/hookpoint/internal/store"
)

// RecordHookOutcome applies an attempt's outcome to the hook's state in one transaction.
func (q *queries) RecordHookOutcome(ctx context.Context, id string, ok bool, outcome string, at time.Time, disableAfter time.Duration) (before, after store.HookState, err error) {
	err = q.atomic(ctx, func(q *queries) error {
		h, err := q.GetHook(ctx, id)
		if err != nil {
			return err
		}
		before = store.HookState{Enabled: h.Enabled, DisabledReason: h.DisabledReason, FailingSince: h.FailingSince,
			LastSuccessAt: h.LastSuccessAt, LastOutcome: h.LastOutcome}
		after = store.NextHookState(before, ok, outcome, at, disableAfter)
		if after == before {
			return nil
		}
		return q.SetHookState(ctx, id, after)
	})
	return before, after, err
}
