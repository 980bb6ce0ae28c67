// Command investigator investigates sentinel tasks (the triggers dataset
// health-scorer writes under -bucket-url) and the findings of a shadow
// report (-report report.json) with package investigate, and writes each
// Finding to the findings dataset under -bucket-url, to stdout as a JSON
// line, and, with -db-dsn, to a findings table beside the issues store,
// linked to the cluster's issue firing at the task's time.
//
//	investigator -once -bucket-url file:///ops -prometheus http://prom:9090 -knowledge runbooks/ -inventory clusters.json
//
// -once investigates every task of the last -since not yet investigated
// (no finding with its key in the findings dataset), then exits 0, or 2 on
// an error. Without -once it does the same every -interval until SIGTERM.
// -reasoner rules is the deterministic reasoner alone; -reasoner anthropic
// lets a model write the finding on the Anthropic Messages API (package
// investigate/anthropic; key from ANTHROPIC_API_KEY, -anthropic-base-url,
// -anthropic-model), the rules' finding kept when the model fails.
// -mcp-listen ADDR serves the same tools and the knowledge search over MCP
// (streamable HTTP, package investigate/mcp) beside the loop, until the
// program ends. Every flag can be set as SQLSHADOW_<FLAG>; the DSN
// preferably so.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/examples/internal/cli"
	"github.com/sqlshadow/sqlshadow/investigate"
	"github.com/sqlshadow/sqlshadow/investigate/anthropic"
	"github.com/sqlshadow/sqlshadow/investigate/knowledge"
	"github.com/sqlshadow/sqlshadow/investigate/mcp"
	"github.com/sqlshadow/sqlshadow/issues"
	"github.com/sqlshadow/sqlshadow/sink"
)

func main() {
	ctx, stop := cli.SignalContext()
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("investigator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bucketURL := fs.String("bucket-url", "", "gocloud blob URL: tasks from triggers/, findings to findings/")
	promURL := fs.String("prometheus", "", "Prometheus base URL (metrics of the cluster and its siblings)")
	inventory := fs.String("inventory", "", "JSON file of clusters (name, tier, account, version)")
	knowledgeDir := fs.String("knowledge", "", "directory of Markdown runbooks, notes, known bugs and resolutions")
	dsn := fs.String("db-dsn", "", "MySQL/MariaDB DSN of the issues store, operations and findings tables (prefer SQLSHADOW_DB_DSN)")
	report := fs.String("report", "", "a shadow report's report.json: investigate each of its findings")
	reasoner := fs.String("reasoner", "rules", "rules (deterministic) or anthropic (a model, key from ANTHROPIC_API_KEY)")
	anthropicURL := fs.String("anthropic-base-url", "", "base URL of the Anthropic API (default the SDK's)")
	anthropicModel := fs.String("anthropic-model", anthropic.DefaultModel, "model of -reasoner anthropic")
	mcpListen := fs.String("mcp-listen", "", "serve the tools over MCP (streamable HTTP) on this address, beside the loop")
	once := fs.Bool("once", false, "investigate every task not yet investigated, then exit")
	since := fs.Duration("since", 24*time.Hour, "how far back tasks are read")
	interval := fs.Duration("interval", 15*time.Minute, "time between runs without -once")
	budget := fs.Duration("budget", 2*time.Minute, "time budget of one investigation")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := cli.Parse(fs, args); err != nil {
		return cli.ExitError
	}
	log := cli.NewLogger(stderr, *logLevel).With("cmd", "investigator")
	fail := func(msg string, err error) int { log.Error(msg, "err", err); return cli.ExitError }
	var model investigate.Reasoner
	switch *reasoner {
	case "rules":
	case "anthropic":
		r, err := anthropic.New(&anthropic.Options{APIKey: os.Getenv("ANTHROPIC_API_KEY"), BaseURL: *anthropicURL, Model: *anthropicModel})
		if err != nil {
			return fail("usage", fmt.Errorf("-reasoner anthropic: %w (set ANTHROPIC_API_KEY)", err))
		}
		model = r
	default:
		return fail("usage", fmt.Errorf("-reasoner %q: rules or anthropic", *reasoner))
	}
	if *bucketURL == "" {
		return fail("usage", errors.New("-bucket-url is required"))
	}
	bucket, err := sink.OpenBucket(ctx, *bucketURL)
	if err != nil {
		return fail("bucket", err)
	}
	defer bucket.Close()
	out, err := cli.NewWriter[dataset.Finding](bucket, dataset.Findings, "", nil, log)
	if err != nil {
		return fail("sink", err)
	}
	defer cli.CloseSink(out, log)

	var tools investigate.Tools
	var stores []investigate.FindingStore
	if *promURL != "" {
		if tools.Metrics, err = investigate.NewPrometheus(*promURL, nil); err != nil {
			return fail("prometheus", err)
		}
	}
	if *inventory != "" {
		f, err := os.Open(*inventory)
		if err != nil {
			return fail("inventory", err)
		}
		inv, err := investigate.ReadInventory(f)
		f.Close()
		if err != nil {
			return fail("inventory", err)
		}
		tools.Clusters = inv
	}
	if *knowledgeDir != "" {
		ix, err := knowledge.Open(ctx, os.DirFS(*knowledgeDir), nil)
		if err != nil {
			return fail("knowledge", err)
		}
		defer ix.Close()
		tools.Knowledge = ix
	}
	if *dsn != "" { // from -db-dsn or SQLSHADOW_DB_DSN
		db, err := cli.OpenMySQL("db-dsn", *dsn)
		if err != nil {
			return fail("database", err)
		}
		defer db.Close()
		is, err := issues.NewSQLStore(ctx, db, nil)
		if err != nil {
			return fail("issues store", err)
		}
		tools.Alerts = investigate.NewStoreAlerts(is)
		if tools.Operations, err = investigate.NewSQLOperations(ctx, db, ""); err != nil {
			return fail("operations", err)
		}
		past, err := investigate.NewSQLFindingStore(ctx, db, "")
		if err != nil {
			return fail("findings store", err)
		}
		tools.Past = past
		stores = append(stores, past)
	}
	inv := investigate.New(tools, &investigate.Options{Budget: *budget, Logger: log, Model: model})
	if *mcpListen != "" {
		ln, err := net.Listen("tcp", *mcpListen)
		if err != nil {
			return fail("mcp", err)
		}
		log.Info("mcp listening", "addr", ln.Addr().String())
		stopMCP := cli.Background(ctx, func(ctx context.Context) error {
			return mcp.Serve(ctx, ln, mcp.NewServer(inv.Toolbox(), &mcp.Options{Logger: log}), nil)
		})
		defer func() {
			if err := stopMCP(); err != nil {
				log.Error("mcp", "err", err)
			}
		}()
	}
	r := &runner{inv: inv, tools: tools, stores: stores, bucket: bucket, out: out, enc: json.NewEncoder(stdout),
		since: *since, report: *report, log: log}
	for {
		if err := r.once(ctx); err != nil {
			if ctx.Err() != nil { // a signal during a pass: a requested stop
				log.Info("stopped during a pass", "err", err)
				return cli.ExitOK
			}
			return fail("investigate", err)
		}
		if *once {
			return cli.ExitOK
		}
		select {
		case <-ctx.Done():
			return cli.ExitOK
		case <-time.After(*interval):
		}
	}
}
