package testdb_test

import (
	"context"
	"database/sql"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
)

var (
	rig    = testdb.NewRig(2, nil)
	tlsRig = testdb.NewRig(1, &mariadb.Options{TLS: true})
)

func TestMain(m *testing.M) {
	code := rig.Run(m)
	tlsRig.Close()
	os.Exit(code)
}

func TestTwoServersAreSeparate(t *testing.T) {
	a, b := rig.Server(t, 0), rig.Server(t, 1)
	require.NotEqual(t, a.Addr(), b.Addr())
	require.True(t, strings.HasPrefix(a.Addr(), "127.0.0.1:"))

	dbA := a.Open(t, a.NewDatabase(t))
	_, err := dbA.Exec("CREATE TABLE x (id INT PRIMARY KEY)")
	require.NoError(t, err)

	name := b.NewDatabase(t)
	dbB := b.Open(t, name)
	var n int
	require.NoError(t, dbB.QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ?", name).Scan(&n))
	require.Zero(t, n, "a table made on server 0 must not appear on server 1")
}

func TestServerOptions(t *testing.T) {
	s := rig.Server(t, 0)
	db := s.Open(t, "")
	var name string
	var packet int64
	require.NoError(t, db.QueryRow("SHOW VARIABLES LIKE 'max_allowed_packet'").Scan(&name, &packet))
	require.Equal(t, int64(64<<20), packet)
	var ps string
	require.NoError(t, db.QueryRow("SHOW VARIABLES LIKE 'performance_schema'").Scan(&name, &ps))
	require.Equal(t, "ON", ps)
	var bind string
	require.NoError(t, db.QueryRow("SHOW VARIABLES LIKE 'bind_address'").Scan(&name, &bind))
	require.Equal(t, "127.0.0.1", bind, "nothing may listen beyond loopback")
}

func TestWrongPasswordIsRefused(t *testing.T) {
	s := rig.Server(t, 0)
	cfg, err := mysql.ParseDSN(s.DSN(""))
	require.NoError(t, err)
	cfg.Passwd = "wrong"
	db, err := sql.Open("mysql", cfg.FormatDSN())
	require.NoError(t, err)
	defer db.Close()
	err = db.Ping()
	var me *mysql.MySQLError
	require.ErrorAs(t, err, &me)
	require.Equal(t, uint16(1045), me.Number)
}

func TestTLSConnectionIsVerified(t *testing.T) {
	s := tlsRig.Server(t, 0)
	require.NotEmpty(t, s.CA)

	cfg, err := mysql.ParseDSN(s.DSN(""))
	require.NoError(t, err)
	cfg.TLS = s.ClientTLS()
	connector, err := mysql.NewConnector(cfg)
	require.NoError(t, err)
	db := sql.OpenDB(connector)
	defer db.Close()
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	var name, cipher string
	require.NoError(t, conn.QueryRowContext(context.Background(), "SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher))
	require.NotEmpty(t, cipher, "the session must be encrypted")

	// A client that trusts another CA must refuse the server.
	other, err := mariadb.NewCA()
	require.NoError(t, err)
	cfg.TLS = other.ClientTLS("127.0.0.1")
	connector, err = mysql.NewConnector(cfg)
	require.NoError(t, err)
	bad := sql.OpenDB(connector)
	defer bad.Close()
	err = bad.Ping()
	require.Error(t, err)
	require.Contains(t, err.Error(), "certificate")
}

func TestKillAndRestartKeepsData(t *testing.T) {
	s, err := testdb.Start(nil)
	if err != nil {
		testdb.SkipOrFail(t, err)
	}
	defer s.Remove()
	name := s.NewDatabase(t)
	db := s.Open(t, name)
	_, err = db.Exec("CREATE TABLE k (id INT PRIMARY KEY); INSERT INTO k VALUES (7)")
	require.NoError(t, err)

	s.Kill()
	require.False(t, s.Running())
	c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err == nil {
		c.Close()
		t.Fatal("port still accepting after kill")
	}
	require.NoError(t, s.Restart())
	db.SetMaxIdleConns(0)
	var id int
	require.NoError(t, db.QueryRow("SELECT id FROM k").Scan(&id))
	require.Equal(t, 7, id)
}
