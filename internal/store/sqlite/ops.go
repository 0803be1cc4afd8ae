package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookpoint/hookpoint/internal/store"
)

var statuses = []string{store.DeliveryQueued, store.DeliveryRetrying, store.DeliverySucceeded,
	store.DeliveryFailed, store.DeliveryCancelled}

func (q *queries) Counts(ctx context.Context) (*store.Counts, error) {
	c := &store.Counts{ByStatus: make(map[string]int, len(statuses))}
	for _, s := range statuses {
		c.ByStatus[s] = 0
	}
	err := q.snapshot(ctx, func(q *queries) error {
		rows, err := q.db.QueryContext(ctx, `SELECT status, count(*) FROM deliveries GROUP BY status`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			var n int
			if err := rows.Scan(&s, &n); err != nil {
				return err
			}
			c.ByStatus[s] = n
		}
		if err := rows.Err(); err != nil {
			return err
		}
		c.Pending = c.ByStatus[store.DeliveryQueued] + c.ByStatus[store.DeliveryRetrying]
		var oldest sql.NullInt64
		err = q.db.QueryRowContext(ctx, `SELECT min(created_at) FROM deliveries WHERE status IN (?, ?)`,
			store.DeliveryQueued, store.DeliveryRetrying).Scan(&oldest)
		if err != nil {
			return err
		}
		if oldest.Valid {
			t := fromNanos(oldest.Int64)
			c.OldestPending = &t
		}
		return q.db.QueryRowContext(ctx, `SELECT count(*) FROM hooks WHERE NOT enabled OR disabled_reason <> ''`).
			Scan(&c.HooksDisabled)
	})
	if err != nil {
		return nil, fmt.Errorf("counts: %w", err)
	}
	return c, nil
}

// pruneChunk bounds the ids bound to one statement.
const pruneChunk = 500

func (q *queries) Prune(ctx context.Context, before time.Time, batch int) (int, error) {
	if batch <= 0 {
		return 0, errors.New("prune: batch must be positive")
	}
	total := 0
	err := q.atomic(ctx, func(q *queries) error {
		total = 0
		rows, err := q.db.QueryContext(ctx, `SELECT e.id FROM events e
			WHERE e.received_at < ? AND e.state <> ? AND NOT EXISTS (
				SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status NOT IN (?, ?, ?))
			ORDER BY e.received_at, e.id LIMIT ?`,
			tm(before), store.EventReceived, store.DeliverySucceeded, store.DeliveryFailed, store.DeliveryCancelled, batch)
		if err != nil {
			return err
		}
		ids, err := collect(rows, func(row interface{ Scan(...any) error }) (any, error) {
			var id string
			err := row.Scan(&id)
			return id, err
		})
		if err != nil {
			return err
		}
		for len(ids) > 0 {
			chunk := ids[:min(pruneChunk, len(ids))]
			ids = ids[len(chunk):]
			in := placeholders(len(chunk))
			for _, stmt := range []string{
				`DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id IN (` + in + `))`,
				`DELETE FROM deliveries WHERE event_id IN (` + in + `)`,
				`DELETE FROM events WHERE id IN (` + in + `)`,
			} {
				res, err := q.db.ExecContext(ctx, stmt, chunk...)
				if err != nil {
					return err
				}
				n, err := res.RowsAffected()
				if err != nil {
					return err
				}
				total += int(n)
			}
		}
		res, err := q.db.ExecContext(ctx, `DELETE FROM attempts WHERE id IN (
			SELECT id FROM attempts WHERE started_at < ? ORDER BY started_at LIMIT ?)`, tm(before), batch)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		total += int(n)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune: %w", err)
	}
	return total, nil
}
