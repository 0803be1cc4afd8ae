package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/riverqueue/river"

	"github.com/hookpoint/hookpoint/internal/store/sqlite"
)

// BenchmarkInsertEventWithDeliveries measures the storage ceiling of the server's
// submit: one transaction with the event, one delivery and its River job, reported as
// ops/s. Each op commits once: an fsync of the WAL with synchronous=FULL, none with
// NORMAL. "parallel" submits from 8 goroutines (they queue for the one connection);
// "no-river" leaves the job out, to show what River's insert costs.
//
//	go test -run '^$' -bench InsertEventWithDeliveries -benchtime 2s -count 5 ./internal/store/sqlite/
func BenchmarkInsertEventWithDeliveries(b *testing.B) {
	for _, c := range []struct {
		sync     string
		parallel bool
		river    bool
	}{
		{"FULL", false, true},
		{"FULL", true, true},
		{"NORMAL", false, true},
		{"NORMAL", true, true},
		{"FULL", false, false},
		{"NORMAL", false, false},
	} {
		name := "synchronous=" + c.sync
		if c.parallel {
			name += "/parallel"
		}
		if !c.river {
			name += "/no-river"
		}
		b.Run(name, func(b *testing.B) {
			s := open(b, tempPath(b), sqlite.Options{Synchronous: c.sync})
			var client *river.Client[*sql.Tx]
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
