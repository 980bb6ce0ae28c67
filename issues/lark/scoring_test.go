package lark_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/issues"
	"github.com/sqlshadow/sqlshadow/issues/lark"
	"github.com/sqlshadow/sqlshadow/issues/lark/larktest"
	"github.com/sqlshadow/sqlshadow/scoring"
)

// The health score's alert part counts alerts from the issues store,
// whatever their source: a Lark alert and a webhook alert on one cluster
// are two alerts. (The scoring package reads counts through an
// AlertCounter: the store's CountFiring is one.)
func TestScoringCountsLarkAlerts(t *testing.T) {
	s := newSetup(t, true)
	ctx := context.Background()
	s.h.srv.Add(larktest.Message{ID: "om_sc", ChatID: chat, Created: t0.Add(-2 * time.Hour),
		Content: larktest.StarRocksCard("alert", firingSection, resolvedSection)})
	st, err := s.source(nil).Run(ctx, chat, lark.Backfill(1))
	require.NoError(t, err)
	require.Equal(t, 2, st.New)
	res, err := s.tr.Ingest(ctx, []issues.Alert{{
		Source: issues.SourceWebhook, Status: issues.StatusFiring, StartsAt: t0.Add(-time.Hour),
		Labels: map[string]string{"alertname": "FeHeapHigh", "cluster_id": firingSection.ClusterID},
	}})
	require.NoError(t, err)
	require.Equal(t, 1, res.New)

	fc, ok := s.store.(issues.FiringCounter)
	require.True(t, ok)
	var counter scoring.AlertCounter = scoring.AlertCounterFunc(fc.CountFiring)
	n, err := counter.CountAlerts(ctx, firingSection.ClusterID, t0.Add(-7*24*time.Hour), t0)
	require.NoError(t, err)
	require.Equal(t, 2, n, "the Lark firing and the webhook firing; the resolved section is no firing")

	scorer, err := scoring.NewScorer(nil)
	require.NoError(t, err)
	snap, err := scorer.Score(ctx, scoring.Input{
		Cluster: firingSection.ClusterID, At: t0, Alerts7d: &n,
		Metrics: scoring.Metrics{Values: map[string]float64{scoring.DimCPU: 20, scoring.DimBEAlive: 100}},
	})
	require.NoError(t, err)
	require.NotNil(t, snap.AlertsScore)
	require.Equal(t, scorer.AlertsScore(2), *snap.AlertsScore)
	require.Less(t, *snap.AlertsScore, scorer.AlertsScore(1))
}
