package mirror

import (
	"context"
	"database/sql"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

// proxyRig is one proxy in front of a primary, logging to a Recorder.
type proxyRig struct {
	*Proxy
	Addr string
	Rec  *sinktest.Recorder
	done chan error
}

func startProxy(t *testing.T, primary string, opts *Options) *proxyRig {
	t.Helper()
	return startProxyTB(t, primary, opts)
}

func startProxyB(b *testing.B, primary string) *proxyRig { return startProxyTB(b, primary, nil) }

func startProxyTB(t testing.TB, primary string, opts *Options) *proxyRig {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	rec := &sinktest.Recorder{}
	if opts.Sink == nil {
		opts.Sink = rec
	}
	p, err := New(primary, opts)
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	pr := &proxyRig{Proxy: p, Addr: l.Addr().String(), Rec: rec, done: make(chan error, 1)}
	go func() { pr.done <- p.Serve(l) }()
	t.Cleanup(func() { pr.stop(t) })
	return pr
}

// stop shuts the proxy down (idempotent) so that every record is written.
func (pr *proxyRig) stop(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, pr.Shutdown(ctx))
	select {
	case err := <-pr.done:
		require.ErrorIs(t, err, ErrProxyClosed)
	default:
	}
}

// records stops the proxy and returns its primary records.
func (pr *proxyRig) records(t *testing.T) []dataset.QueryLog {
	t.Helper()
	pr.stop(t)
	recs, err := sinktest.Decode[dataset.QueryLog](pr.Rec)
	require.NoError(t, err)
	return recs
}

// dsn returns srv's DSN for db, pointed at the proxy.
func (pr *proxyRig) dsn(t *testing.T, srv *testdb.Server, db string, edit func(*mysql.Config)) string {
	t.Helper()
	cfg, err := mysql.ParseDSN(srv.DSN(db))
	require.NoError(t, err)
	cfg.Addr = pr.Addr
	if edit != nil {
		edit(cfg)
	}
	return cfg.FormatDSN()
}

// waitFor waits until a record of command reaches the sink.
func (pr *proxyRig) waitFor(t *testing.T, command string) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, m := range pr.Rec.Maps() {
			if m["command"] == command {
				return true
			}
		}
		return false
	}, 20*time.Second, 10*time.Millisecond, "no %s record", command)
}

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func findRecords(recs []dataset.QueryLog, command, textPrefix string) []dataset.QueryLog {
	var out []dataset.QueryLog
	for _, r := range recs {
		if r.Command == command && strings.HasPrefix(r.QueryText, textPrefix) {
			out = append(out, r)
		}
	}
	return out
}

func TestProxyGoSQLDriverTextAndPrepared(t *testing.T) {
	srv := rig.Server(t, 0)
	name := srv.NewDatabase(t)
	direct := srv.Open(t, name)
	_, err := direct.Exec("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20), d DECIMAL(10,2), f DOUBLE, ts DATETIME(3), n INT NULL)")
	require.NoError(t, err)
	_, err = direct.Exec("INSERT INTO t VALUES (1,'a',1.50,0.1,'2024-01-02 03:04:05.120',NULL),(2,'b',2,2.5,'2024-01-02 00:00:00',7)")
	require.NoError(t, err)

	pr := startProxy(t, srv.Addr(), nil)
	db := openDB(t, pr.dsn(t, srv, name, nil))
	db.SetMaxOpenConns(1)

	var n int
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM t").Scan(&n))
	require.Equal(t, 2, n)
	// Prepared, executed repeatedly (cached metadata).
	stmt, err := db.Prepare("SELECT id, v, d, f, ts, n FROM t WHERE id >= ? ORDER BY id")
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		rows, err := stmt.Query(1)
		require.NoError(t, err)
		k := 0
		for rows.Next() {
			k++
		}
		require.NoError(t, rows.Err())
		require.Equal(t, 2, k)
	}
	require.NoError(t, stmt.Close())
	// Text protocol of the same query.
	rows, err := db.Query("SELECT id, v, d, f, ts, n FROM t WHERE id >= 1 ORDER BY id")
	require.NoError(t, err)
	for rows.Next() {
	}
	require.NoError(t, rows.Close())
	// An error.
	_, err = db.Exec("SELECT * FROM missing_table")
	var me *mysql.MySQLError
	require.ErrorAs(t, err, &me)
	require.Equal(t, uint16(1146), me.Number)
	require.NoError(t, db.Close())
	pr.waitFor(t, "COM_QUIT")
	recs := pr.records(t)
	exec := findRecords(recs, "COM_STMT_EXECUTE", "SELECT id, v")
	require.Len(t, exec, 3)
	text := findRecords(recs, "COM_QUERY", "SELECT id, v")
	require.Len(t, text, 1)
	for _, r := range exec {
		require.True(t, r.Success)
		require.Equal(t, int64(2), r.Rows)
		require.Equal(t, text[0].ResultHash, r.ResultHash, "binary and text rows hash alike")
		require.Equal(t, text[0].ColumnsHash, r.ColumnsHash)
		require.True(t, r.FloatCols)
		require.Equal(t, name, r.Database)
		require.Equal(t, mariadb.User, r.User)
		require.NotZero(t, r.ServerConnID)
		require.NotNil(t, r.TTFBMS)
	}
	bad := findRecords(recs, "COM_QUERY", "SELECT * FROM missing_table")
	require.Len(t, bad, 1)
	require.False(t, bad[0].Success)
	require.Equal(t, uint16(1146), bad[0].ErrorCode)
	require.Equal(t, "42S02", bad[0].SQLState)
	require.Len(t, findRecords(recs, "COM_STMT_PREPARE", "SELECT id, v"), 1)
	require.Len(t, findRecords(recs, "COM_STMT_CLOSE", "SELECT id, v"), 1)
	require.NotEmpty(t, findRecords(recs, "COM_QUIT", ""))
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
