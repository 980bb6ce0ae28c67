package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/internal/testdb"
)

func TestExitCodesAgainstMariaDB(t *testing.T) {
	srv, err := testdb.Start(nil)
	if err != nil {
		testdb.SkipOrFail(t, err)
	}
	defer srv.Remove()
	name := srv.NewDatabase(t)
	db := srv.Open(t, name)
	_, err = db.Exec("CREATE TABLE t (id INT PRIMARY KEY, v INT); INSERT INTO t SELECT seq, seq % 10 FROM seq_1_to_500")
	require.NoError(t, err)

	dir := t.TempDir()
	write := func(name, sql string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(sql), 0o600))
		return p
	}
	base := write("base.sql", "SELECT v, COUNT(*) FROM t GROUP BY v;\n")
	same := write("same.sql", "SELECT v, COUNT(id) FROM t GROUP BY v")
	wrong := write("wrong.sql", "SELECT v, COUNT(*) FROM t WHERE id > 1 GROUP BY v")
	dsn := srv.DSN(name)

	var out, errOut bytes.Buffer
	code := run([]string{"-dsn", dsn, "-baseline", base, "-candidate", wrong, "-runs", "5", "-json", "-out", filepath.Join(dir, "r")}, &out, &errOut)
	require.Equal(t, 1, code, errOut.String())
	var rep map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
	require.Equal(t, "fail", rep["verdict"])
	require.FileExists(t, filepath.Join(dir, "r", "report.md"))
	require.FileExists(t, filepath.Join(dir, "r", "report.json"))

	out.Reset()
	code = run([]string{"-dsn", dsn, "-baseline", base, "-candidate", same, "-runs", "2", "-warmup", "0"}, &out, &errOut)
	require.Equal(t, 3, code, out.String())
	require.Contains(t, out.String(), "INCONCLUSIVE")

	// The environment sets flags; the password comes from the environment.
	t.Setenv("SQLSHADOW_RUNS", "5")
	t.Setenv("SQLSHADOW_PASSWORD", "wrong-password")
	code = run([]string{"-dsn", dsn, "-baseline", base, "-candidate", same}, &out, &errOut)
	require.Equal(t, 2, code, "a refused login is an error")

	require.Equal(t, 2, run([]string{"-dsn", dsn}, &out, &errOut), "usage")
}
