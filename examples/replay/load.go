package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/sqlshadow/sqlshadow/examples/internal/cli"
	"github.com/sqlshadow/sqlshadow/replay/replica"
)

// loadCmd creates a replica's schema in a target and loads its rows:
//
//	replay load -replica replica/ -target db2:3306 -user root
func loadCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("replica", "", "replica directory written by replay replica")
	target := fs.String("target", "", "host:port of the server to load it into")
	user := fs.String("user", "", "user on -target, allowed to create databases (password in SQLSHADOW_PASSWORD)")
	if err := cli.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cli.ExitOK
		}
		fmt.Fprintln(stderr, "replay load:", err)
		return cli.ExitError
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "replay load: "+format+"\n", a...)
		return cli.ExitError
	}
	if *dir == "" || *target == "" {
		return fail("-replica and -target are required")
	}
	password, err := cli.Secret("SQLSHADOW_PASSWORD", "")
	if err != nil {
		return fail("%v", err)
	}
	ctx, stop := cli.SignalContext()
	defer stop()
	db, err := openDB(*target, *user, password, "")
	if err != nil {
		return fail("%v", err)
	}
	defer func() { _ = db.Close() }()
	if err := replica.Load(ctx, db, *dir); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "replay load: interrupted")
			return cli.ExitInconclusive
		}
		return fail("%v", err)
	}
	stmts, err := replica.ReadStatements(*dir)
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(stdout, "loaded %s into %s: %d statements to replay in %s\n", *dir, *target, len(stmts), replica.StatementsFile)
	return cli.ExitOK
}
