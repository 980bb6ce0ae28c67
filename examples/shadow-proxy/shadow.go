package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sqlshadow/sqlshadow/examples/internal/cli"
	"github.com/sqlshadow/sqlshadow/mirror"
	"github.com/sqlshadow/sqlshadow/sink"
)

// shadowConfig holds the -shadow* flags. Without -shadow the proxy is a
// pass-through that logs the primary side only.
type shadowConfig struct {
	addr, user, passwordFile, userMap string
	tls                               bool
	tlsCA, tlsServerName              string
	tlsInsecure                       bool
	connectTimeout                    time.Duration
	mirrorWrites, omitFiltered        bool
	include, exclude                  string
	sample                            float64
	queueCommands                     int
	queueBytes, budgetBytes           int64
	minDeadline, drainTimeout         time.Duration
	deadlineScale                     float64
}

func (s *shadowConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&s.addr, "shadow", "", "shadow database host:port to mirror to (empty: pass-through, primary side logged only)")
	fs.StringVar(&s.user, "shadow-user", "", "user the shadow sessions log in as (default: the client's user name, empty password)")
	fs.StringVar(&s.passwordFile, "shadow-password-file", "", "file holding the shadow password (or set SQLSHADOW_SHADOW_PASSWORD)")
	fs.StringVar(&s.userMap, "shadow-user-map", "", `JSON file mapping client users to shadow identities: {"app":{"User":"app_shadow","Password":"..."}}`)
	fs.BoolVar(&s.tls, "shadow-tls", false, "use TLS to the shadow, verifying its certificate")
	fs.StringVar(&s.tlsCA, "shadow-tls-ca", "", "PEM CA bundle that verifies the shadow (default: system roots); implies -shadow-tls")
	fs.StringVar(&s.tlsServerName, "shadow-tls-server-name", "", "name to verify in the shadow's certificate (default: the host of -shadow)")
	fs.BoolVar(&s.tlsInsecure, "shadow-tls-insecure-skip-verify", false, "do not verify the shadow's certificate (testing only)")
	fs.DurationVar(&s.connectTimeout, "shadow-connect-timeout", mirror.DefaultShadowDialTimeout, "bound on dial, TLS and login of a shadow session")
	fs.BoolVar(&s.mirrorWrites, "shadow-mirror-writes", false, "also mirror writes, locks and side effects (default: read-only mirroring)")
	fs.StringVar(&s.include, "shadow-include", "", "mirror only statements matching this regexp (state changes always pass)")
	fs.StringVar(&s.exclude, "shadow-exclude", "", "do not mirror statements matching this regexp")
	fs.Float64Var(&s.sample, "shadow-sample", 1, "fraction of mirrorable commands sent to the shadow, in (0, 1]")
	fs.IntVar(&s.queueCommands, "shadow-queue-commands", mirror.DefaultShadowQueueCommands, "per-session queue bound in commands")
	fs.Int64Var(&s.queueBytes, "shadow-queue-bytes", mirror.DefaultShadowQueueBytes, "per-session queue bound in bytes")
	fs.Int64Var(&s.budgetBytes, "shadow-budget-bytes", mirror.DefaultShadowBudgetBytes, "bytes queued by all sessions together")
	fs.DurationVar(&s.minDeadline, "shadow-min-deadline", 30*time.Second, "least per-command shadow deadline")
	fs.Float64Var(&s.deadlineScale, "shadow-deadline-scale", 10, "per-command shadow deadline as a multiple of the primary's duration")
	fs.DurationVar(&s.drainTimeout, "shadow-drain-timeout", mirror.DefaultShadowDrainTimeout, "how long a closed session keeps running its queue")
	fs.BoolVar(&s.omitFiltered, "shadow-omit-filtered", false, "write no shadow record for filtered commands (still counted)")
}

// options builds the shadow's options; the password comes from the
// environment or a file, never from a flag.
func (s *shadowConfig) options(logs sink.Sink, redact bool, reg prometheus.Registerer, log *slog.Logger) (*mirror.ShadowOptions, error) {
	if s.sample <= 0 || s.sample > 1 {
		return nil, fmt.Errorf("-shadow-sample %v: must be in (0, 1]", s.sample)
	}
	password, err := cli.Secret("SQLSHADOW_SHADOW_PASSWORD", s.passwordFile)
	if err != nil {
		return nil, fmt.Errorf("shadow password: %w", err)
	}
	o := &mirror.ShadowOptions{
		User: s.user, Password: password,
		DialTimeout:   s.connectTimeout,
		MirrorWrites:  s.mirrorWrites,
		SampleRate:    s.sample,
		QueueCommands: s.queueCommands, QueueBytes: s.queueBytes, BudgetBytes: s.budgetBytes,
		MinDeadline: s.minDeadline, DeadlineScale: s.deadlineScale, DrainTimeout: s.drainTimeout,
		Sink: logs, OmitQueryText: redact, OmitFiltered: s.omitFiltered,
		Registerer: reg, Logger: log,
	}
	for flagName, re := range map[string]**regexp.Regexp{"-shadow-include": &o.Include, "-shadow-exclude": &o.Exclude} {
		src := s.include
		if flagName == "-shadow-exclude" {
			src = s.exclude
		}
		if src == "" {
			continue
		}
		if *re, err = regexp.Compile(src); err != nil {
			return nil, fmt.Errorf("%s: %w", flagName, err)
		}
	}
	if s.userMap != "" {
		b, err := os.ReadFile(s.userMap)
		if err != nil {
			return nil, fmt.Errorf("-shadow-user-map: %w", err)
		}
		if err := json.Unmarshal(b, &o.Users); err != nil {
			return nil, fmt.Errorf("-shadow-user-map %s: %w", s.userMap, err)
		}
	}
	if o.TLS, err = verifyingTLS(s.tls, s.tlsCA, s.tlsServerName, s.tlsInsecure); err != nil {
		return nil, fmt.Errorf("shadow TLS: %w", err)
	}
	return o, nil
}
