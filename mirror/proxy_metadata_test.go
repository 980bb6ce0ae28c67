package mirror

import (
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
	recs := pr.records(t)
	q := findRecords(recs, "COM_QUERY", "SELECT id, doc, p FROM j")
	require.NotEmpty(t, q)
	for _, r := range q {
		require.True(t, r.Success)
		require.NotEmpty(t, r.ResultHash)
	}
}
