// Command shadow-proxy is the MySQL-protocol proxy of sqlshadow: clients
// connect to it as to the primary and get the primary's answers; with
// -shadow, every command is also mirrored to the shadow after the client has
// its answer; both sides are logged to the query-logs dataset under
// -bucket-url.
//
//	SQLSHADOW_SHADOW_PASSWORD=... shadow-proxy -listen 127.0.0.1:9030 \
//	    -primary 10.0.0.5:9030 -shadow 10.0.1.5:9030 -shadow-user mirror \
//	    -bucket-url file:///var/lib/sqlshadow -metrics-listen 127.0.0.1:9031
//
// Every flag can also be set from the environment as SQLSHADOW_<FLAG>
// (-bucket-url -> SQLSHADOW_BUCKET_URL). It serves /metrics, /healthz and
// /readyz on -metrics-listen and shuts down gracefully on SIGTERM or SIGINT.
// Exit codes: 0 after a clean shutdown, 2 on a usage or start-up error.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/examples/internal/cli"
	"github.com/sqlshadow/sqlshadow/mirror"
	"github.com/sqlshadow/sqlshadow/sink"
)

func main() {
	ctx, stop := cli.SignalContext()
	defer stop()
	os.Exit(run(ctx, os.Args[1:], nil))
}

// run is the program; ready, when not nil, receives the proxy's address once
// it serves (for tests).
func run(ctx context.Context, args []string, ready chan<- string) int {
	cfg, err := parseFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "shadow-proxy:", err)
		return cli.ExitError
	}
	log := cli.Logger(cfg.logLevel)
	if err := serve(ctx, cfg, log, ready); err != nil {
		log.Error("shadow-proxy", "err", err)
		return cli.ExitError
	}
	return cli.ExitOK
}

func serve(ctx context.Context, cfg *config, log *slog.Logger, ready chan<- string) error {
	reg := cli.Registry()
	opts := &mirror.Options{
		AllowCleartextAuth: cfg.allowCleartext, ConnectTimeout: cfg.connectTimeout, IdleTimeout: cfg.idleTimeout,
		OmitQueryText: cfg.redact, Registerer: reg, Logger: log,
	}
	if cfg.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			return fmt.Errorf("client TLS: %w", err)
		}
		opts.ClientTLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	var err error
	if opts.PrimaryTLS, err = verifyingTLS(cfg.primaryTLS || cfg.primaryTLSAlways, cfg.primaryCA, cfg.primaryServerName, cfg.primaryInsecure); err != nil {
		return fmt.Errorf("primary TLS: %w", err)
	}
	opts.PrimaryTLSAlways = cfg.primaryTLSAlways
	var logs *sink.Writer
	if cfg.bucketURL != "" {
		bucket, err := sink.OpenBucket(ctx, cfg.bucketURL)
		if err != nil {
			return err
		}
		defer bucket.Close()
		logs, err = sink.NewWriter(bucket, dataset.QueryLogs, &sink.WriterOptions{
			DropWhenFull: true, Format: cfg.logFormat, Gzip: cfg.gzip, Registerer: reg, Logger: log,
		})
		if err != nil {
			return err
		}
		opts.Sink = logs
	}
	if cfg.shadow.addr != "" {
		so, err := cfg.shadow.options(opts.Sink, cfg.redact, reg, log)
		if err != nil {
			return err
		}
		if opts.Mirror, err = mirror.NewShadow(cfg.shadow.addr, so); err != nil {
			return err
		}
	}
	proxy, err := mirror.New(cfg.primary, opts) // owns the shadow from here
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		_ = proxy.Close()
		return err
	}
	log.Info("shadow-proxy listening", "listen", l.Addr().String(), "primary", cfg.primary, "shadow", cfg.shadow.addr,
		"bucket_url", cfg.bucketURL, "client_tls", opts.ClientTLS != nil, "primary_tls", opts.PrimaryTLS != nil)
	var extra []cli.Route
	if cfg.pprof {
		extra = []cli.Route{
			{Pattern: "/debug/pprof/", Handler: http.HandlerFunc(pprof.Index)},
			{Pattern: "/debug/pprof/profile", Handler: http.HandlerFunc(pprof.Profile)},
			{Pattern: "/debug/pprof/trace", Handler: http.HandlerFunc(pprof.Trace)},
		}
	}
	ops, err := cli.ServeOps(cfg.metricsListen, reg, log, extra...)
	if err != nil {
		_ = l.Close()
		_ = proxy.Close()
		return err
	}
	ops.SetReady(true)
	if ready != nil {
		ready <- l.Addr().String()
	}
	served := make(chan error, 1)
	go func() { served <- proxy.Serve(l) }()
	select {
	case err = <-served:
	case <-ctx.Done():
		log.Info("shadow-proxy shutting down")
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.drainTimeout)
	defer cancel()
	// Stops accepting, lets the sessions finish, drains the shadow, flushes the log.
	if serr := proxy.Shutdown(sctx); err == nil {
		err = serr
	}
	if logs != nil {
		if cerr := logs.Close(sctx); err == nil {
			err = cerr
		}
	}
	_ = ops.Shutdown(sctx)
	if errors.Is(err, mirror.ErrProxyClosed) {
		err = nil
	}
	return err
}
