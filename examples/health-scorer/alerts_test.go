package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/issues"
)

// With -store, the alert part counts the firing alerts of alert-tracker's
// store, webhook and Lark alike, instead of the file's counts.
func TestAlertsFromIssuesStoreOnMariaDB(t *testing.T) {
	srv, err := testdb.Start(nil)
	if err != nil {
		testdb.SkipOrFail(t, err)
	}
	t.Cleanup(func() { _ = srv.Remove() })
	dsn := srv.DSN(srv.NewDatabase(t))
	db, err := sql.Open("mysql", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	store, err := issues.NewSQLStore(ctx, db, nil)
	require.NoError(t, err)
	now := time.Now()
	alert := func(source, id, name string, status issues.Status, ago time.Duration) issues.Alert {
		return issues.Alert{Source: source, ID: id, Status: status, StartsAt: now.Add(-ago),
			Labels: map[string]string{"alertname": name, "cluster_id": "bad"}}
	}
	_, err = issues.NewTracker(store, nil).Ingest(ctx, []issues.Alert{
		alert("wh", "", "FeHeapHigh", issues.StatusFiring, 2*24*time.Hour),
		alert("wh", "", "FeHeapHigh", issues.StatusResolved, 2*24*time.Hour), // its resolution: not counted
		alert("wh", "", "DiskFull", issues.StatusFiring, 10*24*time.Hour),    // before the 7 days
		alert("lark", "om_1#1", "BeAliveAbnormal", issues.StatusFiring, 10*time.Minute),
	})
	require.NoError(t, err)

	code, out, errs := runCmd(t, ctx, "-metrics-file", writeFile(t, metricsFile), "-once", "-metrics-listen", "",
		"-cluster", "bad", "-store", dsn)
	require.Equal(t, 1, code, errs)
	var snaps []dataset.HealthScore
	require.NoError(t, json.Unmarshal([]byte(out), &snaps))
	require.Len(t, snaps, 1)
	require.Equal(t, 2, *snaps[0].Alerts7d, "the file says 9")
	require.Equal(t, 1, *snaps[0].AlertsLastHour, "the file says 7")
	require.Equal(t, 80.0, *snaps[0].AlertsScore)

	code, _, errs = runCmd(t, ctx, "-metrics-file", writeFile(t, metricsFile), "-once", "-metrics-listen", "", "-store", "mem")
	require.Equal(t, 2, code, errs)
}
