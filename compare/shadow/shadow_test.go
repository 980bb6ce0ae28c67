package shadow

import (
	"bytes"
	"context"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sqlshadow/sqlshadow/compare"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var genStart = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

const (
	qCheckout = "/*route='checkout'*/ SELECT * FROM carts WHERE user_id = %d"
	qOrders   = "/*route='orders'*/ SELECT id, total FROM orders WHERE user_id = %d"
	qUsers    = "SELECT name FROM users WHERE id = %d"
	qNow      = "/*route='clock'*/ SELECT NOW()"
	qAvg      = "/*route='stats'*/ SELECT AVG(price) FROM items WHERE shop_id = %d"
	qRare     = "/*route='rare'*/ SELECT * FROM archive WHERE id = %d"
	qQueue    = "/*route='queue'*/ SELECT id FROM jobs WHERE state = 'ready'"
	qState    = "/*route='stateful'*/ SELECT * FROM tmp WHERE k = %d"
	qReports  = "/*route='reports'*/ SELECT SUM(x) FROM facts WHERE d = %d"
	qExport   = "/*route='export'*/ SELECT * FROM big WHERE part = %d"
)

// stable groups: no change at all.
func stableGroups() []shadowGenGroup {
	var gs []shadowGenGroup
	for i, r := range []string{"home", "profile", "catalog", "cart", "help"} {
		gs = append(gs, shadowGenGroup{query: "/*route='" + r + "'*/ SELECT * FROM t WHERE a = %d", literals: 40, n: 600 + 100*i, baseMS: 2 + float64(i), factor: 1})
	}
	return gs
}

// plantedScenario: one slow shape, one shadow-only error, one wrong answer,
// plus noise that must not be flagged.
func plantedScenario() []shadowGenGroup {
	gs := stableGroups()
	gs = append(gs,
		// The slow shape: 3x at the median.
		shadowGenGroup{query: qCheckout, literals: 50, n: 800, baseMS: 4, factor: 3},
		// The error: 5% of orders fail only on the shadow.
		shadowGenGroup{query: qOrders, literals: 50, n: 1000, baseMS: 3, factor: 1, failFrac: 0.05, failCode: 1054, failMsg: "Unknown column 'total' in 'field list'"},
		// The wrong answer: no route, grouped by template.
		shadowGenGroup{query: qUsers, literals: 200, n: 1000, baseMS: 1, factor: 1, mismatchFrac: 0.04},
		// Noise: NOW() differs every time on both sides.
		shadowGenGroup{query: qNow, n: 300, baseMS: 0.5, factor: 1, mismatchFrac: 1, primaryVaries: true},
		// Noise: float-only differences.
		shadowGenGroup{query: qAvg, literals: 20, n: 400, baseMS: 5, factor: 1, mismatchFrac: 0.1, floatCols: true},
		// Noise: a small sample, 4x slower but only 12 pairs.
		shadowGenGroup{query: qRare, literals: 12, n: 12, baseMS: 10, factor: 4},
		// Noise: the primary itself answers differently (the data changes).
		shadowGenGroup{query: qQueue, n: 200, baseMS: 1, factor: 1, mismatchFrac: 0.3, primaryVaries: true},
		// Excluded: diverged (failing), dropped and filtered records.
		shadowGenGroup{query: qState, literals: 10, n: 400, baseMS: 2, factor: 1, divergedFrac: 0.2, droppedFrac: 0.05, filteredFrac: 0.1},
		// Not a finding: faster on the shadow.
		shadowGenGroup{query: qReports, literals: 30, n: 600, baseMS: 20, factor: 0.4},
		// Not a finding: a slow client inflates the primary's duration_ms.
		shadowGenGroup{query: qExport, literals: 30, n: 600, baseMS: 8, factor: 1, clientWaitMS: 50},
	)
	return gs
}

func analyze(t *testing.T, bufs [][]byte, opts *Options) *Report {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return genStart.Add(48 * time.Hour) }
	}
	rep, err := Analyze(context.Background(), Window{From: genStart, To: genStart.Add(24 * time.Hour)}, readers(bufs), opts)
	require.NoError(t, err)
	return rep
}

func findingKeys(rep *Report) []string {
	var out []string
	for _, f := range rep.Findings {
		k := f.Kind + " " + f.Group
		if f.ErrorCode != nil {
			k += " " + errorCodeLabel(*f.ErrorCode)
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func group(rep *Report, label string) *GroupReport {
	for i := range rep.Groups {
		if rep.Groups[i].Label == label {
			return &rep.Groups[i]
		}
	}
	return nil
}

func templateLabel(q string) string {
	return "template:" + genMD5(stringsReplaceD(q))
}

func stringsReplaceD(q string) string {
	return string(bytes.ReplaceAll([]byte(q), []byte("%d"), []byte("?")))
}

func TestShadowReportNamesExactlyThePlantedThree(t *testing.T) {
	rep := plantedReport(t)

	usersLabel := templateLabel(qUsers)
	require.Equal(t, []string{
		"regression route:checkout",
		"result_mismatch " + usersLabel,
		"shadow_failure  error 1054",
	}, findingKeys(rep), "findings: %+v", rep.Findings)
	require.Equal(t, compare.VerdictFail, rep.Verdict())
	require.Equal(t, ReportSchema, rep.Schema)

	// The regression's evidence: P50 about 3x, significant.
	co := group(rep, "route:checkout")
	require.NotNil(t, co)
	require.Equal(t, StatusRegression, co.Status)
	require.InDelta(t, 3, co.P50.Ratio, 0.4)
	require.Less(t, co.P50.PAdjusted, 0.01)
	require.Equal(t, StatusRegression, co.P99.Status)

	// The failure: error 1054, from route orders, with an example.
	require.Len(t, rep.Failures, 1)
	f := rep.Failures[0]
	require.EqualValues(t, 1054, f.ErrorCode)
	require.InDelta(t, 50, f.Count, 25)
	require.Equal(t, "route:orders", f.Groups[0].Group)
	require.NotEmpty(t, f.Examples)
	require.Contains(t, f.Examples[0].Error, "Unknown column")
	require.Contains(t, f.Examples[0].Query, "FROM orders")

	// The wrong answer: with both hashes as evidence.
	require.Len(t, rep.Mismatches, 1)
	m := rep.Mismatches[0]
	require.Equal(t, usersLabel, m.Group)
	require.InDelta(t, 40, m.Count, 20)
	require.NotEqual(t, m.Examples[0].PrimaryResultHash, m.Examples[0].ShadowResultHash)
	require.Contains(t, m.Examples[0].Query, "FROM users")
	require.Empty(t, rep.ColumnDifferences)

	// Noise, reported as noise.
	noise := map[string]string{}
	for _, n := range rep.Noise {
		noise[n.Kind] = n.Group
	}
	require.Equal(t, map[string]string{
		NoiseNonDeterministic: "route:clock",
		NoiseFloatColumns:     "route:stats",
		NoiseSmallSample:      "route:rare",
		NoisePrimaryVaries:    "route:queue",
	}, noise)
	require.Equal(t, StatusInsufficient, group(rep, "route:rare").Status)

	// Faster is an improvement, not a finding; the slow client is not a
	// difference; stable groups do not change.
	require.Equal(t, StatusImprovement, group(rep, "route:reports").Status)
	require.Equal(t, StatusNoChange, group(rep, "route:export").Status)
	require.InDelta(t, 8, group(rep, "route:export").Primary.P50, 2)
	for _, r := range []string{"home", "profile", "catalog", "cart", "help"} {
		require.Equal(t, StatusNoChange, group(rep, "route:"+r).Status, r)
	}

	// Excluded records are counted, never judged.
	st := group(rep, "route:stateful")
	require.Positive(t, st.Diverged)
	require.Positive(t, st.Dropped)
	require.Positive(t, st.Filtered)
	require.Equal(t, st.Diverged, rep.Counts.Diverged)
	require.Equal(t, st.Dropped, rep.Counts.Dropped)
	require.Equal(t, st.Filtered, rep.Counts.Filtered)
	require.Zero(t, st.ShadowOnlyFailures)
	require.Zero(t, rep.Counts.Malformed)
	require.EqualValues(t, rep.Counts.Primary, rep.Counts.Shadow)
}

func TestShadowMedianAndTailRegressions(t *testing.T) {
	gs := stableGroups()
	gs = append(gs,
		shadowGenGroup{query: qCheckout, literals: 50, n: 800, baseMS: 4, factor: 2},
		// Tail only: 4% of searches are 6x slower, the median does not move.
		shadowGenGroup{query: "/*route='search'*/ SELECT * FROM docs WHERE q = %d", literals: 100, n: 3000, baseMS: 5, factor: 1, tailFrac: 0.04, tailFactor: 6},
	)
	rep := analyze(t, genShadowLogs(2, genStart, 3*time.Hour, 3, gs), nil)
	require.Equal(t, []string{"regression route:checkout", "regression route:search"}, findingKeys(rep))
	s := group(rep, "route:search")
	require.Equal(t, StatusNoChange, s.P50.Status)
	require.InDelta(t, 1, s.P50.Ratio, 0.1)
	require.Equal(t, StatusRegression, s.P99.Status)
	require.Greater(t, s.P99.Ratio, 3.0)
	require.Greater(t, s.P99.CILow, 1.5)
	for _, f := range rep.Findings {
		if f.Group == "route:search" {
			require.Contains(t, f.Title, "P99")
			require.NotContains(t, f.Title, "P50")
		}
	}
}

func TestShadowReportIsDeterministic(t *testing.T) {
	// Same logs split differently and read with different parallelism give
	// the same report.
	gs := plantedScenario()
	a := analyze(t, genShadowLogs(3, genStart, time.Hour, 1, gs), &Options{Parallelism: 1})
	b := analyze(t, genShadowLogs(3, genStart, time.Hour, 5, gs), &Options{Parallelism: 3})
	require.Equal(t, 1, a.Window.Objects)
	require.Equal(t, 5, b.Window.Objects)
	b.Window.Objects = 1
	require.Equal(t, a.Input.Lines, b.Input.Lines)
	require.EqualValues(t, 5, b.Input.Read)
	b.Input = a.Input
	var ja, jb bytes.Buffer
	require.NoError(t, a.WriteJSON(&ja))
	require.NoError(t, b.WriteJSON(&jb))
	require.True(t, ja.String() == jb.String(), "reports differ")
}

func TestShadowSmallReservoirStillFindsRegression(t *testing.T) {
	gs := []shadowGenGroup{{query: qCheckout, literals: 50, n: 3000, baseMS: 4, factor: 2}}
	rep := analyze(t, genShadowLogs(4, genStart, time.Hour, 2, gs), &Options{Reservoir: 600, Resamples: 300})
	g := group(rep, "route:checkout")
	require.EqualValues(t, 3000, g.Pairs)
	require.Equal(t, 600, g.Sampled)
	require.Equal(t, 600, g.Shadow.Sampled)
	require.EqualValues(t, 3000, g.Shadow.Count)
	require.Equal(t, StatusRegression, g.Status)
}

func TestShadowWindowAndGrace(t *testing.T) {
	gs := []shadowGenGroup{{query: qCheckout, literals: 5, n: 600, baseMS: 4, factor: 1}}
	bufs := genShadowLogs(5, genStart, 2*time.Hour, 2, gs)
	// now is 10:00 + 2h05m: with a 15 min grace the hour 11:00-12:00 is not
	// complete yet, so only 10:00-11:00 is read.
	rep, err := Analyze(context.Background(), Window{From: genStart, To: genStart.Add(3 * time.Hour)}, readers(bufs),
		&Options{Now: func() time.Time { return genStart.Add(2*time.Hour + 5*time.Minute) }})
	require.NoError(t, err)
	require.Equal(t, genStart.Add(time.Hour), rep.Window.EffectiveTo)
	require.InDelta(t, 600, rep.Counts.OutOfWindow, 10)
	require.InDelta(t, 600, rep.Counts.Primary+rep.Counts.Shadow, 10)
	require.Len(t, rep.Notes, 1)
}

func TestShadowInconclusiveAndMalformed(t *testing.T) {
	logs := []byte("not json\n{\"ts\":\"2026-11-20T10:00:00.000000Z\",\"target\":\"primary\",\"route\":\"x\",\"duration_ms\":1,\"success\":true}\n\n{\"target\":\n")
	rep := analyze(t, [][]byte{logs}, nil)
	require.EqualValues(t, 2, rep.Counts.Malformed)
	require.EqualValues(t, 1, rep.Counts.Primary)
	require.Equal(t, compare.VerdictInconclusive, rep.Verdict())
	require.Empty(t, rep.Findings)
}

func TestShadowBeforeAfter(t *testing.T) {
	before := []shadowGenGroup{
		{query: qCheckout, literals: 20, n: 500, baseMS: 4, factor: 1},
		{query: qOrders, literals: 20, n: 500, baseMS: 3, factor: 1},
	}
	after := []shadowGenGroup{
		{query: qCheckout, literals: 20, n: 500, baseMS: 4, factor: 2.5}, // worse after
		{query: qOrders, literals: 20, n: 500, baseMS: 3, factor: 1},
	}
	b1 := genShadowLogs(6, genStart, time.Hour, 2, before)
	b2 := genShadowLogs(7, genStart.Add(2*time.Hour), time.Hour, 2, after)
	rep, err := Analyze(context.Background(), Window{}, readers(slices.Concat(b1, b2)), &Options{
		Now: func() time.Time { return genStart.Add(48 * time.Hour) },
		BeforeAfter: &BeforeAfter{
			Before: Window{From: genStart, To: genStart.Add(time.Hour)},
			After:  Window{From: genStart.Add(2 * time.Hour), To: genStart.Add(3 * time.Hour)},
		},
	})
	require.NoError(t, err)
	require.Equal(t, "before_after", rep.Mode)
	require.Equal(t, []string{"window_regression route:checkout"}, findingKeys(rep))
	g := group(rep, "route:checkout")
	require.Equal(t, "mann_whitney_u", g.P50.Test)
	require.InDelta(t, 2.5, g.P50.Ratio, 0.4)
	require.Equal(t, StatusNoChange, group(rep, "route:orders").Status)
	require.Equal(t, 1, rep.Windows.Regressions)

	_, err = Analyze(context.Background(), Window{}, nil, &Options{BeforeAfter: &BeforeAfter{}})
	require.Error(t, err)
}

func TestShadowCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Analyze(ctx, Window{}, readers(genShadowLogs(1, genStart, time.Hour, 2, stableGroups())), nil)
	require.ErrorIs(t, err, context.Canceled)
}

func TestShadowOptionsValidation(t *testing.T) {
	_, err := Analyze(context.Background(), Window{}, nil, &Options{Ratio: 0.5})
	require.Error(t, err)
	_, err = Analyze(context.Background(), Window{}, nil, &Options{Alpha: 2})
	require.Error(t, err)
}
