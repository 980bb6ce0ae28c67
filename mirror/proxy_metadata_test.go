package mirror

import (
	"bytes"
	"encoding/binary"
	"net"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/mirror/internal/wire"
)

// TestProxyExtendedMetadata: MariaDB's extended column metadata (a JSON
// column's format) reaches the client through the proxy as directly, with
// the mariadb client (which negotiates it) and with a client that does not.
func TestProxyExtendedMetadata(t *testing.T) {
	bin := testdb.RequireBinary(t, "mariadb")
	srv := rig.Server(t, 0)
	name := srv.NewDatabase(t)
	_, err := srv.Open(t, name).Exec("CREATE TABLE j (id INT PRIMARY KEY, doc JSON, p POINT)")
	require.NoError(t, err)
	_, err = srv.Open(t, name).Exec(`INSERT INTO j VALUES (1, '{"a": 1}', POINT(1, 2))`)
	require.NoError(t, err)
	pr := startProxy(t, srv.Addr(), nil)
	run := func(addr string) string {
		host, port, _ := net.SplitHostPort(addr)
		out, err := exec.Command(bin, "--no-defaults", "--comments", "-h", host, "-P", port, "-u", mariadb.User,
			"-p"+mariadb.Password, "--ssl=0", "--column-type-info", "-t", name,
			"-e", "SELECT id, doc, p FROM j; PREPARE s FROM 'SELECT doc FROM j'; EXECUTE s").CombinedOutput()
		require.NoError(t, err, string(out))
		return string(out)
	}
	direct := run(srv.Addr())
	require.Contains(t, direct, "format=json", "the client shows the extended metadata")
	require.Equal(t, direct, run(pr.Addr))

	// A client without extended metadata (nor the MariaDB capabilities)
	// reads plain column definitions through the proxy, as directly.
	for _, addr := range []string{srv.Addr(), pr.Addr} {
		c, caps := rawLogin(t, addr, name, wire.Supported)
		r := rawCommand(t, c, caps, []byte("\x03SELECT id, doc, p FROM j"), nil)
		require.True(t, r.Success)
		require.Equal(t, int64(1), r.RowsReturned)
	}
	// A client negotiating extended metadata with prepared statements:
	// parameter and column definitions carry it too.
	var got [2][][]byte
	for i, addr := range []string{srv.Addr(), pr.Addr} {
		c, caps := rawLoginExtended(t, addr, name)
		prep, raw := rawExtended(t, c, caps, append([]byte{wire.ComStmtPrepare}, "SELECT doc, ? FROM j WHERE id = ?"...))
		require.True(t, prep.Success)
		clear(raw[0][wire.HeaderSize+1 : wire.HeaderSize+5]) // the statement id differs between sessions
		got[i] = append(got[i], raw...)
		exe := []byte{wire.ComStmtExecute, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 0, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0}
		binary.LittleEndian.PutUint32(exe[1:], prep.StmtID)
		res, raw := rawExtended(t, c, caps, exe)
		require.True(t, res.Success)
		require.Equal(t, int64(1), res.RowsReturned)
		got[i] = append(got[i], raw...)
	}
	require.Equal(t, got[0], got[1])
	require.Contains(t, string(bytes.Join(got[1], nil)), "json")

	recs := pr.records(t)
	q := findRecords(recs, "COM_QUERY", "SELECT id, doc, p FROM j")
	require.NotEmpty(t, q)
	for _, r := range q {
		require.True(t, r.Success)
		require.NotEmpty(t, r.ResultHash)
	}
}

// rawExtended sends payload on a connection that negotiated extended
// metadata and reads its response, with every packet as it came.
func rawExtended(t *testing.T, c *wire.Conn, caps uint32, payload []byte) (*wire.Result, [][]byte) {
	t.Helper()
	_, err := c.WritePacket(0, payload)
	require.NoError(t, err)
	require.NoError(t, c.Flush())
	var raw [][]byte
	res := &wire.Result{}
	req := wire.Request{Cmd: payload[0], Caps: caps, ExtendedMetadata: true}
	require.NoError(t, c.ReadResponse(req, func(p []byte) error {
		raw = append(raw, append([]byte(nil), p...))
		return nil
	}, res))
	return res, raw
}

// rawLoginExtended logs in through addr as a MariaDB client asking for
// extended metadata (CLIENT_MYSQL cleared, MariaDB capabilities sent).
func rawLoginExtended(t *testing.T, addr, db string) (*wire.Conn, uint32) {
	t.Helper()
	c, caps, _ := rawLoginScramble(t, addr, db, wire.Supported, wire.MariaDBClientExtendedMetadata)
	return c, caps
}
