package replay

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"
	"time"
)

// DefaultAuditTable is the table the StarRocks AuditLoader plugin fills by
// default. Managed services use other names (Alibaba Cloud EMR:
// _starrocks_audit_db_.starrocks_audit_tbl).
const DefaultAuditTable = "starrocks_audit_db__.starrocks_audit_tbl__"

// AuditTableOptions configures OpenAuditTable.
type AuditTableOptions struct {
	// Table is the audit table, "db.table". Default DefaultAuditTable.
	Table string
	// From and To bound the statements' start times, [From, To); a zero
	// value leaves that end open.
	From, To time.Time
	// Location is the time zone of the timestamp column (the FE's: the
	// plugin writes local time without a zone). Default UTC.
	Location *time.Location
}

// OpenAuditTable returns a Source over the table the StarRocks AuditLoader
// plugin fills, read over SQL with db for a time window, ordered by
// timestamp and stmtId. It reads the columns queryId, timestamp (the start,
// whole seconds), queryType, clientIp (the session), user, db, state,
// errorCode, queryTime (ms), returnRows and stmt, which the plugin's tables
// have from StarRocks 2.4 on; rows whose queryType is not query or
// slow_query (connections) are skipped. Rows that cannot be read (a NULL
// stmt, a bad timestamp) are counted as malformed with their row number.
// The rows are streamed: memory does not grow with the window.
func OpenAuditTable(ctx context.Context, db *sql.DB, opts *AuditTableOptions) (Source, error) {
	var o AuditTableOptions
	if opts != nil {
		o = *opts
	}
	if o.Table == "" {
		o.Table = DefaultAuditTable
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	table, err := quoteTable(o.Table)
	if err != nil {
		return nil, err
	}
	q := "SELECT `queryId`, CAST(`timestamp` AS CHAR), `queryType`, `clientIp`, `user`, `db`, `state`, `errorCode`, `queryTime`, `returnRows`, `stmt` FROM " + table
	var where []string
	var args []any
	const layout = "2006-01-02 15:04:05"
	if !o.From.IsZero() {
		where = append(where, "`timestamp` >= ?")
		args = append(args, o.From.In(o.Location).Format(layout))
	}
	if !o.To.IsZero() {
		where = append(where, "`timestamp` < ?")
		args = append(args, o.To.In(o.Location).Format(layout))
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY `timestamp`, `stmtId`"
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("replay: read audit table %s: %w", o.Table, err)
	}
	return &auditTable{name: o.Table, rows: rows, loc: o.Location}, nil
}

// quoteTable quotes "db.table" or "table" with backquotes.
func quoteTable(name string) (string, error) {
	parts := strings.Split(name, ".")
	if len(parts) > 2 {
		return "", fmt.Errorf("replay: table name %q: want db.table", name)
	}
	for i, p := range parts {
		if p == "" || strings.ContainsAny(p, "`\x00") {
			return "", fmt.Errorf("replay: table name %q: bad identifier", name)
		}
		parts[i] = "`" + p + "`"
	}
	return strings.Join(parts, "."), nil
}

type auditTable struct {
	name string
	rows *sql.Rows
	loc  *time.Location
	row  int64
	c    counter
	done bool
}

func (a *auditTable) Next(ctx context.Context) (Statement, error) {
	for !a.done {
		if err := ctx.Err(); err != nil {
			return Statement{}, err
		}
		if !a.rows.Next() {
			a.done = true
			if err := a.rows.Err(); err != nil {
				return Statement{}, fmt.Errorf("replay: read audit table %s: %w", a.name, err)
			}
			break
		}
		a.row++
		pos := Position{a.name, a.row}
		var queryID, ts, qtype, client, user, db, state, code, stmt sql.NullString
		var qtime, rows sql.NullInt64
		if err := a.rows.Scan(&queryID, &ts, &qtype, &client, &user, &db, &state, &code, &qtime, &rows, &stmt); err != nil {
			a.c.malformed(pos, "scan: %v", err)
			continue
		}
		if qtype.Valid && qtype.String != "query" && qtype.String != "slow_query" {
			a.c.skipped()
			continue
		}
		if !stmt.Valid {
			a.c.malformed(pos, "NULL stmt (queryId %s)", queryID.String)
			continue
		}
		t, err := time.ParseInLocation("2006-01-02 15:04:05", strings.TrimSpace(ts.String), a.loc)
		if err != nil {
			// Some engines print fractional seconds.
			t, err = time.ParseInLocation("2006-01-02 15:04:05.999999", strings.TrimSpace(ts.String), a.loc)
		}
		if err != nil {
			a.c.malformed(pos, "timestamp %q: %v", ts.String, err)
			continue
		}
		st := Statement{
			Time: t.UTC(), Session: client.String, User: user.String, Database: db.String, Text: stmt.String,
			Failed: state.String == "ERR", ErrorCode: code.String, Duration: -1, Rows: -1, Pos: pos,
		}
		if qtime.Valid && qtime.Int64 >= 0 {
			st.Duration = time.Duration(qtime.Int64) * time.Millisecond
		}
		if rows.Valid && rows.Int64 >= 0 {
			st.Rows = rows.Int64
		}
		a.c.yielded()
		return st, nil
	}
	return Statement{}, io.EOF
}

func (a *auditTable) Stats() SourceStats { return a.c.stats() }

func (a *auditTable) Close() error {
	a.done = true
	return a.rows.Close()
}
