package investigate

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/hashing"
)

var tableRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// MemoryOperations is an in-memory Operations tool, for tests and for
// events read from a file (ReadOperations). It is safe for concurrent use.
type MemoryOperations struct {
	mu  sync.Mutex
	ops []Operation
}

var _ Operations = (*MemoryOperations)(nil)

// NewMemoryOperations returns the tool over ops.
func NewMemoryOperations(ops []Operation) *MemoryOperations {
	return &MemoryOperations{ops: slices.Clone(ops)}
}

// Add records one more operation.
func (m *MemoryOperations) Add(op Operation) {
	m.mu.Lock()
	m.ops = append(m.ops, op)
	m.mu.Unlock()
}

// Operations implements Operations, oldest first.
func (m *MemoryOperations) Operations(ctx context.Context, cluster string, from, to time.Time) ([]Operation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Operation
	for _, op := range m.ops {
		if op.Cluster == cluster && !op.TS.Before(from) && !op.TS.After(to) {
			out = append(out, op)
		}
	}
	slices.SortStableFunc(out, func(a, b Operation) int { return a.TS.Compare(b.TS) })
	return out, nil
}

// SQLOperations is the Operations tool on a table of operation events with
// the columns ts (DATETIME(6), UTC), cluster, kind (START, STOP, UPDATE),
// detail and actor. NewSQLOperations creates the table if it is missing;
// the caller owns and closes db.
type SQLOperations struct {
	db    *sql.DB
	table string
}

var _ Operations = (*SQLOperations)(nil)

// NewSQLOperations returns the tool on table (default "operations") of db,
// creating the table when missing.
func NewSQLOperations(ctx context.Context, db *sql.DB, table string) (*SQLOperations, error) {
	if table == "" {
		table = "operations"
	}
	if !tableRE.MatchString(table) {
		return nil, fmt.Errorf("investigate: bad table name %q", table)
	}
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (
		ts DATETIME(6) NOT NULL, cluster VARCHAR(255) NOT NULL, kind VARCHAR(16) NOT NULL,
		detail TEXT NOT NULL, actor VARCHAR(255) NOT NULL DEFAULT '', KEY (cluster, ts))`)
	if err != nil {
		return nil, fmt.Errorf("investigate: create %s: %w", table, err)
	}
	return &SQLOperations{db: db, table: table}, nil
}

// Add inserts one operation.
func (s *SQLOperations) Add(ctx context.Context, op Operation) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO `+s.table+` (ts, cluster, kind, detail, actor) VALUES (?, ?, ?, ?, ?)`,
		op.TS.UTC().Format(sqlTime), op.Cluster, op.Kind, op.Detail, op.Actor)
	if err != nil {
		return fmt.Errorf("investigate: insert operation: %w", err)
	}
	return nil
}

const sqlTime = "2006-01-02 15:04:05.000000"

// scanTime reads a DATETIME column, whether the driver parses times
// (parseTime=true: a time.Time, in UTC as written) or not (text).
func scanTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return time.Date(x.Year(), x.Month(), x.Day(), x.Hour(), x.Minute(), x.Second(), x.Nanosecond(), time.UTC), nil
	case []byte:
		return time.Parse("2006-01-02 15:04:05.999999", string(x))
	case string:
		return time.Parse("2006-01-02 15:04:05.999999", x)
	}
	return time.Time{}, fmt.Errorf("ts of type %T", v)
}

// Operations implements Operations, oldest first.
func (s *SQLOperations) Operations(ctx context.Context, cluster string, from, to time.Time) ([]Operation, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT ts, kind, detail, actor FROM `+s.table+
		` WHERE cluster = ? AND ts BETWEEN ? AND ? ORDER BY ts LIMIT 1000`,
		cluster, from.UTC().Format(sqlTime), to.UTC().Format(sqlTime))
	if err != nil {
		return nil, fmt.Errorf("investigate: read operations: %w", err)
	}
	defer rows.Close()
	var out []Operation
	for rows.Next() {
		var ts any
		op := Operation{Cluster: cluster}
		if err := rows.Scan(&ts, &op.Kind, &op.Detail, &op.Actor); err != nil {
			return nil, fmt.Errorf("investigate: read operations: %w", err)
		}
		t, err := scanTime(ts)
		if err != nil {
			return nil, fmt.Errorf("investigate: read operations: %w", err)
		}
		op.TS = t
		out = append(out, op)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("investigate: read operations: %w", err)
	}
	return out, nil
}

// MemoryFindingStore is an in-memory FindingStore. It is safe for
// concurrent use.
type MemoryFindingStore struct {
	mu       sync.Mutex
	findings []dataset.Finding
}

var _ FindingStore = (*MemoryFindingStore)(nil)

// NewMemoryFindingStore returns an empty store.
func NewMemoryFindingStore() *MemoryFindingStore { return &MemoryFindingStore{} }

// Put implements FindingStore.
func (m *MemoryFindingStore) Put(ctx context.Context, f *dataset.Finding) error {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("investigate: store finding: %w", err)
	}
	var c dataset.Finding
	_ = json.Unmarshal(b, &c) // a deep copy of what was just encoded
	m.mu.Lock()
	m.findings = append(m.findings, c)
	m.mu.Unlock()
	return nil
}

// Findings implements FindingStore.
func (m *MemoryFindingStore) Findings(ctx context.Context, f FindingFilter) ([]dataset.Finding, error) {
	m.mu.Lock()
	var out []dataset.Finding
	for _, x := range m.findings {
		if f.match(&x) {
			out = append(out, x)
		}
	}
	m.mu.Unlock()
	return f.sortLimit(out), nil
}

func (f *FindingFilter) match(x *dataset.Finding) bool {
	return (f.Cluster == "" || f.Cluster == x.Subject.Cluster) &&
		(f.Fingerprint == "" || f.Fingerprint == x.Fingerprint) &&
		(f.Since.IsZero() || !time.Time(x.TS).Before(f.Since))
}

func (f *FindingFilter) limit() int {
	if f.Limit <= 0 {
		return 20
	}
	return f.Limit
}

func (f *FindingFilter) sortLimit(out []dataset.Finding) []dataset.Finding {
	slices.SortStableFunc(out, func(a, b dataset.Finding) int {
		return cmp.Compare(time.Time(b.TS).UnixNano(), time.Time(a.TS).UnixNano())
	})
	if len(out) > f.limit() {
		out = out[:f.limit()]
	}
	return out
}

// SQLFindingStore is a FindingStore in a MySQL or MariaDB table: the
// fields to filter on as columns, the whole Finding as JSON. NewSQLFindingStore
// creates the table; the caller owns and closes db.
type SQLFindingStore struct {
	db    *sql.DB
	table string
}

var _ FindingStore = (*SQLFindingStore)(nil)

// NewSQLFindingStore returns the store on table (default "findings") of db,
// creating the table when missing.
func NewSQLFindingStore(ctx context.Context, db *sql.DB, table string) (*SQLFindingStore, error) {
	if table == "" {
		table = "findings"
	}
	if !tableRE.MatchString(table) {
		return nil, fmt.Errorf("investigate: bad table name %q", table)
	}
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (
		id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, ts DATETIME(6) NOT NULL,
		cluster VARCHAR(255) NOT NULL, fingerprint CHAR(16) NOT NULL, body LONGTEXT NOT NULL,
		KEY (cluster, ts), KEY (fingerprint, ts))`)
	if err != nil {
		return nil, fmt.Errorf("investigate: create %s: %w", table, err)
	}
	return &SQLFindingStore{db: db, table: table}, nil
}

// Put implements FindingStore.
func (s *SQLFindingStore) Put(ctx context.Context, f *dataset.Finding) error {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("investigate: store finding: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO `+s.table+` (ts, cluster, fingerprint, body) VALUES (?, ?, ?, ?)`,
		time.Time(f.TS).UTC().Format(sqlTime), f.Subject.Cluster, f.Fingerprint, string(b))
	if err != nil {
		return fmt.Errorf("investigate: store finding: %w", err)
	}
	return nil
}

// Findings implements FindingStore.
func (s *SQLFindingStore) Findings(ctx context.Context, f FindingFilter) ([]dataset.Finding, error) {
	where, args := []string{"1=1"}, []any{}
	if f.Cluster != "" {
		where, args = append(where, "cluster = ?"), append(args, f.Cluster)
	}
	if f.Fingerprint != "" {
		where, args = append(where, "fingerprint = ?"), append(args, f.Fingerprint)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "ts >= ?"), append(args, f.Since.UTC().Format(sqlTime))
	}
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf(`SELECT body FROM %s WHERE %s ORDER BY ts DESC, id DESC LIMIT %d`,
		s.table, strings.Join(where, " AND "), f.limit()), args...)
	if err != nil {
		return nil, fmt.Errorf("investigate: read findings: %w", err)
	}
	defer rows.Close()
	var out []dataset.Finding
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("investigate: read findings: %w", err)
		}
		var x dataset.Finding
		if err := json.Unmarshal([]byte(body), &x); err != nil {
			return nil, fmt.Errorf("investigate: read findings: %w", err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("investigate: read findings: %w", err)
	}
	return out, nil
}

// SQLQuerierOptions configures a SQLQuerier.
type SQLQuerierOptions struct {
	// Timeout bounds each query. Default 10 s.
	Timeout time.Duration
	// MaxRows caps the rows returned. Default 100.
	MaxRows int
	// MaxValue caps the bytes of one value (longer values are cut).
	// Default 512.
	MaxValue int
}

// SQLQuerier is the ad-hoc SQL tool on a database/sql pool: it runs one
// read-only statement (a SELECT, SHOW, EXPLAIN, DESCRIBE, as package
// hashing classifies it, changing no session state) in a read-only
// transaction, within a timeout, and returns at most MaxRows rows. Give it
// an account that can only read: the checks are a second line of defence.
type SQLQuerier struct {
	db   *sql.DB
	opts SQLQuerierOptions
}

var _ Querier = (*SQLQuerier)(nil)

// NewSQLQuerier returns the tool on db; the caller owns and closes db.
func NewSQLQuerier(db *sql.DB, opts *SQLQuerierOptions) *SQLQuerier {
	q := &SQLQuerier{db: db}
	if opts != nil {
		q.opts = *opts
	}
	if q.opts.Timeout <= 0 {
		q.opts.Timeout = 10 * time.Second
	}
	if q.opts.MaxRows <= 0 {
		q.opts.MaxRows = 100
	}
	if q.opts.MaxValue <= 0 {
		q.opts.MaxValue = 512
	}
	return q
}

// CheckReadOnly returns an error matching ErrNotReadOnly unless query is
// one read-only statement that changes no session state.
func CheckReadOnly(query string) error {
	stmts := hashing.ClassifyAll(query)
	if len(stmts) != 1 {
		return fmt.Errorf("%w: %d statements", ErrNotReadOnly, len(stmts))
	}
	st := stmts[0]
	if st.Class != hashing.ClassSelect || !st.ReadOnly() || st.Flags.Has(hashing.FlagState) {
		return fmt.Errorf("%w: %s (%s)", ErrNotReadOnly, st.Class, st.Flags)
	}
	return nil
}

// Query implements Querier.
func (q *SQLQuerier) Query(ctx context.Context, query string) (Rows, error) {
	if err := CheckReadOnly(query); err != nil {
		return Rows{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, q.opts.Timeout)
	defer cancel()
	tx, err := q.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Rows{}, fmt.Errorf("investigate: sql: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	return scanRows(ctx, tx, query, q.opts.MaxRows, q.opts.MaxValue)
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func scanRows(ctx context.Context, db queryer, query string, maxRows, maxValue int) (Rows, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return Rows{}, fmt.Errorf("investigate: sql: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return Rows{}, fmt.Errorf("investigate: sql: %w", err)
	}
	out := Rows{Columns: cols}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if len(out.Rows) == maxRows {
			out.Truncated = true
			break
		}
		if err := rows.Scan(ptrs...); err != nil {
			return Rows{}, fmt.Errorf("investigate: sql: %w", err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			switch {
			case v == nil:
				row[i] = "NULL"
			case len(v) > maxValue:
				row[i] = string(v[:maxValue]) + "..."
			default:
				row[i] = string(v)
			}
		}
		out.Rows = append(out.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return Rows{}, fmt.Errorf("investigate: sql: %w", err)
	}
	return out, nil
}

// SQLShadowSide is the shadow-side tool on two database/sql pools, the
// primary's and the shadow's: EXPLAIN of one read-only statement on both,
// and the global variables whose values differ. The caller owns and closes
// both pools.
type SQLShadowSide struct {
	primary, shadow *sql.DB
	timeout         time.Duration
}

var _ ShadowSide = (*SQLShadowSide)(nil)

// NewSQLShadowSide returns the tool; timeout bounds each side's queries
// (0 means 10 s).
func NewSQLShadowSide(primary, shadow *sql.DB, timeout time.Duration) *SQLShadowSide {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &SQLShadowSide{primary: primary, shadow: shadow, timeout: timeout}
}

// Compare implements ShadowSide. query must pass CheckReadOnly; it is
// explained, never run.
func (s *SQLShadowSide) Compare(ctx context.Context, query string) (SideBySide, error) {
	if err := CheckReadOnly(query); err != nil {
		return SideBySide{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var out SideBySide
	var err error
	if out.PrimaryPlan, err = scanRows(ctx, s.primary, "EXPLAIN "+query, 200, 1024); err != nil {
		return SideBySide{}, fmt.Errorf("investigate: primary: %w", err)
	}
	if out.ShadowPlan, err = scanRows(ctx, s.shadow, "EXPLAIN "+query, 200, 1024); err != nil {
		return SideBySide{}, fmt.Errorf("investigate: shadow: %w", err)
	}
	pv, err := scanRows(ctx, s.primary, "SHOW GLOBAL VARIABLES", 100000, 4096)
	if err != nil {
		return SideBySide{}, fmt.Errorf("investigate: primary: %w", err)
	}
	sv, err := scanRows(ctx, s.shadow, "SHOW GLOBAL VARIABLES", 100000, 4096)
	if err != nil {
		return SideBySide{}, fmt.Errorf("investigate: shadow: %w", err)
	}
	p, sh := varMap(pv), varMap(sv)
	out.Variables = map[string][2]string{}
	for k, v := range p {
		if w, ok := sh[k]; ok && w != v && !instanceVariable[k] {
			out.Variables[k] = [2]string{v, w}
		}
	}
	return out, nil
}

// instanceVariable are variables that differ between any two servers
// (paths, ports, ids) and say nothing about behaviour.
var instanceVariable = map[string]bool{
	"port": true, "socket": true, "datadir": true, "server_id": true, "server_uuid": true, "pid_file": true,
	"hostname": true, "log_error": true, "general_log_file": true, "slow_query_log_file": true, "tmpdir": true,
	"gtid_domain_id": true, "log_bin_basename": true, "log_bin_index": true, "relay_log_basename": true,
	"relay_log_index": true, "relay_log": true, "log_basename": true, "timestamp": true, "pseudo_thread_id": true,
	"rand_seed1": true, "rand_seed2": true, "wsrep_node_name": true, "innodb_data_home_dir": true,
	"innodb_log_group_home_dir": true, "aria_log_dir_path": true, "system_time_zone": true, "bind_address": true,
}

func varMap(r Rows) map[string]string {
	m := make(map[string]string, len(r.Rows))
	for _, row := range r.Rows {
		if len(row) >= 2 {
			m[strings.ToLower(row[0])] = row[1]
		}
	}
	return m
}
