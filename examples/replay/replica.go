package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/sqlshadow/sqlshadow/examples/internal/cli"
	"github.com/sqlshadow/sqlshadow/replay/replica"
)

// replicaCmd builds an obfuscated replica of a sampled workload:
//
//	replay replica -source slowlog:/var/log/mysql/slow.log -schema-from db1:3306 -user app \
//	    -key-file replica.key -out replica/ -per-template 5
func replicaCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay replica", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sf := addSourceFlags(fs, "KIND:LOCATION, as for replay run", "statements that started at or after this time, RFC 3339")
	statements := fs.String("statements", "", "instead of -source: a file of statements, one per line, or JSON Lines {\"sql\", \"database\"}")
	schemaFrom := fs.String("schema-from", "", "host:port of the server to capture the schema from (SHOW CREATE TABLE)")
	user := fs.String("user", "", "user on -schema-from (password in SQLSHADOW_PASSWORD)")
	database := fs.String("database", "", "default database of statements the source records none for")
	keyFile := fs.String("key-file", "", "file holding the obfuscation key (the same key gives the same names)")
	out := fs.String("out", "", "directory to write the replica into (must be empty or absent)")
	perTemplate := fs.Int("per-template", 5, "sample up to N statements per template (0: every statement)")
	mapping := fs.Bool("mapping", false, "also write mapping.json, the way back to the original names and values")
	rows := fs.Int("rows", 100, "filler rows per table, beyond the rows the statements need")
	if err := cli.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cli.ExitOK
		}
		fmt.Fprintln(stderr, "replay replica:", err)
		return cli.ExitError
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "replay replica: "+format+"\n", a...)
		return cli.ExitError
	}
	if (*sf.spec == "") == (*statements == "") || *schemaFrom == "" || *keyFile == "" || *out == "" {
		return fail("one of -source and -statements, and -schema-from, -key-file and -out are required")
	}
	key, err := os.ReadFile(*keyFile)
	if err != nil {
		return fail("-key-file: %v", err)
	}
	if key = []byte(strings.TrimRight(string(key), "\r\n")); len(key) == 0 {
		return fail("-key-file %s is empty", *keyFile)
	}
	win, err := sf.window()
	if err != nil {
		return fail("%v", err)
	}
	password, err := cli.Secret("SQLSHADOW_PASSWORD", "")
	if err != nil {
		return fail("%v", err)
	}

	ctx, stop := cli.SignalContext()
	defer stop()
	var stmts []replica.Statement
	if *statements != "" {
		stmts, err = readStatements(*statements)
	} else {
		stmts, err = sampleSource(ctx, stdout, sf, win, *perTemplate)
	}
	if err != nil {
		return fail("%v", err)
	}
	db, err := openDB(*schemaFrom, *user, password, *database)
	if err != nil {
		return fail("%v", err)
	}
	defer func() { _ = db.Close() }()
	sum, err := replica.Build(ctx, db, key, stmts, *out, &replica.Options{Mapping: *mapping, Rows: max(*rows, -1)})
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "replay replica: interrupted")
			return cli.ExitInconclusive
		}
		return fail("%v", err)
	}
	reasons := map[string]int{}
	for _, s := range sum.Skipped {
		reasons[s.Reason]++
	}
	fmt.Fprintf(stdout, "replica in %s: %d statements of %d (%d planned, skipped %v), %d tables, %d rows\n",
		*out, sum.Replicated, sum.Statements, sum.Planned, reasons, len(sum.Tables), sum.Rows)
	if sum.Replicated == 0 {
		return cli.ExitInconclusive
	}
	return cli.ExitOK
}

// sampleSource reads the read-only statements of the source in the window,
// sampled per template when perTemplate > 0.
func sampleSource(ctx context.Context, stdout io.Writer, sf *sourceFlags, win window, perTemplate int) ([]replica.Statement, error) {
	src, _, closeSrc, err := sf.open(ctx, stdout, win, false, perTemplate)
	if err != nil {
		return nil, err
	}
	defer closeSrc()
	sts, err := readAll(ctx, src)
	if err != nil {
		return nil, err
	}
	out := make([]replica.Statement, len(sts))
	for i, st := range sts {
		out[i] = replica.Statement{SQL: st.Text, Database: st.Database}
	}
	return out, nil
}

// readStatements reads a file of statements: JSON Lines when a line starts
// with "{", one statement per line otherwise.
func readStatements(path string) ([]replica.Statement, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []replica.Statement
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		switch {
		case text == "":
		case strings.HasPrefix(text, "{"):
			var st replica.Statement
			if err := json.Unmarshal([]byte(text), &st); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, line, err)
			}
			out = append(out, st)
		default:
			out = append(out, replica.Statement{SQL: strings.TrimSuffix(text, ";")})
		}
	}
	return out, sc.Err()
}

// openDB opens a pool on host:port as user, on database db ("" for none).
func openDB(addr, user, password, db string) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.User, cfg.Passwd, cfg.DBName = "tcp", addr, user, password, db
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}
