// Command profile-collector collects execution profiles and statistics from
// StarRocks FEs (or a MySQL/MariaDB server's performance_schema) and writes
// them to the profiles/ dataset of a bucket, beside the query logs.
//
//	SQLSHADOW_FE_PASSWORD=... profile-collector -fe-dns kube-starrocks-fe-search.starrocks.svc.cluster.local:8030 \
//	    -fe-user collector -cluster prod -bucket-url s3://logs?region=eu-west-1 -metrics-listen :9102
//	SQLSHADOW_MYSQL_DSN='user:pw@tcp(db:3306)/' profile-collector -cluster maria -bucket-url file:///var/lib/sqlshadow
//
// Every flag can be set from the environment (SQLSHADOW_<FLAG>); passwords
// and DSNs belong there or in files, never on the command line. It stops,
// after a final flush, on SIGTERM or SIGINT. Exit codes: 0 after a clean
// stop, 2 on bad usage or a fatal error.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/examples/internal/cli"
	"github.com/sqlshadow/sqlshadow/profile"
	"github.com/sqlshadow/sqlshadow/sink"
)

func main() {
	ctx, stop := cli.SignalContext()
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("profile-collector", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fes := fs.String("fe", "", "comma-separated FE HTTP endpoints host:port (port 8030 by default on StarRocks)")
	feDNS := fs.String("fe-dns", "", "name:port of a headless service whose A records list every FE (re-resolved each poll)")
	feUser := fs.String("fe-user", "", "FE user for HTTP Basic auth")
	fePassword := cli.RegisterSecretFlag(fs, "fe-password", "FE password: set it as SQLSHADOW_FE_PASSWORD or use -fe-password-file, not on the command line", "file holding the FE password")
	feHTTPS := fs.Bool("fe-https", false, "talk HTTPS to the FEs")
	feAPI := fs.String("fe-api", "v1", "FE API: v1 (every version) or v2 (4.0+)")
	profileWait := fs.Duration("profile-wait", 15*time.Second, "how long to retry a profile the FE does not have yet")
	noProfiles := fs.Bool("no-profiles", false, "do not fetch profile texts")
	cluster := fs.String("cluster", "", "cluster name written in every record")
	mysqlDSN := cli.RegisterSecretFlag(fs, "mysql-dsn", "MySQL DSN (user:pw@tcp(host:3306)/) to read performance_schema instead of FEs: set it as SQLSHADOW_MYSQL_DSN or use -mysql-dsn-file", "file holding the MySQL DSN")
	enableConsumers := fs.Bool("enable-consumers", false, "turn on the performance_schema consumers the collector needs (needs UPDATE on setup_consumers)")
	bucketURL := fs.String("bucket-url", "", "gocloud blob URL of the root of the datasets (records go under profiles/)")
	logFormat := cli.LogFormatFlag(fs)
	checkpoint := fs.String("checkpoint", "", "file to save the FE cursors in, to resume after a restart")
	interval := fs.Duration("poll-interval", 5*time.Second, "time between polls (keep well below the FE retention of 30s)")
	metricsListen := fs.String("metrics-listen", "", "address for /metrics, /healthz and /readyz (empty: none)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := cli.Parse(fs, args); err != nil {
		return cli.ExitError
	}
	log := cli.Logger(*logLevel)
	fail := func(msg string, err error) int { log.Error(msg, "err", err); return cli.ExitError }
	password, err := fePassword.Value()
	if err != nil {
		return fail("FE password", err)
	}
	dsn, err := mysqlDSN.Value()
	if err != nil {
		return fail("MySQL DSN", err)
	}
	if *bucketURL == "" || cli.Given(*fes, *feDNS, dsn) != 1 {
		fmt.Fprintln(stderr, "profile-collector: need -bucket-url and exactly one of -fe, -fe-dns or a MySQL DSN")
		fs.Usage()
		return cli.ExitError
	}

	reg := cli.Registry()
	opts := &profile.Options{Cluster: *cluster, Interval: *interval, Registerer: reg, Logger: log,
		FE: &profile.FEOptions{User: *feUser, Password: password, API: *feAPI, ProfileWait: *profileWait, NoProfiles: *noProfiles}}
	if *feHTTPS {
		opts.FE.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if *checkpoint != "" {
		opts.Checkpoint = profile.NewFileCheckpoint(*checkpoint)
	}
	var disc profile.Discovery
	switch {
	case *fes != "":
		disc = profile.StaticDiscovery(cli.List(*fes)...)
	case *feDNS != "":
		if disc, err = profile.DNSDiscovery(*feDNS, nil); err != nil {
			return fail("-fe-dns", err)
		}
	default:
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			return fail("MySQL DSN", errors.New("cannot parse it (not echoed)"))
		}
		db, err := cli.OpenMySQL("mysql-dsn", dsn)
		if err != nil {
			return fail("MySQL", err)
		}
		defer db.Close()
		src := profile.NewPerfSchemaSource(db, cfg.Addr, &profile.PerfSchemaOptions{Cluster: *cluster, Logger: log})
		if *enableConsumers {
			if err := src.EnableConsumers(ctx); err != nil {
				return fail("enable consumers", err)
			}
		}
		if check, err := src.Check(ctx); err != nil {
			return fail("performance_schema check", err)
		} else if len(check.Problems) > 0 {
			log.Warn("performance_schema is not fully set up", "problems", strings.Join(check.Problems, "; "))
		}
		disc = profile.StaticDiscovery(cfg.Addr)
		opts.NewSource = func(string) (profile.ProfileSource, error) { return src, nil }
	}

	bucket, err := sink.OpenBucket(ctx, *bucketURL)
	if err != nil {
		return fail("bucket", err)
	}
	defer bucket.Close()
	w, err := cli.NewWriter[dataset.Profile](bucket, dataset.Profiles, *logFormat, reg, log)
	if err != nil {
		return fail("sink", err)
	}
	c, err := profile.NewCollector(w, disc, opts)
	if err != nil {
		return fail("collector", err)
	}
	ops, err := cli.ServeOps(*metricsListen, reg, log)
	if err != nil {
		return fail("metrics", err)
	}
	ops.ReadyWhen(c.Ready)
	log.Info("profile-collector started", "cluster", *cluster, "bucket", *bucketURL)
	runErr := c.Run(ctx) // returns after the final flush; the Collector then runs nothing
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	closeErr := w.Close(sctx)
	_ = ops.Shutdown(sctx)
	if err := errors.Join(runErr, closeErr); err != nil {
		return fail("shutdown", err)
	}
	log.Info("profile-collector stopped")
	return cli.ExitOK
}
