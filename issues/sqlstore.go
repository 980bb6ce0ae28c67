package issues

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Dialect is the SQL database an SQLStore runs on.
type Dialect int

const (
	// MySQL is MySQL or MariaDB (InnoDB): every Update is one transaction
	// that first locks the cluster's row in the locks table (SELECT ... FOR
	// UPDATE), so any number of trackers may share the tables.
	MySQL Dialect = iota
	// StarRocks uses primary-key tables, where INSERT replaces the row with
	// the same key. StarRocks has no row locks and no multi-statement
	// transactions: exactly one tracker process may write the tables (the
	// single-writer rule; it serialises per cluster in memory), others may
	// only read them. An Update writes its issues before its messages, so a
	// crash in between loses nothing: the source re-delivers, and the
	// messages are ingested again (counted twice in the issue's tallies at
	// worst). Use a DSN with interpolateParams=true.
	StarRocks
)

// SQLStoreOptions configures an SQLStore. The zero value (or nil) gives the
// defaults documented on each field.
type SQLStoreOptions struct {
	// Dialect of the database. Default MySQL.
	Dialect Dialect
	// TablePrefix is prepended to the table names (issues, issue_messages,
	// issue_locks). Default "". Letters, digits and _ only.
	TablePrefix string
	// Retries is how many times Update retries after a deadlock, a lock
	// wait timeout or a duplicate key. Default 5.
	Retries int
}

// SQLStore is a Store on MySQL, MariaDB or StarRocks through database/sql
// (with github.com/go-sql-driver/mysql). It creates its tables.
//
// Tables (T is TablePrefix):
//
//	Tissues          one row per issue (PRIMARY KEY id)
//	Tissue_messages  one row per alert message ever stored (PRIMARY KEY id,
//	                 KEY (cluster, starts_at) on MySQL)
//	Tissue_locks     one row per cluster, locked by Update (MySQL only)
//
// Times are DATETIME(6) in UTC.
type SQLStore struct {
	db      *sql.DB
	d       Dialect
	issues  string
	msgs    string
	locks   string
	retries int
}

var _ Store = (*SQLStore)(nil)

var prefixRE = regexp.MustCompile(`^[A-Za-z0-9_]*$`)

// NewSQLStore creates the tables if they do not exist and returns the
// store. db stays the caller's to close.
func NewSQLStore(ctx context.Context, db *sql.DB, opts *SQLStoreOptions) (*SQLStore, error) {
	var o SQLStoreOptions
	if opts != nil {
		o = *opts
	}
	if !prefixRE.MatchString(o.TablePrefix) {
		return nil, fmt.Errorf("issues: table prefix %q: want letters, digits and _", o.TablePrefix)
	}
	if o.Retries <= 0 {
		o.Retries = 5
	}
	s := &SQLStore{
		db: db, d: o.Dialect, retries: o.Retries,
		issues: o.TablePrefix + "issues", msgs: o.TablePrefix + "issue_messages", locks: o.TablePrefix + "issue_locks",
	}
	for _, ddl := range s.ddl() {
		if _, err := db.ExecContext(ctx, ddl); err != nil {
			return nil, fmt.Errorf("issues: create tables: %w", err)
		}
	}
	if err := s.migrate(ctx); err != nil {
		return nil, fmt.Errorf("issues: upgrade tables: %w", err)
	}
	return s, nil
}

// migrate brings tables created by earlier versions up to date: the
// messages' alert_source column, and on MySQL their (cluster, starts_at)
// index, which CountFiring reads. Two stores starting at once may both
// add them: the loser's "duplicate column" or "duplicate key name" is
// ignored.
func (s *SQLStore) migrate(ctx context.Context) error {
	missing := func(table, col, q string) (bool, error) {
		var n int
		err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema."+table+
			" WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND "+col+" = ?", s.msgs, q).Scan(&n)
		return n == 0, err
	}
	steps := []struct{ table, col, name, alter string }{
		{"COLUMNS", "COLUMN_NAME", "alert_source", "ADD COLUMN alert_source VARCHAR(16) NOT NULL DEFAULT ''"},
	}
	if s.d == MySQL {
		steps = append(steps, struct{ table, col, name, alter string }{
			"STATISTICS", "INDEX_NAME", "cluster_starts", "ADD KEY cluster_starts (cluster, starts_at)"})
	}
	for _, st := range steps {
		add, err := missing(st.table, st.col, st.name)
		if err != nil {
			return err
		}
		if !add {
			continue
		}
		var me *mysql.MySQLError
		if _, err := s.db.ExecContext(ctx, "ALTER TABLE "+s.msgs+" "+st.alter); err != nil &&
			!(errors.As(err, &me) && (me.Number == 1060 || me.Number == 1061)) {
			return err
		}
	}
	return nil
}

func (s *SQLStore) ddl() []string {
	issueCols := `id VARCHAR(64) NOT NULL,
	cluster VARCHAR(255) NOT NULL,
	issue_status VARCHAR(16) NOT NULL,
	kind VARCHAR(16) NOT NULL,
	grp VARCHAR(255) NOT NULL,
	title VARCHAR(1024) NOT NULL,
	severity VARCHAR(16) NOT NULL,
	triage_status VARCHAR(32) NOT NULL,
	disposition_status VARCHAR(32) NOT NULL,
	alert_names %[1]s NOT NULL,
	alerts INT NOT NULL,
	firing INT NOT NULL,
	escalations INT NOT NULL,
	first_firing DATETIME%[2]s NOT NULL,
	last_firing DATETIME%[2]s NOT NULL,
	opened_at DATETIME%[2]s NOT NULL,
	updated_at DATETIME%[2]s NOT NULL,
	resolved_at DATETIME%[2]s NULL`
	msgCols := `id VARCHAR(96) NOT NULL,
	alert_source VARCHAR(16) NOT NULL DEFAULT '',
	cluster VARCHAR(255) NOT NULL,
	issue_id VARCHAR(64) NOT NULL,
	alert_status VARCHAR(16) NOT NULL,
	alertname VARCHAR(255) NOT NULL,
	fingerprint VARCHAR(64) NOT NULL,
	labels %[1]s NOT NULL,
	annotations %[1]s NOT NULL,
	starts_at DATETIME%[2]s NOT NULL,
	ends_at DATETIME%[2]s NULL,
	generator_url %[1]s NOT NULL,
	received_at DATETIME%[2]s NOT NULL`
	if s.d == StarRocks {
		props := ` PRIMARY KEY (id) DISTRIBUTED BY HASH(id)`
		return []string{
			"CREATE TABLE IF NOT EXISTS " + s.issues + " (" + fmt.Sprintf(issueCols, "STRING", "") + ")" + props,
			"CREATE TABLE IF NOT EXISTS " + s.msgs + " (" + fmt.Sprintf(msgCols, "STRING", "") + ")" + props,
		}
	}
	tail := ` ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`
	return []string{
		"CREATE TABLE IF NOT EXISTS " + s.issues + " (" + fmt.Sprintf(issueCols, "TEXT", "(6)") +
			",\n\tPRIMARY KEY (id),\n\tKEY cluster_status (cluster, issue_status),\n\tKEY opened (opened_at))" + tail,
		"CREATE TABLE IF NOT EXISTS " + s.msgs + " (" + fmt.Sprintf(msgCols, "TEXT", "(6)") +
			",\n\tPRIMARY KEY (id),\n\tKEY issue (issue_id),\n\tKEY cluster_starts (cluster, starts_at))" + tail,
		"CREATE TABLE IF NOT EXISTS " + s.locks + " (cluster VARCHAR(255) NOT NULL, PRIMARY KEY (cluster))" + tail,
	}
}

const issueSelect = `SELECT id, cluster, issue_status, kind, grp, title, severity, triage_status,
	disposition_status, alert_names, alerts, firing, escalations, first_firing, last_firing,
	opened_at, updated_at, resolved_at FROM `

// querier is *sql.DB or *sql.Tx.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Update implements Store. On MySQL it runs one READ COMMITTED transaction
// that locks the cluster's row first; on StarRocks, plain statements (see
// the single-writer rule on StarRocks).
func (s *SQLStore) Update(ctx context.Context, q Query, fn func(State) (Change, error)) error {
	var err error
	for attempt := 0; ; attempt++ {
		err = s.update(ctx, q, fn)
		if err == nil || attempt >= s.retries || !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 10 * time.Millisecond):
		}
	}
}

func retryable(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1213, 1205, 1062: // deadlock, lock wait timeout, duplicate key
			return true
		}
	}
	return false
}

func (s *SQLStore) update(ctx context.Context, q Query, fn func(State) (Change, error)) error {
	if s.d == StarRocks {
		st, err := s.load(ctx, s.db, q)
		if err != nil {
			return err
		}
		ch, err := fn(st)
		if err != nil {
			return err
		}
		return s.write(ctx, s.db, ch)
	}
	if _, err := s.db.ExecContext(ctx, "INSERT IGNORE INTO "+s.locks+" (cluster) VALUES (?)", q.Cluster); err != nil {
		return fmt.Errorf("issues: lock row: %w", err)
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return fmt.Errorf("issues: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	rows, err := tx.QueryContext(ctx, "SELECT cluster FROM "+s.locks+" WHERE cluster = ? FOR UPDATE", q.Cluster)
	if err != nil {
		return fmt.Errorf("issues: lock cluster: %w", err)
	}
	rows.Close()
	st, err := s.load(ctx, tx, q)
	if err != nil {
		return err
	}
	ch, err := fn(st)
	if err != nil {
		return err
	}
	if err := s.write(ctx, tx, ch); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("issues: commit: %w", err)
	}
	return nil
}

const chunk = 200

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func (s *SQLStore) load(ctx context.Context, db querier, q Query) (State, error) {
	st := State{Seen: map[string]string{}}
	want := map[string]bool{}
	for _, id := range q.IssueIDs {
		want[id] = true
	}
	for i := 0; i < len(q.MessageIDs); i += chunk {
		ids := q.MessageIDs[i:min(i+chunk, len(q.MessageIDs))]
		args := make([]any, len(ids))
		for k, id := range ids {
			args[k] = id
		}
		rows, err := db.QueryContext(ctx, "SELECT id, issue_id FROM "+s.msgs+" WHERE id IN ("+placeholders(len(ids))+")", args...)
		if err != nil {
			return State{}, fmt.Errorf("issues: load messages: %w", err)
		}
		for rows.Next() {
			var id, issue string
			if err := rows.Scan(&id, &issue); err != nil {
				rows.Close()
				return State{}, fmt.Errorf("issues: load messages: %w", err)
			}
			st.Seen[id] = issue
			want[issue] = true
		}
		if err := rows.Close(); err != nil {
			return State{}, fmt.Errorf("issues: load messages: %w", err)
		}
	}
	got := map[string]bool{}
	add := func(list []Issue) {
		for _, is := range list {
			if !got[is.ID] {
				got[is.ID] = true
				st.Issues = append(st.Issues, is)
			}
		}
	}
	open, err := s.query(ctx, db, " WHERE cluster = ? AND issue_status = ?", q.Cluster, string(Ongoing))
	if err != nil {
		return State{}, err
	}
	add(open)
	var ids []any
	for id := range want {
		if !got[id] {
			ids = append(ids, id)
		}
	}
	for i := 0; i < len(ids); i += chunk {
		part := ids[i:min(i+chunk, len(ids))]
		list, err := s.query(ctx, db, " WHERE cluster = ? AND id IN ("+placeholders(len(part))+")", append([]any{q.Cluster}, part...)...)
		if err != nil {
			return State{}, err
		}
		add(list)
	}
	return st, nil
}

func (s *SQLStore) query(ctx context.Context, db querier, where string, args ...any) ([]Issue, error) {
	rows, err := db.QueryContext(ctx, issueSelect+s.issues+where, args...)
	if err != nil {
		return nil, fmt.Errorf("issues: load issues: %w", err)
	}
	defer rows.Close()
	var out []Issue
	for rows.Next() {
		var is Issue
		var names string
		var first, last, opened, updated string
		var resolved sql.NullString
		if err := rows.Scan(&is.ID, &is.Cluster, &is.Status, &is.Kind, &is.Group, &is.Title, &is.Severity,
			&is.Triage, &is.Disposition, &names, &is.Alerts, &is.Firing, &is.Escalations,
			&first, &last, &opened, &updated, &resolved); err != nil {
			return nil, fmt.Errorf("issues: load issues: %w", err)
		}
		if err := json.Unmarshal([]byte(names), &is.AlertNames); err != nil {
			return nil, fmt.Errorf("issues: issue %s: alert_names: %w", is.ID, err)
		}
		var perr error
		is.FirstFiring, perr = parseTime(first, perr)
		is.LastFiring, perr = parseTime(last, perr)
		is.Opened, perr = parseTime(opened, perr)
		is.Updated, perr = parseTime(updated, perr)
		if resolved.Valid {
			is.ResolvedAt, perr = parseTime(resolved.String, perr)
		}
		if perr != nil {
			return nil, fmt.Errorf("issues: issue %s: %w", is.ID, perr)
		}
		out = append(out, is)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("issues: load issues: %w", err)
	}
	return out, nil
}

const sqlTime = "2006-01-02 15:04:05.999999"

// parseTime reads a DATETIME as the driver returns it (text, with or
// without parseTime=true it is scanned into a string as written).
func parseTime(v string, prev error) (time.Time, error) {
	if prev != nil {
		return time.Time{}, prev
	}
	for _, layout := range []string{sqlTime, time.RFC3339Nano} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable time %q", v)
}

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000000") }

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return fmtTime(t)
}

func (s *SQLStore) write(ctx context.Context, db querier, ch Change) error {
	for i := 0; i < len(ch.Issues); i += chunk {
		part := ch.Issues[i:min(i+chunk, len(ch.Issues))]
		var args []any
		for _, is := range part {
			names, _ := json.Marshal(nonNil(is.AlertNames))
			args = append(args, is.ID, is.Cluster, string(is.Status), string(is.Kind), is.Group, is.Title,
				string(is.Severity), string(is.Triage), string(is.Disposition), string(names), is.Alerts,
				is.Firing, is.Escalations, fmtTime(is.FirstFiring), fmtTime(is.LastFiring), fmtTime(is.Opened),
				fmtTime(is.Updated), nullTime(is.ResolvedAt))
		}
		stmt := "INSERT INTO " + s.issues + ` (id, cluster, issue_status, kind, grp, title, severity,
	triage_status, disposition_status, alert_names, alerts, firing, escalations, first_firing,
	last_firing, opened_at, updated_at, resolved_at) VALUES ` +
			strings.TrimSuffix(strings.Repeat("("+placeholders(18)+"),", len(part)), ",")
		if s.d == MySQL {
			var set []string
			for _, c := range []string{"issue_status", "kind", "grp", "title", "severity", "triage_status",
				"disposition_status", "alert_names", "alerts", "firing", "escalations", "first_firing",
				"last_firing", "opened_at", "updated_at", "resolved_at"} {
				set = append(set, c+" = VALUES("+c+")")
			}
			stmt += " ON DUPLICATE KEY UPDATE " + strings.Join(set, ", ")
		}
		if _, err := db.ExecContext(ctx, stmt, args...); err != nil {
			return fmt.Errorf("issues: write issues: %w", err)
		}
	}
	for i := 0; i < len(ch.Messages); i += chunk {
		part := ch.Messages[i:min(i+chunk, len(ch.Messages))]
		var args []any
		for _, m := range part {
			labels, _ := json.Marshal(nonNilMap(m.Alert.Labels))
			ann, _ := json.Marshal(nonNilMap(m.Alert.Annotations))
			args = append(args, m.ID, m.Alert.Source, m.Cluster, m.IssueID, string(m.Alert.Status), m.Alert.Name(),
				m.Alert.Fingerprint, string(labels), string(ann), fmtTime(m.Alert.StartsAt),
				nullTime(m.Alert.EndsAt), m.Alert.GeneratorURL, fmtTime(m.Received))
		}
		stmt := "INSERT INTO " + s.msgs + ` (id, alert_source, cluster, issue_id, alert_status, alertname,
	fingerprint, labels, annotations, starts_at, ends_at, generator_url, received_at) VALUES ` +
			strings.TrimSuffix(strings.Repeat("("+placeholders(13)+"),", len(part)), ",")
		if _, err := db.ExecContext(ctx, stmt, args...); err != nil {
			return fmt.Errorf("issues: write messages: %w", err)
		}
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// Issues implements Store.
func (s *SQLStore) Issues(ctx context.Context, f Filter) ([]Issue, error) {
	var where []string
	var args []any
	if len(f.IDs) > 0 {
		where = append(where, "id IN ("+placeholders(len(f.IDs))+")")
		for _, id := range f.IDs {
			args = append(args, id)
		}
	}
	for _, c := range []struct{ col, v string }{{"cluster", f.Cluster}, {"issue_status", string(f.Status)}, {"triage_status", string(f.Triage)}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	q := ""
	if len(where) > 0 {
		q = " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY opened_at DESC, id"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return s.query(ctx, s.db, q, args...)
}

// Messages implements MessageLister.
func (s *SQLStore) Messages(ctx context.Context, issueID string) ([]Message, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, alert_source, cluster, issue_id, alert_status, fingerprint, labels,
	annotations, starts_at, ends_at, generator_url, received_at FROM `+s.msgs+
		` WHERE issue_id = ? ORDER BY starts_at, id`, issueID)
	if err != nil {
		return nil, fmt.Errorf("issues: load messages: %w", err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var labels, ann, starts, received string
		var ends sql.NullString
		if err := rows.Scan(&m.ID, &m.Alert.Source, &m.Cluster, &m.IssueID, &m.Alert.Status, &m.Alert.Fingerprint,
			&labels, &ann, &starts, &ends, &m.Alert.GeneratorURL, &received); err != nil {
			return nil, fmt.Errorf("issues: load messages: %w", err)
		}
		if m.Alert.Source == "" { // a row written before alert_source: its id is hashed
			m.Alert.Source, _, _ = strings.Cut(m.ID, "_")
		}
		if !hashedID.MatchString(m.ID) {
			m.Alert.ID = strings.TrimSuffix(m.ID, ResolvedSuffix)
		}
		if err := errors.Join(json.Unmarshal([]byte(labels), &m.Alert.Labels), json.Unmarshal([]byte(ann), &m.Alert.Annotations)); err != nil {
			return nil, fmt.Errorf("issues: message %s: %w", m.ID, err)
		}
		var perr error
		m.Alert.StartsAt, perr = parseTime(starts, perr)
		m.Received, perr = parseTime(received, perr)
		if ends.Valid {
			m.Alert.EndsAt, perr = parseTime(ends.String, perr)
		}
		if perr != nil {
			return nil, fmt.Errorf("issues: message %s: %w", m.ID, perr)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// CountFiring implements FiringCounter with one COUNT over the messages'
// (cluster, starts_at) index.
func (s *SQLStore) CountFiring(ctx context.Context, cluster string, from, to time.Time) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+s.msgs+
		" WHERE cluster = ? AND starts_at >= ? AND starts_at < ? AND alert_status = ?",
		cluster, fmtTime(from), fmtTime(to), string(StatusFiring)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("issues: count firing: %w", err)
	}
	return n, nil
}
