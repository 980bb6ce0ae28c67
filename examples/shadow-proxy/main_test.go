package main

import (
	"context"
	"database/sql"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/internal/testdb"
)

func TestProxyLogsToBucket(t *testing.T) {
	srv, err := testdb.Start(nil)
	if err != nil {
		testdb.SkipOrFail(t, err)
	}
	t.Cleanup(func() { _ = srv.Remove() })
	dir := t.TempDir()
	t.Setenv("SQLSHADOW_BUCKET_URL", "file://"+dir)
	addr, stop := startProgram(t, "-listen", "127.0.0.1:0", "-metrics-listen", "127.0.0.1:0", "-primary", srv.Addr())
	cfg, err := mysql.ParseDSN(srv.DSN(""))
	require.NoError(t, err)
	cfg.Addr = addr
	db, err := sql.Open("mysql", cfg.FormatDSN())
	require.NoError(t, err)
	var one int
	require.NoError(t, db.QueryRow("SELECT /*route='it'*/ 1").Scan(&one))
	require.NoError(t, db.Close())

	require.Equal(t, 0, stop(), "graceful exit")
	var lines []string
	require.NoError(t, filepath.WalkDir(filepath.Join(dir, "query-logs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		require.True(t, strings.HasSuffix(p, ".jsonl"), p)
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		lines = append(lines, strings.Split(strings.TrimSpace(string(b)), "\n")...)
		return nil
	}))
	joined := strings.Join(lines, "\n")
	require.Contains(t, joined, `"route":"it"`)
	require.Contains(t, joined, `"target":"primary"`)
}

func TestUsage(t *testing.T) {
	require.Equal(t, 2, run(context.Background(), []string{"-nope"}, nil))
	require.Equal(t, 2, run(context.Background(), []string{"-listen", "127.0.0.1:0"}, nil), "-primary is required")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	require.Equal(t, 2, run(context.Background(), []string{"-primary", "127.0.0.1:1", "-listen", l.Addr().String(), "-metrics-listen", ""}, nil), "listen address in use")
}

// startProgram runs the program with args until the returned stop function
// cancels it as SIGTERM does; stop returns the exit code.
func startProgram(t *testing.T, args ...string) (addr string, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ready := make(chan string, 1)
	code := make(chan int, 1)
	go func() { code <- run(ctx, args, ready) }()
	select {
	case addr = <-ready:
	case c := <-code:
		t.Fatalf("exited with %d", c)
	}
	return addr, func() int {
		cancel()
		select {
		case c := <-code:
			return c
		case <-time.After(60 * time.Second):
			t.Fatal("no graceful exit")
			return -1
		}
	}
}
