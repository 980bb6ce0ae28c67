// Command health-scorer scores StarRocks clusters (package scoring) from
// Prometheus, from a direct scrape of FE/BE /metrics, or from a JSON file,
// writes the snapshots to the health-scores dataset, and sends sentinel
// tasks to the triggers dataset and a webhook.
//
//	health-scorer -prometheus http://prom:9090 -cluster prod-a,prod-b -bucket-url s3://ops
//	health-scorer -scrape http://fe:8030/metrics,http://be1:8040/metrics -cluster prod-a -tier A -once
//	health-scorer -metrics-file clusters.json -once     # format: scoring.MetricsFile
//
// -once scores once, prints the snapshots as a JSON array on stdout and
// exits 0 (all healthy), 1 (a cluster at warning or critical), 3 (a cluster
// could not be scored) or 2 (error). Otherwise it scores every -interval and
// serves /metrics, /healthz, /readyz on -metrics-listen until SIGTERM. Every
// flag can be set as SQLSHADOW_<FLAG> (-bucket-url: SQLSHADOW_BUCKET_URL);
// the cooldown DSN (it holds a password) preferably so, or from a file.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/sqlshadow/sqlshadow/examples/internal/cli"
	"github.com/sqlshadow/sqlshadow/scoring"
	"github.com/sqlshadow/sqlshadow/sink"
)

func main() {
	ctx, stop := cli.SignalContext()
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("health-scorer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	promURL := fs.String("prometheus", "", "Prometheus base URL (metrics, 7-day trend and ALERTS)")
	scrape := fs.String("scrape", "", "comma-separated StarRocks FE and BE /metrics URLs")
	file := fs.String("metrics-file", "", "JSON file of cluster values (see scoring.MetricsFile)")
	clusters := fs.String("cluster", "", "cluster name(s), comma-separated (the Prometheus cluster label value; with -metrics-file default: every cluster in the file)")
	clusterLabel := fs.String("cluster-label", "cluster", "Prometheus label that tells clusters apart")
	tier := fs.String("tier", "", "service tier of the cluster(s): S (factor 0.8), A (0.9), others 1.0")
	interval := fs.Duration("interval", 15*time.Minute, "time between evaluations")
	once := fs.Bool("once", false, "score once, print JSON to stdout, exit")
	rateWindow := fs.Duration("rate-window", 30*time.Second, "-scrape: time between the two scrapes; -prometheus: rate() range is 5m")
	bucketURL := fs.String("bucket-url", "", "gocloud blob URL: snapshots go to health-scores/, tasks to triggers/")
	webhook := fs.String("webhook", "", "URL that receives each sentinel task as a JSON POST")
	cooldownDSN := fs.String("cooldown-dsn", "", "MySQL/MariaDB DSN of the cooldown store (prefer SQLSHADOW_COOLDOWN_DSN); empty: in memory")
	cooldownFile := fs.String("cooldown-dsn-file", "", "read the cooldown DSN from this file")
	cooldown := fs.Duration("cooldown", 4*time.Hour, "cooldown per (cluster, trigger)")
	metricsListen := fs.String("metrics-listen", "127.0.0.1:9107", "address of /metrics, /healthz, /readyz (empty: off)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := cli.Parse(fs, args); err != nil {
		return cli.ExitError
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(*logLevel))
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})).With("cmd", "health-scorer")
	fail := func(msg string, err error) int { log.Error(msg, "err", err); return cli.ExitError }
	names := split(*clusters)
	if n := btoi(*promURL != "") + btoi(*scrape != "") + btoi(*file != ""); n != 1 {
		fs.Usage()
		return fail("usage", errors.New("give exactly one of -prometheus, -scrape, -metrics-file"))
	}
	reg := cli.Registry()
	opts := &scoring.MonitorOptions{Interval: *interval, Registerer: reg, Logger: log}
	var src scoring.Source
	switch {
	case *promURL != "":
		p, err := scoring.NewPrometheusSource(*promURL, nil, &scoring.PrometheusOptions{ClusterLabel: *clusterLabel})
		if err != nil {
			return fail("prometheus", err)
		}
		src, opts.Alerts = p, p
	case *scrape != "":
		if len(names) != 1 {
			return fail("usage", errors.New("-scrape needs exactly one -cluster: the targets are that cluster"))
		}
		s, err := scoring.NewScrapeSource(split(*scrape), &scoring.ScrapeOptions{RateWindow: *rateWindow})
		if err != nil {
			return fail("scrape", err)
		}
		src = s
		opts.History = scoring.SourceFunc(func(context.Context, string, time.Time) (scoring.Metrics, error) {
			return scoring.Metrics{}, scoring.ErrNoHistory
		})
	default:
		f, err := os.Open(*file)
		if err != nil {
			return fail("metrics file", err)
		}
		mf, err := scoring.ParseMetricsFile(f)
		f.Close()
		if err != nil {
			return fail("metrics file", err)
		}
		s := scoring.NewStaticSource(mf.Clusters)
		src, opts.Alerts, opts.Tiers, opts.History = s, s, s, s.History()
		if len(names) == 0 {
			names = s.Clusters()
		}
	}
	if len(names) == 0 {
		return fail("usage", errors.New("-cluster is required"))
	}
	if *tier != "" {
		t, err := scoring.ParseTier(*tier)
		if err != nil {
			return fail("usage", err)
		}
		tiers := scoring.StaticTiers{}
		for _, n := range names {
			tiers[n] = t
		}
		opts.Tiers = tiers
	}

	var notifiers scoring.Notifiers
	if *bucketURL != "" {
		bucket, err := sink.OpenBucket(ctx, *bucketURL)
		if err != nil {
			return fail("bucket", err)
		}
		defer bucket.Close()
		for _, ds := range []string{scoring.Dataset, scoring.TriggersDataset} {
			w, err := sink.NewWriter(bucket, ds, &sink.WriterOptions{Registerer: reg, Logger: log})
			if err != nil {
				return fail("sink", err)
			}
			defer closeSink(w, log.Warn)
			if ds == scoring.Dataset {
				opts.Sink = w
			} else {
				notifiers = append(notifiers, scoring.NewSinkNotifier(w))
			}
		}
		if *scrape != "" { // a scrape has no past: the trend comes from our own snapshots
			opts.History = scoring.NewDatasetHistory(bucket, nil)
		}
	}
	if *webhook != "" {
		wh, err := scoring.NewWebhookNotifier(*webhook, nil)
		if err != nil {
			return fail("webhook", err)
		}
		notifiers = append(notifiers, wh)
	}
	notifiers = append(notifiers, scoring.NotifierFunc(func(_ context.Context, t scoring.Task) error {
		log.Warn("sentinel task", "cluster", t.Cluster, "trigger", t.Trigger, "priority", t.Priority, "reason", t.Reason)
		return nil
	}))
	var store scoring.CooldownStore = scoring.NewMemoryStore()
	dsn, err := cli.Secret(cli.EnvName("cooldown-dsn"), *cooldownFile)
	if err != nil {
		return fail("cooldown DSN", err)
	}
	if dsn == "" {
		dsn = *cooldownDSN
	}
	if dsn != "" {
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			return fail("cooldown store", errors.New("bad -cooldown-dsn")) // never echo a DSN
		}
		defer db.Close()
		s, err := scoring.NewSQLStore(db, nil)
		if err == nil {
			err = s.Init(ctx)
		}
		if err != nil {
			return fail("cooldown store", err)
		}
		store = s
	}
	if opts.Sentinel, err = scoring.NewSentinel(store, notifiers, &scoring.SentinelOptions{Cooldown: *cooldown}); err != nil {
		return fail("sentinel", err)
	}
	mon, err := scoring.NewMonitor(src, names, opts)
	if err != nil {
		return fail("monitor", err)
	}

	if *once {
		return printOnce(ctx, mon, stdout, log.Error)
	}
	ops, err := cli.ServeOps(*metricsListen, reg, log)
	if err != nil {
		return fail("metrics", err)
	}
	ops.SetReady(true)
	log.Info("scoring", "clusters", names, "interval", *interval, "metrics", ops.Addr())
	_ = mon.Run(ctx)
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = ops.Shutdown(shut)
	return cli.ExitOK
}

// printOnce evaluates once and maps the classes to the exit code.
func printOnce(ctx context.Context, mon *scoring.Monitor, stdout io.Writer, logErr func(string, ...any)) int {
	res, err := mon.Evaluate(ctx)
	if err != nil {
		logErr("evaluate", "err", err)
		return cli.ExitError
	}
	code := cli.ExitOK
	snaps := []*scoring.Snapshot{}
	for _, r := range res {
		switch {
		case r.Snapshot == nil && errors.Is(r.Err, scoring.ErrNoMetrics):
			logErr("inconclusive", "cluster", r.Cluster, "err", r.Err)
			if code != cli.ExitError {
				code = cli.ExitInconclusive
			}
		case r.Snapshot == nil:
			logErr("evaluate", "cluster", r.Cluster, "err", r.Err)
			code = cli.ExitError
		default:
			if r.Err != nil {
				logErr("evaluate", "cluster", r.Cluster, "err", r.Err)
			}
			snaps = append(snaps, r.Snapshot)
			if r.Snapshot.Class != scoring.ClassHealthy && code == cli.ExitOK {
				code = cli.ExitFindings
			}
		}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(snaps); err != nil {
		return cli.ExitError
	}
	return code
}

func closeSink(s sink.Sink, warn func(string, ...any)) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		warn("closing sink", "err", err)
	}
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
