package queue

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/hookpoint/hookpoint/internal/store"
)

// NewSQLite returns a queue on the SQLite database db (the store's own handle).
func NewSQLite(o Options, db *sql.DB) (*Queue, error) {
	if o.RescueStuckJobsAfter <= 0 {
		o.RescueStuckJobsAfter = 15 * time.Minute
	}
	o.defaults()
	q := &Queue{opts: o, limits: newLimits()}
	client, err := river.NewClient(riversqlite.New(db), riverConfig(&q.opts, &worker{q: q}))
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	q.driver = &sqliteDriver{db: db, client: client}
	q.limits.wake = q.wakeWith(func(ctx context.Context, jobID int64) error {
		_, err := client.JobRetry(ctx, jobID)
		return err
	})
	return q, nil
}

type sqliteDriver struct {
	db     *sql.DB
	client *river.Client[*sql.Tx]
}

func (d *sqliteDriver) insertTx(ctx context.Context, tx store.Tx, params []river.InsertManyParams) error {
	stx, ok := tx.Raw().(*sql.Tx)
	if !ok {
		return fmt.Errorf("queue: a SQLite queue needs a SQLite transaction, got %T", tx.Raw())
	}
	// Without ctx's cancellation: the store commits transactions in groups, and an
	// interrupted SQLite statement would roll back the whole group, not only this one.
	_, err := d.client.InsertManyTx(context.WithoutCancel(ctx), stx, params)
	return err
}

// start first gives back the jobs a killed server left running: one server owns a SQLite
// file (the store holds a lock on it), so no other worker can be running them, and they
// need not wait for River's rescuer.
func (d *sqliteDriver) start(ctx context.Context) error {
	if _, err := d.db.ExecContext(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running' AND queue = ?`, Name); err != nil {
		return fmt.Errorf("queue: give back jobs left running: %w", err)
	}
	return d.client.Start(ctx)
}

func (d *sqliteDriver) stop(ctx context.Context) error { return stopRiver(ctx, d.client) }
