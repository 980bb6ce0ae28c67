package baseline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sqlshadow/sqlshadow/compare"
	"github.com/sqlshadow/sqlshadow/compare/plan"
	"github.com/sqlshadow/sqlshadow/compare/stats"
	"github.com/sqlshadow/sqlshadow/hashing"
	"github.com/sqlshadow/sqlshadow/profile"
)

// Options configures a Harness. A nil *Options, or a zero
// field, means the default documented on the field.
type Options struct {
	// Runs is the number of measured runs of each SQL. Default 10.
	Runs int
	// Warmup is the number of unmeasured runs of each SQL before measuring.
	// Default 2; negative for none.
	Warmup int
	// MinRuns is the fewest measured runs whose latency can decide the
	// verdict either way; with fewer, latency is inconclusive (rows and
	// errors can still fail). Default 5.
	MinRuns int
	// Tolerance is the latency slowdown accepted: the candidate passes when
	// the upper bound of the 95% interval of its median ratio is at most
	// 1 + Tolerance, and fails when the lower bound is above it. Default 0.10.
	Tolerance float64
	// FloatTolerance is the relative tolerance of FLOAT/DOUBLE values when
	// comparing rows. Default 1e-9.
	FloatTolerance float64
	// Cold disables StarRocks' scan data cache for both sides
	// (enable_scan_datacache=false), measuring cold reads.
	Cold bool
	// Examples is how many differing rows the report shows. Default 5.
	Examples int
	// CaptureRows is how many of the baseline's first rows the report keeps.
	// Default 10.
	CaptureRows int
	// Resamples is the number of bootstrap resamples. Default 2000.
	Resamples int
	// Seed makes the bootstrap reproducible. Default 1.
	Seed uint64
	// ProfileAttempts bounds the tries of StarRocks get_query_profile (the
	// profile can appear after the query finished). Default 5, 200 ms apart.
	ProfileAttempts int
	// Logger receives progress at debug level. Default: discard.
	Logger *slog.Logger
}

func (o *Options) withDefaults() Options {
	var v Options
	if o != nil {
		v = *o
	}
	if v.Runs <= 0 {
		v.Runs = 10
	}
	if v.Warmup == 0 {
		v.Warmup = 2
	} else if v.Warmup < 0 {
		v.Warmup = 0
	}
	if v.MinRuns <= 0 {
		v.MinRuns = 5
	}
	if v.Tolerance <= 0 {
		v.Tolerance = 0.10
	}
	if v.FloatTolerance <= 0 {
		v.FloatTolerance = 1e-9
	}
	if v.Examples <= 0 {
		v.Examples = 5
	}
	if v.CaptureRows <= 0 {
		v.CaptureRows = 10
	}
	if v.Resamples <= 0 {
		v.Resamples = 2000
	}
	if v.Seed == 0 {
		v.Seed = 1
	}
	if v.ProfileAttempts <= 0 {
		v.ProfileAttempts = 5
	}
	if v.Logger == nil {
		v.Logger = slog.New(slog.DiscardHandler)
	}
	return v
}

// Engines the harness recognises from the server version.
const (
	EngineMariaDB   = "mariadb"
	EngineMySQL     = "mysql"
	EngineStarRocks = "starrocks"
)

// Harness verifies one SQL change: it runs a baseline SQL and a candidate
// SQL, alternating, and compares their rows, latency, plans and engine
// statistics. It is a compare.Comparator; Compare may be called more than once.
type Harness struct {
	baselineDB, candidateDB   *sql.DB
	baselineSQL, candidateSQL string
	opts                      Options
}

// New returns a harness for baselineSQL on baselineDB against
// candidateSQL on candidateDB (pass the same *sql.DB twice to compare two
// statements on one server). Each side runs on one dedicated connection, so
// session settings hold for all its runs.
func New(baselineDB, candidateDB *sql.DB, baselineSQL, candidateSQL string, opts *Options) (*Harness, error) {
	if baselineDB == nil || candidateDB == nil {
		return nil, errors.New("baseline: nil database")
	}
	if strings.TrimSpace(baselineSQL) == "" || strings.TrimSpace(candidateSQL) == "" {
		return nil, errors.New("baseline: empty SQL")
	}
	return &Harness{baselineDB: baselineDB, candidateDB: candidateDB, baselineSQL: baselineSQL, candidateSQL: candidateSQL, opts: opts.withDefaults()}, nil
}

var _ compare.Comparator = (*Harness)(nil)

// Compare implements compare.Comparator; the result is a *Report.
func (b *Harness) Compare(ctx context.Context) (compare.Result, error) {
	r, err := b.Run(ctx)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Run runs the comparison and returns its report. An error means the
// comparison itself could not run (a connection failed); errors of the
// statements are findings in the report.
func (b *Harness) Run(ctx context.Context) (*Report, error) {
	o := b.opts
	bc, err := b.baselineDB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("baseline: baseline connection: %w", err)
	}
	defer bc.Close()
	cc, err := b.candidateDB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("baseline: candidate connection: %w", err)
	}
	defer cc.Close()

	rep := &Report{SchemaVersion: ReportSchemaVersion, Tolerance: o.Tolerance, Runs: o.Runs, Warmup: o.Warmup}
	rep.Engine, rep.ServerVersion, err = detectEngine(ctx, bc)
	if err != nil {
		return nil, err
	}
	for _, c := range []*sql.Conn{bc, cc} {
		if err := prepareSession(ctx, c, rep.Engine, o.Cold); err != nil {
			return nil, err
		}
	}
	sides := []*sideRun{
		{conn: bc, report: &rep.Baseline, sql: b.baselineSQL},
		{conn: cc, report: &rep.Candidate, sql: b.candidateSQL},
	}
	for _, s := range sides {
		s.report.SQL = s.sql
		s.report.QueryHash = hashing.QueryHash(s.sql)
		s.report.TemplateHash = hashing.TemplateHash(s.sql)
		s.exec = cacheBusted(s.sql, rep.Engine)
		s.result, s.err = fetch(ctx, s.conn, s.exec)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if s.err != nil {
			s.report.Error = s.err.Error()
			var me *mysql.MySQLError
			if errors.As(s.err, &me) {
				s.report.ErrorCode = me.Number
			}
		} else {
			s.report.Columns = s.result.columns
			s.report.RowCount = len(s.result.rows)
		}
	}
	if sides[0].err == nil {
		rep.Baseline.FirstRows = firstRows(sides[0].result, o.CaptureRows)
	}
	if sides[0].err == nil && sides[1].err == nil {
		rep.Rows = compareRows(sides[0].result, sides[1].result, orderKeys(b.baselineSQL, sides[0].result.columns), o.FloatTolerance, o.Examples)
		if err := b.measure(ctx, sides); err != nil {
			return nil, err
		}
		rep.Latency = compareLatency(sides[0].durations, sides[1].durations, o)
		rep.Baseline.DurationsMS, rep.Candidate.DurationsMS = sides[0].durations, sides[1].durations
		rep.Baseline.MedianMS, rep.Candidate.MedianMS = rep.Latency.BaselineMedianMS, rep.Latency.CandidateMedianMS
	}
	b.explain(ctx, rep, sides)
	b.statistics(ctx, rep, sides)
	rep.Schema = captureSchema(ctx, bc, rep)
	rep.decide(o)
	return rep, nil
}

type sideRun struct {
	conn      *sql.Conn
	report    *Side
	sql, exec string
	result    *resultSet
	err       error
	durations []float64
	plan      *plan.Node
}

// measure runs warm-up and measured runs, alternating the sides and the
// order within a round (ABBA), so drift and caches favour neither.
func (b *Harness) measure(ctx context.Context, sides []*sideRun) error {
	o := b.opts
	for round := 0; round < o.Warmup+o.Runs; round++ {
		order := []*sideRun{sides[0], sides[1]}
		if round%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		for _, s := range order {
			start := time.Now()
			n, err := drain(ctx, s.conn, s.exec)
			d := time.Since(start)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				s.report.RunErrors++
				s.report.Error = err.Error()
				continue
			}
			if n != s.report.RowCount {
				s.report.Unstable = true
			}
			if round >= o.Warmup {
				s.durations = append(s.durations, float64(d.Microseconds())/1000)
			}
		}
		o.Logger.Debug("baseline round", "round", round)
	}
	return nil
}

// LatencyComparison is the latency evidence of a Report.
type LatencyComparison struct {
	BaselineMedianMS  float64 `json:"baseline_median_ms"`
	CandidateMedianMS float64 `json:"candidate_median_ms"`
	// Ratio is candidate median / baseline median; CILow and CIHigh bound
	// its 95% bootstrap confidence interval.
	Ratio  float64 `json:"ratio"`
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
	// Runs is the number of measured runs per side that succeeded.
	Runs int `json:"runs"`
	// Sufficient is false when there were fewer runs than MinRuns.
	Sufficient bool `json:"sufficient"`
}

func compareLatency(base, cand []float64, o Options) LatencyComparison {
	l := LatencyComparison{Runs: min(len(base), len(cand))}
	if len(base) == 0 || len(cand) == 0 {
		return l
	}
	l.BaselineMedianMS, l.CandidateMedianMS = median(base), median(cand)
	l.Ratio = ratio(l.CandidateMedianMS, l.BaselineMedianMS)
	l.CILow, l.CIHigh = ratioInterval(base, cand, o.Resamples, o.Seed)
	l.Sufficient = l.Runs >= o.MinRuns
	return l
}

// ratioInterval is the 95% percentile bootstrap interval of
// median(cand)/median(base), resampling each side independently.
func ratioInterval(base, cand []float64, resamples int, seed uint64) (float64, float64) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	reps := make([]float64, resamples)
	bs, cs := make([]float64, len(base)), make([]float64, len(cand))
	for i := range reps {
		for j := range bs {
			bs[j] = base[rng.IntN(len(base))]
		}
		for j := range cs {
			cs[j] = cand[rng.IntN(len(cand))]
		}
		reps[i] = ratio(median(cs), median(bs))
	}
	slices.Sort(reps)
	lo := reps[int(math.Floor(0.025*float64(resamples-1)))]
	hi := reps[int(math.Ceil(0.975*float64(resamples-1)))]
	return lo, hi
}

func ratio(a, b float64) float64 {
	const floor = 0.001 // 1 µs: a zero median would make any ratio infinite
	return math.Max(a, floor) / math.Max(b, floor)
}

// median returns the median of x (x is not modified), 0 when x is empty.
func median(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := slices.Clone(x)
	slices.Sort(s)
	return stats.Quantile(s, 0.5)
}

func detectEngine(ctx context.Context, c *sql.Conn) (engine, version string, err error) {
	if err := c.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		return "", "", fmt.Errorf("baseline: detect engine: %w", err)
	}
	var srVersion string
	if c.QueryRowContext(ctx, "SELECT current_version()").Scan(&srVersion) == nil && srVersion != "" {
		return EngineStarRocks, srVersion, nil
	}
	if strings.Contains(strings.ToLower(version), "mariadb") {
		return EngineMariaDB, version, nil
	}
	return EngineMySQL, version, nil
}

// prepareSession turns caches off for the harness's sessions.
func prepareSession(ctx context.Context, c *sql.Conn, engine string, cold bool) error {
	var stmts []string
	switch engine {
	case EngineStarRocks:
		stmts = append(stmts, "SET enable_query_cache = false")
		if cold {
			stmts = append(stmts, "SET enable_scan_datacache = false")
		}
	case EngineMariaDB:
		// The query cache may be compiled out or disabled; SQL_NO_CACHE in
		// each statement covers the rest, so a failure here is harmless.
		_, _ = c.ExecContext(ctx, "SET SESSION query_cache_type = OFF")
	}
	for _, s := range stmts {
		if _, err := c.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("baseline: %s: %w", s, err)
		}
	}
	return nil
}

// cacheBusted returns the statement to run: on MariaDB/MySQL a leading
// SELECT gets SQL_NO_CACHE.
func cacheBusted(stmt, engine string) string {
	if engine == EngineStarRocks {
		return stmt
	}
	i := skipSpaceAndComments(stmt, 0)
	if len(stmt)-i >= 7 && strings.EqualFold(stmt[i:i+6], "SELECT") && !identByte(stmt[i+6]) &&
		!strings.Contains(strings.ToUpper(stmt), "SQL_NO_CACHE") {
		return stmt[:i+6] + " SQL_NO_CACHE" + stmt[i+6:]
	}
	return stmt
}

func skipSpaceAndComments(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r':
			i++
		case strings.HasPrefix(s[i:], "/*") && !strings.HasPrefix(s[i:], "/*!"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return len(s)
			}
			i += end + 4
		case strings.HasPrefix(s[i:], "-- ") || s[i] == '#':
			end := strings.IndexByte(s[i:], '\n')
			if end < 0 {
				return len(s)
			}
			i += end + 1
		default:
			return i
		}
	}
	return i
}

func identByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func (b *Harness) explain(ctx context.Context, rep *Report, sides []*sideRun) {
	for _, s := range sides {
		var (
			tree *plan.Node
			err  error
		)
		switch rep.Engine {
		case EngineStarRocks:
			var text string
			text, err = queryLines(ctx, s.conn, "EXPLAIN "+s.sql)
			if err == nil {
				s.report.PlanText = text
				tree, err = plan.ParseStarRocks(text)
			}
		default:
			var js string
			err = s.conn.QueryRowContext(ctx, "EXPLAIN FORMAT=JSON "+s.sql).Scan(&js)
			if err == nil {
				s.report.PlanText = js
				tree, err = plan.ParseMySQLJSON([]byte(js))
			}
		}
		if err != nil {
			s.report.PlanError = err.Error()
			continue
		}
		s.plan = tree
		s.report.Plan = tree
	}
	if sides[0].plan != nil && sides[1].plan != nil {
		rep.PlanChanges = plan.Diff(sides[0].plan, sides[1].plan)
		if rep.PlanChanges == nil {
			rep.PlanChanges = []plan.Change{}
		}
	}
}

func queryLines(ctx context.Context, c *sql.Conn, q string) (string, error) {
	rows, err := c.QueryContext(ctx, q)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var line sql.NullString
		if err := rows.Scan(&line); err != nil {
			return "", err
		}
		b.WriteString(line.String)
		b.WriteByte('\n')
	}
	return b.String(), rows.Err()
}

// statistics collects what the engine measured for one run of each side:
// MariaDB's ANALYZE FORMAT=JSON, StarRocks' query profile.
func (b *Harness) statistics(ctx context.Context, rep *Report, sides []*sideRun) {
	for _, s := range sides {
		if s.err != nil {
			continue
		}
		stats, err := engineStats(ctx, s.conn, rep.Engine, s.sql, b.opts.ProfileAttempts)
		if err != nil {
			s.report.StatsError = err.Error()
			continue
		}
		s.report.Stats = stats
	}
	bs, cs := rep.Baseline.Stats, rep.Candidate.Stats
	if bs != nil && cs != nil {
		rep.StatsDelta = map[string]float64{}
		for k, bv := range bs {
			if cv, ok := cs[k]; ok {
				rep.StatsDelta[k] = cv - bv
			}
		}
	}
}

func engineStats(ctx context.Context, c *sql.Conn, engine, stmt string, attempts int) (map[string]float64, error) {
	switch engine {
	case EngineMariaDB:
		var js string
		if err := c.QueryRowContext(ctx, "ANALYZE FORMAT=JSON "+stmt).Scan(&js); err != nil {
			return nil, err
		}
		st, err := plan.ParseMariaDBAnalyze([]byte(js))
		if err != nil {
			return nil, err
		}
		return map[string]float64{"total_time_ms": st.TotalTimeMS, "rows_examined": st.RowsExamined, "pages_accessed": st.PagesAccessed}, nil
	case EngineStarRocks:
		if _, err := c.ExecContext(ctx, "SET enable_profile = true"); err != nil {
			return nil, err
		}
		defer c.ExecContext(context.WithoutCancel(ctx), "SET enable_profile = false") //nolint:errcheck
		if _, err := drain(ctx, c, stmt); err != nil {
			return nil, err
		}
		var id string
		if err := c.QueryRowContext(ctx, "SELECT last_query_id()").Scan(&id); err != nil {
			return nil, err
		}
		var text string
		var err error
		for i := 0; i < attempts; i++ {
			if err = c.QueryRowContext(ctx, "SELECT get_query_profile(?)", id).Scan(&text); err == nil && text != "" {
				break
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
		if text == "" {
			return nil, fmt.Errorf("baseline: no profile for query %s after %d attempts: %v", id, attempts, err)
		}
		ps, err := profile.ParseProfile(text)
		if err != nil {
			return nil, err
		}
		return map[string]float64{
			"total_ms":          float64(ps.Total.Microseconds()) / 1000,
			"cpu_ms":            float64(ps.CPUTime.Microseconds()) / 1000,
			"scan_rows":         float64(ps.ScanRows),
			"scan_bytes":        float64(ps.ScanBytes),
			"peak_memory_bytes": float64(ps.PeakMemoryBytes),
			"spill_bytes":       float64(ps.SpillBytes),
		}, nil
	}
	return nil, fmt.Errorf("baseline: engine statistics are not collected for %s", engine)
}

// captureSchema records SHOW CREATE TABLE of the tables the plans read.
func captureSchema(ctx context.Context, c *sql.Conn, rep *Report) []TableSchema {
	seen := map[string]bool{}
	var out []TableSchema
	for _, p := range []*plan.Node{rep.Baseline.Plan, rep.Candidate.Plan} {
		for _, t := range p.Tables() {
			if seen[t] || strings.HasPrefix(t, "<") { // <derived2>, <subquery3>
				continue
			}
			seen[t] = true
			var name, ddl string
			err := c.QueryRowContext(ctx, "SHOW CREATE TABLE "+quoteIdent(t)).Scan(&name, &ddl)
			ts := TableSchema{Table: t, CreateTable: ddl}
			if err != nil {
				ts.Error = err.Error()
			}
			out = append(out, ts)
		}
	}
	return out
}

func quoteIdent(s string) string {
	parts := strings.Split(s, ".")
	for i, p := range parts {
		parts[i] = "`" + strings.ReplaceAll(p, "`", "``") + "`"
	}
	return strings.Join(parts, ".")
}

// planDiff compares the plans of two sides of possibly different runs (for
// example before and after a schema change).
func planDiff(a, b Side) []plan.Change { return plan.Diff(a.Plan, b.Plan) }
