// Command shadow-report turns the query logs the shadow proxy wrote into a
// verdict: which routes or query shapes got slower on the shadow, which
// statements fail only there, which answers differ, and what is only noise.
//
//	shadow-report -bucket-url file:///var/lib/sqlshadow -out report/ -fail
//	shadow-report -bucket-url s3://logs?region=eu-west-1 -from 2026-11-20T00:00:00Z -to 2026-11-21T00:00:00Z
//	shadow-report -bucket-url file:///logs -windows 2026-11-20T00:00:00Z/2026-11-20T06:00:00Z,2026-11-20T12:00:00Z/2026-11-20T18:00:00Z
//
// It writes report.json (schema sqlshadow.shadow-report/v1), report.md and
// report.html (self-contained, charts as inline SVG) into -out and prints the
// verdict, the summary and one line per finding. Exit codes: 0 done (or, with -fail, pass), 1 findings (with -fail),
// 2 error or usage, 3 inconclusive (with -fail). Every flag can be set from
// the environment: SQLSHADOW_BUCKET_URL, SQLSHADOW_FROM, ...
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sqlshadow/sqlshadow/compare"
	"github.com/sqlshadow/sqlshadow/compare/shadow"
	"github.com/sqlshadow/sqlshadow/examples/internal/cli"
	"github.com/sqlshadow/sqlshadow/sink"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("shadow-report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bucketURL := fs.String("bucket-url", "", "gocloud blob URL of the root where datasets live (file:///dir, s3://..., gs://...)")
	fromS := fs.String("from", "", "start of the window, RFC 3339 (default: -to minus 24h)")
	toS := fs.String("to", "", "end of the window, RFC 3339 (default: now)")
	out := fs.String("out", ".", "directory for report.json, report.md and report.html")
	ratio := fs.Float64("ratio", 1.5, "smallest shadow/primary latency ratio reported as a regression")
	alpha := fs.Float64("alpha", 0.01, "significance level of the Benjamini-Hochberg adjusted p-values")
	grace := fs.Duration("grace", 15*time.Minute, "how long after an hour ends its logs count as complete")
	failOn := fs.Bool("fail", false, "exit 1 when anything was found (3 when inconclusive)")
	windows := fs.String("windows", "", "before/after mode: FROM/TO,FROM/TO (RFC 3339) of one side")
	target := fs.String("windows-target", "shadow", "side compared in before/after mode: shadow or primary")
	dataset := fs.String("dataset", shadow.QueryLogsDataset, "query-log dataset under the bucket")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := cli.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cli.ExitOK
		}
		fmt.Fprintln(stderr, "shadow-report:", err)
		return cli.ExitError
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "shadow-report: "+format+"\n", a...)
		return cli.ExitError
	}
	if *bucketURL == "" {
		return usage("-bucket-url is required")
	}
	to := time.Now().UTC()
	var err error
	if *toS != "" {
		if to, err = time.Parse(time.RFC3339, *toS); err != nil {
			return usage("-to: %v", err)
		}
	}
	from := to.Add(-24 * time.Hour)
	if *fromS != "" {
		if from, err = time.Parse(time.RFC3339, *fromS); err != nil {
			return usage("-from: %v", err)
		}
	}
	if !from.Before(to) {
		return usage("-from must be before -to")
	}
	opts := &shadow.Options{Ratio: *ratio, Alpha: *alpha, Grace: *grace, Dataset: *dataset, Logger: cli.Logger(*logLevel)}
	if *grace == 0 {
		opts.Grace = -1
	}
	if *windows != "" {
		ba, err := parseWindows(*windows)
		if err != nil {
			return usage("-windows: %v", err)
		}
		ba.Target = *target
		opts.BeforeAfter = ba
	}

	ctx, stop := cli.SignalContext()
	defer stop()
	bucket, err := sink.OpenBucket(ctx, *bucketURL)
	if err != nil {
		fmt.Fprintln(stderr, "shadow-report:", err)
		return cli.ExitError
	}
	defer func() { _ = bucket.Close() }()
	return compare.Main(ctx, shadow.New(bucket, shadow.Window{From: from, To: to}, opts), &compare.MainOptions{
		Name: "shadow-report", Dir: *out, Stdout: stdout, Stderr: stderr, ReportOnly: !*failOn,
	})
}

// parseWindows parses "FROM/TO,FROM/TO".
func parseWindows(s string) (*shadow.BeforeAfter, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 2 {
		return nil, fmt.Errorf("want FROM/TO,FROM/TO, got %q", s)
	}
	var ws [2]shadow.Window
	for i, p := range parts {
		a, b, ok := strings.Cut(strings.TrimSpace(p), "/")
		if !ok {
			return nil, fmt.Errorf("want FROM/TO, got %q", p)
		}
		from, err := time.Parse(time.RFC3339, a)
		if err != nil {
			return nil, err
		}
		to, err := time.Parse(time.RFC3339, b)
		if err != nil {
			return nil, err
		}
		ws[i] = shadow.Window{From: from, To: to}
	}
	return &shadow.BeforeAfter{Before: ws[0], After: ws[1]}, nil
}
