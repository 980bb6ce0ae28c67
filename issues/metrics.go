package issues

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/sink"
)

type metrics struct {
	received   prometheus.Counter
	duplicates prometheus.Counter
	newAlerts  *prometheus.CounterVec
	opened     *prometheus.CounterVec
	resolved   prometheus.Counter
	escalated  prometheus.Counter
	reopened   prometheus.Counter
	triaged    *prometheus.CounterVec
	errors     prometheus.Counter
	sinkErrors prometheus.Counter
	duration   prometheus.Histogram
	requests   *prometheus.CounterVec
	truncated  prometheus.Counter
}

const ns = "sqlshadow_issues_"

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		received:   prometheus.NewCounter(prometheus.CounterOpts{Name: ns + "alerts_received_total", Help: "Alerts given to Ingest, duplicates included."}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{Name: ns + "alerts_duplicate_total", Help: "Alerts already stored (re-deliveries): no-ops."}),
		newAlerts:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: ns + "alerts_new_total", Help: "Alert messages stored for the first time, by status."}, []string{"status"}),
		opened:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: ns + "opened_total", Help: "Issues opened, by kind."}, []string{"kind"}),
		resolved:   prometheus.NewCounter(prometheus.CounterOpts{Name: ns + "resolved_total", Help: "Issues resolved (all alerts resolved, or expired)."}),
		escalated:  prometheus.NewCounter(prometheus.CounterOpts{Name: ns + "escalations_total", Help: "Failures that joined an anomaly issue and raised its severity."}),
		reopened:   prometheus.NewCounter(prometheus.CounterOpts{Name: ns + "reopened_total", Help: "Closed issues reopened by a new firing."}),
		triaged:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: ns + "triage_changes_total", Help: "Accepted lifecycle changes, by resulting triage status."}, []string{"triage_status"}),
		errors:     prometheus.NewCounter(prometheus.CounterOpts{Name: ns + "errors_total", Help: "Ingest and sweep calls that failed on the store."}),
		sinkErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: ns + "sink_errors_total", Help: "Issue records the sink did not accept."}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: ns + "ingest_duration_seconds", Help: "Time of one successful Ingest call.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		truncated: prometheus.NewCounter(prometheus.CounterOpts{Name: ns + "webhook_truncated_alerts_total", Help: "Alerts Alertmanager left out of payloads (max_alerts): they reach the tracker only in later payloads, if at all."}),
		requests:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: ns + "http_requests_total", Help: "Webhook and API requests, by HTTP status code."}, []string{"code"}),
	}
	if reg != nil {
		reg.MustRegister(m.received, m.duplicates, m.newAlerts, m.opened, m.resolved, m.escalated,
			m.reopened, m.triaged, m.errors, m.sinkErrors, m.duration, m.requests, m.truncated)
	}
	return m
}

// issueRecord is is's record of the dataset.Issues dataset, timestamped by
// its last change. It is the one place the issue's enumerations become the
// record's plain strings.
func issueRecord(is *Issue) dataset.Issue {
	r := dataset.Issue{
		TS: sink.Time(is.Updated), ID: is.ID, Cluster: is.Cluster, Kind: string(is.Kind), Group: is.Group,
		Title: is.Title, Severity: string(is.Severity), Status: string(is.Status), Triage: string(is.Triage),
		Disposition: string(is.Disposition), AlertNames: is.AlertNames, Alerts: is.Alerts, Firing: is.Firing,
		Escalations: is.Escalations, FirstFiring: sink.Time(is.FirstFiring),
		LastFiring: sink.Time(is.LastFiring), Opened: sink.Time(is.Opened),
	}
	if !is.ResolvedAt.IsZero() {
		t := sink.Time(is.ResolvedAt)
		r.ResolvedAt = &t
	}
	return r
}
