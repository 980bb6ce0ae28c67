package mirror

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	gmclient "github.com/go-mysql-org/go-mysql/client"
	gmmysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/internal/mariadb"
)

// countingConn counts the bytes a client reads from its socket.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// compressionRig makes the table the compression tests read, 2,000 rows of
// 180 compressible bytes, on both servers, and a proxy mirroring to the
// second.
func compressionRig(t *testing.T) (name string, mr *mirrorRig) {
	t.Helper()
	name = twinName(t)
	twinDatabase(t, name, func(db *sql.DB, _ int) {
		mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(200))",
			"INSERT INTO t SELECT seq, REPEAT('abc', 60) FROM seq_1_to_2000")
	})
	return name, startMirror(t, rig.Server(t, 1).Addr(), nil)
}

// requireSameRowsMirrored checks that the table was read twice (once
// uncompressed, once compressed) in text and prepared, with the same result
// hash, and that the shadow ran each statement as decompressed and answered
// the same rows.
func requireSameRowsMirrored(t *testing.T, mr *mirrorRig) {
	t.Helper()
	primary, shadow := mr.all(t)
	for _, cmd := range []string{"COM_QUERY", "COM_STMT_EXECUTE"} {
		ps, ss := pairs(primary, shadow, cmd, "SELECT id, v FROM t")
		require.Len(t, ps, 2, cmd)
		require.Equal(t, ps[0].ResultHash, ps[1].ResultHash, "%s: the same rows compressed or not", cmd)
		for i := range ps {
			require.Equal(t, dataset.TargetShadow, ss[i].Target)
			require.True(t, ss[i].Success, "%+v", ss[i])
			require.Equal(t, ps[i].ResultHash, ss[i].ResultHash, "the shadow ran the decompressed statement")
		}
	}
}

// TestProxyCompression: a client asking for zlib compression gets
// compressed traffic from the proxy, the primary leg compresses too, and the
// log, the hashes and the shadow see the decompressed statements and rows.
func TestProxyCompression(t *testing.T) {
	name, mr := compressionRig(t)
	var read atomic.Int64
	mysql.RegisterDialContext("counting", func(ctx context.Context, addr string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: nc, n: &read}, nil
	})
	mysql.RegisterReaderHandler("compresstest", func() io.Reader { return strings.NewReader("1,a\n2,b\n") })
	run := func(compress bool) (bytesRead int64, status string) {
		db := openDB(t, mr.dsn(t, rig.Server(t, 0), name, func(c *mysql.Config) {
			c.Net = "counting"
			c.AllowAllFiles = true
			c.Apply(mysql.EnableCompression(compress))
		}))
		db.SetMaxOpenConns(1)
		require.NoError(t, db.QueryRow("SHOW SESSION STATUS LIKE 'Compression'").Scan(new(string), &status))
		read.Store(0)
		var n, sum int
		for _, args := range [][]any{nil, {0}} { // text, then prepared
			q := "SELECT id, v FROM t ORDER BY id"
			if args != nil {
				q = "SELECT id, v FROM t WHERE id > ? ORDER BY id"
			}
			rows, err := db.Query(q, args...)
			require.NoError(t, err)
			for rows.Next() {
				var id int
				var v string
				require.NoError(t, rows.Scan(&id, &v))
				n++
				sum += id + len(v)
			}
			require.NoError(t, rows.Err())
		}
		bytesRead = read.Load()
		require.Equal(t, 4000, n)
		require.Equal(t, 2*(2000*2001/2+2000*180), sum)
		// LOCAL INFILE: the client sends the file in the middle of a command.
		_, err := db.Exec("CREATE TEMPORARY TABLE u (x INT, s VARCHAR(10))")
		require.NoError(t, err)
		res, err := db.Exec("LOAD DATA LOCAL INFILE 'Reader::compresstest' INTO TABLE u FIELDS TERMINATED BY ','")
		require.NoError(t, err)
		affected, _ := res.RowsAffected()
		require.Equal(t, int64(2), affected)
		require.NoError(t, db.Close())
		return bytesRead, status
	}
	plain, plainStatus := run(false)
	compressed, compressedStatus := run(true)
	require.Equal(t, "OFF", plainStatus)
	require.Equal(t, "ON", compressedStatus, "the primary leg compresses")
	require.Less(t, compressed*5, plain, "the client leg compresses: %d bytes against %d", compressed, plain)

	requireSameRowsMirrored(t, mr)
}

// recordingConn keeps every byte read from its socket.
type recordingConn struct {
	net.Conn
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (c recordingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	c.buf.Write(b[:n])
	c.mu.Unlock()
	return n, err
}

// recorder returns a dialer whose connections record what they read, and
// a function returning it.
func recorder() (dial func(ctx context.Context, network, addr string) (net.Conn, error), read func() []byte) {
	var mu sync.Mutex
	var buf bytes.Buffer
	dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return recordingConn{Conn: nc, mu: &mu, buf: &buf}, nil
	}
	read = func() []byte {
		mu.Lock()
		defer mu.Unlock()
		return bytes.Clone(buf.Bytes())
	}
	return dial, read
}

// zstdMagic starts every zstd frame.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// TestProxyZstdCompression: a client asking for zstd (go-mysql's client, as
// MySQL 8.0.18+ clients do) gets zstd frames from the proxy, text and
// prepared; MariaDB, which offers zlib only, gets a zlib leg; and with a
// second proxy as the primary (which offers zstd), the first proxy's primary
// leg speaks zstd too. The log and the shadow see the statements as sent.
func TestProxyZstdCompression(t *testing.T) {
	name, mr := compressionRig(t)
	// inner: a pass-through proxy to the same primary, offering zstd to
	// outer, which dials it recording what it reads.
	inner := startProxy(t, rig.Server(t, 0).Addr(), nil)
	outerDial, outerRead := recorder()
	outer := startProxy(t, inner.Addr, &Options{Dial: outerDial})

	run := func(addr string, compression uint32) (read []byte, status string) {
		dial, clientRead := recorder()
		c, err := gmclient.ConnectWithDialer(context.Background(), "tcp", addr, mariadb.User, mariadb.Password, name, dial,
			func(c *gmclient.Conn) error {
				c.UnsetCapability(gmmysql.CLIENT_COMPRESS)
				c.UnsetCapability(gmmysql.CLIENT_ZSTD_COMPRESSION_ALGORITHM)
				if compression != 0 {
					return c.SetCapability(compression)
				}
				return nil
			})
		require.NoError(t, err)
		defer c.Close()
		res, err := c.Execute("SHOW SESSION STATUS LIKE 'Compression'")
		require.NoError(t, err)
		status, _ = res.GetString(0, 1)
		n, sum := 0, 0
		for _, args := range [][]any{nil, {0}} { // text, then prepared
			q := "SELECT id, v FROM t ORDER BY id"
			if args != nil {
				q = "SELECT id, v FROM t WHERE id > ? ORDER BY id"
			}
			res, err := c.Execute(q, args...)
			require.NoError(t, err)
			for i := range res.RowNumber() {
				id, _ := res.GetInt(i, 0)
				v, _ := res.GetString(i, 1)
				n++
				sum += int(id) + len(v)
			}
		}
		require.Equal(t, 4000, n)
		require.Equal(t, 2*(2000*2001/2+2000*180), sum)
		return clientRead(), status
	}
	plain, plainStatus := run(mr.Addr, 0)
	zstd, zstdStatus := run(mr.Addr, gmmysql.CLIENT_ZSTD_COMPRESSION_ALGORITHM)
	require.Equal(t, "OFF", plainStatus)
	require.Equal(t, "ON", zstdStatus, "a zstd client gets a zlib leg to MariaDB")
	require.False(t, bytes.Contains(plain, zstdMagic), "no zstd frame when the client does not ask")
	require.True(t, bytes.Contains(zstd, zstdMagic), "the client leg speaks zstd")
	require.Less(t, len(zstd)*5, len(plain), "the client leg compresses: %d bytes against %d", len(zstd), len(plain))

	requireSameRowsMirrored(t, mr)

	// Through two proxies: outer's primary leg is zstd (inner offers it),
	// inner's is zlib (MariaDB offers only that).
	chained, chainedStatus := run(outer.Addr, gmmysql.CLIENT_ZSTD_COMPRESSION_ALGORITHM)
	require.Equal(t, "ON", chainedStatus)
	require.True(t, bytes.Contains(chained, zstdMagic), "the client leg to outer speaks zstd")
	require.True(t, bytes.Contains(outerRead(), zstdMagic), "outer's primary leg speaks zstd")
	require.Less(t, len(outerRead())*5, len(plain))
	recs := outer.records(t)
	require.Len(t, findRecords(recs, "COM_STMT_EXECUTE", "SELECT id, v FROM t WHERE id > ?"), 1)
}
