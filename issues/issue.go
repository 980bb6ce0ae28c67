package issues

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Kind says how an alert behaves, and so how it groups.
type Kind string

const (
	// Anomaly alerts are ongoing conditions (OperationDurationGT,
	// HeapUsageTooHigh): every firing on one cluster merges into one open
	// issue until it resolves.
	Anomaly Kind = "anomaly"
	// Failure alerts are discrete events (OperationAbnormal,
	// BeAliveAbnormal): they group by time windows and correlation groups.
	Failure Kind = "failure"
)

// Severity is an issue's severity, one of info, warning and critical.
type Severity string

// Severities, in increasing order.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

func (s Severity) rank() int {
	switch s {
	case SeverityInfo:
		return 0
	case SeverityCritical:
		return 2
	default:
		return 1
	}
}

// Raise returns the severity one step above s (critical stays critical).
func (s Severity) Raise() Severity {
	switch s.rank() {
	case 0:
		return SeverityWarning
	default:
		return SeverityCritical
	}
}

func maxSeverity(a, b Severity) Severity {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// ParseSeverity maps an alert's "severity" label to a Severity: info, low
// and none are info; critical, page, error, high and major are critical;
// anything else (warning included) is warning.
func ParseSeverity(label string) Severity {
	switch label {
	case "info", "low", "none":
		return SeverityInfo
	case "critical", "page", "error", "high", "major":
		return SeverityCritical
	default:
		return SeverityWarning
	}
}

// IssueStatus follows the issue's alerts.
type IssueStatus string

// Issue statuses.
const (
	Ongoing  IssueStatus = "Ongoing"
	Resolved IssueStatus = "Resolved"
)

// TriageStatus is the people's side of an issue: New -> Acknowledged ->
// Investigating -> Mitigating -> Closed, one step forward at a time or
// straight to Closed. A new firing that joins a Closed issue reopens it as
// Investigating.
type TriageStatus string

// Triage statuses, in order.
const (
	TriageNew           TriageStatus = "New"
	TriageAcknowledged  TriageStatus = "Acknowledged"
	TriageInvestigating TriageStatus = "Investigating"
	TriageMitigating    TriageStatus = "Mitigating"
	TriageClosed        TriageStatus = "Closed"
)

var triageOrder = []TriageStatus{TriageNew, TriageAcknowledged, TriageInvestigating, TriageMitigating, TriageClosed}

// Disposition records what came of a Closed issue: New until then, then
// No Action Needed or Ticket Created, set once.
type Disposition string

// Dispositions.
const (
	DispositionNew            Disposition = "New"
	DispositionNoActionNeeded Disposition = "No Action Needed"
	DispositionTicketCreated  Disposition = "Ticket Created"
)

// Issue is a group of alerts on one cluster that people act on once.
type Issue struct {
	// ID is "iss_" and 24 hex digits, derived from the cluster and the id of
	// the message that opened the issue (so replays open the same id).
	ID string `json:"id"`
	// Cluster is the cluster of every alert in the issue.
	Cluster string `json:"cluster"`
	// Kind is the kind of the alert that opened the issue.
	Kind Kind `json:"kind"`
	// Group is the correlation group of a failure issue ("" for anomalies).
	Group string `json:"group,omitempty"`
	// Title describes the issue: the first alert's name and summary.
	Title string `json:"title"`
	// Severity is the highest severity of its alerts, raised one step by
	// each escalation.
	Severity Severity `json:"severity"`
	// Status, Triage and Disposition are the three lifecycle statuses.
	Status      IssueStatus  `json:"issue_status"`
	Triage      TriageStatus `json:"triage_status"`
	Disposition Disposition  `json:"disposition_status"`
	// AlertNames is the sorted set of alert names in the issue.
	AlertNames []string `json:"alert_names"`
	// Alerts counts the alert occurrences in the issue; Firing those of the
	// issue's kind still firing (they keep it Ongoing).
	Alerts int `json:"alerts"`
	Firing int `json:"firing"`
	// Escalations counts the failures that joined this anomaly issue.
	Escalations int `json:"escalations"`
	// FirstFiring and LastFiring are the earliest and latest startsAt of
	// its alerts.
	FirstFiring time.Time `json:"first_firing"`
	LastFiring  time.Time `json:"last_firing"`
	// Opened, Updated and ResolvedAt are tracker times (ResolvedAt is zero
	// while Ongoing).
	Opened     time.Time `json:"opened_at"`
	Updated    time.Time `json:"updated_at"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
}

func (is *Issue) clone() *Issue {
	c := *is
	c.AlertNames = slices.Clone(is.AlertNames)
	return &c
}

func (is *Issue) hasName(name string) bool {
	_, ok := slices.BinarySearch(is.AlertNames, name)
	return ok
}

func (is *Issue) addName(name string) {
	if i, ok := slices.BinarySearch(is.AlertNames, name); !ok {
		is.AlertNames = slices.Insert(is.AlertNames, i, name)
	}
}

// ErrNotFound is returned for an issue id that does not exist.
var ErrNotFound = errors.New("issues: issue not found")

// ErrInvalidTransition is wrapped by every rejected lifecycle change.
var ErrInvalidTransition = errors.New("issues: invalid transition")

// TransitionError reports a rejected lifecycle change. It wraps
// ErrInvalidTransition.
type TransitionError struct {
	// Field is "triage_status" or "disposition_status".
	Field    string
	From, To string
	Reason   string
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("issues: %s %q -> %q: %s", e.Field, e.From, e.To, e.Reason)
}

// Unwrap returns ErrInvalidTransition.
func (e *TransitionError) Unwrap() error { return ErrInvalidTransition }

// TriageChange is a lifecycle change asked by a person. Empty fields are
// left alone; Triage applies before Disposition, so both can close an issue
// and record its disposition at once.
type TriageChange struct {
	Triage      TriageStatus `json:"triage_status,omitempty"`
	Disposition Disposition  `json:"disposition_status,omitempty"`
}

// apply checks and applies c to is.
func (c TriageChange) apply(is *Issue) error {
	if c.Triage == "" && c.Disposition == "" {
		return &TransitionError{Field: "triage_status", Reason: "nothing to change"}
	}
	if c.Triage != "" {
		from, to := slices.Index(triageOrder, is.Triage), slices.Index(triageOrder, c.Triage)
		te := &TransitionError{Field: "triage_status", From: string(is.Triage), To: string(c.Triage)}
		switch {
		case to < 0:
			te.Reason = "unknown status (want New, Acknowledged, Investigating, Mitigating or Closed)"
			return te
		case is.Triage == TriageClosed:
			te.Reason = "the issue is closed; a new firing reopens it"
			return te
		case to != from+1 && c.Triage != TriageClosed:
			te.Reason = "only one step forward, or straight to Closed"
			return te
		}
		is.Triage = c.Triage
	}
	if c.Disposition != "" {
		te := &TransitionError{Field: "disposition_status", From: string(is.Disposition), To: string(c.Disposition)}
		switch {
		case c.Disposition != DispositionNoActionNeeded && c.Disposition != DispositionTicketCreated:
			te.Reason = "unknown disposition (want No Action Needed or Ticket Created)"
			return te
		case is.Triage != TriageClosed:
			te.Reason = "set only once the issue is Closed"
			return te
		case is.Disposition != DispositionNew && is.Disposition != "":
			te.Reason = "already set"
			return te
		}
		is.Disposition = c.Disposition
	}
	return nil
}
