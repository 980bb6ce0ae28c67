package scoring_test

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/internal/promtest"
	"github.com/sqlshadow/sqlshadow/scoring"
	"github.com/sqlshadow/sqlshadow/scoring/scoringtest"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

func hostPorts(t *testing.T, urls []string) string {
	var out []string
	for _, u := range urls {
		p, err := url.Parse(u)
		require.NoError(t, err)
		out = append(out, fmt.Sprintf("%q", p.Host))
	}
	return strings.Join(out, ", ")
}

// startPrometheus runs a real Prometheus on 127.0.0.1 scraping the
// simulated FEs and BEs every second, with one alerting rule, and returns
// its URL. It is stopped when the test ends.
func startPrometheus(t *testing.T, fes, bes []string) string {
	t.Helper()
	dir := t.TempDir()
	rules := `groups:
- name: starrocks
  interval: 1s
  rules:
  - alert: QueryQueueBacklog
    expr: starrocks_fe_query_queue_pending > 5
    labels: {severity: warning}
`
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
- job_name: starrocks_fe
  static_configs:
  - targets: [%s]
    labels: {cluster: sim}
- job_name: starrocks_be
  static_configs:
  - targets: [%s]
    labels: {cluster: sim}
`, filepath.Join(dir, "rules.yml"), hostPorts(t, fes), hostPorts(t, bes))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(rules), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600))
	return promtest.Start(t, dir)
}

func TestPrometheusSource(t *testing.T) {
	sr := simCluster()
	sr.Do(func(fes []scoringtest.FE, bes []scoringtest.BE) {
		fes[0].QueuePending, fes[1].QueuePending = 6, 7   // two firing alerts
		fes[0].LoadsPerSec, fes[1].LoadsPerSec = 100, 100 // 2 failed loads a second
		bes[2].BusyPct = 70                               // mean CPU 50
		fes[1].LatencyP99Ms = 6000
	})
	sr.SetRealTime(true)
	fes, bes := sr.Serve(t)
	base := startPrometheus(t, fes, bes)

	src, err := scoring.NewPrometheusSource(base, nil, &scoring.PrometheusSourceOptions{RateWindow: 10 * time.Second})
	require.NoError(t, err)
	ctx := context.Background()
	var m scoring.Metrics
	require.Eventually(t, func() bool {
		m, err = src.Collect(ctx, "sim", time.Now())
		// Until every BE has enough samples in the rate window.
		return err == nil && len(m.Values) == 12 && math.Abs(m.Values[scoring.DimCPU]-50) < 2
	}, 90*time.Second, 500*time.Millisecond, "values %v missing %v err %v", m.Values, m.Missing, err)
	require.Equal(t, "prometheus", m.Source)
	for k, want := range map[string]float64{
		scoring.DimFEHeap: 50, scoring.DimDisk: 50, scoring.DimCompaction: 10, scoring.DimLatencyP99: 6,
		scoring.DimBEAlive: 100, scoring.DimFEAlive: 100, scoring.DimQueuePending: 13, scoring.DimBEMem: 60,
		scoring.DimRowsetNum: 100,
	} {
		require.InDelta(t, want, m.Values[k], 1e-9, k)
	}
	// Rates: jiffies and query counts are integers, so a little slack.
	require.InDelta(t, 50, m.Values[scoring.DimCPU], 2)
	require.InDelta(t, 1, m.Values[scoring.DimErrorRate], 0.3)
	require.InDelta(t, 2, m.Values[scoring.DimLoadFailureRate], 0.5)

	// The same without a cluster label (the whole Prometheus is the cluster).
	all, err := src.Collect(ctx, "", time.Now())
	require.NoError(t, err)
	require.InDelta(t, 6, all.Values[scoring.DimLatencyP99], 1e-9)

	// Another cluster has no series: every dimension is missing, with a reason.
	other, err := src.Collect(ctx, "other", time.Now())
	require.NoError(t, err)
	require.Empty(t, other.Values)
	require.Len(t, other.Missing, 12)
	require.Contains(t, other.Missing[scoring.DimCPU], "no series")

	// Seven days ago there was nothing: the trend is unknown, not zero.
	past, err := src.Collect(ctx, "sim", time.Now().Add(-7*24*time.Hour))
	require.NoError(t, err)
	require.Empty(t, past.Values)

	// Alerts from ALERTS{alertstate="firing"}: one per FE.
	var n int
	require.Eventually(t, func() bool {
		n, err = src.CountAlerts(ctx, "sim", time.Now().Add(-time.Hour), time.Now())
		return err == nil && n == 2
	}, 30*time.Second, 500*time.Millisecond, "alerts %d err %v", n, err)
	n, err = src.CountAlerts(ctx, "other", time.Now().Add(-7*24*time.Hour), time.Now())
	require.NoError(t, err)
	require.Zero(t, n)

	// The whole loop on top: monitor, sink, sentinel.
	rec := &sinktest.Recorder{}
	store := scoring.NewMemoryStore()
	notes := &tasks{}
	sent, err := scoring.NewSentinel(store, notes, nil)
	require.NoError(t, err)
	mon, err := scoring.NewMonitor(src, []string{"sim"}, &scoring.MonitorOptions{
		Alerts: src, Tiers: scoring.StaticTiers{"sim": "A"}, Sink: rec, Sentinel: sent,
	})
	require.NoError(t, err)
	res, err := mon.Evaluate(ctx)
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	snap := res[0].Score
	require.Equal(t, 2, *snap.Alerts7d)
	require.Equal(t, 80.0, *snap.AlertsScore)
	require.Equal(t, 1.0, snap.Confidence)
	require.Equal(t, dataset.ClassHealthy, snap.Class)
	require.Equal(t, 1, len(rec.Lines()))
	require.Empty(t, notes.triggers())

	// Queries fail when Prometheus is gone: the error is reported.
	bad, err := scoring.NewPrometheusSource("http://127.0.0.1:1", nil, nil)
	require.NoError(t, err)
	_, err = bad.Collect(ctx, "sim", time.Now())
	require.Error(t, err)
}
