package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/sqlshadow/sqlshadow/replay"
)

// sourceFlags are the flags that name a captured workload and its time
// window, shared by the run and replica subcommands.
type sourceFlags struct {
	spec, from, to, table, tz *string
}

func addSourceFlags(fs *flag.FlagSet, specUsage, fromUsage string) *sourceFlags {
	return &sourceFlags{
		spec:  fs.String("source", "", specUsage),
		from:  fs.String("from", "", fromUsage),
		to:    fs.String("to", "", "and before this time, RFC 3339"),
		table: fs.String("audit-table", replay.DefaultAuditTable, "audit table of the starrocks-audit-table source"),
		tz:    fs.String("log-tz", "UTC", "time zone of log timestamps written without one"),
	}
}

// window is a parsed time window and the time zone of zone-less log
// timestamps.
type window struct {
	from, to time.Time
	loc      *time.Location
}

// window parses -from, -to and -log-tz; errors name the flag.
func (f *sourceFlags) window() (window, error) {
	var w window
	var err error
	if *f.from != "" {
		if w.from, err = time.Parse(time.RFC3339, *f.from); err != nil {
			return w, fmt.Errorf("-from: %v", err)
		}
	}
	if *f.to != "" {
		if w.to, err = time.Parse(time.RFC3339, *f.to); err != nil {
			return w, fmt.Errorf("-to: %v", err)
		}
	}
	if w.loc, err = time.LoadLocation(*f.tz); err != nil {
		return w, fmt.Errorf("-log-tz: %v", err)
	}
	return w, nil
}

// open opens the source of the window, keeps the statements the window and
// writes select, and samples up to perTemplate statements per template when
// perTemplate > 0 (printing the coverage to stdout). total is the number of
// sampled statements (0 when not sampled). Call closeSrc when done.
func (f *sourceFlags) open(ctx context.Context, stdout io.Writer, w window, writes bool, perTemplate int) (src replay.Source, total int64, closeSrc func(), err error) {
	src, closeSrc, err = openSource(ctx, *f.spec, *f.table, w.from, w.to, w.loc)
	if err != nil {
		return nil, 0, nil, err
	}
	src = replay.Select(src, replay.Filter{From: w.from, To: w.to, Writes: writes})
	if perTemplate <= 0 {
		return src, 0, closeSrc, nil
	}
	sample, cov, err := replay.Sample(ctx, src, &replay.SampleOptions{PerTemplate: perTemplate})
	if err != nil {
		closeSrc()
		return nil, 0, nil, err
	}
	fmt.Fprintf(stdout, "sample: %d statements of %d, %d templates of %d, %.1f%% of the recorded time\n",
		cov.Kept, cov.Statements, cov.TemplatesKept, cov.Templates, 100*cov.TimeShare())
	return replay.Statements(sample), cov.Kept, closeSrc, nil
}

// readAll returns every statement left in src.
func readAll(ctx context.Context, src replay.Source) ([]replay.Statement, error) {
	var out []replay.Statement
	for {
		st, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
}
