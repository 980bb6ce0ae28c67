package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/examples/internal/cli"
	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/replay/replica"
)

// TestReplicaAndLoad builds a replica from a statements file with the
// replica subcommand and loads it into the same server with load.
func TestReplicaAndLoad(t *testing.T) {
	if err := mariadb.Available(); err != nil {
		testdb.SkipOrFail(t, err)
	}
	srv, err := testdb.Start(nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Remove() })
	shop := srv.NewDatabase(t)
	src := srv.Open(t, shop)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, s := range []string{
		"CREATE TABLE accounts (id INT PRIMARY KEY, holder VARCHAR(60) NOT NULL, opened DATE NOT NULL)",
		"CREATE TABLE transfers (id INT PRIMARY KEY, account_id INT NOT NULL, amount DECIMAL(9,2) NOT NULL)",
	} {
		_, err := src.ExecContext(ctx, s)
		require.NoError(t, err)
	}
	dir := t.TempDir()
	stmtFile := filepath.Join(dir, "statements.txt")
	require.NoError(t, os.WriteFile(stmtFile, []byte(
		"SELECT holder FROM accounts WHERE holder = 'Ottoline Brightwater';\n"+
			`{"sql": "SELECT a.holder FROM accounts a JOIN transfers t ON t.account_id = a.id WHERE t.amount BETWEEN 150.25 AND 999.75", "database": "`+shop+`"}`+"\n"+
			"DELETE FROM transfers\n"), 0o600))
	keyFile := filepath.Join(dir, "key")
	require.NoError(t, os.WriteFile(keyFile, []byte("s3cret\n"), 0o600))
	out := filepath.Join(dir, "replica")
	t.Setenv("SQLSHADOW_PASSWORD", mariadb.RootPassword)

	var stdout, stderr bytes.Buffer
	code := replicaCmd([]string{"-statements", stmtFile, "-schema-from", srv.Addr(), "-user", mariadb.RootUser,
		"-database", shop, "-key-file", keyFile, "-out", out}, &stdout, &stderr)
	require.Equal(t, cli.ExitOK, code, stderr.String())
	require.Contains(t, stdout.String(), "2 statements of 3")
	require.NoFileExists(t, filepath.Join(out, replica.MappingFile))

	stdout.Reset()
	code = loadCmd([]string{"-replica", out, "-target", srv.Addr(), "-user", mariadb.RootUser}, &stdout, &stderr)
	require.Equal(t, cli.ExitOK, code, stderr.String())
	require.Contains(t, stdout.String(), "2 statements to replay")

	stmts, err := replica.ReadStatements(out)
	require.NoError(t, err)
	root, err := srv.Root()
	require.NoError(t, err)
	for _, s := range stmts {
		require.NotContains(t, strings.ToLower(s.SQL), "holder")
		conn, err := root.Conn(ctx)
		require.NoError(t, err)
		_, err = conn.ExecContext(ctx, "USE `"+s.Database+"`")
		require.NoError(t, err)
		var v string
		require.NoError(t, conn.QueryRowContext(ctx, s.SQL).Scan(&v), s.SQL)
		require.NoError(t, conn.Close())
	}

	// Usage errors exit 2.
	require.Equal(t, cli.ExitError, replicaCmd([]string{"-out", out}, &stdout, &stderr))
	require.Equal(t, cli.ExitError, loadCmd(nil, &stdout, &stderr))
}
