// Command demo runs the whole sqlshadow loop on one machine with nothing
// installed beyond Go:
//
//  1. an embedded primary and shadow database (go-mysql-server, in process),
//     the shadow differing in three planted ways (one query shape slower, one
//     statement failing, one answer different);
//  2. the shadow proxy in front of the primary, mirroring to the shadow;
//  3. a workload of a few thousand statements from several concurrent
//     clients, text and prepared, tagged with sqlcommenter routes;
//  4. query logs of both sides as Hive-partitioned JSONL in a local directory;
//  5. the shadow report (HTML, Markdown, JSON) and a summary naming what it
//     found.
//
// Run it with `go run ./examples/demo`; -keep leaves the servers running so
// a person can connect (`mariadb -h 127.0.0.1 -P <proxy port> -u root shop`).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sqlshadow/sqlshadow/compare"
	"github.com/sqlshadow/sqlshadow/compare/shadow"
	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/mirror"
	"github.com/sqlshadow/sqlshadow/sink"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is what the flags set.
type config struct {
	statements int
	clients    int
	out        string
	keep       bool
	quiet      bool
	mariadb    bool
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.IntVar(&c.statements, "statements", 3000, "number of statements the workload runs")
	fs.IntVar(&c.clients, "clients", 6, "number of concurrent clients")
	fs.StringVar(&c.out, "out", "sqlshadow-demo", "output directory for the query logs and the report")
	fs.BoolVar(&c.keep, "keep", false, "keep the primary, shadow and proxy running after the report (Ctrl-C to stop)")
	fs.BoolVar(&c.quiet, "quiet", false, "print only the summary")
	fs.BoolVar(&c.mariadb, "mariadb", false, "use two local MariaDB servers (when installed) instead of the embedded engine, and collect their execution profiles")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if c.statements < 100 || c.clients < 1 {
		fmt.Fprintln(stderr, "demo: need -statements >= 100 and -clients >= 1")
		return 2
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	res, err := runDemo(ctx, c, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return 2
	}
	printSummary(stdout, res)
	if c.keep {
		fmt.Fprintf(stdout, "\nServers kept running (Ctrl-C to stop):\n  proxy    mariadb -h 127.0.0.1 -P %s -u root %s\n  primary  127.0.0.1:%s\n  shadow   127.0.0.1:%s\n",
			port(res.proxyAddr), demoDB, port(res.primaryAddr), port(res.shadowAddr))
		<-ctx.Done()
	}
	res.close()
	if !res.foundAll() {
		return 1
	}
	return 0
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// demoResult is what the summary prints.
type demoResult struct {
	report                             *shadow.Report
	outDir, logsDir                    string
	proxyAddr, primaryAddr, shadowAddr string
	profiles                           bool
	statements, clientErrors           int
	elapsed                            time.Duration
	closers                            []func()
}

func (r *demoResult) close() {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
}

func runDemo(ctx context.Context, c config, stdout io.Writer) (*demoResult, error) {
	start := time.Now()
	prog := newProgress(stdout, c.quiet)
	res := &demoResult{}
	ok := false
	defer func() {
		if !ok {
			res.close()
		}
	}()

	out, err := filepath.Abs(c.out)
	if err != nil {
		return nil, err
	}
	res.outDir, res.logsDir = out, filepath.Join(out, "logs")
	// A fresh log directory: the report reads every record in it.
	if err := os.RemoveAll(res.logsDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(res.logsDir, 0o755); err != nil {
		return nil, err
	}

	var be *backends
	if c.mariadb {
		prog.step("starting two local MariaDB servers (primary and shadow)")
		be, err = mariadbBackends(ctx)
	} else {
		prog.step("starting the embedded primary and shadow (go-mysql-server)")
		be, err = embeddedBackends(ctx)
	}
	if err != nil {
		return nil, err
	}
	res.closers = append(res.closers, be.close)
	res.primaryAddr, res.shadowAddr = be.primaryAddr, be.shadowAddr
	res.profiles = be.profiles != nil

	bucket, err := sink.OpenBucket(ctx, "file://"+filepath.ToSlash(res.logsDir))
	if err != nil {
		return nil, err
	}
	res.closers = append(res.closers, func() { bucket.Close() })
	logs, err := sink.NewWriter(bucket, dataset.QueryLogs, &sink.WriterOptions{DropWhenFull: true})
	if err != nil {
		return nil, err
	}
	quietLog := slog.New(slog.DiscardHandler)
	shadowSide, err := mirror.NewShadow(be.shadowAddr, &mirror.ShadowOptions{User: be.user, Password: be.password, Sink: logs, Logger: quietLog})
	if err != nil {
		return nil, err
	}
	proxy, err := mirror.New(be.primaryAddr, &mirror.Options{Sink: logs, Mirror: shadowSide, Logger: quietLog})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	res.proxyAddr = ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- proxy.Serve(ln) }()
	// The proxy owns the shadow side: Shutdown stops accepting, lets the
	// sessions finish, drains the shadow and flushes the logs, in order.
	stopProxy := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = proxy.Shutdown(sctx)
		<-served
		_ = logs.Close(sctx)
	}
	prog.step(fmt.Sprintf("proxy on %s: primary %s, shadow %s", res.proxyAddr, be.primaryAddr, be.shadowAddr))

	stopProfiles, pollProfiles := func() {}, func() {}
	if be.profiles != nil {
		profiles, err := sink.NewWriter(bucket, dataset.Profiles, nil)
		if err != nil {
			stopProxy()
			return nil, err
		}
		poll, stop, err := be.profiles(ctx, profiles)
		if err != nil {
			stopProxy()
			return nil, err
		}
		pollProfiles = poll
		stopProfiles = func() {
			stop()
			cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = profiles.Close(cctx)
		}
		prog.step("collecting execution profiles from both servers' performance_schema")
	}

	prog.step(fmt.Sprintf("running %d statements from %d clients through the proxy", c.statements, c.clients))
	wl, err := runWorkload(ctx, res.proxyAddr, be.user, be.password, c.statements, c.clients, prog.tick, func() {
		// The last poll while the sessions are open, once the shadow has
		// run everything the clients sent.
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		_ = proxy.Flush(fctx)
		pollProfiles()
	})
	prog.done()
	stopProfiles()
	if err != nil {
		stopProxy()
		return nil, err
	}
	res.statements, res.clientErrors = wl.statements, wl.clientErrors

	prog.step("draining the shadow queues and flushing the logs")
	if c.keep {
		// Flush now; the proxy keeps serving until Ctrl-C.
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := proxy.Flush(fctx)
		cancel()
		if err != nil {
			return nil, err
		}
		res.closers = append(res.closers, stopProxy)
	} else {
		stopProxy()
	}

	prog.step("analysing the query logs")
	from := start.Add(-time.Hour)
	an := shadow.New(bucket, shadow.Window{From: from, To: time.Now().Add(time.Hour)}, &shadow.Options{Grace: -1, Logger: quietLog})
	report, err := an.Report(ctx)
	if err != nil {
		return nil, err
	}
	res.report = report
	if err := compare.WriteReports(out, report); err != nil {
		return nil, err
	}
	res.elapsed = time.Since(start)
	ok = true
	return res, nil
}

// planted are the three differences the shadow was built with, and how the
// summary recognises each in the report.
var planted = []struct {
	kind, route, what string
}{
	{shadow.FindingRegression, "audit-trail", "slower on the shadow: its audit_log holds another tenant's rows that the query filters out but must scan"},
	{shadow.FindingShadowFailure, "loyalty", "fails only on the shadow: its customers table has no loyalty_points column"},
	{shadow.FindingResultMismatch, "fx-convert", "a different answer on the shadow: its BRL exchange rate differs"},
}

func (r *demoResult) found(kind, route string) *shadow.Finding {
	if r.report == nil {
		return nil
	}
	for i, f := range r.report.Findings {
		if f.Kind != kind {
			continue
		}
		if strings.Contains(f.Group, route) || strings.Contains(f.Title, route) || strings.Contains(f.Evidence, route) {
			return &r.report.Findings[i]
		}
	}
	return nil
}

// foundAll reports whether the report names every planted difference and,
// with the embedded engine, nothing else. With -mariadb both servers share
// this machine's cores, so the shadow's planted full scans can also lengthen
// the tail of its other queries: further findings are shown, not failed.
func (r *demoResult) foundAll() bool {
	for _, p := range planted {
		if r.found(p.kind, p.route) == nil {
			return false
		}
	}
	return r.profiles || len(r.report.Findings) == len(planted)
}

func printSummary(w io.Writer, r *demoResult) {
	fmt.Fprintf(w, "\nsqlshadow demo: %d statements mirrored in %s (%d client errors, all expected to be 0)\n",
		r.statements, r.elapsed.Round(100*time.Millisecond), r.clientErrors)
	fmt.Fprintf(w, "Verdict: %s: %s\n\nPlanted differences:\n", strings.ToUpper(string(r.report.Outcome)), r.report.SummaryLine)
	for _, p := range planted {
		if f := r.found(p.kind, p.route); f != nil {
			fmt.Fprintf(w, "  [found]   %-15s route %-12s %s\n              evidence: %s\n", p.kind, p.route, p.what, f.Evidence)
		} else {
			fmt.Fprintf(w, "  [MISSED]  %-15s route %-12s %s\n", p.kind, p.route, p.what)
		}
	}
	if extra := len(r.report.Findings) - countFound(r); extra > 0 {
		fmt.Fprintf(w, "  and %d other findings (see the report)\n", extra)
		if r.profiles {
			fmt.Fprintf(w, "  (both MariaDB servers share this machine: the shadow's planted full scans can slow\n   the tail of its other queries too)\n")
		}
	}
	if len(r.report.Noise) > 0 {
		fmt.Fprintf(w, "\nNoise, reported but not flagged:\n")
		for _, n := range r.report.Noise {
			fmt.Fprintf(w, "  %-18s %-28s %d statements: %s\n", n.Kind, n.Group, n.Count, n.Reason)
		}
	}
	if r.profiles {
		printProfileDelta(w, r.report, "route:audit-trail")
	} else {
		fmt.Fprintf(w, "\nThe embedded engine has no execution profiles, so the report has no profile deltas;\nrun with -mariadb (MariaDB installed) to see them, or add examples/profile-collector\nin front of StarRocks.\n")
	}
	fmt.Fprintf(w, "\nReport:  %s\n         %s\n         %s\nLogs:    %s\n",
		filepath.Join(r.outDir, "report.html"), filepath.Join(r.outDir, "report.md"), filepath.Join(r.outDir, "report.json"), r.logsDir)
}

func countFound(r *demoResult) int {
	n := 0
	for _, p := range planted {
		if r.found(p.kind, p.route) != nil {
			n++
		}
	}
	return n
}

// printProfileDelta shows where the time went for one group, from the
// profiles joined to its statements on each side.
func printProfileDelta(w io.Writer, rep *shadow.Report, label string) {
	for _, g := range rep.Groups {
		if g.Label != label {
			continue
		}
		if g.Profiles == nil {
			fmt.Fprintf(w, "\nNo execution profiles were joined to %s.\n", label)
			return
		}
		f := func(v *float64) string {
			if v == nil {
				return "-"
			}
			return fmt.Sprintf("%.1f", *v)
		}
		p, s := g.Profiles.Primary, g.Profiles.Shadow
		fmt.Fprintf(w, "\nWhere the time went in %s (means per statement, from performance_schema):\n", label)
		fmt.Fprintf(w, "  %-22s %12s %12s\n", "", "primary", "shadow")
		fmt.Fprintf(w, "  %-22s %12d %12d\n", "profiles joined", p.Count, s.Count)
		fmt.Fprintf(w, "  %-22s %12s %12s\n", "duration ms", f(p.MeanDurationMS), f(s.MeanDurationMS))
		fmt.Fprintf(w, "  %-22s %12s %12s\n", "rows examined", f(p.MeanScanRows), f(s.MeanScanRows))
		return
	}
	fmt.Fprintf(w, "\nThe report has no group %s.\n", label)
}
