package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookpoint/hookpoint/internal/store"
)

const deliveryColumns = `id, event_id, event_type, hook_id, hook_version, mode, status, attempts, snoozes,
	next_attempt_at, last_error, last_status, created_at, updated_at`

func scanDelivery(row pgx.Row) (*store.Delivery, error) {
	var d store.Delivery
	err := row.Scan(&d.ID, &d.EventID, &d.EventType, &d.HookID, &d.HookVersion, &d.Mode, &d.Status, &d.Attempts,
		&d.Snoozes, scanNullTime{&d.NextAttemptAt}, &d.LastError, &d.LastStatus, scanTime{&d.CreatedAt},
		scanTime{&d.UpdatedAt})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// InsertDeliveries inserts every delivery in one statement (arrays unnested), which is
// all or nothing by itself.
func (q *queries) InsertDeliveries(ctx context.Context, ds []*store.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	n := len(ds)
	ids, events, types, hooks := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	modes, statuses, errs := make([]string, n), make([]string, n), make([]string, n)
	versions, attempts, snoozes, lastStatus := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	next, created, updated := make([]*int64, n), make([]int64, n), make([]int64, n)
	for i, d := range ds {
		ids[i], events[i], types[i], hooks[i] = d.ID, d.EventID, d.EventType, d.HookID
		modes[i], statuses[i], errs[i] = d.Mode, d.Status, d.LastError
		versions[i], attempts[i], snoozes[i], lastStatus[i] = int64(d.HookVersion), int64(d.Attempts), int64(d.Snoozes), int64(d.LastStatus)
		var err error
		if d.NextAttemptAt != nil {
			next[i] = new(int64)
			*next[i], err = nanos(*d.NextAttemptAt)
		}
		if err == nil {
			created[i], err = nanos(d.CreatedAt)
		}
		if err == nil {
			updated[i], err = nanos(d.UpdatedAt)
		}
		if err != nil {
			return fmt.Errorf("delivery %s: %w", d.ID, err)
		}
	}
	what := "delivery " + ds[0].ID
	if len(ds) > 1 {
		what = fmt.Sprintf("deliveries %s... (%d)", ds[0].ID, len(ds))
	}
	_, err := q.execWrite(ctx, `INSERT INTO deliveries (`+deliveryColumns+`)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[],
			$8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::bigint[], $13::bigint[], $14::bigint[])`,
		ids, events, types, hooks, versions, modes, statuses, attempts, snoozes, next, errs, lastStatus, created, updated)
	return mapErr(err, what)
}

func (q *queries) GetDelivery(ctx context.Context, id string) (*store.Delivery, error) {
	d, err := scanDelivery(q.queryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = $1`, id))
	return d, notFound(err, "delivery "+id)
}

// ListDeliveries lists newest first by (created_at, id): the cursor's own created_at and
// id bound the next page, so deliveries sharing a created_at are neither repeated nor
// skipped. EventType is matched with LIKE (see likePattern).
func (q *queries) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]*store.Delivery, error) {
	var where []string
	var args []any
	arg := func(a any) string {
		args = append(args, a)
		return "$" + strconv.Itoa(len(args))
	}
	if f.HookID != "" {
		where = append(where, "hook_id = "+arg(f.HookID))
	}
	if f.EventID != "" {
		where = append(where, "event_id = "+arg(f.EventID))
	}
	if len(f.Status) > 0 {
		where = append(where, "status = ANY("+arg(f.Status)+")")
	}
	if f.EventType != "" && f.EventType != "*" {
		where = append(where, "event_type LIKE "+arg(likePattern(f.EventType)))
	}
	if !f.Since.IsZero() {
		where = append(where, "created_at >= "+arg(tm(f.Since)))
	}
	if !f.Until.IsZero() {
		where = append(where, "created_at < "+arg(tm(f.Until)))
	}
	if f.Cursor != "" {
		var at time.Time
		err := q.queryRow(ctx, `SELECT created_at FROM deliveries WHERE id = $1`, f.Cursor).Scan(scanTime{&at})
		if err != nil {
			return nil, notFound(err, "cursor "+f.Cursor)
		}
		where = append(where, "(created_at, id) < ("+arg(tm(at))+", "+arg(f.Cursor)+")")
	}
	query := `SELECT ` + deliveryColumns + ` FROM deliveries`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY created_at DESC, id DESC LIMIT ` + arg(limit(f.Limit))
	rows, err := q.query(ctx, query, args...)
	ds, err := collect(rows, err, scanDelivery)
	if err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	return ds, nil
}

func (q *queries) UpdateDelivery(ctx context.Context, id string, u store.DeliveryUpdate) error {
	return q.updateDelivery(ctx, id, u)
}

func (q *queries) updateDelivery(ctx context.Context, id string, u store.DeliveryUpdate) error {
	tag, err := q.execWrite(ctx, `UPDATE deliveries SET status = $1, attempts = $2, snoozes = $3,
		next_attempt_at = $4, last_error = $5, last_status = $6, updated_at = $7 WHERE id = $8`,
		u.Status, u.Attempts, u.Snoozes, ntm{u.NextAttemptAt}, u.LastError, u.LastStatus, tm(u.UpdatedAt), id)
	return affected(tag, err, "delivery "+id)
}

// RecordAttempt locks the delivery's row first: two workers recording attempts of one
// delivery at once (a stale one after a rescue, on this server or another) take turns,
// and the second sees what the first recorded.
func (q *queries) RecordAttempt(ctx context.Context, a *store.Attempt, u store.DeliveryUpdate) error {
	return q.atomic(ctx, pgx.ReadCommitted, func(q *queries) error {
		what := fmt.Sprintf("attempt %d of delivery %s", a.N, a.DeliveryID)
		var one int
		if err := q.queryRow(ctx, `SELECT 1 FROM deliveries WHERE id = $1 FOR UPDATE`, a.DeliveryID).Scan(&one); err != nil {
			return notFound(err, what+": delivery")
		}
		// A statement of its own, so that under READ COMMITTED it sees what a worker that
		// held the lock before us committed.
		var highest *int
		if err := q.queryRow(ctx, `SELECT max(n) FROM attempts WHERE delivery_id = $1`, a.DeliveryID).Scan(&highest); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if highest != nil && *highest >= a.N {
			return fmt.Errorf("%s: attempt %d is recorded: %w", what, *highest, store.ErrConflict)
		}
		var id int64
		err := q.queryRow(ctx, `INSERT INTO attempts (delivery_id, n, hook_version, started_at, duration_ms,
				outcome, status_code, exit_code, error, response, request, node)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			a.DeliveryID, a.N, a.HookVersion, tm(a.StartedAt), a.DurationMS, a.Outcome, a.StatusCode, a.ExitCode,
			a.Error, a.Response, nullBlob(a.Request), a.Node).Scan(&id)
		if err != nil {
			return mapErr(err, what)
		}
		if err := q.updateDelivery(ctx, a.DeliveryID, u); err != nil {
			return err
		}
		a.ID = id
		return nil
	})
}

func (q *queries) Attempts(ctx context.Context, deliveryID string) ([]*store.Attempt, error) {
	rows, err := q.query(ctx, `SELECT id, delivery_id, n, hook_version, started_at, duration_ms, outcome,
		status_code, exit_code, error, response, request, node FROM attempts WHERE delivery_id = $1 ORDER BY n`, deliveryID)
	as, err := collect(rows, err, func(row pgx.Row) (*store.Attempt, error) {
		var a store.Attempt
		err := row.Scan(&a.ID, &a.DeliveryID, &a.N, &a.HookVersion, scanTime{&a.StartedAt}, &a.DurationMS, &a.Outcome,
			&a.StatusCode, &a.ExitCode, &a.Error, &a.Response, &a.Request, &a.Node)
		return &a, err
	})
	if err != nil {
		return nil, fmt.Errorf("attempts of delivery %s: %w", deliveryID, err)
	}
	return as, nil
}

func (q *queries) FailedDeliveries(ctx context.Context, hookID string, since time.Time, n int) ([]*store.Delivery, error) {
	rows, err := q.query(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE hook_id = $1 AND status = $2 AND created_at >= $3 ORDER BY created_at DESC, id DESC LIMIT $4`,
		hookID, store.DeliveryFailed, tm(since), limit(n))
	ds, err := collect(rows, err, scanDelivery)
	if err != nil {
		return nil, fmt.Errorf("failed deliveries of hook %s: %w", hookID, err)
	}
	return ds, nil
}
