package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookpoint/hookpoint/internal/store"
)

const hookColumns = `id, version, def, managed_by, enabled, disabled_reason, failing_since, last_success_at,
	last_outcome, created_at, updated_at`

func scanHook(row pgx.Row) (*store.Hook, error) {
	var h store.Hook
	err := row.Scan(&h.ID, &h.Version, &h.Def, &h.ManagedBy, &h.Enabled, &h.DisabledReason,
		scanNullTime{&h.FailingSince}, scanNullTime{&h.LastSuccessAt}, &h.LastOutcome,
		scanTime{&h.CreatedAt}, scanTime{&h.UpdatedAt})
	if err != nil {
		return nil, err
	}
	return &h, nil
}

func (q *queries) ListHooks(ctx context.Context) ([]*store.Hook, error) {
	rows, err := q.query(ctx, `SELECT `+hookColumns+` FROM hooks ORDER BY id`)
	hs, err := collect(rows, err, scanHook)
	if err != nil {
		return nil, fmt.Errorf("hooks: %w", err)
	}
	return hs, nil
}

func (q *queries) GetHook(ctx context.Context, id string) (*store.Hook, error) {
	h, err := scanHook(q.queryRow(ctx, `SELECT `+hookColumns+` FROM hooks WHERE id = $1`, id))
	return h, notFound(err, "hook "+id)
}

// lockHookID serialises the writers of one hook id until the transaction ends, also when
// the hook does not exist yet (a row lock needs a row).
func (q *queries) lockHookID(ctx context.Context, id string) error {
	_, err := q.exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('hookpoint hook ' || $1, 0))`, id)
	return err
}

func (q *queries) PutHook(ctx context.Context, h *store.Hook) error {
	return q.atomic(ctx, pgx.ReadCommitted, func(q *queries) error {
		what := "hook " + h.ID
		if err := q.lockHookID(ctx, h.ID); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		old, err := q.GetHook(ctx, h.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		version := 0
		createdAt := h.CreatedAt
		if old != nil {
			version, createdAt = old.Version, old.CreatedAt
		}
		if old == nil || !bytes.Equal(old.Def, h.Def) || old.ManagedBy != text(h.ManagedBy) {
			// One more than the highest version the id ever had, deleted hooks included.
			var highest *int
			if err := q.queryRow(ctx, `SELECT max(version) FROM hook_versions WHERE hook_id = $1`, h.ID).Scan(&highest); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			version = 1
			if highest != nil {
				version = *highest + 1
			}
			_, err := q.exec(ctx, `INSERT INTO hook_versions (hook_id, version, def, managed_by, created_at)
				VALUES ($1, $2, $3, $4, $5)`, h.ID, version, blob(h.Def), h.ManagedBy, tm(h.UpdatedAt))
			if err != nil {
				return mapErr(err, what)
			}
		}
		_, err = q.exec(ctx, `INSERT INTO hooks (`+hookColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (id) DO UPDATE SET version = excluded.version, def = excluded.def,
				managed_by = excluded.managed_by, enabled = excluded.enabled,
				disabled_reason = excluded.disabled_reason, failing_since = excluded.failing_since,
				last_success_at = excluded.last_success_at, last_outcome = excluded.last_outcome,
				updated_at = excluded.updated_at`,
			h.ID, version, blob(h.Def), h.ManagedBy, h.Enabled, h.DisabledReason, ntm{h.FailingSince},
			ntm{h.LastSuccessAt}, h.LastOutcome, tm(createdAt), tm(h.UpdatedAt))
		if err != nil {
			return mapErr(err, what)
		}
		h.Version, h.CreatedAt = version, createdAt
		return nil
	})
}

func (q *queries) HookVersion(ctx context.Context, id string, version int) (*store.HookVersion, error) {
	v := store.HookVersion{HookID: id, Version: version}
	err := q.queryRow(ctx, `SELECT def, managed_by, created_at FROM hook_versions WHERE hook_id = $1 AND version = $2`,
		id, version).Scan(&v.Def, &v.ManagedBy, scanTime{&v.CreatedAt})
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("hook %s version %d", id, version))
	}
	return &v, nil
}

func (q *queries) DeleteHook(ctx context.Context, id string) error {
	// hook_secrets go with it (ON DELETE CASCADE).
	tag, err := q.execWrite(ctx, `DELETE FROM hooks WHERE id = $1`, id)
	return affected(tag, err, "hook "+id)
}

func (q *queries) SetHookState(ctx context.Context, id string, st store.HookState) error {
	tag, err := q.execWrite(ctx, `UPDATE hooks SET enabled = $1, disabled_reason = $2, failing_since = $3,
		last_success_at = $4, last_outcome = $5 WHERE id = $6`,
		st.Enabled, st.DisabledReason, ntm{st.FailingSince}, ntm{st.LastSuccessAt}, st.LastOutcome, id)
	return affected(tag, err, "hook "+id)
}

// RecordHookOutcome reads the hook's state with its row locked, so that the outcomes of
// attempts recorded at once, by this server or another, each apply to the one before.
func (q *queries) RecordHookOutcome(ctx context.Context, id string, ok bool, outcome string, at time.Time, disableAfter time.Duration) (before, after store.HookState, err error) {
	err = q.atomic(ctx, pgx.ReadCommitted, func(q *queries) error {
		h, err := scanHook(q.queryRow(ctx, `SELECT `+hookColumns+` FROM hooks WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return notFound(err, "hook "+id)
		}
		before = store.HookState{Enabled: h.Enabled, DisabledReason: h.DisabledReason, FailingSince: h.FailingSince,
			LastSuccessAt: h.LastSuccessAt, LastOutcome: h.LastOutcome}
		after = store.NextHookState(before, ok, outcome, at, disableAfter)
		if store.SameHookState(before, after) {
			return nil
		}
		return q.SetHookState(ctx, id, after)
	})
	return before, after, err
}

func (q *queries) PutSecrets(ctx context.Context, hookID string, secrets []store.Secret) error {
	return q.atomic(ctx, pgx.ReadCommitted, func(q *queries) error {
		what := "secrets of hook " + hookID
		var one int
		if err := q.queryRow(ctx, `SELECT 1 FROM hooks WHERE id = $1 FOR UPDATE`, hookID).Scan(&one); err != nil {
			return notFound(err, "hook "+hookID)
		}
		if _, err := q.exec(ctx, `DELETE FROM hook_secrets WHERE hook_id = $1`, hookID); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		for _, s := range secrets {
			_, err := q.exec(ctx, `INSERT INTO hook_secrets (hook_id, name, ciphertext) VALUES ($1, $2, $3)`,
				hookID, s.Name, blob(s.Ciphertext))
			if err != nil {
				return mapErr(err, what+": "+s.Name)
			}
		}
		return nil
	})
}

func (q *queries) GetSecrets(ctx context.Context, hookID string) ([]store.Secret, error) {
	// One statement: the hook's existence and its secrets from one snapshot. A hook
	// without secrets gives one row with a NULL name.
	rows, err := q.query(ctx, `SELECT s.name, s.ciphertext FROM hooks h
		LEFT JOIN hook_secrets s ON s.hook_id = h.id WHERE h.id = $1 ORDER BY s.name`, hookID)
	type row struct {
		name   *string
		secret []byte
	}
	found, err := collect(rows, err, func(r pgx.Row) (row, error) {
		var v row
		err := r.Scan(&v.name, &v.secret)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("secrets of hook %s: %w", hookID, err)
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("hook %s: %w", hookID, store.ErrNotFound)
	}
	out := []store.Secret{}
	for _, v := range found {
		if v.name != nil {
			out = append(out, store.Secret{HookID: hookID, Name: *v.name, Ciphertext: v.secret})
		}
	}
	return out, nil
}
