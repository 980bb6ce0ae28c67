package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
)

// TestMirrorsToShadow runs the binary between a real MariaDB primary and a
// real MariaDB shadow whose data differs, with the shadow password from the
// environment, and finds both sides of the statement in the logs after a
// graceful shutdown.
func TestMirrorsToShadow(t *testing.T) {
	var servers [2]*testdb.Server
	for i := range servers {
		srv, err := testdb.Start(nil)
		if err != nil {
			testdb.SkipOrFail(t, err)
		}
		t.Cleanup(func() { _ = srv.Remove() })
		servers[i] = srv
	}
	primary, shadow := servers[0], servers[1]
	for i, srv := range servers {
		root, err := sql.Open("mysql", srv.RootDSN(""))
		require.NoError(t, err)
		_, err = root.Exec(fmt.Sprintf("CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v INT); INSERT INTO app.t VALUES (1, 10), (2, %d)", 20+i))
		require.NoError(t, err)
		require.NoError(t, root.Close())
	}

	dir := t.TempDir()
	t.Setenv("SQLSHADOW_SHADOW_PASSWORD", mariadb.Password)
	addr, stop := startProgram(t, "-listen", "127.0.0.1:0", "-metrics-listen", "", "-primary", primary.Addr(),
		"-shadow", shadow.Addr(), "-shadow-user", mariadb.User, "-bucket-url", "file://"+dir)
	cfg, err := mysql.ParseDSN(primary.DSN("app"))
	require.NoError(t, err)
	cfg.Addr = addr
	db, err := sql.Open("mysql", cfg.FormatDSN())
	require.NoError(t, err)
	var sum int
	require.NoError(t, db.QueryRow("SELECT /*route='sum'*/ SUM(v) FROM t").Scan(&sum))
	require.Equal(t, 30, sum, "the client gets the primary's answer")
	require.NoError(t, db.Close())

	// As SIGTERM does: drain the shadow, flush the logs.
	require.Equal(t, 0, stop(), "graceful exit")
	byTarget := map[string]map[string]any{}
	require.NoError(t, filepath.WalkDir(filepath.Join(dir, "query-logs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var r map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &r))
			if r["route"] == "sum" {
				byTarget[r["target"].(string)] = r
			}
		}
		return nil
	}))
	require.Contains(t, byTarget, "primary")
	require.Contains(t, byTarget, "shadow")
	p, s := byTarget["primary"], byTarget["shadow"]
	require.Equal(t, p["query_id"], s["query_id"])
	require.Equal(t, true, s["success"], s)
	require.NotEqual(t, p["result_hash"], s["result_hash"], "the shadow's data differs")
	require.Equal(t, p["result_hash"], s["primary_result_hash"])
}
