package mirror

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/mirror/internal/wire"
)

// fakeMirror keeps what the proxy hands it.
type fakeMirror struct {
	mu     sync.Mutex
	infos  []SessionInfo
	cmds   []Command
	closed int
}

func (m *fakeMirror) Open(_ context.Context, info SessionInfo) (Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.infos = append(m.infos, info)
	return fakeSession{m}, nil
}

type fakeSession struct{ m *fakeMirror }

func (s fakeSession) Submit(cmd Command) bool {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.m.cmds = append(s.m.cmds, cmd)
	return true
}

func (s fakeSession) Close() error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.m.closed++
	return nil
}

func TestProxyFeedsTheMirror(t *testing.T) {
	srv := rig.Server(t, 0)
	name, _ := newTable(t, srv, 3)
	fm := &fakeMirror{}
	pr := startProxy(t, srv.Addr(), &Options{Mirror: fm})
	db := openDB(t, pr.dsn(t, srv, name, nil))
	db.SetMaxOpenConns(1)
	stmt, err := db.Prepare("SELECT v FROM t WHERE id = ?")
	require.NoError(t, err)
	var v string
	require.NoError(t, stmt.QueryRow(2).Scan(&v))
	require.NoError(t, stmt.Close())
	require.NoError(t, db.Close())
	recs := pr.records(t)

	fm.mu.Lock()
	defer fm.mu.Unlock()
	require.Len(t, fm.infos, 1)
	info := fm.infos[0]
	require.Equal(t, mariadb.User, info.User)
	require.Equal(t, name, info.Database)
	require.NotZero(t, info.PrimaryConnID)
	require.NotZero(t, info.Capabilities&wire.ClientMultiResults)
	require.Equal(t, 1, fm.closed)

	kinds := map[byte]Command{}
	for _, c := range fm.cmds {
		kinds[c.Kind()] = c
	}
	prep, exec := kinds[wire.ComStmtPrepare], kinds[wire.ComStmtExecute]
	require.Equal(t, "SELECT v FROM t WHERE id = ?", prep.Query)
	require.Equal(t, uint16(1), prep.Primary.NumParams)
	require.NotZero(t, prep.StmtID)
	require.Equal(t, prep.StmtID, exec.StmtID)
	require.Equal(t, prep.Query, exec.Query)
	require.True(t, exec.Primary.Success)
	require.Equal(t, int64(1), exec.Primary.Rows)
	require.NotEmpty(t, exec.Primary.ResultHash)
	// The payload is the client's packet, a copy the mirror owns.
	require.Equal(t, wire.ComStmtExecute, exec.Payload[0])
	// Query ids match the records'.
	ids := map[string]bool{}
	for _, r := range recs {
		ids[r.QueryID] = true
	}
	for _, c := range fm.cmds {
		require.True(t, ids[c.QueryID], c.QueryID)
	}
}

func TestProxyRefusesCleartextOverPlainPrimary(t *testing.T) {
	srv := rig.Server(t, 0)
	reg := prometheus.NewRegistry()
	pr := startProxy(t, srv.Addr(), &Options{Registerer: reg})
	{
		nc, err := net.Dial("tcp", pr.Addr)
		require.NoError(t, err)
		c := wire.NewConn(nc)
		_, _, err = c.ReadPacket(nil)
		require.NoError(t, err)
		resp := &wire.HandshakeResponse{Capabilities: wire.Supported, MaxPacket: 1 << 24, Charset: 45,
			User: mariadb.User, AuthData: append([]byte(mariadb.Password), 0), AuthPlugin: "mysql_clear_password"}
		_, err = c.WritePacket(1, resp.Append(nil))
		require.NoError(t, err)
		require.NoError(t, c.Flush())
		_, p, err := c.ReadPacket(nil)
		require.NoError(t, err)
		e, err := wire.ParseErr(p)
		require.NoError(t, err)
		require.Equal(t, uint16(1045), e.Code)
		require.Contains(t, e.Message, "cleartext")
		_ = nc.Close()
	}
	require.Equal(t, 1.0, testutil.ToFloat64(pr.m.connErrors.WithLabelValues("auth")))
}

func TestProxyMetrics(t *testing.T) {
	srv := rig.Server(t, 0)
	name := srv.NewDatabase(t)
	reg := prometheus.NewRegistry()
	pr := startProxy(t, srv.Addr(), &Options{Registerer: reg})
	db := openDB(t, pr.dsn(t, srv, name, nil))
	db.SetMaxOpenConns(1)
	require.NoError(t, db.Ping())
	_, err := db.Exec("SELECT * FROM nope")
	require.Error(t, err)
	require.NoError(t, db.Close())
	pr.waitFor(t, "COM_QUIT")
	pr.stop(t)
	require.Equal(t, 1.0, testutil.ToFloat64(pr.m.connsTotal))
	require.Equal(t, 0.0, testutil.ToFloat64(pr.m.connsActive))
	require.Equal(t, 1.0, testutil.ToFloat64(pr.m.errorsByCode.WithLabelValues("1146")))
	require.GreaterOrEqual(t, testutil.ToFloat64(pr.m.commands.WithLabelValues("COM_QUERY")), 1.0)
	require.Greater(t, testutil.ToFloat64(pr.m.bytesDown), 0.0)
	n, err := testutil.GatherAndCount(reg)
	require.NoError(t, err)
	require.Greater(t, n, 5)
	// One Registerer per proxy.
	_, err = New(srv.Addr(), &Options{Registerer: reg})
	require.Error(t, err)
}

func TestProxyIdleTimeout(t *testing.T) {
	srv := rig.Server(t, 0)
	name := srv.NewDatabase(t)
	pr := startProxy(t, srv.Addr(), &Options{IdleTimeout: 100 * time.Millisecond})
	db := openDB(t, pr.dsn(t, srv, name, nil))
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	require.NoError(t, conn.PingContext(context.Background()))
	time.Sleep(time.Second)
	require.Error(t, conn.PingContext(context.Background()), "the idle connection was closed")
	_ = conn.Close()
}
