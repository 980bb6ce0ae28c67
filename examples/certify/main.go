// Command certify runs a certification recipe (package
// github.com/sqlshadow/sqlshadow/certify): it starts the project's proxy in
// front of a primary and a shadow, plays the recipe's timeline (workloads,
// operations, chaos events, network faults, soak sampling, start-up timing)
// and writes one report with the verdict.
//
//	certify run -recipe recipes/restart-shadow.yaml -set primary=db1:3306 -set shadow=db2:3306 \
//	    -set user=certify -set shadow_start='systemctl start mariadb@shadow' \
//	    -set shadow_stop='systemctl stop mariadb@shadow' -out report/
//
// -set KEY=VALUE (repeatable) fills ${KEY} in the recipe; the shipped
// recipes (recipes/) share the keys primary and shadow (host:port), user,
// and primary_start, primary_stop, shadow_start, shadow_stop (shell
// commands: a restart is stop then start, ready when the server answers a
// ping). The password of user comes from SQLSHADOW_PASSWORD (or
// -password-file). The report lands in -out as report.json, report.md and
// report.html; with -bucket-url the proxy's query logs stay there too, for
// shadow-report. Exit codes: 0 certified, 1 failed, 2 could not run (or
// usage), 3 inconclusive. Flags can be set from the environment
// (SQLSHADOW_RECIPE, SQLSHADOW_OUT, ...).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sqlshadow/sqlshadow/certify"
	"github.com/sqlshadow/sqlshadow/compare"
	"github.com/sqlshadow/sqlshadow/examples/internal/cli"
	"github.com/sqlshadow/sqlshadow/sink"
	_ "github.com/sqlshadow/sqlshadow/sink/drivers" // bucket URLs
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// params collects -set KEY=VALUE.
type params map[string]string

func (p params) String() string { return fmt.Sprint(map[string]string(p)) }

func (p params) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", v)
	}
	p[k] = val
	return nil
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "run" {
		fmt.Fprintln(stderr, "usage: certify run -recipe FILE [-set KEY=VALUE ...] [-out DIR]   (certify run -h for the flags)")
		return cli.ExitError
	}
	fs := flag.NewFlagSet("certify run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	recipe := fs.String("recipe", "", "the recipe file (YAML or JSON)")
	out := fs.String("out", ".", "directory for report.json, report.md and report.html")
	set := params{}
	fs.Var(set, "set", "KEY=VALUE filling ${KEY} in the recipe (repeatable)")
	passwordFile := fs.String("password-file", "", "file holding the password of the recipe's user (default: SQLSHADOW_PASSWORD)")
	bucketURL := fs.String("bucket-url", "", "where the proxy's query logs go (file:///dir, s3://...); default: memory, discarded")
	seed := fs.Uint64("seed", 0, "seed of the random choices (0: random)")
	logLevel := fs.String("log-level", "error", "debug, info, warn or error (the report holds what the run saw)")
	if err := cli.Parse(fs, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cli.ExitOK
		}
		fmt.Fprintln(stderr, "certify:", err)
		return cli.ExitError
	}
	if *recipe == "" {
		fmt.Fprintln(stderr, "certify: -recipe is required")
		return cli.ExitError
	}
	r, err := certify.LoadRecipe(*recipe, set)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return cli.ExitError
	}
	password, err := cli.Secret("SQLSHADOW_PASSWORD", *passwordFile)
	if err != nil {
		fmt.Fprintln(stderr, "certify:", err)
		return cli.ExitError
	}
	ctx, stop := cli.SignalContext()
	defer stop()
	opts := &certify.RunOptions{Password: password, Seed: *seed, Progress: stdout, Logger: cli.Logger(*logLevel)}
	if *bucketURL != "" {
		bucket, err := sink.OpenBucket(ctx, *bucketURL)
		if err != nil {
			fmt.Fprintln(stderr, "certify:", err)
			return cli.ExitError
		}
		defer func() { _ = bucket.Close() }()
		opts.Bucket = bucket
	}
	return compare.Main(ctx, compare.ComparatorFunc(func(ctx context.Context) (compare.Result, error) {
		return certify.Run(ctx, r, opts)
	}), &compare.MainOptions{Name: "certify", Dir: *out, Stdout: stdout, Stderr: stderr})
}
