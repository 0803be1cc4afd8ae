package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookpoint/hookpoint/internal/store"
)

var statuses = []string{store.DeliveryQueued, store.DeliveryRetrying, store.DeliverySucceeded,
	store.DeliveryFailed, store.DeliveryCancelled}

// Counts reads everything in one statement, so from one snapshot: the hooks disabled,
// then one row per delivery status (none when there are no deliveries).
func (q *queries) Counts(ctx context.Context) (*store.Counts, error) {
	c := &store.Counts{ByStatus: make(map[string]int, len(statuses))}
	for _, s := range statuses {
		c.ByStatus[s] = 0
	}
	rows, err := q.query(ctx, `SELECT h.disabled, d.status, d.n, d.oldest
		FROM (SELECT count(*) AS disabled FROM hooks WHERE NOT enabled OR disabled_reason <> '') h
		LEFT JOIN (SELECT status, count(*) AS n, min(created_at) AS oldest FROM deliveries GROUP BY status) d ON true`)
	type row struct {
		disabled int
		status   *string
		n        *int
		oldest   *int64
	}
	got, err := collect(rows, err, func(r pgx.Row) (row, error) {
		var v row
		err := r.Scan(&v.disabled, &v.status, &v.n, &v.oldest)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("counts: %w", err)
	}
	for _, r := range got {
		c.HooksDisabled = r.disabled
		if r.status == nil {
			continue
		}
		c.ByStatus[*r.status] = *r.n
		if *r.status == store.DeliveryQueued || *r.status == store.DeliveryRetrying {
			if t := fromNanos(*r.oldest); c.OldestPending == nil || t.Before(*c.OldestPending) {
				c.OldestPending = &t
			}
		}
	}
	c.Pending = c.ByStatus[store.DeliveryQueued] + c.ByStatus[store.DeliveryRetrying]
	return c, nil
}

// Prune runs in a REPEATABLE READ transaction of its own: a delivery made pending again
// (a retry) or added to an event while the prune runs makes it fail with a serialization
// error, to be tried again, rather than go with the event.
func (q *queries) Prune(ctx context.Context, before time.Time, batch int) (int, error) {
	if batch <= 0 {
		return 0, errors.New("prune: batch must be positive")
	}
	total := 0
	err := q.atomic(ctx, pgx.RepeatableRead, func(q *queries) error {
		total = 0
		rows, err := q.query(ctx, `SELECT e.id FROM events e
			WHERE e.received_at < $1 AND e.state <> $2 AND NOT EXISTS (
				SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status <> ALL($3))
			ORDER BY e.received_at, e.id LIMIT $4`,
			tm(before), store.EventReceived, []string{store.DeliverySucceeded, store.DeliveryFailed, store.DeliveryCancelled}, batch)
		ids, err := collect(rows, err, func(row pgx.Row) (string, error) {
			var id string
			err := row.Scan(&id)
			return id, err
		})
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			for _, stmt := range []string{
				`DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id = ANY($1))`,
				`DELETE FROM deliveries WHERE event_id = ANY($1)`,
				`DELETE FROM events WHERE id = ANY($1)`,
			} {
				tag, err := q.exec(ctx, stmt, ids)
				if err != nil {
					return err
				}
				total += int(tag.RowsAffected())
			}
		}
		tag, err := q.exec(ctx, `DELETE FROM attempts WHERE id IN (
			SELECT id FROM attempts WHERE started_at < $1 ORDER BY started_at LIMIT $2)`, tm(before), batch)
		if err != nil {
			return err
		}
		total += int(tag.RowsAffected())
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune: %w", err)
	}
	return total, nil
}

func (q *queries) DeliveryActivity(ctx context.Context, since time.Time, step time.Duration, n int) ([]store.ActivityBucket, error) {
	if step <= 0 || n < 1 || n > 1000 {
		return nil, errors.New("delivery activity: step must be positive and buckets 1 to 1000")
	}
	from, err := nanos(since)
	if err != nil {
		return nil, fmt.Errorf("delivery activity: %w", err)
	}
	until := since.Add(time.Duration(n) * step)
	out := make([]store.ActivityBucket, n)
	for i := range out {
		out[i] = store.ActivityBucket{Start: since.Add(time.Duration(i) * step).UTC(), ByStatus: make(map[string]int, len(statuses))}
		for _, s := range statuses {
			out[i].ByStatus[s] = 0
		}
	}
	rows, err := q.query(ctx, `SELECT (created_at - $1::bigint) / $2::bigint, status, count(*) FROM deliveries
		WHERE created_at >= $3 AND created_at < $4 GROUP BY 1, 2`, from, int64(step), tm(since), tm(until))
	type row struct {
		i      int64
		status string
		count  int
	}
	got, err := collect(rows, err, func(r pgx.Row) (row, error) {
		var v row
		err := r.Scan(&v.i, &v.status, &v.count)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("delivery activity: %w", err)
	}
	for _, r := range got {
		if r.i >= 0 && r.i < int64(n) {
			out[r.i].ByStatus[r.status] += r.count
		}
	}
	return out, nil
}

// LatestEvents finds the distinct sources by one step each in events_source_received
// rather than by reading every event, and reads each one's latest through the same
// index, in one statement (one snapshot).
func (q *queries) LatestEvents(ctx context.Context, perSource, maxSources int) ([]*store.Event, error) {
	if perSource <= 0 || maxSources <= 0 {
		return []*store.Event{}, nil
	}
	rows, err := q.query(ctx, `WITH RECURSIVE s(source, n) AS (
			SELECT min(source), 1 FROM events
			UNION ALL
			SELECT (SELECT min(e.source) FROM events e WHERE e.source > s.source), s.n + 1 FROM s
			WHERE s.source IS NOT NULL AND s.n < $1)
		SELECT l.* FROM s CROSS JOIN LATERAL (
			SELECT `+eventColumns+` FROM events WHERE events.source = s.source
			ORDER BY received_at DESC, id DESC LIMIT $2) l
		ORDER BY s.source, l.received_at DESC, l.id DESC`, maxSources, perSource)
	es, err := collect(rows, err, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("latest events: %w", err)
	}
	return es, nil
}
