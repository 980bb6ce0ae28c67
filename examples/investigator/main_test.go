package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/investigate"
	"github.com/sqlshadow/sqlshadow/investigate/investigatetest"
	"github.com/sqlshadow/sqlshadow/issues"
	"github.com/sqlshadow/sqlshadow/sink"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A sentinel task for a cluster with a planted disk and compaction problem
// becomes, in one -once run without a model, a finding that names it, with
// evidence pointing at the metric series and the alert, and the runbook's
// recommendations; a second run finds nothing new to investigate.
func TestOnceDiskAndCompaction(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Minute)
	prom := investigatetest.StartPrometheus(t, now.Add(-3*time.Hour), now, time.Minute,
		investigatetest.Cluster("prod-a", map[string]func(float64) float64{
			"disk": investigatetest.Linear(72, 94), "compaction": investigatetest.Linear(8, 55)}))

	srv, err := testdb.Start(nil)
	if err != nil {
		testdb.SkipOrFail(t, err)
	}
	t.Cleanup(func() { _ = srv.Remove() })
	dsn := srv.DSN(srv.NewDatabase(t))
	store, err := issues.NewSQLStore(ctx, srv.Open(t, dsnDB(dsn)), nil)
	require.NoError(t, err)
	tr := issues.NewTracker(store, &issues.TrackerOptions{Now: func() time.Time { return now.Add(-20 * time.Minute) }})
	_, err = tr.Ingest(ctx, []issues.Alert{{Source: "am", Status: issues.StatusFiring, StartsAt: now.Add(-25 * time.Minute),
		Labels: map[string]string{"alertname": "BEDiskUsageHigh", "cluster": "prod-a", "severity": "critical"}}})
	require.NoError(t, err)
	open, err := store.Issues(ctx, issues.Filter{Cluster: "prod-a"})
	require.NoError(t, err)
	require.Len(t, open, 1)

	dir := t.TempDir()
	bucketURL := "file://" + dir
	bucket, err := sink.OpenBucket(ctx, bucketURL)
	require.NoError(t, err)
	defer bucket.Close()
	w, err := sink.NewWriter(bucket, dataset.SentinelTasks, nil)
	require.NoError(t, err)
	require.NoError(t, w.Write(ctx, now, dataset.SentinelTask{TS: sink.Time(now), Cluster: "prod-a", Trigger: dataset.TriggerNewCritical,
		Priority: 1, Reason: "score 38 (critical)"}))
	require.NoError(t, w.Close(ctx))
	inv := filepath.Join(dir, "clusters.json")
	require.NoError(t, os.WriteFile(inv, []byte(`[{"name":"prod-a","tier":"A","account":"acme","version":"3.2.11"}]`), 0o600))
	t.Setenv("SQLSHADOW_DB_DSN", dsn)

	args := []string{"-once", "-bucket-url", bucketURL, "-prometheus", prom, "-inventory", inv,
		"-knowledge", "../../investigate/testdata/knowledge", "-reasoner", "rules"}
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run(ctx, args, &stdout, &stderr), stderr.String())
	var f dataset.Finding
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &f), stdout.String())
	require.NoError(t, f.Validate())
	require.Equal(t, investigate.CategoryDiskCompaction, f.Category)
	require.Contains(t, f.RootCause, "94%")
	require.Equal(t, open[0].ID, f.IssueID)
	var tools []string
	for _, e := range f.Evidence {
		tools = append(tools, e.Tool+": "+e.Excerpt)
	}
	joined := strings.Join(tools, "\n")
	require.Contains(t, joined, "metrics: disk_used_pct: 72 at")
	require.Contains(t, joined, "metrics: compaction_score: 8 at")
	require.Contains(t, joined, "alerts: issue "+open[0].ID)
	require.Contains(t, f.Recommendations[0], "ADMIN CLEAN TRASH")
	require.NotEmpty(t, f.ToolCalls)

	// The finding is in the dataset and the findings table.
	stored, err := investigate.ReadFindings(ctx, bucket, now.Add(-time.Hour), time.Time{})
	require.NoError(t, err)
	require.Len(t, stored, 1)
	require.Equal(t, f.Fingerprint, stored[0].Fingerprint)
	past, err := investigate.NewSQLFindingStore(ctx, srv.Open(t, dsnDB(dsn)), "")
	require.NoError(t, err)
	rows, err := past.Findings(ctx, investigate.FindingFilter{Cluster: "prod-a"})
	require.NoError(t, err)
	require.Len(t, rows, 1)

	// Nothing new: a second run investigates nothing.
	stdout.Reset()
	require.Equal(t, 0, run(ctx, args, &stdout, &stderr), stderr.String())
	require.Empty(t, stdout.String())
}

// dsnDB returns the database name of a go-sql-driver DSN.
func dsnDB(dsn string) string {
	_, rest, _ := strings.Cut(dsn, "/")
	name, _, _ := strings.Cut(rest, "?")
	return name
}

func TestUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 2, run(context.Background(), []string{"-once"}, &stdout, &stderr))
	require.Contains(t, stderr.String(), "-bucket-url is required")
	require.Equal(t, 2, run(context.Background(), []string{"-once", "-bucket-url", "mem://", "-reasoner", "magic"}, &stdout, &stderr))
	require.Contains(t, stderr.String(), "only rules")
}
