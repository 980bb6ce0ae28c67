package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/profile/profiletest"
)

func TestUsage(t *testing.T) {
	require.Equal(t, 2, run(context.Background(), []string{"-bucket-url", "mem://"}, io.Discard))
	require.Equal(t, 2, run(context.Background(), []string{"-fe", "a:1", "-fe-dns", "b:2", "-bucket-url", "mem://"}, io.Discard))
	require.Equal(t, 2, run(context.Background(), []string{"-no-such-flag"}, io.Discard))
}

func TestCollectsFromSimulatedFEs(t *testing.T) {
	fe := profiletest.NewFE(&profiletest.Options{Auth: profiletest.AuthBasic, Users: map[string]string{"collector": "pw"}})
	defer fe.Close()
	id := profiletest.NewQueryID()
	fe.Run(profiletest.Query{ID: id, SQL: "select 1", Profile: profiletest.SampleProfile(id, "select 1")})
	dir := t.TempDir()
	t.Setenv("SQLSHADOW_FE_PASSWORD", "pw")
	t.Setenv("SQLSHADOW_FE_USER", "collector")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-fe", fe.Addr(), "-cluster", "sim", "-bucket-url", "file://" + dir,
			"-poll-interval", "50ms", "-metrics-listen", "127.0.0.1:0", "-checkpoint", filepath.Join(dir, "cursors.json")}, io.Discard)
	}()
	require.Eventually(t, func() bool { return fe.Requests("/api/profile") > 0 && fe.Requests("/api/query_detail") > 1 },
		20*time.Second, 10*time.Millisecond)
	cancel()
	require.Equal(t, 0, <-done)

	var lines []string
	require.NoError(t, filepath.WalkDir(filepath.Join(dir, "profiles"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		require.True(t, strings.HasSuffix(path, ".jsonl"), path)
		require.Contains(t, path, "year=2")
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		lines = append(lines, strings.Split(strings.TrimSpace(string(b)), "\n")...)
		return nil
	}))
	require.Len(t, lines, 1)
	require.Contains(t, lines[0], id)
	require.Contains(t, lines[0], `"cluster":"sim"`)
	require.Contains(t, lines[0], `"profile_cpu_ns":251340000`)
	_, err := os.Stat(filepath.Join(dir, "cursors.json"))
	require.NoError(t, err)
}

var rig = testdb.NewRig(1, nil)

// TestMain checks that run leaves no goroutine behind: the collector, the
// sink writer, the ops server and the sources' connections all stop with it.
func TestMain(m *testing.M) {
	code := rig.Run(m)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func TestCollectsFromPerformanceSchema(t *testing.T) {
	srv := rig.Server(t, 0)
	name := srv.NewDatabase(t)
	db := srv.Open(t, name)
	dir := t.TempDir()
	t.Setenv("SQLSHADOW_MYSQL_DSN", srv.DSN(name))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	metricsAddr := l.Addr().String()
	require.NoError(t, l.Close())

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-cluster", "maria", "-enable-consumers", "-bucket-url", "file://" + dir,
			"-poll-interval", "50ms", "-metrics-listen", metricsAddr}, io.Discard)
	}()
	polled := func(min int) func() bool {
		return func() bool {
			resp, err := http.Get("http://" + metricsAddr + "/metrics")
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			for _, line := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(line, "sqlshadow_profile_polls_total{") && strings.Contains(line, `result="ok"`) {
					var n float64
					_, _ = fmt.Sscanf(line[strings.LastIndexByte(line, ' ')+1:], "%g", &n)
					return n >= float64(min)
				}
			}
			return false
		}
	}
	require.Eventually(t, polled(1), 30*time.Second, 20*time.Millisecond)
	_, err = db.ExecContext(context.Background(), "SELECT 'through the MariaDB source' AS marker")
	require.NoError(t, err)
	require.Eventually(t, polled(3), 30*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + metricsAddr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 20*time.Millisecond)
	cancel()
	require.Equal(t, 0, <-done)
	http.DefaultClient.CloseIdleConnections()

	found := false
	require.NoError(t, filepath.WalkDir(filepath.Join(dir, "profiles"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "through the MariaDB source") && strings.Contains(l, `"kind":"statement"`) {
				found = true
				require.Contains(t, l, `"source":"performance_schema"`)
				require.Contains(t, l, `"cluster":"maria"`)
			}
		}
		return nil
	}))
	require.True(t, found)
}
