package mirror

import (
	"context"
	"database/sql"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
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

// TestProxyCompression: a client asking for zlib compression gets
// compressed traffic from the proxy, the primary leg compresses too, and the
// log, the hashes and the shadow see the decompressed statements and rows.
func TestProxyCompression(t *testing.T) {
	name := twinName(t)
	twinDatabase(t, name, func(db *sql.DB, _ int) {
		mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(200))",
			"INSERT INTO t SELECT seq, REPEAT('abc', 60) FROM seq_1_to_2000")
	})
	mr := startMirror(t, rig.Server(t, 1).Addr(), nil)
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
