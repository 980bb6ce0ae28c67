package issues_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/issues"
)

// alertmanager is a real Alertmanager on loopback, clustering disabled.
type alertmanager struct {
	url  string
	logs *bytes.Buffer
}

// startAlertmanager starts prometheus-alertmanager with webhook as its only
// receiver, grouping by cluster and alert name and (re)sending every second.
func startAlertmanager(t *testing.T, webhook, token string) *alertmanager {
	t.Helper()
	bin := testdb.RequireBinary(t, "prometheus-alertmanager")
	dir := t.TempDir()
	cfg := fmt.Sprintf(`route:
  receiver: tracker
  group_by: ['cluster_id', 'alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1s
receivers:
  - name: tracker
    webhook_configs:
      - url: %q
        send_resolved: true
        http_config:
          authorization:
            credentials: %q
`, webhook, token)
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(cfg), 0o600))
	port := freePort(t)
	am := &alertmanager{url: fmt.Sprintf("http://127.0.0.1:%d", port), logs: &bytes.Buffer{}}
	cmd := exec.Command(bin,
		"--config.file="+cfgPath,
		"--storage.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--cluster.listen-address=",
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = am.logs, am.logs
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("alertmanager log:\n%s", am.logs.String())
		}
	})
	waitFor(t, 30*time.Second, "alertmanager ready", func() bool {
		select {
		case <-exited:
			t.Fatalf("alertmanager exited:\n%s", am.logs.String())
		default:
		}
		resp, err := http.Get(am.url + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return am
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitFor polls cond until it holds. The deadline is a liveness bound for a
// real program, not a performance assertion.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt,omitzero"`
}

// post sends alerts to Alertmanager's v2 API, as Prometheus does.
func (am *alertmanager) post(t *testing.T, alerts ...amAlert) {
	t.Helper()
	body, err := json.Marshal(alerts)
	require.NoError(t, err)
	resp, err := http.Post(am.url+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// amPair posts to every Alertmanager of an HA pair.
type amPair []*alertmanager

func (p amPair) post(t *testing.T, alerts ...amAlert) {
	t.Helper()
	for _, am := range p {
		am.post(t, alerts...)
	}
}

// TestAlertmanagerEndToEnd runs two real Alertmanagers (an HA pair in split
// brain, both notifying) that deliver to the tracker on MariaDB, repeating
// every notification every second; alerts are also posted several times.
// The tracker shows exactly the issues the grouping rules say.
func TestAlertmanagerEndToEnd(t *testing.T) {
	store, _ := newSQLStore(t)
	reg := prometheus.NewRegistry()
	tr := issues.NewTracker(store, &issues.TrackerOptions{Registerer: reg})
	mux := http.NewServeMux()
	mux.Handle("/webhook/alertmanager", issues.NewWebhookHandler(tr, &issues.WebhookHandlerOptions{Token: "am-token"}))
	mux.Handle("/api/", issues.NewAPIHandler(tr, nil))
	srv := httptest.NewServer(mux) // on 127.0.0.1
	defer srv.Close()
	// Two Alertmanagers that do not gossip: a split brain, where HA peers
	// both notify. Like Prometheus, every post goes to both.
	am := amPair{
		startAlertmanager(t, srv.URL+"/webhook/alertmanager", "am-token"),
		startAlertmanager(t, srv.URL+"/webhook/alertmanager", "am-token"),
	}

	now := time.Now().UTC().Truncate(time.Second)
	lbl := func(name, cluster, inst, sev string) map[string]string {
		return map[string]string{"alertname": name, "cluster_id": cluster, "instance": inst, "severity": sev}
	}
	heap := amAlert{Labels: lbl("HeapUsageTooHigh", "sr-1", "be-0", "warning"), StartsAt: now.Add(-10 * time.Minute),
		Annotations: map[string]string{"summary": "BE heap above 90%"}}
	failures := []amAlert{
		{Labels: lbl("OperationAbnormal", "sr-2", "fe-0", "warning"), StartsAt: now.Add(-5 * time.Minute)},
		{Labels: lbl("OperationAbnormal", "sr-2", "fe-1", "warning"), StartsAt: now.Add(-4 * time.Minute)},
		{Labels: lbl("BeAliveAbnormal", "sr-2", "be-3", "critical"), StartsAt: now.Add(-3 * time.Minute)},
	}
	issuesOf := func(cluster string) []issues.Issue {
		list, err := tr.Issues(context.Background(), issues.Filter{Cluster: cluster})
		require.NoError(t, err)
		return list
	}
	alertsIn := func(cluster string) int {
		n := 0
		for _, is := range issuesOf(cluster) {
			n += is.Alerts
		}
		return n
	}

	// Deliver everything several times: each post is a redelivery for
	// Alertmanager, which also repeats its notifications every second.
	for range 3 {
		am.post(t, append([]amAlert{heap}, failures...)...)
	}
	waitFor(t, 60*time.Second, "4 alerts in the tracker", func() bool { return alertsIn("sr-1")+alertsIn("sr-2") == 4 })

	// A failure on sr-1 escalates its anomaly issue.
	escalating := amAlert{Labels: lbl("OperationAbnormal", "sr-1", "fe-0", "warning"), StartsAt: now.Add(-time.Minute)}
	am.post(t, escalating)
	waitFor(t, 60*time.Second, "the escalation", func() bool { return alertsIn("sr-1") == 2 })

	// Let Alertmanager repeat its notifications a few times more.
	dups := func() float64 { return metricValue(t, reg, "sqlshadow_issues_alerts_duplicate_total") }
	waitFor(t, 60*time.Second, "redeliveries", func() bool { return dups() >= 20 })
	for range 3 {
		am.post(t, append([]amAlert{heap, escalating}, failures...)...)
	}

	sr1, sr2 := issuesOf("sr-1"), issuesOf("sr-2")
	require.Len(t, sr1, 1, "all of sr-1 is one anomaly issue")
	require.Equal(t, issues.Anomaly, sr1[0].Kind)
	require.Equal(t, 2, sr1[0].Alerts)
	require.Equal(t, 1, sr1[0].Escalations)
	require.Equal(t, issues.SeverityCritical, sr1[0].Severity, "warning raised one step")
	require.Equal(t, issues.Ongoing, sr1[0].Status)
	require.Equal(t, "HeapUsageTooHigh: BE heap above 90%", sr1[0].Title)
	require.Len(t, sr2, 1, "the sr-2 failures are one issue")
	require.Equal(t, issues.Failure, sr2[0].Kind)
	require.Equal(t, 3, sr2[0].Alerts)
	require.Equal(t, 3, sr2[0].Firing)
	require.Equal(t, issues.SeverityCritical, sr2[0].Severity)
	require.Equal(t, []string{"BeAliveAbnormal", "OperationAbnormal"}, sr2[0].AlertNames)

	// Resolve the anomaly: its issue resolves (the failure that escalated
	// does not hold it open).
	resolvedHeap := heap
	resolvedHeap.EndsAt = time.Now().UTC().Add(-time.Second)
	am.post(t, resolvedHeap)
	waitFor(t, 60*time.Second, "the anomaly issue to resolve", func() bool {
		return issuesOf("sr-1")[0].Status == issues.Resolved
	})

	// Resolve every sr-2 failure: the failure issue resolves.
	var res []amAlert
	for _, f := range failures {
		f.EndsAt = time.Now().UTC().Add(-time.Second)
		res = append(res, f)
	}
	am.post(t, res...)
	waitFor(t, 60*time.Second, "the failure issue to resolve", func() bool {
		return issuesOf("sr-2")[0].Status == issues.Resolved
	})
	require.Len(t, issuesOf("sr-2"), 1)
	require.Equal(t, 0, issuesOf("sr-2")[0].Firing)

	// The lifecycle over the API of the same server.
	id := sr2[0].ID
	resp, err := http.Post(srv.URL+"/api/issues/"+id+"/triage", "application/json",
		strings.NewReader(`{"triage_status":"Closed","disposition_status":"No Action Needed"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	got := issuesOf("sr-2")[0]
	require.Equal(t, issues.TriageClosed, got.Triage)
	require.Equal(t, issues.DispositionNoActionNeeded, got.Disposition)
	t.Logf("duplicates absorbed: %.0f, new alert messages: %.0f", dups(), metricValue(t, reg, "sqlshadow_issues_alerts_new_total"))
}
