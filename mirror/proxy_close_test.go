package mirror

import (
	"context"
	"database/sql"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/mirror/internal/wire"
)

// activeConns is the number of client connections the proxy serves.
func (pr *proxyRig) activeConns() int {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return len(pr.conns)
}

// waitClosed waits until the proxy serves no client connection.
func (pr *proxyRig) waitClosed(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool { return pr.activeConns() == 0 }, 20*time.Second, 5*time.Millisecond,
		"the proxy still serves the client's connection")
}

// staleConnectionCheck is go-sql-driver's TestStaleConnectionChecks: the
// server closes an idle session (wait_timeout), and the next Begin must
// reconnect without an error. closed(id) waits until the session with
// server connection id is closed.
func staleConnectionCheck(t *testing.T, dsn string, closed func(id int64)) {
	t.Helper()
	db := openDB(t, dsn)
	db.SetMaxOpenConns(1)
	_, err := db.Exec("SET @@SESSION.wait_timeout = 2")
	require.NoError(t, err)
	require.NoError(t, db.Ping())
	var id int64
	require.NoError(t, db.QueryRow("SELECT CONNECTION_ID()").Scan(&id))
	closed(id)
	tx, err := db.Begin()
	require.NoError(t, err, "a pooled connection the server closed is replaced")
	var again int64
	require.NoError(t, tx.QueryRow("SELECT CONNECTION_ID()").Scan(&again))
	require.NotEqual(t, id, again, "a new session")
	require.NoError(t, tx.Rollback())
}

func TestProxyServerClosesIdleSession(t *testing.T) {
	srv := rig.Server(t, 0)
	name := srv.NewDatabase(t)
	pr := startProxy(t, srv.Addr(), nil)

	t.Run("wait_timeout", func(t *testing.T) {
		root := srv.Open(t, name)
		// Directly, then through the proxy.
		staleConnectionCheck(t, srv.DSN(name), func(id int64) {
			require.Eventually(t, func() bool {
				var n int
				err := root.QueryRow("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?", id).Scan(&n)
				return err == nil && n == 0
			}, 20*time.Second, 5*time.Millisecond, "the server keeps the idle session")
		})
		staleConnectionCheck(t, pr.dsn(t, srv, name, nil), func(int64) { pr.waitClosed(t) })
	})

	t.Run("KILL CONNECTION", func(t *testing.T) {
		db := openDB(t, pr.dsn(t, srv, name, nil))
		db.SetMaxOpenConns(1)
		var id int64
		require.NoError(t, db.QueryRow("SELECT CONNECTION_ID()").Scan(&id))
		_, err := srv.Open(t, name).Exec("KILL CONNECTION " + strconv.FormatInt(id, 10))
		require.NoError(t, err)
		pr.waitClosed(t)
		var again int64
		require.NoError(t, db.QueryRow("SELECT CONNECTION_ID()").Scan(&again))
		require.NotEqual(t, id, again, "a new session")
	})

	t.Run("raw client sees the end", func(t *testing.T) {
		// No packet of the proxy's own: the client's socket just ends.
		c, caps := rawLogin(t, pr.Addr, name, wire.Supported)
		r := rawCommand(t, c, caps, append([]byte{wire.ComQuery}, "SELECT CONNECTION_ID()"...), nil)
		require.True(t, r.Success)
		var id int64
		require.NoError(t, srv.Open(t, name).QueryRow(
			"SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND DB = ? ORDER BY ID DESC LIMIT 1", name).Scan(&id))
		_, err := srv.Open(t, name).Exec("KILL CONNECTION " + strconv.FormatInt(id, 10))
		require.NoError(t, err)
		require.NoError(t, c.NetConn().SetReadDeadline(time.Now().Add(20*time.Second)))
		_, p, err := c.ReadPacket(nil)
		require.ErrorIs(t, err, io.EOF, "packet %q", p)
	})
}

// cutRelay is a TCP relay in front of addr whose connections cut() ends,
// as a primary that vanishes mid-command.
type cutRelay struct {
	l     net.Listener
	to    string
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func newCutRelay(t *testing.T, to string) *cutRelay {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := &cutRelay{l: l, to: to}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", to)
			if err != nil {
				_ = c.Close()
				continue
			}
			r.mu.Lock()
			r.conns = append(r.conns, c, u)
			r.mu.Unlock()
			r.wg.Add(2)
			go func() { defer r.wg.Done(); _, _ = io.Copy(u, c); _ = u.Close() }()
			go func() { defer r.wg.Done(); _, _ = io.Copy(c, u); _ = c.Close() }()
		}
	}()
	t.Cleanup(func() { _ = l.Close(); r.cut(); r.wg.Wait() })
	return r
}

func (r *cutRelay) addr() string { return r.l.Addr().String() }

func (r *cutRelay) cut() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		_ = c.Close()
	}
}

func TestProxyPrimaryLostMidCommand(t *testing.T) {
	srv := rig.Server(t, 0)
	name := srv.NewDatabase(t)
	relay := newCutRelay(t, srv.Addr())
	pr := startProxy(t, relay.addr(), nil)
	c, _ := rawLogin(t, pr.Addr, name, wire.Supported)
	_, err := c.WritePacket(0, append([]byte{wire.ComQuery}, "SELECT SLEEP(60)"...))
	require.NoError(t, err)
	require.NoError(t, c.Flush())
	// The statement runs on the primary.
	direct := srv.Open(t, name)
	require.Eventually(t, func() bool {
		var n int
		err := direct.QueryRow("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(60)'").Scan(&n)
		return err == nil && n == 1
	}, 20*time.Second, 5*time.Millisecond)
	relay.cut()
	require.NoError(t, c.NetConn().SetReadDeadline(time.Now().Add(20*time.Second)))
	_, p, err := c.ReadPacket(nil)
	require.ErrorIs(t, err, io.EOF, "the connection ends, no packet of the proxy's own: %q", p)
	pr.waitClosed(t)
	recs := pr.records(t)
	sel := findRecords(recs, "COM_QUERY", "SELECT SLEEP(60)")
	require.Len(t, sel, 1)
	require.False(t, sel[0].Success)
	require.NotEmpty(t, sel[0].Error)
}

// TestProxyClientGoneMidCommand: a client that goes away while its command
// waits (GET_LOCK) ends its server session, as it would directly: the wait
// ends and the session's locks are released. Over a TLS primary leg too,
// where closing the TLS connection (a close_notify first) would leave
// MariaDB waiting.
func TestProxyClientGoneMidCommand(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		srv := rig.Server(t, 0)
		clientGoneMidCommand(t, srv, nil)
	})
	t.Run("primary TLS", func(t *testing.T) {
		tlsSrv, err := testdb.Start(&mariadb.Options{TLS: true})
		if err != nil {
			testdb.SkipOrFail(t, err)
		}
		t.Cleanup(func() { _ = tlsSrv.Remove() })
		clientGoneMidCommand(t, tlsSrv, &Options{PrimaryTLS: tlsSrv.ClientTLS(), PrimaryTLSAlways: true})
	})
}

func clientGoneMidCommand(t *testing.T, srv *testdb.Server, opts *Options) {
	name := srv.NewDatabase(t)
	pr := startProxy(t, srv.Addr(), opts)
	direct := srv.Open(t, name)
	holder, err := direct.Conn(context.Background())
	require.NoError(t, err)
	defer holder.Close()
	var got int
	require.NoError(t, holder.QueryRowContext(context.Background(), "SELECT GET_LOCK('held', 0)").Scan(&got))
	require.Equal(t, 1, got)

	c, caps := rawLogin(t, pr.Addr, name, wire.Supported)
	// The client takes a lock of its own, then waits for the held one.
	r := rawCommand(t, c, caps, append([]byte{wire.ComQuery}, "SELECT GET_LOCK('dangling', 0)"...), nil)
	require.True(t, r.Success)
	_, err = c.WritePacket(0, append([]byte{wire.ComQuery}, "SELECT GET_LOCK('held', 3600)"...))
	require.NoError(t, err)
	require.NoError(t, c.Flush())
	waiting := func() int {
		var n int
		require.NoError(t, direct.QueryRow(
			"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT GET_LOCK(''held'', 3600)'").Scan(&n))
		return n
	}
	require.Eventually(t, func() bool { return waiting() == 1 }, 20*time.Second, 5*time.Millisecond)
	require.NoError(t, c.NetConn().Close())

	// The server ends the wait and frees the client's lock.
	require.Eventually(t, func() bool {
		var free sql.NullInt64
		err := direct.QueryRow("SELECT IS_FREE_LOCK('dangling')").Scan(&free)
		return err == nil && free.Valid && free.Int64 == 1 && waiting() == 0
	}, 20*time.Second, 5*time.Millisecond, "the primary session still waits and holds its lock")
	pr.waitClosed(t)
	recs := pr.records(t)
	sel := findRecords(recs, "COM_QUERY", "SELECT GET_LOCK('held'")
	require.Len(t, sel, 1)
	require.False(t, sel[0].Success)
	require.Equal(t, errClientLeft.Error(), sel[0].Error)
}
