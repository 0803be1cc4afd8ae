package server

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/hookpoint/hookpoint/internal/config"
)

// Retention: events and attempts older than server.retention (default 30 days) are
// deleted in batches by a periodic job that River's leader runs, so that one node does
// it when several share a database.

type pruneArgs struct{}

func (pruneArgs) Kind() string { return "hookpoint.prune" }

type pruneWorker struct {
	river.WorkerDefaults[pruneArgs]
	s *Server
}

// pruneBatch bounds one delete, so that a prune never holds the database for long.
const pruneBatch = 1000

// Timeout bounds a prune, so that the job of a leader that died while pruning is rescued
// (the next prune goes on where it stopped).
func (w *pruneWorker) Timeout(*river.Job[pruneArgs]) time.Duration { return 30 * time.Minute }

func (w *pruneWorker) Work(ctx context.Context, _ *river.Job[pruneArgs]) error {
	_, err := w.s.Prune(ctx)
	return err
}

// Prune deletes what is older than the retention now, in batches, and says how many rows
// went. River's leader runs it hourly.
func (s *Server) Prune(ctx context.Context) (int, error) {
	retention := s.serverConfig().Retention.D()
	if retention <= 0 {
		retention = config.DefaultRetention
	}
	before := s.now().Add(-retention)
	total := 0
	for ctx.Err() == nil {
		n, err := s.store.Prune(ctx, before, pruneBatch)
		if err != nil {
			return total, err
		}
		total += n
		if n < pruneBatch {
			break
		}
	}
	if total > 0 {
		s.log.Info("pruned", "rows", total, "older_than", before.UTC().Format(time.RFC3339))
	}
	return total, nil
}

func (s *Server) retentionJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return pruneArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}

func (s *Server) registerWorkers(ws *river.Workers) {
	river.AddWorker(ws, &pruneWorker{s: s})
}
