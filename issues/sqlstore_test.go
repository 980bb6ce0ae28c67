package issues_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
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
