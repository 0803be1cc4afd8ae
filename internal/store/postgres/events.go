package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hookpoint/hookpoint/internal/store"
)

const eventColumns = `id, type, source, subject, status, gate, run_id, run_job, run_kind, "time", data,
	source_env, received_at, idempotency_key, origin, state, verdict, answer`

func scanEvent(row pgx.Row) (*store.Event, error) {
	var e store.Event
	var key *string
	err := row.Scan(&e.ID, &e.Type, &e.Source, &e.Subject, &e.Status, &e.Gate, &e.RunID, &e.RunJob, &e.RunKind,
		scanTime{&e.Time}, scanData(&e.Data), scanEnv(&e.SourceEnv), scanTime{&e.ReceivedAt}, &key, &e.Origin, &e.State,
		&e.Verdict, &e.Answer)
	if err != nil {
		return nil, err
	}
	if key != nil {
		e.IdempotencyKey = *key
	}
	return &e, nil
}

func (q *queries) InsertEvent(ctx context.Context, e *store.Event) error {
	_, err := q.execWrite(ctx, `INSERT INTO events (`+eventColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		e.ID, e.Type, e.Source, e.Subject, e.Status, e.Gate, e.RunID, e.RunJob, e.RunKind,
		tm(e.Time), jsonData(e.Data), jsonEnv(e.SourceEnv), tm(e.ReceivedAt), nullText(e.IdempotencyKey), e.Origin,
		e.State, e.Verdict, nullBlob(e.Answer))
	return mapErr(err, "event "+e.ID)
}

func (q *queries) GetEvent(ctx context.Context, id string) (*store.Event, error) {
	e, err := scanEvent(q.queryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE id = $1`, id))
	return e, notFound(err, "event "+id)
}

func (q *queries) EventByIdempotencyKey(ctx context.Context, key string) (*store.Event, error) {
	if key == "" {
		return nil, fmt.Errorf("event with an empty idempotency key: %w", store.ErrNotFound)
	}
	e, err := scanEvent(q.queryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE idempotency_key = $1`, key))
	return e, notFound(err, fmt.Sprintf("event with idempotency key %q", key))
}

func (q *queries) FinishEvent(ctx context.Context, id, state, verdict string, answer []byte) error {
	tag, err := q.execWrite(ctx, `UPDATE events SET state = $1, verdict = $2, answer = $3 WHERE id = $4`,
		state, verdict, nullBlob(answer), id)
	return affected(tag, err, "event "+id)
}

func (q *queries) UnfinishedEvents(ctx context.Context, n int) ([]*store.Event, error) {
	rows, err := q.query(ctx, `SELECT `+eventColumns+` FROM events
		WHERE state = $1 ORDER BY received_at, id LIMIT $2`, store.EventReceived, limit(n))
	es, err := collect(rows, err, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("unfinished events: %w", err)
	}
	return es, nil
}
