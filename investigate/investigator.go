package investigate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sqlshadow/sqlshadow/compare/shadow"
	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/issues"
	"github.com/sqlshadow/sqlshadow/sink"
)

// Task is what an investigation starts from: a sentinel task, or one
// finding of a shadow report. Exactly one of Sentinel and Shadow is set.
type Task struct {
	Sentinel *dataset.SentinelTask
	Shadow   *ShadowTask
}

// ShadowTask is one finding of a shadow report.
type ShadowTask struct {
	Report  *shadow.Report
	Finding shadow.Finding
	// Cluster is the shadow cluster's name, when known: the cluster steps
	// then run for it too.
	Cluster string
}

// ShadowTasks returns one task per finding of report.
func ShadowTasks(report *shadow.Report, cluster string) []Task {
	out := make([]Task, 0, len(report.Findings))
	for _, f := range report.Findings {
		out = append(out, Task{Shadow: &ShadowTask{Report: report, Finding: f, Cluster: cluster}})
	}
	return out
}

// Reasoner turns the evidence of a Case into a Finding.
type Reasoner interface {
	// Reason returns the Finding for c. It may call the case's tools
	// (Case.Call); every call is logged in the case.
	Reason(ctx context.Context, c *Case) (*dataset.Finding, error)
}

// ReasonerFunc adapts a function to Reasoner.
type ReasonerFunc func(ctx context.Context, c *Case) (*dataset.Finding, error)

// Reason implements Reasoner.
func (f ReasonerFunc) Reason(ctx context.Context, c *Case) (*dataset.Finding, error) {
	return f(ctx, c)
}

// Options configures an Investigator.
type Options struct {
	// Budget bounds one investigation: steps still to run when it is spent
	// are skipped (and noted), and the finding is written from what was
	// gathered. Default 2 minutes.
	Budget time.Duration
	// Window is how far before the task the metrics, alerts and siblings
	// are read. Default 3 hours.
	Window time.Duration
	// OperationsLookback is how far before the task operations are read.
	// Default 24 hours.
	OperationsLookback time.Duration
	// Step is the metrics' resolution. Default 1 minute.
	Step time.Duration
	// RateWindow fills QueryWindow in metric queries. Default 5 minutes.
	RateWindow time.Duration
	// ClusterLabel is the Prometheus label of the cluster. Default
	// "cluster".
	ClusterLabel string
	// MetricQueries replace or add metric queries by name (merged over
	// DefaultMetricQueries; an empty query removes one).
	MetricQueries map[string]string
	// SQLChecks are read-only queries the ad-hoc SQL step runs for every
	// cluster task ({{cluster}} is replaced by the cluster's name, quoted).
	SQLChecks []string
	// MaxSiblings caps the sibling clusters looked at. Default 5.
	MaxSiblings int
	// Rules tunes the deterministic reasoner; nil means DefaultRules.
	Rules *Rules
	// Model, if set, writes the finding from the same evidence after the
	// deterministic reasoner: its finding replaces the deterministic one
	// when it is valid.
	Model Reasoner
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per investigation; nil discards.
	Logger *slog.Logger
}

// Investigator runs investigations: the eight steps, then the reasoners.
// It holds no goroutines and is safe for concurrent use.
type Investigator struct {
	tools   Tools
	opts    Options
	queries map[string]string
}

// New returns an Investigator over tools.
func New(tools Tools, opts *Options) *Investigator {
	inv := &Investigator{tools: tools}
	if opts != nil {
		inv.opts = *opts
	}
	o := &inv.opts
	if o.Budget <= 0 {
		o.Budget = 2 * time.Minute
	}
	if o.Window <= 0 {
		o.Window = 3 * time.Hour
	}
	if o.OperationsLookback <= 0 {
		o.OperationsLookback = 24 * time.Hour
	}
	if o.Step <= 0 {
		o.Step = time.Minute
	}
	if o.RateWindow <= 0 {
		o.RateWindow = 5 * time.Minute
	}
	if o.ClusterLabel == "" {
		o.ClusterLabel = "cluster"
	}
	if o.MaxSiblings <= 0 {
		o.MaxSiblings = 5
	}
	if o.Rules == nil {
		r := DefaultRules()
		o.Rules = &r
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	inv.queries = DefaultMetricQueries()
	for k, v := range o.MetricQueries {
		if v == "" {
			delete(inv.queries, k)
		} else {
			inv.queries[k] = v
		}
	}
	return inv
}

// Toolbox returns the investigator's tools as a Toolbox, for a model or an
// MCP server.
func (inv *Investigator) Toolbox() *Toolbox {
	return &Toolbox{tools: inv.tools, queries: inv.queries, label: inv.opts.ClusterLabel, rate: inv.opts.RateWindow, step: inv.opts.Step}
}

// SiblingState is what the sibling step saw on one sibling cluster.
type SiblingState struct {
	Cluster Cluster
	Issues  []issues.Issue
	Metrics map[string][]Point
	// Evidence maps a metric name or issue id to its evidence id.
	Evidence map[string]string
}

// Case is what an investigation gathered, handed to the reasoners. Its
// methods are safe for concurrent use.
type Case struct {
	Task    Task
	Subject dataset.Subject
	// From and To bound the window read; TaskTime is the task's time.
	From, To, TaskTime time.Time

	Cluster    *Cluster
	Issues     []issues.Issue
	Metrics    map[string][]Point
	Operations []Operation
	Knowledge  []Hit
	Past       []dataset.Finding
	Siblings   []SiblingState
	SQL        map[string]Rows
	// ShadowGroup and ShadowFailure are the report's entries for a shadow
	// task's finding; SideBySide its EXPLAIN and variable comparison.
	ShadowGroup   *shadow.GroupReport
	ShadowFailure *shadow.FailureReport
	SideBySide    *SideBySide

	// MetricEvidence, IssueEvidence, OperationEvidence (by index),
	// KnowledgeEvidence (by path) and PastEvidence (by fingerprint) map
	// what was gathered to its evidence id.
	MetricEvidence    map[string]string
	IssueEvidence     map[string]string
	OperationEvidence map[int]string
	KnowledgeEvidence map[string]string
	PastEvidence      map[string]string
	// ShadowEvidence holds the ids of the shadow-side items, by name
	// ("group", "profiles", "failure", "explain", "variables").
	ShadowEvidence map[string]string

	toolbox *Toolbox
	mu      sync.Mutex
	items   []dataset.Evidence
	calls   []dataset.ToolCall
	notes   []string
}

// Evidence returns every evidence item gathered so far.
func (c *Case) Evidence() []dataset.Evidence {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.items)
}

// Calls returns the tool-call log so far.
func (c *Case) Calls() []dataset.ToolCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// Notes returns the notes so far.
func (c *Case) Notes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.notes)
}

// Note adds a note about the investigation.
func (c *Case) Note(format string, args ...any) {
	c.mu.Lock()
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
	c.mu.Unlock()
}

// AddEvidence records an item (its excerpt masked) and returns its id.
func (c *Case) AddEvidence(e dataset.Evidence) string {
	e.Excerpt = maskExcerpt(e.Tool, e.Excerpt)
	c.mu.Lock()
	defer c.mu.Unlock()
	e.ID = "e" + strconv.Itoa(len(c.items)+1)
	c.items = append(c.items, e)
	return e.ID
}

func (c *Case) logCall(call dataset.ToolCall) {
	c.mu.Lock()
	c.calls = append(c.calls, call)
	c.mu.Unlock()
}

// ToolSpecs returns the specs of the tools Call runs, for a model
// reasoner to offer them.
func (c *Case) ToolSpecs() []ToolSpec { return c.toolbox.Specs() }

// Call runs the tool named name with input (the JSON arguments the tool's
// spec describes) for a reasoner, logs the call with by, and returns the
// masked JSON result.
func (c *Case) Call(ctx context.Context, by, name string, input json.RawMessage) (json.RawMessage, error) {
	start := time.Now()
	out, items, err := c.toolbox.Call(ctx, name, input)
	call := dataset.ToolCall{Tool: name, Input: compactJSON(input), Start: sink.Time(start.UTC()), DurationMS: ms(time.Since(start)), Items: items, By: by}
	if err != nil {
		call.Error = err.Error()
	}
	c.logCall(call)
	return out, err
}

func compactJSON(in json.RawMessage) json.RawMessage {
	if len(in) == 0 || !json.Valid(in) {
		return nil
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	var v any
	_ = json.Unmarshal(in, &v)
	_ = enc.Encode(v)
	return json.RawMessage(strings.TrimSpace(b.String()))
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// step runs one step, logging it as a tool call by the investigator.
func (c *Case) step(ctx context.Context, tool string, input any, fn func(ctx context.Context) (int, error)) {
	in, _ := json.Marshal(input)
	start := time.Now()
	call := dataset.ToolCall{Tool: tool, Input: in, Start: sink.Time(start.UTC()), By: "investigator"}
	if err := ctx.Err(); err != nil {
		call.Error = "skipped: " + err.Error()
		c.logCall(call)
		c.Note("%s skipped: the time budget was spent", tool)
		return
	}
	n, err := fn(ctx)
	call.DurationMS, call.Items = ms(time.Since(start)), n
	if err != nil {
		call.Error = err.Error()
		c.Note("%s failed: %v", tool, err)
	}
	c.logCall(call)
}

// Investigate runs the investigation of task and returns its Finding.
//
// The steps (cluster info, alerts, metrics, operations, knowledge, past
// investigations, sibling clusters, ad-hoc SQL, and the shadow side for a
// shadow task) run in order within Options.Budget; a step whose tool is nil
// or fails is noted and the others still run. The deterministic reasoner
// then always writes a Finding. When Options.Model is set it writes one
// from the same case; if its answer fails or is not a valid Finding,
// Investigate returns the deterministic Finding together with the model's
// error (matching ErrBadModelAnswer for an invalid answer), so the caller
// always has a finding to keep. Investigate returns a nil Finding only for
// an invalid task.
func (inv *Investigator) Investigate(ctx context.Context, task Task) (*dataset.Finding, error) {
	c, err := inv.newCase(task)
	if err != nil {
		return nil, err
	}
	bctx, cancel := context.WithTimeout(ctx, inv.opts.Budget)
	defer cancel()
	inv.gather(bctx, c)
	det := inv.opts.Rules.Reason(c)
	inv.finish(c, det, "rules")
	if inv.opts.Model == nil {
		inv.log(det, nil)
		return det, nil
	}
	f, merr := inv.opts.Model.Reason(bctx, c)
	if merr == nil {
		merr = f.Validate()
		if merr != nil {
			merr = &ModelError{Err: merr}
		}
	}
	if merr != nil {
		det.Notes = append(det.Notes, "model reasoner rejected: "+merr.Error())
		det.ToolCalls = c.Calls()
		inv.log(det, merr)
		return det, merr
	}
	if f.Reasoner == "" {
		f.Reasoner = "model"
	}
	inv.finish(c, f, f.Reasoner)
	inv.log(f, nil)
	return f, nil
}

// ModelError is a model reasoner's answer rejected by Finding.Validate. It
// matches ErrBadModelAnswer.
type ModelError struct{ Err error }

func (e *ModelError) Error() string { return "investigate: model answer rejected: " + e.Err.Error() }

// Unwrap returns the validation error.
func (e *ModelError) Unwrap() []error { return []error{ErrBadModelAnswer, e.Err} }

func (inv *Investigator) log(f *dataset.Finding, err error) {
	inv.opts.Logger.Info("investigation", "subject", f.Subject.String(), "category", f.Category,
		"confidence", f.Confidence, "tool_calls", len(f.ToolCalls), "model_error", err)
}

// finish fills what every finding carries from its case.
func (inv *Investigator) finish(c *Case, f *dataset.Finding, reasoner string) {
	f.TS = sink.Time(inv.opts.Now().UTC())
	f.Subject = c.Subject
	f.TaskTS = sink.Time(c.TaskTime.UTC())
	f.Reasoner = reasoner
	if f.Fingerprint == "" {
		f.Fingerprint = dataset.FindingFingerprint(c.Subject, f.Category)
	}
	if f.Trigger == "" {
		if c.Task.Sentinel != nil {
			f.Trigger = string(c.Task.Sentinel.Trigger)
		} else {
			f.Trigger = c.Task.Shadow.Finding.Kind
		}
	}
	f.ToolCalls = c.Calls()
	f.Notes = append(c.Notes(), f.Notes...)
	// Keep the cited evidence only, in gathering order.
	cited := map[string]bool{}
	for _, h := range f.Hypotheses {
		for _, id := range append(slices.Clone(h.For), h.Against...) {
			cited[id] = true
		}
	}
	if len(f.Evidence) == 0 {
		for _, e := range c.Evidence() {
			if cited[e.ID] {
				f.Evidence = append(f.Evidence, e)
			}
		}
	}
}

func (inv *Investigator) newCase(task Task) (*Case, error) {
	c := &Case{
		Task: task, Metrics: map[string][]Point{}, SQL: map[string]Rows{},
		MetricEvidence: map[string]string{}, IssueEvidence: map[string]string{}, OperationEvidence: map[int]string{},
		KnowledgeEvidence: map[string]string{}, PastEvidence: map[string]string{}, ShadowEvidence: map[string]string{},
		toolbox: inv.Toolbox(),
	}
	var err error
	if c.Subject, c.TaskTime, err = task.subject(); err != nil {
		return nil, err
	}
	if c.TaskTime.IsZero() {
		c.TaskTime = inv.opts.Now()
	}
	c.From, c.To = c.TaskTime.Add(-inv.opts.Window), c.TaskTime
	return c, nil
}

// subject returns what the task is about and its time (zero when the
// report has none).
func (task Task) subject() (dataset.Subject, time.Time, error) {
	switch {
	case task.Sentinel != nil && task.Shadow == nil:
		return dataset.Subject{Kind: dataset.SubjectCluster, Cluster: task.Sentinel.Cluster}, time.Time(task.Sentinel.TS), nil
	case task.Shadow != nil && task.Sentinel == nil && task.Shadow.Report != nil:
		ts := task.Shadow.Report.GeneratedAt
		if to := task.Shadow.Report.Window.EffectiveTo; !to.IsZero() {
			ts = to
		}
		return shadowSubject(task.Shadow), ts, nil
	}
	return dataset.Subject{}, time.Time{}, errors.New("investigate: a task needs exactly one of Sentinel and Shadow (with its report)")
}

func shadowSubject(t *ShadowTask) dataset.Subject {
	s := dataset.Subject{Cluster: t.Cluster}
	kind, key, ok := strings.Cut(t.Finding.Group, ":")
	switch {
	case ok && kind == "route":
		s.Kind, s.Key = dataset.SubjectRoute, key
	case ok && kind == "template":
		s.Kind, s.Key = dataset.SubjectTemplate, key
	case t.Finding.ErrorCode != nil:
		s.Kind, s.Key = dataset.SubjectError, strconv.FormatInt(*t.Finding.ErrorCode, 10)
	default:
		s.Kind, s.Key = dataset.SubjectTemplate, t.Finding.Group
	}
	return s
}

// gather runs the steps.
func (inv *Investigator) gather(ctx context.Context, c *Case) {
	t := &inv.tools
	cluster := c.Subject.Cluster
	if cluster != "" {
		inv.stepClusterInfo(ctx, c, cluster)
		inv.stepAlerts(ctx, c, cluster)
		inv.stepMetrics(ctx, c, cluster)
		inv.stepOperations(ctx, c, cluster)
	}
	if c.Task.Shadow != nil {
		inv.stepShadow(ctx, c)
	}
	inv.stepKnowledge(ctx, c)
	if t.Past != nil {
		c.step(ctx, ToolPast, map[string]string{"cluster": cluster, "subject": c.Subject.String()}, func(ctx context.Context) (int, error) {
			past, err := t.Past.Findings(ctx, FindingFilter{Cluster: cluster, Since: c.TaskTime.Add(-30 * 24 * time.Hour), Limit: 50})
			if err != nil {
				return 0, err
			}
			for _, f := range past {
				if f.Subject != c.Subject || time.Time(f.TaskTS).Equal(c.TaskTime) {
					continue
				}
				c.Past = append(c.Past, f)
				if _, ok := c.PastEvidence[f.Fingerprint]; !ok {
					c.PastEvidence[f.Fingerprint] = c.AddEvidence(dataset.Evidence{Tool: ToolPast, Query: "fingerprint " + f.Fingerprint,
						Excerpt: fmt.Sprintf("%s: %s (%s, confidence %.2f)", time.Time(f.TS).Format(time.RFC3339), f.Title, f.Category, f.Confidence),
						Verify:  "the findings store, fingerprint " + f.Fingerprint})
				}
			}
			return len(c.Past), nil
		})
	} else {
		c.Note("%s: no tool configured", ToolPast)
	}
	if cluster != "" {
		inv.stepSiblings(ctx, c, cluster)
		inv.stepSQL(ctx, c, cluster)
	}
}

func (inv *Investigator) stepClusterInfo(ctx context.Context, c *Case, cluster string) {
	if inv.tools.Clusters == nil {
		c.Note("%s: no tool configured", ToolClusterInfo)
		return
	}
	c.step(ctx, ToolClusterInfo, map[string]string{"cluster": cluster}, func(ctx context.Context) (int, error) {
		cl, err := inv.tools.Clusters.Cluster(ctx, cluster)
		if err != nil {
			return 0, err
		}
		c.Cluster = &cl
		return 1, nil
	})
}

func (inv *Investigator) stepAlerts(ctx context.Context, c *Case, cluster string) {
	if inv.tools.Alerts == nil {
		c.Note("%s: no tool configured", ToolAlerts)
		return
	}
	c.step(ctx, ToolAlerts, map[string]any{"cluster": cluster, "from": c.From, "to": c.To}, func(ctx context.Context) (int, error) {
		list, err := inv.tools.Alerts.Alerts(ctx, cluster, c.From, c.To)
		if err != nil {
			return 0, err
		}
		c.Issues = list
		for i := range list {
			is := &list[i]
			c.IssueEvidence[is.ID] = c.AddEvidence(dataset.Evidence{Tool: ToolAlerts, Query: "issues of cluster " + cluster,
				Excerpt: alertSummary(is), From: ptime(is.FirstFiring), To: ptime(is.LastFiring),
				Verify: "the issues store, issue " + is.ID})
		}
		return len(list), nil
	})
}

func (inv *Investigator) metricQuery(name, cluster string) string {
	return expandQuery(inv.queries[name], inv.opts.ClusterLabel, cluster, inv.opts.RateWindow)
}

// readMetrics reads every metric query for cluster; it returns the points
// of the first series of each, and the queries run.
func (inv *Investigator) readMetrics(ctx context.Context, c *Case, cluster string) (map[string][]Point, map[string]string, error) {
	out, qs := map[string][]Point{}, map[string]string{}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(inv.queries)) {
		q := inv.metricQuery(name, cluster)
		qs[name] = q
		series, err := inv.tools.Metrics.Range(ctx, q, c.From, c.To, inv.opts.Step)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		if len(series) > 0 && len(series[0].Points) > 0 {
			out[name] = series[0].Points
		}
	}
	return out, qs, errors.Join(errs...)
}

func (inv *Investigator) stepMetrics(ctx context.Context, c *Case, cluster string) {
	if inv.tools.Metrics == nil {
		c.Note("%s: no tool configured", ToolMetrics)
		return
	}
	c.step(ctx, ToolMetrics, map[string]any{"cluster": cluster, "metrics": slices.Sorted(maps.Keys(inv.queries)), "from": c.From, "to": c.To}, func(ctx context.Context) (int, error) {
		m, qs, err := inv.readMetrics(ctx, c, cluster)
		c.Metrics = m
		for _, name := range slices.Sorted(maps.Keys(m)) {
			c.MetricEvidence[name] = c.AddEvidence(metricEvidence(name, qs[name], m[name]))
		}
		return len(m), err
	})
}

func metricEvidence(name, query string, pts []Point) dataset.Evidence {
	first, last := pts[0], pts[len(pts)-1]
	lo, hi := first.V, first.V
	for _, p := range pts {
		lo, hi = min(lo, p.V), max(hi, p.V)
	}
	return dataset.Evidence{Tool: ToolMetrics, Query: query,
		Excerpt: fmt.Sprintf("%s: %s at %s, %s at %s (min %s, max %s, %d points)", name,
			num(first.V), first.T.Format(time.RFC3339), num(last.V), last.T.Format(time.RFC3339), num(lo), num(hi), len(pts)),
		From: ptime(first.T), To: ptime(last.T), Verify: "run the query in Prometheus over the same range"}
}

func num(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

func (inv *Investigator) stepOperations(ctx context.Context, c *Case, cluster string) {
	if inv.tools.Operations == nil {
		c.Note("%s: no tool configured", ToolOperations)
		return
	}
	from := c.TaskTime.Add(-inv.opts.OperationsLookback)
	c.step(ctx, ToolOperations, map[string]any{"cluster": cluster, "from": from, "to": c.To}, func(ctx context.Context) (int, error) {
		ops, err := inv.tools.Operations.Operations(ctx, cluster, from, c.To)
		if err != nil {
			return 0, err
		}
		c.Operations = ops
		for i, op := range ops {
			c.OperationEvidence[i] = c.AddEvidence(dataset.Evidence{Tool: ToolOperations, Query: "operations of cluster " + cluster,
				Excerpt: fmt.Sprintf("%s %s at %s by %s: %s", op.Kind, cluster, op.TS.UTC().Format(time.RFC3339), op.Actor, op.Detail),
				From:    ptime(op.TS), To: ptime(op.TS), Verify: "the operations log of " + cluster})
		}
		return len(ops), nil
	})
}

// symptoms are the words the knowledge step searches for.
func (inv *Investigator) symptoms(c *Case) string {
	var words []string
	r := inv.opts.Rules
	if c.Task.Sentinel != nil {
		words = append(words, string(c.Task.Sentinel.Trigger), c.Task.Sentinel.Reason)
	}
	if hi, ok := maxOf(c.Metrics[MetricDisk]); ok && hi > r.DiskPct {
		words = append(words, "disk usage high, disk nearly full")
	}
	if rising(c.Metrics[MetricCompaction], r.CompactionRise) {
		words = append(words, "compaction score rising")
	}
	if hi, ok := maxOf(c.Metrics[MetricFEHeap]); ok && hi > r.HeapPct {
		words = append(words, "FE JVM heap memory high")
	}
	if hi, ok := maxOf(c.Metrics[MetricErrorRate]); ok && hi > r.ErrorRatePct {
		words = append(words, "query error rate")
	}
	if lo, ok := minOf(c.Metrics[MetricBEAlive]); ok && lo < 100 {
		words = append(words, "BE node down not alive")
	}
	for _, op := range c.Operations {
		if op.Kind == OpUpdate {
			words = append(words, "after update upgrade "+op.Detail)
		}
	}
	for _, is := range c.Issues {
		words = append(words, is.AlertNames...)
	}
	if c.Cluster != nil && c.Cluster.Version != "" {
		words = append(words, "version "+c.Cluster.Version)
	}
	if t := c.Task.Shadow; t != nil {
		words = append(words, t.Finding.Kind, t.Finding.Title)
		if c.ShadowFailure != nil {
			for _, ex := range c.ShadowFailure.Examples {
				words = append(words, MaskText(ex.Error))
			}
		}
		if scanGrew(c.ShadowGroup, r.ScanGrowth) {
			words = append(words, "shadow scans more rows, plan regression, full scan instead of index")
		}
	}
	return strings.Join(words, " ")
}

func (inv *Investigator) stepKnowledge(ctx context.Context, c *Case) {
	if inv.tools.Knowledge == nil {
		c.Note("%s: no tool configured", ToolKnowledge)
		return
	}
	q := inv.symptoms(c)
	c.step(ctx, ToolKnowledge, map[string]any{"query": q, "limit": 5}, func(ctx context.Context) (int, error) {
		hits, err := inv.tools.Knowledge.Search(ctx, q, 5)
		if err != nil {
			return 0, err
		}
		c.Knowledge = hits
		for _, h := range hits {
			c.KnowledgeEvidence[h.Path] = c.AddEvidence(dataset.Evidence{Tool: ToolKnowledge, Query: q,
				Excerpt: fmt.Sprintf("%s (%s, score %.3f): %s", h.Title, h.Path, h.Score, h.Snippet), Verify: "read " + h.Path + " in the knowledge base"})
		}
		return len(hits), nil
	})
}

func (inv *Investigator) stepSiblings(ctx context.Context, c *Case, cluster string) {
	if inv.tools.Clusters == nil {
		c.Note("%s: no tool configured", ToolSiblings)
		return
	}
	c.step(ctx, ToolSiblings, map[string]string{"cluster": cluster}, func(ctx context.Context) (int, error) {
		sibs, err := inv.tools.Clusters.Siblings(ctx, cluster)
		if err != nil {
			return 0, err
		}
		if len(sibs) > inv.opts.MaxSiblings {
			c.Note("%s: %d siblings, looked at the first %d", ToolSiblings, len(sibs), inv.opts.MaxSiblings)
			sibs = sibs[:inv.opts.MaxSiblings]
		}
		var errs []error
		for _, sib := range sibs {
			st := SiblingState{Cluster: sib, Evidence: map[string]string{}}
			if inv.tools.Alerts != nil {
				list, err := inv.tools.Alerts.Alerts(ctx, sib.Name, c.From, c.To)
				if err != nil {
					errs = append(errs, err)
				}
				st.Issues = list
				for i := range list {
					st.Evidence[list[i].ID] = c.AddEvidence(dataset.Evidence{Tool: ToolSiblings, Query: "issues of sibling " + sib.Name,
						Excerpt: sib.Name + ": " + alertSummary(&list[i]), From: ptime(list[i].FirstFiring), To: ptime(list[i].LastFiring),
						Verify: "the issues store, issue " + list[i].ID})
				}
			}
			if inv.tools.Metrics != nil {
				m, qs, err := inv.readMetrics(ctx, c, sib.Name)
				if err != nil {
					errs = append(errs, err)
				}
				st.Metrics = m
				for _, name := range []string{MetricErrorRate, MetricBEAlive} {
					if pts := m[name]; len(pts) > 0 {
						e := metricEvidence(name, qs[name], pts)
						e.Tool, e.Excerpt = ToolSiblings, sib.Name+": "+e.Excerpt
						st.Evidence[name] = c.AddEvidence(e)
					}
				}
			}
			c.Siblings = append(c.Siblings, st)
		}
		return len(sibs), errors.Join(errs...)
	})
}

func (inv *Investigator) stepSQL(ctx context.Context, c *Case, cluster string) {
	if len(inv.opts.SQLChecks) == 0 {
		return
	}
	if inv.tools.SQL == nil {
		c.Note("%s: no tool configured", ToolSQL)
		return
	}
	for _, q := range inv.opts.SQLChecks {
		q = strings.ReplaceAll(q, "{{cluster}}", quoteSQL(cluster))
		c.step(ctx, ToolSQL, map[string]string{"query": q}, func(ctx context.Context) (int, error) {
			rows, err := inv.tools.SQL.Query(ctx, q)
			if err != nil {
				return 0, err
			}
			c.SQL[q] = rows
			c.AddEvidence(dataset.Evidence{Tool: ToolSQL, Query: MaskSQL(q), Excerpt: rowsExcerpt(rows), Verify: "run the query again"})
			return len(rows.Rows), nil
		})
	}
}

func quoteSQL(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}

func rowsExcerpt(r Rows) string {
	var b strings.Builder
	b.WriteString(strings.Join(r.Columns, " | "))
	for i, row := range r.Rows {
		if i == 10 {
			fmt.Fprintf(&b, "\n... %d more rows", len(r.Rows)-10)
			break
		}
		b.WriteString("\n" + strings.Join(row, " | "))
	}
	return b.String()
}

func (inv *Investigator) stepShadow(ctx context.Context, c *Case) {
	t := c.Task.Shadow
	c.step(ctx, ToolShadow, map[string]any{"finding": t.Finding.Kind, "group": t.Finding.Group}, func(ctx context.Context) (int, error) {
		n := 0
		c.ShadowEvidence["finding"] = c.AddEvidence(dataset.Evidence{Tool: ToolShadow, Query: "shadow report finding",
			Excerpt: t.Finding.Kind + ": " + t.Finding.Title + ": " + t.Finding.Evidence,
			From:    ptime(t.Report.Window.From), To: ptime(t.Report.Window.EffectiveTo), Verify: "the shadow report's findings"})
		for i := range t.Report.Groups {
			if g := &t.Report.Groups[i]; g.Label == t.Finding.Group && t.Finding.Group != "" {
				c.ShadowGroup = g
				n++
				c.ShadowEvidence["group"] = c.AddEvidence(dataset.Evidence{Tool: ToolShadow, Query: "group " + g.Label,
					Excerpt: groupExcerpt(g), Verify: "the shadow report, group " + g.Label})
				if g.Profiles != nil {
					c.ShadowEvidence["profiles"] = c.AddEvidence(dataset.Evidence{Tool: ToolShadow, Query: "profiles of group " + g.Label,
						Excerpt: "primary " + profileExcerpt(&g.Profiles.Primary) + "; shadow " + profileExcerpt(&g.Profiles.Shadow),
						Verify:  "the profiles dataset joined to the group's query logs (shadow report, group " + g.Label + ")"})
				}
			}
		}
		if t.Finding.ErrorCode != nil {
			for i := range t.Report.Failures {
				if fr := &t.Report.Failures[i]; fr.ErrorCode == *t.Finding.ErrorCode {
					c.ShadowFailure = fr
					n++
					var ex []string
					for _, e := range fr.Examples {
						ex = append(ex, MaskSQL(e.Query)+" -> "+e.Error)
					}
					c.ShadowEvidence["failure"] = c.AddEvidence(dataset.Evidence{Tool: ToolShadow, Query: fmt.Sprintf("failures with error code %d", fr.ErrorCode),
						Excerpt: fmt.Sprintf("%d statements failed only on the shadow; examples: %s", fr.Count, strings.Join(ex, "; ")),
						Verify:  "the shadow report's failures, error code " + strconv.FormatInt(fr.ErrorCode, 10)})
				}
			}
		}
		return n, nil
	})
	g := c.ShadowGroup
	if g == nil || g.Example == "" {
		return
	}
	if inv.tools.Shadow == nil {
		c.Note("%s: no EXPLAIN tool configured for the two sides", ToolShadow)
		return
	}
	c.step(ctx, ToolShadow, map[string]string{"explain": MaskSQL(g.Example)}, func(ctx context.Context) (int, error) {
		sbs, err := inv.tools.Shadow.Compare(ctx, g.Example)
		if err != nil {
			return 0, err
		}
		c.SideBySide = &sbs
		c.ShadowEvidence["explain"] = c.AddEvidence(dataset.Evidence{Tool: ToolShadow, Query: "EXPLAIN " + MaskSQL(g.Example),
			Excerpt: "primary:\n" + rowsExcerpt(sbs.PrimaryPlan) + "\nshadow:\n" + rowsExcerpt(sbs.ShadowPlan),
			Verify:  "run EXPLAIN of the statement on both sides"})
		if len(sbs.Variables) > 0 {
			var diff []string
			for _, k := range slices.Sorted(maps.Keys(sbs.Variables)) {
				diff = append(diff, fmt.Sprintf("%s: primary %s, shadow %s", k, sbs.Variables[k][0], sbs.Variables[k][1]))
			}
			c.ShadowEvidence["variables"] = c.AddEvidence(dataset.Evidence{Tool: ToolShadow, Query: "SHOW GLOBAL VARIABLES on both sides",
				Excerpt: strings.Join(diff, "; "), Verify: "compare SHOW GLOBAL VARIABLES of both sides"})
		}
		return 1 + len(sbs.Variables), nil
	})
}

func groupExcerpt(g *shadow.GroupReport) string {
	s := fmt.Sprintf("%s: %d pairs; P50 primary %s ms, shadow %s ms; P99 primary %s ms, shadow %s ms",
		g.Label, g.Pairs, num(g.Primary.P50), num(g.Shadow.P50), num(g.Primary.P99), num(g.Shadow.P99))
	if g.P50 != nil {
		s += fmt.Sprintf("; P50 ratio %s (p adjusted %.3g)", num(g.P50.Ratio), g.P50.PAdjusted)
	}
	if g.P99 != nil {
		s += fmt.Sprintf("; P99 ratio %s", num(g.P99.Ratio))
	}
	return s
}

func profileExcerpt(p *shadow.ProfileStats) string {
	s := fmt.Sprintf("%d profiles", p.Count)
	add := func(name string, v *float64) {
		if v != nil {
			s += fmt.Sprintf(", %s %s", name, num(*v))
		}
	}
	add("mean scan rows", p.MeanScanRows)
	add("mean scan bytes", p.MeanScanBytes)
	add("mean duration ms", p.MeanDurationMS)
	add("mean cpu ms", p.MeanCPUMS)
	add("mean mem bytes", p.MeanMemBytes)
	return s
}
