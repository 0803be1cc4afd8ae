package server

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hookpoint/hookpoint/internal/store"
)

// metrics are the server's Prometheus metrics. Labels are hook ids, outcomes and
// statuses: never a URL, a value or a secret.
type metrics struct {
	reg       *prometheus.Registry
	attempts  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	events    *prometheus.CounterVec
	handler   http.Handler
	countsFor func(ctx context.Context) (*store.Counts, error)
	now       func() time.Time
}

func newMetrics(counts func(ctx context.Context) (*store.Counts, error), now func() time.Time) *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), countsFor: counts, now: now}
	m.attempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookpoint_attempts_total", Help: "Attempts at deliveries, by hook, mode and outcome (ok, failed, timeout).",
	}, []string{"hook", "mode", "outcome"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "hookpoint_attempt_duration_seconds", Help: "How long attempts took, by hook.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
	}, []string{"hook"})
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookpoint_events_total", Help: "Events accepted, by origin and verdict.",
	}, []string{"origin", "verdict"})
	m.reg.MustRegister(m.attempts, m.latency, m.events, m, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
	return m
}

var (
	descDeliveries = prometheus.NewDesc("hookpoint_deliveries", "Deliveries in the store, by status.", []string{"status"}, nil)
	descPending    = prometheus.NewDesc("hookpoint_queue_depth", "Deliveries waiting for an attempt (queued or retrying).", nil, nil)
	descOldest     = prometheus.NewDesc("hookpoint_oldest_pending_seconds", "Age of the oldest delivery waiting for an attempt.", nil, nil)
	descDisabled   = prometheus.NewDesc("hookpoint_hooks_disabled", "Hooks disabled, by hand or automatically.", nil, nil)
	descUp         = prometheus.NewDesc("hookpoint_store_up", "1 when the database answered the last scrape.", nil, nil)
)

// Describe and Collect read the store's counts at each scrape.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- descDeliveries
	ch <- descPending
	ch <- descOldest
	ch <- descDisabled
	ch <- descUp
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := m.countsFor(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 1)
	for _, st := range deliveryStatuses {
		ch <- prometheus.MustNewConstMetric(descDeliveries, prometheus.GaugeValue, float64(c.ByStatus[st]), st)
	}
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(c.Pending))
	age := 0.0
	if c.OldestPending != nil {
		age = m.now().Sub(*c.OldestPending).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(descDisabled, prometheus.GaugeValue, float64(c.HooksDisabled))
}

func (m *metrics) attempt(hook, mode, outcome string, d time.Duration) {
	m.attempts.WithLabelValues(hook, mode, outcome).Inc()
	m.latency.WithLabelValues(hook).Observe(d.Seconds())
}

func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request) error {
	s.metric.handler.ServeHTTP(w, r)
	return nil
}
