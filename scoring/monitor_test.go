package scoring_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/scoring"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

func TestMonitorWritesExportsAndTriggers(t *testing.T) {
	ctx := context.Background()
	weekAgo := perfect()
	src := scoring.NewStaticSource(map[string]scoring.StaticCluster{
		"good": {Tier: "B", Values: perfect(), WeekAgo: weekAgo, Alerts7d: intp(0), AlertsLastHour: intp(0)},
		"bad":  {Tier: "S", Values: sixty(), Alerts7d: intp(9), AlertsLastHour: intp(0)},
	})
	clk := &fakeClock{now: time.Now()}
	rec, trig := &sinktest.Recorder{}, &sinktest.Recorder{}
	sent, err := scoring.NewSentinel(scoring.NewMemoryStore(), scoring.NewSinkNotifier(trig), &scoring.SentinelOptions{Now: clk.Now})
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	mon, err := scoring.NewMonitor(src, []string{"good", "bad"}, &scoring.MonitorOptions{
		Alerts: src, Tiers: src, History: src.History(), Sink: rec, Sentinel: sent, Registerer: reg, Now: clk.Now,
	})
	require.NoError(t, err)

	res, err := mon.Evaluate(ctx)
	require.NoError(t, err)
	require.Len(t, res, 2)
	good, bad := res[0], res[1]
	require.NoError(t, good.Err)
	require.NoError(t, bad.Err)
	require.Equal(t, dataset.ClassHealthy, good.Score.Class)
	require.Equal(t, 0.0, *good.Score.Dimensions[0].Delta, "trend from the week-ago values")
	// bad: metrics 60, alerts 10, tier S: 0.6*60 + 0.25*10 + 0.15*60*0.8 = 45.7.
	require.InDelta(t, 45.7, bad.Score.Score, 1e-9)
	require.Equal(t, dataset.ClassCritical, bad.Score.Class)
	require.Equal(t, dataset.TriggerNewCritical, bad.Task.Trigger)
	require.Nil(t, good.Task)

	// Records: field names of the data contract.
	maps := rec.Maps()
	require.Len(t, maps, 2)
	for _, k := range []string{"ts", "cluster", "score", "class", "metrics_score", "alerts_score", "tier_score", "tier_factor", "confidence", "dimensions"} {
		require.Contains(t, maps[1], k)
	}
	require.Equal(t, "bad", maps[1]["cluster"])
	require.Equal(t, "critical", maps[1]["class"])
	require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`, maps[1]["ts"])
	tasks := trig.Maps()
	require.Len(t, tasks, 1)
	require.Equal(t, "new_critical", tasks[0]["trigger"])
	require.EqualValues(t, 1, tasks[0]["priority"])

	// Gauges.
	require.InDelta(t, 45.7, testutil.ToFloat64(mustGauge(t, reg, "sqlshadow_health_score", "bad")), 1e-9)
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP sqlshadow_health_class 1 for the cluster's current class, 0 for the others.
# TYPE sqlshadow_health_class gauge
sqlshadow_health_class{class="critical",cluster="bad"} 1
sqlshadow_health_class{class="critical",cluster="good"} 0
sqlshadow_health_class{class="healthy",cluster="bad"} 0
sqlshadow_health_class{class="healthy",cluster="good"} 1
sqlshadow_health_class{class="warning",cluster="bad"} 0
sqlshadow_health_class{class="warning",cluster="good"} 0
# HELP sqlshadow_health_triggers_total Sentinel tasks sent, by trigger.
# TYPE sqlshadow_health_triggers_total counter
sqlshadow_health_triggers_total{cluster="bad",trigger="new_critical"} 1
`), "sqlshadow_health_class", "sqlshadow_health_triggers_total"))

	// A metric goes missing: its gauges disappear instead of reading 0.
	v := sixty()
	delete(v, scoring.DimCPU)
	src.Set("bad", scoring.StaticCluster{Tier: "S", Values: v, Alerts7d: intp(9)})
	clk.Advance(15 * time.Minute)
	res, err = mon.Evaluate(ctx)
	require.NoError(t, err)
	require.Equal(t, 11.0/12, res[1].Score.Confidence)
	require.Nil(t, res[1].Task, "still critical: nothing new")
	n, err := testutil.GatherAndCount(reg, "sqlshadow_health_dimension_score")
	require.NoError(t, err)
	require.Equal(t, 23, n)

	// A cluster with nothing to score loses its gauges and reports an error.
	src.Set("bad", scoring.StaticCluster{Values: map[string]float64{}})
	res, err = mon.Evaluate(ctx)
	require.NoError(t, err)
	require.ErrorIs(t, res[1].Err, scoring.ErrNoMetrics)
	n, err = testutil.GatherAndCount(reg, "sqlshadow_health_score")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, 5, len(rec.Lines()), "2 + 2 + 1 snapshots")
}

func mustGauge(t *testing.T, reg *prometheus.Registry, name, cluster string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "cluster" && l.GetValue() == cluster {
					g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name})
					g.Set(m.GetGauge().GetValue())
					return g
				}
			}
		}
	}
	t.Fatalf("no %s for %s", name, cluster)
	return nil
}

func TestMonitorCollectFailure(t *testing.T) {
	boom := errors.New("boom")
	mon, err := scoring.NewMonitor(scoring.SourceFunc(func(context.Context, string, time.Time) (scoring.Metrics, error) {
		return scoring.Metrics{}, boom
	}), []string{"c"}, nil)
	require.NoError(t, err)
	res, err := mon.Evaluate(context.Background())
	require.NoError(t, err)
	require.ErrorIs(t, res[0].Err, boom)
}

func TestMonitorRunStopsWithContext(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	src := scoring.SourceFunc(func(_ context.Context, _ string, at time.Time) (scoring.Metrics, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		return scoring.Metrics{Values: perfect()}, nil
	})
	mon, err := scoring.NewMonitor(src, []string{"c"}, &scoring.MonitorOptions{Interval: time.Millisecond})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- mon.Run(ctx) }()
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return calls >= 6 }, 10*time.Second, time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}

func TestWebhookNotifier(t *testing.T) {
	var mu sync.Mutex
	var got []dataset.SentinelTask
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "application/json", r.Header.Get("Content-Type"))
		require.Equal(t, "Bearer x", r.Header.Get("Authorization"))
		b, _ := io.ReadAll(r.Body)
		var task dataset.SentinelTask
		if err := json.Unmarshal(b, &task); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		got = append(got, task)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	wh, err := scoring.NewWebhookNotifier(srv.URL, &scoring.WebhookNotifierOptions{Header: http.Header{"Authorization": {"Bearer x"}}})
	require.NoError(t, err)
	task := dataset.SentinelTask{Cluster: "c", Trigger: dataset.TriggerAlertStorm, Priority: 2, Score: snapshot("c", "", 90, 6)}
	require.NoError(t, wh.Notify(context.Background(), task))
	mu.Lock()
	require.Equal(t, dataset.TriggerAlertStorm, got[0].Trigger)
	status = http.StatusServiceUnavailable
	mu.Unlock()
	err = wh.Notify(context.Background(), task)
	var we *scoring.WebhookError
	require.ErrorAs(t, err, &we)
	require.Equal(t, http.StatusServiceUnavailable, we.StatusCode)
	srv.Client().CloseIdleConnections()
}

func TestMetricsFile(t *testing.T) {
	f, err := scoring.ParseMetricsFile(strings.NewReader(`{"clusters": {"prod-a": {"tier": "A",
		"values": {"cpu_util_pct": 42, "fe_heap_used_pct": 61.5}, "week_ago": {"cpu_util_pct": 30},
		"alerts_7d": 2, "alerts_last_hour": 0}}}`))
	require.NoError(t, err)
	c := f.Clusters["prod-a"]
	require.Equal(t, "A", c.Tier)
	require.Equal(t, 61.5, c.Values[scoring.DimFEHeap])
	require.Equal(t, 2, *c.Alerts7d)
	for _, bad := range []string{``, `{}`, `{"clusters": {}}`, `{"clusters": {"": {}}}`,
		`{"clusters": {"a": {"alerts_7d": -1}}}`, `{"clusters": {"a": {"values": {"x": "1"}}}}`} {
		_, err := scoring.ParseMetricsFile(strings.NewReader(bad))
		require.ErrorIs(t, err, scoring.ErrBadMetricsFile, bad)
	}
}

func FuzzParseMetricsFile(f *testing.F) {
	f.Add(`{"clusters": {"a": {"tier": "S", "values": {"cpu_util_pct": 42}, "alerts_7d": 1}}}`)
	f.Add(`{"clusters": {"a": {"values": {"x": 1e999}}}}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, in string) {
		mf, err := scoring.ParseMetricsFile(strings.NewReader(in))
		if err != nil {
			return
		}
		s, _ := scoring.NewScorer(nil)
		src := scoring.NewStaticSource(mf.Clusters)
		for name := range mf.Clusters {
			m, err := src.Collect(context.Background(), name, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			_, _ = s.Score(context.Background(), scoring.Input{Cluster: name, Metrics: m})
		}
	})
}

func TestExitCode(t *testing.T) {
	healthy := scoring.Result{Score: &dataset.HealthScore{Class: dataset.ClassHealthy}}
	warning := scoring.Result{Score: &dataset.HealthScore{Class: dataset.ClassWarning}}
	written := scoring.Result{Score: &dataset.HealthScore{Class: dataset.ClassHealthy}, Err: errors.New("write: bucket gone")}
	empty := scoring.Result{Err: fmt.Errorf("score: %w", scoring.ErrNoMetrics)}
	failed := scoring.Result{Err: errors.New("collect: connection refused")}
	for _, c := range []struct {
		res  []scoring.Result
		want int
	}{
		{nil, scoring.ExitHealthy},
		{[]scoring.Result{healthy, written}, scoring.ExitHealthy},
		{[]scoring.Result{healthy, warning}, scoring.ExitUnhealthy},
		{[]scoring.Result{warning, empty}, scoring.ExitInconclusive},
		{[]scoring.Result{empty, warning}, scoring.ExitInconclusive},
		{[]scoring.Result{failed, empty, warning}, scoring.ExitError},
		{[]scoring.Result{warning, empty, failed}, scoring.ExitError},
	} {
		require.Equal(t, c.want, scoring.ExitCode(c.res), "%+v", c.res)
	}
}
