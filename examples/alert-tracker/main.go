// Command alert-tracker receives Alertmanager webhooks, and reads alert
// cards from Lark/Feishu chats (package issues/lark), and tracks the issues
// they group into (package issues):
//
//	POST /webhook/alertmanager            Alertmanager webhook_config url (version 4)
//	GET  /api/issues?cluster=&status=&triage=&id=&limit=
//	POST /api/issues/{id}/triage          {"triage_status": "...", "disposition_status": "..."}
//
//	alert-tracker -listen 127.0.0.1:5050 -store mem
//	SQLSHADOW_STORE='user:pw@tcp(db:3306)/ops' SQLSHADOW_TOKEN=... alert-tracker
//	SQLSHADOW_LARK_APP_SECRET=... alert-tracker -listen '' -lark-app-id cli_... -lark-chat oc_... -lark-mode backfill=30
//
// With -lark-app-id, the -lark-chat chats are read in -lark-mode: once, then
// exit, when -listen is empty; else beside the server, then caught up every
// -lark-every (the catch-up cursor is kept in the -store database on
// MySQL/MariaDB, else in memory).
//
// Every flag can be set as SQLSHADOW_<FLAG> (-metrics-listen:
// SQLSHADOW_METRICS_LISTEN); the DSN and the token, which are secrets,
// preferably so or from a file, and they are never logged. On MySQL/MariaDB
// any number of replicas may share the tables; with -dialect starrocks run
// exactly one. It serves /metrics, /healthz, /readyz on -metrics-listen and
// exits 0 after a graceful shutdown on SIGTERM, 2 on bad usage or a failure.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/examples/internal/cli"
	"github.com/sqlshadow/sqlshadow/issues"
	"github.com/sqlshadow/sqlshadow/issues/lark"
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
	storeFlags := cli.RegisterStoreFlags(fs, "mem")
	tokenFlag := cli.RegisterSecretFlag(fs, "token", "bearer token the webhook and the API require (prefer SQLSHADOW_TOKEN)", "read the token from this file")
	metricsListen := fs.String("metrics-listen", "127.0.0.1:9105", "address of /metrics, /healthz, /readyz (empty: off)")
	bucketURL := fs.String("bucket-url", "", "gocloud blob URL: changed issues also go to its issues/ dataset")
	maxBody := fs.Int64("max-body-bytes", 8<<20, "largest webhook body accepted")
	sweep := fs.Duration("sweep-interval", time.Minute, "how often quiet issues are resolved")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	larkFlags := lark.RegisterFlags(fs)
	if err := cli.Parse(fs, args); err != nil {
		return cli.ExitError
	}
	log := cli.NewLogger(stderr, *logLevel)
	fail := func(err error) int { log.Error("alert-tracker: " + err.Error()); return cli.ExitError }
	token, err := tokenFlag.Value()
	if err != nil {
		return fail(err)
	}

	reg := cli.Registry()
	st, db, err := storeFlags.Open(ctx)
	if err != nil || st == nil {
		return fail(cmp.Or(err, errors.New("-store is empty")))
	}
	if db != nil {
		defer db.Close()
	}
	opts := &issues.TrackerOptions{SweepInterval: *sweep, Registerer: reg, Logger: log}
	if *bucketURL != "" {
		w, closeSink, err := cli.OpenWriter(ctx, *bucketURL, dataset.Issues, reg, log)
		if err != nil {
			return fail(err)
		}
		defer closeSink()
		opts.Sink = w
	}
	tr := issues.NewTracker(st, opts)
	larkCfg, larkOn, err := larkFlags.Config(os.Getenv)
	if err != nil {
		return fail(err)
	}
	var cursors lark.CursorStore // catch-up resumes after a restart on MySQL/MariaDB
	if db != nil && storeFlags.Dialect() == "mysql" {
		if cursors, err = lark.NewSQLCursorStore(ctx, db, storeFlags.Prefix()); err != nil {
			return fail(err)
		}
	}
	if *listen == "" { // no server: one Lark run (or one every -lark-every until SIGTERM)
		if !larkOn {
			return fail(errors.New("-listen is empty and no -lark-app-id: nothing to do"))
		}
		if _, err := lark.Run(ctx, larkCfg, tr, cursors, log); err != nil {
			return cli.ExitError // logged by Run
		}
		return cli.ExitOK
	}

	mux := http.NewServeMux()
	mux.Handle("/webhook/alertmanager", issues.NewWebhookHandler(tr, &issues.WebhookHandlerOptions{Token: token, MaxBodyBytes: *maxBody, Logger: log}))
	mux.Handle("/api/", issues.NewAPIHandler(tr, &issues.APIHandlerOptions{Token: token}))
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
	stopLark := func() error { return nil }
	if larkOn { // beside the server: lark.Run logs its failures, which never stop the server
		stopLark = cli.Background(runCtx, func(ctx context.Context) error { _, err := lark.Run(ctx, larkCfg, tr, cursors, log); return err })
	}
	ops.SetReady(true)
	if ready != nil {
		ready <- l.Addr().String()
	}
	log.Info("alert-tracker: serving", "listen", l.Addr().String(), "metrics", ops.Addr(), "store", storeFlags.Name())

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
	for range pending { // join the server and the sweeper, then the Lark runs
		<-errc
	}
	_ = stopLark()
	return code
}
