package profile_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/hashing"
	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/profile"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

func TestPerfSchemaSourceAgainstMariaDB(t *testing.T) {
	srv := rig.Server(t, 0)
	name := srv.NewDatabase(t)
	db := srv.Open(t, name)
	ctx := context.Background()
	_, err := db.ExecContext(ctx, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))")
	require.NoError(t, err)

	src := profile.NewPerfSchemaSource(db, srv.Addr(), &profile.PerfSchemaOptions{Cluster: "maria"})
	// testdb starts MariaDB with the history_long consumer only; MariaDB
	// also needs events_statements_current to fill it.
	require.NoError(t, src.EnableConsumers(ctx))
	check, err := src.Check(ctx)
	require.NoError(t, err)
	require.True(t, check.PerformanceSchema)
	require.True(t, check.SamplesOK(), "%v", check.Problems)
	require.True(t, check.DigestsOK(), "%v", check.Problems)
	require.Positive(t, check.HistoryLongSize)

	_, err = src.Collect(ctx) // baseline
	require.NoError(t, err)

	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	var connID int64
	require.NoError(t, conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&connID))
	for i := range 5 {
		_, err := conn.ExecContext(ctx, fmt.Sprintf("INSERT INTO t VALUES (%d, 'v%d')", i, i))
		require.NoError(t, err)
	}
	sel := "SELECT v FROM t WHERE id = 3"
	for range 3 {
		var v string
		require.NoError(t, conn.QueryRowContext(ctx, sel).Scan(&v))
	}
	_, err = conn.ExecContext(ctx, "SELECT * FROM no_such_table")
	require.Error(t, err)
	// The server finishes a statement's accounting after the client has its
	// answer; the next statement on the same connection starts only once
	// that is done, so this one makes the statements above complete.
	_, err = conn.ExecContext(ctx, "DO 0")
	require.NoError(t, err)

	recs, err := src.Collect(ctx)
	require.NoError(t, err)

	digests := map[string]dataset.Profile{}
	var stmts []dataset.Profile
	for _, r := range recs {
		require.Equal(t, "maria", r.Cluster)
		require.Equal(t, srv.Addr(), r.FEHost)
		require.Equal(t, dataset.SourcePerformanceSchema, r.Source)
		switch r.Kind {
		case dataset.ProfileDigest:
			digests[r.SQLText] = r
		case dataset.ProfileStatement:
			stmts = append(stmts, r)
		}
	}
	var ins, selD *dataset.Profile
	for text, r := range digests {
		switch {
		case strings.HasPrefix(text, "INSERT"):
			ins = &r
		case strings.HasPrefix(text, "SELECT `v` FROM `t` WHERE"):
			selD = &r
		}
		require.NotContains(t, text, "performance_schema", "the source's own statements are skipped")
	}
	require.NotNil(t, ins, "digests: %v", digests)
	require.Equal(t, int64(5), *ins.ExecCount)
	require.Equal(t, int64(5), *ins.RowsAffected)
	require.Equal(t, name, ins.Database)
	require.NotNil(t, selD, "digests: %v", digests)
	require.Equal(t, int64(3), *selD.ExecCount)
	require.Equal(t, int64(3), *selD.ReturnRows)
	require.Positive(t, *selD.SumTimerWaitNs)
	require.NotNil(t, selD.WindowStart)

	var selS []dataset.Profile
	var failed *dataset.Profile
	for i, r := range stmts {
		if r.SQLText == sel {
			selS = append(selS, r)
		}
		if r.State == dataset.StateFailed {
			failed = &stmts[i]
		}
	}
	require.Len(t, selS, 3)
	s := selS[0]
	require.Equal(t, hashing.QueryHash(sel), s.QueryHash)
	require.Equal(t, hashing.TemplateHash(sel), s.TemplateHash)
	require.Equal(t, connID, *s.ServerConnID, "joins the query logs' server_conn_id")
	require.Equal(t, mariadb.User, s.User)
	require.Equal(t, name, s.Database)
	require.Equal(t, int64(1), *s.ReturnRows)
	require.WithinDuration(t, time.Now(), time.Time(*s.StartTime), 10*time.Second)
	require.NotNil(t, failed)
	require.Contains(t, failed.ErrorMessage, "1146")

	// Nothing new: nothing written twice.
	recs, err = src.Collect(ctx)
	require.NoError(t, err)
	for _, r := range recs {
		require.NotEqual(t, sel, r.SQLText)
	}

	// Through a Collector, into a sink.
	rec := &sinktest.Recorder{}
	c, err := profile.NewCollector(rec, profile.StaticDiscovery(srv.Addr()), &profile.Options{Cluster: "maria",
		NewSource: func(string) (profile.ProfileSource, error) { return src, nil }})
	require.NoError(t, err)
	var v string
	require.NoError(t, conn.QueryRowContext(ctx, sel).Scan(&v))
	// The server finishes a statement's accounting after the client has
	// its answer, so the new digest can take a moment to appear.
	for i := 0; i < 50; i++ {
		require.NoError(t, c.Poll(ctx))
		if len(records(t, rec, dataset.ProfileDigest)) > 0 && len(records(t, rec, dataset.ProfileStatement)) > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NotEmpty(t, records(t, rec, dataset.ProfileDigest))
	require.NotEmpty(t, records(t, rec, dataset.ProfileStatement))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	require.NoError(t, c.Run(cctx))
}

func TestPerfSchemaSourceReportsWhatIsOff(t *testing.T) {
	srv := rig.Server(t, 0)
	root, err := sql.Open("mysql", srv.RootDSN(""))
	require.NoError(t, err)
	defer root.Close()
	ctx := context.Background()
	src := profile.NewPerfSchemaSource(root, srv.Addr(), nil)
	require.NoError(t, src.EnableConsumers(ctx))
	_, err = root.ExecContext(ctx, "UPDATE performance_schema.setup_consumers SET ENABLED='NO' WHERE NAME IN ('events_statements_history_long','statements_digest')")
	require.NoError(t, err)
	defer func() { require.NoError(t, src.EnableConsumers(ctx)) }()

	check, err := src.Check(ctx)
	require.NoError(t, err)
	require.False(t, check.SamplesOK())
	require.False(t, check.DigestsOK())
	require.Len(t, check.Problems, 2)
	require.Contains(t, check.Problems[0], "statements_digest")
	require.Contains(t, check.Problems[1], "UPDATE performance_schema.setup_consumers SET ENABLED='YES' WHERE NAME='events_statements_history_long'")

	_, err = src.Collect(ctx)
	require.ErrorIs(t, err, profile.ErrServerConfig)
	var ce *profile.ConfigError
	require.ErrorAs(t, err, &ce)
	require.Len(t, ce.Problems, 2)

	require.NoError(t, src.EnableConsumers(ctx))
	_, err = src.Collect(ctx)
	require.NoError(t, err)
}

func TestPerfSchemaSourceReportsRingWrap(t *testing.T) {
	srv := rig.Server(t, 0)
	name := srv.NewDatabase(t)
	db := srv.Open(t, name)
	ctx := context.Background()
	src := profile.NewPerfSchemaSource(db, srv.Addr(), &profile.PerfSchemaOptions{NoDigests: true})
	require.NoError(t, src.EnableConsumers(ctx))
	check, err := src.Check(ctx)
	require.NoError(t, err)
	_, err = src.Collect(ctx)
	require.NoError(t, err)
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	for i := int64(0); i < check.HistoryLongSize+50; i++ {
		_, err := conn.ExecContext(ctx, "DO 1")
		require.NoError(t, err)
	}
	recs, err := src.Collect(ctx)
	require.NoError(t, err)
	gaps := 0
	for _, r := range recs {
		if r.Kind == dataset.ProfileGap {
			gaps++
			require.Contains(t, r.GapReason, "history_long")
		}
	}
	require.Equal(t, 1, gaps)
}
