package replay

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/mirror"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

// TestSameHashesAsTheProxy runs the same statements against one server
// through the proxy (text protocol, and binary protocol for prepared
// statements) and through the Runner, and checks that both record the same
// result_hash, columns_hash, float_cols and rows: a replay compares with
// the proxy's logs, and the proxy's text and binary rows hash alike.
func TestSameHashesAsTheProxy(t *testing.T) {
	srv := rig.Server(t, 0)
	name := srv.NewDatabase(t)
	db := srv.Open(t, name)
	exec(t, db,
		`CREATE TABLE v (id INT PRIMARY KEY, u BIGINT UNSIGNED, z INT(5) ZEROFILL, d DECIMAL(20,6), f FLOAT,
			g DOUBLE, dt DATE, ts DATETIME(6), tm TIME(3), y YEAR, s VARCHAR(300), b BLOB, bits BIT(8))`,
		`INSERT INTO v VALUES
			(1, 18446744073709551615, 7, 1.5, 1.1, 3.14159265358979, '2024-01-02', '2024-01-02 03:04:05.12',
				'-838:59:59', 2024, 'héllo', x'00ff', b'1010'),
			(2, 0, 0, -0.000001, -0.25, 1e300, '1000-01-01', '2024-01-02 03:04:05', '00:00:00.5', 1999,
				REPEAT('x', 300), REPEAT('y', 70000 DIV 100), b'0'),
			(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
			(4, 1, 1, 0, 0, -0, '2000-02-29', '2000-02-29 23:59:59.999999', '12:00:00', 2000, '', '', b'11111111')`)

	// Each query, and whether its result has a FLOAT or DOUBLE column.
	queries := map[string]bool{
		"SELECT * FROM v ORDER BY id":         true,
		"SELECT * FROM v WHERE id < 0":        true, // an empty result
		"SELECT id, s, b FROM v WHERE id > 1": false,
		"SELECT id, u DIV 3, z, d * 2, dt + INTERVAL 1 DAY, CAST(ts AS DATE), -tm FROM v":    false,
		"SELECT COUNT(*), SUM(d), AVG(d), SUM(g), MIN(ts), MAX(tm), GROUP_CONCAT(id) FROM v": true,
		"SELECT f * 3, g / 3, CAST(f AS DOUBLE) FROM v WHERE id IN (1, 2)":                   true,
		"SELECT nope FROM v": false, // fails on both
	}
	// Statements with more than one result set run as text only (a
	// prepared statement holds one).
	multi := "SELECT id, ts FROM v WHERE id = 1; SELECT g FROM v WHERE id = 2"
	queries[multi] = true

	proxied := runThroughProxy(t, srv, name, queries, multi)
	replayed := runThroughReplay(t, srv, name, queries)

	require.Len(t, replayed, len(queries))
	for q, floats := range queries {
		r, ok := replayed[q]
		require.True(t, ok, q)
		want := 2 // COM_QUERY and COM_STMT_EXECUTE
		if q == multi {
			want = 1
		}
		if !r.Success {
			want = 1 // the prepare fails: no COM_STMT_EXECUTE
		}
		require.Len(t, proxied[q], want, q)
		for _, p := range proxied[q] {
			require.Equal(t, p.Success, r.Success, "%s %s", p.Command, q)
			require.Equal(t, p.ResultHash, r.ResultHash, "%s %s", p.Command, q)
			require.Equal(t, p.ColumnsHash, r.ColumnsHash, "%s %s", p.Command, q)
			require.Equal(t, p.FloatCols, r.FloatCols, "%s %s", p.Command, q)
			require.Equal(t, p.Rows, r.Rows, "%s %s", p.Command, q)
		}
		if !r.Success {
			require.EqualValues(t, 1054, r.ErrorCode)
			require.Empty(t, r.ResultHash)
			continue
		}
		require.NotEmpty(t, r.ResultHash, q)
		require.NotEmpty(t, r.ColumnsHash, q)
		require.Equal(t, floats, r.FloatCols, q)
	}
	require.Equal(t, "0:00000000000000000000000000000000", replayed["SELECT * FROM v WHERE id < 0"].ResultHash)
	require.Equal(t, int64(4), replayed["SELECT * FROM v ORDER BY id"].Rows)
	require.Equal(t, int64(2), replayed[multi].Rows)
}

// runThroughProxy runs every query through a proxy in front of srv, as text
// and (but multi and failing statements) as a prepared statement, and
// returns the proxy's records by statement text.
func runThroughProxy(t *testing.T, srv *testdb.Server, dbName string, queries map[string]bool, multi string) map[string][]dataset.QueryLog {
	t.Helper()
	logs := &sinktest.Recorder{}
	p, err := mirror.New(srv.Addr(), &mirror.Options{Sink: logs})
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- p.Serve(l) }()

	cfg, err := mysql.ParseDSN(srv.DSN(dbName))
	require.NoError(t, err)
	cfg.Addr = l.Addr().String()
	db, err := sql.Open("mysql", cfg.FormatDSN())
	require.NoError(t, err)
	for q := range queries {
		rows, err := db.Query(q)
		if err == nil {
			drainRows(t, rows)
		}
		if q == multi {
			continue
		}
		stmt, err := db.Prepare(q)
		if err != nil {
			continue // the failing statement
		}
		rows, err = stmt.Query()
		require.NoError(t, err, q)
		drainRows(t, rows)
		require.NoError(t, stmt.Close())
	}
	require.NoError(t, db.Close())
	require.NoError(t, p.Shutdown(context.Background()))
	require.ErrorIs(t, <-served, mirror.ErrProxyClosed)

	recs, err := sinktest.Decode[dataset.QueryLog](logs)
	require.NoError(t, err)
	out := map[string][]dataset.QueryLog{}
	for _, r := range recs {
		if _, ok := queries[r.QueryText]; ok && (r.Command == "COM_QUERY" || r.Command == "COM_STMT_EXECUTE") {
			out[r.QueryText] = append(out[r.QueryText], r)
		}
	}
	return out
}

// drainRows reads every row of every result set and closes rows.
func drainRows(t *testing.T, rows *sql.Rows) {
	t.Helper()
	for {
		for rows.Next() {
		}
		if !rows.NextResultSet() {
			break
		}
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
}

// runThroughReplay replays every query against srv in one session and
// returns the Runner's records by statement text.
func runThroughReplay(t *testing.T, srv *testdb.Server, dbName string, queries map[string]bool) map[string]dataset.QueryLog {
	t.Helper()
	var sts []Statement
	for q := range queries {
		sts = append(sts, Statement{Session: "s", Database: dbName, User: mariadb.User, Text: q, Duration: -1, Rows: -1})
	}
	logs := &sinktest.Recorder{}
	r, err := NewRunner(Options{
		Primary: Target{Addr: srv.Addr(), User: mariadb.User, Password: mariadb.Password},
		Sink:    logs, Workers: 1,
	})
	require.NoError(t, err)
	stats, err := r.Run(context.Background(), Statements(sts))
	require.NoError(t, err)
	require.EqualValues(t, len(queries), stats.Statements)

	recs, err := sinktest.Decode[dataset.QueryLog](logs)
	require.NoError(t, err)
	out := map[string]dataset.QueryLog{}
	for _, rec := range recs {
		if _, dup := out[rec.QueryText]; dup {
			t.Fatal(errors.New("two records of " + strings.TrimSpace(rec.QueryText)))
		}
		out[rec.QueryText] = rec
	}
	return out
}
