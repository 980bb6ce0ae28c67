package mirror

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// shadowMetrics are the shadow side's metrics (prefix sqlshadow_shadow_).
type shadowMetrics struct {
	sessions    prometheus.Gauge
	commands    *prometheus.CounterVec // by outcome: mirrored, filtered, dropped, failed
	lag         prometheus.Histogram   // queue wait, seconds
	drops       prometheus.Counter
	mismatches  *prometheus.CounterVec // by kind: result, error, rows
	divergences *prometheus.CounterVec // by reason
	errors      *prometheus.CounterVec // by code
	logins      *prometheus.CounterVec // by result
	logDrops    prometheus.Counter
}

func newShadowMetrics(reg prometheus.Registerer, b *budget) (*shadowMetrics, error) {
	m := &shadowMetrics{
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sqlshadow_shadow_sessions",
			Help: "Open shadow sessions (one per mirrored client connection).",
		}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sqlshadow_shadow_commands_total",
			Help: "Commands submitted to the shadow side, by outcome (mirrored, filtered, dropped, failed).",
		}, []string{"outcome"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sqlshadow_shadow_lag_seconds",
			Help:    "Time mirrored commands waited in the shadow queue (shadow lag).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 12),
		}),
		drops: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sqlshadow_shadow_drops_total",
			Help: "Commands dropped because a shadow queue or the byte budget was full.",
		}),
		mismatches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sqlshadow_shadow_mismatches_total",
			Help: "Mirrored commands whose shadow outcome differs from the primary's, by kind (result, error, rows); diverged sessions are not counted.",
		}, []string{"kind"}),
		divergences: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sqlshadow_shadow_divergences_total",
			Help: "Times a shadow session's state became known to differ from the primary's, by reason.",
		}, []string{"reason"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sqlshadow_shadow_errors_total",
			Help: "Failed shadow commands by MySQL error code (0: I/O error, deadline, unavailable).",
		}, []string{"code"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sqlshadow_shadow_logins_total",
			Help: "Shadow session logins, by result (ok, error).",
		}, []string{"result"}),
		logDrops: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sqlshadow_shadow_log_drops_total",
			Help: "Shadow records the sink refused.",
		}),
	}
	queued := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sqlshadow_shadow_queued_bytes",
		Help: "Bytes held by all shadow queues (bounded by the byte budget).",
	}, func() float64 { return float64(b.used.Load()) })
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.sessions, m.commands, m.lag, m.drops, m.mismatches,
		m.divergences, m.errors, m.logins, m.logDrops, queued} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *shadowMetrics) errorCode(code uint16) {
	m.errors.WithLabelValues(strconv.Itoa(int(code))).Inc()
}
