package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// convoyDeliveries is Convoy's deliveries/s, measured earlier on this kind of machine.
const convoyDeliveries = 200

func printTable(w io.Writer, o *options, rs []*round, mem *memory) {
	med := func(f func(r *round) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	all := func(f func(r *round) float64, format string) string {
		parts := make([]string, len(rs))
		for i, r := range rs {
			parts[i] = fmt.Sprintf(format, f(r))
		}
		return strings.Join(parts, ", ")
	}
	row := func(what string, f func(r *round) float64, format string) {
		fmt.Fprintf(w, "| %s | "+format+" | %s |\n", what, med(f), all(f, format))
	}
	fmt.Fprintf(w, "\nhookpoint serve on SQLite (synchronous=%s), %d River workers, FetchCooldown %s, FetchPollInterval %s; %d clients;\n",
		o.child.sync, o.child.workers, o.child.fetchCooldown, o.child.fetchPoll, o.conc)
	fmt.Fprintf(w, "%d interleaved rounds; closed-loop runs of %s; backlogs of %d; paced runs of %s. %s, %d CPUs, %s.\n\n",
		o.rounds, o.d, o.drain, o.pacedD, runtime.Version(), runtime.NumCPU(), time.Now().Format("2006-01-02"))
	fmt.Fprintf(w, "| measurement | median | rounds |\n|---|---|---|\n")
	row("bare net/http POST to the receiver, requests/s (baseline)", func(r *round) float64 { return r.baseline }, "%.0f")
	row(fmt.Sprintf("POST /v1/events accepted/s, one async hook, %d clients, deliveries flowing", o.conc), func(r *round) float64 { return r.hpEvents }, "%.0f")
	row("… deliveries/s completed meanwhile", func(r *round) float64 { return r.hpDelivered }, "%.0f")
	row("POST /v1/events accepted/s, deliveries held by the receiver", func(r *round) float64 { return r.hpFill }, "%.0f")
	row(fmt.Sprintf("**hookpoint: deliveries/s completed end to end** (backlog of %d)", o.drain), func(r *round) float64 { return r.hpDrain }, "%.0f")
	row("**bare River: jobs/s completed** (the same backlog, the same POST)", func(r *round) float64 { return r.riverDrain }, "%.0f")
	row("bare River: jobs/s inserted (InsertMany, 1,000 a batch)", func(r *round) float64 { return r.riverInsert }, "%.0f")
	row("hookpoint / bare River, deliveries/s (median of per-round ratios)", func(r *round) float64 { return r.hpDrain / r.riverDrain }, "%.2f")
	row(fmt.Sprintf("hookpoint / Convoy (~%d deliveries/s)", convoyDeliveries), func(r *round) float64 { return r.hpDrain / convoyDeliveries }, "%.1f")
	row("CPU ms per delivery, server process (draining)", func(r *round) float64 { return r.hpCPU }, "%.2f")
	row("CPU ms per job, bare River process (draining)", func(r *round) float64 { return r.riverCPU }, "%.2f")
	for _, rate := range o.rates {
		for _, who := range []string{"hookpoint", "bare River"} {
			lat := func(r *round) latency {
				if who == "hookpoint" {
					return r.hpLat[rate]
				}
				return r.riverLat[rate]
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			row(fmt.Sprintf("%s submit-to-delivery p50 at %d/s, ms", who, rate), func(r *round) float64 { return ms(lat(r).p50) }, "%.1f")
			row(fmt.Sprintf("%s submit-to-delivery p99 at %d/s, ms", who, rate), func(r *round) float64 { return ms(lat(r).p99) }, "%.1f")
		}
	}
	if mem == nil {
		return
	}
	fmt.Fprintf(w, "\nServer memory with a backlog for a receiver that is down: %d deliveries (%d events × %d async hooks) submitted in %s (%.0f events/s, %.0f deliveries/s).\n\n",
		mem.deliveries, mem.events, mem.deliveries/max(mem.events, 1), mem.took.Round(time.Second),
		float64(mem.events)/mem.took.Seconds(), float64(mem.deliveries)/mem.took.Seconds())
	fmt.Fprintf(w, "| backlog | VmRSS |\n|---|---|\n")
	for _, s := range mem.samples {
		fmt.Fprintf(w, "| %d%% (%d deliveries) | %.1f MiB |\n", s.pct, mem.deliveries*s.pct/100, float64(s.rss)/1024)
	}
	fmt.Fprintf(w, "| 100%%, 10 s later | %.1f MiB |\n| peak (VmHWM) | %.1f MiB |\n", float64(mem.settled)/1024, float64(mem.peak)/1024)
}

type atomicCounter struct{ n atomic.Int64 }

func (c *atomicCounter) next() int64 { return c.n.Add(1) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		log.Fatal(err)
	}
	return b
}

func newPost(url string) (*http.Request, error) { return http.NewRequest(http.MethodPost, url, nil) }
