package scoring_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/scoring"
	"github.com/sqlshadow/sqlshadow/scoring/scoringtest"
)

// simCluster is a 2 FE / 3 BE cluster whose rates give exact values.
func simCluster() *scoringtest.StarRocks {
	sr := scoringtest.NewStarRocks(2, 3)
	sr.Do(func(fes []scoringtest.FE, bes []scoringtest.BE) {
		for i := range fes {
			fes[i].ErrPct = 1      // 30 of 3000 queries in 30 s
			fes[i].LoadFailPct = 2 // 6 of 300 loads in 30 s
		}
	})
	return sr
}

// newScrape returns a scrape source whose wait advances the simulated
// cluster by the rate window instead of sleeping.
func newScrape(t *testing.T, sr *scoringtest.StarRocks, targets []string, onWait func()) *scoring.ScrapeSource {
	t.Helper()
	s, err := scoring.NewScrapeSource(targets, &scoring.ScrapeSourceOptions{
		Sleep: func(_ context.Context, d time.Duration) error {
			require.Equal(t, 30*time.Second, d, "default rate window")
			sr.Advance(d)
			if onWait != nil {
				onWait()
			}
			return nil
		},
	})
	require.NoError(t, err)
	return s
}

func TestScrapeSourceDerivesEveryDimension(t *testing.T) {
	sr := simCluster()
	fes, bes := sr.Serve(t)
	src := newScrape(t, sr, append(fes, bes...), nil)
	m, err := src.Collect(context.Background(), "sim", time.Now())
	require.NoError(t, err)
	require.Equal(t, "scrape", m.Source)
	require.Empty(t, m.Missing)
	want := map[string]float64{
		scoring.DimCPU: 40, scoring.DimFEHeap: 50, scoring.DimDisk: 50, scoring.DimCompaction: 10,
		scoring.DimLatencyP99: 0.2, scoring.DimErrorRate: 1, scoring.DimBEAlive: 100, scoring.DimFEAlive: 100,
		scoring.DimQueuePending: 0, scoring.DimLoadFailureRate: 2, scoring.DimBEMem: 60, scoring.DimRowsetNum: 100,
	}
	require.Len(t, m.Values, len(want))
	for k, v := range want {
		require.InDelta(t, v, m.Values[k], 1e-9, k)
	}
}

func TestScrapeSourceAggregatesOverNodes(t *testing.T) {
	sr := simCluster()
	sr.Do(func(fes []scoringtest.FE, bes []scoringtest.BE) {
		bes[0].BusyPct, bes[1].BusyPct, bes[2].BusyPct = 30, 60, 90 // mean 60
		bes[1].Disks[1].Avail = bes[1].Disks[1].Total / 10          // 90 % on one path
		bes[2].UpdateScore = 290                                    // per-BE max: 10, 10, 290
		bes[0].ProcessMem = 95 << 30
		fes[1].LatencyP99Ms = 7500 // max over FEs
		fes[0].QPS, fes[0].ErrPct = 100, 0
		fes[1].QPS, fes[1].ErrPct = 300, 4 // 36 of 12000 queries: 3 %
		fes[0].QueuePending, fes[1].QueuePending = 7, 5
		for i := range fes {
			fes[i].BEAlive = 2
		}
		fes[0].HeapUsed = 6 << 30 // 75 %
	})
	fes, bes := sr.Serve(t)
	m, err := newScrape(t, sr, append(fes, bes...), nil).Collect(context.Background(), "sim", time.Time{})
	require.NoError(t, err)
	for k, v := range map[string]float64{
		scoring.DimCPU: 60, scoring.DimDisk: 90, scoring.DimCompaction: 310.0 / 3, scoring.DimBEMem: 95,
		scoring.DimLatencyP99: 7.5, scoring.DimErrorRate: 100 * 360.0 / 12000, scoring.DimQueuePending: 12,
		scoring.DimBEAlive: 200.0 / 3, scoring.DimFEHeap: 75,
	} {
		require.InDelta(t, v, m.Values[k], 1e-9, k)
	}
}

func TestScrapeSourceMissingMetrics(t *testing.T) {
	sr := simCluster()
	sr.Do(func(fes []scoringtest.FE, bes []scoringtest.BE) {
		for i := range bes {
			bes[i].Omit = []string{"starrocks_be_disks_avail_capacity", "starrocks_be_process_mem_limit_bytes"}
		}
		for i := range fes {
			fes[i].Omit = []string{"starrocks_fe_query_latency_ms"}
		}
	})
	fes, bes := sr.Serve(t)
	m, err := newScrape(t, sr, append(fes, bes...), nil).Collect(context.Background(), "sim", time.Time{})
	require.NoError(t, err)
	for _, d := range []string{scoring.DimDisk, scoring.DimBEMem, scoring.DimLatencyP99} {
		require.NotContains(t, m.Values, d, "a missing metric is never zero")
		require.Contains(t, m.Missing[d], "not exported")
	}
	snap := score(t, scoring.Input{Metrics: m, Alerts7d: intp(0)})
	require.Equal(t, 9.0/12, snap.Confidence)
}

func TestScrapeSourceUnreachableTargets(t *testing.T) {
	sr := simCluster()
	fes, bes := sr.Serve(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL + "/metrics"
	dead.Close()
	// Only FEs and a dead BE: every BE dimension is missing, with a note.
	m, err := newScrape(t, sr, append(fes, deadURL), nil).Collect(context.Background(), "sim", time.Time{})
	require.NoError(t, err)
	require.Contains(t, m.Missing[scoring.DimCPU], "no BE target answered")
	require.Contains(t, m.Missing[scoring.DimDisk], "no BE target answered")
	require.Contains(t, m.Values, scoring.DimFEHeap)
	require.True(t, strings.HasPrefix(m.Notes[0], "target "+deadURL))

	_, err = newScrape(t, sr, []string{deadURL}, nil).Collect(context.Background(), "sim", time.Time{})
	require.ErrorIs(t, err, scoring.ErrScrape)

	// A 404 is a failure too.
	m, err = newScrape(t, sr, append([]string{strings.TrimSuffix(fes[0], "/metrics") + "/nope"}, bes...), nil).
		Collect(context.Background(), "sim", time.Time{})
	require.NoError(t, err)
	require.Contains(t, m.Notes[0], "404")
	require.Contains(t, m.Values, scoring.DimCPU)
	_ = bes
}

func TestScrapeSourceCounterReset(t *testing.T) {
	sr := simCluster()
	fes, bes := sr.Serve(t)
	// Both FEs restart between the two samples: their counters start over.
	src := newScrape(t, sr, append(fes, bes...), func() {
		sr.Do(func(fes []scoringtest.FE, _ []scoringtest.BE) {
			for i := range fes {
				fes[i].QueryTotal, fes[i].QueryErr = 10, 0
			}
		})
	})
	m, err := src.Collect(context.Background(), "sim", time.Time{})
	require.NoError(t, err)
	require.NotContains(t, m.Values, scoring.DimErrorRate)
	require.Equal(t, "counter reset", m.Missing[scoring.DimErrorRate])
	require.Contains(t, strings.Join(m.Notes, "\n"), "counter reset")
}

func TestScrapeSourceHasNoHistory(t *testing.T) {
	sr := simCluster()
	fes, _ := sr.Serve(t)
	_, err := newScrape(t, sr, fes, nil).Collect(context.Background(), "sim", time.Now().Add(-7*24*time.Hour))
	require.ErrorIs(t, err, scoring.ErrNoHistory)
}

func TestScrapeSourceWaitsRateWindow(t *testing.T) {
	sr := simCluster()
	sr.SetRealTime(true)
	fes, bes := sr.Serve(t)
	src, err := scoring.NewScrapeSource(append(fes, bes...), &scoring.ScrapeSourceOptions{RateWindow: 200 * time.Millisecond})
	require.NoError(t, err)
	m, err := src.Collect(context.Background(), "sim", time.Time{})
	require.NoError(t, err)
	require.InDelta(t, 40, m.Values[scoring.DimCPU], 5) // jiffies are rounded to integers
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = src.Collect(ctx, "sim", time.Time{})
	require.ErrorIs(t, err, context.Canceled)
}

func TestParseExpositionTolerance(t *testing.T) {
	// Repeated # TYPE lines, HELP without text, the FE's "a, b" label
	// spacing, a summary, untyped samples.
	in := `# HELP starrocks_fe_query_latency
# TYPE starrocks_fe_query_latency gauge
starrocks_fe_query_latency{type="mean"} 12.5
# TYPE starrocks_fe_query_latency gauge
starrocks_fe_query_latency{type="99_quantile"} 7000
# TYPE node_info gauge
node_info{type="be_node_num", state="alive"} 3
# TYPE starrocks_fe_query_latency_ms summary
starrocks_fe_query_latency_ms{quantile="0.99"} 520.0
starrocks_fe_query_latency_ms_sum 912345.0
starrocks_fe_query_latency_ms_count 12328
untyped_thing 4
`
	samples, err := scoring.ParseExposition(strings.NewReader(in))
	require.NoError(t, err)
	got := map[string]float64{}
	for _, s := range samples {
		key := s.Name
		for _, l := range []string{"type", "quantile", "state"} {
			if v, ok := s.Labels[l]; ok {
				key += "," + v
			}
		}
		got[key] = s.Value
	}
	require.Equal(t, map[string]float64{
		"starrocks_fe_query_latency,mean": 12.5, "starrocks_fe_query_latency,99_quantile": 7000,
		"node_info,be_node_num,alive": 3, "starrocks_fe_query_latency_ms,0.99": 520,
		"starrocks_fe_query_latency_ms_sum": 912345, "starrocks_fe_query_latency_ms_count": 12328,
		"untyped_thing": 4,
	}, got)

	m := scoring.Derive([]string{"fe"}, nil, map[string][]scoring.Sample{"fe": samples}, 0)
	require.Equal(t, 0.52, m.Values[scoring.DimLatencyP99])
	// Without the summary, the P99 gauge of newer FEs stands in.
	var gauges []scoring.Sample
	for _, s := range samples {
		if !strings.HasPrefix(s.Name, "starrocks_fe_query_latency_ms") {
			gauges = append(gauges, s)
		}
	}
	m = scoring.Derive([]string{"fe"}, nil, map[string][]scoring.Sample{"fe": gauges}, 0)
	require.Equal(t, 7.0, m.Values[scoring.DimLatencyP99])
	require.Contains(t, m.Missing[scoring.DimErrorRate], "rates need two samples")

	_, err = scoring.ParseExposition(strings.NewReader("bad{ 1\n"))
	require.Error(t, err)
}

func FuzzParseExposition(f *testing.F) {
	sr := scoringtest.NewStarRocks(1, 1)
	f.Add(sr.FEExposition(0))
	f.Add(sr.BEExposition(0))
	f.Add("# TYPE a counter\n# TYPE a counter\na 1\n")
	f.Add("a{b=\"c\",} NaN\n")
	f.Add("x_sum 1\n# TYPE x summary\n")
	f.Fuzz(func(t *testing.T, in string) {
		samples, err := scoring.ParseExposition(strings.NewReader(in))
		if err != nil {
			return
		}
		_ = scoring.Derive([]string{"t"}, map[string][]scoring.Sample{"t": samples}, map[string][]scoring.Sample{"t": samples}, time.Second)
	})
}
