package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hookpoint/hookpoint/internal/store"
)

const hookColumns = `id, version, def, managed_by, enabled, disabled_reason, failing_since, last_success_at,
	last_outcome, created_at, updated_at`

func scanHook(row interface{ Scan(...any) error }) (*store.Hook, error) {
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
	rows, err := q.db.QueryContext(ctx, `SELECT `+hookColumns+` FROM hooks ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("hooks: %w", err)
	}
	return collect(rows, scanHook)
}

func (q *queries) GetHook(ctx context.Context, id string) (*store.Hook, error) {
	h, err := scanHook(q.db.QueryRowContext(ctx, `SELECT `+hookColumns+` FROM hooks WHERE id = ?`, id))
	return h, notFound(err, "hook "+id)
}

func (q *queries) PutHook(ctx context.Context, h *store.Hook) error {
	return q.atomic(ctx, func(q *queries) error {
		what := "hook " + h.ID
		old, err := q.GetHook(ctx, h.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		version := 0
		createdAt := h.CreatedAt
		if old != nil {
			version, createdAt = old.Version, old.CreatedAt
		}
		if old == nil || !bytes.Equal(old.Def, h.Def) || old.ManagedBy != h.ManagedBy {
			// One more than the highest version the id ever had, deleted hooks included.
			var highest sql.NullInt64
			if err := q.db.QueryRowContext(ctx, `SELECT max(version) FROM hook_versions WHERE hook_id = ?`, h.ID).Scan(&highest); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			version = int(highest.Int64) + 1
			_, err := q.db.ExecContext(ctx, `INSERT INTO hook_versions (hook_id, version, def, managed_by, created_at)
				VALUES (?, ?, ?, ?, ?)`, h.ID, version, blob(h.Def), h.ManagedBy, tm(h.UpdatedAt))
			if err != nil {
				return mapErr(err, what)
			}
		}
		_, err = q.db.ExecContext(ctx, `INSERT INTO hooks (`+hookColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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
	err := q.db.QueryRowContext(ctx, `SELECT def, managed_by, created_at FROM hook_versions WHERE hook_id = ? AND version = ?`,
		id, version).Scan(&v.Def, &v.ManagedBy, scanTime{&v.CreatedAt})
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("hook %s version %d", id, version))
	}
	return &v, nil
}

func (q *queries) DeleteHook(ctx context.Context, id string) error {
	// hook_secrets go with it (ON DELETE CASCADE).
	res, err := q.db.ExecContext(ctx, `DELETE FROM hooks WHERE id = ?`, id)
	return affected(res, err, "hook "+id)
}

func (q *queries) SetHookState(ctx context.Context, id string, st store.HookState) error {
	res, err := q.db.ExecContext(ctx, `UPDATE hooks SET enabled = ?, disabled_reason = ?, failing_since = ?,
		last_success_at = ?, last_outcome = ? WHERE id = ?`,
		st.Enabled, st.DisabledReason, ntm{st.FailingSince}, ntm{st.LastSuccessAt}, st.LastOutcome, id)
	return affected(res, err, "hook "+id)
}

func (q *queries) PutSecrets(ctx context.Context, hookID string, secrets []store.Secret) error {
	return q.atomic(ctx, func(q *queries) error {
		what := "secrets of hook " + hookID
		if err := q.hookExists(ctx, hookID); err != nil {
			return err
		}
		if _, err := q.db.ExecContext(ctx, `DELETE FROM hook_secrets WHERE hook_id = ?`, hookID); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		for _, s := range secrets {
			_, err := q.db.ExecContext(ctx, `INSERT INTO hook_secrets (hook_id, name, ciphertext) VALUES (?, ?, ?)`,
				hookID, s.Name, blob(s.Ciphertext))
			if err != nil {
				return mapErr(err, what+": "+s.Name)
			}
		}
		return nil
	})
}

func (q *queries) GetSecrets(ctx context.Context, hookID string) ([]store.Secret, error) {
	if err := q.hookExists(ctx, hookID); err != nil {
		return nil, err
	}
	rows, err := q.db.QueryContext(ctx, `SELECT hook_id, name, ciphertext FROM hook_secrets WHERE hook_id = ? ORDER BY name`, hookID)
	if err != nil {
		return nil, fmt.Errorf("secrets of hook %s: %w", hookID, err)
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (store.Secret, error) {
		var s store.Secret
		err := row.Scan(&s.HookID, &s.Name, &s.Ciphertext)
		return s, err
	})
}

func (q *queries) hookExists(ctx context.Context, id string) error {
	var one int
	err := q.db.QueryRowContext(ctx, `SELECT 1 FROM hooks WHERE id = ?`, id).Scan(&one)
	return notFound(err, "hook "+id)
}
