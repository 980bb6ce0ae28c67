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
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"github.com/sqlshadow/sqlshadow/examples/internal/cli"
	"github.com/sqlshadow/sqlshadow/mirror"
	"github.com/sqlshadow/sqlshadow/sink"
)

func main() {
	ctx, stop := cli.SignalContext()
	defer stop()
	os.Exit(run(ctx, os.Args[1:], nil))
}

type config struct {
	listen, primary, bucketURL, metricsListen string
	tlsCert, tlsKey                           string
	primaryTLS                                bool
	primaryCA, primaryServerName              string
	primaryInsecure                           bool
	allowCleartext                            bool
	connectTimeout, idleTimeout, drainTimeout time.Duration
	redact, gzip                              bool
	logLevel                                  string
	pprof                                     bool
	shadow                                    shadowConfig
}

func parseFlags(args []string) (*config, error) {
	var c config
	fs := flag.NewFlagSet("shadow-proxy", flag.ContinueOnError)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:9030", "address clients connect to")
	fs.StringVar(&c.primary, "primary", "", "primary database host:port (required)")
	fs.StringVar(&c.bucketURL, "bucket-url", "", "gocloud blob URL where query-logs/ is written (file:///dir, s3://..., gs://..., mem://); empty: no query log")
	fs.StringVar(&c.metricsListen, "metrics-listen", "127.0.0.1:9031", "address of /metrics, /healthz and /readyz (empty: none)")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "PEM certificate offered to clients (with -tls-key): enables client TLS")
	fs.StringVar(&c.tlsKey, "tls-key", "", "PEM key of -tls-cert")
	fs.BoolVar(&c.primaryTLS, "primary-tls", false, "use TLS to the primary, verifying its certificate")
	fs.StringVar(&c.primaryCA, "primary-tls-ca", "", "PEM CA bundle that verifies the primary (default: system roots); implies -primary-tls")
	fs.StringVar(&c.primaryServerName, "primary-tls-server-name", "", "name to verify in the primary's certificate (default: the host of -primary)")
	fs.BoolVar(&c.primaryInsecure, "primary-tls-insecure-skip-verify", false, "do not verify the primary's certificate (testing only)")
	fs.BoolVar(&c.allowCleartext, "allow-cleartext-auth", false, "allow cleartext authentication plugins when the primary leg is not TLS")
	fs.DurationVar(&c.connectTimeout, "connect-timeout", mirror.DefaultConnectTimeout, "bound on dial, TLS and login on every leg")
	fs.DurationVar(&c.idleTimeout, "idle-timeout", 0, "close client connections idle this long (0: never)")
	fs.DurationVar(&c.drainTimeout, "shutdown-timeout", 30*time.Second, "how long SIGTERM waits for commands in flight and the log flush")
	fs.BoolVar(&c.redact, "redact-query-text", false, "omit query_text from the query log (hashes stay)")
	fs.BoolVar(&c.gzip, "gzip", false, "gzip the query-log objects")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.BoolVar(&c.pprof, "debug-pprof", false, "also serve net/http/pprof under /debug/pprof/ on -metrics-listen")
	c.shadow.register(fs)
	if err := cli.Parse(fs, args); err != nil {
		return nil, err
	}
	if c.primary == "" {
		return nil, errors.New("-primary is required")
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return nil, errors.New("-tls-cert and -tls-key go together")
	}
	return &c, nil
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
		AllowCleartextAuth: cfg.allowCleartext,
		ConnectTimeout:     cfg.connectTimeout,
		IdleTimeout:        cfg.idleTimeout,
		RedactQueryText:    cfg.redact,
		Registerer:         reg,
		Logger:             log,
	}
	if cfg.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			return fmt.Errorf("client TLS: %w", err)
		}
		opts.ClientTLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if cfg.primaryTLS || cfg.primaryCA != "" || cfg.primaryInsecure {
		tc := &tls.Config{ServerName: cfg.primaryServerName, MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.primaryInsecure} //nolint:gosec // opt-in flag
		if cfg.primaryCA != "" {
			pem, err := os.ReadFile(cfg.primaryCA)
			if err != nil {
				return fmt.Errorf("primary TLS CA: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return fmt.Errorf("primary TLS CA %s: no certificate found", cfg.primaryCA)
			}
			tc.RootCAs = pool
		}
		opts.PrimaryTLS = tc
	}
	var logSink *sink.Writer
	if cfg.bucketURL != "" {
		bucket, err := sink.OpenBucket(ctx, cfg.bucketURL)
		if err != nil {
			return err
		}
		defer bucket.Close()
		logSink, err = sink.NewWriter(bucket, mirror.Dataset, &sink.WriterOptions{
			DropWhenFull: true, Gzip: cfg.gzip, Registerer: reg, Logger: log,
		})
		if err != nil {
			return err
		}
		opts.Sink = logSink
	}
	var shadow *mirror.Shadow
	if cfg.shadow.addr != "" {
		var logs sink.Sink
		if logSink != nil {
			logs = logSink
		}
		so, err := cfg.shadow.options(logs, cfg.redact, reg, log)
		if err != nil {
			return err
		}
		if shadow, err = mirror.NewShadow(cfg.shadow.addr, so); err != nil {
			return err
		}
		opts.Mirror = shadow
	}
	proxy, err := mirror.New(cfg.primary, opts)
	if err != nil {
		if shadow != nil {
			_ = shadow.Close()
		}
		return err
	}
	l, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		_ = proxy.Close()
		return err
	}
	log.Info("shadow-proxy listening", "listen", l.Addr().String(), "primary", cfg.primary,
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
	serveErr := make(chan error, 1)
	go func() { serveErr <- proxy.Serve(l) }()
	select {
	case err = <-serveErr:
	case <-ctx.Done():
		log.Info("shadow-proxy shutting down")
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.drainTimeout)
	defer cancel()
	// Order matters: the proxy stops taking commands, then the shadow
	// drains its queues, then the log flushes what both wrote.
	if serr := proxy.Shutdown(sctx); serr != nil && err == nil {
		err = serr
	}
	if shadow != nil {
		if serr := shadow.Shutdown(sctx); serr != nil && err == nil {
			err = serr
		}
	}
	if logSink != nil {
		if cerr := logSink.Close(sctx); cerr != nil && err == nil {
			err = cerr
		}
	}
	_ = ops.Shutdown(sctx)
	if errors.Is(err, mirror.ErrProxyClosed) {
		err = nil
	}
	return err
}
