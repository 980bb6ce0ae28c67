// Command compare-baseline verifies one SQL change against its baseline: it
// runs both statements N times, alternating, and prints a verdict with the
// evidence (rows, latency, plan, engine statistics).
//
//	compare-baseline -dsn 'user@tcp(127.0.0.1:3306)/shop' -baseline old.sql -candidate new.sql -out report/
//
// Exit codes: 0 pass, 1 fail, 2 error or usage, 3 inconclusive. With -json the
// report's JSON is printed on stdout for automated callers. Every flag can be
// set from the environment (SQLSHADOW_DSN, SQLSHADOW_RUNS, ...); the password
// can come from SQLSHADOW_PASSWORD or -password-file instead of the DSN.
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/sqlshadow/sqlshadow/compare"
	"github.com/sqlshadow/sqlshadow/compare/baseline"
	"github.com/sqlshadow/sqlshadow/examples/internal/cli"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("compare-baseline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("dsn", "", "DSN of the server both statements run on (go-sql-driver format: user@tcp(host:port)/db)")
	baseDSN := fs.String("baseline-dsn", "", "DSN for the baseline statement (instead of -dsn)")
	candDSN := fs.String("candidate-dsn", "", "DSN for the candidate statement (instead of -dsn)")
	baseFile := fs.String("baseline", "", "file holding the baseline SQL")
	candFile := fs.String("candidate", "", "file holding the candidate SQL")
	runs := fs.Int("runs", 10, "measured runs per statement")
	warmup := fs.Int("warmup", 2, "warm-up runs per statement before measuring (0 for none)")
	tolerance := fs.Float64("tolerance", 0.10, "accepted slowdown: pass needs the latency ratio's 95% CI upper bound <= 1+tolerance")
	floatTol := fs.Float64("float-tolerance", 1e-9, "relative tolerance of FLOAT/DOUBLE values")
	cold := fs.Bool("cold", false, "StarRocks: disable the scan data cache (cold reads)")
	out := fs.String("out", "", "directory for report.json and report.md")
	asJSON := fs.Bool("json", false, "print the report as JSON on stdout (else a summary)")
	pwFile := fs.String("password-file", "", "file holding the password (or SQLSHADOW_PASSWORD); overrides the DSN's")
	if err := cli.Parse(fs, args); err != nil {
		if err == flag.ErrHelp {
			return cli.ExitOK
		}
		fmt.Fprintln(stderr, "compare-baseline:", err)
		return cli.ExitError
	}
	if *baseDSN == "" {
		*baseDSN = *dsn
	}
	if *candDSN == "" {
		*candDSN = *dsn
	}
	if *baseDSN == "" || *candDSN == "" || *baseFile == "" || *candFile == "" {
		fmt.Fprintln(stderr, "compare-baseline: need -dsn (or -baseline-dsn and -candidate-dsn), -baseline FILE and -candidate FILE")
		fs.Usage()
		return cli.ExitError
	}
	password, err := cli.Secret("SQLSHADOW_PASSWORD", *pwFile)
	if err != nil {
		fmt.Fprintln(stderr, "compare-baseline:", err)
		return cli.ExitError
	}
	baseSQL, err := readSQL(*baseFile)
	if err == nil {
		var candSQL string
		candSQL, err = readSQL(*candFile)
		if err == nil {
			return compareFiles(baseSQL, candSQL, *baseDSN, *candDSN, password, &baseline.Options{
				Runs: *runs, Warmup: warmupOption(*warmup), Tolerance: *tolerance, FloatTolerance: *floatTol, Cold: *cold,
			}, &compare.MainOptions{Name: "compare-baseline", Dir: *out, Stdout: stdout, Stderr: stderr, JSON: *asJSON})
		}
	}
	fmt.Fprintln(stderr, "compare-baseline:", err)
	return cli.ExitError
}

// warmupOption maps the flag (0 = none) to the option (0 = default, <0 = none).
func warmupOption(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

func compareFiles(baseSQL, candSQL, baseDSN, candDSN, password string, opts *baseline.Options, mainOpts *compare.MainOptions) int {
	baseDB, err := openDB(baseDSN, password)
	if err != nil {
		fmt.Fprintln(mainOpts.Stderr, "compare-baseline: baseline DSN:", err)
		return cli.ExitError
	}
	defer baseDB.Close()
	candDB := baseDB
	if candDSN != baseDSN {
		if candDB, err = openDB(candDSN, password); err != nil {
			fmt.Fprintln(mainOpts.Stderr, "compare-baseline: candidate DSN:", err)
			return cli.ExitError
		}
		defer candDB.Close()
	}
	h, err := baseline.New(baseDB, candDB, baseSQL, candSQL, opts)
	if err != nil {
		fmt.Fprintln(mainOpts.Stderr, "compare-baseline:", err)
		return cli.ExitError
	}
	ctx, cancel := cli.SignalContext()
	defer cancel()
	return compare.Main(ctx, h, mainOpts)
}

func readSQL(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	s = strings.TrimSpace(strings.TrimSuffix(s, ";"))
	if s == "" {
		return "", fmt.Errorf("%s: no SQL", path)
	}
	return s, nil
}

func openDB(dsn, password string) (*sql.DB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if password != "" {
		cfg.Passwd = password
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(conn), nil
}
