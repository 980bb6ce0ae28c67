package investigate_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/internal/testdb"
)

// plant is one planted series: name{labels} with value f(t) for t in
// [from, to] every step.
type plant struct {
	name   string
	labels string
	f      func(frac float64) float64 // frac: 0 at from, 1 at to
}

// startPrometheus backfills the planted series into a TSDB with promtool
// (the real history a real Prometheus would have scraped) and starts a real
// Prometheus on 127.0.0.1 over it. It returns the server's URL.
func startPrometheus(t *testing.T, from, to time.Time, step time.Duration, series []plant) string {
	t.Helper()
	bin := testdb.RequireBinary(t, "prometheus")
	promtool := testdb.RequireBinary(t, "promtool")
	dir := t.TempDir()
	var om strings.Builder
	byName := map[string][]plant{}
	var names []string
	for _, s := range series {
		if byName[s.name] == nil {
			names = append(names, s.name)
		}
		byName[s.name] = append(byName[s.name], s)
	}
	n := int(to.Sub(from) / step)
	for _, name := range names {
		fmt.Fprintf(&om, "# TYPE %s gauge\n", name)
		for _, s := range byName[name] {
			for i := 0; i <= n; i++ {
				ts := from.Add(time.Duration(i) * step)
				fmt.Fprintf(&om, "%s{%s} %g %d\n", name, s.labels, s.f(float64(i)/float64(n)), ts.Unix())
			}
		}
	}
	om.WriteString("# EOF\n")
	src := filepath.Join(dir, "planted.om")
	require.NoError(t, os.WriteFile(src, []byte(om.String()), 0o600))
	data := filepath.Join(dir, "data")
	out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", src, data).CombinedOutput()
	require.NoError(t, err, "promtool: %s", out)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte("global:\n  scrape_interval: 1m\n"), 0o600))

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	var logs strings.Builder
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+data,
		"--storage.tsdb.retention.time=30d", "--web.listen-address="+addr, "--log.level=warn")
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
