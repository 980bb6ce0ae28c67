package scoring

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
)

// SQLStoreOptions configures a SQLStore.
type SQLStoreOptions struct {
	// Table is the table name. Default "scoring_cooldowns".
	Table string
}

// SQLStore is a CooldownStore in a MySQL-protocol database (MySQL, MariaDB,
// StarRocks is not a target). NewSQLStore creates its table:
//
//	CREATE TABLE IF NOT EXISTS scoring_cooldowns (
//	  cluster      VARCHAR(255) NOT NULL,
//	  trigger_name VARCHAR(64)  NOT NULL,
//	  fired_at     DATETIME(6)  NOT NULL,   -- UTC
//	  PRIMARY KEY (cluster, trigger_name))
//
// It is safe for concurrent use (as *sql.DB is).
type SQLStore struct {
	db    *sql.DB
	table string
}

var _ CooldownStore = (*SQLStore)(nil)

var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// NewSQLStore creates the table if it does not exist and returns the store.
// db stays the caller's to close.
func NewSQLStore(ctx context.Context, db *sql.DB, opts *SQLStoreOptions) (*SQLStore, error) {
	t := "scoring_cooldowns"
	if opts != nil && opts.Table != "" {
		t = opts.Table
	}
	if db == nil {
		return nil, errors.New("scoring: sql store: nil db")
	}
	if !tableName.MatchString(t) {
		return nil, fmt.Errorf("scoring: sql store: bad table name %q", t)
	}
	_, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS `"+t+"` ("+
		"cluster VARCHAR(255) NOT NULL, trigger_name VARCHAR(64) NOT NULL, fired_at DATETIME(6) NOT NULL, "+
		"PRIMARY KEY (cluster, trigger_name))")
	if err != nil {
		return nil, fmt.Errorf("scoring: sql store: create table: %w", err)
	}
	return &SQLStore{db: db, table: t}, nil
}

// timeLayout is how fired_at travels, as text, so that neither the
// driver's parseTime nor the session time zone changes it.
const timeLayout = "2006-01-02 15:04:05.000000"

// LastFired implements CooldownStore.
func (s *SQLStore) LastFired(ctx context.Context, cluster string, trigger dataset.Trigger) (time.Time, bool, error) {
	var v string
	err := s.db.QueryRowContext(ctx,
		"SELECT DATE_FORMAT(fired_at, '%Y-%m-%d %H:%i:%s.%f') FROM `"+s.table+"` WHERE cluster = ? AND trigger_name = ?",
		cluster, string(trigger)).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("scoring: sql store: read cooldown: %w", err)
	}
	t, err := time.ParseInLocation(timeLayout, v, time.UTC)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("scoring: sql store: bad fired_at %q: %w", v, err)
	}
	return t, true, nil
}

// RecordFired implements CooldownStore.
func (s *SQLStore) RecordFired(ctx context.Context, cluster string, trigger dataset.Trigger, at time.Time) error {
	_, err := s.db.ExecContext(ctx,
		"INSERT INTO `"+s.table+"` (cluster, trigger_name, fired_at) VALUES (?, ?, ?) "+
			"ON DUPLICATE KEY UPDATE fired_at = VALUES(fired_at)",
		cluster, string(trigger), at.UTC().Format(timeLayout))
	if err != nil {
		return fmt.Errorf("scoring: sql store: record cooldown: %w", err)
	}
	return nil
}
