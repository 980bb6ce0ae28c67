package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sqlshadow/sqlshadow/sink"
)

// SchemaError reports a Finding that breaks the contract Validate checks:
// Field names the first field that fails, in its JSON spelling.
type SchemaError struct {
	Field  string
	Reason string
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("dataset: finding field %s: %s", e.Field, e.Reason)
}

// Severity is how urgent a Finding is.
type Severity string

// The severities, least urgent first.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// HypothesisStatus is where a hypothesis stands after the evidence.
type HypothesisStatus string

// The statuses of a hypothesis.
const (
	// HypothesisPending: not enough evidence either way.
	HypothesisPending HypothesisStatus = "pending"
	// HypothesisConfirmed: every condition of the hypothesis holds in the
	// evidence.
	HypothesisConfirmed HypothesisStatus = "confirmed"
	// HypothesisRefuted: the evidence contradicts a condition.
	HypothesisRefuted HypothesisStatus = "refuted"
)

// Subject kinds (Subject.Kind).
const (
	SubjectCluster  = "cluster"
	SubjectRoute    = "route"
	SubjectTemplate = "template"
	SubjectError    = "error_code"
)

// Finding is one record of the Findings dataset: the outcome of one
// investigation of a sentinel task or a shadow report finding (package
// investigate writes them). Optional
// fields are omitted when unknown; the JSON is the dataset's contract.
type Finding struct {
	// TS is when the investigation finished.
	TS sink.Time `json:"ts"`
	// Fingerprint groups repeats: the same subject and category give the
	// same fingerprint (see FindingFingerprint).
	Fingerprint string `json:"fingerprint"`
	// Subject is what the finding is about.
	Subject Subject `json:"subject"`
	// Trigger is what started the investigation: a sentinel trigger
	// ("new_critical", ...) or a shadow finding kind ("regression", ...).
	Trigger string `json:"trigger"`
	// TaskTS is the time of the task or report investigated.
	TaskTS sink.Time `json:"task_ts"`
	// Severity is info, warning or critical.
	Severity Severity `json:"severity"`
	// Confidence in the root cause, in [0, 1].
	Confidence float64 `json:"confidence"`
	// Category names the root cause's kind (one of package investigate's
	// Category* constants, or another word a reasoner chose).
	Category string `json:"category"`
	// Title is one line for people.
	Title string `json:"title"`
	// RootCause states the cause; it starts with "Possible root cause: "
	// unless Confirmed.
	RootCause string `json:"root_cause"`
	// Confirmed is set when the root cause is established, not only likely.
	Confirmed bool `json:"confirmed"`
	// Explanation says how the evidence leads to the root cause.
	Explanation string `json:"explanation"`
	// Hypotheses are the causes considered, with their status.
	Hypotheses []Hypothesis `json:"hypotheses"`
	// Evidence are the items the finding rests on.
	Evidence []Evidence `json:"evidence"`
	// Recommendations are what to do, first things first.
	Recommendations []string `json:"recommendations"`
	// Links point at runbooks, past findings and issues.
	Links []string `json:"links,omitempty"`
	// IssueID is the issue of the issues store the finding belongs to.
	IssueID string `json:"issue_id,omitempty"`
	// Reasoner names what wrote the root cause ("rules", "anthropic").
	Reasoner string `json:"reasoner"`
	// Notes say what went wrong or was cut short during the investigation
	// (a tool that failed, the time budget, a rejected model answer).
	Notes []string `json:"notes,omitempty"`
	// ToolCalls is the log of every tool call of the investigation.
	ToolCalls []ToolCall `json:"tool_calls"`
}

// Subject is what a Finding is about: a cluster, or a route, template or
// error code of a shadow comparison.
type Subject struct {
	// Kind is one of the Subject* constants.
	Kind string `json:"kind"`
	// Cluster is the cluster's name (sentinel tasks; shadow findings when
	// known).
	Cluster string `json:"cluster,omitempty"`
	// Key is the route, template hash or error code (shadow findings).
	Key string `json:"key,omitempty"`
}

// String returns "kind:cluster" or "kind:key".
func (s Subject) String() string {
	if s.Key != "" {
		return s.Kind + ":" + s.Key
	}
	return s.Kind + ":" + s.Cluster
}

// Hypothesis is one cause considered, with the evidence for and against it
// (ids of Finding.Evidence items).
type Hypothesis struct {
	Category  string           `json:"category"`
	Statement string           `json:"statement"`
	Status    HypothesisStatus `json:"status"`
	For       []string         `json:"evidence_for,omitempty"`
	Against   []string         `json:"evidence_against,omitempty"`
}

// Evidence is one item a finding rests on.
type Evidence struct {
	// ID is unique within the finding ("e1", "e2", ...).
	ID string `json:"id"`
	// Tool is the tool that produced it.
	Tool string `json:"tool"`
	// Query is what was asked (a PromQL expression, SQL, a search).
	Query string `json:"query,omitempty"`
	// Excerpt is what was seen, short and masked.
	Excerpt string `json:"excerpt"`
	// From and To bound the time range the item covers, when it has one.
	From *sink.Time `json:"from,omitempty"`
	To   *sink.Time `json:"to,omitempty"`
	// Verify says how a person checks it.
	Verify string `json:"verify,omitempty"`
}

// ToolCall is one entry of a Finding's tool-call log.
type ToolCall struct {
	// Tool is the tool's name (one of package investigate's Tool* constants).
	Tool string `json:"tool"`
	// Input is the call's arguments.
	Input json.RawMessage `json:"input,omitempty"`
	// Start is when the call began; DurationMS how long it took.
	Start      sink.Time `json:"start"`
	DurationMS float64   `json:"duration_ms"`
	// Items is how many results it returned.
	Items int `json:"items"`
	// Error is the call's error, if it failed.
	Error string `json:"error,omitempty"`
	// By names who asked for the call: "investigator" for the fixed steps,
	// else the reasoner.
	By string `json:"by"`
}

// FindingFingerprint returns the fingerprint of a finding about subject in
// category: 16 hex characters of a SHA-256 over both, so repeats of one
// problem group whatever their times and numbers.
func FindingFingerprint(subject Subject, category string) string {
	h := sha256.Sum256([]byte(subject.Kind + "\x00" + subject.Cluster + "\x00" + subject.Key + "\x00" + category))
	return hex.EncodeToString(h[:8])
}

// Validate checks what every Finding must have: a subject, a severity of
// the three, a confidence in [0, 1], a category, a title, a root cause and
// at least one recommendation. It returns a *SchemaError naming the first
// field that fails.
func (f *Finding) Validate() error {
	switch {
	case f.Subject.Kind == "":
		return &SchemaError{Field: "subject.kind", Reason: "empty"}
	case f.Severity != SeverityInfo && f.Severity != SeverityWarning && f.Severity != SeverityCritical:
		return &SchemaError{Field: "severity", Reason: fmt.Sprintf("%q is not info, warning or critical", f.Severity)}
	case !(f.Confidence >= 0 && f.Confidence <= 1):
		return &SchemaError{Field: "confidence", Reason: fmt.Sprintf("%v is not in [0, 1]", f.Confidence)}
	case strings.TrimSpace(f.Category) == "":
		return &SchemaError{Field: "category", Reason: "empty"}
	case strings.TrimSpace(f.Title) == "":
		return &SchemaError{Field: "title", Reason: "empty"}
	case strings.TrimSpace(f.RootCause) == "":
		return &SchemaError{Field: "root_cause", Reason: "empty"}
	case len(f.Recommendations) == 0:
		return &SchemaError{Field: "recommendations", Reason: "none"}
	}
	ids := map[string]bool{}
	for i, e := range f.Evidence {
		if e.ID == "" || ids[e.ID] {
			return &SchemaError{Field: fmt.Sprintf("evidence[%d].id", i), Reason: "empty or repeated"}
		}
		ids[e.ID] = true
	}
	for i, h := range f.Hypotheses {
		if h.Status != HypothesisPending && h.Status != HypothesisConfirmed && h.Status != HypothesisRefuted {
			return &SchemaError{Field: fmt.Sprintf("hypotheses[%d].status", i), Reason: fmt.Sprintf("%q is not pending, confirmed or refuted", h.Status)}
		}
		for _, id := range append(append([]string(nil), h.For...), h.Against...) {
			if !ids[id] {
				return &SchemaError{Field: fmt.Sprintf("hypotheses[%d]", i), Reason: "evidence id " + id + " not in evidence"}
			}
		}
	}
	return nil
}
