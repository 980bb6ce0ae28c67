package issues_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/issues"
	"github.com/sqlshadow/sqlshadow/issues/issuestest"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

func sample(t testing.TB) []byte {
	b, err := os.ReadFile("testdata/webhook-v4.json")
	require.NoError(t, err)
	return b
}

func TestDecodeWebhook(t *testing.T) {
	p, err := issues.DecodeWebhook(bytes.NewReader(sample(t)))
	require.NoError(t, err)
	require.Equal(t, "4", p.Version)
	require.Contains(t, p.GroupKey, "OperationAbnormal")
	require.Len(t, p.Alerts, 2)
	a := p.Alert(0)
	require.Equal(t, issues.SourceWebhook, a.Source)
	require.Equal(t, issues.StatusFiring, a.Status)
	require.Equal(t, "sr-prod-1", a.Labels["cluster_id"])
	require.Equal(t, "1a30ba71cca2921f", a.Fingerprint)
	require.Equal(t, time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC), a.StartsAt.UTC())
	require.Equal(t, issues.StatusResolved, p.Alert(1).Status)

	for name, body := range map[string]string{
		"not json":       `hello`,
		"array":          `[]`,
		"version 3":      `{"version":"3","alerts":[]}`,
		"no version":     `{"alerts":[]}`,
		"trailing":       `{"version":"4","alerts":[]} {}`,
		"bad status":     `{"version":"4","alerts":[{"status":"pending","labels":{"a":"b"},"startsAt":"2026-03-01T10:00:00Z"}]}`,
		"no labels":      `{"version":"4","alerts":[{"status":"firing","startsAt":"2026-03-01T10:00:00Z"}]}`,
		"no startsAt":    `{"version":"4","alerts":[{"status":"firing","labels":{"a":"b"}}]}`,
		"bad startsAt":   `{"version":"4","alerts":[{"status":"firing","labels":{"a":"b"},"startsAt":"yesterday"}]}`,
		"labels not map": `{"version":"4","alerts":[{"status":"firing","labels":["a"],"startsAt":"2026-03-01T10:00:00Z"}]}`,
	} {
		_, err := issues.DecodeWebhook(strings.NewReader(body))
		require.ErrorIs(t, err, issues.ErrBadPayload, name)
	}
}

func FuzzDecodeWebhook(f *testing.F) {
	f.Add(sample(f))
	f.Add([]byte(`{"version":"4","alerts":[]}`))
	f.Add([]byte(`{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"x"},"startsAt":"2026-03-01T10:00:00Z"}]}`))
	f.Add([]byte(`{"version":"4","alerts":[{"status":"resolved","labels":{},"startsAt":"0001-01-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"version":"4","alerts":[null]}`))
	f.Add([]byte(`{"version":4}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := issues.DecodeWebhook(bytes.NewReader(body))
		if err != nil {
			require.ErrorIs(t, err, issues.ErrBadPayload)
			return
		}
		// A payload that decodes ingests without error, and twice is a no-op.
		tr := issues.NewTracker(issues.NewMemoryStore(), nil)
		alerts := make([]issues.Alert, len(p.Alerts))
		for i := range alerts {
			alerts[i] = p.Alert(i)
		}
		first, err := tr.Ingest(context.Background(), alerts)
		require.NoError(t, err)
		again, err := tr.Ingest(context.Background(), alerts)
		require.NoError(t, err)
		require.Equal(t, 0, again.New)
		require.Equal(t, first.Received, first.New+first.Duplicates)
	})
}

func post(t *testing.T, h http.Handler, body []byte, token string) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/webhook/alertmanager", bytes.NewReader(body))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var out map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out), w.Body.String())
	return w.Code, out
}

func TestWebhookHandler(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	rec := &sinktest.Recorder{}
	tr := issues.NewTracker(issues.NewMemoryStore(), &issues.TrackerOptions{Registerer: reg, Sink: rec, Now: func() time.Time { return base }})
	h := issues.NewWebhookHandler(tr, &issues.WebhookHandlerOptions{Token: "s3cret", MaxBodyBytes: 4096})

	code, out := post(t, h, sample(t), "s3cret")
	require.Equal(t, http.StatusOK, code, out)
	require.EqualValues(t, 2, out["new"])
	for range 3 {
		code, out = post(t, h, sample(t), "s3cret")
		require.Equal(t, http.StatusOK, code)
		require.EqualValues(t, 0, out["new"])
		require.EqualValues(t, 2, out["duplicates"])
	}
	list, err := tr.Issues(context.Background(), issues.Filter{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "sr-prod-1", list[0].Cluster)
	require.Equal(t, issues.SeverityCritical, list[0].Severity)
	require.Equal(t, 2, list[0].Alerts)
	require.Equal(t, 1, list[0].Firing)

	code, out = post(t, h, sample(t), "wrong")
	require.Equal(t, http.StatusUnauthorized, code, out)
	code, _ = post(t, h, sample(t), "")
	require.Equal(t, http.StatusUnauthorized, code)
	code, out = post(t, h, []byte(`{"version":"3"}`), "s3cret")
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, out["error"], `version "3"`)
	code, _ = post(t, h, bytes.Repeat([]byte(" "), 5000), "s3cret")
	require.Equal(t, http.StatusRequestEntityTooLarge, code)

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/webhook/alertmanager", nil))
	require.Equal(t, http.StatusMethodNotAllowed, w.Code)

	// Metrics, all on the injected registry.
	require.InDelta(t, 8, metricValue(t, reg, "sqlshadow_issues_alerts_received_total"), 0)
	require.InDelta(t, 6, metricValue(t, reg, "sqlshadow_issues_alerts_duplicate_total"), 0)
	require.InDelta(t, 1, metricValue(t, reg, "sqlshadow_issues_opened_total"), 0)
	require.InDelta(t, 9, metricValue(t, reg, "sqlshadow_issues_http_requests_total"), 0)
	n, err := testutil.GatherAndCount(reg)
	require.NoError(t, err)
	require.Positive(t, n)
	lint, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, lint)

	// The issues dataset got the new issue once (duplicates change nothing).
	recs := rec.Maps()
	require.Len(t, recs, 1)
	require.Equal(t, list[0].ID, recs[0]["id"])
	require.Equal(t, "2026-03-01T10:00:10.000000Z"[:10], recs[0]["ts"].(string)[:10])
}

// metricValue sums the samples of counter name in reg.
func metricValue(t *testing.T, reg prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.Metric {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func TestAPIHandler(t *testing.T) {
	tr := issues.NewTracker(issues.NewMemoryStore(), &issues.TrackerOptions{Now: func() time.Time { return base }})
	_, err := tr.Ingest(context.Background(), []issues.Alert{
		alert("OperationAbnormal", "fe1", 0, ""),
		issuestest.Alert("HeapUsageTooHigh", "c2", "be1", 0),
	})
	require.NoError(t, err)
	api := issues.NewAPIHandler(tr, &issues.APIHandlerOptions{Token: "tok"})
	do := func(method, target, body, token string) (int, []byte) {
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		return w.Code, w.Body.Bytes()
	}
	list := func(q string) []issues.Issue {
		code, body := do("GET", "/api/issues"+q, "", "tok")
		require.Equal(t, http.StatusOK, code, string(body))
		var out struct{ Issues []issues.Issue }
		require.NoError(t, json.Unmarshal(body, &out))
		return out.Issues
	}
	require.Len(t, list(""), 2)
	c1 := list("?cluster=c1")
	require.Len(t, c1, 1)
	require.Len(t, list("?cluster=c1&status=Resolved"), 0)
	require.Len(t, list("?limit=1"), 1)
	code, _ := do("GET", "/api/issues", "", "")
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = do("GET", "/api/issues?limit=x", "", "tok")
	require.Equal(t, http.StatusBadRequest, code)

	id := c1[0].ID
	code, body := do("POST", "/api/issues/"+id+"/triage", `{"triage_status":"Acknowledged"}`, "tok")
	require.Equal(t, http.StatusOK, code, string(body))
	code, body = do("POST", "/api/issues/"+id+"/triage", `{"triage_status":"Mitigating"}`, "tok")
	require.Equal(t, http.StatusConflict, code, string(body))
	require.Contains(t, string(body), "one step forward")
	code, body = do("POST", "/api/issues/"+id+"/triage", `{"triage_status":"Closed","disposition_status":"No Action Needed"}`, "tok")
	require.Equal(t, http.StatusOK, code, string(body))
	require.Equal(t, issues.DispositionNoActionNeeded, list("?id=" + id)[0].Disposition)
	code, body = do("GET", "/api/issues/"+id+"/alerts", "", "tok")
	require.Equal(t, http.StatusOK, code, string(body))
	var alerts struct{ Alerts []issues.Message }
	require.NoError(t, json.Unmarshal(body, &alerts))
	require.Len(t, alerts.Alerts, 1)
	require.Equal(t, "OperationAbnormal", alerts.Alerts[0].Alert.Name())
	code, _ = do("POST", "/api/issues/iss_nope/triage", `{"triage_status":"Closed"}`, "tok")
	require.Equal(t, http.StatusNotFound, code)
	code, _ = do("POST", "/api/issues/"+id+"/triage", `{"triage":"Closed"}`, "tok")
	require.Equal(t, http.StatusBadRequest, code)
}

// failingStore fails every Update.
type failingStore struct{ issues.Store }

func (failingStore) Update(context.Context, issues.Query, func(issues.State) (issues.Change, error)) error {
	return errors.New("database is down")
}

func TestWebhookStoreFailureIs503(t *testing.T) {
	reg := prometheus.NewRegistry()
	tr := issues.NewTracker(failingStore{issues.NewMemoryStore()}, &issues.TrackerOptions{Registerer: reg})
	code, out := post(t, issues.NewWebhookHandler(tr, nil), sample(t), "")
	require.Equal(t, http.StatusServiceUnavailable, code, "Alertmanager retries 5xx")
	require.Contains(t, out["error"], "database is down")
	require.InDelta(t, 1, metricValue(t, reg, "sqlshadow_issues_errors_total"), 0)
}
