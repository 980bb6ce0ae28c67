// Package promtest runs a real Prometheus server for tests, on 127.0.0.1,
// stopped when the test ends.
package promtest

import (
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/internal/testdb"
)

// Start runs prometheus with the configuration dir/prometheus.yml, its TSDB
// in dir/data unless args say otherwise (a later flag wins), and args; waits
// until it is ready and returns its URL. It stops the server (SIGTERM, then
// SIGKILL after 20 s) when the test ends. Without the prometheus binary it
// skips the test, or fails it under SQLSHADOW_REQUIRE_DB=1.
func Start(t testing.TB, dir string, args ...string) string {
	t.Helper()
	bin := testdb.RequireBinary(t, "prometheus")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	var logs strings.Builder
	cmd := exec.Command(bin, append([]string{"--config.file=" + filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path=" + filepath.Join(dir, "data"), "--web.listen-address=" + addr, "--log.level=warn"},
		args...)...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	base := "http://" + addr
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 60*time.Second, 100*time.Millisecond, "prometheus did not get ready: %s", &logs)
	return base
}
