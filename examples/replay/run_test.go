package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/compare/shadow"
	"github.com/sqlshadow/sqlshadow/examples/internal/cli"
	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/sink"
)

// TestRunSlowLog replays the slow log in testdata (database shop, two
// sessions, a write) against a primary and a shadow that lacks a column,
// into a file:// bucket, and checks the exit code, the summary line, and
// that the shadow report reads the replay and finds the shadow-only failure
// and nothing else.
func TestRunSlowLog(t *testing.T) {
	prim, shad := rig.Server(t, 0), rig.Server(t, 1)
	for i, srv := range []*testdb.Server{prim, shad} {
		root, err := srv.Root()
		require.NoError(t, err)
		loyalty := map[bool]string{true: ", loyalty INT"}[i == 0]
		for _, s := range []string{
			"CREATE DATABASE shop",
			"GRANT ALL ON shop.* TO '" + mariadb.User + "'@'%'",
			"CREATE TABLE shop.items (id INT PRIMARY KEY, note VARCHAR(20), price DECIMAL(8,2)" + loyalty + ")",
			"INSERT INTO shop.items (id, note, price) SELECT seq, CONCAT('n', seq), seq / 4 FROM shop.seq_1_to_20",
		} {
			_, err := root.Exec(s)
			require.NoError(t, err, s)
		}
		t.Cleanup(func() { _, _ = root.Exec("DROP DATABASE IF EXISTS shop") })
	}
	dir := t.TempDir()
	t.Setenv("SQLSHADOW_PASSWORD", mariadb.Password)

	var stdout, stderr bytes.Buffer
	code := run([]string{"run", "-source", "slowlog:" + filepath.Join("testdata", "slow.log"),
		"-primary", prim.Addr(), "-shadow", shad.Addr(), "-user", mariadb.User,
		"-bucket-url", "file://" + dir, "-workers", "2"}, &stdout, &stderr)
	// The loyalty statements fail on the shadow only: differences, exit 1.
	require.Equal(t, cli.ExitFindings, code, "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
	require.Contains(t, stdout.String(), "replayed 13 statements (other shards 0, skipped 1, malformed 0): "+
		"primary 13 runs, 0 failed; shadow 13 runs, 6 failed; 6 mismatches; 0 records not written")

	bucket, err := sink.OpenBucket(context.Background(), "file://"+dir)
	require.NoError(t, err)
	defer bucket.Close()
	rep, err := shadow.New(bucket, shadow.Window{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)},
		&shadow.Options{Grace: -1}).Report(context.Background())
	require.NoError(t, err)
	var found []string
	for _, f := range rep.Findings {
		found = append(found, f.Kind+" "+f.Group+" "+f.Title)
	}
	require.Len(t, found, 1, "%v", found)
	f := rep.Findings[0]
	require.Equal(t, shadow.FindingShadowFailure, f.Kind)
	require.NotNil(t, f.ErrorCode)
	require.EqualValues(t, 1054, *f.ErrorCode)
	require.Contains(t, f.Title, "6 statements")
	groups := map[string]int64{}
	for _, g := range rep.Groups {
		groups[g.Label] = g.Pairs
	}
	require.Equal(t, int64(6), groups["route:items"], "%v", groups)
	require.Equal(t, int64(1), groups["route:count"], "%v", groups)
}

// TestRunUsage checks that a missing required flag is a usage error.
func TestRunUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, cli.ExitError, run([]string{"run", "-source", "slowlog:x"}, &stdout, &stderr))
	require.Contains(t, stderr.String(), "-source, -primary and -bucket-url are required")
	require.Equal(t, cli.ExitError, run(nil, &stdout, &stderr))
}
