package lark

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// LegacyRow is the legacy row shape of an alert card: one row per card
// (message), each field the card's alerts' values joined with "|" in card
// order (empty values kept, so position i of every field is alert i+1).
type LegacyRow struct {
	// MessageID is the message id (om_...), the row's key.
	MessageID string
	// ChatID is the chat's id (oc_...).
	ChatID string
	// Created is the message's create time.
	Created time.Time
	// Alerts is the number of alerts in the card.
	Alerts int
	// Fields holds the joined values, by Field (FieldStatus as "firing" or
	// "resolved").
	Fields [numFields]string
}

// NewLegacyRow returns the legacy row of message m, whose card is c.
func NewLegacyRow(m *Message, c *Card) LegacyRow {
	r := LegacyRow{MessageID: m.ID, ChatID: m.ChatID, Created: m.Created, Alerts: len(c.Alerts)}
	for f := range numFields {
		vals := make([]string, len(c.Alerts))
		for i := range c.Alerts {
			vals[i] = c.Alerts[i].Fields[f]
			if f == FieldStatus {
				vals[i] = string(c.Alerts[i].Status)
			}
		}
		r.Fields[f] = strings.Join(vals, "|")
	}
	return r
}

// LegacyWriter writes legacy rows. Writing a row whose MessageID is
// already stored replaces it. Implementations are safe for concurrent use.
type LegacyWriter interface {
	WriteLegacy(ctx context.Context, rows []LegacyRow) error
}

// SQLLegacyTable is a LegacyWriter into a MySQL or MariaDB table with one
// column per field (cluster_name, cluster_id, region, account, status,
// alertname, detail, dashboard_url, silence_url, severity, time), plus
// message_id (PRIMARY KEY), chat_id, created_at and alerts.
type SQLLegacyTable struct {
	db    *sql.DB
	table string
}

var _ LegacyWriter = (*SQLLegacyTable)(nil)

// NewSQLLegacyTable creates table (letters, digits and _) if it does not
// exist and returns the writer. db stays the caller's to close.
func NewSQLLegacyTable(ctx context.Context, db *sql.DB, table string) (*SQLLegacyTable, error) {
	if table == "" || !tablePrefixRE.MatchString(table) {
		return nil, fmt.Errorf("lark: legacy table %q: want letters, digits and _", table)
	}
	var cols strings.Builder
	for f := range numFields {
		fmt.Fprintf(&cols, "\t%s TEXT NOT NULL,\n", f)
	}
	_, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+table+` (
	message_id VARCHAR(128) NOT NULL,
	chat_id VARCHAR(128) NOT NULL,
	created_at DATETIME(3) NOT NULL,
	alerts INT NOT NULL,
`+cols.String()+`	PRIMARY KEY (message_id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`)
	if err != nil {
		return nil, fmt.Errorf("lark: create legacy table: %w", err)
	}
	return &SQLLegacyTable{db: db, table: table}, nil
}

// WriteLegacy implements LegacyWriter with one INSERT ... ON DUPLICATE KEY
// UPDATE.
func (t *SQLLegacyTable) WriteLegacy(ctx context.Context, rows []LegacyRow) error {
	if len(rows) == 0 {
		return nil
	}
	names := []string{"message_id", "chat_id", "created_at", "alerts"}
	for f := range numFields {
		names = append(names, f.String())
	}
	var args []any
	for _, r := range rows {
		args = append(args, r.MessageID, r.ChatID, r.Created.UTC().Format("2006-01-02 15:04:05.000"), r.Alerts)
		for f := range numFields {
			args = append(args, r.Fields[f])
		}
	}
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(names)), ",") + ")"
	var set []string
	for _, n := range names[1:] {
		set = append(set, n+" = VALUES("+n+")")
	}
	stmt := "INSERT INTO " + t.table + " (" + strings.Join(names, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(one+",", len(rows)), ",") + " ON DUPLICATE KEY UPDATE " + strings.Join(set, ", ")
	if _, err := t.db.ExecContext(ctx, stmt, args...); err != nil {
		return fmt.Errorf("lark: write legacy rows: %w", err)
	}
	return nil
}
