package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	_ "github.com/go-sql-driver/mysql" // the starrocks-audit-table source's DSN

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/examples/internal/cli"
	"github.com/sqlshadow/sqlshadow/replay"
	"github.com/sqlshadow/sqlshadow/sink"
	"github.com/sqlshadow/sqlshadow/sink/drivers"
)

// runCmd is "replay run": flags to replay.Options, then Run.
func runCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sf := addSourceFlags(fs, "KIND:LOCATION; KIND is starrocks-audit (files or directories, comma-separated), starrocks-audit-table (a DSN), slowlog, generallog (files) or querylog (a bucket URL)",
		"replay statements that started at or after this time, RFC 3339")
	primary := fs.String("primary", "", "primary (or baseline) target, host:port")
	shadowAddr := fs.String("shadow", "", "shadow (or candidate) target, host:port (optional)")
	user := fs.String("user", "", "user both targets log in as (password in SQLSHADOW_PASSWORD)")
	bucketURL := fs.String("bucket-url", "", "where the query logs go (file:///dir, s3://..., gs://...)")
	logFormat := cli.LogFormatFlag(fs)
	perTemplate := fs.Int("per-template", 0, "sample up to N statements per template (0: replay everything, in session order)")
	speed := fs.Float64("speed", 0, "replay at the recorded timing times this factor (2: twice as fast)")
	rate := fs.Float64("rate", 0, "replay at a fixed rate, statements per second")
	workers := fs.Int("workers", 8, "parallel workers (sessions are spread over them)")
	repeat := fs.Int("repeat", 1, "run each statement K times on both targets, interleaved ABBA")
	shardS := fs.String("shard", "", "I/N: replay the sessions of shard I of N (a Kubernetes Indexed Job)")
	writes := fs.Bool("writes", false, "replay writes too, on both targets (read-only statements only by default)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := cli.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cli.ExitOK
		}
		fmt.Fprintln(stderr, "replay run:", err)
		return cli.ExitError
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "replay run: "+format+"\n", a...)
		return cli.ExitError
	}
	if *sf.spec == "" || *primary == "" || *bucketURL == "" {
		return fail("-source, -primary and -bucket-url are required")
	}
	win, err := sf.window()
	if err != nil {
		return fail("%v", err)
	}
	var shard replay.Shard
	if *shardS != "" {
		if shard, err = replay.ParseShard(*shardS); err != nil {
			return fail("-shard: %v", err)
		}
	}
	password, err := cli.Secret("SQLSHADOW_PASSWORD", "")
	if err != nil {
		return fail("%v", err)
	}

	ctx, stop := cli.SignalContext()
	defer stop()
	bucket, err := sink.OpenBucket(ctx, *bucketURL)
	if err != nil {
		return fail("%v", err)
	}
	defer func() { _ = bucket.Close() }()
	src, total, closeSrc, err := sf.open(ctx, stdout, win, *writes, *perTemplate)
	if err != nil {
		return fail("%v", err)
	}
	defer closeSrc()

	format, err := cli.LogFormat[dataset.QueryLog](*logFormat)
	if err != nil {
		return fail("%v", err)
	}
	w, err := sink.NewWriter(bucket, dataset.QueryLogs, &sink.WriterOptions{Format: format, Aborter: drivers.AbortGCS})
	if err != nil {
		return fail("%v", err)
	}
	opts := replay.Options{
		Primary: replay.Target{Addr: *primary, User: *user, Password: password, Writable: *writes},
		Sink:    w, Speed: *speed, Rate: *rate, Workers: *workers, Repeat: *repeat, Shard: shard, Total: total,
		Logger: cli.Logger(*logLevel),
	}
	if *shadowAddr != "" {
		opts.Shadow = &replay.Target{Addr: *shadowAddr, User: *user, Password: password, Writable: *writes}
	}
	r, err := replay.NewRunner(opts)
	if err != nil {
		_ = w.Close(context.Background())
		return fail("%v", err)
	}
	stopProgress := progressLine(stderr, r)
	stats, runErr := r.Run(ctx, src)
	stopProgress()
	closeCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.Close(closeCtx); err != nil {
		return fail("query logs: %v", err)
	}
	ss := src.Stats()
	fmt.Fprintf(stdout, "replayed %d statements (other shards %d, skipped %d, malformed %d): primary %d runs, %d failed; shadow %d runs, %d failed; %d mismatches; %d records not written\n",
		stats.Statements, stats.OtherShards, ss.Skipped, ss.Malformed, stats.Primary.Runs, stats.Primary.Failed,
		stats.Shadow.Runs, stats.Shadow.Failed, stats.Mismatches, stats.RecordErrors)
	for _, m := range ss.FirstMalformed {
		fmt.Fprintf(stderr, "malformed: %s: %s\n", m.Pos, m.Reason)
	}
	switch {
	case runErr != nil && ctx.Err() != nil:
		fmt.Fprintln(stderr, "replay run: interrupted")
		return cli.ExitInconclusive
	case runErr != nil:
		return fail("%v", runErr)
	case stats.Statements == 0:
		fmt.Fprintln(stderr, "replay run: nothing to replay")
		return cli.ExitInconclusive
	case stats.Mismatches > 0 || stats.RecordErrors > 0:
		return cli.ExitFindings
	}
	return cli.ExitOK
}

// openSource opens KIND:LOCATION.
func openSource(ctx context.Context, spec, table string, from, to time.Time, loc *time.Location) (replay.Source, func(), error) {
	kind, location, ok := strings.Cut(spec, ":")
	if !ok || location == "" {
		return nil, nil, fmt.Errorf("-source %q: want KIND:LOCATION", spec)
	}
	files := strings.Split(location, ",")
	var src replay.Source
	var err error
	switch kind {
	case "starrocks-audit":
		src, err = replay.OpenAuditLog(files, &replay.AuditLogOptions{Location: loc})
	case "slowlog":
		src, err = replay.OpenSlowLog(files, &replay.LogOptions{Location: loc})
	case "generallog":
		src, err = replay.OpenGeneralLog(files, &replay.LogOptions{Location: loc})
	case "starrocks-audit-table":
		db, err := sql.Open("mysql", location)
		if err != nil {
			return nil, nil, err
		}
		src, err := replay.OpenAuditTable(ctx, db, &replay.AuditTableOptions{Table: table, From: from, To: to, Location: loc})
		if err != nil {
			_ = db.Close()
			return nil, nil, err
		}
		return src, func() { _ = src.Close(); _ = db.Close() }, nil
	case "querylog":
		b, err := sink.OpenBucket(ctx, location)
		if err != nil {
			return nil, nil, err
		}
		src := replay.OpenQueryLog(b, &replay.QueryLogOptions{From: from, To: to})
		return src, func() { _ = src.Close(); _ = b.Close() }, nil
	default:
		return nil, nil, fmt.Errorf("-source kind %q: want starrocks-audit, starrocks-audit-table, slowlog, generallog or querylog", kind)
	}
	if err != nil {
		return nil, nil, err
	}
	return src, func() { _ = src.Close() }, nil
}

// progressLine prints "done of total, rate, errors, ETA" on w every second
// when w is a terminal, and returns the function that stops it (and joins
// its goroutine).
func progressLine(w io.Writer, r *replay.Runner) func() {
	f, ok := w.(*os.File)
	if !ok {
		return func() {}
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprintln(w)
				return
			case <-t.C:
				p := r.Progress()
				rate := float64(p.Done) / max(p.Elapsed.Seconds(), 1e-9)
				line := fmt.Sprintf("\r%d", p.Done)
				if p.Total > 0 {
					line += fmt.Sprintf(" of %d", p.Total)
				}
				line += fmt.Sprintf(" statements, %.0f/s, %d errors", rate, p.Errors)
				if p.Total > 0 && rate > 0 {
					line += fmt.Sprintf(", ETA %s", time.Duration(float64(p.Total-p.Done)/rate*float64(time.Second)).Round(time.Second))
				}
				fmt.Fprint(w, line+"   ")
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
