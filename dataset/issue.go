package dataset

import "github.com/sqlshadow/sqlshadow/sink"

// Issue is one record of the Issues dataset: an issue's state after a change
// (package issues writes one whenever an issue opens, escalates, resolves or
// is triaged). TS is when it changed (the issue's last update). The enumerations are package issues':
// Kind "anomaly" or "failure"; Severity "info", "warning" or "critical";
// Status "Ongoing" or "Resolved"; Triage "New", "Acknowledged",
// "Investigating", "Mitigating" or "Closed"; Disposition "New", "No Action
// Needed" or "Ticket Created".
type Issue struct {
	TS          sink.Time  `json:"ts"`
	ID          string     `json:"id"`
	Cluster     string     `json:"cluster"`
	Kind        string     `json:"kind"`
	Group       string     `json:"group,omitempty"`
	Title       string     `json:"title"`
	Severity    string     `json:"severity"`
	Status      string     `json:"issue_status"`
	Triage      string     `json:"triage_status"`
	Disposition string     `json:"disposition_status"`
	AlertNames  []string   `json:"alert_names"`
	Alerts      int        `json:"alerts"`
	Firing      int        `json:"firing"`
	Escalations int        `json:"escalations"`
	FirstFiring sink.Time  `json:"first_firing"`
	LastFiring  sink.Time  `json:"last_firing"`
	Opened      sink.Time  `json:"opened_at"`
	ResolvedAt  *sink.Time `json:"resolved_at,omitempty"`
}
