package web

import (
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/hookpoint/hookpoint/internal/store"
)

// The overview answers "did last night's hooks fire?": deliveries per outcome over the
// last hour and day, what waits, the hooks that fail or were disabled, and the latest
// events of each source.

// knownSources are the sources the overview always lists, in this order, with the
// name their events carry.
var knownSources = []struct{ Label, Source string }{
	{"vzdump", "vzdump"},
	{"autosnap", "cv4pve-autosnap"},
	{"jetbackup", "jetbackup"},
	{"xo", "xo"},
	{"virtfusion", "virtfusion"},
	{"zerobyte", "zerobyte"},
	{"generic", "generic"},
}

// outcomes are the delivery statuses in the order the chart stacks them.
var outcomes = []string{store.DeliverySucceeded, store.DeliveryFailed, store.DeliveryRetrying, store.DeliveryQueued, store.DeliveryCancelled}

type sourceEvents struct {
	Label  string
	Source string
	Events []*store.Event
}

type chart struct {
	Title  string
	Span   string
	Totals []outcomeCount
	Bars   []bar
	Max    int
	SVG    template.HTML
}

type outcomeCount struct {
	Status string
	N      int
}

type bar struct {
	Start  time.Time
	Counts map[string]int
	Total  int
}

type overviewData struct {
	Now       time.Time
	Hour      *chart
	Day       *chart
	Counts    *store.Counts
	Attention []*Hook
	Sources   []sourceEvents
	Others    []sourceEvents
}

func (u *UI) overviewData(r *http.Request) (*overviewData, error) {
	ctx := r.Context()
	now := u.now()
	d := &overviewData{Now: now}
	var err error
	if d.Counts, err = u.svc.Counts(ctx); err != nil {
		return nil, err
	}
	// Buckets end at the next whole step, so that they do not move with every second.
	hourEnd := now.Truncate(5 * time.Minute).Add(5 * time.Minute)
	hour, err := u.svc.DeliveryActivity(ctx, hourEnd.Add(-time.Hour), 5*time.Minute, 12)
	if err != nil {
		return nil, err
	}
	dayEnd := now.Truncate(time.Hour).Add(time.Hour)
	day, err := u.svc.DeliveryActivity(ctx, dayEnd.Add(-24*time.Hour), time.Hour, 24)
	if err != nil {
		return nil, err
	}
	d.Hour = newChart("Last hour", "5-minute bars", hour, 5*time.Minute)
	d.Day = newChart("Last 24 hours", "1-hour bars", day, time.Hour)

	hooks, err := u.svc.Hooks(ctx)
	if err != nil {
		return nil, err
	}
	for _, h := range hooks {
		if !h.Enabled && !h.DefinedOff() || h.FailingSince != nil {
			d.Attention = append(d.Attention, h)
		}
	}
	events, err := u.svc.LatestEvents(ctx, 5, 50)
	if err != nil {
		return nil, err
	}
	bySource := map[string][]*store.Event{}
	for _, ev := range events {
		bySource[ev.Source] = append(bySource[ev.Source], ev)
	}
	for _, ks := range knownSources {
		d.Sources = append(d.Sources, sourceEvents{Label: ks.Label, Source: ks.Source, Events: bySource[ks.Source]})
		delete(bySource, ks.Source)
	}
	for src, evs := range bySource {
		d.Others = append(d.Others, sourceEvents{Label: src, Source: src, Events: evs})
	}
	sort.Slice(d.Others, func(i, j int) bool { return d.Others[i].Label < d.Others[j].Label })
	return d, nil
}

func newChart(title, span string, buckets []store.ActivityBucket, step time.Duration) *chart {
	c := &chart{Title: title, Span: span}
	totals := map[string]int{}
	for _, b := range buckets {
		br := bar{Start: b.Start, Counts: b.ByStatus}
		for _, st := range outcomes {
			br.Total += b.ByStatus[st]
			totals[st] += b.ByStatus[st]
		}
		c.Max = max(c.Max, br.Total)
		c.Bars = append(c.Bars, br)
	}
	for _, st := range outcomes {
		c.Totals = append(c.Totals, outcomeCount{st, totals[st]})
	}
	c.SVG = c.svg(step)
	return c
}

// svg draws the chart as stacked bars: one rect per outcome, each with a fill the
// stylesheet gives a colour and a pattern (failed is hatched), and a title that says
// the numbers, so that it reads without colour and with a screen reader's table below.
func (c *chart) svg(step time.Duration) template.HTML {
	const w, h, gap = 240.0, 60.0, 2.0
	n := float64(len(c.Bars))
	bw := (w - gap*(n-1)) / n
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" preserveAspectRatio="none" role="img" aria-label="%s: %s">`,
		w, h+1, template.HTMLEscapeString(c.Title), template.HTMLEscapeString(c.summary()))
	b.WriteString(`<defs><pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
		`<rect width="4" height="4" class="fill-failed"/><line x1="0" y1="0" x2="0" y2="4" class="hatch"/></pattern></defs>`)
	scale := 0.0
	if c.Max > 0 {
		scale = h / float64(c.Max)
	}
	for i, br := range c.Bars {
		x := float64(i) * (bw + gap)
		y := h
		var title []string
		for _, st := range outcomes {
			if n := br.Counts[st]; n > 0 {
				title = append(title, fmt.Sprintf("%d %s", n, st))
			}
		}
		label := br.Start.UTC().Format("15:04") + "–" + br.Start.Add(step).UTC().Format("15:04") + " UTC: "
		if len(title) == 0 {
			label += "none"
		} else {
			label += strings.Join(title, ", ")
		}
		fmt.Fprintf(&b, `<g><title>%s</title><rect x="%.2f" y="0" width="%.2f" height="%g" class="slot"/>`, template.HTMLEscapeString(label), x, bw, h)
		for _, st := range outcomes {
			n := br.Counts[st]
			if n == 0 {
				continue
			}
			bh := float64(n) * scale
			y -= bh
			fill := `class="fill-` + st + `"`
			if st == store.DeliveryFailed {
				fill = `fill="url(#hatch)"`
			}
			fmt.Fprintf(&b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" %s/>`, x, y, bw, bh, fill)
		}
		b.WriteString(`</g>`)
	}
	fmt.Fprintf(&b, `<line x1="0" y1="%g" x2="%g" y2="%g" class="axis"/></svg>`, h+0.5, w, h+0.5)
	return template.HTML(b.String())
}

func (c *chart) summary() string {
	var parts []string
	for _, t := range c.Totals {
		parts = append(parts, fmt.Sprintf("%d %s", t.N, t.Status))
	}
	return strings.Join(parts, ", ")
}

func (u *UI) overview(w http.ResponseWriter, r *http.Request) error {
	d, err := u.overviewData(r)
	if err != nil {
		return err
	}
	u.render(w, r, http.StatusOK, "overview", "Overview", "overview", d)
	return nil
}

// overviewLive is the overview's body, fetched again every few seconds.
func (u *UI) overviewLive(w http.ResponseWriter, r *http.Request) error {
	d, err := u.overviewData(r)
	if err != nil {
		return err
	}
	u.fragment(w, r, "overview", "live", d)
	return nil
}
