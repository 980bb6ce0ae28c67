package mirror

import (
	"context"
	"database/sql"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	gmclient "github.com/go-mysql-org/go-mysql/client"
	"github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/mirror/internal/wire"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

// mirrorRig is a proxy in front of rig server 0 mirroring to a shadow; both
// sides log to the same Recorder.
type mirrorRig struct {
	*proxyRig
	shadow *Shadow
	reg    *prometheus.Registry
	rec    *sinktest.Recorder
}

func startMirror(t *testing.T, shadowAddr string, sopts *ShadowOptions) *mirrorRig {
	t.Helper()
	primary := rig.Server(t, 0)
	if sopts == nil {
		sopts = &ShadowOptions{}
	}
	if sopts.User == "" && sopts.Users == nil {
		sopts.User, sopts.Password = mariadb.User, mariadb.Password
	}
	mr := &mirrorRig{reg: prometheus.NewRegistry()}
	sopts.Registerer = mr.reg
	rec := &sinktest.Recorder{}
	sopts.Sink = rec // both sides log into the same Recorder
	mr.rec = rec
	sh, err := NewShadow(shadowAddr, sopts)
	require.NoError(t, err)
	mr.shadow = sh
	// Registered before the proxy's cleanup, so it runs after it.
	t.Cleanup(func() { _ = sh.Close() })
	mr.proxyRig = startProxy(t, primary.Addr(), &Options{Mirror: sh, Sink: rec})
	return mr
}

// all stops the proxy, drains the shadow and returns every record.
func (mr *mirrorRig) all(t *testing.T) (primary, shadow map[string]dataset.QueryLog) {
	t.Helper()
	mr.stop(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, mr.shadow.Shutdown(ctx))
	recs, err := sinktest.Decode[dataset.QueryLog](mr.rec)
	require.NoError(t, err)
	primary, shadow = map[string]dataset.QueryLog{}, map[string]dataset.QueryLog{}
	for _, r := range recs {
		m := primary
		if r.Target == dataset.TargetShadow {
			m = shadow
		}
		_, dup := m[r.QueryID]
		require.False(t, dup, "two %s records for %s", r.Target, r.QueryID)
		m[r.QueryID] = r
	}
	return primary, shadow
}

// pairs returns the primary and shadow records of the statements whose text
// starts with prefix.
func pairs(primary, shadow map[string]dataset.QueryLog, command, prefix string) (ps, ss []dataset.QueryLog) {
	for id, p := range primary {
		if p.Command == command && strings.HasPrefix(p.QueryText, prefix) {
			ps = append(ps, p)
			ss = append(ss, shadow[id])
		}
	}
	return ps, ss
}

// twinDatabase creates the database name on both servers, runs setup on
// each (its second argument tells which: 0 primary, 1 shadow) and drops
// them when the test ends.
func twinDatabase(t *testing.T, name string, setup func(db *sql.DB, side int)) {
	t.Helper()
	for side := 0; side < 2; side++ {
		srv := rig.Server(t, side)
		root, err := srv.Root()
		require.NoError(t, err)
		_, err = root.Exec("CREATE DATABASE `" + name + "`")
		require.NoError(t, err)
		t.Cleanup(func() {
			if srv.Running() {
				_, _ = root.Exec("DROP DATABASE IF EXISTS `" + name + "`")
			}
		})
		db := srv.Open(t, name)
		if setup != nil {
			setup(db, side)
		}
	}
}

func mustExec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		_, err := db.Exec(s)
		require.NoError(t, err, s)
	}
}

var twinSeq int

func twinName(t *testing.T) string {
	twinSeq++
	n := fmt.Sprintf("tw%d_%s", twinSeq, sanitize(t.Name()))
	if len(n) > 60 {
		n = n[:60]
	}
	return n
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

func TestMirrorEqualAnswersEqualHashes(t *testing.T) {
	leakCheck(t)
	name := twinName(t)
	twinDatabase(t, name, func(db *sql.DB, side int) {
		// Equal values, formatted differently on each side.
		if side == 0 {
			mustExec(t, db, "CREATE TABLE n (id INT PRIMARY KEY, d DECIMAL(10,2), f DOUBLE, ts DATETIME, s VARCHAR(10))",
				"INSERT INTO n VALUES (1, 1.50, 0.1, '2024-01-02 03:04:05', 'a'), (2, 2.00, 1e20, '2024-01-02 00:00:00', NULL)")
		} else {
			mustExec(t, db, "CREATE TABLE n (id BIGINT PRIMARY KEY, d DECIMAL(12,4), f DOUBLE, ts DATETIME(6), s VARCHAR(20))",
				"INSERT INTO n VALUES (2, 2, 100000000000000000000, '2024-01-02 00:00:00', NULL), (1, 1.5, 0.1, '2024-01-02 03:04:05.000000', 'a')")
		}
	})
	mr := startMirror(t, rig.Server(t, 1).Addr(), nil)
	db := openDB(t, mr.dsn(t, rig.Server(t, 0), name, nil))
	var n int
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM n").Scan(&n)) // prepared (go-sql-driver)
	require.Equal(t, 2, n)
	rows, err := db.Query("SELECT id, d, f, ts, s FROM n WHERE id > ?", 0)
	require.NoError(t, err)
	require.NoError(t, rows.Close())
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	_, err = conn.ExecContext(context.Background(), "SET @x = 1")
	require.NoError(t, err)
	require.NoError(t, conn.Close())
	// Text protocol.
	tdb := openDB(t, mr.dsn(t, rig.Server(t, 0), name, func(c *mysql.Config) { c.InterpolateParams = true }))
	rows, err = tdb.Query("SELECT id, d, f, ts, s FROM n WHERE id > ?", 0)
	require.NoError(t, err)
	require.NoError(t, rows.Close())

	primary, shadow := mr.all(t)
	for _, cmd := range []string{"COM_QUERY", "COM_STMT_EXECUTE"} {
		ps, ss := pairs(primary, shadow, cmd, "SELECT id, d, f, ts, s FROM n")
		require.Len(t, ps, 1, cmd)
		p, s := ps[0], ss[0]
		require.True(t, s.Success, "%s: %s", cmd, s.Error)
		require.EqualValues(t, 2, s.Rows)
		require.NotEmpty(t, s.ResultHash)
		require.Equal(t, p.ResultHash, s.ResultHash, "%s: equal answers, equal hashes", cmd)
		require.Equal(t, p.ResultHash, *ptr(s.PrimaryResultHash))
		require.Equal(t, p.Rows, *s.PrimaryRows)
		require.True(t, *s.PrimarySuccess)
		require.Equal(t, p.QueryHash, s.QueryHash)
		require.Equal(t, p.TemplateHash, s.TemplateHash)
		require.Equal(t, p.Seq, s.Seq)
		require.Equal(t, p.ConnID, s.ConnID)
		require.True(t, s.FloatCols)
		require.False(t, s.Diverged)
		require.NotNil(t, s.QueueMS)
	}
	require.Zero(t, testutil.ToFloat64(mr.shadow.metrics.mismatches.WithLabelValues("result")))
}

func TestMirrorShadowDifferencesAreLogged(t *testing.T) {
	leakCheck(t)
	name := twinName(t)
	twinDatabase(t, name, func(db *sql.DB, side int) {
		mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))", "INSERT INTO t VALUES (1, 'a'), (2, 'b')")
		if side == 0 {
			mustExec(t, db, "CREATE TABLE only_primary (id INT)")
		} else {
			mustExec(t, db, "UPDATE t SET v = 'B' WHERE id = 2")
		}
	})
	mr := startMirror(t, rig.Server(t, 1).Addr(), nil)
	db := openDB(t, mr.dsn(t, rig.Server(t, 0), name, func(c *mysql.Config) { c.InterpolateParams = true }))
	rows, err := db.Query("SELECT * FROM t")
	require.NoError(t, err)
	require.NoError(t, rows.Close())
	rows, err = db.Query("SELECT * FROM only_primary")
	require.NoError(t, err)
	require.NoError(t, rows.Close())
	_, err = db.Exec("INSERT INTO t VALUES (3, 'c')")
	require.NoError(t, err)

	primary, shadow := mr.all(t)
	ps, ss := pairs(primary, shadow, "COM_QUERY", "SELECT * FROM t")
	require.Len(t, ps, 1)
	require.True(t, ss[0].Success)
	require.Equal(t, ps[0].Rows, ss[0].Rows)
	require.NotEqual(t, ps[0].ResultHash, ss[0].ResultHash, "shadow data differs: mismatch")
	require.Equal(t, ps[0].ResultHash, ss[0].PrimaryResultHash)

	_, ss = pairs(primary, shadow, "COM_QUERY", "SELECT * FROM only_primary")
	require.False(t, ss[0].Success)
	require.EqualValues(t, 1146, ss[0].ErrorCode, "shadow-only error, with its code")
	require.True(t, *ss[0].PrimarySuccess)

	_, ss = pairs(primary, shadow, "COM_QUERY", "INSERT")
	require.True(t, ss[0].Filtered)
	require.Equal(t, "write", ss[0].FilterReason)

	require.Equal(t, 1.0, testutil.ToFloat64(mr.shadow.metrics.mismatches.WithLabelValues("result")))
	require.Equal(t, 1.0, testutil.ToFloat64(mr.shadow.metrics.mismatches.WithLabelValues("error")))
	require.Equal(t, 1.0, testutil.ToFloat64(mr.shadow.metrics.errors.WithLabelValues("1146")))
	n, err := testutil.GatherAndCount(mr.reg)
	require.NoError(t, err)
	require.Positive(t, n)
}

// enableStatementHistory turns on the consumer that history_long needs
// (testdb leaves events_statements_current off).
func enableStatementHistory(t *testing.T) {
	t.Helper()
	root, err := rig.Server(t, 1).Root()
	require.NoError(t, err)
	_, err = root.Exec("UPDATE performance_schema.setup_consumers SET ENABLED = 'YES' WHERE NAME IN ('events_statements_current', 'events_statements_history_long')")
	require.NoError(t, err)
}

// shadowStatements counts the statements the shadow server ran in database
// name whose text starts with prefix (from its own performance_schema).
func shadowStatements(t *testing.T, name, prefix string) int {
	t.Helper()
	root, err := rig.Server(t, 1).Root()
	require.NoError(t, err)
	var n int
	require.NoError(t, root.QueryRow(`SELECT COUNT(*) FROM performance_schema.events_statements_history_long
		WHERE CURRENT_SCHEMA = ? AND SQL_TEXT LIKE ?`, name, prefix+"%").Scan(&n))
	return n
}

// shadowEvents counts the statement events of a kind the shadow server ran
// in database name.
func shadowEvents(t *testing.T, name, event string) int {
	t.Helper()
	root, err := rig.Server(t, 1).Root()
	require.NoError(t, err)
	var n int
	require.NoError(t, root.QueryRow(`SELECT COUNT(*) FROM performance_schema.events_statements_history_long
		WHERE CURRENT_SCHEMA = ? AND EVENT_NAME = ?`, name, event).Scan(&n))
	return n
}

func TestMirrorClientsCountedOnTheShadow(t *testing.T) {
	leakCheck(t)
	name := twinName(t)
	twinDatabase(t, name, func(db *sql.DB, side int) {
		mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))", "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
	})
	enableStatementHistory(t)
	mr := startMirror(t, rig.Server(t, 1).Addr(), nil)
	db := openDB(t, mr.dsn(t, rig.Server(t, 0), name, nil))
	db.SetMaxOpenConns(1)
	// Session state on the client's connection: the shadow must follow it.
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	mustConn := func(q string, args ...any) {
		rows, err := conn.QueryContext(ctx, q, args...)
		require.NoError(t, err, q)
		for rows.Next() {
		}
		require.NoError(t, rows.Close())
	}
	mustConn("SET @lim = 2")
	mustConn("SELECT /*count-me*/ id FROM t WHERE id <= @lim")
	for i := 0; i < 20; i++ {
		mustConn("SELECT /*count-me-prepared*/ v FROM t WHERE id = ?", i%3+1)
	}
	mustConn("BEGIN")
	mustConn("SELECT /*count-me-tx*/ COUNT(*) FROM t")
	mustConn("COMMIT")
	require.NoError(t, conn.Close())

	primary, shadow := mr.all(t)
	for id, p := range primary {
		s, ok := shadow[id]
		if p.Command == "COM_QUIT" {
			continue
		}
		require.True(t, ok, "no shadow record for %s %s", p.Command, p.QueryText)
		if !s.Filtered {
			require.Equal(t, p.Success, s.Success, "%s %s: %s", p.Command, p.QueryText, s.Error)
			require.Equal(t, p.ResultHash, s.ResultHash, "%s %s", p.Command, p.QueryText)
			require.Equal(t, p.Rows, s.Rows, "%s %s", p.Command, p.QueryText)
		}
	}
	_, ss := pairs(primary, shadow, "COM_QUERY", "SELECT /*count-me*/")
	require.EqualValues(t, 2, ss[0].Rows, "@lim reached the shadow")
	require.Equal(t, 1, shadowStatements(t, name, "SELECT /*count-me*/"))
	require.Equal(t, 1, shadowStatements(t, name, "SELECT /*count-me-tx*/"))
	// Executes have no text in the shadow's history: count the events.
	require.Equal(t, 20, shadowEvents(t, name, "statement/com/Execute"))
	require.Equal(t, 20, shadowEvents(t, name, "statement/com/Prepare"))
}

func TestMirrorBlackHoledShadowDoesNotSlowClients(t *testing.T) {
	leakCheck(t)
	bh := newBlackHole(t)
	primary := rig.Server(t, 0)
	name := primary.NewDatabase(t)
	mr := startMirror(t, bh.addr(), nil)
	db := openDB(t, mr.dsn(t, primary, name, func(c *mysql.Config) { c.InterpolateParams = true }))
	db.SetMaxOpenConns(1)
	start := time.Now()
	for i := 0; i < 200; i++ {
		var v int
		require.NoError(t, db.QueryRow("SELECT ?", i).Scan(&v))
		require.Equal(t, i, v)
	}
	t.Logf("200 queries through the proxy with a black-holed shadow: %v", time.Since(start))
	require.NoError(t, mr.Close()) // the login is still hanging: give up at once
	recs, err := sinktest.Decode[dataset.QueryLog](mr.rec)
	require.NoError(t, err)
	nShadow := 0
	for _, r := range recs {
		if r.Target == dataset.TargetShadow {
			nShadow++
			require.False(t, r.Success)
		}
	}
	require.Equal(t, 200, nShadow, "every command has its shadow record (dropped or failed)")
}

func TestMirrorSysbenchSampledPreparedStatements(t *testing.T) {
	leakCheck(t)
	sysbench := testdb.RequireBinary(t, "sysbench")
	name := twinName(t)
	twinDatabase(t, name, nil)
	for side := 0; side < 2; side++ {
		srv := rig.Server(t, side)
		out, err := exec.Command(sysbench, sysbenchArgs(srv.Addr(), name, "oltp_read_only", "prepare")...).CombinedOutput()
		require.NoError(t, err, string(out))
	}
	mr := startMirror(t, rig.Server(t, 1).Addr(), &ShadowOptions{SampleRate: 0.1})
	out, err := exec.Command(sysbench, sysbenchArgs(mr.Addr, name, "oltp_read_only", "run")...).CombinedOutput()
	require.NoError(t, err, string(out))
	primary, shadow := mr.all(t)
	sent, errs := 0, 0
	for id, p := range primary {
		s, ok := shadow[id]
		if p.Command == "COM_QUIT" {
			continue
		}
		require.True(t, ok, "%s %s", p.Command, p.QueryText)
		if s.Filtered {
			require.Contains(t, []string{"sample"}, s.FilterReason, "%s %s", s.Command, s.QueryText)
			continue
		}
		if s.Command == "COM_STMT_EXECUTE" {
			sent++
		}
		if !s.Success && p.Success {
			errs++
			t.Logf("shadow error: %s %s: %s", s.Command, s.QueryText, s.Error)
		}
	}
	t.Logf("sysbench: %d primary records, %d executes mirrored", len(primary), sent)
	require.Zero(t, errs, "zero shadow errors")
	require.Positive(t, sent)
}

func sysbenchArgs(addr, db, test, cmd string) []string {
	host, port, _ := strings.Cut(addr, ":")
	return []string{test, "--mysql-host=" + host, "--mysql-port=" + port, "--mysql-user=" + mariadb.User,
		"--mysql-password=" + mariadb.Password, "--mysql-db=" + db, "--tables=1", "--table-size=200",
		"--threads=2", "--time=2", "--rand-seed=1", "--db-ps-mode=auto", "--mysql-ssl=off", cmd}
}

// checkPairs checks that every primary record has its shadow record and, on
// identical data, the same outcome; it returns the number of commands the
// shadow ran.
func checkPairs(t *testing.T, primary, shadow map[string]dataset.QueryLog) int {
	t.Helper()
	ran := 0
	for id, p := range primary {
		if p.Command == "COM_QUIT" {
			continue
		}
		s, ok := shadow[id]
		require.True(t, ok, "no shadow record for %s %q", p.Command, p.QueryText)
		require.Equal(t, p.Seq, s.Seq)
		if s.Filtered || s.Diverged {
			continue
		}
		ran++
		what := p.Command + " " + p.QueryText
		require.Equal(t, p.Success, s.Success, "%s: %s", what, s.Error)
		require.Equal(t, p.ErrorCode, s.ErrorCode, what)
		if p.Command == "COM_STMT_CLOSE" || p.Command == "COM_STMT_SEND_LONG_DATA" || p.Command == "COM_STATISTICS" {
			continue
		}
		require.Equal(t, p.Rows, s.Rows, what)
		require.Equal(t, p.ResultHash, s.ResultHash, what)
		require.Equal(t, p.ColumnsHash, s.ColumnsHash, what)
	}
	return ran
}

func TestMirrorPartOneClientCasesOnTheShadow(t *testing.T) {
	leakCheck(t)
	name, other := twinName(t), twinName(t)
	setup := func(db *sql.DB, side int) {
		mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10), d DECIMAL(8,2), f DOUBLE, ts DATETIME(3), n INT NULL)",
			"INSERT INTO t VALUES (1, 'v1', 1.50, 0.25, '2024-01-01 10:00:00.123', NULL), (2, 'v2', 2, 1e-3, '2024-02-29 00:00:00', 7), (3, 'v3', -3.75, 3, '1999-12-31 23:59:59', 0)")
	}
	twinDatabase(t, name, setup)
	twinDatabase(t, other, setup)
	enableStatementHistory(t)
	mr := startMirror(t, rig.Server(t, 1).Addr(), nil)
	srv := rig.Server(t, 0)

	// go-sql-driver: a database at connect, multi-statements and
	// multi-results, USE then queries, text and prepared, repeated executes.
	db := openDB(t, mr.dsn(t, srv, name, nil))
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	for _, q := range []string{
		"SET @k = 2; SELECT v FROM t WHERE id = @k; SELECT COUNT(*) FROM t",
		"USE `" + other + "`",
		"SELECT /*after-use*/ id, v, d, f, ts, n FROM t",
	} {
		rows, err := conn.QueryContext(ctx, q)
		require.NoError(t, err, q)
		for rows.NextResultSet() {
			for rows.Next() {
			}
		}
		require.NoError(t, rows.Close())
	}
	st, err := conn.PrepareContext(ctx, "SELECT id, v, d, f, ts, n FROM t WHERE id >= ?")
	require.NoError(t, err)
	for i := 1; i <= 3; i++ {
		rows, err := st.QueryContext(ctx, i)
		require.NoError(t, err)
		for rows.Next() {
		}
		require.NoError(t, rows.Close())
	}
	require.NoError(t, st.Close())
	_, err = conn.ExecContext(ctx, "SELECT nope FROM t")
	require.Error(t, err)
	require.NoError(t, conn.Close())

	// go-mysql: binary protocol with types sent once, field list, ping,
	// COM_INIT_DB.
	c, err := gmclient.Connect(mr.Addr, mariadb.User, mariadb.Password, name)
	require.NoError(t, err)
	gst, err := c.Prepare("SELECT v FROM t WHERE id = ?")
	require.NoError(t, err)
	for i := 1; i <= 3; i++ {
		r, err := gst.Execute(i)
		require.NoError(t, err)
		r.Close()
	}
	require.NoError(t, gst.Close())
	_, err = c.FieldList("t", "")
	require.NoError(t, err)
	require.NoError(t, c.Ping())
	require.NoError(t, c.UseDB(other))
	r, err := c.Execute("SELECT /*after-init-db*/ COUNT(*) FROM t")
	require.NoError(t, err)
	r.Close()
	require.NoError(t, c.Quit())

	// The mariadb client, if installed.
	if bin, err := exec.LookPath("mariadb"); err == nil {
		host, port, _ := strings.Cut(mr.Addr, ":")
		out, err := exec.Command(bin, "--no-defaults", "--comments", "-h", host, "-P", port, "-u", mariadb.User,
			"-p"+mariadb.Password, "--ssl=0", "--skip-auto-rehash", name, "-e",
			"/*route='cli'*/ SELECT id, v FROM t ORDER BY id; USE `"+other+"`; SELECT /*cli-after-use*/ d FROM t").CombinedOutput()
		require.NoError(t, err, string(out))
	}

	primary, shadow := mr.all(t)
	ran := checkPairs(t, primary, shadow)
	t.Logf("%d primary records, %d commands run on the shadow with the same outcome", len(primary), ran)
	require.Greater(t, ran, 20)
	require.Equal(t, 1, shadowStatements(t, other, "SELECT /*after-use*/"))
	require.Equal(t, 1, shadowStatements(t, other, "SELECT /*after-init-db*/"))
	if _, err := exec.LookPath("mariadb"); err == nil {
		require.Equal(t, 1, shadowStatements(t, other, "SELECT /*cli-after-use*/"))
		_, ss := pairs(primary, shadow, "COM_QUERY", "/*route='cli'*/")
		require.Equal(t, "cli", ss[0].Route)
	}
}

func TestMirrorThousandIdleClientsBlackHoledShadow(t *testing.T) {
	leakCheck(t)
	bh := newBlackHole(t)
	primary := rig.Server(t, 0)
	name := primary.NewDatabase(t)
	mr := startMirror(t, bh.addr(), &ShadowOptions{DialTimeout: time.Minute})
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	const n = 1000
	for i := 0; i < n; i++ {
		c, _ := rawLogin(t, mr.Addr, name, wire.ClientProtocol41|wire.ClientSecureConnection|wire.ClientPluginAuth|wire.ClientLongPassword)
		res := rawCommand(t, c, 0, []byte("\x03SELECT 1"), nil)
		require.True(t, res.Success)
	}
	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	perConn := (int64(m1.HeapInuse) - int64(m0.HeapInuse)) / n
	t.Logf("%d idle clients through the proxy, shadow black-holed: %d bytes of heap each (proxy and shadow sides, test client included)", n, perConn)
	require.Less(t, perConn, int64(512<<10))
	require.LessOrEqual(t, mr.shadow.budget.used.Load(), int64(n*(entryOverhead+64)))
	require.NoError(t, mr.Close()) // the logins are still hanging: give up at once
}
