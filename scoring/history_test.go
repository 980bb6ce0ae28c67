package scoring_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/memblob"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/scoring"
	"github.com/sqlshadow/sqlshadow/sink"
)

// The trend of a direct scrape comes from the health-scores dataset: the
// monitor writes snapshots, and a week later reads the one closest to
// t - 7 d.
func TestDatasetHistoryGivesTheTrend(t *testing.T) {
	ctx := context.Background()
	bucket := memblob.OpenBucket(nil)
	defer bucket.Close()
	w, err := sink.NewWriter(bucket, dataset.HealthScores, nil)
	require.NoError(t, err)

	weekAgo := perfect()
	weekAgo[scoring.DimCPU] = 30
	now := time.Now().UTC()
	clk := &fakeClock{now: now.Add(-7*24*time.Hour - 20*time.Minute)}
	src := scoring.NewStaticSource(map[string]scoring.StaticCluster{"c": {Values: weekAgo}, "other": {Values: perfect()}})
	mon, err := scoring.NewMonitor(src, []string{"c", "other"}, &scoring.MonitorOptions{Sink: w, Now: clk.Now,
		History: scoring.SourceFunc(func(context.Context, string, time.Time) (scoring.Metrics, error) {
			return scoring.Metrics{}, scoring.ErrNoHistory
		})})
	require.NoError(t, err)
	_, err = mon.Evaluate(ctx) // 7 d 20 min ago
	require.NoError(t, err)
	clk.Advance(50 * time.Minute) // 6 d 23 h 30 min ago: 30 min after t - 7 d
	weekAgo[scoring.DimCPU] = 35
	src.Set("c", scoring.StaticCluster{Values: weekAgo})
	_, err = mon.Evaluate(ctx)
	require.NoError(t, err)
	require.NoError(t, w.Close(ctx))

	h := scoring.NewDatasetHistory(bucket, nil)
	m, err := h.Collect(ctx, "c", now.Add(-7*24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 30.0, m.Values[scoring.DimCPU], "the closest snapshot (20 min before, not 30 min after)")
	require.Equal(t, dataset.HealthScores, m.Source)

	_, err = h.Collect(ctx, "c", now.Add(-3*24*time.Hour))
	require.ErrorIs(t, err, scoring.ErrNoHistory)
	_, err = h.Collect(ctx, "nobody", now.Add(-7*24*time.Hour))
	require.ErrorIs(t, err, scoring.ErrNoHistory)

	// Wired into a monitor, today's snapshot carries the deltas.
	src.Set("c", scoring.StaticCluster{Values: perfect()})
	mon2, err := scoring.NewMonitor(src, []string{"c"}, &scoring.MonitorOptions{History: h})
	require.NoError(t, err)
	res, err := mon2.Evaluate(ctx)
	require.NoError(t, err)
	cpu := res[0].Score.Dimensions[0]
	require.Equal(t, 30.0, *cpu.Previous)
	require.Equal(t, -10.0, *cpu.Delta)
}
