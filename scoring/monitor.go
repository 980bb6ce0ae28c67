package scoring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/sink"
)

// MonitorOptions configures a Monitor. Zero fields mean the defaults.
type MonitorOptions struct {
	// Scorer scores each cluster. Default: NewScorer(nil).
	Scorer Scorer
	// Alerts counts alerts; nil leaves the alert counts unknown (the alerts
	// part of the score is then left out, never read as zero).
	Alerts AlertCounter
	// Tiers gives each cluster's tier; nil means tier "" (factor 1.0).
	Tiers TierSource
	// History supplies the trend values TrendWindow earlier. Default: the
	// metric source itself (a source answering ErrNoHistory leaves the
	// trend unknown).
	History Source
	// TrendWindow is how far back the trend compares. Default 7 days.
	TrendWindow time.Duration
	// AlertWindow is the window of the alerts score. Default 7 days.
	AlertWindow time.Duration
	// StormWindow is the window of the Alert Storm count. Default 1 h.
	StormWindow time.Duration
	// Sink receives every score (the `health-scores` dataset). nil: none.
	Sink sink.Sink
	// Sentinel evaluates triggers on every score. nil: no triggers.
	Sentinel *Sentinel
	// Interval is the time between evaluations in Run. Default 15 min.
	Interval time.Duration
	// Registerer receives the monitor's gauges and counters (nil: not
	// registered).
	Registerer prometheus.Registerer
	// Logger logs evaluation failures (nil: discard).
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Result is the outcome of one cluster's evaluation.
type Result struct {
	Cluster string
	Score   *dataset.HealthScore  // nil when Err is set
	Task    *dataset.SentinelTask // the task the sentinel sent, if any
	Err     error
}

// Monitor evaluates clusters: it collects their metrics, alert counts and
// tiers, scores them, writes the scores to the sink, exports them as
// gauges and hands them to the sentinel. Evaluate and Run may not be called
// concurrently with each other; the monitor starts no goroutines.
type Monitor struct {
	src      Source
	clusters []string
	o        MonitorOptions
	log      *slog.Logger

	mu   sync.Mutex
	prev map[string]*dataset.HealthScore

	score, conf, metricsScore, dimScore, dimValue, class *prometheus.GaugeVec
	evals, triggers                                      *prometheus.CounterVec
}

// NewMonitor returns a monitor of clusters reading metrics from src. It
// registers its metrics on opts.Registerer.
func NewMonitor(src Source, clusters []string, opts *MonitorOptions) (*Monitor, error) {
	if src == nil || len(clusters) == 0 {
		return nil, errors.New("scoring: monitor needs a source and at least one cluster")
	}
	var o MonitorOptions
	if opts != nil {
		o = *opts
	}
	if o.Scorer == nil {
		s, err := NewScorer(nil)
		if err != nil {
			return nil, err
		}
		o.Scorer = s
	}
	if o.History == nil {
		o.History = src
	}
	if o.TrendWindow <= 0 {
		o.TrendWindow = 7 * 24 * time.Hour
	}
	if o.AlertWindow <= 0 {
		o.AlertWindow = 7 * 24 * time.Hour
	}
	if o.StormWindow <= 0 {
		o.StormWindow = time.Hour
	}
	if o.Interval <= 0 {
		o.Interval = 15 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m := &Monitor{src: src, clusters: append([]string(nil), clusters...), o: o, log: log, prev: map[string]*dataset.HealthScore{}}
	g := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "sqlshadow", Subsystem: "health", Name: name, Help: help}, labels)
	}
	m.score = g("score", "Composite health score 0-100 of the cluster's last evaluation.", "cluster")
	m.conf = g("confidence", "Available / expected dimensions of the last evaluation.", "cluster")
	m.metricsScore = g("metrics_score", "Mean of the available dimension scores.", "cluster")
	m.dimScore = g("dimension_score", "Score 0-100 of one dimension (absent when the metric is missing).", "cluster", "dimension")
	m.dimValue = g("dimension_value", "Value of one dimension (absent when the metric is missing).", "cluster", "dimension")
	m.class = g("class", "1 for the cluster's current class, 0 for the others.", "cluster", "class")
	m.evals = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "sqlshadow", Subsystem: "health",
		Name: "evaluations_total", Help: "Cluster evaluations by result (ok, error)."}, []string{"cluster", "result"})
	m.triggers = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "sqlshadow", Subsystem: "health",
		Name: "triggers_total", Help: "Sentinel tasks sent, by trigger."}, []string{"cluster", "trigger"})
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{m.score, m.conf, m.metricsScore, m.dimScore, m.dimValue, m.class, m.evals, m.triggers} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("scoring: register metrics: %w", err)
			}
		}
	}
	return m, nil
}

// Evaluate scores every cluster once, in order. A cluster's failure is in
// its Result and does not stop the others; the error is ctx's when it ends.
func (m *Monitor) Evaluate(ctx context.Context) ([]Result, error) {
	out := make([]Result, 0, len(m.clusters))
	for _, c := range m.clusters {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		r := m.evaluate(ctx, c)
		if r.Err != nil {
			m.evals.WithLabelValues(c, "error").Inc()
			m.log.Warn("health evaluation failed", "cluster", c, "err", r.Err)
		} else {
			m.evals.WithLabelValues(c, "ok").Inc()
		}
		out = append(out, r)
	}
	return out, ctx.Err()
}

func (m *Monitor) evaluate(ctx context.Context, cluster string) Result {
	r := Result{Cluster: cluster}
	at := m.o.Now()
	in := Input{Cluster: cluster, At: at}
	met, err := m.src.Collect(ctx, cluster, at)
	if err != nil {
		r.Err = fmt.Errorf("collect: %w", err)
		return r
	}
	in.Metrics = met
	if !met.At.IsZero() {
		in.At = met.At
	}
	var notes []string
	if past, err := m.o.History.Collect(ctx, cluster, at.Add(-m.o.TrendWindow)); err == nil {
		in.Previous = past.Values
	} else if !errors.Is(err, ErrNoHistory) {
		notes = append(notes, "trend unavailable: "+err.Error())
	}
	if m.o.Tiers != nil {
		t, err := m.o.Tiers.Tier(ctx, cluster)
		if err != nil {
			notes = append(notes, "tier unknown: "+err.Error())
		}
		in.Tier = t
	}
	if m.o.Alerts != nil {
		if n, err := m.o.Alerts.CountAlerts(ctx, cluster, at.Add(-m.o.AlertWindow), at); err == nil {
			in.Alerts7d = &n
		} else if !errors.Is(err, ErrUnknownCount) {
			notes = append(notes, "alert count unavailable: "+err.Error())
		}
		if n, err := m.o.Alerts.CountAlerts(ctx, cluster, at.Add(-m.o.StormWindow), at); err == nil {
			in.AlertsLastHour = &n
		} else if !errors.Is(err, ErrUnknownCount) {
			notes = append(notes, "alert storm count unavailable: "+err.Error())
		}
	}
	snap, err := m.o.Scorer.Score(ctx, in)
	if err != nil {
		m.forget(cluster)
		r.Err = fmt.Errorf("score: %w", err)
		return r
	}
	snap.Notes = append(snap.Notes, notes...)
	r.Score = snap
	m.export(snap)
	if m.o.Sink != nil {
		if err := m.o.Sink.Write(ctx, time.Time(snap.TS), snap); err != nil {
			r.Err = fmt.Errorf("write score: %w", err)
		}
	}
	m.mu.Lock()
	prev := m.prev[cluster]
	m.prev[cluster] = snap
	m.mu.Unlock()
	if m.o.Sentinel != nil {
		task, err := m.o.Sentinel.Evaluate(ctx, snap, prev)
		r.Task = task
		if task != nil {
			m.triggers.WithLabelValues(cluster, string(task.Trigger)).Inc()
		}
		if err != nil {
			r.Err = errors.Join(r.Err, err)
		}
	}
	return r
}

func (m *Monitor) export(s *dataset.HealthScore) {
	m.score.WithLabelValues(s.Cluster).Set(s.Score)
	m.conf.WithLabelValues(s.Cluster).Set(s.Confidence)
	m.metricsScore.WithLabelValues(s.Cluster).Set(s.MetricsScore)
	for _, d := range s.Dimensions {
		if d.Score == nil {
			m.dimScore.DeleteLabelValues(s.Cluster, d.Name)
			m.dimValue.DeleteLabelValues(s.Cluster, d.Name)
			continue
		}
		m.dimScore.WithLabelValues(s.Cluster, d.Name).Set(*d.Score)
		m.dimValue.WithLabelValues(s.Cluster, d.Name).Set(*d.Value)
	}
	for _, c := range []dataset.HealthClass{dataset.ClassHealthy, dataset.ClassWarning, dataset.ClassCritical} {
		v := 0.0
		if s.Class == c {
			v = 1
		}
		m.class.WithLabelValues(s.Cluster, string(c)).Set(v)
	}
}

// forget removes a cluster's gauges when it could not be scored: stale
// values must not look current.
func (m *Monitor) forget(cluster string) {
	l := prometheus.Labels{"cluster": cluster}
	for _, g := range []*prometheus.GaugeVec{m.score, m.conf, m.metricsScore, m.dimScore, m.dimValue, m.class} {
		g.DeletePartialMatch(l)
	}
}

// Run evaluates every cluster now and then every Interval until ctx ends;
// it returns nil then. It runs in the caller's goroutine.
func (m *Monitor) Run(ctx context.Context) error {
	t := time.NewTicker(m.o.Interval)
	defer t.Stop()
	for {
		if _, err := m.Evaluate(ctx); err != nil && ctx.Err() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Exit codes of a program that scores once, as ExitCode returns them (the
// numbers every sqlshadow binary uses).
const (
	ExitHealthy      = 0 // every cluster scored Healthy
	ExitUnhealthy    = 1 // a cluster scored Warning or Critical
	ExitError        = 2 // a cluster could not be evaluated, or bad usage
	ExitInconclusive = 3 // a cluster had no metric to score (ErrNoMetrics)
)

// ExitCode maps one Evaluate's results to a program's exit code, the worst
// first: ExitError when a cluster has no score for another reason than
// ErrNoMetrics, ExitInconclusive when a cluster had nothing to score,
// ExitUnhealthy when a cluster is not Healthy, else ExitHealthy. A result
// with a score and an error (its sink write or notification failed) counts
// by its class; the monitor's Logger has logged the error.
func ExitCode(results []Result) int {
	code := ExitHealthy
	for _, r := range results {
		switch {
		case r.Score == nil && !errors.Is(r.Err, ErrNoMetrics):
			return ExitError
		case r.Score == nil:
			code = ExitInconclusive
		case r.Score.Class != dataset.ClassHealthy && code == ExitHealthy:
			code = ExitUnhealthy
		}
	}
	return code
}

// EvaluateOnce evaluates every cluster once, writes the scores to w as an
// indented JSON array (the clusters that could not be scored left out; the
// monitor's Logger has logged why) and returns ExitCode of the results, or
// ExitError when ctx ends or w fails. It is what a program that scores once
// calls before os.Exit.
func EvaluateOnce(ctx context.Context, m *Monitor, w io.Writer) int {
	res, err := m.Evaluate(ctx)
	if err != nil {
		m.log.Error("evaluate", "err", err)
		return ExitError
	}
	scores := []*dataset.HealthScore{}
	for _, r := range res {
		if r.Score != nil {
			scores = append(scores, r.Score)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(scores); err != nil {
		m.log.Error("write scores", "err", err)
		return ExitError
	}
	return ExitCode(res)
}
