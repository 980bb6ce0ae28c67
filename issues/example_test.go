package issues_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/sqlshadow/sqlshadow/issues"
)

// An Alertmanager webhook receiver: re-deliveries are no-ops.
func Example() {
	now := func() time.Time { return time.Date(2026, 3, 1, 10, 0, 5, 0, time.UTC) }
	tr := issues.NewTracker(issues.NewMemoryStore(), &issues.TrackerOptions{Now: now})
	h := issues.NewWebhookHandler(tr, &issues.WebhookHandlerOptions{Token: "s3cret"})

	body := `{"version":"4","status":"firing","alerts":[
	  {"status":"firing","labels":{"alertname":"OperationAbnormal","cluster_id":"sr-1","instance":"fe-0"},
	   "startsAt":"2026-03-01T10:00:00Z","fingerprint":"1a30ba71cca2921f"}]}`
	for range 2 {
		r := httptest.NewRequest(http.MethodPost, "/webhook/alertmanager", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer s3cret")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Print(w.Code, " ", w.Body.String())
	}
	list, _ := tr.Issues(context.Background(), issues.Filter{Cluster: "sr-1"})
	fmt.Println(len(list), list[0].Kind, list[0].Status, list[0].Alerts)
	// Output:
	// 200 {"received":1,"new":1,"duplicates":0,"issues":["iss_44420b2d450e0e060a47fc85"]}
	// 200 {"received":1,"new":0,"duplicates":1,"issues":[]}
	// 1 failure Ongoing 1
}

// A failure on a cluster with an open anomaly issue escalates it.
func ExampleTracker_Ingest() {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tr := issues.NewTracker(issues.NewMemoryStore(), &issues.TrackerOptions{Now: func() time.Time { return t0.Add(time.Minute) }})
	alert := func(name string, at time.Duration) issues.Alert {
		return issues.Alert{Source: "demo", Status: issues.StatusFiring, StartsAt: t0.Add(at),
			Labels: map[string]string{"alertname": name, "cluster_id": "sr-1", "severity": "warning"}}
	}
	ctx := context.Background()
	tr.Ingest(ctx, []issues.Alert{alert("HeapUsageTooHigh", 0)})
	tr.Ingest(ctx, []issues.Alert{alert("OperationAbnormal", 30*time.Second)})
	list, _ := tr.Issues(ctx, issues.Filter{})
	is := list[0]
	fmt.Println(len(list), is.Kind, is.Severity, is.Escalations, is.AlertNames)
	// Output:
	// 1 anomaly critical 1 [HeapUsageTooHigh OperationAbnormal]
}

// People move an issue through its lifecycle; invalid moves are rejected.
func ExampleTracker_Triage() {
	tr := issues.NewTracker(issues.NewMemoryStore(), nil)
	ctx := context.Background()
	res, _ := tr.Ingest(ctx, []issues.Alert{{Source: "demo", Status: issues.StatusFiring,
		StartsAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), Labels: map[string]string{"alertname": "NodeDown"}}})
	id := res.Issues[0]
	_, err := tr.Triage(ctx, id, issues.TriageChange{Triage: issues.TriageMitigating})
	fmt.Println(err)
	is, _ := tr.Triage(ctx, id, issues.TriageChange{Triage: issues.TriageClosed, Disposition: issues.DispositionTicketCreated})
	fmt.Println(is.Triage, is.Disposition)
	// Output:
	// issues: triage_status "New" -> "Mitigating": only one step forward, or straight to Closed
	// Closed Ticket Created
}
