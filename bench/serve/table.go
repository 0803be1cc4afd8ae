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
	multi := len(o.variants) > 1
	cells := func(f func(v *variantRound, r *round) float64, format string) []string {
		var out []string
		for i := range o.variants {
			vals := make([]float64, len(rs))
			for j, r := range rs {
				vals[j] = f(r.v[i], r)
			}
			med := median(vals)
			if multi || len(rs) == 1 {
				out = append(out, fmt.Sprintf(format, med))
				continue
			}
			per := make([]string, len(vals))
			for j, v := range vals {
				per[j] = fmt.Sprintf(format, v)
			}
			out = append(out, fmt.Sprintf(format, med), strings.Join(per, ", "))
		}
		return out
	}
	row := func(what string, f func(v *variantRound, r *round) float64, format string) {
		fmt.Fprintf(w, "| %s | %s |\n", what, strings.Join(cells(f, format), " | "))
	}
	fmt.Fprintf(w, "\n%d interleaved rounds; %d clients; closed-loop runs of %s; backlogs of %d; paced runs of %s. %s, %d CPUs, %s.\n",
		o.rounds, o.conc, o.d, o.drain, o.pacedD, runtime.Version(), runtime.NumCPU(), time.Now().Format("2006-01-02"))
	for _, v := range o.variants {
		group := ""
		if v.group {
			group = "; bare River commits concurrent one-job transactions together"
		}
		fmt.Fprintf(w, "%s: SQLite synchronous=%s, %d River workers, FetchCooldown %s, FetchPollInterval %s%s.\n",
			v.name, v.child.sync, v.child.workers, v.child.fetchCooldown, v.child.fetchPoll, group)
	}
	fmt.Fprintln(w)
	if len(rs) == 0 {
		printMemory(w, o, mem)
		return
	}
	switch {
	case multi:
		fmt.Fprintf(w, "| measurement (median of the rounds) |")
		for _, v := range o.variants {
			fmt.Fprintf(w, " %s |", v.name)
		}
		fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---|", len(o.variants)))
	case len(rs) == 1:
		fmt.Fprintf(w, "| measurement | value |\n|---|---|\n")
	default:
		fmt.Fprintf(w, "| measurement | median | rounds |\n|---|---|---|\n")
	}
	row("bare net/http POST to the receiver, requests/s (baseline)", func(_ *variantRound, r *round) float64 { return r.baseline }, "%.0f")
	row(fmt.Sprintf("POST /v1/events accepted/s, one async hook, %d clients, deliveries flowing", o.conc), func(v *variantRound, _ *round) float64 { return v.hpEvents }, "%.0f")
	row("… deliveries/s completed meanwhile", func(v *variantRound, _ *round) float64 { return v.hpDelivered }, "%.0f")
	row("POST /v1/events accepted/s, deliveries held by the receiver", func(v *variantRound, _ *round) float64 { return v.hpFill }, "%.0f")
	row(fmt.Sprintf("**hookpoint: deliveries/s completed end to end** (a backlog of %d)", o.drain), func(v *variantRound, _ *round) float64 { return v.hpDrain }, "%.0f")
	row("**bare River: jobs/s completed** (the same backlog, the same POST)", func(v *variantRound, _ *round) float64 { return v.riverDrain }, "%.0f")
	row(fmt.Sprintf("bare River: jobs/s inserted one per transaction, %d clients (as events)", o.conc), func(v *variantRound, _ *round) float64 { return v.riverEvents }, "%.0f")
	row("bare River: jobs/s inserted (InsertMany, 1,000 a batch)", func(v *variantRound, _ *round) float64 { return v.riverInsert }, "%.0f")
	row("hookpoint / bare River, deliveries/s (median of per-round ratios)", func(v *variantRound, _ *round) float64 { return v.hpDrain / v.riverDrain }, "%.2f")
	row(fmt.Sprintf("hookpoint / Convoy (~%d deliveries/s)", convoyDeliveries), func(v *variantRound, _ *round) float64 { return v.hpDrain / convoyDeliveries }, "%.1f")
	row("hookpoint deliveries/s / baseline requests/s", func(v *variantRound, r *round) float64 { return v.hpDrain / r.baseline }, "%.3f")
	row("CPU ms per delivery, server process (draining)", func(v *variantRound, _ *round) float64 { return v.hpCPU }, "%.2f")
	row("CPU ms per job, bare River process (draining)", func(v *variantRound, _ *round) float64 { return v.riverCPU }, "%.2f")
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	for _, rate := range o.rates {
		row(fmt.Sprintf("hookpoint paced at %d/s: events/s answered", rate), func(v *variantRound, _ *round) float64 { return v.hpAnswer[rate].rate }, "%.0f")
		for _, l := range []struct {
			what string
			get  func(v *variantRound) latency
		}{
			{"hookpoint submit-to-delivery", func(v *variantRound) latency { return v.hpLat[rate] }},
			{"hookpoint submit-to-answer (POST /v1/events)", func(v *variantRound) latency { return v.hpAnswer[rate] }},
			{"bare River submit-to-delivery (a job per transaction)", func(v *variantRound) latency { return v.riverLat[rate] }},
		} {
			row(fmt.Sprintf("%s p50 at %d/s, ms", l.what, rate), func(v *variantRound, _ *round) float64 { return ms(l.get(v).p50) }, "%.1f")
			row(fmt.Sprintf("%s p99 at %d/s, ms", l.what, rate), func(v *variantRound, _ *round) float64 { return ms(l.get(v).p99) }, "%.1f")
		}
	}
	printMemory(w, o, mem)
}

func printMemory(w io.Writer, o *options, mem *memory) {
	if mem == nil {
		return
	}
	fmt.Fprintf(w, "\nServer memory (%s) with a backlog for a receiver that is down (%s): %d deliveries (%d events × %d async hooks) submitted in %s (%.0f events/s, %.0f deliveries/s).\n\n",
		o.variants[0].name, mem.down, mem.deliveries, mem.events, mem.deliveries/max(mem.events, 1), mem.took.Round(time.Second),
		float64(mem.events)/mem.took.Seconds(), float64(mem.deliveries)/mem.took.Seconds())
	fmt.Fprintf(w, "| backlog | VmRSS | of which anonymous (RssAnon) |\n|---|---|---|\n")
	for _, s := range mem.samples {
		fmt.Fprintf(w, "| %d%% (%d deliveries) | %.1f MiB | %.1f MiB |\n", s.pct, mem.deliveries*s.pct/100, float64(s.rss)/1024, float64(s.anon)/1024)
	}
	fmt.Fprintf(w, "| 100%%, %s later | %.1f MiB |\n| peak (VmHWM) | %.1f MiB |\n", mem.settle, float64(mem.settled)/1024, float64(mem.peak)/1024)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
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
