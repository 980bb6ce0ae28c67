package profile

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/hashing"
	"github.com/sqlshadow/sqlshadow/sink"
)

// PerfSchemaOptions configures a PerfSchemaSource. Nil means defaults.
type PerfSchemaOptions struct {
	// Cluster names the cluster in records. Default "".
	Cluster string
	// NoDigests turns off the digest deltas. Default false.
	NoDigests bool
	// NoSamples turns off the sampled statements. Default false.
	NoSamples bool
	// IncludeNested also emits statements run inside stored programs
	// (NESTING_EVENT_LEVEL > 0). Default false: top-level statements only.
	IncludeNested bool
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives warnings (an option that is off). Default: discard.
	Logger *slog.Logger
}

// PerfSchemaSource reads a MySQL or MariaDB server's performance_schema:
//
//   - Digest deltas: events_statements_summary_by_digest is cumulative; each
//     Collect emits, per (SCHEMA_NAME, DIGEST) that ran since the previous
//     Collect, a KindDigest record with the change of its counters. These
//     are lossless aggregates. The first Collect only takes the baseline. A
//     counter that went down (TRUNCATE, restart) restarts the delta from
//     zero.
//   - Sampled statements: events_statements_history_long is a ring buffer
//     (performance_schema_events_statements_history_long_size rows: 1,000 by
//     default on MariaDB 10.11, autosized on MySQL; the consumer is off by
//     default on both, and MariaDB fills it only while
//     events_statements_current is on too): each Collect emits the finished statements that appeared
//     since the previous one, as KindStatement records with the statement's
//     text, hashes and counters. At more statements per poll interval than
//     the ring holds, statements are lost: a full ring yields a KindGap
//     record. Use the digests for totals.
//
// TIMER_* columns are picoseconds since server start; times are converted with
// the server's Uptime (1 s precision). Statements reading performance_schema
// (the source's own) are skipped. Check reports which server options and
// consumers are off.
//
// Collect must not be called concurrently with itself.
type PerfSchemaSource struct {
	db   *sql.DB
	addr string
	opts PerfSchemaOptions

	mu       sync.Mutex
	checked  *ServerCheck
	warned   bool
	digests  map[digestKey]digestRow
	lastPoll time.Time
	seen     map[int64]int64 // THREAD_ID -> largest EVENT_ID read
	primed   bool
}

type digestKey struct{ schema, digest string }

type digestRow struct {
	text                                               string
	count, sumWait, maxWait, lock, errs, warns         uint64
	affected, sent, examined, tmpDisk, sortRows, noIdx uint64
	firstSeen                                          string
}

// NewPerfSchemaSource returns a source reading db. addr names the server in
// records (fe_host); db needs SELECT on performance_schema (and UPDATE on
// performance_schema.setup_consumers only to run EnableConsumers).
func NewPerfSchemaSource(db *sql.DB, addr string, opts *PerfSchemaOptions) *PerfSchemaSource {
	s := &PerfSchemaSource{db: db, addr: addr, digests: map[digestKey]digestRow{}, seen: map[int64]int64{}}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.Now == nil {
		s.opts.Now = time.Now
	}
	if s.opts.Logger == nil {
		s.opts.Logger = slog.New(slog.DiscardHandler)
	}
	return s
}

// ServerCheck is what a server has of what PerfSchemaSource needs.
type ServerCheck struct {
	// PerformanceSchema is @@performance_schema (MariaDB: off by default,
	// set only at startup with --performance-schema=ON).
	PerformanceSchema bool
	// Consumers maps the setup_consumers the source needs to whether they
	// are enabled.
	Consumers map[string]bool
	// StatementInstruments is the number of statement/% instruments that are
	// both enabled and timed.
	StatementInstruments int
	// HistoryLongSize is performance_schema_events_statements_history_long_size
	// (-1 unknown).
	HistoryLongSize int64
	// DigestsSize is performance_schema_digests_size (-1 unknown).
	DigestsSize int64
	// MaxSQLTextLength is performance_schema_max_sql_text_length (-1
	// unknown): longer statements are truncated in the samples.
	MaxSQLTextLength int64
	// Problems lists, in words, each required option or consumer that is
	// off, with the statement or option that turns it on.
	Problems []string
}

// DigestsOK reports whether digest deltas can be collected.
func (c *ServerCheck) DigestsOK() bool {
	return c.PerformanceSchema && c.Consumers["global_instrumentation"] && c.Consumers["statements_digest"] &&
		c.StatementInstruments > 0
}

// SamplesOK reports whether sampled statements can be collected.
func (c *ServerCheck) SamplesOK() bool {
	return c.PerformanceSchema && c.Consumers["global_instrumentation"] && c.Consumers["thread_instrumentation"] &&
		c.Consumers["events_statements_current"] && c.Consumers["events_statements_history_long"] && c.StatementInstruments > 0
}

// ConfigError is the error of a server without what the source needs. It
// matches ErrServerConfig.
type ConfigError struct {
	Addr     string
	Problems []string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrServerConfig, e.Addr, strings.Join(e.Problems, "; "))
}

// Is matches ErrServerConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrServerConfig }

// neededConsumers are the setup_consumers the source needs. MariaDB 10.11
// fills events_statements_history_long only while events_statements_current
// is enabled too (measured), although the consumer hierarchy does not say so.
var neededConsumers = []string{"global_instrumentation", "thread_instrumentation", "statements_digest",
	"events_statements_current", "events_statements_history_long"}

// Check inspects the server's performance_schema setup.
func (s *PerfSchemaSource) Check(ctx context.Context) (*ServerCheck, error) {
	c := &ServerCheck{Consumers: map[string]bool{}, HistoryLongSize: -1, DigestsSize: -1, MaxSQLTextLength: -1}
	var ps sql.NullInt64
	if err := s.db.QueryRowContext(ctx, "SELECT @@performance_schema").Scan(&ps); err != nil {
		return nil, fmt.Errorf("profile: %s: read @@performance_schema: %w", s.addr, err)
	}
	c.PerformanceSchema = ps.Int64 == 1
	if !c.PerformanceSchema {
		c.Problems = append(c.Problems, "performance_schema is OFF: start the server with --performance-schema=ON (a startup option)")
		return c, nil
	}
	for _, v := range []struct {
		name string
		dst  *int64
	}{{"performance_schema_events_statements_history_long_size", &c.HistoryLongSize},
		{"performance_schema_digests_size", &c.DigestsSize},
		{"performance_schema_max_sql_text_length", &c.MaxSQLTextLength}} {
		var n sql.NullInt64
		if err := s.db.QueryRowContext(ctx, "SELECT @@"+v.name).Scan(&n); err == nil && n.Valid {
			*v.dst = n.Int64
		}
	}
	rows, err := s.db.QueryContext(ctx, "SELECT NAME, ENABLED FROM performance_schema.setup_consumers")
	if err != nil {
		return nil, fmt.Errorf("profile: %s: read setup_consumers: %w", s.addr, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, enabled string
		if err := rows.Scan(&name, &enabled); err != nil {
			return nil, fmt.Errorf("profile: %s: read setup_consumers: %w", s.addr, err)
		}
		c.Consumers[name] = strings.EqualFold(enabled, "YES")
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("profile: %s: read setup_consumers: %w", s.addr, err)
	}
	for _, n := range neededConsumers {
		if !c.Consumers[n] {
			c.Problems = append(c.Problems, fmt.Sprintf("consumer %s is off: UPDATE performance_schema.setup_consumers SET ENABLED='YES' WHERE NAME='%s' "+
				"(or start with --performance-schema-consumer-%s=ON)", n, n, strings.ReplaceAll(n, "_", "-")))
		}
	}
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM performance_schema.setup_instruments "+
		"WHERE NAME LIKE 'statement/%' AND ENABLED='YES' AND TIMED='YES'").Scan(&c.StatementInstruments); err != nil {
		return nil, fmt.Errorf("profile: %s: read setup_instruments: %w", s.addr, err)
	}
	if c.StatementInstruments == 0 {
		c.Problems = append(c.Problems, "no statement/% instrument is enabled and timed: UPDATE performance_schema.setup_instruments "+
			"SET ENABLED='YES', TIMED='YES' WHERE NAME LIKE 'statement/%'")
	}
	return c, nil
}

// EnableConsumers turns on the consumers the source needs (they reset to the
// server's defaults at restart: prefer the startup options Check names). It
// needs UPDATE on performance_schema.setup_consumers.
func (s *PerfSchemaSource) EnableConsumers(ctx context.Context) error {
	q := "UPDATE performance_schema.setup_consumers SET ENABLED='YES' WHERE NAME IN ('" + strings.Join(neededConsumers, "','") + "')"
	if _, err := s.db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("profile: %s: enable consumers: %w", s.addr, err)
	}
	s.mu.Lock()
	s.checked = nil
	s.mu.Unlock()
	return nil
}

// Addr is the server name records carry in fe_host.
func (s *PerfSchemaSource) Addr() string { return s.addr }

// Collect implements ProfileSource.
func (s *PerfSchemaSource) Collect(ctx context.Context) ([]dataset.Profile, error) {
	s.mu.Lock()
	check := s.checked
	s.mu.Unlock()
	if check == nil {
		c, err := s.Check(ctx)
		if err != nil {
			return nil, err
		}
		check = c
		s.mu.Lock()
		s.checked = c
		s.mu.Unlock()
	}
	wantDigests := !s.opts.NoDigests && check.DigestsOK()
	wantSamples := !s.opts.NoSamples && check.SamplesOK()
	if !wantDigests && !wantSamples {
		s.mu.Lock()
		s.checked = nil // check again next time: consumers can be turned on at runtime
		s.mu.Unlock()
		return nil, &ConfigError{Addr: s.addr, Problems: check.Problems}
	}
	if len(check.Problems) > 0 && !s.warned {
		s.warned = true
		s.opts.Logger.Warn("profile: performance_schema partly off", "server", s.addr, "problems", strings.Join(check.Problems, "; "))
	}

	now := s.opts.Now()
	var out []dataset.Profile
	if wantDigests {
		recs, err := s.collectDigests(ctx, now)
		if err != nil {
			return out, err
		}
		out = append(out, recs...)
	}
	if wantSamples {
		recs, err := s.collectSamples(ctx, now, check)
		if err != nil {
			return out, err
		}
		out = append(out, recs...)
	}
	s.lastPoll = now
	return out, nil
}

const digestQuery = `SELECT COALESCE(SCHEMA_NAME, ''), COALESCE(DIGEST, ''), COALESCE(DIGEST_TEXT, ''),
 COUNT_STAR, SUM_TIMER_WAIT, MAX_TIMER_WAIT, SUM_LOCK_TIME, SUM_ERRORS, SUM_WARNINGS,
 SUM_ROWS_AFFECTED, SUM_ROWS_SENT, SUM_ROWS_EXAMINED, SUM_CREATED_TMP_DISK_TABLES, SUM_SORT_ROWS, SUM_NO_INDEX_USED,
 CAST(FIRST_SEEN AS CHAR)
 FROM performance_schema.events_statements_summary_by_digest`

func delta(cur, prev uint64) uint64 {
	if cur < prev {
		return cur
	}
	return cur - prev
}

func i64(v uint64) *int64 {
	if v > 1<<62 {
		v = 1 << 62
	}
	n := int64(v)
	return &n
}

func (s *PerfSchemaSource) collectDigests(ctx context.Context, now time.Time) ([]dataset.Profile, error) {
	rows, err := s.db.QueryContext(ctx, digestQuery)
	if err != nil {
		return nil, fmt.Errorf("profile: %s: read events_statements_summary_by_digest: %w", s.addr, err)
	}
	defer rows.Close()
	cur := make(map[digestKey]digestRow, len(s.digests))
	var out []dataset.Profile
	ws := sink.Time(s.lastPoll)
	for rows.Next() {
		var k digestKey
		var r digestRow
		if err := rows.Scan(&k.schema, &k.digest, &r.text, &r.count, &r.sumWait, &r.maxWait, &r.lock, &r.errs, &r.warns,
			&r.affected, &r.sent, &r.examined, &r.tmpDisk, &r.sortRows, &r.noIdx, &r.firstSeen); err != nil {
			return nil, fmt.Errorf("profile: %s: read events_statements_summary_by_digest: %w", s.addr, err)
		}
		cur[k] = r
		if !s.primed || strings.Contains(r.text, "performance_schema") {
			continue
		}
		p, had := s.digests[k]
		if had && (r.count < p.count || r.firstSeen != p.firstSeen) {
			had = false // reset since the previous poll
		}
		if !had {
			p = digestRow{}
		}
		n := delta(r.count, p.count)
		if n == 0 {
			continue
		}
		rec := dataset.Profile{TS: sink.Time(now), Kind: dataset.ProfileDigest, Source: dataset.SourcePerformanceSchema, Cluster: s.opts.Cluster,
			FEHost: s.addr, Database: k.schema, Digest: k.digest, SQLText: r.text,
			ExecCount: i64(n), SumTimerWaitNs: i64(delta(r.sumWait, p.sumWait) / 1000), MaxTimerWaitNs: i64(r.maxWait / 1000),
			LockTimeNs: i64(delta(r.lock, p.lock) / 1000), SumErrors: i64(delta(r.errs, p.errs)),
			SumWarnings: i64(delta(r.warns, p.warns)), RowsAffected: i64(delta(r.affected, p.affected)),
			ReturnRows: i64(delta(r.sent, p.sent)), RowsExamined: i64(delta(r.examined, p.examined)),
			SumTmpDiskTable: i64(delta(r.tmpDisk, p.tmpDisk)), SumSortRows: i64(delta(r.sortRows, p.sortRows)),
			SumNoIndexUsed: i64(delta(r.noIdx, p.noIdx)), WindowStart: &ws}
		if r.text != "" {
			rec.TemplateHash = hashing.TemplateHash(r.text)
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("profile: %s: read events_statements_summary_by_digest: %w", s.addr, err)
	}
	s.digests = cur
	s.primed = true
	return out, nil
}

const sampleQuery = `SELECT h.THREAD_ID, h.EVENT_ID, h.EVENT_NAME, h.TIMER_START, h.TIMER_END, h.TIMER_WAIT, h.LOCK_TIME,
 h.SQL_TEXT, COALESCE(h.DIGEST, ''), COALESCE(h.CURRENT_SCHEMA, ''), h.MYSQL_ERRNO, COALESCE(h.MESSAGE_TEXT, ''),
 h.ROWS_AFFECTED, h.ROWS_SENT, h.ROWS_EXAMINED, COALESCE(h.NESTING_EVENT_LEVEL, 0),
 t.PROCESSLIST_ID, COALESCE(t.PROCESSLIST_USER, ''), COALESCE(t.PROCESSLIST_HOST, '')
 FROM performance_schema.events_statements_history_long h
 LEFT JOIN performance_schema.threads t ON t.THREAD_ID = h.THREAD_ID
 WHERE h.END_EVENT_ID IS NOT NULL AND h.SQL_TEXT IS NOT NULL
 ORDER BY h.THREAD_ID, h.EVENT_ID`

func (s *PerfSchemaSource) collectSamples(ctx context.Context, now time.Time, check *ServerCheck) ([]dataset.Profile, error) {
	var uptime int64
	if err := s.db.QueryRowContext(ctx, "SELECT VARIABLE_VALUE FROM performance_schema.global_status WHERE VARIABLE_NAME = 'Uptime'").Scan(&uptime); err != nil {
		return nil, fmt.Errorf("profile: %s: read Uptime: %w", s.addr, err)
	}
	boot := now.Add(-time.Duration(uptime) * time.Second).Truncate(time.Second)
	rows, err := s.db.QueryContext(ctx, sampleQuery)
	if err != nil {
		return nil, fmt.Errorf("profile: %s: read events_statements_history_long: %w", s.addr, err)
	}
	defer rows.Close()
	seen := make(map[int64]int64, len(s.seen))
	var out []dataset.Profile
	fresh, total := 0, 0
	for rows.Next() {
		var (
			thread, event                       int64
			name, text, digest, schema, msg     string
			user, host                          string
			start, end, wait, lock              sql.NullInt64
			errno                               int64
			affected, sent, examined, nestLevel int64
			connID                              sql.NullInt64
		)
		if err := rows.Scan(&thread, &event, &name, &start, &end, &wait, &lock, &text, &digest, &schema, &errno, &msg,
			&affected, &sent, &examined, &nestLevel, &connID, &user, &host); err != nil {
			return nil, fmt.Errorf("profile: %s: read events_statements_history_long: %w", s.addr, err)
		}
		total++
		if event > seen[thread] {
			seen[thread] = event
		}
		if event <= s.seen[thread] {
			continue
		}
		fresh++
		if !s.opts.IncludeNested && nestLevel > 0 || strings.Contains(text, "performance_schema") {
			continue
		}
		rec := dataset.Profile{Kind: dataset.ProfileStatement, Source: dataset.SourcePerformanceSchema, Cluster: s.opts.Cluster, FEHost: s.addr,
			SRQueryID: fmt.Sprintf("%d:%d:%d", boot.Unix(), thread, event), State: dataset.StateFinished,
			Database: schema, User: user, ClientAddr: host, SQLText: text,
			QueryHash: hashing.QueryHash(text), TemplateHash: hashing.TemplateHash(text), Digest: digest,
			ReturnRows: ptr(sent), RowsAffected: ptr(affected), RowsExamined: ptr(examined),
			// Rows examined is MariaDB's measure of rows scanned: filling
			// scan_rows lets reports compare it with StarRocks' figure.
			ScanRows: ptr(examined),
			IsQuery:  ptr(strings.HasPrefix(name, "statement/sql/select"))}
		if connID.Valid {
			rec.ServerConnID = ptr(connID.Int64)
		}
		if errno != 0 {
			rec.State = dataset.StateFailed
			rec.ErrorMessage = fmt.Sprintf("%d: %s", errno, msg)
		}
		if start.Valid {
			st := sink.Time(boot.Add(time.Duration(start.Int64 / 1000)))
			rec.StartTime, rec.TS = &st, st
		} else {
			rec.TS = sink.Time(now)
		}
		if end.Valid {
			et := sink.Time(boot.Add(time.Duration(end.Int64 / 1000)))
			rec.EndTime = &et
		}
		if wait.Valid {
			rec.DurationMS = ptr(float64(wait.Int64) / 1e9)
		}
		if lock.Valid {
			rec.LockTimeNs = ptr(lock.Int64 / 1000)
		}
		if check.MaxSQLTextLength > 0 && int64(len(text)) >= check.MaxSQLTextLength {
			rec.ProfileError = "sql_text truncated at performance_schema_max_sql_text_length=" + strconv.FormatInt(check.MaxSQLTextLength, 10)
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("profile: %s: read events_statements_history_long: %w", s.addr, err)
	}
	hadBaseline := len(s.seen) > 0 || !s.lastPoll.IsZero()
	s.seen = seen
	if hadBaseline && check.HistoryLongSize > 0 && int64(fresh) >= check.HistoryLongSize && int64(total) >= check.HistoryLongSize {
		from, to := sink.Time(s.lastPoll), sink.Time(now)
		out = append(out, dataset.Profile{TS: sink.Time(now), Kind: dataset.ProfileGap, Source: dataset.SourcePerformanceSchema, Cluster: s.opts.Cluster,
			FEHost: s.addr, GapFrom: &from, GapTo: &to,
			GapReason: fmt.Sprintf("events_statements_history_long is full of new statements (%d rows): older ones were overwritten; poll more often or raise performance_schema_events_statements_history_long_size",
				check.HistoryLongSize)})
	}
	return out, nil
}
