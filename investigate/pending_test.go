package investigate_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	_ "gocloud.dev/blob/memblob" // mem://

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/investigate"
	"github.com/sqlshadow/sqlshadow/issues"
	"github.com/sqlshadow/sqlshadow/sink"
)

func TestPendingSkipsInvestigatedAndRepeatedTasks(t *testing.T) {
	ctx := context.Background()
	bucket, err := sink.OpenBucket(ctx, "mem://")
	require.NoError(t, err)
	defer bucket.Close()
	now := time.Now().UTC().Truncate(time.Second)
	task := func(cluster string, ago time.Duration) *dataset.SentinelTask {
		return &dataset.SentinelTask{TS: sink.Time(now.Add(-ago)), Cluster: cluster, Trigger: dataset.TriggerNewCritical}
	}
	tasks, err := sink.NewWriter(bucket, dataset.SentinelTasks, nil)
	require.NoError(t, err)
	for _, st := range []*dataset.SentinelTask{task("a", time.Minute), task("b", time.Minute), task("old", 48*time.Hour)} {
		require.NoError(t, tasks.Write(ctx, time.Time(st.TS), st))
	}
	require.NoError(t, tasks.Close(ctx))
	findings, err := sink.NewWriter(bucket, dataset.Findings, nil)
	require.NoError(t, err) // task a was investigated
	require.NoError(t, findings.Write(ctx, now, &dataset.Finding{TS: sink.Time(now), Trigger: string(dataset.TriggerNewCritical),
		Subject: dataset.Subject{Kind: dataset.SubjectCluster, Cluster: "a"}, TaskTS: sink.Time(now.Add(-time.Minute))}))
	require.NoError(t, findings.Close(ctx))

	extra := []investigate.Task{{Sentinel: task("b", time.Minute)}, {Sentinel: task("c", time.Minute)}}
	got, err := investigate.Pending(ctx, bucket, now.Add(-24*time.Hour), extra...)
	require.NoError(t, err)
	var clusters []string
	for _, tk := range got {
		clusters = append(clusters, tk.Sentinel.Cluster)
	}
	require.Equal(t, []string{"b", "c"}, clusters, "a investigated, old too old, the extra b a repeat")
}

type fakeAlerts struct {
	list []issues.Issue
	err  error
	asks []time.Time
}

func (f *fakeAlerts) Alerts(_ context.Context, _ string, from, to time.Time) ([]issues.Issue, error) {
	f.asks = append(f.asks, from, to)
	return f.list, f.err
}

func TestLinkIssue(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	f := &dataset.Finding{Subject: dataset.Subject{Cluster: "prod"}, TaskTS: sink.Time(at)}
	alerts := &fakeAlerts{list: []issues.Issue{{ID: "i1"}, {ID: "i2"}}}
	require.NoError(t, investigate.LinkIssue(ctx, alerts, f))
	require.Equal(t, "i1", f.IssueID)
	require.Equal(t, []time.Time{at, at}, alerts.asks, "asked at the task's time")

	f = &dataset.Finding{Subject: dataset.Subject{Cluster: "prod"}}
	require.EqualError(t, investigate.LinkIssue(ctx, &fakeAlerts{err: errors.New("down")}, f), "down")
	require.Empty(t, f.IssueID)
	f = &dataset.Finding{} // no cluster: nothing to ask
	alerts = &fakeAlerts{list: []issues.Issue{{ID: "i1"}}}
	require.NoError(t, investigate.LinkIssue(ctx, alerts, f))
	require.Empty(t, f.IssueID)
	require.Empty(t, alerts.asks)
}
