package baseline

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/sqlshadow/sqlshadow/compare"
	"github.com/sqlshadow/sqlshadow/compare/plan"
)

// ReportSchemaVersion is the version of the Report JSON schema.
// It changes only when a field changes meaning or disappears; new fields may
// appear within a version.
const ReportSchemaVersion = 1

// Report is the evidence and verdict of one Harness run. Its JSON
// form (WriteJSON) is the contract for automated callers:
//
//	verdict         "pass" | "fail" | "inconclusive"
//	reasons         why, one sentence each, most important first
//	engine          "mariadb" | "mysql" | "starrocks"; server_version
//	baseline, candidate:
//	                sql, query_hash, template_hash, error, error_code, columns,
//	                row_count, first_rows (baseline), durations_ms, median_ms,
//	                plan (tree: op, table, detail, children), plan_text,
//	                stats (engine statistics), run_errors, unstable
//	rows            equal, columns_equal, ordered, order_equal, baseline_only,
//	                candidate_only, examples [{side, row, position}]
//	latency         baseline_median_ms, candidate_median_ms, ratio, ci_low,
//	                ci_high, runs, sufficient
//	plan_changes    [{kind, path, before, after}] (empty: same plan)
//	stats_delta     candidate - baseline per statistic
//	schema          [{table, create_table}] of the tables the plans read
type Report struct {
	SchemaVersion int `json:"schema_version"`
	// Outcome is the verdict; Reasons say why.
	Outcome       compare.Verdict `json:"verdict"`
	Reasons       []string        `json:"reasons"`
	Engine        string          `json:"engine"`
	ServerVersion string          `json:"server_version"`
	Tolerance     float64         `json:"tolerance"`
	Runs          int             `json:"runs"`
	Warmup        int             `json:"warmup"`

	Baseline  Side `json:"baseline"`
	Candidate Side `json:"candidate"`

	Rows        RowsComparison     `json:"rows"`
	Latency     LatencyComparison  `json:"latency"`
	PlanChanges []plan.Change      `json:"plan_changes"`
	StatsDelta  map[string]float64 `json:"stats_delta,omitempty"`
	Schema      []TableSchema      `json:"schema,omitempty"`
}

// Side is what one side (baseline or candidate) did.
type Side struct {
	SQL          string      `json:"sql"`
	QueryHash    string      `json:"query_hash"`
	TemplateHash string      `json:"template_hash"`
	Error        string      `json:"error,omitempty"`
	ErrorCode    uint16      `json:"error_code,omitempty"`
	Columns      []string    `json:"columns,omitempty"`
	RowCount     int         `json:"row_count"`
	FirstRows    [][]*string `json:"first_rows,omitempty"`
	DurationsMS  []float64   `json:"durations_ms,omitempty"`
	MedianMS     float64     `json:"median_ms"`
	// RunErrors counts measured or warm-up runs that failed; Unstable is
	// set when a run returned another row count than the first.
	RunErrors  int                `json:"run_errors,omitempty"`
	Unstable   bool               `json:"unstable,omitempty"`
	Plan       *plan.Node         `json:"plan,omitempty"`
	PlanText   string             `json:"plan_text,omitempty"`
	PlanError  string             `json:"plan_error,omitempty"`
	Stats      map[string]float64 `json:"stats,omitempty"`
	StatsError string             `json:"stats_error,omitempty"`
}

// TableSchema is the SHOW CREATE TABLE of a table the plans read.
type TableSchema struct {
	Table       string `json:"table"`
	CreateTable string `json:"create_table,omitempty"`
	Error       string `json:"error,omitempty"`
}

// Verdict implements compare.Result.
func (r *Report) Verdict() compare.Verdict { return r.Outcome }

// Summary implements compare.Result: the first of Reasons.
func (r *Report) Summary() string {
	if len(r.Reasons) == 0 {
		return ""
	}
	return r.Reasons[0]
}

// Details implements compare.Result: the rest of Reasons.
func (r *Report) Details() []string {
	if len(r.Reasons) < 2 {
		return nil
	}
	return r.Reasons[1:]
}

// The report's formats.
var (
	_ compare.JSONWriter     = (*Report)(nil)
	_ compare.MarkdownWriter = (*Report)(nil)
)

// decide sets the verdict: fail when rows or errors differ or the latency
// interval lies above 1 + tolerance; pass when rows are equal and the
// interval's upper bound is at most 1 + tolerance; otherwise inconclusive.
func (r *Report) decide(o Options) {
	var fail, inconclusive []string
	b, c := r.Baseline, r.Candidate
	limit := 1 + o.Tolerance
	switch {
	case b.Error != "" && c.Error != "":
		if b.ErrorCode == c.ErrorCode {
			inconclusive = append(inconclusive, fmt.Sprintf("both statements fail (error %d): nothing to compare", b.ErrorCode))
		} else {
			fail = append(fail, fmt.Sprintf("the statements fail differently: baseline error %d, candidate error %d", b.ErrorCode, c.ErrorCode))
		}
	case c.Error != "":
		fail = append(fail, fmt.Sprintf("the candidate fails: %s", c.Error))
	case b.Error != "":
		fail = append(fail, fmt.Sprintf("the baseline fails but the candidate does not: %s", b.Error))
	default:
		if !r.Rows.Equal {
			switch {
			case !r.Rows.ColumnsEqual:
				fail = append(fail, fmt.Sprintf("the columns differ in number or kind: baseline %v, candidate %v", b.Columns, c.Columns))
			case r.Rows.BaselineOnly+r.Rows.CandidateOnly > 0:
				fail = append(fail, fmt.Sprintf("the rows differ: %d only in the baseline, %d only in the candidate", r.Rows.BaselineOnly, r.Rows.CandidateOnly))
			default:
				fail = append(fail, "the rows are the same but their order differs")
			}
		}
		if b.RunErrors+c.RunErrors > 0 {
			fail = append(fail, fmt.Sprintf("runs failed: %d baseline, %d candidate", b.RunErrors, c.RunErrors))
		}
		l := r.Latency
		switch {
		case l.Runs == 0:
			inconclusive = append(inconclusive, "no successful measured runs")
		case !l.Sufficient:
			// A bootstrap of a handful of runs says nothing either way.
			inconclusive = append(inconclusive, fmt.Sprintf("too few runs to judge latency: %d, need %d", l.Runs, o.MinRuns))
		case l.CILow > limit:
			fail = append(fail, fmt.Sprintf("the candidate is slower: median ratio %.2f (95%% CI %.2f-%.2f) above %.2f", l.Ratio, l.CILow, l.CIHigh, limit))
		case l.CIHigh > limit:
			inconclusive = append(inconclusive, fmt.Sprintf("latency not shown within tolerance: median ratio %.2f, 95%% CI %.2f-%.2f reaches above %.2f", l.Ratio, l.CILow, l.CIHigh, limit))
		}
	}
	switch {
	case len(fail) > 0:
		r.Outcome, r.Reasons = compare.VerdictFail, append(fail, inconclusive...)
	case len(inconclusive) > 0:
		r.Outcome, r.Reasons = compare.VerdictInconclusive, inconclusive
	default:
		r.Outcome = compare.VerdictPass
		r.Reasons = []string{fmt.Sprintf("same rows; median ratio %.2f (95%% CI %.2f-%.2f) within %.2f", r.Latency.Ratio, r.Latency.CILow, r.Latency.CIHigh, limit)}
	}
	if r.Rows.NamesDiffer {
		r.Reasons = append(r.Reasons, fmt.Sprintf("note: column names differ (baseline %v, candidate %v); values compared by position", b.Columns, c.Columns))
	}
	if len(r.PlanChanges) > 0 {
		r.Reasons = append(r.Reasons, fmt.Sprintf("the plan changed: %s", r.PlanChanges[0]))
	}
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteMarkdown writes the report for people.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Baseline comparison: %s\n\n", strings.ToUpper(string(r.Outcome)))
	for _, reason := range r.Reasons {
		fmt.Fprintf(&b, "- %s\n", reason)
	}
	fmt.Fprintf(&b, "\nEngine: %s %s. %d measured runs per side after %d warm-up runs, alternating; tolerance %.0f%%.\n\n",
		r.Engine, r.ServerVersion, r.Runs, r.Warmup, r.Tolerance*100)
	b.WriteString("| | baseline | candidate |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| query_hash | `%s` | `%s` |\n", r.Baseline.QueryHash, r.Candidate.QueryHash)
	fmt.Fprintf(&b, "| rows | %d | %d |\n", r.Baseline.RowCount, r.Candidate.RowCount)
	fmt.Fprintf(&b, "| median latency | %.3f ms | %.3f ms |\n", r.Baseline.MedianMS, r.Candidate.MedianMS)
	if r.Baseline.Error != "" || r.Candidate.Error != "" {
		fmt.Fprintf(&b, "| error | %s | %s |\n", cell(r.Baseline.Error), cell(r.Candidate.Error))
	}
	for _, k := range plan.SortedKeys(r.Baseline.Stats, r.Candidate.Stats) {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", k, statCell(r.Baseline.Stats, k), statCell(r.Candidate.Stats, k))
	}
	b.WriteString("\n## Rows\n\n")
	switch {
	case r.Rows.Equal && r.Rows.Ordered:
		b.WriteString("Same rows, in the same order (up to ties).\n")
	case r.Rows.Equal:
		b.WriteString("Same rows (compared as multisets: the query does not order its output).\n")
	default:
		fmt.Fprintf(&b, "Rows differ: %d only in the baseline, %d only in the candidate.\n\n", r.Rows.BaselineOnly, r.Rows.CandidateOnly)
		if len(r.Rows.Examples) > 0 {
			b.WriteString("| side | position | row |\n|---|---|---|\n")
			for _, e := range r.Rows.Examples {
				fmt.Fprintf(&b, "| %s | %d | %s |\n", e.Side, e.Position, cell(rowText(e.Row)))
			}
		}
	}
	b.WriteString("\n## Latency\n\n")
	l := r.Latency
	fmt.Fprintf(&b, "Median ratio candidate/baseline: **%.3f** (95%% bootstrap CI %.3f-%.3f, %d runs).\n", l.Ratio, l.CILow, l.CIHigh, l.Runs)
	b.WriteString("\n## Plan\n\n")
	switch {
	case r.PlanChanges == nil:
		fmt.Fprintf(&b, "Plans not compared (baseline: %s; candidate: %s).\n", dash(r.Baseline.PlanError), dash(r.Candidate.PlanError))
	case len(r.PlanChanges) == 0:
		b.WriteString("Same plan.\n")
	default:
		for _, c := range r.PlanChanges {
			fmt.Fprintf(&b, "- %s\n", c)
		}
		fmt.Fprintf(&b, "\nBaseline plan:\n\n```\n%s```\n\nCandidate plan:\n\n```\n%s```\n", r.Baseline.Plan.Render(), r.Candidate.Plan.Render())
	}
	if len(r.Schema) > 0 {
		b.WriteString("\n## Schema captured\n\n")
		for _, s := range r.Schema {
			fmt.Fprintf(&b, "```sql\n%s\n```\n", dash(s.CreateTable))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func rowText(row []*string) string {
	parts := make([]string, len(row))
	for i, v := range row {
		if v == nil {
			parts[i] = "NULL"
		} else {
			parts[i] = *v
		}
	}
	return strings.Join(parts, ", ")
}

func cell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func statCell(m map[string]float64, k string) string {
	v, ok := m[k]
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.6g", v)
}
