package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/hookpoint/hookpoint/internal/store"
)

const deliveryColumns = `id, event_id, event_type, hook_id, hook_version, mode, status, attempts, snoozes,
	next_attempt_at, last_error, last_status, created_at, updated_at`

func scanDelivery(row interface{ Scan(...any) error }) (*store.Delivery, error) {
	var d store.Delivery
	err := row.Scan(&d.ID, &d.EventID, &d.EventType, &d.HookID, &d.HookVersion, &d.Mode, &d.Status, &d.Attempts,
		&d.Snoozes, scanNullTime{&d.NextAttemptAt}, &d.LastError, &d.LastStatus, scanTime{&d.CreatedAt},
		scanTime{&d.UpdatedAt})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

func (q *queries) InsertDeliveries(ctx context.Context, ds []*store.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	return q.atomic(ctx, func(q *queries) error {
		for _, d := range ds {
			_, err := q.db.ExecContext(ctx, `INSERT INTO deliveries (`+deliveryColumns+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				d.ID, d.EventID, d.EventType, d.HookID, d.HookVersion, d.Mode, d.Status, d.Attempts, d.Snoozes,
				ntm{d.NextAttemptAt}, d.LastError, d.LastStatus, tm(d.CreatedAt), tm(d.UpdatedAt))
			if err != nil {
				return mapErr(err, "delivery "+d.ID)
			}
		}
		return nil
	})
}

func (q *queries) GetDelivery(ctx context.Context, id string) (*store.Delivery, error) {
	d, err := scanDelivery(q.db.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = ?`, id))
	return d, notFound(err, "delivery "+id)
}

// ListDeliveries lists newest first by (created_at, id): the cursor's own created_at and
// id bound the next page, so deliveries sharing a created_at are neither repeated nor
// skipped. EventType is matched with GLOB (see globPattern).
func (q *queries) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]*store.Delivery, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	if f.HookID != "" {
		add("hook_id = ?", f.HookID)
	}
	if f.EventID != "" {
		add("event_id = ?", f.EventID)
	}
	if len(f.Status) > 0 {
		a := make([]any, len(f.Status))
		for i, s := range f.Status {
			a[i] = s
		}
		add("status IN ("+placeholders(len(a))+")", a...)
	}
	if f.EventType != "" && f.EventType != "*" {
		add("event_type GLOB ?", globPattern(f.EventType))
	}
	if !f.Since.IsZero() {
		add("created_at >= ?", tm(f.Since))
	}
	if !f.Until.IsZero() {
		add("created_at < ?", tm(f.Until))
	}
	if f.Cursor != "" {
		var at time.Time
		err := q.db.QueryRowContext(ctx, `SELECT created_at FROM deliveries WHERE id = ?`, f.Cursor).Scan(scanTime{&at})
		if err != nil {
			return nil, notFound(err, "cursor "+f.Cursor)
		}
		add("(created_at, id) < (?, ?)", tm(at), f.Cursor)
	}
	query := `SELECT ` + deliveryColumns + ` FROM deliveries`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, sqlLimit(f.Limit))
	rows, err := q.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	return collect(rows, scanDelivery)
}

func (q *queries) UpdateDelivery(ctx context.Context, id string, u store.DeliveryUpdate) error {
	res, err := q.db.ExecContext(ctx, `UPDATE deliveries SET status = ?, attempts = ?, snoozes = ?,
		next_attempt_at = ?, last_error = ?, last_status = ?, updated_at = ? WHERE id = ?`,
		u.Status, u.Attempts, u.Snoozes, ntm{u.NextAttemptAt}, u.LastError, u.LastStatus, tm(u.UpdatedAt), id)
	return affected(res, err, "delivery "+id)
}

func (q *queries) RecordAttempt(ctx context.Context, a *store.Attempt, u store.DeliveryUpdate) error {
	// The delivery is updated first, only if no attempt with this number or a higher
	// one is recorded: the transaction holds SQLite's write lock (BEGIN IMMEDIATE), so
	// nothing can record one between this update and the insert, and when the update
	// changes nothing nothing was written. The insert then cannot conflict; it fails
	// only when the database does, and the transaction with it. So no savepoint is
	// needed: the method writes both rows or none.
	return q.unit(ctx, func(q *queries) error { return q.recordAttempt(ctx, a, u) })
}

func (q *queries) recordAttempt(ctx context.Context, a *store.Attempt, u store.DeliveryUpdate) error {
	what := fmt.Sprintf("attempt %d of delivery %s", a.N, a.DeliveryID)
	res, err := q.db.ExecContext(ctx, `UPDATE deliveries SET status = ?, attempts = ?, snoozes = ?,
		next_attempt_at = ?, last_error = ?, last_status = ?, updated_at = ?
		WHERE id = ? AND NOT EXISTS (SELECT 1 FROM attempts WHERE delivery_id = ? AND n >= ?)`,
		u.Status, u.Attempts, u.Snoozes, ntm{u.NextAttemptAt}, u.LastError, u.LastStatus, tm(u.UpdatedAt),
		a.DeliveryID, a.DeliveryID, a.N)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	} else if n == 0 {
		var exists int
		var highest sql.NullInt64
		err := q.db.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM deliveries WHERE id = ?),
			(SELECT max(n) FROM attempts WHERE delivery_id = ?)`, a.DeliveryID, a.DeliveryID).Scan(&exists, &highest)
		switch {
		case err != nil:
			return fmt.Errorf("%s: %w", what, err)
		case exists == 0:
			return fmt.Errorf("%s: delivery %w", what, store.ErrNotFound)
		default:
			return fmt.Errorf("%s: attempt %d is recorded: %w", what, highest.Int64, store.ErrConflict)
		}
	}
	var exit any
	if a.ExitCode != nil {
		exit = *a.ExitCode
	}
	var id int64
	err = q.db.QueryRowContext(ctx, `INSERT INTO attempts (delivery_id, n, hook_version, started_at, duration_ms,
			outcome, status_code, exit_code, error, response, request, node)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.DeliveryID, a.N, a.HookVersion, tm(a.StartedAt), a.DurationMS, a.Outcome, a.StatusCode, exit,
		a.Error, a.Response, nullBlob(a.Request), a.Node).Scan(&id)
	if err != nil {
		return mapErr(err, what)
	}
	a.ID = id
	return nil
}

func (q *queries) Attempts(ctx context.Context, deliveryID string) ([]*store.Attempt, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT id, delivery_id, n, hook_version, started_at, duration_ms, outcome,
		status_code, exit_code, error, response, request, node FROM attempts WHERE delivery_id = ? ORDER BY n`, deliveryID)
	if err != nil {
		return nil, fmt.Errorf("attempts of delivery %s: %w", deliveryID, err)
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (*store.Attempt, error) {
		var a store.Attempt
		var exit sql.NullInt64
		err := row.Scan(&a.ID, &a.DeliveryID, &a.N, &a.HookVersion, scanTime{&a.StartedAt}, &a.DurationMS, &a.Outcome,
			&a.StatusCode, &exit, &a.Error, &a.Response, &a.Request, &a.Node)
		if exit.Valid {
			c := int(exit.Int64)
			a.ExitCode = &c
		}
		return &a, err
	})
}

func (q *queries) FailedDeliveries(ctx context.Context, hookID string, since time.Time, limit int) ([]*store.Delivery, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE hook_id = ? AND status = ? AND created_at >= ? ORDER BY created_at DESC, id DESC LIMIT ?`,
		hookID, store.DeliveryFailed, tm(since), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("failed deliveries of hook %s: %w", hookID, err)
	}
	return collect(rows, scanDelivery)
}
