// Command health-scorer scores StarRocks clusters (package scoring) from
// Prometheus, from a direct scrape of FE/BE /metrics, or from a JSON file,
// writes the scores to the health-scores dataset, and sends sentinel tasks
// to the triggers dataset and a webhook.
//
//	health-scorer -prometheus http://prom:9090 -cluster prod-a,prod-b -bucket-url s3://ops
//	health-scorer -scrape http://fe:8030/metrics,http://be1:8040/metrics -cluster prod-a -tier A -once
//	health-scorer -metrics-file clusters.json -once     # format: scoring.MetricsFile
//
// The alert part of the score counts the alerts of Prometheus's ALERTS
// series (-prometheus) or of the file (-metrics-file), unless -store names
// alert-tracker's issues store (the same -store, -store-file, -dialect,
// -table-prefix and SQLSHADOW_STORE as alert-tracker): then it counts the
// firing alerts stored there, from the webhook and from Lark alike.
//
// -once scores once, prints the scores as a JSON array on stdout and exits
// with scoring.EvaluateOnce's code: 0 (all healthy), 1 (a cluster at warning or
// critical), 3 (a cluster had no metrics) or 2 (error). Otherwise it scores
// every -interval and serves /metrics, /healthz, /readyz on -metrics-listen
// until SIGTERM. Every flag can be set as SQLSHADOW_<FLAG> (-bucket-url:
// SQLSHADOW_BUCKET_URL); the cooldown DSN (it holds a password) preferably
// so, or from a file.
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/examples/internal/cli"
	"github.com/sqlshadow/sqlshadow/issues"
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
	bucketURL := fs.String("bucket-url", "", "gocloud blob URL: scores go to health-scores/, tasks to triggers/")
	logFormat := cli.LogFormatFlag(fs)
	webhook := fs.String("webhook", "", "URL that receives each sentinel task as a JSON POST")
	cooldownDSN := cli.RegisterSecretFlag(fs, "cooldown-dsn", "MySQL/MariaDB DSN of the cooldown store (prefer SQLSHADOW_COOLDOWN_DSN); empty: in memory", "read the cooldown DSN from this file")
	cooldown := fs.Duration("cooldown", 4*time.Hour, "cooldown per (cluster, trigger)")
	metricsListen := fs.String("metrics-listen", "127.0.0.1:9107", "address of /metrics, /healthz, /readyz (empty: off)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	alertStore := cli.RegisterStoreFlags(fs, "") // alert-tracker's store: count its alerts, whatever their source
	if err := cli.Parse(fs, args); err != nil {
		return scoring.ExitError
	}
	log := cli.NewLogger(stderr, *logLevel).With("cmd", "health-scorer")
	fail := func(msg string, err error) int { log.Error(msg, "err", err); return scoring.ExitError }
	names := cli.List(*clusters)
	reg := cli.Registry()
	opts := &scoring.MonitorOptions{Interval: *interval, Registerer: reg, Logger: log}
	if cli.Given(*promURL, *scrape, *file) != 1 {
		fs.Usage()
		return fail("usage", errors.New("give exactly one of -prometheus, -scrape, -metrics-file"))
	}
	var src scoring.Source
	switch {
	case *promURL != "":
		p, err := scoring.NewPrometheusSource(*promURL, nil, &scoring.PrometheusSourceOptions{ClusterLabel: *clusterLabel})
		if err != nil {
			return fail("prometheus", err)
		}
		src, opts.Alerts = p, p
	case *scrape != "":
		if len(names) != 1 {
			return fail("usage", errors.New("-scrape needs exactly one -cluster: the targets are that cluster"))
		}
		s, err := scoring.NewScrapeSource(cli.List(*scrape), &scoring.ScrapeSourceOptions{RateWindow: *rateWindow})
		if err != nil {
			return fail("scrape", err)
		}
		src = s // its History is empty (ErrNoHistory) unless -bucket-url gives one below
	default:
		s, err := scoring.ReadMetricsFile(*file)
		if err != nil {
			return fail("metrics file", err)
		}
		src, opts.Alerts, opts.Tiers, opts.History = s, s, s, s.History()
		if len(names) == 0 {
			names = s.Clusters()
		}
	}
	if st, db, err := alertStore.Open(ctx); err != nil {
		return fail("issues store", err)
	} else if db != nil {
		defer db.Close()
		opts.Alerts = scoring.AlertCounterFunc(st.(issues.FiringCounter).CountFiring)
	} else if st != nil {
		return fail("usage", errors.New("-store mem has no alerts: give alert-tracker's SQL store"))
	}
	if *tier != "" {
		t, err := scoring.ParseTier(*tier)
		if err != nil {
			return fail("usage", err)
		}
		opts.Tiers = scoring.UniformTier(t)
	}

	var notifiers scoring.Notifiers
	if *bucketURL != "" {
		bucket, err := sink.OpenBucket(ctx, *bucketURL)
		if err != nil {
			return fail("bucket", err)
		}
		defer bucket.Close()
		scores, err := cli.NewWriter[dataset.HealthScore](bucket, dataset.HealthScores, *logFormat, reg, log)
		if err != nil {
			return fail("sink", err)
		}
		defer cli.CloseSink(scores, log)
		tasks, err := cli.NewWriter[dataset.SentinelTask](bucket, dataset.SentinelTasks, *logFormat, reg, log)
		if err != nil {
			return fail("sink", err)
		}
		defer cli.CloseSink(tasks, log)
		opts.Sink = scores
		notifiers = append(notifiers, scoring.NewSinkNotifier(tasks))
		if *scrape != "" { // a scrape has no past: the trend comes from our own scores
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
	notifiers = append(notifiers, scoring.NewLogNotifier(log))
	var store scoring.CooldownStore = scoring.NewMemoryStore()
	dsn, err := cooldownDSN.Value()
	if err != nil {
		return fail("cooldown DSN", err)
	}
	if dsn != "" {
		db, err := cli.OpenMySQL("cooldown-dsn", dsn)
		if err != nil {
			return fail("cooldown store", err)
		}
		defer db.Close()
		if store, err = scoring.NewSQLStore(ctx, db, nil); err != nil {
			return fail("cooldown store", err)
		}
	}
	if opts.Sentinel, err = scoring.NewSentinel(store, notifiers, &scoring.SentinelOptions{Cooldown: *cooldown}); err != nil {
		return fail("sentinel", err)
	}
	mon, err := scoring.NewMonitor(src, names, opts)
	if err != nil {
		return fail("monitor", err)
	}

	if *once {
		return scoring.EvaluateOnce(ctx, mon, stdout)
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
	return scoring.ExitHealthy
}
