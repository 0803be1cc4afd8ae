package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookpoint/hookpoint/internal/store"
)

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
	rows, err := q.db.QueryContext(ctx, `SELECT (created_at - ?) / ?, status, count(*) FROM deliveries
		WHERE created_at >= ? AND created_at < ? GROUP BY 1, 2`, from, int64(step), tm(since), tm(until))
	if err != nil {
		return nil, fmt.Errorf("delivery activity: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			i      int64
			status string
			count  int
		)
		if err := rows.Scan(&i, &status, &count); err != nil {
			return nil, fmt.Errorf("delivery activity: %w", err)
		}
		if i >= 0 && i < int64(n) {
			out[i].ByStatus[status] += count
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("delivery activity: %w", err)
	}
	return out, nil
}

func (q *queries) LatestEvents(ctx context.Context, perSource, maxSources int) ([]*store.Event, error) {
	out := []*store.Event{}
	if perSource <= 0 || maxSources <= 0 {
		return out, nil
	}
	err := q.snapshot(ctx, func(q *queries) error {
		// The distinct sources, each found by one step in events_source_received rather
		// than by reading every event.
		rows, err := q.db.QueryContext(ctx, `WITH RECURSIVE s(source, n) AS (
				SELECT min(source), 1 FROM events
				UNION ALL
				SELECT (SELECT min(source) FROM events WHERE source > s.source), n + 1 FROM s
				WHERE s.source IS NOT NULL AND n < ?)
			SELECT source FROM s WHERE source IS NOT NULL`, maxSources)
		if err != nil {
			return err
		}
		sources, err := collect(rows, func(row interface{ Scan(...any) error }) (string, error) {
			var s string
			err := row.Scan(&s)
			return s, err
		})
		if err != nil {
			return err
		}
		for _, src := range sources {
			rows, err := q.db.QueryContext(ctx, `SELECT `+eventColumns+` FROM events
				WHERE source = ? ORDER BY received_at DESC, id DESC LIMIT ?`, src, perSource)
			if err != nil {
				return err
			}
			es, err := collect(rows, scanEvent)
			if err != nil {
				return err
			}
			out = append(out, es...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("latest events: %w", err)
	}
	return out, nil
}
