package investigate_test

import (
	"context"
	"database/sql"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/compare"
	"github.com/sqlshadow/sqlshadow/compare/shadow"
	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/investigate"
	"github.com/sqlshadow/sqlshadow/investigate/investigatetest"
	"github.com/sqlshadow/sqlshadow/investigate/knowledge"
	"github.com/sqlshadow/sqlshadow/issues"
	"github.com/sqlshadow/sqlshadow/scoring"
	"github.com/sqlshadow/sqlshadow/sink"
)

type env struct {
	now     time.Time
	prom    string
	tracker *issues.Tracker
	ops     *investigate.SQLOperations
	past    *investigate.SQLFindingStore
	kb      *knowledge.Index
	tools   investigate.Tools
	db      *sql.DB
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{now: time.Now().UTC().Truncate(time.Minute)}
	from := e.now.Add(-3 * time.Hour)
	var series []investigatetest.Series
	series = append(series, investigatetest.Cluster("c-disk", map[string]func(float64) float64{"disk": investigatetest.Linear(70, 93), "compaction": investigatetest.Linear(10, 60)})...)
	series = append(series, investigatetest.Cluster("c-heap", map[string]func(float64) float64{"heap": investigatetest.Linear(45, 86)})...)
	series = append(series, investigatetest.Cluster("c-acct-1", map[string]func(float64) float64{"errors": investigatetest.Flat(12), "alive": investigatetest.Flat(2)})...)
	series = append(series, investigatetest.Cluster("c-acct-2", map[string]func(float64) float64{"errors": investigatetest.Flat(9)})...)
	series = append(series, investigatetest.Cluster("c-calm", nil)...)
	e.prom = investigatetest.StartPrometheus(t, from, e.now, time.Minute, series)

	srv := rig.Server(t, 0)
	e.db = srv.Open(t, srv.NewDatabase(t))
	store, err := issues.NewSQLStore(ctx, e.db, nil)
	require.NoError(t, err)
	e.tracker = issues.NewTracker(store, &issues.TrackerOptions{Now: func() time.Time { return e.now.Add(-30 * time.Minute) }})
	fire := func(cluster, name string, ago time.Duration) issues.Alert {
		return issues.Alert{Source: "am", Status: issues.StatusFiring, StartsAt: e.now.Add(-ago),
			Labels: map[string]string{"alertname": name, "cluster": cluster, "severity": "critical"}}
	}
	_, err = e.tracker.Ingest(ctx, []issues.Alert{
		fire("c-disk", "BEDiskUsageHigh", 40*time.Minute),
		fire("c-acct-1", "QueryErrorRateHigh", 50*time.Minute),
		fire("c-acct-2", "QueryErrorRateHigh", 45*time.Minute),
	})
	require.NoError(t, err)

	e.ops, err = investigate.NewSQLOperations(ctx, e.db, "")
	require.NoError(t, err)
	require.NoError(t, e.ops.Add(ctx, investigate.Operation{TS: e.now.Add(-2 * time.Hour), Cluster: "c-heap", Kind: investigate.OpUpdate,
		Detail: "upgrade 3.2.11 -> 3.3.1", Actor: "deploy-bot"}))
	require.NoError(t, e.ops.Add(ctx, investigate.Operation{TS: e.now.Add(-5 * time.Hour), Cluster: "c-disk", Kind: investigate.OpStart, Detail: "scheduled restart"}))
	e.past, err = investigate.NewSQLFindingStore(ctx, e.db, "")
	require.NoError(t, err)

	e.kb, err = knowledge.Open(ctx, os.DirFS("testdata/knowledge"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { e.kb.Close() })

	prom, err := investigate.NewPrometheus(e.prom, nil)
	require.NoError(t, err)
	e.tools = investigate.Tools{
		Clusters: investigate.NewInventory([]investigate.Cluster{
			{Name: "c-disk", Tier: "A", Account: "acme", Version: "3.2.11"},
			{Name: "c-heap", Tier: "S", Account: "beta", Version: "3.3.1"},
			{Name: "c-acct-1", Tier: "B", Account: "gamma", Version: "3.2.9"},
			{Name: "c-acct-2", Tier: "B", Account: "gamma", Version: "3.2.8"},
			{Name: "c-calm", Tier: "C", Account: "delta", Version: "3.1.0"},
		}),
		Alerts:     investigate.NewStoreAlerts(store),
		Metrics:    prom,
		Operations: e.ops,
		Knowledge:  e.kb,
		Past:       e.past,
		SQL:        investigate.NewSQLQuerier(e.db, nil),
	}
	return e
}

func (e *env) task(cluster string) investigate.Task {
	return investigate.Task{Sentinel: &dataset.SentinelTask{TS: sink.Time(e.now), Cluster: cluster, Trigger: dataset.TriggerNewCritical,
		Priority: 1, Reason: "score fell to 41"}}
}

// evidenceWith returns the finding's evidence items whose excerpt
// contains s.
func evidenceWith(f *dataset.Finding, tool, s string) []dataset.Evidence {
	var out []dataset.Evidence
	for _, e := range f.Evidence {
		if e.Tool == tool && strings.Contains(e.Excerpt, s) {
			out = append(out, e)
		}
	}
	return out
}

func cited(f *dataset.Finding, id string) bool {
	return slices.Contains(f.Hypotheses[0].For, id)
}

func TestScenarios(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	inv := investigate.New(e.tools, &investigate.Options{Now: func() time.Time { return e.now }})

	t.Run("disk and compaction", func(t *testing.T) {
		f, err := inv.Investigate(ctx, e.task("c-disk"))
		require.NoError(t, err)
		require.NoError(t, f.Validate())
		require.Equal(t, investigate.CategoryDiskCompaction, f.Category, "%s\n%v", f.RootCause, f.Notes)
		require.Equal(t, dataset.SeverityCritical, f.Severity)
		require.True(t, strings.HasPrefix(f.RootCause, "Possible root cause: "), f.RootCause)
		require.Contains(t, f.RootCause, "93%")
		require.Equal(t, dataset.HypothesisConfirmed, f.Hypotheses[0].Status)
		// The evidence points at the planted series and the alert.
		disk := evidenceWith(f, investigate.ToolMetrics, "disk_used_pct: 70 at")
		require.Len(t, disk, 1, "%+v", f.Evidence)
		require.Contains(t, disk[0].Excerpt, "93 at")
		require.Contains(t, disk[0].Query, `starrocks_be_disks_avail_capacity{cluster="c-disk",}`)
		comp := evidenceWith(f, investigate.ToolMetrics, "compaction_score: 10 at")
		require.Len(t, comp, 1)
		require.Contains(t, comp[0].Excerpt, "60 at")
		alert := evidenceWith(f, investigate.ToolAlerts, "BEDiskUsageHigh")
		require.Len(t, alert, 1)
		for _, ev := range []dataset.Evidence{disk[0], comp[0], alert[0]} {
			require.True(t, cited(f, ev.ID), ev.ID)
		}
		// The recommendations are the runbook's.
		doc := runbook(t, e, "runbooks/disk-compaction.md")
		require.Equal(t, doc.Recommendations(), f.Recommendations)
		require.Contains(t, f.Links, "runbooks/disk-compaction.md")
		// Every step is in the log.
		var tools []string
		for _, c := range f.ToolCalls {
			tools = append(tools, c.Tool)
			require.Empty(t, c.Error, c.Tool)
			require.Equal(t, "investigator", c.By)
		}
		for _, want := range []string{investigate.ToolClusterInfo, investigate.ToolAlerts, investigate.ToolMetrics, investigate.ToolOperations,
			investigate.ToolKnowledge, investigate.ToolPast, investigate.ToolSiblings} {
			require.Contains(t, tools, want)
		}
		require.Equal(t, dataset.FindingFingerprint(f.Subject, f.Category), f.Fingerprint)

		// Stored, it is the past investigation of the next run, which
		// cites it and is more confident.
		require.NoError(t, e.past.Put(ctx, f))
		later := e.task("c-disk")
		later.Sentinel.TS = sink.Time(e.now.Add(time.Minute))
		g, err := inv.Investigate(ctx, later)
		require.NoError(t, err)
		require.Equal(t, f.Fingerprint, g.Fingerprint)
		past := evidenceWith(g, investigate.ToolPast, f.Title)
		require.Len(t, past, 1)
		require.True(t, cited(g, past[0].ID))
		require.Greater(t, g.Confidence, f.Confidence)
	})

	t.Run("heap after an update", func(t *testing.T) {
		f, err := inv.Investigate(ctx, e.task("c-heap"))
		require.NoError(t, err)
		require.Equal(t, investigate.CategoryHeapAfterUpdate, f.Category, "%s\n%v", f.RootCause, f.Notes)
		require.Contains(t, f.RootCause, "upgrade 3.2.11 -> 3.3.1")
		op := evidenceWith(f, investigate.ToolOperations, "UPDATE c-heap")
		require.Len(t, op, 1)
		require.True(t, cited(f, op[0].ID))
		heap := evidenceWith(f, investigate.ToolMetrics, "fe_heap_used_pct: 45 at")
		require.Len(t, heap, 1)
		require.True(t, cited(f, heap[0].ID))
		require.Equal(t, runbook(t, e, "runbooks/fe-heap.md").Recommendations(), f.Recommendations)
		// The disk rule was refuted by the metrics.
		for _, h := range f.Hypotheses {
			if h.Category == investigate.CategoryDiskCompaction {
				require.Equal(t, dataset.HypothesisRefuted, h.Status)
			}
		}
	})

	t.Run("account-wide failure on siblings", func(t *testing.T) {
		f, err := inv.Investigate(ctx, e.task("c-acct-1"))
		require.NoError(t, err)
		require.Equal(t, investigate.CategoryAccountWide, f.Category, "%s\n%v", f.RootCause, f.Notes)
		require.Contains(t, f.RootCause, "c-acct-2")
		require.Contains(t, f.RootCause, "account gamma")
		sib := evidenceWith(f, investigate.ToolSiblings, "c-acct-2: query_error_rate_pct")
		require.Len(t, sib, 1, "%+v", f.Evidence)
		require.True(t, cited(f, sib[0].ID))
		require.Len(t, evidenceWith(f, investigate.ToolSiblings, "QueryErrorRateHigh"), 1)
		require.Empty(t, evidenceWith(f, investigate.ToolSiblings, "c-calm"))
		require.Equal(t, runbook(t, e, "runbooks/account-wide.md").Recommendations(), f.Recommendations)
	})

	t.Run("a calm cluster has no cause", func(t *testing.T) {
		f, err := inv.Investigate(ctx, e.task("c-calm"))
		require.NoError(t, err)
		require.NoError(t, f.Validate())
		require.Equal(t, investigate.CategoryUndetermined, f.Category)
		require.Less(t, f.Confidence, 0.5)
	})

	t.Run("ad-hoc SQL checks", func(t *testing.T) {
		inv := investigate.New(e.tools, &investigate.Options{Now: func() time.Time { return e.now },
			SQLChecks: []string{"SELECT kind, detail FROM operations WHERE cluster = {{cluster}}", "DELETE FROM operations"}})
		f, err := inv.Investigate(ctx, e.task("c-heap"))
		require.NoError(t, err)
		var sqlCalls []dataset.ToolCall
		for _, c := range f.ToolCalls {
			if c.Tool == investigate.ToolSQL {
				sqlCalls = append(sqlCalls, c)
			}
		}
		require.Len(t, sqlCalls, 2)
		require.Equal(t, 1, sqlCalls[0].Items)
		require.Contains(t, sqlCalls[1].Error, "not a single read-only query")
		ops, err := e.ops.Operations(ctx, "c-heap", e.now.Add(-time.Hour*24), e.now)
		require.NoError(t, err)
		require.Len(t, ops, 1, "the DELETE was refused")
	})

	t.Run("time budget", func(t *testing.T) {
		slow := e.tools
		slow.Metrics = metricsFunc(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		inv := investigate.New(slow, &investigate.Options{Budget: 300 * time.Millisecond, Now: func() time.Time { return e.now }})
		start := time.Now()
		f, err := inv.Investigate(ctx, e.task("c-disk"))
		require.NoError(t, err)
		require.Less(t, time.Since(start), 10*time.Second)
		require.NoError(t, f.Validate())
		var skipped int
		for _, c := range f.ToolCalls {
			if strings.HasPrefix(c.Error, "skipped") {
				skipped++
			}
		}
		require.Positive(t, skipped, "%+v", f.ToolCalls)
		require.NotEmpty(t, f.Notes)
	})
}

type metricsFunc func(ctx context.Context) error

func (f metricsFunc) Range(ctx context.Context, q string, from, to time.Time, step time.Duration) ([]investigate.Series, error) {
	return nil, f(ctx)
}

func runbook(t *testing.T, e *env, path string) *investigate.Document {
	t.Helper()
	for _, d := range e.kb.Documents() {
		if d.Path == path {
			return d
		}
	}
	t.Fatalf("no document %s", path)
	return nil
}

// The metric queries are scoring's, so a finding's numbers are the ones
// the health score saw.
func TestMetricQueriesAreScorings(t *testing.T) {
	sc := scoring.DefaultPrometheusQueries()
	for name, q := range investigate.DefaultMetricQueries() {
		require.Equal(t, sc[name], q, name)
	}
}

func f64(v float64) *float64 { return &v }

// shadowReport is a report with one regression: route audit-trail, whose
// shadow profiles scan 9,000 rows a statement against the primary's 2.
func shadowReport(now time.Time) *shadow.Report {
	return &shadow.Report{
		Schema: shadow.ReportSchema, GeneratedAt: now, Mode: "shadow", Outcome: compare.VerdictFail,
		Window: shadow.ReportWindow{From: now.Add(-time.Hour), To: now, EffectiveTo: now},
		Findings: []shadow.Finding{{Kind: shadow.FindingRegression, Group: "route:audit-trail",
			Title: "route audit-trail is slower on the shadow", Evidence: "P50 x6.1, P99 x7.4 over 412 pairs"}},
		Groups: []shadow.GroupReport{{
			Label: "route:audit-trail", Key: "audit-trail", KeyKind: "route", Status: shadow.StatusRegression,
			Example: "SELECT id, note FROM audit WHERE account_id = 42",
			Primary: shadow.SideStats{Count: 412, P50: 1.2, P99: 3.1}, Shadow: shadow.SideStats{Count: 412, P50: 7.3, P99: 23},
			Pairs: 412,
			P50:   &shadow.QuantileTest{Test: "wilcoxon_signed_rank", N: 412, Ratio: 6.1, PAdjusted: 1e-9, Status: shadow.StatusRegression},
			Profiles: &shadow.GroupProfiles{
				Primary: shadow.ProfileStats{Count: 400, MeanScanRows: f64(2), MeanDurationMS: f64(1.1)},
				Shadow:  shadow.ProfileStats{Count: 400, MeanScanRows: f64(9000), MeanDurationMS: f64(7)},
			},
		}},
	}
}

func TestShadowScanGrowth(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	p, s := rig.Server(t, 0), rig.Server(t, 1)
	pdb, sdb := p.Open(t, p.NewDatabase(t)), s.Open(t, s.NewDatabase(t))
	for _, db := range []*sql.DB{pdb, sdb} {
		_, err := db.ExecContext(ctx, "CREATE TABLE audit (id INT PRIMARY KEY, account_id INT, note VARCHAR(64))")
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, "INSERT INTO audit SELECT seq, seq % 500, 'x' FROM seq_1_to_9000")
		require.NoError(t, err)
	}
	// The primary has the index; the shadow lost it.
	_, err := pdb.ExecContext(ctx, "CREATE INDEX by_account ON audit (account_id)")
	require.NoError(t, err)
	for _, db := range []*sql.DB{pdb, sdb} {
		_, err = db.ExecContext(ctx, "ANALYZE TABLE audit")
		require.NoError(t, err)
	}
	root, err := s.Root()
	require.NoError(t, err)
	var was string
	require.NoError(t, root.QueryRowContext(ctx, "SELECT @@GLOBAL.optimizer_search_depth").Scan(&was))
	_, err = root.ExecContext(ctx, "SET GLOBAL optimizer_search_depth = 7")
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = root.ExecContext(context.Background(), "SET GLOBAL optimizer_search_depth = "+was) })

	kb, err := knowledge.Open(ctx, os.DirFS("testdata/knowledge"), nil)
	require.NoError(t, err)
	defer kb.Close()
	inv := investigate.New(investigate.Tools{Knowledge: kb, Shadow: investigate.NewSQLShadowSide(pdb, sdb, 0),
		Past: investigate.NewMemoryFindingStore()}, nil)
	tasks := investigate.ShadowTasks(shadowReport(now), "")
	require.Len(t, tasks, 1)
	f, err := inv.Investigate(ctx, tasks[0])
	require.NoError(t, err)
	require.NoError(t, f.Validate())
	require.Equal(t, investigate.CategoryScanGrowth, f.Category, "%s %v", f.RootCause, f.Notes)
	require.Equal(t, dataset.Subject{Kind: dataset.SubjectRoute, Key: "audit-trail"}, f.Subject)
	require.Contains(t, f.RootCause, "primary 2, shadow 9000")
	prof := evidenceWith(f, investigate.ToolShadow, "mean scan rows 9000")
	require.Len(t, prof, 1)
	require.True(t, cited(f, prof[0].ID))
	explain := evidenceWith(f, investigate.ToolShadow, "by_account")
	require.Len(t, explain, 1, "the primary's plan uses the index: %+v", f.Evidence)
	require.Contains(t, explain[0].Excerpt, "ALL", "the shadow's plan scans the table")
	require.Contains(t, explain[0].Query, "account_id = ?", "the literal is masked")
	vars := evidenceWith(f, investigate.ToolShadow, "optimizer_search_depth: primary "+was+", shadow 7")
	require.Len(t, vars, 1)
	require.Equal(t, runbook(t, &env{kb: kb}, "runbooks/shadow-scan.md").Recommendations(), f.Recommendations)
}
