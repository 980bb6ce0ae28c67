package issues_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/issues"
)

// A crash of the database loses nothing: the webhook answers 503 (so
// Alertmanager retries), and the retry after the restart ingests once.
func TestSQLStoreSurvivesDatabaseCrash(t *testing.T) {
	store, _ := newSQLStore(t)
	srv := rig.Server(t, 0)
	tr := issues.NewTracker(store, &issues.TrackerOptions{Now: func() time.Time { return base.Add(time.Minute) }})
	h := issues.NewWebhookHandler(tr, &issues.WebhookHandlerOptions{Timeout: 15 * time.Second})

	code, out := post(t, h, sample(t), "")
	require.Equal(t, http.StatusOK, code, out)
	more := issues.Payload{Version: "4", Status: issues.StatusFiring, Alerts: []issues.WebhookAlert{{
		Status: issues.StatusFiring, StartsAt: base.Add(5 * time.Second),
		Labels: map[string]string{"alertname": "BeAliveAbnormal", "cluster_id": "sr-prod-1", "instance": "be-9"},
	}}}
	body, err := json.Marshal(more)
	require.NoError(t, err)

	t0 := time.Now()
	srv.Kill()
	code, out = post(t, h, body, "")
	require.Equal(t, http.StatusServiceUnavailable, code, out)
	t.Logf("down: 503 after %s", time.Since(t0))
	require.NoError(t, srv.Restart())
	t.Logf("restarted after %s", time.Since(t0))

	for range 2 { // Alertmanager's retry, then a repeat
		code, out = post(t, h, bytes.Clone(body), "")
		require.Equal(t, http.StatusOK, code, out)
	}
	code, out = post(t, h, sample(t), "")
	require.Equal(t, http.StatusOK, code, out)
	require.EqualValues(t, 2, out["duplicates"])

	list, err := tr.Issues(context.Background(), issues.Filter{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, 3, list[0].Alerts)
	require.Equal(t, []string{"BeAliveAbnormal", "OperationAbnormal"}, list[0].AlertNames)
	msgs, err := store.Messages(context.Background(), list[0].ID)
	require.NoError(t, err)
	require.Len(t, msgs, 3)
	require.Equal(t, "be-9", msgs[2].Alert.Labels["instance"])
	require.Equal(t, issues.SourceWebhook, msgs[0].Alert.Source)
}

// Tables created before the alert_source column and the (cluster,
// starts_at) index are upgraded in place: old rows keep their source, and
// CountFiring uses the index.
func TestSQLStoreUpgradesOldTables(t *testing.T) {
	ctx := context.Background()
	srv := rig.Server(t, 0)
	db := srv.Open(t, srv.NewDatabase(t))
	_, err := db.ExecContext(ctx, `CREATE TABLE issue_messages (id VARCHAR(96) NOT NULL,
	cluster VARCHAR(255) NOT NULL, issue_id VARCHAR(64) NOT NULL, alert_status VARCHAR(16) NOT NULL,
	alertname VARCHAR(255) NOT NULL, fingerprint VARCHAR(64) NOT NULL, labels TEXT NOT NULL,
	annotations TEXT NOT NULL, starts_at DATETIME(6) NOT NULL, ends_at DATETIME(6) NULL,
	generator_url TEXT NOT NULL, received_at DATETIME(6) NOT NULL,
	PRIMARY KEY (id), KEY issue (issue_id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`)
	require.NoError(t, err)
	old := "wh_" + strings.Repeat("ab", 32)
	_, err = db.ExecContext(ctx, `INSERT INTO issue_messages VALUES (?, 'c1', 'iss_1', 'firing', 'X', '',
	'{"alertname":"X"}', '{}', '2026-03-01 10:00:00', NULL, '', '2026-03-01 10:00:01')`, old)
	require.NoError(t, err)

	for range 2 { // the second finds nothing to do
		store, err := issues.NewSQLStore(ctx, db, nil)
		require.NoError(t, err)
		msgs, err := store.Messages(ctx, "iss_1")
		require.NoError(t, err)
		require.Len(t, msgs, 1)
		require.Equal(t, issues.SourceWebhook, msgs[0].Alert.Source)
		require.Empty(t, msgs[0].Alert.ID)
		n, err := store.CountFiring(ctx, "c1", base.Add(-time.Hour), base.Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, 1, n)
	}
	var plan struct{ key sql.NullString }
	rows, err := db.QueryContext(ctx, "EXPLAIN SELECT COUNT(*) FROM issue_messages WHERE cluster = 'c1' AND starts_at >= '2026-03-01' AND starts_at < '2026-03-02'")
	require.NoError(t, err)
	cols, err := rows.Columns()
	require.NoError(t, err)
	require.True(t, rows.Next())
	vals := make([]any, len(cols))
	for i, c := range cols {
		vals[i] = new(sql.RawBytes)
		if c == "key" {
			vals[i] = &plan.key
		}
	}
	require.NoError(t, rows.Scan(vals...))
	require.NoError(t, rows.Close())
	require.Equal(t, "cluster_starts", plan.key.String)
}
