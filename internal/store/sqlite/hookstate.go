package sqlite

import (
	"context"
	"time"

	"github.com/hookpoint/hookpoint/internal/store"
)

// RecordHookOutcome applies an attempt's outcome to the hook's state in one transaction.
func (q *queries) RecordHookOutcome(ctx context.Context, id string, ok bool, outcome string, at time.Time, disableAfter time.Duration) (before, after store.HookState, err error) {
	// One write: no savepoint is needed inside a transaction.
	err = q.unit(ctx, func(q *queries) error {
		// The state's columns only: the row's definition is large.
		err := q.db.QueryRowContext(ctx, `SELECT enabled, disabled_reason, failing_since, last_success_at, last_outcome
			FROM hooks WHERE id = ?`, id).Scan(&before.Enabled, &before.DisabledReason,
			scanNullTime{&before.FailingSince}, scanNullTime{&before.LastSuccessAt}, &before.LastOutcome)
		if err != nil {
			return notFound(err, "hook "+id)
		}
		after = store.NextHookState(before, ok, outcome, at, disableAfter)
		if store.SameHookState(before, after) {
			return nil
		}
		return q.SetHookState(ctx, id, after)
	})
	return before, after, err
}
