package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse-iam/gatehouse/authz"
	"github.com/gatehouse-iam/gatehouse/catalog"
)

// metrics are the server's Prometheus metrics, in a registry of their own
// so that several servers can live in one process (tests).
type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	decisions    *prometheus.CounterVec
	authFailures *prometheus.CounterVec
	// authLimited counts failed authentications refused (429) beyond
	// their address's limit.
	authLimited prometheus.Counter
	// allowed and denied are the decision counters per scope, made once so
	// that counting does not allocate.
	allowed, denied []prometheus.Counter
}

// snapshotCounts counts how the authorizer's snapshots changed
// (authz.Authorizer).
type snapshotCounts interface {
	RebuildsByReason(reason string) uint64
	Deltas() uint64
}

func newMetrics(snaps snapshotCounts) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gatehouse_http_requests_total",
			Help: "HTTP requests by route and status."}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gatehouse_http_request_duration_seconds",
			Help: "HTTP request latency by route.", Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"route"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gatehouse_authz_decisions_total",
			Help: "Authorization decisions by scope and result."}, []string{"scope", "result"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gatehouse_authn_failures_total",
			Help: "Failed authentications by reason."}, []string{"reason"}),
		authLimited: prometheus.NewCounter(prometheus.CounterOpts{Name: "gatehouse_authn_failures_limited_total",
			Help: "Failed authentications refused with 429 because their source address was over its limit."}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.decisions, m.authFailures, m.authLimited,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gatehouse_snapshot_deltas_total",
			Help: "Changes of an organization's authorization snapshot by what a write changed."}, func() float64 { return float64(snaps.Deltas()) }),
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	for _, reason := range authz.Reasons {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gatehouse_snapshot_rebuilds_total",
			Help:        "Rebuilds of an organization's whole authorization snapshot from the store, by reason (load, gap, unknown, builtin).",
			ConstLabels: prometheus.Labels{"reason": reason}}, func() float64 { return float64(snaps.RebuildsByReason(reason)) }))
	}
	for i := 0; i < catalog.Len(); i++ {
		name := catalog.Scope(i).Name()
		m.allowed = append(m.allowed, m.decisions.WithLabelValues(name, "allowed"))
		m.denied = append(m.denied, m.decisions.WithLabelValues(name, "denied"))
	}
	return m
}

func (m *metrics) decision(sc catalog.Scope, allowed bool) {
	if allowed {
		m.allowed[sc].Inc()
	} else {
		m.denied[sc].Inc()
	}
}

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// instrument counts and times a route's requests.
func (m *metrics) instrument(route string, h http.Handler) http.Handler {
	obs := m.latency.WithLabelValues(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now() // latency: the wall clock, not the service's
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		obs.Observe(time.Since(start).Seconds())
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		m.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
	})
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
