package replay

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"

	"github.com/sqlshadow/sqlshadow/compare/shadow"
	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/sink"
)

// checkShadowReport checks that the planted differences show in the
// replay's shadow records, per route: the missing index as a slower median
// (by-k), the missing column as shadow-only failures with error 1054
// (loyalty), the different value as result mismatches (price); then that
// the shadow report (compare/shadow), run on the replay unchanged, flags all three.
func checkShadowReport(t *testing.T, bucket *blob.Bucket) {
	t.Helper()
	rd := sink.NewReader(bucket, dataset.QueryLogs, time.Time{}, time.Time{}, nil)
	defer rd.Close()
	var dec dataset.QueryLogDecoder
	var rec dataset.QueryLog
	ratios := map[string][]float64{}
	failures, mismatches := map[string]int{}, map[string]int{}
	for {
		line, err := rd.Next(context.Background())
		if err != nil {
			break
		}
		require.NoError(t, dec.Decode(line, &rec))
		if rec.Target != dataset.TargetShadow || rec.Route == "" {
			continue
		}
		if rec.Success && *rec.PrimarySuccess {
			ratios[rec.Route] = append(ratios[rec.Route], rec.DurationMS/max(*rec.PrimaryDurationMS, 1e-3))
			if rec.ResultHash != rec.PrimaryResultHash {
				mismatches[rec.Route]++
			}
		}
		if !rec.Success && *rec.PrimarySuccess && rec.ErrorCode == 1054 {
			failures[rec.Route]++
		}
	}
	median := func(v []float64) float64 {
		sort.Float64s(v)
		return v[len(v)/2]
	}
	require.Greater(t, median(ratios["by-k"]), 1.5, "missing index: by-k slower on the shadow")
	require.Equal(t, map[string]int{"loyalty": 240}, failures, "missing column")
	require.Equal(t, map[string]int{"price": 240}, mismatches, "different value")
	require.Less(t, median(ratios["price"]), 1.5, "price runs on the same plan")

	// And the shadow report finds each of them.
	rep, err := shadow.New(bucket, shadow.Window{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)},
		&shadow.Options{Grace: -1}).Report(context.Background())
	require.NoError(t, err)
	kinds := map[string]string{}
	for _, f := range rep.Findings {
		kinds[f.Kind] += f.Group + " " + f.Title + ";"
	}
	require.Contains(t, kinds[shadow.FindingRegression], "route:by-k", "missing index: %v", rep.Findings)
	require.Contains(t, kinds[shadow.FindingShadowFailure], "1054", "missing column: %v", rep.Findings)
	require.Contains(t, kinds[shadow.FindingResultMismatch], "route:price", "different value: %v", rep.Findings)
}
