package mirror

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/mirror/internal/wire"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

// collUTF8MB4 is utf8mb4_general_ci.
const collUTF8MB4 = 45

var qid atomic.Uint64

// newCmd returns a command with a fresh query id whose primary succeeded.
func newCmd(kind byte, body []byte, query string) Command {
	n := qid.Add(1)
	return Command{
		QueryID:  fmt.Sprintf("q-%d", n),
		Seq:      n,
		Received: time.Now(),
		Payload:  append([]byte{kind}, body...),
		Query:    query,
		Primary:  Outcome{Success: true, Duration: time.Millisecond},
	}
}

func queryCmd(sql string) Command { return newCmd(wire.ComQuery, []byte(sql), sql) }

func prepareCmd(primaryID uint32, sql string, numParams uint16) Command {
	c := newCmd(wire.ComStmtPrepare, []byte(sql), sql)
	c.StmtID = primaryID
	c.Primary.NumParams = numParams
	return c
}

// executeCmd builds a COM_STMT_EXECUTE with BIGINT parameters; types are sent
// only when bind is true (as clients do on the first execute).
func executeCmd(id uint32, query string, bind bool, args ...int64) Command {
	b := binary.LittleEndian.AppendUint32(nil, id)
	b = append(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 1)
	if len(args) > 0 {
		b = append(b, make([]byte, (len(args)+7)/8)...)
		if bind {
			b = append(b, 1)
			for range args {
				b = append(b, wire.TypeLongLong, 0)
			}
		} else {
			b = append(b, 0)
		}
		for _, a := range args {
			b = binary.LittleEndian.AppendUint64(b, uint64(a))
		}
	}
	c := newCmd(wire.ComStmtExecute, b, query)
	c.StmtID = id
	return c
}

// newTestShadow returns a Shadow writing to a Recorder, closed when the test
// ends.
func newTestShadow(t *testing.T, addr string, opts *ShadowOptions) (*Shadow, *sinktest.Recorder) {
	t.Helper()
	rec := &sinktest.Recorder{}
	o := ShadowOptions{User: mariadb.User, Password: mariadb.Password}
	if opts != nil {
		o = *opts
		if o.User == "" && o.Users == nil {
			o.User, o.Password = mariadb.User, mariadb.Password
		}
	}
	o.Sink = rec
	sh, err := NewShadow(addr, &o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sh.Close() })
	return sh, rec
}

func openSession(t *testing.T, sh *Shadow, db string) Session {
	t.Helper()
	s, err := sh.Open(context.Background(), SessionInfo{
		ConnID: qid.Add(1), User: "app", Database: db, Collation: collUTF8MB4,
		Capabilities: wire.ClientMultiStatements | wire.ClientMultiResults | wire.ClientProtocol41,
		ClientAddr:   "127.0.0.1:1",
	})
	require.NoError(t, err)
	return s
}

// shutdown drains everything and returns the shadow records by query id.
func shutdown(t *testing.T, sh *Shadow, rec *sinktest.Recorder) map[string]dataset.QueryLog {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, sh.Shutdown(ctx))
	return byQueryID(t, rec)
}

func byQueryID(t *testing.T, rec *sinktest.Recorder) map[string]dataset.QueryLog {
	t.Helper()
	recs, err := sinktest.Decode[dataset.QueryLog](rec)
	require.NoError(t, err)
	out := map[string]dataset.QueryLog{}
	for _, r := range recs {
		require.Equal(t, dataset.TargetShadow, r.Target)
		_, dup := out[r.QueryID]
		require.False(t, dup, "two records for %s", r.QueryID)
		out[r.QueryID] = r
	}
	return out
}

// setupTable creates table t(id, v) with n rows in a fresh database of srv.
func setupTable(t *testing.T, srv *testdb.Server, name string, n int) *sql.DB {
	t.Helper()
	db := srv.Open(t, name)
	_, err := db.Exec("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20), d DECIMAL(10,2), f DOUBLE)")
	require.NoError(t, err)
	for i := 1; i <= n; i++ {
		_, err := db.Exec("INSERT INTO t VALUES (?, ?, ?, ?)", i, fmt.Sprintf("v%d", i), float64(i)+0.5, float64(i)/3)
		require.NoError(t, err)
	}
	return db
}

// blackHole is a TCP listener that accepts connections and never answers.
type blackHole struct {
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func newBlackHole(t *testing.T) *blackHole {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	b := &blackHole{l: l}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.conns = append(b.conns, c)
			b.mu.Unlock()
		}
	}()
	t.Cleanup(b.close)
	return b
}

func (b *blackHole) addr() string { return b.l.Addr().String() }

func (b *blackHole) close() {
	_ = b.l.Close()
	b.wg.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		_ = c.Close()
	}
	b.conns = nil
}

// leakCheck fails the test if it leaves a goroutine behind. The rig's
// servers outlive the test that first asks for them (TestMain stops them),
// so they are started before the snapshot when MariaDB is available.
func leakCheck(t *testing.T) {
	t.Helper()
	if mariadb.Available() == nil {
		// The servers' root handles (their pools' goroutines) too: testdb
		// opens them on first use and closes them with the servers.
		for i := range 2 {
			_, err := rig.Server(t, i).Root()
			require.NoError(t, err)
		}
	}
	opts := []goleak.Option{goleak.IgnoreCurrent(),
		// The root handles' pools may open a connection during the test
		// and keep it idle after it, with the driver's goroutine watching it.
		goleak.IgnoreAnyFunction("github.com/go-sql-driver/mysql.(*mysqlConn).startWatcher.func1"),
	}
	t.Cleanup(func() { goleak.VerifyNone(t, opts...) })
}
