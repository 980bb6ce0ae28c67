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
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sqlshadow/sqlshadow/examples/internal/cli"
	"github.com/sqlshadow/sqlshadow/replay"
	"github.com/sqlshadow/sqlshadow/replay/replica"
)

// replicaCmd builds an obfuscated replica of a sampled workload:
//
//	replay replica -source slowlog:/var/log/mysql/slow.log -schema-from db1:3306 -user app \
//	    -key-file replica.key -out replica/ -per-template 5
func replicaCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay replica", flag.ContinueOnError)
	fs.SetOutput(stderr)
	source := fs.String("source", "", "KIND:LOCATION, as for replay run")
	statements := fs.String("statements", "", "instead of -source: a file of statements, one per line, or JSON Lines {\"sql\", \"database\"}")
	schemaFrom := fs.String("schema-from", "", "host:port of the server to capture the schema from (SHOW CREATE TABLE)")
	user := fs.String("user", "", "user on -schema-from (password in SQLSHADOW_PASSWORD)")
	database := fs.String("database", "", "default database of statements the source records none for")
	keyFile := fs.String("key-file", "", "file holding the obfuscation key (the same key gives the same names)")
	out := fs.String("out", "", "directory to write the replica into (must be empty or absent)")
	perTemplate := fs.Int("per-template", 5, "sample up to N statements per template (0: every statement)")
	mapping := fs.Bool("mapping", false, "also write mapping.json, the way back to the original names and values")
	rows := fs.Int("rows", 100, "filler rows per table, beyond the rows the statements need")
	fromS := fs.String("from", "", "statements that started at or after this time, RFC 3339")
	toS := fs.String("to", "", "and before this time, RFC 3339")
	table := fs.String("audit-table", replay.DefaultAuditTable, "audit table of the starrocks-audit-table source")
	tz := fs.String("log-tz", "UTC", "time zone of log timestamps written without one")
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
	if (*source == "") == (*statements == "") || *schemaFrom == "" || *keyFile == "" || *out == "" {
		return fail("one of -source and -statements, and -schema-from, -key-file and -out are required")
	}
	key, err := os.ReadFile(*keyFile)
	if err != nil {
		return fail("-key-file: %v", err)
	}
	if key = []byte(strings.TrimRight(string(key), "\r\n")); len(key) == 0 {
		return fail("-key-file %s is empty", *keyFile)
	}
	var from, to time.Time
	if *fromS != "" {
		if from, err = time.Parse(time.RFC3339, *fromS); err != nil {
			return fail("-from: %v", err)
		}
	}
	if *toS != "" {
		if to, err = time.Parse(time.RFC3339, *toS); err != nil {
			return fail("-to: %v", err)
		}
	}
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		return fail("-log-tz: %v", err)
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
		stmts, err = sampleSource(ctx, stdout, *source, *table, from, to, loc, *perTemplate)
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

// sampleSource reads the read-only statements of a source in the window,
// sampled per template when perTemplate > 0.
func sampleSource(ctx context.Context, stdout io.Writer, spec, table string, from, to time.Time, loc *time.Location, perTemplate int) ([]replica.Statement, error) {
	src, closeSrc, err := openSource(ctx, spec, table, from, to, loc)
	if err != nil {
		return nil, err
	}
	defer closeSrc()
	src = replay.Select(src, replay.Filter{From: from, To: to})
	var sts []replay.Statement
	if perTemplate > 0 {
		var cov replay.Coverage
		if sts, cov, err = replay.Sample(ctx, src, &replay.SampleOptions{PerTemplate: perTemplate}); err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "sample: %d statements of %d, %d templates of %d, %.1f%% of the recorded time\n",
			cov.Kept, cov.Statements, cov.TemplatesKept, cov.Templates, 100*cov.TimeShare())
	} else {
		for {
			st, err := src.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, err
			}
			sts = append(sts, st)
		}
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
