// Command alert-tracker receives Alertmanager webhooks and tracks the issues
// they group into (package issues):
//
//	POST /webhook/alertmanager            Alertmanager webhook_config url (version 4)
//	GET  /api/issues?cluster=&status=&triage=&id=&limit=
//	POST /api/issues/{id}/triage          {"triage_status": "...", "disposition_status": "..."}
//
//	alert-tracker -listen 127.0.0.1:5050 -store mem
//	SQLSHADOW_STORE='user:pw@tcp(db:3306)/ops' SQLSHADOW_TOKEN=... alert-tracker
//
// Every flag can be set as SQLSHADOW_<FLAG> (-metrics-listen:
// SQLSHADOW_METRICS_LISTEN); the DSN and the token, which are secrets,
// preferably so or from a file, and they are never logged. On MySQL/MariaDB
// any number of replicas may share the tables; with -dialect starrocks run
// exactly one. It serves /metrics, /healthz, /readyz on -metrics-listen and
// exits 0 after a graceful shutdown on SIGTERM, 2 on bad usage or a failure.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/examples/internal/cli"
	"github.com/sqlshadow/sqlshadow/issues"
	"github.com/sqlshadow/sqlshadow/sink"
)

func main() {
	ctx, stop := cli.SignalContext()
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr, nil))
}

// run is the program; ready, if set, receives the webhook/API address once
// serving (for tests).
func run(ctx context.Context, args []string, stderr io.Writer, ready chan<- string) int {
	fs := flag.NewFlagSet("alert-tracker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:5050", "address of the webhook and the API")
	store := fs.String("store", "mem", "mem, or a MySQL/MariaDB/StarRocks DSN user:pw@tcp(host:3306)/db (prefer SQLSHADOW_STORE)")
	storeFile := fs.String("store-file", "", "read the DSN from this file")
	dialect := fs.String("dialect", "mysql", "mysql (MySQL, MariaDB: replicas may share the tables) or starrocks (exactly one writer)")
	prefix := fs.String("table-prefix", "", "prefix of the SQL table names")
	token := fs.String("token", "", "bearer token the webhook and the API require (prefer SQLSHADOW_TOKEN)")
	tokenFile := fs.String("token-file", "", "read the token from this file")
	metricsListen := fs.String("metrics-listen", "127.0.0.1:9105", "address of /metrics, /healthz, /readyz (empty: off)")
	bucketURL := fs.String("bucket-url", "", "gocloud blob URL: changed issues also go to its issues/ dataset")
	maxBody := fs.Int64("max-body-bytes", 8<<20, "largest webhook body accepted")
	sweep := fs.Duration("sweep-interval", time.Minute, "how often quiet issues are resolved")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := cli.Parse(fs, args); err != nil {
		return cli.ExitError
	}
	log := cli.NewLogger(stderr, *logLevel)
	fail := func(err error) int { log.Error("alert-tracker: " + err.Error()); return cli.ExitError }
	var err error
	if *tokenFile != "" && *token == "" {
		if *token, err = cli.Secret("", *tokenFile); err != nil {
			return fail(err)
		}
	}
	if *storeFile != "" {
		if *store, err = cli.Secret("", *storeFile); err != nil {
			return fail(err)
		}
	}

	reg := cli.Registry()
	var st issues.Store = issues.NewMemoryStore()
	if *store != "mem" {
		db, err := sql.Open("mysql", *store)
		if err != nil {
			return fail(errors.New("-store: not a valid DSN")) // it may hold a password: not echoed
		}
		defer db.Close()
		d := issues.MySQL
		if *dialect == "starrocks" {
			d = issues.StarRocks
		}
		if st, err = issues.NewSQLStore(ctx, db, &issues.SQLStoreOptions{Dialect: d, TablePrefix: *prefix}); err != nil {
			return fail(err)
		}
	}
	opts := &issues.TrackerOptions{SweepInterval: *sweep, Registerer: reg, Logger: log}
	if *bucketURL != "" {
		bucket, err := sink.OpenBucket(ctx, *bucketURL)
		if err != nil {
			return fail(err)
		}
		defer bucket.Close()
		w, err := sink.NewWriter(bucket, dataset.Issues, &sink.WriterOptions{Registerer: reg, Logger: log})
		if err != nil {
			return fail(err)
		}
		defer cli.CloseSink(w, log)
		opts.Sink = w
	}
	tr := issues.NewTracker(st, opts)

	mux := http.NewServeMux()
	mux.Handle("/webhook/alertmanager", issues.NewWebhookHandler(tr, &issues.WebhookHandlerOptions{Token: *token, MaxBodyBytes: *maxBody, Logger: log}))
	mux.Handle("/api/", issues.NewAPIHandler(tr, &issues.APIHandlerOptions{Token: *token}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return fail(err)
	}
	ops, err := cli.ServeOps(*metricsListen, reg, log)
	if err != nil {
		l.Close()
		return fail(err)
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(l) }()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { errc <- tr.Run(runCtx) }()
	ops.SetReady(true)
	if ready != nil {
		ready <- l.Addr().String()
	}
	log.Info("alert-tracker: serving", "listen", l.Addr().String(), "metrics", ops.Addr(), "store", storeName(*store))

	code, pending := cli.ExitOK, 2
	select {
	case <-ctx.Done():
	case err := <-errc:
		log.Error("alert-tracker: stopped", "err", err)
		code, pending = cli.ExitError, 1
	}
	shut, done := context.WithTimeout(context.Background(), 20*time.Second)
	defer done()
	_ = ops.Shutdown(shut)
	_ = srv.Shutdown(shut)
	cancel()
	for range pending { // join the server and the sweeper
		<-errc
	}
	return code
}

// storeName is the store without credentials, for logs.
func storeName(dsn string) string {
	if i := strings.LastIndex(dsn, "@"); i >= 0 {
		return dsn[i+1:]
	}
	return dsn
}
