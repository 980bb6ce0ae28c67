package scoring_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/scoring"
)

func dim(t *testing.T, name string) scoring.Dimension {
	t.Helper()
	for _, d := range scoring.DefaultDimensions() {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no dimension %s", name)
	return scoring.Dimension{}
}

// The default threshold table, tested exactly at and around each bound:
// healthy below the healthy bound, warning from it up to and including the
// critical bound, critical above.
func TestThresholdTableBoundaries(t *testing.T) {
	rows := []struct {
		name              string
		healthy, critical float64
	}{
		{scoring.DimCPU, 55, 70},
		{scoring.DimFEHeap, 55, 75},
		{scoring.DimDisk, 70, 85},
		{scoring.DimCompaction, 100, 500},
		{scoring.DimLatencyP99, 5, 15},
		{scoring.DimErrorRate, 0.1, 2},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			th := dim(t, r.name).Threshold
			require.Equal(t, r.healthy, th.Healthy)
			require.Equal(t, r.critical, th.Critical)
			below := math.Nextafter(r.healthy, math.Inf(-1))
			above := math.Nextafter(r.critical, math.Inf(1))
			require.Equal(t, dataset.StatusHealthy, th.Status(0))
			require.Equal(t, dataset.StatusHealthy, th.Status(below))
			require.Equal(t, dataset.StatusWarning, th.Status(r.healthy))
			require.Equal(t, dataset.StatusWarning, th.Status(r.critical))
			require.Equal(t, dataset.StatusCritical, th.Status(above))

			// Score: 100 up to healthy, 50 at critical, 0 at twice critical.
			require.Equal(t, 100.0, th.Score(0))
			require.Equal(t, 100.0, th.Score(r.healthy))
			require.Equal(t, 50.0, th.Score(r.critical))
			require.Equal(t, 0.0, th.Score(2*r.critical))
			require.Equal(t, 0.0, th.Score(10*r.critical))
			require.InDelta(t, 75.0, th.Score((r.healthy+r.critical)/2), 1e-9)
			require.InDelta(t, 25.0, th.Score(1.5*r.critical), 1e-9)
			require.Less(t, th.Score(above), 50.0)
			require.Less(t, th.Score(r.healthy*(1+1e-9)), 100.0)
		})
	}
}

func TestThresholdExactScores(t *testing.T) {
	cpu := dim(t, scoring.DimCPU).Threshold // 55 / 70, zero at 140
	for v, want := range map[float64]float64{55: 100, 58: 90, 62.5: 75, 70: 50, 105: 25, 140: 0, 141: 0, -5: 100} {
		require.InDelta(t, want, cpu.Score(v), 1e-12, "cpu %g", v)
	}
}

func TestThresholdHigherIsBetter(t *testing.T) {
	th := dim(t, scoring.DimBEAlive).Threshold // >= 100 healthy, 50..100 warning, < 50 critical, 0 at 0
	require.Equal(t, dataset.StatusHealthy, th.Status(100))
	require.Equal(t, dataset.StatusWarning, th.Status(math.Nextafter(100, 0)))
	require.Equal(t, dataset.StatusWarning, th.Status(50))
	require.Equal(t, dataset.StatusCritical, th.Status(math.Nextafter(50, 0)))
	require.Equal(t, 100.0, th.Score(100))
	require.Equal(t, 75.0, th.Score(75))
	require.Equal(t, 50.0, th.Score(50))
	require.Equal(t, 25.0, th.Score(25))
	require.Equal(t, 0.0, th.Score(0))
	require.InDelta(t, 100*2.0/3*1.0, th.Score(100*2.0/3), 1e-9) // one BE of three down
}

func TestThresholdValidate(t *testing.T) {
	for _, d := range scoring.DefaultDimensions() {
		require.NoError(t, d.Threshold.Validate(), d.Name)
	}
	bad := []scoring.Threshold{
		{Healthy: 5, Critical: 5},
		{Healthy: 5, Critical: 10, Zero: 8},
		{Healthy: 100, Critical: 50, Zero: 60},
		{Healthy: math.NaN(), Critical: 1},
	}
	for _, th := range bad {
		require.ErrorIs(t, th.Validate(), scoring.ErrBadThreshold, "%+v", th)
	}
	_, err := scoring.NewScorer(&scoring.ScorerOptions{Dimensions: []scoring.Dimension{{Name: "x", Threshold: bad[0]}}})
	require.ErrorIs(t, err, scoring.ErrBadThreshold)
}
