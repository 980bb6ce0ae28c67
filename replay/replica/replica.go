package replica

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/sqlshadow/sqlshadow/hashing"
)

// Statement is one statement of the workload: its text and the default
// database it ran in ("" for the source connection's database).
type Statement struct {
	SQL      string `json:"sql"`
	Database string `json:"database,omitempty"`
}

// Options configures Build. The zero value (or nil) gives the defaults.
type Options struct {
	// Mapping writes mapping.json: every replacement and its original.
	// Anyone holding that file can read the replica; it is off by default.
	Mapping bool
	// Rows is the number of filler rows per table, beyond the rows the
	// statements need. Default 100; negative means none.
	Rows int
	// Copies is the number of rows each statement needs per table it reads
	// (more when it has LIMIT ... OFFSET), so that aggregates and HAVING
	// COUNT(*) > n see several. Default 3.
	Copies int
}

// Summary is the coverage of a replica, written to summary.json.
type Summary struct {
	// Statements is the number of statements given.
	Statements int `json:"statements"`
	// Replicated is the number written to statements.jsonl.
	Replicated int `json:"replicated"`
	// Planned is the number of replicated statements whose filters were
	// analysed and given rows; the others have only filler rows.
	Planned int `json:"planned"`
	// RangesReordered counts ranges whose bounds the obfuscation inverted
	// (numbers and dates are not mapped in order) and whose bounds were
	// swapped back so that they select something.
	RangesReordered int `json:"ranges_reordered"`
	// Skipped lists the statements left out, by input position.
	Skipped []Skip `json:"skipped"`
	// Tables lists the replica's tables.
	Tables []TableSummary `json:"tables"`
	// Rows is the number of rows of all tables.
	Rows int `json:"rows"`
}

// Skip is a statement left out of the replica.
type Skip struct {
	// Index is the statement's position in the input (0-based).
	Index int `json:"index"`
	// Reason is one of "parse" (the SQL parser rejects it), "not_a_query"
	// (not a SELECT), "no_database" (an unqualified table and no default
	// database), "view" (it reads a view), "missing_table" (SHOW CREATE
	// TABLE failed) and "schema" (the table definition is not understood).
	Reason string `json:"reason"`
}

// TableSummary describes one table of the replica (obfuscated names).
type TableSummary struct {
	Database string `json:"database"`
	Table    string `json:"table"`
	Rows     int    `json:"rows"`
}

// Mapping is the way back from a replica to the original names and values,
// written to mapping.json when Options.Mapping is set. Each map goes from
// the replacement to the original.
type Mapping struct {
	Schemas  map[string]string `json:"schemas"`
	Tables   map[string]string `json:"tables"`
	Columns  map[string]string `json:"columns"`
	Aliases  map[string]string `json:"aliases"`
	Literals map[string]string `json:"literals"`
}

// File names inside a replica directory.
const (
	SchemaFile     = "schema.sql"
	DataDir        = "data"
	StatementsFile = "statements.jsonl"
	SummaryFile    = "summary.json"
	MappingFile    = "mapping.json"
)

// ErrNotEmpty is returned by Build when the output directory exists and is
// not empty (an old mapping.json must never be left next to a new replica).
var ErrNotEmpty = errors.New("replica: output directory is not empty")

var errView = errors.New("replica: a view")

// Build writes a replica of stmts into dir: the schema of every table they
// read, captured from src with SHOW CREATE TABLE, and the statements, both
// obfuscated under key, and synthetic rows that make the statements return
// rows. It returns the summary it also writes. dir must not exist or be
// empty. Statements that cannot be replicated are listed in the summary,
// not fatal; Build fails on I/O errors, on ctx's end, and when src fails
// other than for a missing table.
func Build(ctx context.Context, src *sql.DB, key []byte, stmts []Statement, dir string, opts *Options) (*Summary, error) {
	o := Options{Rows: 100, Copies: 3}
	if opts != nil {
		o.Mapping = opts.Mapping
		if opts.Rows != 0 {
			o.Rows = max(opts.Rows, 0)
		}
		if opts.Copies > 0 {
			o.Copies = opts.Copies
		}
	}
	if err := emptyDir(dir); err != nil {
		return nil, err
	}
	b := &builder{ob: hashing.NewObfuscator(key), src: src, tables: make(map[string]*table),
		ddl: make(map[string]string), failed: make(map[string]string), origCols: make(map[string]*table),
		mapping: Mapping{Schemas: map[string]string{}, Tables: map[string]string{}, Columns: map[string]string{},
			Aliases: map[string]string{}, Literals: map[string]string{}},
		sum: &Summary{Statements: len(stmts), Skipped: []Skip{}}}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("replica data"))
	seed := m.Sum(nil)
	b.gen.rng = rand.New(rand.NewPCG(binary.BigEndian.Uint64(seed), binary.BigEndian.Uint64(seed[8:])))

	var srcDB string
	if err := src.QueryRowContext(ctx, "SELECT COALESCE(DATABASE(), '')").Scan(&srcDB); err != nil {
		return nil, err
	}
	// First the tables, so that DDL declares every column name before any
	// statement is obfuscated.
	type pending struct {
		idx  int
		st   Statement
		node ast.StmtNode
	}
	var todo []pending
	for i, st := range stmts {
		if st.Database == "" {
			st.Database = srcDB
		}
		node, err := parser.New().ParseOneStmt(st.SQL, "", "")
		if err != nil {
			b.skip(i, "parse")
			continue
		}
		switch node.(type) {
		case *ast.SelectStmt, *ast.SetOprStmt:
		default:
			b.skip(i, "not_a_query")
			continue
		}
		reason, err := b.capture(ctx, node, st.Database)
		if err != nil {
			return nil, err
		}
		if reason != "" {
			b.skip(i, reason)
			continue
		}
		todo = append(todo, pending{i, st, node})
	}
	var out []Statement
	var plans []*plan
	for _, t := range todo {
		obf, err := b.ob.Query(t.st.SQL)
		if err != nil {
			b.skip(t.idx, "parse")
			continue
		}
		db := ""
		if t.st.Database != "" {
			db = b.ident(t.st.Database)
			b.mapping.Schemas[db] = t.st.Database
		}
		obf, p := b.plan(obf, db, o.Copies)
		if p != nil {
			plans = append(plans, p)
			b.sum.Planned++
		}
		b.mapNames(t.node, obf)
		out = append(out, Statement{SQL: obf, Database: db})
	}
	b.sum.Replicated = len(out)
	// The most constrained statements first: a looser one on the same key
	// then finds their rows.
	sort.SliceStable(plans, func(i, j int) bool { return plans[i].weight() > plans[j].weight() })
	for _, p := range plans {
		b.gen.addPlanRows(p)
	}
	keys := make([]string, 0, len(b.tables))
	for k := range b.tables {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t := b.tables[k]
		for i := 0; i < o.Rows; i++ {
			b.gen.addRow(t, nil)
		}
		b.sum.Tables = append(b.sum.Tables, TableSummary{Database: t.db, Table: t.name, Rows: len(t.rows)})
		b.sum.Rows += len(t.rows)
	}
	if err := b.write(dir, keys, out, o.Mapping); err != nil {
		return nil, err
	}
	return b.sum, nil
}

type builder struct {
	ob       *hashing.Obfuscator
	src      *sql.DB
	gen      generator
	tables   map[string]*table // obfuscated "db.table" (lower case) -> table
	ddl      map[string]string // obfuscated "db.table" -> obfuscated CREATE TABLE
	origCols map[string]*table // obfuscated "db.table" -> the original table's structure
	failed   map[string]string // original "db.table" -> skip reason
	mapping  Mapping
	sum      *Summary
}

func (b *builder) skip(i int, reason string) {
	b.sum.Skipped = append(b.sum.Skipped, Skip{Index: i, Reason: reason})
}

// ident returns the replacement of an identifier.
func (b *builder) ident(name string) string { return b.ob.Ident(name) }

// capture captures the schema of every table node reads and returns a skip
// reason, or "" when they are all there.
func (b *builder) capture(ctx context.Context, node ast.StmtNode, db string) (string, error) {
	for _, tn := range tablesRead(node) {
		tdb := tn[0]
		if tdb == "" {
			tdb = db
		}
		if tdb == "" {
			return "no_database", nil
		}
		if isSystemSchema(tdb) {
			continue
		}
		okey := strings.ToLower(tdb) + "." + strings.ToLower(tn[1])
		if r, ok := b.failed[okey]; ok {
			if r == "" {
				continue
			}
			return r, nil
		}
		reason, err := b.captureTable(ctx, tdb, tn[1])
		if err != nil {
			return "", err
		}
		b.failed[okey] = reason
		if reason != "" {
			return reason, nil
		}
	}
	return "", nil
}

func (b *builder) captureTable(ctx context.Context, db, name string) (string, error) {
	ddl, err := captureDDL(ctx, b.src, db, name)
	var me *mysql.MySQLError
	switch {
	case errors.Is(err, errView):
		return "view", nil
	case err != nil && ctx.Err() != nil:
		return "", ctx.Err()
	case errors.As(err, &me) && (me.Number == 1146 || me.Number == 1049): // no such table, no such database
		return "missing_table", nil
	case err != nil:
		return "", err
	}
	obf, err := b.ob.DDL(ddl)
	if err != nil {
		return "schema", nil
	}
	odb := b.ident(db)
	t, err := parseTable(odb, obf)
	if err != nil {
		return "schema", nil
	}
	orig, err := parseTable(db, ddl)
	if err != nil || len(orig.cols) != len(t.cols) {
		return "schema", nil
	}
	k := strings.ToLower(odb) + "." + strings.ToLower(t.name)
	b.tables[k] = t
	b.ddl[k] = obf
	b.origCols[k] = orig
	b.mapping.Schemas[odb] = db
	b.mapping.Tables[odb+"."+t.name] = db + "." + orig.name
	for i, c := range t.cols {
		b.mapping.Columns[odb+"."+t.name+"."+c.name] = db + "." + orig.name + "." + orig.cols[i].name
	}
	return "", nil
}

func isSystemSchema(db string) bool {
	switch strings.ToLower(db) {
	case "information_schema", "performance_schema", "mysql", "sys":
		return true
	}
	return false
}

// tablesRead returns the (schema, table) pairs a statement names, CTE
// names left out.
func tablesRead(node ast.Node) [][2]string {
	v := &tableVisitor{ctes: make(map[string]bool)}
	node.Accept(v)
	var out [][2]string
	for _, tn := range v.names {
		if tn.Schema.L == "" && v.ctes[tn.Name.L] {
			continue
		}
		out = append(out, [2]string{tn.Schema.O, tn.Name.O})
	}
	return out
}

type tableVisitor struct {
	names []*ast.TableName
	ctes  map[string]bool
}

func (v *tableVisitor) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.TableName:
		v.names = append(v.names, x)
	case *ast.CommonTableExpression:
		v.ctes[x.Name.L] = true
	}
	return n, false
}

func (v *tableVisitor) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// plan analyses an obfuscated statement, swapping the bounds of ranges the
// obfuscation inverted, and returns the statement and its plan (nil when
// it cannot be analysed).
func (b *builder) plan(sql, db string, copies int) (string, *plan) {
	p := analyse(sql, db, b.tables, copies)
	for round := 0; p != nil && round < 4; round++ {
		var swaps [][2]*lit
		for _, c := range p.classes() {
			if c.eq == nil && c.lo != nil && c.hi != nil && c.lo.pos >= 0 && c.hi.pos >= 0 &&
				compareLit(c.lo, c.hi) > 0 && c.lo.pos != c.hi.pos {
				swaps = append(swaps, [2]*lit{c.lo, c.hi})
			}
		}
		if len(swaps) == 0 {
			break
		}
		swapped, ok := swapLiterals(sql, swaps)
		if !ok {
			break
		}
		q := analyse(swapped, db, b.tables, copies)
		if q == nil {
			break
		}
		b.sum.RangesReordered += len(swaps)
		sql, p = swapped, q
	}
	return sql, p
}

// swapLiterals exchanges the text of each pair of literals.
func swapLiterals(sql string, pairs [][2]*lit) (string, bool) {
	type span struct {
		start, end int
		text       string
	}
	var spans []span
	for _, pr := range pairs {
		a, b := pr[0], pr[1]
		ae, ok1 := literalEnd(sql, a.pos)
		be, ok2 := literalEnd(sql, b.pos)
		if !ok1 || !ok2 {
			return "", false
		}
		spans = append(spans, span{a.pos, ae, sql[b.pos:be]}, span{b.pos, be, sql[a.pos:ae]})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start > spans[j].start })
	for i := 1; i < len(spans); i++ {
		if spans[i].end > spans[i-1].start {
			return "", false // overlapping: one literal in two ranges
		}
	}
	for _, s := range spans {
		sql = sql[:s.start] + s.text + sql[s.end:]
	}
	return sql, true
}

// literalEnd returns the end of the number or quoted string literal that
// starts at pos.
func literalEnd(sql string, pos int) (int, bool) {
	if pos < 0 || pos >= len(sql) {
		return 0, false
	}
	c := sql[pos]
	switch {
	case c == '\'' || c == '"':
		for i := pos + 1; i < len(sql); i++ {
			switch sql[i] {
			case '\\':
				i++
			case c:
				if i+1 < len(sql) && sql[i+1] == c {
					i++
					continue
				}
				return i + 1, true
			}
		}
		return 0, false
	case c >= '0' && c <= '9' || c == '.':
		i := pos
		for i < len(sql) && (sql[i] >= '0' && sql[i] <= '9' || sql[i] == '.') {
			i++
		}
		if i < len(sql) && (sql[i] == 'e' || sql[i] == 'E') {
			j := i + 1
			if j < len(sql) && (sql[j] == '+' || sql[j] == '-') {
				j++
			}
			if j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
				for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
					j++
				}
				i = j
			}
		}
		return i, true
	}
	return 0, false
}

// mapNames records the replacements of a statement's aliases and literals:
// the original and obfuscated statements have the same shape, so their
// literals pair up in order.
func (b *builder) mapNames(orig ast.StmtNode, obf string) {
	av := &aliasVisitor{}
	orig.Accept(av)
	for _, a := range av.aliases {
		b.mapping.Aliases[b.ident(a)] = a
	}
	on, err := parser.New().ParseOneStmt(obf, "", "")
	if err != nil {
		return
	}
	lo, lb := &litVisitor{}, &litVisitor{}
	orig.Accept(lo)
	on.Accept(lb)
	if len(lo.lits) != len(lb.lits) {
		return
	}
	for i := range lo.lits {
		if lo.lits[i] != lb.lits[i] {
			b.mapping.Literals[lb.lits[i]] = lo.lits[i]
		}
	}
}

type aliasVisitor struct{ aliases []string }

func (v *aliasVisitor) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.TableSource:
		if x.AsName.O != "" {
			v.aliases = append(v.aliases, x.AsName.O)
		}
	case *ast.SelectField:
		if x.AsName.O != "" {
			v.aliases = append(v.aliases, x.AsName.O)
		}
	case *ast.CommonTableExpression:
		v.aliases = append(v.aliases, x.Name.O)
	}
	return n, false
}

func (v *aliasVisitor) Leave(n ast.Node) (ast.Node, bool) { return n, true }

type litVisitor struct{ lits []string }

func (v *litVisitor) Enter(n ast.Node) (ast.Node, bool) {
	if e, ok := n.(ast.ValueExpr); ok {
		v.lits = append(v.lits, fmt.Sprint(e.GetValue()))
	}
	return n, false
}

func (v *litVisitor) Leave(n ast.Node) (ast.Node, bool) { return n, true }

func emptyDir(dir string) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return os.MkdirAll(dir, 0o755)
	case err != nil:
		return err
	case len(ents) > 0:
		return fmt.Errorf("%w: %s", ErrNotEmpty, dir)
	}
	return nil
}

// write writes the replica's files.
func (b *builder) write(dir string, keys []string, stmts []Statement, withMapping bool) error {
	var schema strings.Builder
	dbs := map[string]bool{}
	for _, k := range keys {
		t := b.tables[k]
		if !dbs[t.db] {
			dbs[t.db] = true
			fmt.Fprintf(&schema, "CREATE DATABASE IF NOT EXISTS %s;\n", quoteIdent(t.db))
		}
	}
	for _, k := range keys {
		t := b.tables[k]
		fmt.Fprintf(&schema, "USE %s;\n%s;\n\n", quoteIdent(t.db), b.ddl[k])
	}
	if err := os.WriteFile(filepath.Join(dir, SchemaFile), []byte(schema.String()), 0o644); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, DataDir), 0o755); err != nil {
		return err
	}
	for _, k := range keys {
		if err := writeData(filepath.Join(dir, DataDir, b.tables[k].key()+".sql"), b.tables[k]); err != nil {
			return err
		}
	}
	var st strings.Builder
	enc := json.NewEncoder(&st)
	enc.SetEscapeHTML(false)
	for _, s := range stmts {
		if err := enc.Encode(s); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, StatementsFile), []byte(st.String()), 0o644); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, SummaryFile), b.sum); err != nil {
		return err
	}
	if withMapping {
		return writeJSON(filepath.Join(dir, MappingFile), b.mapping)
	}
	return nil
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// insertBatch is the number of rows per INSERT statement of a data file.
const insertBatch = 200

// writeData writes t's rows as INSERT statements, one per line.
func writeData(path string, t *table) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	var cols []string
	for _, c := range t.cols {
		if !c.skip {
			cols = append(cols, quoteIdent(c.name))
		}
	}
	head := "INSERT INTO " + quoteIdent(t.db) + "." + quoteIdent(t.name) + " (" + strings.Join(cols, ", ") + ") VALUES "
	for i, r := range t.rows {
		if i%insertBatch == 0 {
			if i > 0 {
				w.WriteString(";\n")
			}
			w.WriteString(head)
		} else {
			w.WriteString(", ")
		}
		w.WriteByte('(')
		first := true
		for j, c := range t.cols {
			if c.skip {
				continue
			}
			if !first {
				w.WriteString(", ")
			}
			first = false
			w.WriteString(r[j])
		}
		w.WriteByte(')')
	}
	if len(t.rows) > 0 {
		w.WriteString(";\n")
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Load creates a replica's databases and tables in db and inserts its rows,
// on one connection with foreign key checks off (the rows are made per
// table, in no particular order). The connection is closed afterwards, not
// returned to db's pool, so its session settings go with it. Load fails if
// a table exists already.
func Load(ctx context.Context, db *sql.DB, dir string) error {
	schema, err := os.ReadFile(filepath.Join(dir, SchemaFile))
	if err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(dir, DataDir, "*.sql"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// Never give the connection back to the pool with this session state.
	defer func() { _ = conn.Raw(func(any) error { return driver.ErrBadConn }) }()
	for _, s := range []string{"SET SESSION foreign_key_checks = 0", "SET NAMES utf8mb4",
		"SET SESSION sql_mode = REPLACE(@@SESSION.sql_mode, 'NO_BACKSLASH_ESCAPES', '')"} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	for _, s := range hashing.Split(string(schema)) {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("replica: %s: %w", SchemaFile, err)
		}
	}
	for _, path := range files {
		if err := loadData(ctx, conn, path); err != nil {
			return err
		}
	}
	return nil
}

func loadData(ctx context.Context, conn *sql.Conn, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 256<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSuffix(strings.TrimSpace(sc.Text()), ";")
		if s == "" {
			continue
		}
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("replica: %s:%d: %w", filepath.Base(path), line, err)
		}
	}
	return sc.Err()
}

// ReadStatements reads a replica's statements.
func ReadStatements(dir string) ([]Statement, error) {
	f, err := os.Open(filepath.Join(dir, StatementsFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Statement
	dec := json.NewDecoder(f)
	for {
		var s Statement
		if err := dec.Decode(&s); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("replica: %s: %w", StatementsFile, err)
		}
		out = append(out, s)
	}
}
