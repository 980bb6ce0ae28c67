package investigate

import (
	"context"
	"errors"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/issues"
)

// Tool names, as they appear in the tool-call log and to a model.
const (
	ToolClusterInfo = "cluster_info"
	ToolAlerts      = "alerts"
	ToolMetrics     = "metrics"
	ToolOperations  = "operations"
	ToolKnowledge   = "knowledge_search"
	ToolPast        = "past_investigations"
	ToolSiblings    = "sibling_clusters"
	ToolSQL         = "sql"
	ToolShadow      = "shadow_side"
)

// Errors of the package.
var (
	// ErrNotFound: the cluster (or other thing asked for) is unknown.
	ErrNotFound = errors.New("investigate: not found")
	// ErrNotReadOnly: the ad-hoc SQL tool refused a statement that is not a
	// single read-only query.
	ErrNotReadOnly = errors.New("investigate: statement is not a single read-only query")
	// ErrNoTool: the investigation needs a tool that was not configured.
	ErrNoTool = errors.New("investigate: tool not configured")
	// ErrBadModelAnswer: the model reasoner's answer is not a valid Finding.
	ErrBadModelAnswer = errors.New("investigate: model answer is not a valid finding")
)

// Cluster describes one cluster: what the cluster-info step returns.
type Cluster struct {
	Name string `json:"name"`
	// Tier is the business tier (S, A, B, C), when known.
	Tier string `json:"tier,omitempty"`
	// Account owns the cluster; clusters of one account are siblings.
	Account string `json:"account,omitempty"`
	// Version is the engine version; clusters on one version are siblings
	// too.
	Version string `json:"version,omitempty"`
	// Region and Labels are free-form context.
	Region string            `json:"region,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
}

// Clusters is the cluster-info and sibling-cluster steps.
type Clusters interface {
	// Cluster returns the cluster named name, or an error matching
	// ErrNotFound.
	Cluster(ctx context.Context, name string) (Cluster, error)
	// Siblings returns the other clusters of the same account or version.
	Siblings(ctx context.Context, name string) ([]Cluster, error)
}

// Alerts is the alerts step: the issues of a cluster open at any time in
// [from, to].
type Alerts interface {
	Alerts(ctx context.Context, cluster string, from, to time.Time) ([]issues.Issue, error)
}

// Series is one time series of a range query.
type Series struct {
	Labels map[string]string `json:"labels,omitempty"`
	Points []Point           `json:"points"`
}

// Point is one sample.
type Point struct {
	T time.Time `json:"t"`
	V float64   `json:"v"`
}

// Metrics is the metrics step: a PromQL range query.
type Metrics interface {
	Range(ctx context.Context, query string, from, to time.Time, step time.Duration) ([]Series, error)
}

// Operation kinds (Operation.Kind).
const (
	OpStart  = "START"
	OpStop   = "STOP"
	OpUpdate = "UPDATE"
)

// Operation is one operation event on a cluster: a start, stop or update
// (an upgrade or a configuration change).
type Operation struct {
	TS      time.Time `json:"ts"`
	Cluster string    `json:"cluster"`
	// Kind is START, STOP or UPDATE.
	Kind string `json:"kind"`
	// Detail says what was done ("upgrade 3.2.11 -> 3.3.5").
	Detail string `json:"detail,omitempty"`
	// Actor is who did it.
	Actor string `json:"actor,omitempty"`
}

// Operations is the operations step.
type Operations interface {
	Operations(ctx context.Context, cluster string, from, to time.Time) ([]Operation, error)
}

// FindingFilter selects past findings. Zero fields match everything.
type FindingFilter struct {
	Cluster     string
	Fingerprint string
	// Since keeps findings with TS at or after it.
	Since time.Time
	// Limit caps the number returned, newest first; 0 means 20.
	Limit int
}

// FindingStore keeps findings: the past-investigations step reads it and
// the investigator's callers write to it.
type FindingStore interface {
	Put(ctx context.Context, f *dataset.Finding) error
	// Findings returns the findings matching filter, newest first.
	Findings(ctx context.Context, filter FindingFilter) ([]dataset.Finding, error)
}

// Hit is one result of a knowledge search.
type Hit struct {
	// Path is the document's path relative to the knowledge directory.
	Path  string  `json:"path"`
	Title string  `json:"title"`
	Score float64 `json:"score"`
	// Snippet is the start of the document's best section.
	Snippet string `json:"snippet,omitempty"`
	// Document is the whole document.
	Document *Document `json:"-"`
}

// Knowledge is the knowledge-base step: runbooks, on-call notes, known bugs
// by version and proven resolutions.
type Knowledge interface {
	Search(ctx context.Context, query string, limit int) ([]Hit, error)
}

// Rows is the result of an ad-hoc query.
type Rows struct {
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
	// Truncated is set when more rows were there than the limit.
	Truncated bool `json:"truncated,omitempty"`
}

// Querier is the ad-hoc SQL step: one read-only query, time- and
// row-limited.
type Querier interface {
	Query(ctx context.Context, query string) (Rows, error)
}

// SideBySide is what the shadow-side step returns for one statement: both
// sides' EXPLAIN and the system variables that differ.
type SideBySide struct {
	PrimaryPlan Rows `json:"primary_plan"`
	ShadowPlan  Rows `json:"shadow_plan"`
	// Variables maps each variable whose value differs to its primary and
	// shadow values.
	Variables map[string][2]string `json:"variables,omitempty"`
}

// ShadowSide is the shadow-side step: EXPLAIN of a statement on both sides
// and the variable drift between them.
type ShadowSide interface {
	Compare(ctx context.Context, query string) (SideBySide, error)
}

// Tools are the tools of an investigation. A nil tool is skipped, and the
// Finding notes it.
type Tools struct {
	Clusters   Clusters
	Alerts     Alerts
	Metrics    Metrics
	Operations Operations
	Knowledge  Knowledge
	Past       FindingStore
	SQL        Querier
	Shadow     ShadowSide
}
