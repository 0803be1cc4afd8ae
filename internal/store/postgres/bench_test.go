package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/hookpoint/hookpoint/internal/store/postgres"
	"github.com/hookpoint/hookpoint/internal/store/postgres/pgtest"
)

// BenchmarkInsertEventWithDeliveries measures the storage ceiling of the server's submit
// on PostgreSQL, as the SQLite driver's benchmark does: one transaction with the event,
// one delivery and its River job (each method under a savepoint), reported as ops/s.
// "parallel" submits from 8 goroutines over the pool; "no-river" leaves the job out;
// synchronous_commit=off (set on the connections) is PostgreSQL's counterpart of SQLite's
// NORMAL: commits do not wait for the WAL to reach the disk.
//
//	go test -run '^$' -bench InsertEventWithDeliveries -benchtime 2s -count 5 ./internal/store/postgres/
func BenchmarkInsertEventWithDeliveries(b *testing.B) {
	for _, c := range []struct {
		syncCommit string
		parallel   bool
		river      bool
	}{
		{"on", false, true},
		{"on", true, true},
		{"off", false, true},
		{"off", true, true},
		{"on", false, false},
		{"off", false, false},
	} {
		name := "synchronous_commit=" + c.syncCommit
		if c.parallel {
			name += "/parallel"
		}
		if !c.river {
			name += "/no-river"
		}
		b.Run(name, func(b *testing.B) {
			s := open(b, pgtest.URL(b)+"&synchronous_commit="+c.syncCommit, postgres.Options{})
			var client *river.Client[pgx.Tx]
			if c.river {
				client = riverClient(b, s)
			}
			ctx := context.Background()
			var n atomic.Int64
			if c.parallel {
				b.SetParallelism(4) // 4 goroutines per GOMAXPROCS, as concurrent requests
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := insertEventAndJob(ctx, s, client, fmt.Sprint(n.Add(1)), nil); err != nil {
							b.Error(err)
							return
						}
					}
				})
			} else {
				for b.Loop() {
					if err := insertEventAndJob(ctx, s, client, fmt.Sprint(n.Add(1)), nil); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "ops/s")
		})
	}
}
