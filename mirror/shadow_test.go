package mirror

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/mirror/internal/wire"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

func TestShadowMirrorsReadsAndTracksState(t *testing.T) {
	leakCheck(t)
	srv := rig.Server(t, 1)
	name := srv.NewDatabase(t)
	db := setupTable(t, srv, name, 3)
	sh, rec := newTestShadow(t, srv.Addr(), &ShadowOptions{
		User:  "nobody",
		Users: map[string]Credentials{"app": {User: mariadb.User, Password: mariadb.Password}},
	})
	s := openSession(t, sh, name)

	sel := queryCmd("SELECT * FROM t")
	ins := queryCmd("INSERT INTO t VALUES (9, 'x', 1, 1)")
	set := queryCmd("SET @a = 2")
	byVar := queryCmd("SELECT id FROM t WHERE id = @a")
	multi := queryCmd("SET @b = 3; INSERT INTO t VALUES (10, 'y', 1, 1)")
	byVarB := queryCmd("SELECT id FROM t WHERE id = @b")
	global := queryCmd("SET GLOBAL max_connections = 10")
	missing := queryCmd("SELECT * FROM no_such_table")
	for _, c := range []Command{sel, ins, set, byVar, multi, byVarB, global, missing} {
		require.True(t, s.Submit(c))
	}
	require.NoError(t, s.Close())
	recs := shutdown(t, sh, rec)
	require.Len(t, recs, 8)

	r := recs[sel.QueryID]
	require.True(t, r.Success, r.Error)
	require.EqualValues(t, 3, r.Rows)
	require.NotEmpty(t, r.ResultHash)
	require.NotEmpty(t, r.ColumnsHash)
	require.True(t, r.FloatCols)
	require.NotNil(t, r.QueueMS)
	require.NotNil(t, r.PrimarySuccess)
	require.Equal(t, name, r.Database)
	require.Equal(t, "app", r.User)
	require.NotZero(t, r.ServerConnID)
	require.Equal(t, "COM_QUERY", r.Command)
	require.Equal(t, "SELECT * FROM t", r.QueryText)
	require.NotEmpty(t, r.QueryHash)
	require.False(t, r.Diverged)

	require.True(t, recs[ins.QueryID].Filtered)
	require.Equal(t, "write", recs[ins.QueryID].FilterReason)
	require.True(t, recs[set.QueryID].Success)
	require.EqualValues(t, 1, recs[byVar.QueryID].Rows, "SET @a reached the shadow")
	require.Equal(t, "write", recs[multi.QueryID].FilterReason)
	require.EqualValues(t, 1, recs[byVarB.QueryID].Rows, "the SET part of a filtered multi-statement ran")
	require.Equal(t, "never", recs[global.QueryID].FilterReason)
	m := recs[missing.QueryID]
	require.False(t, m.Success)
	require.EqualValues(t, 1146, m.ErrorCode)
	require.Equal(t, "42S02", m.SQLState)

	var n int
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM t").Scan(&n))
	require.Equal(t, 3, n, "no write reached the shadow")
}

func TestShadowMirrorsWritesWhenEnabled(t *testing.T) {
	leakCheck(t)
	srv := rig.Server(t, 1)
	name := srv.NewDatabase(t)
	db := setupTable(t, srv, name, 3)
	sh, rec := newTestShadow(t, srv.Addr(), &ShadowOptions{MirrorWrites: true})
	s := openSession(t, sh, name)
	ins := queryCmd("INSERT INTO t VALUES (9, 'x', 1, 1)")
	require.True(t, s.Submit(ins))
	require.NoError(t, s.Close())
	recs := shutdown(t, sh, rec)
	require.True(t, recs[ins.QueryID].Success)
	require.EqualValues(t, 1, recs[ins.QueryID].Rows)
	var n int
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM t").Scan(&n))
	require.Equal(t, 4, n)
}

func TestShadowPreparedStatements(t *testing.T) {
	leakCheck(t)
	srv := rig.Server(t, 1)
	name := srv.NewDatabase(t)
	setupTable(t, srv, name, 5)
	sh, rec := newTestShadow(t, srv.Addr(), &ShadowOptions{SampleRate: 0.1})
	s := openSession(t, sh, name)

	const q = "SELECT v FROM t WHERE id = ?"
	var cmds []Command
	cmds = append(cmds, prepareCmd(41, q, 1))
	// Types only on the first execute, as C clients do: sampled-out executes
	// must not lose them.
	for i := 0; i < 200; i++ {
		cmds = append(cmds, executeCmd(41, q, i == 0, int64(i%5+1)))
	}
	closeCmd := newCmd(wire.ComStmtClose, []byte{41, 0, 0, 0}, "")
	cmds = append(cmds, closeCmd)
	for _, c := range cmds {
		require.True(t, s.Submit(c))
	}
	require.NoError(t, s.Close())
	recs := shutdown(t, sh, rec)
	require.Len(t, recs, len(cmds))

	require.True(t, recs[cmds[0].QueryID].Success, "PREPARE is never sampled")
	sent, filtered := 0, 0
	for _, c := range cmds[1:201] {
		r := recs[c.QueryID]
		if r.Filtered {
			require.Equal(t, "sample", r.FilterReason)
			filtered++
			continue
		}
		sent++
		require.True(t, r.Success, "execute %s: %s", c.QueryID, r.Error)
		require.EqualValues(t, 1, r.Rows)
		require.Equal(t, "COM_STMT_EXECUTE", r.Command)
		require.Equal(t, q, r.QueryText)
	}
	require.Greater(t, sent, 5)
	require.Greater(t, filtered, 150)

	require.True(t, recs[closeCmd.QueryID].Success)
}

func TestShadowPreparedStatementCases(t *testing.T) {
	leakCheck(t)
	srv := rig.Server(t, 1)
	name := srv.NewDatabase(t)
	setupTable(t, srv, name, 5)
	sh, rec := newTestShadow(t, srv.Addr(), nil)
	s := openSession(t, sh, name)
	// MariaDB's "last prepared statement" id.
	p := prepareCmd(42, "SELECT id FROM t WHERE id > ?", 1)
	last := executeCmd(0xFFFFFFFF, "SELECT id FROM t WHERE id > ?", true, 2)
	// A PREPARE that fails on the shadow only.
	shadowOnly := prepareCmd(43, "SELECT * FROM only_on_primary WHERE id = ?", 1)
	failedExec := executeCmd(43, "SELECT * FROM only_on_primary WHERE id = ?", true, 1)
	// A write prepared statement is never sent.
	wp := prepareCmd(44, "DELETE FROM t WHERE id = ?", 1)
	we := executeCmd(44, "DELETE FROM t WHERE id = ?", true, 1)
	// An execute of a statement the shadow side never saw.
	unknown := executeCmd(45, "", true, 1)
	// A cursor: execute opens it, fetches read it.
	cp := prepareCmd(46, "SELECT id, v, d FROM t WHERE id > ?", 1)
	ce := executeCmd(46, "SELECT id, v, d FROM t WHERE id > ?", true, 1)
	ce.Payload[5] = 1 // CURSOR_TYPE_READ_ONLY
	fetch := newCmd(wire.ComStmtFetch, []byte{46, 0, 0, 0, 10, 0, 0, 0}, "")
	cmds := []Command{p, last, shadowOnly, failedExec, wp, we, unknown, cp, ce, fetch}
	for _, c := range cmds {
		require.True(t, s.Submit(c))
	}
	require.NoError(t, s.Close())
	recs := shutdown(t, sh, rec)
	require.Len(t, recs, len(cmds))

	require.True(t, recs[last.QueryID].Success, "%+v", recs[last.QueryID])
	require.EqualValues(t, 3, recs[last.QueryID].Rows)
	require.False(t, recs[shadowOnly.QueryID].Success)
	require.EqualValues(t, 1146, recs[shadowOnly.QueryID].ErrorCode)
	fe := recs[failedExec.QueryID]
	require.False(t, fe.Success)
	require.EqualValues(t, 1146, fe.ErrorCode, "executes of a shadow-only failed PREPARE carry its error")
	require.Zero(t, fe.DurationMS, "and are not sent")
	require.Equal(t, "write", recs[wp.QueryID].FilterReason)
	require.Equal(t, "write", recs[we.QueryID].FilterReason)
	require.False(t, recs[unknown.QueryID].Success)
	require.True(t, recs[unknown.QueryID].Diverged)
	require.True(t, recs[ce.QueryID].Success, recs[ce.QueryID].Error)
	f := recs[fetch.QueryID]
	require.True(t, f.Success, f.Error)
	require.EqualValues(t, 4, f.Rows)
	require.NotEmpty(t, f.ResultHash)
	require.Equal(t, "SELECT id, v, d FROM t WHERE id > ?", f.QueryText)
}

func TestShadowBlackHoleNeverBlocksSubmit(t *testing.T) {
	leakCheck(t)
	bh := newBlackHole(t)
	sh, rec := newTestShadow(t, bh.addr(), &ShadowOptions{DialTimeout: 300 * time.Millisecond, QueueCommands: 50})
	s := openSession(t, sh, "db")
	accepted := 0
	for i := 0; i < 200; i++ {
		if s.Submit(queryCmd("SELECT 1")) {
			accepted++
		}
	}
	require.Equal(t, 50, accepted, "the worker is stuck logging in: the queue bound holds")
	require.NoError(t, s.Close())
	recs := shutdown(t, sh, rec)
	require.Len(t, recs, 200, "every command has its record")
	dropped, failed := 0, 0
	for _, r := range recs {
		switch {
		case r.Dropped:
			dropped++
		case !r.Success:
			failed++
			require.Contains(t, r.Error, "unavailable")
		}
	}
	require.Equal(t, 150, dropped)
	require.Equal(t, 50, failed)
}

func TestShadowStateReserveAndBudget(t *testing.T) {
	leakCheck(t)
	bh := newBlackHole(t)
	sh, rec := newTestShadow(t, bh.addr(), &ShadowOptions{DialTimeout: 200 * time.Millisecond,
		QueueCommands: 2, BudgetBytes: 3 * (entryOverhead + 17)}) // "SELECT n": 9 + 8 bytes
	a := openSession(t, sh, "db")
	b := openSession(t, sh, "db")
	require.True(t, a.Submit(queryCmd("SELECT 1")))
	require.True(t, a.Submit(queryCmd("SELECT 2")))
	require.False(t, a.Submit(queryCmd("SELECT 3")), "queue bound")
	require.True(t, a.Submit(queryCmd("SET @x = 1")), "state goes to the reserve")
	require.True(t, b.Submit(queryCmd("SELECT 4")))
	require.False(t, b.Submit(queryCmd("SELECT 5")), "byte budget shared by sessions")
	require.Equal(t, int64(3*(entryOverhead+17)), sh.budget.used.Load())
	for i := 1; i < reserveCommands; i++ {
		require.True(t, a.Submit(queryCmd("SET @x = 1")), "the state reserve")
	}
	lost := queryCmd("SET @y = 2")
	require.False(t, a.Submit(lost), "the reserve is bounded too")
	require.NoError(t, sh.Close())
	require.Zero(t, sh.budget.used.Load())
	recs := byQueryID(t, rec)
	require.Len(t, recs, 6+reserveCommands)
	require.True(t, recs[lost.QueryID].Dropped)
	require.True(t, recs[lost.QueryID].Diverged, "a dropped state change diverges the session")
}

func TestShadowShutdownDrainsQueuedWork(t *testing.T) {
	leakCheck(t)
	srv := rig.Server(t, 1)
	name := srv.NewDatabase(t)
	setupTable(t, srv, name, 3)
	sh, rec := newTestShadow(t, srv.Addr(), nil)
	var ids []string
	for k := 0; k < 5; k++ {
		s := openSession(t, sh, name)
		for i := 0; i < 100; i++ {
			c := queryCmd("SELECT * FROM t")
			ids = append(ids, c.QueryID)
			require.True(t, s.Submit(c))
		}
		// The client leaves at once; Shutdown still runs its queue.
	}
	recs := shutdown(t, sh, rec)
	require.Len(t, recs, len(ids))
	for _, id := range ids {
		require.True(t, recs[id].Success, recs[id].Error)
	}
	_, err := sh.Open(context.Background(), SessionInfo{})
	require.ErrorIs(t, err, ErrShadowClosed)
}

func TestShadowShutdownDeadlineLogsTheRest(t *testing.T) {
	leakCheck(t)
	bh := newBlackHole(t)
	sh, rec := newTestShadow(t, bh.addr(), nil) // 10 s login timeout
	s := openSession(t, sh, "db")
	for i := 0; i < 20; i++ {
		require.True(t, s.Submit(queryCmd("SELECT 1")))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, sh.Shutdown(ctx), context.DeadlineExceeded)
	recs := byQueryID(t, rec)
	require.Len(t, recs, 20, "nothing accepted is lost from the logs")
}

func TestShadowDeadlineRebuildsState(t *testing.T) {
	leakCheck(t)
	srv := rig.Server(t, 1)
	name := srv.NewDatabase(t)
	setupTable(t, srv, name, 3)
	sh, rec := newTestShadow(t, srv.Addr(), &ShadowOptions{MinDeadline: 300 * time.Millisecond})
	s := openSession(t, sh, name)
	set := queryCmd("SET @a = 2")
	slow := queryCmd("SELECT SLEEP(5)")
	after := queryCmd("SELECT id FROM t WHERE id = @a")
	for _, c := range []Command{set, slow, after} {
		require.True(t, s.Submit(c))
	}
	require.NoError(t, s.Close())
	recs := shutdown(t, sh, rec)
	r := recs[slow.QueryID]
	require.False(t, r.Success)
	require.True(t, r.Diverged)
	require.Contains(t, r.Error, ErrShadowDeadline.Error())
	a := recs[after.QueryID]
	require.True(t, a.Success, a.Error)
	require.EqualValues(t, 1, a.Rows, "SET @a was replayed on the new connection")
	require.False(t, a.Diverged, "the rebuild was exact")
	require.NotEqual(t, r.ServerConnID, a.ServerConnID)
}

func TestShadowKilledAndRestarted(t *testing.T) {
	leakCheck(t)
	rig.Server(t, 0) // skips when MariaDB is missing
	srv, err := testdb.Start(nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Remove() })
	name := srv.NewDatabase(t)
	setupTable(t, srv, name, 3)
	sh, rec := newTestShadow(t, srv.Addr(), nil)
	s := openSession(t, sh, name)
	t.Cleanup(func() { _ = s.Close() })

	require.True(t, s.Submit(queryCmd("SET @a = 2")))
	before := queryCmd("SELECT id FROM t WHERE id = @a")
	require.True(t, s.Submit(before))
	waitFor(t, rec, before.QueryID)

	srv.Kill()
	during := queryCmd("SELECT id FROM t WHERE id = @a")
	require.True(t, s.Submit(during))
	waitFor(t, rec, during.QueryID)
	require.NoError(t, srv.Restart())

	// Until the session has logged in again, commands fail (diverged).
	var after dataset.QueryLog
	require.Eventually(t, func() bool {
		c := queryCmd("SELECT id FROM t WHERE id = @a")
		require.True(t, s.Submit(c))
		after = waitFor(t, rec, c.QueryID)
		return after.Success
	}, time.Minute, 50*time.Millisecond)

	recs := byQueryID(t, rec)
	require.True(t, recs[before.QueryID].Success)
	require.False(t, recs[during.QueryID].Success)
	require.True(t, recs[during.QueryID].Diverged)
	require.EqualValues(t, 1, after.Rows, "database and @a were rebuilt on the new connection")
	require.False(t, after.Diverged)
	require.NotEqual(t, recs[before.QueryID].ServerConnID, 0)
}

// waitFor waits until the record of query id is in rec.
func waitFor(t *testing.T, rec *sinktest.Recorder, id string) dataset.QueryLog {
	t.Helper()
	var r dataset.QueryLog
	require.Eventually(t, func() bool {
		var ok bool
		r, ok = byQueryID(t, rec)[id]
		return ok
	}, time.Minute, 5*time.Millisecond)
	return r
}

func TestShadowIdleSessionsOnBlackHoleStayBounded(t *testing.T) {
	leakCheck(t)
	bh := newBlackHole(t)
	sh, rec := newTestShadow(t, bh.addr(), &ShadowOptions{DialTimeout: time.Minute})
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	g0 := runtime.NumGoroutine()
	const n = 1000
	sessions := make([]Session, 0, n)
	for i := 0; i < n; i++ {
		sessions = append(sessions, openSession(t, sh, "db"))
	}
	for _, s := range sessions {
		require.True(t, s.Submit(queryCmd("SELECT 1")))
	}
	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	perSession := (int64(m1.HeapInuse) - int64(m0.HeapInuse)) / n
	t.Logf("%d idle sessions on a black-holed shadow: %d goroutines more, %d bytes of heap each",
		n, runtime.NumGoroutine()-g0, perSession)
	require.Less(t, perSession, int64(64<<10), "heap per idle session")
	require.LessOrEqual(t, runtime.NumGoroutine()-g0, 2*n+10, "one goroutine per session")
	require.NoError(t, sh.Close())
	require.Len(t, byQueryID(t, rec), n, "the queued command of each session is logged (dropped)")
}

func TestShadowTLSVerified(t *testing.T) {
	leakCheck(t)
	rig.Server(t, 0) // skips when MariaDB is missing
	srv, err := testdb.Start(&mariadb.Options{TLS: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Remove() })
	name := srv.NewDatabase(t)
	setupTable(t, srv, name, 2)

	sh, rec := newTestShadow(t, srv.Addr(), &ShadowOptions{TLS: srv.ClientTLS()})
	s := openSession(t, sh, name)
	ok := queryCmd("SHOW STATUS LIKE 'Ssl_cipher'")
	require.True(t, s.Submit(ok))
	require.NoError(t, s.Close())
	r := shutdown(t, sh, rec)[ok.QueryID]
	require.True(t, r.Success, r.Error)
	require.EqualValues(t, 1, r.Rows)

	// A CA that did not sign the server's certificate: the login fails.
	ca, err := mariadb.NewCA()
	require.NoError(t, err)
	sh2, rec2 := newTestShadow(t, srv.Addr(), &ShadowOptions{TLS: ca.ClientTLS("127.0.0.1")})
	s2 := openSession(t, sh2, name)
	bad := queryCmd("SELECT 1")
	require.True(t, s2.Submit(bad))
	require.NoError(t, s2.Close())
	r2 := shutdown(t, sh2, rec2)[bad.QueryID]
	require.False(t, r2.Success)
	require.Contains(t, r2.Error, "certificate")
}

func TestShadowLostConnectionInTransactionAndTempTable(t *testing.T) {
	leakCheck(t)
	srv := rig.Server(t, 1)
	name := srv.NewDatabase(t)
	setupTable(t, srv, name, 3)
	sh, rec := newTestShadow(t, srv.Addr(), &ShadowOptions{MinDeadline: 300 * time.Millisecond})
	s := openSession(t, sh, name)
	cmds := []Command{
		queryCmd("BEGIN"),
		queryCmd("SELECT SLEEP(5)"),                        // 1: deadline, reconnect
		queryCmd("SELECT COUNT(*) FROM t"),                 // 2: diverged: the transaction was reopened
		queryCmd("COMMIT"),                                 // 3
		queryCmd("SELECT COUNT(*) FROM t"),                 // 4: exact again
		queryCmd("CREATE TEMPORARY TABLE tt (a INT)"),      // 5
		queryCmd("SELECT SLEEP(5)"),                        // 6: deadline, reconnect
		queryCmd("SELECT COUNT(*) FROM tt"),                // 7: table rebuilt, rows unknown: diverged
		newCmd(wire.ComResetConnection, nil, ""),           // 8: state reset
		queryCmd("SELECT COUNT(*) FROM t"),                 // 9: exact
		newCmd(wire.ComInitDB, []byte("no_such_db_x"), ""), // 10: the primary had it, the shadow does not
		queryCmd("SELECT 1"),                               // 11: diverged
	}
	for _, c := range cmds {
		require.True(t, s.Submit(c))
	}
	require.NoError(t, s.Close())
	recs := shutdown(t, sh, rec)
	r := func(i int) dataset.QueryLog { return recs[cmds[i].QueryID] }
	require.True(t, r(1).Diverged)
	require.True(t, r(2).Success)
	require.True(t, r(2).Diverged)
	require.False(t, r(4).Diverged)
	require.True(t, r(7).Success, r(7).Error)
	require.True(t, r(7).Diverged)
	require.True(t, r(8).Success)
	require.False(t, r(9).Diverged, "%+v\n%+v", r(8), r(9))
	require.False(t, r(10).Success)
	require.EqualValues(t, 1049, r(10).ErrorCode)
	require.True(t, r(11).Diverged)
	require.Equal(t, 2.0, testutil.ToFloat64(sh.metrics.divergences.WithLabelValues("deadline")))
}
