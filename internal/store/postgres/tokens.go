package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookpoint/hookpoint/internal/store"
)

const tokenColumns = `id, description, scope, hash, created_at, last_used_at, revoked_at`

func scanToken(row pgx.Row) (*store.Token, error) {
	var t store.Token
	err := row.Scan(&t.ID, &t.Description, &t.Scope, &t.Hash, scanTime{&t.CreatedAt},
		scanNullTime{&t.LastUsedAt}, scanNullTime{&t.RevokedAt})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func (q *queries) InsertToken(ctx context.Context, t *store.Token) error {
	_, err := q.execWrite(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.ID, t.Description, t.Scope, blob(t.Hash), tm(t.CreatedAt), ntm{t.LastUsedAt}, ntm{t.RevokedAt})
	return mapErr(err, "token "+t.ID)
}

func (q *queries) ListTokens(ctx context.Context) ([]*store.Token, error) {
	rows, err := q.query(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY created_at, id`)
	ts, err := collect(rows, err, scanToken)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	return ts, nil
}

func (q *queries) TokenByHash(ctx context.Context, hash []byte) (*store.Token, error) {
	t, err := scanToken(q.queryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, blob(hash)))
	return t, notFound(err, "token")
}

func (q *queries) RevokeToken(ctx context.Context, id string, at time.Time) error {
	tag, err := q.execWrite(ctx, `UPDATE tokens SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2`, tm(at), id)
	return affected(tag, err, "token "+id)
}

func (q *queries) TouchToken(ctx context.Context, id string, at time.Time) error {
	tag, err := q.execWrite(ctx, `UPDATE tokens SET last_used_at = greatest(last_used_at, $1) WHERE id = $2`, tm(at), id)
	return affected(tag, err, "token "+id)
}
