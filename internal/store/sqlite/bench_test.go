package sqlite_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/hookpoint/hookpoint/internal/store/sqlite"
)

// BenchmarkInsertEventWithDeliveries measures the storage ceiling of the server's
// submit: one transaction with the event, one delivery and its River job. It reports
// ops/s; each op commits once (an fsync of the WAL with synchronous=FULL).
//
//	go test -run '^$' -bench InsertEventWithDeliveries -benchtime 3s ./internal/store/sqlite/
func BenchmarkInsertEventWithDeliveries(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		for _, parallel := range []bool{false, true} {
			name := "synchronous=" + sync
			if parallel {
				name += "/parallel"
			}
			b.Run(name, func(b *testing.B) {
				s := open(b, tempPath(b), sqlite.Options{Synchronous: sync})
				client := riverClient(b, s)
				ctx := context.Background()
				var n atomic.Int64
				b.ResetTimer()
				if parallel {
					b.SetParallelism(4) // goroutines per GOMAXPROCS, as concurrent HTTP requests
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
}
