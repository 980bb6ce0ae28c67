package mirror

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/mirror/internal/wire"
)

func TestShadowVerdicts(t *testing.T) {
	sh, err := NewShadow("127.0.0.1:1", nil)
	require.NoError(t, err)
	ss := newShadowSession(sh, SessionInfo{})
	for _, c := range []struct {
		sql    string
		reason string
		state  bool
	}{
		{"SELECT 1", "", false},
		{"select * from t where a in (1,2)", "", false},
		{"SHOW TABLES", "", false},
		{"USE db", "", true},
		{"SET @a = 1", "", true},
		{"SET NAMES utf8mb4", "", true},
		{"SET SESSION sql_mode = ''", "", true},
		{"SET GLOBAL max_connections = 1", "never", false},
		{"SET PASSWORD = 'x'", "never", false},
		{"KILL 3", "never", false},
		{"LOAD DATA LOCAL INFILE 'f' INTO TABLE t", "never", false},
		{"INSERT INTO t VALUES (1)", "write", false},
		{"WITH x AS (SELECT 1) UPDATE t SET a = 1", "write", false},
		{"SELECT * FROM t FOR UPDATE", "write", false},
		{"SELECT GET_LOCK('a', 1)", "write", false},
		{"SELECT * FROM t INTO OUTFILE '/tmp/x'", "write", false},
		{"SELECT a INTO @v FROM t LIMIT 1", "", true},
		{"BEGIN", "", true},
		{"COMMIT", "", true},
		{"CREATE TEMPORARY TABLE tt (a INT)", "", true},
		{"SET @a = 1; SELECT @a", "", true},
		{"SELECT 1; DELETE FROM t", "write", false},
		{"SET @a = 1; DELETE FROM t", "write", true},
		{"EXECUTE s", "write", true},
	} {
		reason, state := ss.verdict(classify(c.sql))
		require.Equal(t, c.reason, reason, c.sql)
		require.Equal(t, c.state, state, c.sql)
	}
	sh.opts.MirrorWrites = true
	reason, _ := ss.verdict(classify("INSERT INTO t VALUES (1)"))
	require.Empty(t, reason)
	reason, _ = ss.verdict(classify("SET GLOBAL x = 1; SELECT 1"))
	require.Equal(t, "never", reason)
}

func TestShadowSessionState(t *testing.T) {
	st := newSessionState(&SessionInfo{Database: "a", User: "u"})
	apply := func(sql string) {
		for _, k := range classify(sql) {
			st.apply(&k)
		}
	}
	apply("USE `b``x`")
	require.Equal(t, "b`x", st.db)
	apply("use c")
	require.Equal(t, "c", st.db)
	apply("SET @a = 1")
	apply("SET @b = 2")
	apply("SET @a = 1")
	require.Equal(t, []string{"SET @b = 2", "SET @a = 1"}, st.replay)
	apply("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
	require.Len(t, st.replay, 2, "SET TRANSACTION is for the next transaction only")
	require.True(t, st.exact())
	apply("START TRANSACTION")
	require.True(t, st.inTx)
	require.False(t, st.exact())
	apply("COMMIT AND CHAIN")
	require.True(t, st.inTx)
	apply("COMMIT")
	require.False(t, st.inTx)
	apply("CREATE TEMPORARY TABLE tt (a INT)")
	require.True(t, st.temp)
	require.False(t, st.exact())
	st.prepared[3] = &prepared{}
	st.lastPrepared = 3
	require.Equal(t, uint32(3), st.resolve(0xFFFFFFFF))
	require.Equal(t, uint32(7), st.resolve(7))
	st.reset()
	require.True(t, st.exact())
	require.Empty(t, st.replay)
	require.Empty(t, st.prepared)
	require.Equal(t, "c", st.db, "COM_RESET_CONNECTION keeps the database")

	for i := 0; i < maxReplay+5; i++ {
		st.remember("SET @v" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676)) + " = 1")
	}
	require.Len(t, st.replay, maxReplay)
	require.True(t, st.lost)
}

func TestParseUse(t *testing.T) {
	for in, want := range map[string]string{
		"USE db": "db", "use db;": "db", "USE `my db`": "my db", "  USE\tdb  ": "db",
	} {
		got, ok := parseUse(in)
		require.True(t, ok, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"USE", "USER x", "USE a b"} {
		_, ok := parseUse(in)
		require.False(t, ok, in)
	}
}

func TestRewriteExecute(t *testing.T) {
	first := executeCmd(5, "", true, 7, 8).Payload
	again := executeCmd(5, "", false, 9, 10).Payload
	_, types, _, ok := executeLayout(first, 2)
	require.True(t, ok)
	require.Equal(t, []byte{wire.TypeLongLong, 0, wire.TypeLongLong, 0}, types)

	out, ok := rewriteExecute(nil, again, 99, 2, types)
	require.True(t, ok)
	require.Equal(t, uint32(99), binary.LittleEndian.Uint32(out[1:]))
	want := executeCmd(99, "", true, 9, 10).Payload
	require.Equal(t, want, out, "types are re-sent on every execute")

	_, ok = rewriteExecute(nil, again, 99, 2, nil)
	require.False(t, ok, "types never seen")
	out, ok = rewriteExecute(nil, executeCmd(5, "", false).Payload, 12, 0, nil)
	require.True(t, ok)
	require.Equal(t, executeCmd(12, "", false).Payload, out)
	_, _, _, ok = executeLayout([]byte{wire.ComStmtExecute, 1}, 1)
	require.False(t, ok)
}

func FuzzRewriteExecute(f *testing.F) {
	f.Add(executeCmd(5, "", true, 7, 8).Payload, uint16(2))
	f.Add(executeCmd(5, "", false, 7).Payload, uint16(1))
	f.Add(executeCmd(5, "", false).Payload, uint16(0))
	f.Add([]byte{wire.ComStmtExecute}, uint16(3))
	f.Fuzz(func(t *testing.T, p []byte, n uint16) {
		n %= 64
		_, types, values, ok := executeLayout(p, n)
		if !ok {
			return
		}
		if types == nil {
			types = make([]byte, 2*int(n))
		}
		out, ok := rewriteExecute(nil, p, 1, n, types)
		require.True(t, ok)
		_, t2, v2, ok := executeLayout(out, n)
		require.True(t, ok)
		require.Equal(t, values, v2)
		if n > 0 {
			require.Equal(t, types, t2)
		}
	})
}

func TestSampling(t *testing.T) {
	sh, err := NewShadow("127.0.0.1:1", &ShadowOptions{SampleRate: 0.1})
	require.NoError(t, err)
	ss := newShadowSession(sh, SessionInfo{})
	n := 0
	for i := 0; i < 10000; i++ {
		c := queryCmd("SELECT 1")
		if ss.sampled(&c) {
			n++
		}
		require.Equal(t, ss.sampled(&c), ss.sampled(&c), "decided by the query id")
	}
	require.InDelta(t, 1000, n, 150)
	_, err = NewShadow("127.0.0.1:1", &ShadowOptions{SampleRate: 1.5})
	require.Error(t, err)
	_, err = NewShadow("nohostport", nil)
	require.Error(t, err)
}

func TestMayChangeState(t *testing.T) {
	for _, c := range []struct {
		cmd  Command
		want bool
	}{
		{queryCmd("SELECT 1"), false},
		{queryCmd("SET @a = 1"), true},
		{queryCmd("SELECT 1; USE db"), true},
		{executeCmd(1, "", false), false},
		{prepareCmd(1, "SELECT 1", 0), true},
		{newCmd(wire.ComInitDB, []byte("db"), ""), true},
		{newCmd(wire.ComPing, nil, ""), false},
	} {
		require.Equal(t, c.want, mayChangeState(&c.cmd), "%q", c.cmd.Payload)
	}
}
