package shadow

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sqlshadow/sqlshadow/compare"
)

// ReportSchema identifies the JSON schema of Report; it is the
// value of the report's "schema" field. The version changes only when a
// field is removed or changes meaning; new fields may appear within a
// version, so readers must ignore fields they do not know.
const ReportSchema = "sqlshadow.shadow-report/v1"

// Finding kinds (Finding.Kind).
const (
	// FindingRegression: a group is slower on the shadow (P50 and/or P99
	// ratio >= the threshold, significant after adjustment).
	FindingRegression = "regression"
	// FindingShadowFailure: statements that succeeded on the primary failed
	// on the shadow, one finding per error code.
	FindingShadowFailure = "shadow_failure"
	// FindingResultMismatch: statements whose answers differ (same columns,
	// different result hash) and no noise explains it, one finding per group.
	FindingResultMismatch = "result_mismatch"
	// FindingColumnDifference: statements whose result columns (names or
	// types) differ between the sides, one finding per group.
	FindingColumnDifference = "column_difference"
	// FindingWindowRegression: in before/after mode, a group slower in the
	// after window.
	FindingWindowRegression = "window_regression"
)

// Group statuses (GroupReport.Status, QuantileTest.Status).
const (
	StatusRegression   = "regression"
	StatusImprovement  = "improvement"
	StatusNoChange     = "no_change"
	StatusInsufficient = "insufficient_data"
)

// Noise kinds (NoiseReport.Kind).
const (
	// NoiseNonDeterministic: the statement's answer depends on when or where
	// it runs (NOW(), RAND(), UUID(), CONNECTION_ID(), ...).
	NoiseNonDeterministic = "non_deterministic"
	// NoisePrimaryVaries: the primary itself gave different answers to the
	// same query text (data changing under the reads, unordered LIMIT, ...).
	NoisePrimaryVaries = "primary_varies"
	// NoiseFloatColumns: the result has FLOAT/DOUBLE columns; the difference
	// may be rounding.
	NoiseFloatColumns = "float_columns"
	// NoiseSmallSample: a group looks slower or faster but has fewer pairs
	// than the tests need.
	NoiseSmallSample = "small_sample"
)

// Report is the result of the shadow analysis: what got slower, what
// fails only on the shadow, which answers differ, and what is only noise. It
// is the JSON document described by ReportSchema: every field below is
// part of that schema, with the JSON name in its tag. Durations are in
// milliseconds, times in RFC 3339 UTC, ratios are shadow/primary (or
// after/before), p-values are two-sided.
type Report struct {
	// Schema is ReportSchema.
	Schema string `json:"schema"`
	// GeneratedAt is when the report was made.
	GeneratedAt time.Time `json:"generated_at"`
	// Mode is "shadow" (primary vs shadow) or "before_after" (two windows
	// of one side).
	Mode string `json:"mode"`
	// Outcome is the verdict: "fail" when Findings is not empty, "pass"
	// when it is and at least one group had enough data, else
	// "inconclusive".
	Outcome compare.Verdict `json:"verdict"`
	// SummaryLine is a one-line summary for people, without the verdict
	// (Summary returns it).
	SummaryLine string `json:"summary"`
	// Window is the time range analysed.
	Window ReportWindow `json:"window"`
	// Settings are the thresholds the verdict used.
	Settings ReportSettings `json:"settings"`
	// Input is what was read: objects, lines, and what could not be read.
	Input ReportInput `json:"input"`
	// Counts are record counts, including what was excluded and why.
	Counts ReportCounts `json:"counts"`
	// Findings are the things a person must look at; empty on a pass.
	Findings []Finding `json:"findings"`
	// Groups holds every group (route or template), most significant first.
	Groups []GroupReport `json:"groups"`
	// Failures are the shadow-only failures by error code.
	Failures []FailureReport `json:"failures"`
	// Mismatches are the result mismatches not explained by noise, by group.
	Mismatches []MismatchReport `json:"mismatches"`
	// ColumnDifferences are the mismatches where the columns differ too.
	ColumnDifferences []MismatchReport `json:"column_differences"`
	// Noise is what looked like a difference but is not evidence of one.
	Noise []NoiseReport `json:"noise"`
	// Windows is the before/after comparison, in that mode only.
	Windows *WindowsReport `json:"windows,omitempty"`
	// Notes are remarks about the analysis itself (window clamped by the
	// grace period, limits reached, ...).
	Notes []string `json:"notes,omitempty"`
}

// Verdict implements compare.Result.
func (r *Report) Verdict() compare.Verdict { return r.Outcome }

// Summary implements compare.Result.
func (r *Report) Summary() string { return r.SummaryLine }

// Details implements compare.Result: one line per finding, "kind: title".
func (r *Report) Details() []string {
	d := make([]string, len(r.Findings))
	for i, f := range r.Findings {
		d[i] = f.Kind + ": " + f.Title
	}
	return d
}

// The report's formats.
var (
	_ compare.JSONWriter     = (*Report)(nil)
	_ compare.MarkdownWriter = (*Report)(nil)
	_ compare.HTMLWriter     = (*Report)(nil)
)

// ReportWindow is the analysed time range.
type ReportWindow struct {
	// From is the inclusive start (zero: the beginning of the data).
	From time.Time `json:"from"`
	// To is the exclusive end requested (zero: the end of the data).
	To time.Time `json:"to"`
	// EffectiveTo is To after the grace period: the newest hour is only
	// analysed once it is complete.
	EffectiveTo time.Time `json:"effective_to"`
	// GraceSeconds is the grace period used.
	GraceSeconds float64 `json:"grace_seconds"`
	// Objects is the number of log objects read.
	Objects int `json:"objects"`
}

// ReportInput is what the analysis read, query logs and profiles together.
// It follows package sink's skip-and-count rules: a malformed line, an
// object that vanished between listing and reading, a corrupt compressed
// object or one that fails to read is counted (and listed) here, never an
// error; the records read before the damage are analysed.
type ReportInput struct {
	// Objects is the number of objects listed; Read, those read to the end.
	Objects int   `json:"objects"`
	Read    int64 `json:"read"`
	// Lines is the number of non-blank lines read; MalformedLines, those
	// that were not one JSON object or did not decode as a record.
	Lines          int64 `json:"lines"`
	MalformedLines int64 `json:"malformed_lines"`
	// UnreadableObjects is the number of objects that could not be read, or
	// not to their end; Unreadable lists them by key (at most 100).
	UnreadableObjects int                `json:"unreadable_objects"`
	Unreadable        []UnreadableObject `json:"unreadable"`
}

// UnreadableObject is one object that could not be read, or not to its end.
type UnreadableObject struct {
	Key string `json:"key"`
	// Reason is UnreadableVanished, UnreadableCorrupt or UnreadableError.
	Reason string `json:"reason"`
	// Error is the error's text.
	Error string `json:"error"`
}

// ReportSettings are the thresholds of the analysis.
type ReportSettings struct {
	Ratio              float64 `json:"ratio"`
	Alpha              float64 `json:"alpha"`
	MinPairs           int     `json:"min_pairs_p50"`
	MinTailPairs       int     `json:"min_pairs_p99"`
	Reservoir          int     `json:"reservoir"`
	BootstrapResamples int     `json:"bootstrap_resamples"`
	Seed               uint64  `json:"seed"`
}

// ReportCounts counts records, including the excluded ones.
type ReportCounts struct {
	// Records is every decoded record.
	Records int64 `json:"records"`
	// Malformed query-log lines were not one JSON object or could not be
	// decoded as a record, and were skipped.
	Malformed int64 `json:"malformed"`
	// OutOfWindow records were outside the analysed time range.
	OutOfWindow int64 `json:"out_of_window"`
	// Primary and Shadow count the records of each target in the window.
	Primary int64 `json:"primary"`
	Shadow  int64 `json:"shadow"`
	// Paired counts shadow records where both sides succeeded and the
	// primary's duration was known: the latency tests' observations.
	Paired int64 `json:"paired"`
	// PairedByQueryID counts shadow records that did not carry the
	// primary's outcome (no primary_* fields, as the open-source StarRocks
	// shadow proxy writes them) and were paired with the primary record of
	// the same query_id.
	PairedByQueryID int64 `json:"paired_by_query_id"`
	// UnpairedPrimary counts primary records for which no shadow record of
	// the same query_id was found within Options.PairWindow; UnpairedShadow,
	// shadow records without the primary's outcome whose primary record was
	// not found (they count on the shadow side, and are not compared).
	// PairingOverflow counts those of them given up early because the
	// pairing window held Options.MaxPending records.
	UnpairedPrimary int64 `json:"unpaired_primary"`
	UnpairedShadow  int64 `json:"unpaired_shadow"`
	PairingOverflow int64 `json:"pairing_overflow"`
	// Filtered, Dropped and Diverged shadow records are excluded from every
	// verdict.
	Filtered int64 `json:"filtered"`
	Dropped  int64 `json:"dropped"`
	Diverged int64 `json:"diverged"`
	// UnknownTarget records had a target other than primary or shadow.
	UnknownTarget int64 `json:"unknown_target"`
	// ShadowOnlyFailures: primary succeeded, shadow failed.
	ShadowOnlyFailures int64 `json:"shadow_only_failures"`
	// PrimaryOnlyFailures: primary failed, shadow succeeded (not a finding).
	PrimaryOnlyFailures int64 `json:"primary_only_failures"`
	// Mismatches: both succeeded with different result hashes, noise included.
	Mismatches int64 `json:"mismatches"`
	// UntrackedQueries counts records whose query hash could not be tracked
	// (Options.MaxTrackedQueries reached); UntrackedMismatches,
	// mismatches not reported for the same reason.
	UntrackedQueries    int64 `json:"untracked_queries"`
	UntrackedMismatches int64 `json:"untracked_mismatches"`
	// Profiles counts the statement profiles of either side read from the
	// profiles dataset; ProfilesJoined, those joined to a query-log
	// execution (the others are traffic the proxy did not see).
	Profiles       int64 `json:"profiles"`
	ProfilesJoined int64 `json:"profiles_joined"`
}

// Finding is one thing a person must look at.
type Finding struct {
	// Kind is one of the Finding* constants.
	Kind string `json:"kind"`
	// Group is the group label ("route:NAME" or "template:HASH"); empty for
	// shadow failures, which are by error code.
	Group string `json:"group,omitempty"`
	// ErrorCode is set for shadow failures (0: no error code, an I/O error
	// or a log that writes none, such as the open-source StarRocks shadow
	// proxy's).
	ErrorCode *int64 `json:"error_code,omitempty"`
	// Title is a short description.
	Title string `json:"title"`
	// Evidence is the numbers behind it, for people.
	Evidence string `json:"evidence"`
}

// GroupReport is one group: a route, or a template hash when the statement
// has no route.
type GroupReport struct {
	// Label is "route:NAME" or "template:HASH", unique in the report.
	Label string `json:"label"`
	// Key is the route or template hash; KeyKind says which ("route",
	// "template").
	Key     string `json:"key"`
	KeyKind string `json:"key_kind"`
	// Example is one query of the group (truncated).
	Example string `json:"example,omitempty"`
	// Status is the group's verdict: regression, improvement, no_change or
	// insufficient_data.
	Status string `json:"status"`
	// Primary and Shadow describe each side's commands (in before/after
	// mode: Primary is the before window, Shadow the after window).
	Primary SideStats `json:"primary"`
	Shadow  SideStats `json:"shadow"`
	// Pairs is the number of paired observations; Sampled how many of them
	// the reservoir kept for the tests.
	Pairs   int64 `json:"pairs"`
	Sampled int   `json:"sampled"`
	// P50 and P99 are the tests (absent when not applicable).
	P50 *QuantileTest `json:"p50,omitempty"`
	P99 *QuantileTest `json:"p99,omitempty"`
	// Excluded shadow records of the group.
	Filtered int64 `json:"filtered"`
	Dropped  int64 `json:"dropped"`
	Diverged int64 `json:"diverged"`
	// ShadowOnlyFailures and PrimaryOnlyFailures of the group.
	ShadowOnlyFailures  int64 `json:"shadow_only_failures"`
	PrimaryOnlyFailures int64 `json:"primary_only_failures"`
	// Histogram is the latency distribution of both sides, for charts.
	Histogram *Histogram `json:"histogram,omitempty"`
	// Profiles are the engine statistics of the group's statements on each
	// side, from the profiles dataset: where the time went.
	Profiles *GroupProfiles `json:"profiles,omitempty"`
}

// GroupProfiles are the joined profiles of one group.
type GroupProfiles struct {
	Primary ProfileStats `json:"primary"`
	Shadow  ProfileStats `json:"shadow"`
}

// ProfileStats are means per statement of the joined profiles of one side;
// a statistic the engine did not report is absent.
type ProfileStats struct {
	// Count is the number of joined statement profiles.
	Count          int64    `json:"count"`
	MeanDurationMS *float64 `json:"mean_duration_ms,omitempty"`
	MeanPendingMS  *float64 `json:"mean_pending_ms,omitempty"`
	MeanCPUMS      *float64 `json:"mean_cpu_ms,omitempty"`
	MeanScanRows   *float64 `json:"mean_scan_rows,omitempty"`
	MeanScanBytes  *float64 `json:"mean_scan_bytes,omitempty"`
	MeanMemBytes   *float64 `json:"mean_mem_bytes,omitempty"`
	MeanSpillBytes *float64 `json:"mean_spill_bytes,omitempty"`
}

// SideStats describes one side of a group.
type SideStats struct {
	// Count is the number of commands; Errors the failed ones.
	Count     int64   `json:"count"`
	Errors    int64   `json:"errors"`
	ErrorRate float64 `json:"error_rate"`
	// Sampled is how many successful durations the quantiles come from
	// (all of them up to the reservoir size, a uniform sample beyond).
	Sampled int `json:"sampled"`
	// Quantiles of duration_ms of successful commands (primary: minus
	// client_wait_ms); 0 when Sampled is 0.
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
}

// QuantileTest is one latency test of a group.
type QuantileTest struct {
	// Test is "wilcoxon_signed_rank" (P50, paired, on log(shadow/primary)),
	// "bootstrap" (P99 ratio, paired resampling) or "mann_whitney_u"
	// (before/after, unpaired).
	Test string `json:"test"`
	// N is the number of observations the test used.
	N int `json:"n"`
	// Ratio is shadow/primary (after/before) of the quantile.
	Ratio float64 `json:"ratio"`
	// CILow and CIHigh bound the ratio's bootstrap confidence interval at
	// level 1-alpha (P99 only).
	CILow  float64 `json:"ci_low,omitempty"`
	CIHigh float64 `json:"ci_high,omitempty"`
	// P is the two-sided p-value; PAdjusted the Benjamini-Hochberg adjusted
	// one across every test of the report.
	P         float64 `json:"p"`
	PAdjusted float64 `json:"p_adjusted"`
	// Status is regression, improvement or no_change.
	Status string `json:"status"`
}

// Histogram is a latency distribution on logarithmic bins: bin i counts
// durations in [Edges[i], Edges[i+1]) ms, from the sampled durations.
type Histogram struct {
	Edges   []float64 `json:"edges_ms"`
	Primary []int     `json:"primary"`
	Shadow  []int     `json:"shadow"`
}

// FailureReport is the shadow-only failures of one error code.
type FailureReport struct {
	// ErrorCode is the server's error code; 0 means none was logged (an I/O
	// error, or a log without error_code).
	ErrorCode int64 `json:"error_code"`
	// Count is the number of failed statements.
	Count int64 `json:"count"`
	// Groups are the groups they came from, most frequent first.
	Groups []GroupCount `json:"groups"`
	// Examples are statements with distinct query hashes.
	Examples []Example `json:"examples"`
}

// GroupCount is a count within one group.
type GroupCount struct {
	Group string `json:"group"`
	Count int64  `json:"count"`
}

// Example is one example statement.
type Example struct {
	QueryID   string `json:"query_id,omitempty"`
	QueryHash string `json:"query_hash,omitempty"`
	// Query is the statement text (truncated; empty when redacted).
	Query string `json:"query,omitempty"`
	// Error is the shadow's error message, for failures.
	Error string `json:"error,omitempty"`
	// PrimaryResultHash and ShadowResultHash, for mismatches.
	PrimaryResultHash string `json:"primary_result_hash,omitempty"`
	ShadowResultHash  string `json:"shadow_result_hash,omitempty"`
	// Count is how many records of this query hash it stands for.
	Count int64 `json:"count,omitempty"`
}

// MismatchReport is the result mismatches of one group.
type MismatchReport struct {
	Group string `json:"group"`
	// Count is the number of mismatching statements; QueryHashes the number
	// of distinct query texts among them.
	Count       int64 `json:"count"`
	QueryHashes int   `json:"query_hashes"`
	// Examples are statements with distinct query hashes.
	Examples []Example `json:"examples"`
}

// NoiseReport is one kind of noise in one group: something that looked like
// a difference but is not evidence of one.
type NoiseReport struct {
	// Kind is one of the Noise* constants.
	Kind  string `json:"kind"`
	Group string `json:"group"`
	// Reason explains it (e.g. the non-deterministic function found).
	Reason string `json:"reason"`
	// Count is the number of statements (or pairs, for small_sample).
	Count    int64     `json:"count"`
	Examples []Example `json:"examples,omitempty"`
}

// WindowsReport describes the before/after mode.
type WindowsReport struct {
	// Target is the side compared ("shadow" or "primary").
	Target      string    `json:"target"`
	BeforeFrom  time.Time `json:"before_from"`
	BeforeTo    time.Time `json:"before_to"`
	AfterFrom   time.Time `json:"after_from"`
	AfterTo     time.Time `json:"after_to"`
	Regressions int       `json:"regressions"`
}

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("shadow: write JSON report: %w", err)
	}
	return nil
}

// ReadReport decodes a report written by WriteJSON, checking its
// schema version.
func ReadReport(rd io.Reader) (*Report, error) {
	var r Report
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return nil, fmt.Errorf("shadow: read JSON report: %w", err)
	}
	if r.Schema != ReportSchema {
		return nil, fmt.Errorf("shadow: report schema %q, want %q", r.Schema, ReportSchema)
	}
	return &r, nil
}

// findingsSummary builds the one-line summary.
func findingsSummary(r *Report) string {
	if len(r.Findings) == 0 {
		switch r.Outcome {
		case compare.VerdictInconclusive:
			return "no findings, but no group had enough data"
		default:
			return fmt.Sprintf("no findings in %d groups", len(r.Groups))
		}
	}
	byKind := map[string]int{}
	var order []string
	for _, f := range r.Findings {
		if byKind[f.Kind] == 0 {
			order = append(order, f.Kind)
		}
		byKind[f.Kind]++
	}
	parts := make([]string, 0, len(order))
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%d %s", byKind[k], strings.ReplaceAll(k, "_", " ")))
	}
	s := "s"
	if len(r.Findings) == 1 {
		s = ""
	}
	return fmt.Sprintf("%d finding%s: %s", len(r.Findings), s, strings.Join(parts, ", "))
}
