package replay

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/hashing"
)

// TestSampleKnownDistribution samples a workload whose figures are known:
// template k (1..20) has 10*k statements of 5 distinct literals each taking
// k ms, except one slow outlier of 100*k ms, plus SET statements.
func TestSampleKnownDistribution(t *testing.T) {
	var sts []Statement
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var total time.Duration
	timeOf := map[int]time.Duration{}
	for k := 1; k <= 20; k++ {
		for i := 0; i < 10*k; i++ {
			d := time.Duration(k) * time.Millisecond
			if i == 7 {
				d = time.Duration(100*k) * time.Millisecond
			}
			sts = append(sts, Statement{
				Time: base.Add(time.Duration(len(sts)) * time.Millisecond), Session: "s",
				Text:     fmt.Sprintf("SELECT c%d FROM t%d WHERE id = %d", k, k, i%5),
				Duration: d, Rows: 1,
			})
			total += d
			timeOf[k] += d
		}
		sts = append(sts, Statement{Time: base, Session: "s", Text: "SET @x = 1", Duration: time.Millisecond})
	}
	// Every template, 3 per template.
	got, cov, err := Sample(context.Background(), Statements(sts), &SampleOptions{PerTemplate: 3})
	require.NoError(t, err)
	require.EqualValues(t, len(sts), cov.Statements)
	require.EqualValues(t, 20, cov.StateDropped)
	require.Equal(t, 20, cov.Templates)
	require.Equal(t, 20, cov.TemplatesKept)
	require.Equal(t, total, cov.RecordedTime)
	require.Equal(t, 1.0, cov.TimeShare())
	require.EqualValues(t, 60, cov.Kept)
	require.Len(t, got, 60)
	per := map[string][]Statement{}
	for _, s := range got {
		h := hashing.TemplateHash(s.Text)
		per[h] = append(per[h], s)
	}
	require.Len(t, per, 20)
	for _, ss := range per {
		require.Len(t, ss, 3)
		var k int
		_, err := fmt.Sscanf(ss[0].Text, "SELECT c%d", &k)
		require.NoError(t, err)
		texts := map[string]bool{}
		fastest, slowest := time.Hour, time.Duration(0)
		for _, s := range ss {
			texts[s.Text] = true
			slowest = max(slowest, s.Duration)
			fastest = min(fastest, s.Duration)
		}
		require.Len(t, texts, 3, "distinct literals")
		require.Equal(t, time.Duration(100*k)*time.Millisecond, slowest, "the slow outlier is kept")
		require.Equal(t, time.Duration(k)*time.Millisecond, fastest, "and a fast one")
	}
	for i := 1; i < len(got); i++ {
		require.False(t, got[i].Time.Before(got[i-1].Time), "time order")
	}

	// The 5 templates with the most time: 16..20.
	_, cov, err = Sample(context.Background(), Statements(sts), &SampleOptions{PerTemplate: 1, MaxTemplates: 5})
	require.NoError(t, err)
	var want time.Duration
	for k := 16; k <= 20; k++ {
		want += timeOf[k]
	}
	require.Equal(t, 5, cov.TemplatesKept)
	require.Equal(t, want, cov.CoveredTime)
	require.InDelta(t, float64(want)/float64(total), cov.TimeShare(), 1e-12)
	require.InDelta(t, 0.25, cov.TemplateShare(), 1e-12)
	require.EqualValues(t, 5, cov.Kept)
}
