package jointest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/mirror"
	"github.com/sqlshadow/sqlshadow/profile"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

var rig = testdb.NewRig(1, nil)

func TestMain(m *testing.M) { os.Exit(rig.Run(m)) }

func TestProxyLogJoinsProfileRecord(t *testing.T) {
	srv := rig.Server(t, 0)
	name := srv.NewDatabase(t)
	db := srv.Open(t, name)
	ctx := context.Background()
	_, err := db.ExecContext(ctx, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))")
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, "INSERT INTO t VALUES (7, 'seven')")
	require.NoError(t, err)
	src := profile.NewPerfSchemaSource(db, srv.Addr(), &profile.PerfSchemaOptions{NoDigests: true})
	require.NoError(t, src.EnableConsumers(ctx))

	logs := &sinktest.Recorder{}
	proxy, err := mirror.New(srv.Addr(), &mirror.Options{Sink: logs})
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- proxy.Serve(l) }()

	cfg, err := mysql.ParseDSN(srv.DSN(name))
	require.NoError(t, err)
	cfg.Addr = l.Addr().String()
	client, err := sql.Open("mysql", cfg.FormatDSN())
	require.NoError(t, err)
	defer client.Close()
	client.SetMaxOpenConns(1)
	query := "SELECT v FROM t WHERE id = 7 AND v <> 'joined through the proxy'"
	var v string
	require.NoError(t, client.QueryRowContext(ctx, query).Scan(&v))

	// Collect while the client connection is open (processlist id). The
	// server finishes a statement's accounting after the client has its
	// answer, so the statement can take a moment to reach the history.
	var recs []dataset.Profile
	for i := 0; i < 50; i++ {
		got, err := src.Collect(ctx)
		require.NoError(t, err)
		recs = append(recs, got...)
		found := false
		for _, r := range got {
			if r.SQLText == query {
				found = true
			}
		}
		if found {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NoError(t, client.Close())
	require.NoError(t, proxy.Shutdown(ctx))
	<-served

	logRecs, err := sinktest.Decode[dataset.QueryLog](logs)
	require.NoError(t, err)
	var lr *dataset.QueryLog
	for i := range logRecs {
		if logRecs[i].QueryText == query {
			lr = &logRecs[i]
		}
	}
	require.NotNil(t, lr, "query log of the statement")
	require.NotZero(t, lr.ServerConnID)

	// The time window is the shadow report's (±60 s): performance_schema
	// times derive from the server's uptime in whole seconds, and the proxy
	// stamps the command when it arrives.
	var joined []dataset.Profile
	var candidates []string
	for _, r := range recs {
		if r.Kind != dataset.ProfileStatement || r.QueryHash != lr.QueryHash {
			continue
		}
		candidates = append(candidates, fmt.Sprintf("conn=%v start=%v", deref(r.ServerConnID), r.StartTime))
		if r.ServerConnID == nil || r.StartTime == nil {
			continue
		}
		d := time.Time(*r.StartTime).Sub(time.Time(lr.TS))
		if *r.ServerConnID == int64(lr.ServerConnID) && d > -time.Minute && d < time.Minute {
			joined = append(joined, r)
		}
	}
	require.Len(t, joined, 1, "exactly one profile record joins the query log (conn=%d ts=%v) on (server_conn_id, query_hash, time); candidates: %v",
		lr.ServerConnID, lr.TS, candidates)
	require.Equal(t, lr.TemplateHash, joined[0].TemplateHash)
	require.True(t, strings.HasPrefix(joined[0].SQLText, "SELECT v FROM t"))
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}
