package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mcpsdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/investigate"
	"github.com/sqlshadow/sqlshadow/investigate/anthropic/anthropictest"
	"github.com/sqlshadow/sqlshadow/investigate/investigatetest"
	"github.com/sqlshadow/sqlshadow/issues"
	"github.com/sqlshadow/sqlshadow/sink"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A sentinel task for a cluster with a planted disk and compaction problem
// becomes, in one -once run without a model, a finding that names it, with
// evidence pointing at the metric series and the alert, and the runbook's
// recommendations; a second run finds nothing new to investigate.
func TestOnceDiskAndCompaction(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Minute)
	prom := investigatetest.StartPrometheus(t, now.Add(-3*time.Hour), now, time.Minute,
		investigatetest.Cluster("prod-a", map[string]func(float64) float64{
			"disk": investigatetest.Linear(72, 94), "compaction": investigatetest.Linear(8, 55)}))

	srv, err := testdb.Start(nil)
	if err != nil {
		testdb.SkipOrFail(t, err)
	}
	t.Cleanup(func() { _ = srv.Remove() })
	dsn := srv.DSN(srv.NewDatabase(t))
	store, err := issues.NewSQLStore(ctx, srv.Open(t, dsnDB(dsn)), nil)
	require.NoError(t, err)
	tr := issues.NewTracker(store, &issues.TrackerOptions{Now: func() time.Time { return now.Add(-20 * time.Minute) }})
	_, err = tr.Ingest(ctx, []issues.Alert{{Source: "am", Status: issues.StatusFiring, StartsAt: now.Add(-25 * time.Minute),
		Labels: map[string]string{"alertname": "BEDiskUsageHigh", "cluster": "prod-a", "severity": "critical"}}})
	require.NoError(t, err)
	open, err := store.Issues(ctx, issues.Filter{Cluster: "prod-a"})
	require.NoError(t, err)
	require.Len(t, open, 1)

	dir := t.TempDir()
	bucketURL := "file://" + dir
	bucket, err := sink.OpenBucket(ctx, bucketURL)
	require.NoError(t, err)
	defer bucket.Close()
	w, err := sink.NewWriter(bucket, dataset.SentinelTasks, nil)
	require.NoError(t, err)
	require.NoError(t, w.Write(ctx, now, dataset.SentinelTask{TS: sink.Time(now), Cluster: "prod-a", Trigger: dataset.TriggerNewCritical,
		Priority: 1, Reason: "score 38 (critical)"}))
	require.NoError(t, w.Close(ctx))
	inv := filepath.Join(dir, "clusters.json")
	require.NoError(t, os.WriteFile(inv, []byte(`[{"name":"prod-a","tier":"A","account":"acme","version":"3.2.11"}]`), 0o600))
	t.Setenv("SQLSHADOW_DB_DSN", dsn)

	args := []string{"-once", "-bucket-url", bucketURL, "-prometheus", prom, "-inventory", inv,
		"-knowledge", "../../investigate/testdata/knowledge", "-reasoner", "rules"}
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run(ctx, args, &stdout, &stderr), stderr.String())
	var f dataset.Finding
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &f), stdout.String())
	require.NoError(t, f.Validate())
	require.Equal(t, investigate.CategoryDiskCompaction, f.Category)
	require.Contains(t, f.RootCause, "94%")
	require.Equal(t, open[0].ID, f.IssueID)
	var tools []string
	for _, e := range f.Evidence {
		tools = append(tools, e.Tool+": "+e.Excerpt)
	}
	joined := strings.Join(tools, "\n")
	require.Contains(t, joined, "metrics: disk_used_pct: 72 at")
	require.Contains(t, joined, "metrics: compaction_score: 8 at")
	require.Contains(t, joined, "alerts: issue "+open[0].ID)
	require.Contains(t, f.Recommendations[0], "ADMIN CLEAN TRASH")
	require.NotEmpty(t, f.ToolCalls)

	// The finding is in the dataset and the findings table.
	stored, err := investigate.ReadFindings(ctx, bucket, now.Add(-time.Hour), time.Time{})
	require.NoError(t, err)
	require.Len(t, stored, 1)
	require.Equal(t, f.Fingerprint, stored[0].Fingerprint)
	past, err := investigate.NewSQLFindingStore(ctx, srv.Open(t, dsnDB(dsn)), "")
	require.NoError(t, err)
	rows, err := past.Findings(ctx, investigate.FindingFilter{Cluster: "prod-a"})
	require.NoError(t, err)
	require.Len(t, rows, 1)

	// Nothing new: a second run investigates nothing.
	stdout.Reset()
	require.Equal(t, 0, run(ctx, args, &stdout, &stderr), stderr.String())
	require.Empty(t, stdout.String())
}

// dsnDB returns the database name of a go-sql-driver DSN.
func dsnDB(dsn string) string {
	_, rest, _ := strings.Cut(dsn, "/")
	name, _, _ := strings.Cut(rest, "?")
	return name
}

func TestUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 2, run(context.Background(), []string{"-once"}, &stdout, &stderr))
	require.Contains(t, stderr.String(), "-bucket-url is required")
	require.Equal(t, 2, run(context.Background(), []string{"-once", "-bucket-url", "mem://", "-reasoner", "magic"}, &stdout, &stderr))
	require.Contains(t, stderr.String(), `-reasoner \"magic\": rules or anthropic`)
	t.Setenv("ANTHROPIC_API_KEY", "")
	require.Equal(t, 2, run(context.Background(), []string{"-once", "-bucket-url", "mem://", "-reasoner", "anthropic"}, &stdout, &stderr))
	require.Contains(t, stderr.String(), "set ANTHROPIC_API_KEY")
}

// plantDisk writes a sentinel task for prod-a, with a planted disk and
// compaction problem in a real Prometheus, and returns the arguments of a
// -once run over them (no database: no alerts, operations or past
// findings).
func plantDisk(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Minute)
	prom := investigatetest.StartPrometheus(t, now.Add(-3*time.Hour), now, time.Minute,
		investigatetest.Cluster("prod-a", map[string]func(float64) float64{
			"disk": investigatetest.Linear(72, 94), "compaction": investigatetest.Linear(8, 55)}))
	dir := t.TempDir()
	bucketURL := "file://" + dir
	bucket, err := sink.OpenBucket(ctx, bucketURL)
	require.NoError(t, err)
	defer bucket.Close()
	w, err := sink.NewWriter(bucket, dataset.SentinelTasks, nil)
	require.NoError(t, err)
	require.NoError(t, w.Write(ctx, now, dataset.SentinelTask{TS: sink.Time(now), Cluster: "prod-a", Trigger: dataset.TriggerNewCritical,
		Priority: 1, Reason: "score 38 (critical)"}))
	require.NoError(t, w.Close(ctx))
	inv := filepath.Join(dir, "clusters.json")
	require.NoError(t, os.WriteFile(inv, []byte(`[{"name":"prod-a","tier":"A","account":"acme","version":"3.2.11"}]`), 0o600))
	return []string{"-once", "-bucket-url", bucketURL, "-prometheus", prom, "-inventory", inv,
		"-knowledge", "../../investigate/testdata/knowledge"}
}

// The same task through the model reasoner, against the scripted Messages
// API: the model reads a metric, then submits a finding citing it; the
// finding is schema-valid and carries the tool-call log of both the steps
// and the model.
func TestOnceAnthropic(t *testing.T) {
	srv := anthropictest.NewServer(t,
		anthropictest.ToolUse(anthropictest.Call{ID: "m1", Name: investigate.ToolMetrics,
			Input: `{"cluster":"prod-a","metric":"compaction_score"}`}),
		anthropictest.Reply{Respond: func(req anthropictest.Request) anthropictest.Reply {
			var res struct {
				EvidenceID string `json:"evidence_id"`
			}
			_ = json.Unmarshal([]byte(req.LastResults()["m1"].ResultText()), &res)
			in, _ := json.Marshal(map[string]any{"severity": "critical", "confidence": 0.8, "category": investigate.CategoryDiskCompaction,
				"title": "prod-a: disk nearly full, compaction behind", "root_cause": "BE disk at 94% while the compaction score rose to 55",
				"confirmed": false, "explanation": "compaction cannot keep up, so versions pile up on disk",
				"hypotheses": []map[string]any{{"category": investigate.CategoryDiskCompaction, "statement": "compaction falls behind",
					"status": "confirmed", "evidence_for": []string{res.EvidenceID}}},
				"recommendations": []string{"ADMIN CLEAN TRASH", "raise compaction threads"}})
			return anthropictest.ToolUse(anthropictest.Call{ID: "s1", Name: "submit_finding", Input: string(in)})
		}})
	t.Setenv("ANTHROPIC_API_KEY", "test-key")
	args := append(plantDisk(t), "-reasoner", "anthropic", "-anthropic-base-url", srv.URL, "-anthropic-model", "claude-test")
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run(context.Background(), args, &stdout, &stderr), stderr.String())
	var f dataset.Finding
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &f), stdout.String())
	require.NoError(t, f.Validate())
	require.Equal(t, "anthropic", f.Reasoner)
	require.Equal(t, investigate.CategoryDiskCompaction, f.Category)
	require.True(t, strings.HasPrefix(f.RootCause, "Possible root cause: BE disk at 94%"))
	require.Len(t, f.Evidence, 1)
	require.Equal(t, "{cluster: prod-a, metric: compaction_score}", f.Evidence[0].Query)
	require.Contains(t, f.Evidence[0].Excerpt, "series: [{points: [{t: ")
	by := map[string][]string{}
	for _, c := range f.ToolCalls {
		by[c.By] = append(by[c.By], c.Tool)
	}
	require.Equal(t, []string{investigate.ToolMetrics}, by["anthropic"])
	require.Contains(t, by["investigator"], investigate.ToolMetrics)
	require.Contains(t, by["investigator"], investigate.ToolKnowledge)
	reqs := srv.Requests()
	require.Equal(t, 2, len(reqs))
	require.Equal(t, "claude-test", reqs[0].Model)
	require.Contains(t, reqs[0].Messages[0].Content[0].Text, "disk_used_pct: 72 at")
}

// -mcp-listen serves the tools beside the loop: an MCP client lists them
// and searches the knowledge base; the server stops with the program.
func TestMCPListen(t *testing.T) {
	args := append(plantDisk(t)[1:], "-mcp-listen", "127.0.0.1:0", "-interval", "1h")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	addr := make(chan string, 1)
	scanned := make(chan struct{})
	var logged strings.Builder // read after scanned is closed
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			logged.WriteString(line + "\n")
			if _, a, ok := strings.Cut(line, " addr="); ok && strings.Contains(line, `msg="mcp listening"`) {
				addr <- strings.Fields(a)[0]
			}
		}
	}()
	var stdout bytes.Buffer
	code := make(chan int, 1)
	go func() { code <- run(ctx, args, &stdout, pw) }()

	var endpoint string
	select {
	case a := <-addr:
		endpoint = "http://" + a
	case c := <-code:
		pw.Close()
		<-scanned
		t.Fatalf("run ended with %d before serving MCP:\n%s", c, logged.String())
	case <-time.After(time.Minute):
		t.Fatal("no \"mcp listening\" line within a minute")
	}
	cs, err := mcpsdk.NewClient(&mcpsdk.Implementation{Name: "test", Version: "v0"}, nil).
		Connect(ctx, &mcpsdk.StreamableClientTransport{Endpoint: endpoint}, nil)
	require.NoError(t, err)
	tools, err := cs.ListTools(ctx, nil)
	require.NoError(t, err)
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
	}
	require.Contains(t, names, investigate.ToolKnowledge)
	require.Contains(t, names, investigate.ToolMetrics)
	res, err := cs.CallTool(ctx, &mcpsdk.CallToolParams{Name: investigate.ToolKnowledge, Arguments: map[string]any{"query": "disk nearly full compaction"}})
	require.NoError(t, err)
	require.False(t, res.IsError)
	require.Contains(t, res.Content[0].(*mcpsdk.TextContent).Text, "runbooks/disk-compaction.md")

	cancel()
	c := <-code
	_ = cs.Close()
	pw.Close()
	<-scanned
	require.Equal(t, 0, c, logged.String())
}
