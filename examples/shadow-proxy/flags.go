package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/examples/internal/cli"
	"github.com/sqlshadow/sqlshadow/mirror"
	"github.com/sqlshadow/sqlshadow/sink"
)

// config holds the flags.
type config struct {
	listen, primary, bucketURL, metricsListen string
	tlsCert, tlsKey                           string
	primaryTLS, primaryTLSAlways              bool
	primaryCA, primaryServerName              string
	primaryInsecure                           bool
	allowCleartext                            bool
	connectTimeout, idleTimeout, drainTimeout time.Duration
	redact, gzip                              bool
	logFormat                                 sink.Format // nil: JSON Lines, gzip-compressed with -gzip
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
	fs.BoolVar(&c.primaryTLS, "primary-tls", false, "use TLS to the primary for clients that use TLS, verifying its certificate")
	fs.BoolVar(&c.primaryTLSAlways, "primary-tls-always", false, "use TLS to the primary for every client, also those without TLS (the server's require_secure_transport no longer refuses them); implies -primary-tls")
	fs.StringVar(&c.primaryCA, "primary-tls-ca", "", "PEM CA bundle that verifies the primary (default: system roots); implies -primary-tls")
	fs.StringVar(&c.primaryServerName, "primary-tls-server-name", "", "name to verify in the primary's certificate (default: the host of -primary)")
	fs.BoolVar(&c.primaryInsecure, "primary-tls-insecure-skip-verify", false, "do not verify the primary's certificate (testing only)")
	fs.BoolVar(&c.allowCleartext, "allow-cleartext-auth", false, "allow cleartext authentication plugins when the primary leg is not TLS")
	fs.DurationVar(&c.connectTimeout, "connect-timeout", mirror.DefaultConnectTimeout, "bound on dial, TLS and login on every leg")
	fs.DurationVar(&c.idleTimeout, "idle-timeout", 0, "close client connections idle this long (0: never)")
	fs.DurationVar(&c.drainTimeout, "shutdown-timeout", 30*time.Second, "how long SIGTERM waits for commands in flight and the log flush")
	fs.BoolVar(&c.redact, "redact-query-text", false, "omit query_text from the query log (hashes stay)")
	fs.BoolVar(&c.gzip, "gzip", false, "gzip the query-log objects (-log-format jsonl.gz)")
	logFormat := cli.LogFormatFlag(fs)
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.BoolVar(&c.pprof, "debug-pprof", false, "also serve net/http/pprof under /debug/pprof/ on -metrics-listen")
	c.shadow.register(fs)
	if err := cli.Parse(fs, args); err != nil {
		return nil, err
	}
	var err error
	if c.logFormat, err = cli.LogFormat[dataset.QueryLog](*logFormat); err != nil {
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

// verifyingTLS returns the TLS configuration of a server leg (primary or
// shadow), or nil when none of its flags asks for TLS. The server name
// defaults to the address's host (package mirror fills it in).
func verifyingTLS(on bool, caFile, serverName string, insecure bool) (*tls.Config, error) {
	if !on && caFile == "" && !insecure {
		return nil, nil
	}
	tc := &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure} //nolint:gosec // opt-in flag
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificate found", caFile)
		}
	}
	return tc, nil
}
