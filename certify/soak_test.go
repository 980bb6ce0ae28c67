package certify_test

import (
	"context"
	"math"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/certify"
	"github.com/sqlshadow/sqlshadow/compare"
	"github.com/sqlshadow/sqlshadow/internal/mariadb"
)

// TestFitTrend checks the slope and its interval against R:
// confint(lm(c(1,3,2,5,4) ~ c(1:5))) gives -0.3024 .. 1.9024 for the slope.
func TestFitTrend(t *testing.T) {
	tr, err := certify.FitTrend([]float64{1, 2, 3, 4, 5}, []float64{1, 3, 2, 5, 4}, 0.95)
	require.NoError(t, err)
	assert.InDelta(t, 0.8, tr.Slope, 1e-12)
	assert.InDelta(t, 0.6, tr.Intercept, 1e-12)
	assert.InDelta(t, -0.30242, tr.Low, 1e-4)
	assert.InDelta(t, 1.90242, tr.High, 1e-4)

	// Many points: the t quantile tends to the normal's 1.96.
	x, y := make([]float64, 1000), make([]float64, 1000)
	for i := range x {
		x[i], y[i] = float64(i), 5+math.Sin(float64(i)) // flat, noisy
	}
	tr, err = certify.FitTrend(x, y, 0.95)
	require.NoError(t, err)
	assert.Less(t, tr.Low, 0.0)
	assert.Greater(t, tr.High, 0.0)

	_, err = certify.FitTrend([]float64{1, 1, 1}, []float64{1, 2, 3}, 0.95)
	require.ErrorIs(t, err, certify.ErrTooFewPoints)
}

// soakProgram soaks the test binary run as a helper program (see
// helperProcess) and returns the report.
func soakProgram(t *testing.T, mode string) *certify.Report {
	r := &certify.Recipe{
		Name: "soak " + mode,
		Soak: &certify.Soak{
			Command:  "env CERTIFY_HELPER=" + mode + " " + os.Args[0],
			Duration: 8 * time.Second, Interval: 200 * time.Millisecond,
			MaxGrowth: map[string]float64{"memory": 16 << 20, "open_files": 10},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := certify.Run(ctx, r, nil)
	require.NoError(t, err)
	t.Log(describe(rep))
	return rep
}

func series(t *testing.T, rep *certify.Report, metric string) certify.SoakSeries {
	t.Helper()
	require.NotNil(t, rep.Soak)
	for _, s := range rep.Soak.Series {
		if s.Metric == metric {
			return s
		}
	}
	t.Fatalf("no %s series", metric)
	return certify.SoakSeries{}
}

// TestSoakFailsLeak: a program that grows its memory and open files
// fails the soak; one that holds a fixed amount passes.
func TestSoakFailsLeak(t *testing.T) {
	t.Run("leak", func(t *testing.T) {
		t.Parallel()
		rep := soakProgram(t, "leak")
		assert.Equal(t, compare.VerdictFail, rep.Status)
		assert.Equal(t, 1, rep.ExitCode)
		assert.Equal(t, compare.VerdictFail, series(t, rep, "memory").Status)
		assert.Equal(t, compare.VerdictFail, series(t, rep, "open_files").Status)
		assert.Greater(t, series(t, rep, "memory").GrowthLow, 16.0*(1<<20))
	})
	t.Run("flat", func(t *testing.T) {
		t.Parallel()
		rep := soakProgram(t, "flat")
		assert.Equal(t, compare.VerdictPass, series(t, rep, "memory").Status)
		assert.Equal(t, compare.VerdictPass, series(t, rep, "open_files").Status)
		assert.Greater(t, series(t, rep, "memory").First, 32.0*(1<<20), "the flat program holds 32 MiB")
		assert.Equal(t, compare.VerdictPass, rep.Status, describe(rep))
	})
}

// TestSoakProxy is the soak in CI: 60 s of the mixed workload through the
// proxy, mirrored, sampling the proxy's own /metrics; nothing may grow.
// Longer soaks run as a command (docs/performance.md, section certify).
func TestSoakProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("60 s")
	}
	// Not parallel: the proxy runs in the test process, whose memory and
	// open files the soak samples; the parallel tests run after it.
	primary := rig.Server(t, 0)
	shadowSrv, _ := processServer(t)
	r := &certify.Recipe{
		Name:    "soak",
		Primary: primary.Addr(), Shadow: shadowSrv.Addr(), User: mariadb.User,
		Steps: []certify.Step{{Workload: &certify.Workload{Duration: 60 * time.Second, Clients: 4, Rate: 50}}},
		Soak:  &certify.Soak{Interval: time.Second},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := certify.Run(ctx, r, &certify.RunOptions{Password: mariadb.Password, Bucket: fileBucket(t)})
	require.NoError(t, err)
	t.Log(describe(rep))
	require.NotNil(t, rep.Soak)
	for _, s := range rep.Soak.Series {
		assert.Equal(t, compare.VerdictPass, s.Status, s.Message)
	}
	assert.GreaterOrEqual(t, len(rep.Soak.Series), 4)
	assert.Equal(t, compare.VerdictPass, rep.Status, describe(rep))
}

func TestParseMetricsPage(t *testing.T) {
	page := "# HELP go_goroutines x\n# TYPE go_goroutines gauge\ngo_goroutines 42\n" +
		"process_open_fds 17 1700000000000\nprocess_resident_memory_bytes 1.5e+07\n" +
		"sqlshadow_proxy_connections_active{listener=\"a\"} 3\nsqlshadow_proxy_connections_active{listener=\"b\"} 2\nother_metric 9\n"
	got, err := certify.ParseMetricsForTest(page)
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{"goroutines": 42, "open_files": 17, "memory": 1.5e7, "connections": 5}, got)
}
