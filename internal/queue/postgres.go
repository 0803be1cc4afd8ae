package queue

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/hookpoint/hookpoint/internal/store"
)

// NewPostgres returns a queue on the PostgreSQL pool (the store's own handle), which
// several servers may share: River wakes workers with LISTEN/NOTIFY when jobs are
// inserted, elects one leader among the servers for its maintenance (the rescuer, the
// cleaner, the periodic jobs such as retention), and its fetches lock the jobs they take
// (FOR UPDATE SKIP LOCKED), so that each job runs on one server at a time.
//
// Unlike SQLite's, this queue does not give back the jobs left running at start: another
// server may be running them. A dead server's jobs are rescued by River instead, once they
// have run longer than their hook's timeout plus AttemptGrace (see Queue.jobTimeout).
func NewPostgres(o Options, pool *pgxpool.Pool) (*Queue, error) {
	if pool == nil {
		return nil, fmt.Errorf("queue: no PostgreSQL pool")
	}
	if o.RescueStuckJobsAfter <= 0 {
		o.RescueStuckJobsAfter = PostgresRescueAfter
	}
	o.defaults()
	q := &Queue{opts: o, limits: newLimits(), timeouts: true}
	cfg := riverConfig(&q.opts, &worker{q: q})
	// River's tables are in the store's schema; telling River so keeps its LISTEN topics
	// apart from those of other schemas in the same database.
	if s, ok := o.Store.(interface{ RiverSchema() string }); ok {
		cfg.Schema = s.RiverSchema()
	}
	client, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	q.driver = &postgresDriver{client: client}
	q.limits.wake = q.wakeWith(func(ctx context.Context, jobID int64) error {
		_, err := client.JobRetry(ctx, jobID)
		return err
	})
	return q, nil
}

type postgresDriver struct {
	client *river.Client[pgx.Tx]
}

func (d *postgresDriver) insertTx(ctx context.Context, tx store.Tx, params []river.InsertManyParams) error {
	ptx, ok := tx.Raw().(pgx.Tx)
	if !ok {
		return fmt.Errorf("queue: a PostgreSQL queue needs a PostgreSQL transaction, got %T", tx.Raw())
	}
	_, err := d.client.InsertManyTx(ctx, ptx, params)
	return err
}

func (d *postgresDriver) start(ctx context.Context) error { return d.client.Start(ctx) }

func (d *postgresDriver) stop(ctx context.Context) error { return stopRiver(ctx, d.client) }
