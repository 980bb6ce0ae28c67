package lark

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"time"
)

// Cursor is where a catch-up run resumes in one chat.
type Cursor struct {
	// Time is the create time of the last message ingested (milliseconds).
	Time time.Time
	// IDs are the ids of the messages ingested that were created in Time's
	// second. The history API filters on whole seconds, so a catch-up
	// re-reads that second and skips these.
	IDs []string
}

// CursorStore keeps one Cursor per chat. Implementations are safe for
// concurrent use.
type CursorStore interface {
	// Cursor returns the chat's cursor, or the zero Cursor if it has none.
	Cursor(ctx context.Context, chatID string) (Cursor, error)
	// SetCursor stores c as the chat's cursor, unless the stored one is
	// later (a cursor never moves back). When both are in the same second,
	// c replaces it (c's IDs are a superset: the Source reads in order).
	SetCursor(ctx context.Context, chatID string, c Cursor) error
}

// MemoryCursorStore is an in-memory CursorStore, forgotten on restart.
type MemoryCursorStore struct {
	mu sync.Mutex
	m  map[string]Cursor
}

// NewMemoryCursorStore returns an empty MemoryCursorStore.
func NewMemoryCursorStore() *MemoryCursorStore {
	return &MemoryCursorStore{m: map[string]Cursor{}}
}

var (
	_ CursorStore = (*MemoryCursorStore)(nil)
	_ CursorStore = (*SQLCursorStore)(nil)
)

// Cursor implements CursorStore.
func (s *MemoryCursorStore) Cursor(ctx context.Context, chatID string) (Cursor, error) {
	if err := ctx.Err(); err != nil {
		return Cursor{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.m[chatID]
	c.IDs = slices.Clone(c.IDs)
	return c, nil
}

// SetCursor implements CursorStore.
func (s *MemoryCursorStore) SetCursor(ctx context.Context, chatID string, c Cursor) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[chatID]; ok && old.Time.Truncate(time.Second).After(c.Time.Truncate(time.Second)) {
		return nil
	}
	c.IDs = slices.Clone(c.IDs)
	s.m[chatID] = c
	return nil
}

// SQLCursorStore is a CursorStore in a MySQL or MariaDB table (TablePrefix
// + "lark_cursors", one row per chat), typically next to the issues
// package's SQLStore tables in the same database.
type SQLCursorStore struct {
	db    *sql.DB
	table string
}

var tablePrefixRE = regexp.MustCompile(`^[A-Za-z0-9_]*$`)

// NewSQLCursorStore creates the table if it does not exist and returns the
// store. tablePrefix is letters, digits and _ only. db stays the caller's
// to close.
func NewSQLCursorStore(ctx context.Context, db *sql.DB, tablePrefix string) (*SQLCursorStore, error) {
	if !tablePrefixRE.MatchString(tablePrefix) {
		return nil, fmt.Errorf("lark: table prefix %q: want letters, digits and _", tablePrefix)
	}
	s := &SQLCursorStore{db: db, table: tablePrefix + "lark_cursors"}
	_, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+s.table+` (
	chat_id VARCHAR(128) NOT NULL,
	cursor_ms BIGINT NOT NULL,
	boundary_ids TEXT NOT NULL,
	updated_at DATETIME(6) NOT NULL,
	PRIMARY KEY (chat_id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`)
	if err != nil {
		return nil, fmt.Errorf("lark: create cursor table: %w", err)
	}
	return s, nil
}

// Cursor implements CursorStore.
func (s *SQLCursorStore) Cursor(ctx context.Context, chatID string) (Cursor, error) {
	var ms int64
	var ids string
	err := s.db.QueryRowContext(ctx, "SELECT cursor_ms, boundary_ids FROM "+s.table+" WHERE chat_id = ?", chatID).Scan(&ms, &ids)
	if err == sql.ErrNoRows {
		return Cursor{}, nil
	}
	if err != nil {
		return Cursor{}, fmt.Errorf("lark: read cursor: %w", err)
	}
	c := Cursor{Time: time.UnixMilli(ms).UTC()}
	if err := json.Unmarshal([]byte(ids), &c.IDs); err != nil {
		return Cursor{}, fmt.Errorf("lark: read cursor of %s: %w", chatID, err)
	}
	return c, nil
}

// SetCursor implements CursorStore in one statement: the row keeps the
// later cursor whatever the order of concurrent writers.
func (s *SQLCursorStore) SetCursor(ctx context.Context, chatID string, c Cursor) error {
	ids, err := json.Marshal(nonNil(c.IDs))
	if err != nil {
		return err
	}
	// Assignments run left to right: boundary_ids reads the old cursor_ms.
	_, err = s.db.ExecContext(ctx, "INSERT INTO "+s.table+` (chat_id, cursor_ms, boundary_ids, updated_at)
	VALUES (?, ?, ?, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE
	boundary_ids = IF(VALUES(cursor_ms) DIV 1000 >= cursor_ms DIV 1000, VALUES(boundary_ids), boundary_ids),
	updated_at = IF(VALUES(cursor_ms) DIV 1000 >= cursor_ms DIV 1000, VALUES(updated_at), updated_at),
	cursor_ms = IF(VALUES(cursor_ms) DIV 1000 >= cursor_ms DIV 1000, VALUES(cursor_ms), cursor_ms)`,
		chatID, c.Time.UnixMilli(), string(ids))
	if err != nil {
		return fmt.Errorf("lark: write cursor: %w", err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
