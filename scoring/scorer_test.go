package scoring_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/scoring"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// perfect returns values that score 100 on every default dimension.
func perfect() map[string]float64 {
	return map[string]float64{
		scoring.DimCPU: 20, scoring.DimFEHeap: 10, scoring.DimDisk: 10, scoring.DimCompaction: 5,
		scoring.DimLatencyP99: 0.2, scoring.DimErrorRate: 0, scoring.DimBEAlive: 100, scoring.DimFEAlive: 100,
		scoring.DimQueuePending: 0, scoring.DimLoadFailureRate: 0, scoring.DimBEMem: 10, scoring.DimRowsetNum: 10,
	}
}

func intp(n int) *int { return &n }

func score(t *testing.T, in scoring.Input) *dataset.HealthScore {
	t.Helper()
	s, err := scoring.NewScorer(nil)
	require.NoError(t, err)
	if in.At.IsZero() {
		in.At = t0
	}
	if in.Cluster == "" {
		in.Cluster = "c1"
	}
	snap, err := s.Score(context.Background(), in)
	require.NoError(t, err)
	// The explanation adds up: dimension contributions plus the alerts part
	// are the composite.
	sum := 0.0
	for _, d := range snap.Dimensions {
		if d.Contribution != nil {
			sum += *d.Contribution
		}
	}
	if snap.AlertsScore != nil {
		sum += 0.25 * *snap.AlertsScore
	}
	require.InDelta(t, snap.Score, sum, 1e-9, "contributions must add up to the composite")
	return snap
}

func TestClassBoundaries(t *testing.T) {
	s, err := scoring.NewScorer(nil)
	require.NoError(t, err)
	for v, want := range map[float64]dataset.HealthClass{
		100: dataset.ClassHealthy, 80: dataset.ClassHealthy, math.Nextafter(80, 0): dataset.ClassWarning,
		50: dataset.ClassWarning, math.Nextafter(50, 0): dataset.ClassCritical, 0: dataset.ClassCritical,
	} {
		require.Equal(t, want, s.Classify(v), "score %v", v)
	}
}

func TestCompositeAtTheBoundaries(t *testing.T) {
	cases := []struct {
		name    string
		values  map[string]float64
		alerts  int
		tier    string
		score   float64
		class   dataset.HealthClass
		metrics float64
	}{
		{"perfect", perfect(), 0, "", 100, dataset.ClassHealthy, 100},
		{"two alerts", perfect(), 2, "B", 95, dataset.ClassHealthy, 100},
		// 0.60*100 + 0.25*20 + 0.15*100 = 80: exactly the healthy bound.
		{"healthy bound", perfect(), 8, "", 80, dataset.ClassHealthy, 100},
		{"just below healthy", perfect(), 9, "", 77.5, dataset.ClassWarning, 100},
		// 0.60*60 + 0.25*20 + 0.15*60 = 50: exactly the warning bound.
		{"warning bound", sixty(), 8, "", 50, dataset.ClassWarning, 60},
		{"just below warning", sixty(), 9, "", 47.5, dataset.ClassCritical, 60},
		{"no alert score left", sixty(), 25, "", 45, dataset.ClassCritical, 60},
		// Tier S: 0.60*100 + 0.25*100 + 0.15*100*0.8 = 97.
		{"tier S", perfect(), 0, "S", 97, dataset.ClassHealthy, 100},
		{"tier A", perfect(), 0, "a", 98.5, dataset.ClassHealthy, 100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			snap := score(t, scoring.Input{Tier: c.tier, Metrics: scoring.Metrics{Values: c.values}, Alerts7d: intp(c.alerts)})
			require.Equal(t, c.score, snap.Score)
			require.Equal(t, c.class, snap.Class)
			require.Equal(t, c.metrics, snap.MetricsScore)
			require.Equal(t, 1.0, snap.Confidence)
			require.Empty(t, snap.Missing)
		})
	}
}

// sixty returns values whose dimension scores average exactly 60:
// seven at 100, CPU at 20 and four at 0.
func sixty() map[string]float64 {
	v := perfect()
	v[scoring.DimCPU] = 112         // 50 - 50*42/70 = 20
	v[scoring.DimDisk] = 170        // twice critical: 0
	v[scoring.DimCompaction] = 1000 // 0
	v[scoring.DimLatencyP99] = 30   // 0
	v[scoring.DimErrorRate] = 4     // 0
	return v
}

func TestDimensionExplanations(t *testing.T) {
	v := perfect()
	v[scoring.DimCPU] = 62.5
	snap := score(t, scoring.Input{Metrics: scoring.Metrics{Values: v}, Alerts7d: intp(0),
		Previous: map[string]float64{scoring.DimCPU: 50}})
	d := snap.Dimensions[0]
	require.Equal(t, scoring.DimCPU, d.Name)
	require.Equal(t, dataset.StatusWarning, d.Status)
	require.Equal(t, 62.5, *d.Value)
	require.Equal(t, 75.0, *d.Score)
	require.Equal(t, 50.0, *d.Previous)
	require.Equal(t, 12.5, *d.Delta)
	// (0.60 + 0.15) / 12 per dimension point: 75 points give 4.6875.
	require.InDelta(t, 4.6875, *d.Contribution, 1e-12)
	require.InDelta(t, 1.5625, *d.PointsLost, 1e-12)
	require.Nil(t, snap.Dimensions[1].Previous, "no previous value for heap")
}

func TestMissingMetricLowersConfidence(t *testing.T) {
	v := perfect()
	v[scoring.DimCPU] = 140 // score 0
	delete(v, scoring.DimDisk)
	delete(v, scoring.DimBEMem)
	v[scoring.DimLatencyP99] = math.NaN()
	snap := score(t, scoring.Input{Metrics: scoring.Metrics{Values: v,
		Missing: map[string]string{scoring.DimDisk: "no BE target answered"}}, Alerts7d: intp(0)})
	require.Equal(t, 9.0/12, snap.Confidence)
	require.Equal(t, []string{scoring.DimBEMem, scoring.DimDisk, scoring.DimLatencyP99}, snap.Missing)
	// The mean is over the nine available dimensions: one at 0, eight at 100.
	require.InDelta(t, 800.0/9, snap.MetricsScore, 1e-12)
	byName := map[string]dataset.HealthDimension{}
	for _, d := range snap.Dimensions {
		byName[d.Name] = d
	}
	disk := byName[scoring.DimDisk]
	require.Equal(t, dataset.StatusMissing, disk.Status)
	require.Nil(t, disk.Value)
	require.Nil(t, disk.Score)
	require.Equal(t, "no BE target answered", disk.Reason)
	require.Equal(t, "value is NaN", byName[scoring.DimLatencyP99].Reason)
	require.NotEmpty(t, byName[scoring.DimBEMem].Reason)

	// In the record, a missing value is absent, not 0.
	b, err := json.Marshal(snap)
	require.NoError(t, err)
	var rec struct {
		Dimensions []map[string]any `json:"dimensions"`
	}
	require.NoError(t, json.Unmarshal(b, &rec))
	for _, d := range rec.Dimensions {
		if d["name"] == scoring.DimDisk {
			require.NotContains(t, d, "value")
			require.NotContains(t, d, "score")
			require.Equal(t, "missing", d["status"])
		}
	}
}

func TestUnknownAlertsShareTheWeight(t *testing.T) {
	snap := score(t, scoring.Input{Metrics: scoring.Metrics{Values: sixty()}})
	require.Nil(t, snap.AlertsScore)
	require.Nil(t, snap.Alerts7d)
	// (0.60*60 + 0.15*60) / 0.75 = 60.
	require.InDelta(t, 60, snap.Score, 1e-12)
	require.Contains(t, snap.Notes[len(snap.Notes)-1], "alert count unknown")
}

func TestNoMetricsIsAnError(t *testing.T) {
	s, err := scoring.NewScorer(nil)
	require.NoError(t, err)
	_, err = s.Score(context.Background(), scoring.Input{Cluster: "c", Metrics: scoring.Metrics{
		Values: map[string]float64{"unknown_dimension": 1}}})
	require.ErrorIs(t, err, scoring.ErrNoMetrics)
}

func TestScorerOptions(t *testing.T) {
	s, err := scoring.NewScorer(&scoring.ScorerOptions{
		Dimensions:    []scoring.Dimension{{Name: "x", Threshold: scoring.Threshold{Healthy: 1, Critical: 2}}},
		MetricsWeight: 0.5, AlertsWeight: 0.5, TierWeight: 0,
		AlertPenalty: 25, TierFactors: map[string]float64{"gold": 0.5}, HealthyMin: 90, WarningMin: 60,
	})
	require.NoError(t, err)
	require.Equal(t, 0.5, s.TierFactor("GOLD"))
	require.Equal(t, 1.0, s.TierFactor("S"))
	snap, err := s.Score(context.Background(), scoring.Input{Metrics: scoring.Metrics{Values: map[string]float64{"x": 0}}, Alerts7d: intp(1)})
	require.NoError(t, err)
	require.Equal(t, 87.5, snap.Score) // 0.5*100 + 0.5*75
	require.Equal(t, dataset.ClassWarning, snap.Class)

	_, err = scoring.NewScorer(&scoring.ScorerOptions{HealthyMin: 40, WarningMin: 60})
	require.ErrorIs(t, err, scoring.ErrBadThreshold)
	_, err = scoring.NewScorer(&scoring.ScorerOptions{Dimensions: []scoring.Dimension{
		{Name: "x", Threshold: scoring.Threshold{Healthy: 1, Critical: 2}}, {Name: "x", Threshold: scoring.Threshold{Healthy: 1, Critical: 2}}}})
	require.ErrorIs(t, err, scoring.ErrBadThreshold)
}
