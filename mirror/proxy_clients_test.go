package mirror

import (
	"bytes"
	"context"
	"crypto/sha1"
	"database/sql"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	gmclient "github.com/go-mysql-org/go-mysql/client"
	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/internal/canon"
	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/mirror/internal/wire"
)

func newTable(t *testing.T, srv *testdb.Server, rows int) (name string, direct *sql.DB) {
	t.Helper()
	name = srv.NewDatabase(t)
	direct = srv.Open(t, name)
	_, err := direct.Exec("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(64), d DECIMAL(10,2), f DOUBLE, ts DATETIME(3), n INT NULL)")
	require.NoError(t, err)
	for i := 1; i <= rows; i++ {
		_, err = direct.Exec("INSERT INTO t VALUES (?, ?, ?, ?, '2024-01-02 03:04:05.120', IF(? % 2 = 0, NULL, ?))",
			i, fmt.Sprintf("v%d", i), float64(i)/4, float64(i)/3, i, i)
		require.NoError(t, err)
	}
	return name, direct
}

func TestProxyMultiStatementsUseSetAndLocalInfile(t *testing.T) {
	srv := rig.Server(t, 0)
	name, direct := newTable(t, srv, 3)
	other := srv.NewDatabase(t)
	_, err := direct.Exec("CREATE PROCEDURE p2() BEGIN SELECT 1 AS a; SELECT id FROM t ORDER BY id; END")
	require.NoError(t, err)
	_, err = direct.Exec("CREATE TABLE `" + other + "`.u (x INT, s VARCHAR(10))")
	require.NoError(t, err)

	pr := startProxy(t, srv.Addr(), nil)
	mysql.RegisterReaderHandler("proxytest", func() io.Reader { return strings.NewReader("1,a\n2,b\n") })
	db := openDB(t, pr.dsn(t, srv, name, func(c *mysql.Config) { c.AllowAllFiles = true }))
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	require.NoError(t, err)

	// Multi-statements with several result sets.
	rows, err := conn.QueryContext(ctx, "SELECT 1; SELECT id FROM t ORDER BY id; UPDATE t SET v = v WHERE id = 1")
	require.NoError(t, err)
	sets := 0
	for {
		for rows.Next() {
		}
		sets++
		if !rows.NextResultSet() {
			break
		}
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.GreaterOrEqual(t, sets, 2)
	// A procedure's multi-results, text and prepared.
	rows, err = conn.QueryContext(ctx, "CALL p2()")
	require.NoError(t, err)
	for rows.Next() {
	}
	require.True(t, rows.NextResultSet())
	k := 0
	for rows.Next() {
		k++
	}
	require.Equal(t, 3, k)
	require.NoError(t, rows.Close())

	// USE and SET, then queries.
	_, err = conn.ExecContext(ctx, "USE `"+other+"`")
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, "SET @x = 5, SESSION sql_mode = 'ANSI_QUOTES'")
	require.NoError(t, err)
	var x int
	require.NoError(t, conn.QueryRowContext(ctx, "SELECT @x").Scan(&x))
	require.Equal(t, 5, x)

	// LOCAL INFILE.
	res, err := conn.ExecContext(ctx, "LOAD DATA LOCAL INFILE 'Reader::proxytest' INTO TABLE u FIELDS TERMINATED BY ','")
	require.NoError(t, err)
	n, _ := res.RowsAffected()
	require.Equal(t, int64(2), n)
	require.NoError(t, conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM u").Scan(&x))
	require.Equal(t, 2, x)
	require.NoError(t, conn.Close())
	require.NoError(t, db.Close())
	pr.waitFor(t, "COM_QUIT")

	recs := pr.records(t)
	multi := findRecords(recs, "COM_QUERY", "SELECT 1; SELECT id")
	require.Len(t, multi, 1)
	require.True(t, multi[0].Success)
	require.Equal(t, int64(1+3), multi[0].Rows) // 1 + 3 rows returned, the UPDATE changes nothing
	sel := findRecords(recs, "COM_QUERY", "SELECT @x")
	require.Len(t, sel, 1)
	require.Equal(t, other, sel[0].Database, "the database after USE")
	load := findRecords(recs, "COM_QUERY", "LOAD DATA LOCAL")
	require.Len(t, load, 1)
	require.True(t, load[0].Success)
	require.Equal(t, int64(2), load[0].Rows)
}

func TestProxyBigStatementAndCompression(t *testing.T) {
	srv := rig.Server(t, 0)
	name, direct := newTable(t, srv, 1)
	_, err := direct.Exec("CREATE TABLE big (id INT PRIMARY KEY, b LONGBLOB)")
	require.NoError(t, err)

	pr := startProxy(t, srv.Addr(), nil)
	db := openDB(t, pr.dsn(t, srv, name, func(c *mysql.Config) {
		c.MaxAllowedPacket = 64 << 20
		c.Apply(mysql.EnableCompression(true))
	}))
	db.SetMaxOpenConns(1)
	blob := bytes.Repeat([]byte("0123456789abcdef"), 17<<20/16)
	// A 17 MiB text statement (two physical packets).
	_, err = db.Exec("INSERT INTO big VALUES (1, '" + string(blob) + "')")
	require.NoError(t, err)
	// And a 17 MiB row back, text and binary.
	var got []byte
	require.NoError(t, db.QueryRow("SELECT b FROM big WHERE id = 1").Scan(&got))
	require.Equal(t, blob, got)
	require.NoError(t, db.QueryRow("SELECT b FROM big WHERE id = ?", 1).Scan(&got))
	require.Equal(t, blob, got)
	// A 17 MiB prepared parameter.
	_, err = db.Exec("INSERT INTO big VALUES (?, ?)", 2, blob)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	recs := pr.records(t)
	ins := findRecords(recs, "COM_QUERY", "INSERT INTO big")
	require.Len(t, ins, 1)
	require.True(t, ins[0].Success)
	require.Equal(t, int64(len(blob)+len("INSERT INTO big VALUES (1, '')")), int64(len(ins[0].QueryText)))
	texts := findRecords(recs, "COM_QUERY", "SELECT b FROM big")
	execs := findRecords(recs, "COM_STMT_EXECUTE", "SELECT b FROM big")
	require.Len(t, texts, 1)
	require.Len(t, execs, 1)
	require.Equal(t, texts[0].ResultHash, execs[0].ResultHash)
	require.Greater(t, execs[0].BytesRecv, int64(17<<20))
}

func TestProxyClientTLSAndPrimaryTLS(t *testing.T) {
	tlsSrv, err := testdb.Start(&mariadb.Options{TLS: true})
	if err != nil {
		testdb.SkipOrFail(t, err)
	}
	t.Cleanup(func() { _ = tlsSrv.Remove() })
	name := tlsSrv.NewDatabase(t)

	ca, err := mariadb.NewCA()
	require.NoError(t, err)
	serverTLS, err := ca.ServerTLS()
	require.NoError(t, err)
	pr := startProxy(t, tlsSrv.Addr(), &Options{ClientTLS: serverTLS, PrimaryTLS: tlsSrv.ClientTLS()})
	require.NoError(t, mysql.RegisterTLSConfig("proxytest", ca.ClientTLS("127.0.0.1")))
	defer mysql.DeregisterTLSConfig("proxytest")
	db := openDB(t, pr.dsn(t, tlsSrv, name, func(c *mysql.Config) { c.TLSConfig = "proxytest" }))
	var cipher string
	// The primary leg is TLS: the server sees an encrypted session.
	require.NoError(t, db.QueryRow("SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(new(string), &cipher))
	require.NotEmpty(t, cipher)
	require.NoError(t, db.Close())

	// Verification of the primary is on: a wrong CA fails the login.
	other, err := mariadb.NewCA()
	require.NoError(t, err)
	pr2 := startProxy(t, tlsSrv.Addr(), &Options{PrimaryTLS: other.ClientTLS("127.0.0.1"), PrimaryTLSAlways: true})
	db2 := openDB(t, pr2.dsn(t, tlsSrv, name, nil))
	err = db2.Ping()
	require.Error(t, err)
	require.Contains(t, err.Error(), "TLS to the primary failed")

	// The server requires secure transport: a client without TLS is
	// refused through the proxy as directly (the primary leg follows the
	// client's choice), unless PrimaryTLSAlways.
	root, err := tlsSrv.Root()
	require.NoError(t, err)
	_, err = root.Exec("SET GLOBAL require_secure_transport = ON")
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = root.Exec("SET GLOBAL require_secure_transport = OFF") })
	plainErr := func(dsn string) *mysql.MySQLError {
		db := openDB(t, dsn)
		err := db.Ping()
		var me *mysql.MySQLError
		require.ErrorAs(t, err, &me)
		return me
	}
	direct := plainErr(tlsSrv.DSN(name))
	require.Equal(t, direct, plainErr(pr.dsn(t, tlsSrv, name, nil)))
	db = openDB(t, pr.dsn(t, tlsSrv, name, func(c *mysql.Config) { c.TLSConfig = "proxytest" }))
	require.NoError(t, db.Ping(), "a TLS client gets in")
	pr3 := startProxy(t, tlsSrv.Addr(), &Options{ClientTLS: serverTLS, PrimaryTLS: tlsSrv.ClientTLS(), PrimaryTLSAlways: true})
	db = openDB(t, pr3.dsn(t, tlsSrv, name, nil))
	require.NoError(t, db.Ping(), "PrimaryTLSAlways lets a client without TLS in")
}

func TestProxyPrimaryDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	pr := startProxy(t, addr, nil)
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = mariadb.User, mariadb.Password, "tcp", pr.Addr
	db := openDB(t, cfg.FormatDSN())
	err = db.Ping()
	require.Error(t, err)
	require.Contains(t, err.Error(), "cannot connect to the primary")
	// libmariadb shows the proxy's error as it is (a server's error code in
	// the clients' own range, 2000-2999, it would call a malformed packet).
	if bin, err := exec.LookPath("mariadb"); err == nil {
		host, port, _ := net.SplitHostPort(pr.Addr)
		out, err := exec.Command(bin, "--no-defaults", "-h", host, "-P", port, "-u", mariadb.User,
			"-p"+mariadb.Password, "--ssl=0", "-e", "SELECT 1").CombinedOutput()
		require.Error(t, err)
		require.Contains(t, string(out), "cannot connect to the primary", string(out))
	}

	// The primary dies in the middle of a session.
	srv, err := testdb.Start(nil)
	if err != nil {
		testdb.SkipOrFail(t, err)
	}
	t.Cleanup(func() { _ = srv.Remove() })
	pr2 := startProxy(t, srv.Addr(), nil)
	db2 := openDB(t, pr2.dsn(t, srv, "", nil))
	db2.SetMaxOpenConns(1)
	require.NoError(t, db2.Ping())
	srv.Kill()
	_, err = db2.Exec("SELECT 1")
	require.Error(t, err)
	recs := pr2.records(t)
	require.NotEmpty(t, recs)
}

func TestProxyGracefulShutdown(t *testing.T) {
	srv := rig.Server(t, 0)
	name := srv.NewDatabase(t)
	pr := startProxy(t, srv.Addr(), nil)
	db := openDB(t, pr.dsn(t, srv, name, nil))
	db.SetMaxOpenConns(4)
	require.NoError(t, db.Ping())
	idle, err := db.Conn(context.Background())
	require.NoError(t, err)
	require.NoError(t, idle.PingContext(context.Background()))

	var wg sync.WaitGroup
	var slept int
	var qerr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		qerr = db.QueryRow("SELECT SLEEP(1)").Scan(&slept)
	}()
	pr.waitForText(t, "SELECT SLEEP(1)", false)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, pr.Shutdown(ctx))
	wg.Wait()
	require.NoError(t, qerr, "the command in flight finishes")
	// The idle connection was closed.
	require.Error(t, idle.PingContext(context.Background()))
	_ = idle.Close()
	recs, err := decodeRecords(pr)
	require.NoError(t, err)
	require.Len(t, findRecords(recs, "COM_QUERY", "SELECT SLEEP(1)"), 1)
}

// waitForText waits until the proxy has received a command with this text
// (done: its record is written; otherwise the command is in flight).
func (pr *proxyRig) waitForText(t *testing.T, text string, done bool) {
	t.Helper()
	if done {
		require.Eventually(t, func() bool {
			recs, _ := decodeRecords(pr)
			return len(findRecords(recs, "COM_QUERY", text)) > 0
		}, 20*time.Second, 10*time.Millisecond)
		return
	}
	time.Sleep(300 * time.Millisecond) // the query reaches the server; no assertion is timed
}

func decodeRecords(pr *proxyRig) ([]dataset.QueryLog, error) {
	var out []dataset.QueryLog
	for _, m := range pr.Rec.Lines() {
		var r dataset.QueryLog
		if err := jsonUnmarshal(m.JSON, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func TestProxyGoMySQLClient(t *testing.T) {
	srv := rig.Server(t, 0)
	name, _ := newTable(t, srv, 5)
	pr := startProxy(t, srv.Addr(), nil)
	c, err := gmclient.Connect(pr.Addr, mariadb.User, mariadb.Password, name)
	require.NoError(t, err)
	res, err := c.Execute("SELECT id, v, d, f, ts, n FROM t ORDER BY id")
	require.NoError(t, err)
	require.Equal(t, 5, res.RowNumber())
	res.Close()
	res, err = c.Execute("SELECT id, v, d, f, ts, n FROM t WHERE id > ? ORDER BY id", 0)
	require.NoError(t, err)
	require.Equal(t, 5, res.RowNumber())
	res.Close()
	st, err := c.Prepare("SELECT v FROM t WHERE id = ?")
	require.NoError(t, err)
	for i := 1; i <= 3; i++ {
		r, err := st.Execute(i)
		require.NoError(t, err)
		s, _ := r.GetString(0, 0)
		require.Equal(t, fmt.Sprintf("v%d", i), s)
		r.Close()
	}
	require.NoError(t, st.Close())
	fields, err := c.FieldList("t", "")
	require.NoError(t, err)
	require.Len(t, fields, 6)
	require.NoError(t, c.Ping())
	require.NoError(t, c.UseDB(name))
	_, err = c.Execute("SELECT nope FROM t")
	require.Error(t, err)
	require.NoError(t, c.Quit())
	pr.waitFor(t, "COM_QUIT")

	recs := pr.records(t)
	text := findRecords(recs, "COM_QUERY", "SELECT id, v, d, f, ts, n FROM t ORDER BY id")
	bin := findRecords(recs, "COM_STMT_EXECUTE", "SELECT id, v, d, f, ts, n FROM t WHERE id > ?")
	require.Len(t, text, 1)
	require.Len(t, bin, 1)
	require.Equal(t, text[0].ResultHash, bin[0].ResultHash)
	require.Len(t, findRecords(recs, "COM_STMT_EXECUTE", "SELECT v FROM t WHERE id = ?"), 3)
	fl := findRecords(recs, "COM_FIELD_LIST", "")
	require.Len(t, fl, 1)
	require.True(t, fl[0].Success)
	require.Len(t, findRecords(recs, "COM_PING", ""), 1)
	require.Len(t, findRecords(recs, "COM_INIT_DB", ""), 1)
	bad := findRecords(recs, "COM_QUERY", "SELECT nope")
	require.Len(t, bad, 1)
	require.Equal(t, uint16(1054), bad[0].ErrorCode)
}

func TestProxyMariaDBClient(t *testing.T) {
	bin := testdb.RequireBinary(t, "mariadb")
	srv := rig.Server(t, 0)
	name, _ := newTable(t, srv, 2)
	pr := startProxy(t, srv.Addr(), nil)
	host, port, _ := net.SplitHostPort(pr.Addr)
	args := func(extra ...string) []string {
		return append([]string{"--no-defaults", "--comments", "-h", host, "-P", port, "-u", mariadb.User,
			"-p" + mariadb.Password, "--ssl=0"}, extra...)
	}
	// Batch mode, without auto-rehash, with compression.
	out, err := exec.Command(bin, args("--skip-auto-rehash", "--compress", name, "-e",
		"/*route='cli'*/ SELECT id, v FROM t ORDER BY id; SHOW STATUS LIKE 'Compression'")...).CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "v2")
	require.Contains(t, string(out), "Compression\tON", "the primary leg compresses too")

	// Interactive (through a pty) with auto-rehash: COM_FIELD_LIST per table.
	if script, err := exec.LookPath("script"); err == nil {
		cmdline := bin + " " + strings.Join(args("--auto-rehash", name), " ")
		cmd := exec.Command(script, "-qec", cmdline, "/dev/null")
		cmd.Stdin = strings.NewReader("SELECT 42 AS answer;\nquit\n")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		require.Contains(t, string(out), "42")
	}
	recs := pr.records(t)
	q := findRecords(recs, "COM_QUERY", "/*route='cli'*/ SELECT id, v FROM t")
	require.Len(t, q, 1)
	require.Equal(t, "cli", q[0].Route)
	require.Equal(t, int64(2), q[0].Rows)
	if _, err := exec.LookPath("script"); err == nil {
		fl := findRecords(recs, "COM_FIELD_LIST", "")
		require.NotEmpty(t, fl)
		require.Len(t, findRecords(recs, "COM_QUERY", "SELECT 42"), 1)
	}
}

// rawLogin logs in through addr with mysql_native_password, as a minimal
// client built on the wire package.
func rawLogin(t *testing.T, addr, db string, caps uint32) (*wire.Conn, uint32) {
	t.Helper()
	c, caps, _ := rawLoginScramble(t, addr, db, caps, 0)
	return c, caps
}

// rawLoginScramble is rawLogin returning the greeting's scramble too.
// mariadbCaps, when not 0, are MariaDB extended capabilities asked for as a
// MariaDB client asks (CLIENT_MYSQL cleared); the greeting must offer them.
func rawLoginScramble(t *testing.T, addr, db string, caps, mariadbCaps uint32) (*wire.Conn, uint32, []byte) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = nc.Close() })
	c := wire.NewConn(nc)
	_, gp, err := c.ReadPacket(nil)
	require.NoError(t, err)
	g, err := wire.ParseGreeting(gp)
	require.NoError(t, err)
	caps &= g.Capabilities
	if mariadbCaps != 0 {
		require.Equal(t, mariadbCaps, g.MariaDBCapabilities&mariadbCaps, "offered")
		caps &^= wire.ClientLongPassword
	}
	caps |= wire.ClientConnectWithDB
	resp := &wire.HandshakeResponse{Capabilities: caps, MariaDBCapabilities: mariadbCaps, MaxPacket: 1 << 24, Charset: 45, User: mariadb.User,
		AuthData: nativeScramble(g.AuthData[:20], mariadb.Password), Database: db, AuthPlugin: "mysql_native_password"}
	_, err = c.WritePacket(1, resp.Append(nil))
	require.NoError(t, err)
	require.NoError(t, c.Flush())
	_, p, err := c.ReadPacket(nil)
	require.NoError(t, err)
	require.Equal(t, wire.HeaderOK, p[0], "login: %q", p)
	return c, caps, g.AuthData[:20]
}

func nativeScramble(scramble []byte, password string) []byte {
	h1 := sha1.Sum([]byte(password))
	h2 := sha1.Sum(h1[:])
	h := sha1.New()
	h.Write(scramble)
	h.Write(h2[:])
	h3 := h.Sum(nil)
	for i := range h3 {
		h3[i] ^= h1[i]
	}
	return h3
}

func rawCommand(t *testing.T, c *wire.Conn, caps uint32, payload []byte, cols []wire.Column) *wire.Result {
	t.Helper()
	_, err := c.WritePacket(0, payload)
	require.NoError(t, err)
	require.NoError(t, c.Flush())
	res := &wire.Result{}
	req := wire.Request{Cmd: payload[0], Caps: caps, Columns: cols, CursorAsked: wire.ExecuteAsksCursor(payload)}
	require.NoError(t, c.ReadResponse(req, nil, res))
	return res
}

func TestProxyCursors(t *testing.T) {
	srv := rig.Server(t, 0)
	name, _ := newTable(t, srv, 7)
	pr := startProxy(t, srv.Addr(), nil)
	for _, caps := range []uint32{wire.Supported, wire.Supported &^ wire.ClientDeprecateEOF} {
		var hashes []string
		for _, addr := range []string{pr.Addr, srv.Addr()} {
			c, caps := rawLogin(t, addr, name, caps)
			prep := rawCommand(t, c, caps, append([]byte{wire.ComStmtPrepare}, "SELECT id, v, d, ts, n FROM t ORDER BY id"...), nil)
			require.True(t, prep.Success, "%v", prep.Err)
			exe := []byte{wire.ComStmtExecute, 0, 0, 0, 0, 1, 1, 0, 0, 0} // CURSOR_TYPE_READ_ONLY
			binary.LittleEndian.PutUint32(exe[1:], prep.StmtID)
			res := rawCommand(t, c, caps, exe, nil)
			require.True(t, res.Success, "%v", res.Err)
			require.True(t, res.Cursor)
			cols := append([]wire.Column(nil), res.Columns...)
			var sum canon.RowSum
			for {
				fetch := []byte{wire.ComStmtFetch, 0, 0, 0, 0, 3, 0, 0, 0}
				binary.LittleEndian.PutUint32(fetch[1:], prep.StmtID)
				r := rawCommand(t, c, caps, fetch, cols)
				require.True(t, r.Success, "%v", r.Err)
				sum.Merge(r.Sum)
				if r.Status&wire.StatusLastRowSent != 0 {
					break
				}
			}
			require.Equal(t, int64(7), sum.Rows)
			hashes = append(hashes, sum.String())
			closeStmt := []byte{wire.ComStmtClose, 0, 0, 0, 0}
			binary.LittleEndian.PutUint32(closeStmt[1:], prep.StmtID)
			_, err := c.WritePacket(0, closeStmt)
			require.NoError(t, err)
			// A text query after, to check the framing held.
			r := rawCommand(t, c, caps, append([]byte{wire.ComQuery}, "SELECT COUNT(*) FROM t"...), nil)
			require.True(t, r.Success)
			require.Equal(t, int64(1), r.RowsReturned)
		}
		require.Equal(t, hashes[0], hashes[1], "through the proxy as directly")
	}
	recs := pr.records(t)
	fetches := 0
	for _, r := range recs {
		if r.Command == "COM_STMT_FETCH" {
			fetches++
			require.True(t, r.Success)
			require.Equal(t, "SELECT id, v, d, ts, n FROM t ORDER BY id", r.QueryText)
		}
	}
	require.Equal(t, 2*3, fetches)
}

func TestProxyOtherCommands(t *testing.T) {
	srv := rig.Server(t, 0)
	name, _ := newTable(t, srv, 3)
	other := srv.NewDatabase(t)
	pr := startProxy(t, srv.Addr(), nil)
	caps := wire.Supported &^ wire.ClientConnectAttrs
	c, caps, scramble := rawLoginScramble(t, pr.Addr, name, caps, 0)

	// COM_STATISTICS answers a bare string.
	st := rawCommand(t, c, caps, []byte{wire.ComStatistics}, nil)
	require.True(t, st.Success)
	require.Contains(t, string(st.Payload), "Uptime")
	// COM_SET_OPTION (multi-statements off, then on) answers EOF.
	require.True(t, rawCommand(t, c, caps, []byte{wire.ComSetOption, 1, 0}, nil).Success)
	require.True(t, rawCommand(t, c, caps, []byte{wire.ComSetOption, 0, 0}, nil).Success)
	// A prepared statement with long data, reset, executed.
	prep := rawCommand(t, c, caps, append([]byte{wire.ComStmtPrepare}, "SELECT COUNT(*) FROM t WHERE v <> ?"...), nil)
	require.True(t, prep.Success)
	id := binary.LittleEndian.AppendUint32(nil, prep.StmtID)
	long := append(append([]byte{wire.ComStmtSendLongData}, id...), 0, 0)
	long = append(long, "zzz"...)
	_, err := c.WritePacket(0, long)
	require.NoError(t, err)
	exe := append(append([]byte{wire.ComStmtExecute}, id...), 0, 1, 0, 0, 0, 0, 1, byte(wire.TypeVarString), 0)
	r := rawCommand(t, c, caps, exe, nil)
	require.True(t, r.Success, "%v", r.Err)
	require.Equal(t, int64(1), r.RowsReturned)
	require.True(t, rawCommand(t, c, caps, append([]byte{wire.ComStmtReset}, id...), nil).Success)
	// COM_RESET_CONNECTION.
	require.True(t, rawCommand(t, c, caps, []byte{wire.ComResetConnection}, nil).Success)
	// COM_CHANGE_USER to another database, with an auth switch if asked.
	cu := append([]byte{wire.ComChangeUser}, mariadb.User...)
	cu = append(cu, 0, 20)
	cu = append(cu, nativeScramble(scramble, mariadb.Password)...)
	cu = append(cu, other...)
	cu = append(cu, 0, 45, 0)
	cu = append(cu, "mysql_native_password"...)
	cu = append(cu, 0)
	_, err = c.WritePacket(0, cu)
	require.NoError(t, err)
	require.NoError(t, c.Flush())
	seq, p, err := c.ReadPacket(nil)
	require.NoError(t, err)
	if p[0] == wire.HeaderEOF { // auth switch: answer with the new scramble
		parts := bytes.SplitN(p[1:], []byte{0}, 2)
		salt := bytes.TrimRight(parts[1], "\x00")
		_, err = c.WritePacket(seq+1, nativeScramble(salt[:20], mariadb.Password))
		require.NoError(t, err)
		require.NoError(t, c.Flush())
		_, p, err = c.ReadPacket(nil)
		require.NoError(t, err)
	}
	require.Equal(t, wire.HeaderOK, p[0], "%q", p)
	q := rawCommand(t, c, caps, append([]byte{wire.ComQuery}, "SELECT DATABASE()"...), nil)
	require.True(t, q.Success)
	// A refused replication command gets an ERR, and the session goes on.
	dump := rawCommand(t, c, caps, []byte{wire.ComBinlogDump, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0}, nil)
	require.False(t, dump.Success)
	require.True(t, rawCommand(t, c, caps, []byte{wire.ComPing}, nil).Success)
	_, err = c.WritePacket(0, []byte{wire.ComQuit})
	require.NoError(t, err)
	require.NoError(t, c.Flush())
	pr.waitFor(t, "COM_QUIT")

	recs := pr.records(t)
	byCmd := map[string][]dataset.QueryLog{}
	for _, r := range recs {
		byCmd[r.Command] = append(byCmd[r.Command], r)
	}
	for _, cmd := range []string{"COM_STATISTICS", "COM_SET_OPTION", "COM_STMT_PREPARE", "COM_STMT_SEND_LONG_DATA",
		"COM_STMT_EXECUTE", "COM_STMT_RESET", "COM_RESET_CONNECTION", "COM_CHANGE_USER", "COM_QUERY", "COM_PING", "COM_QUIT"} {
		require.NotEmpty(t, byCmd[cmd], cmd)
		for _, r := range byCmd[cmd] {
			require.True(t, r.Success, cmd)
		}
	}
	require.Equal(t, "SELECT COUNT(*) FROM t WHERE v <> ?", byCmd["COM_STMT_SEND_LONG_DATA"][0].QueryText)
	require.Equal(t, other, byCmd["COM_QUERY"][0].Database, "the database after COM_CHANGE_USER")
	require.False(t, byCmd["COM_BINLOG_DUMP"][0].Success)
	require.Equal(t, uint16(errCodeUnknown), byCmd["COM_BINLOG_DUMP"][0].ErrorCode)
}

// rawResponse sends payload and reads its response, with every packet as
// it came (headers included), failing the test instead of hanging.
func rawResponse(t *testing.T, c *wire.Conn, caps uint32, payload []byte) (*wire.Result, [][]byte) {
	t.Helper()
	require.NoError(t, c.NetConn().SetDeadline(time.Now().Add(10*time.Second)))
	defer func() { _ = c.NetConn().SetDeadline(time.Time{}) }()
	_, err := c.WritePacket(0, payload)
	require.NoError(t, err)
	require.NoError(t, c.Flush())
	var raw [][]byte
	res := &wire.Result{}
	req := wire.Request{Cmd: payload[0], Caps: caps, CursorAsked: wire.ExecuteAsksCursor(payload)}
	require.NoError(t, c.ReadResponse(req, func(p []byte) error {
		raw = append(raw, append([]byte(nil), p...))
		return nil
	}, res))
	return res, raw
}

// TestProxyExecuteCursorStatus: MariaDB sets the cursor-exists status on the
// result set of a CALL whose procedure opened a cursor, whether or not the
// execute asked for one; the statement's rows and final OK still follow.
// And an execute that asks for a cursor may fail after its column
// definitions (ERR in place of the EOF). The proxy relays both as the server
// sent them, in both EOF styles.
func TestProxyExecuteCursorStatus(t *testing.T) {
	srv := rig.Server(t, 0)
	name, direct := newTable(t, srv, 3)
	_, err := direct.Exec("CREATE PROCEDURE pc() BEGIN DECLARE x INT; DECLARE c CURSOR FOR SELECT id FROM t; " +
		"OPEN c; FETCH c INTO x; CLOSE c; SELECT id FROM t WHERE id < 0; SELECT id FROM t ORDER BY id; END")
	require.NoError(t, err)
	pr := startProxy(t, srv.Addr(), nil)
	for _, caps := range []uint32{wire.Supported, wire.Supported &^ wire.ClientDeprecateEOF} {
		for _, flags := range []byte{0, 1} { // no cursor, CURSOR_TYPE_READ_ONLY
			var got [2][][]byte
			for i, addr := range []string{srv.Addr(), pr.Addr} {
				c, caps := rawLogin(t, addr, name, caps)
				for _, q := range []string{"CALL pc()", "SELECT CAST(9e18 AS UNSIGNED) * 10"} {
					prep := rawCommand(t, c, caps, append([]byte{wire.ComStmtPrepare}, q...), nil)
					require.True(t, prep.Success, "%v", prep.Err)
					exe := []byte{wire.ComStmtExecute, 0, 0, 0, 0, flags, 1, 0, 0, 0}
					binary.LittleEndian.PutUint32(exe[1:], prep.StmtID)
					res, raw := rawResponse(t, c, caps, exe)
					got[i] = append(got[i], raw...)
					if q == "CALL pc()" {
						require.True(t, res.Success, "%v", res.Err)
						require.False(t, res.Cursor)
						require.Equal(t, 2, res.ResultSets)
						require.Equal(t, int64(3), res.RowsReturned)
					} else {
						require.False(t, res.Success)
						require.Equal(t, uint16(1690), res.Err.Code) // ER_DATA_OUT_OF_RANGE
					}
				}
				// The session goes on.
				r, _ := rawResponse(t, c, caps, append([]byte{wire.ComQuery}, "SELECT COUNT(*) FROM t"...))
				require.True(t, r.Success)
				require.Equal(t, int64(1), r.RowsReturned)
			}
			require.Equal(t, got[0], got[1], "through the proxy as directly (deprecate EOF %v, flags %d)",
				caps&wire.ClientDeprecateEOF != 0, flags)
		}
	}
}
