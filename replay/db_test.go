package replay

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/sink"
)

func exec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		_, err := db.Exec(s)
		require.NoError(t, err, s)
	}
}

// setupShop creates the same table on both servers in database name, with
// the planted differences on the shadow: no index on k, no column loyalty,
// and a different price for id 7.
func setupShop(t *testing.T, prim, shad *testdb.Server, name string) {
	t.Helper()
	for i, srv := range []*testdb.Server{prim, shad} {
		root, err := srv.Root()
		require.NoError(t, err)
		exec(t, root, "CREATE DATABASE "+name, "GRANT ALL ON "+name+".* TO '"+mariadb.User+"'@'%'")
		t.Cleanup(func() { _, _ = root.Exec("DROP DATABASE IF EXISTS " + name) })
		ddl := "CREATE TABLE " + name + ".items (id INT PRIMARY KEY, k INT NOT NULL, note VARCHAR(64), price DECIMAL(10,2), loyalty INT, KEY (k))"
		if i == 1 {
			ddl = "CREATE TABLE " + name + ".items (id INT PRIMARY KEY, k INT NOT NULL, note VARCHAR(64), price DECIMAL(10,2))"
		}
		exec(t, root, ddl)
		cols := "id, k, note, price, loyalty"
		if i == 1 {
			cols = "id, k, note, price"
		}
		exec(t, root, "INSERT INTO "+name+".items ("+cols+") SELECT seq, seq % 2000, CONCAT('n|', seq), seq / 100"+
			map[bool]string{true: ", seq % 7", false: ""}[i == 0]+" FROM "+name+".seq_1_to_40000")
		if i == 1 {
			exec(t, root, "UPDATE "+name+".items SET price = price + 1 WHERE id = 7")
		}
		exec(t, root, "ANALYZE TABLE "+name+".items")
	}
}

// captureSlowLog runs statements on srv with the slow log on at
// long_query_time=0 and returns the log file.
func captureSlowLog(t *testing.T, srv *testdb.Server, dbName string, run func(db *sql.DB)) string {
	t.Helper()
	root, err := srv.Root()
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "slow.log")
	exec(t, root, "SET GLOBAL slow_query_log_file = '"+file+"'", "SET GLOBAL long_query_time = 0", "SET GLOBAL slow_query_log = 1")
	db, err := sql.Open("mysql", srv.DSN(dbName))
	require.NoError(t, err)
	db.SetMaxIdleConns(0) // each session its own connection
	run(db)
	require.NoError(t, db.Close())
	// The server writes a statement's entry after the client has its
	// answer, on the session's thread, before it reads the next command:
	// once the sessions' threads are gone, every entry is written.
	require.Eventually(t, func() bool {
		var n int
		err := root.QueryRow("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = ?", mariadb.User).Scan(&n)
		return err == nil && n == 0
	}, 30*time.Second, 5*time.Millisecond, "the workload's sessions end")
	exec(t, root, "SET GLOBAL slow_query_log = 0", "SET GLOBAL long_query_time = 10")
	return file
}

// TestReplaySlowLogAgainstTwoServers captures a real slow log on the
// primary, parses it, replays it against the primary and a shadow that
// differs in three planted ways, and checks that the shadow report finds
// each of them in the replay's query logs.
func TestReplaySlowLogAgainstTwoServers(t *testing.T) {
	prim, shad := rig.Server(t, 0), rig.Server(t, 1)
	name := "replay_shop"
	setupShop(t, prim, shad, name)

	// The workload: three sessions, each with its routes.
	file := captureSlowLog(t, prim, name, func(db *sql.DB) {
		ctx := context.Background()
		for s := 0; s < 3; s++ {
			c, err := db.Conn(ctx)
			require.NoError(t, err)
			_, err = c.ExecContext(ctx, "SET SESSION sql_mode = 'ANSI_QUOTES'")
			require.NoError(t, err)
			for i := 0; i < 40; i++ {
				for _, q := range []string{
					fmt.Sprintf("SELECT /*route='by-k'*/ COUNT(*), SUM(price) FROM items WHERE k = %d", 100+s*40+i),
					fmt.Sprintf("SELECT /*route='loyalty'*/ id, loyalty FROM items WHERE id = %d", i+1),
					fmt.Sprintf("SELECT /*route='price'*/ id, note, price FROM items WHERE id BETWEEN %d AND %d ORDER BY id", 1+i%3, 10+i%3),
				} {
					rows, err := c.QueryContext(ctx, q)
					require.NoError(t, err)
					for rows.Next() {
					}
					require.NoError(t, rows.Err())
					rows.Close()
				}
			}
			require.NoError(t, c.Close())
		}
	})

	src, err := OpenSlowLog([]string{file}, nil)
	require.NoError(t, err)
	defer src.Close()
	all := drain(t, src)
	require.Zero(t, src.Stats().Malformed, "%v", src.Stats().FirstMalformed)
	var routes, sets int
	sessions := map[string]bool{}
	for _, st := range all {
		if strings.Contains(st.Text, "route=") {
			routes++
			require.Equal(t, name, st.Database)
			require.GreaterOrEqual(t, st.Duration, time.Duration(0))
			sessions[st.Session] = true
		}
		if strings.HasPrefix(st.Text, "SET SESSION sql_mode") {
			sets++
		}
	}
	if routes != 3*40*3 {
		b, _ := os.ReadFile(file)
		t.Logf("%s", b)
	}
	require.Equal(t, 3*40*3, routes, "every statement of the workload is in the slow log")
	require.Equal(t, 3, sets)
	require.Len(t, sessions, 3)

	bucket := memblob.OpenBucket(nil)
	defer bucket.Close()
	w, err := sink.NewWriter(bucket, dataset.QueryLogs, nil)
	require.NoError(t, err)
	r, err := NewRunner(Options{
		Primary: Target{Addr: prim.Addr(), User: mariadb.User, Password: mariadb.Password},
		Shadow:  &Target{Addr: shad.Addr(), User: mariadb.User, Password: mariadb.Password},
		Sink:    w, Workers: 2, Repeat: 2,
	})
	require.NoError(t, err)
	// Only this test's statements: the filter keeps the workload's
	// database (the log also holds the rig's own statements).
	stats, err := r.Run(context.Background(), Select(Statements(all), Filter{Databases: []string{name}}))
	require.NoError(t, err)
	require.NoError(t, w.Close(context.Background()))
	require.EqualValues(t, 3*40*3+3, stats.Statements)
	require.EqualValues(t, 2*stats.Statements, stats.Primary.Runs)
	require.EqualValues(t, 0, stats.Primary.Failed)
	require.EqualValues(t, 2*40*3, stats.Shadow.Failed, "loyalty fails on the shadow, twice per statement")
	require.EqualValues(t, int64(r.Progress().Done), stats.Statements)

	checkRecords(t, bucket)

	checkShadowReport(t, bucket)
}

// checkRecords checks the query-log records of a replay pair up as the
// proxy's do.
func checkRecords(t *testing.T, bucket *blob.Bucket) {
	t.Helper()
	rd := sink.NewReader(bucket, dataset.QueryLogs, time.Time{}, time.Time{}, nil)
	defer rd.Close()
	var dec dataset.QueryLogDecoder
	var rec dataset.QueryLog
	prim := map[string]dataset.QueryLog{}
	var shadows []dataset.QueryLog
	for {
		line, err := rd.Next(context.Background())
		if err != nil {
			break
		}
		require.NoError(t, dec.Decode(line, &rec))
		if rec.Target == dataset.TargetPrimary {
			prim[rec.QueryID] = rec
		} else {
			shadows = append(shadows, rec)
		}
	}
	require.NotEmpty(t, shadows)
	require.Len(t, prim, len(shadows))
	for _, s := range shadows {
		p, ok := prim[s.QueryID]
		require.True(t, ok, s.QueryID)
		require.Equal(t, p.QueryHash, s.QueryHash)
		require.NotNil(t, s.PrimarySuccess)
		require.Equal(t, p.Success, *s.PrimarySuccess)
		require.Equal(t, p.ResultHash, s.PrimaryResultHash)
		if strings.Contains(s.QueryText, "route='by-k'") {
			require.Equal(t, p.ResultHash, s.ResultHash, "same data, same hash: %s", s.QueryText)
			require.NotEmpty(t, s.ResultHash)
		}
		if strings.Contains(s.QueryText, "route='loyalty'") {
			require.False(t, s.Success)
			require.EqualValues(t, 1054, s.ErrorCode)
		}
	}
}

// TestAuditTable reads the AuditLoader table, created in MariaDB with the
// plugin's documented columns, for a time window.
func TestAuditTable(t *testing.T) {
	srv := rig.Server(t, 0)
	name := srv.NewDatabase(t)
	db := srv.Open(t, name)
	exec(t, db, "CREATE TABLE audit (`queryId` VARCHAR(64), `timestamp` DATETIME NOT NULL, `queryType` VARCHAR(12), "+
		"`clientIp` VARCHAR(32), `user` VARCHAR(64), `authorizedUser` VARCHAR(64), `resourceGroup` VARCHAR(64), "+
		"`catalog` VARCHAR(32), `db` VARCHAR(96), `state` VARCHAR(8), `errorCode` VARCHAR(512), `queryTime` BIGINT, "+
		"`scanBytes` BIGINT, `scanRows` BIGINT, `returnRows` BIGINT, `cpuCostNs` BIGINT, `memCostBytes` BIGINT, "+
		"`stmtId` INT, `isQuery` TINYINT, `feIp` VARCHAR(128), `stmt` TEXT, `digest` VARCHAR(32), "+
		"`planCpuCosts` DOUBLE, `planMemCosts` DOUBLE, `pendingTimeMs` BIGINT, `candidateMVs` TEXT, `hitMvs` TEXT, `warehouse` VARCHAR(128))")
	exec(t, db,
		"INSERT INTO audit (queryId, `timestamp`, queryType, clientIp, user, db, state, errorCode, queryTime, returnRows, stmtId, stmt) VALUES "+
			"('q1', '2026-01-01 10:00:00', 'query', '10.0.0.1:5000', 'app', 'shop', 'EOF', '', 12, 3, 2, 'SELECT 1|2'),"+
			"('q0', '2026-01-01 10:00:00', 'query', '10.0.0.1:5000', 'app', 'shop', 'OK', '', 1, -1, 1, 'USE shop'),"+
			"('c1', '2026-01-01 10:00:01', 'connection', '10.0.0.1:5001', 'app', '', 'OK', '', 0, 0, 3, ''),"+
			"('q2', '2026-01-01 10:00:02', 'slow_query', '10.0.0.2:5000', 'bi', 'dw', 'ERR', 'TIMEOUT', 6000, 0, 4, 'SELECT\nslow'),"+
			"('q3', '2026-01-01 10:00:03', 'query', '10.0.0.2:5000', 'bi', 'dw', 'EOF', '', 5, 1, 5, NULL),"+
			"('q4', '2026-01-01 11:00:00', 'query', '10.0.0.2:5000', 'bi', 'dw', 'EOF', '', 5, 1, 6, 'SELECT later')")
	src, err := OpenAuditTable(context.Background(), db, &AuditTableOptions{
		Table: name + ".audit", From: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 1, 11, 0, 0, 0, time.UTC),
	})
	require.NoError(t, err)
	defer src.Close()
	sts := drain(t, src)
	var got []string
	for _, s := range sts {
		got = append(got, fmt.Sprintf("%s|%s|%s|%s|%v|%s|%d|%s", s.Time.Format(time.TimeOnly), s.Session, s.User, s.Database, s.Failed, s.ErrorCode, s.Rows, s.Text))
	}
	require.Equal(t, []string{
		"10:00:00|10.0.0.1:5000|app|shop|false||-1|USE shop",
		"10:00:00|10.0.0.1:5000|app|shop|false||3|SELECT 1|2",
		"10:00:02|10.0.0.2:5000|bi|dw|true|TIMEOUT|0|SELECT\nslow",
	}, got)
	require.Equal(t, 6*time.Second, sts[2].Duration)
	st := src.Stats()
	require.EqualValues(t, 1, st.Skipped)
	require.EqualValues(t, 1, st.Malformed)
	require.Equal(t, Position{name + ".audit", 5}, st.FirstMalformed[0].Pos)

	_, err = OpenAuditTable(context.Background(), db, &AuditTableOptions{Table: name + ".missing"})
	require.Error(t, err)
}
