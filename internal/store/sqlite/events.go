package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hookpoint/hookpoint/internal/store"
)

const eventColumns = `id, type, source, subject, status, gate, run_id, run_job, run_kind, time, data,
	source_env, received_at, idempotency_key, origin, state, verdict, answer`

func scanEvent(row interface{ Scan(...any) error }) (*store.Event, error) {
	var e store.Event
	var key sql.NullString
	err := row.Scan(&e.ID, &e.Type, &e.Source, &e.Subject, &e.Status, &e.Gate, &e.RunID, &e.RunJob, &e.RunKind,
		scanTime{&e.Time}, scanData(&e.Data), scanEnv(&e.SourceEnv), scanTime{&e.ReceivedAt}, &key, &e.Origin, &e.State, &e.Verdict, &e.Answer)
	if err != nil {
		return nil, err
	}
	e.IdempotencyKey = key.String
	return &e, nil
}

func (q *queries) InsertEvent(ctx context.Context, e *store.Event) error {
	_, err := q.db.ExecContext(ctx, `INSERT INTO events (`+eventColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.Type, e.Source, e.Subject, e.Status, e.Gate, e.RunID, e.RunJob, e.RunKind,
		tm(e.Time), jsonData(e.Data), jsonEnv(e.SourceEnv), tm(e.ReceivedAt), nullText(e.IdempotencyKey), e.Origin, e.State, e.Verdict,
		nullBlob(e.Answer))
	return mapErr(err, "event "+e.ID)
}

func (q *queries) GetEvent(ctx context.Context, id string) (*store.Event, error) {
	e, err := scanEvent(q.db.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ?`, id))
	return e, notFound(err, "event "+id)
}

func (q *queries) EventByIdempotencyKey(ctx context.Context, key string) (*store.Event, error) {
	if key == "" {
		return nil, fmt.Errorf("event with an empty idempotency key: %w", store.ErrNotFound)
	}
	e, err := scanEvent(q.db.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE idempotency_key = ?`, key))
	return e, notFound(err, fmt.Sprintf("event with idempotency key %q", key))
}

func (q *queries) FinishEvent(ctx context.Context, id, state, verdict string, answer []byte) error {
	res, err := q.db.ExecContext(ctx, `UPDATE events SET state = ?, verdict = ?, answer = ? WHERE id = ?`,
		state, verdict, nullBlob(answer), id)
	return affected(res, err, "event "+id)
}

func (q *queries) UnfinishedEvents(ctx context.Context, limit int) ([]*store.Event, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+eventColumns+` FROM events
		WHERE state = ? ORDER BY received_at, id LIMIT ?`, store.EventReceived, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("unfinished events: %w", err)
	}
	return collect(rows, scanEvent)
}

// notFound maps sql.ErrNoRows to store.ErrNotFound.
func notFound(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// affected returns store.ErrNotFound when an UPDATE or DELETE touched no row.
func affected(res sql.Result, err error, what string) error {
	if err != nil {
		return mapErr(err, what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

// sqlLimit turns "zero or less means no limit" into SQLite's LIMIT -1.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}

// collect scans every row and closes rows. No rows give an empty slice, not nil.
func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
