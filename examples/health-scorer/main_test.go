package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/scoring/scoringtest"
)

const metricsFile = `{"clusters": {
  "good": {"tier": "B", "alerts_7d": 0, "alerts_last_hour": 0,
           "values": {"cpu_util_pct": 20, "fe_heap_used_pct": 30, "disk_used_pct": 40, "compaction_score": 10,
                      "query_latency_p99_s": 0.5, "query_error_rate_pct": 0, "be_alive_pct": 100, "fe_alive_pct": 100,
                      "query_queue_pending": 0, "load_failure_rate_pct": 0, "be_mem_used_pct": 50, "tablet_rowset_max": 50},
           "week_ago": {"cpu_util_pct": 10}},
  "bad":  {"tier": "A", "alerts_7d": 9, "alerts_last_hour": 7,
           "values": {"cpu_util_pct": 95, "fe_heap_used_pct": 90, "disk_used_pct": 92, "query_latency_p99_s": 25}}}}`

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "metrics.json")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

func runCmd(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestOnceMetricsFile(t *testing.T) {
	code, out, errs := runCmd(t, context.Background(), "-metrics-file", writeFile(t, metricsFile), "-once", "-metrics-listen", "")
	require.Equal(t, 1, code, errs) // a cluster is not healthy: findings
	var snaps []dataset.HealthScore
	require.NoError(t, json.Unmarshal([]byte(out), &snaps))
	require.Len(t, snaps, 2)
	byName := map[string]dataset.HealthScore{}
	for _, s := range snaps {
		byName[s.Cluster] = s
	}
	require.Equal(t, dataset.ClassHealthy, byName["good"].Class)
	require.Equal(t, 10.0, *byName["good"].Dimensions[0].Delta, "trend from week_ago")
	bad := byName["bad"]
	require.Equal(t, dataset.ClassCritical, bad.Class)
	require.Equal(t, 4.0/12, bad.Confidence, "eight dimensions missing, never zero")
	require.Len(t, bad.Missing, 8)
	require.Contains(t, errs, "trigger=new_critical", "the sentinel's task is logged")
}

func TestOnceAllHealthyAndEnvironment(t *testing.T) {
	t.Setenv("SQLSHADOW_METRICS_FILE", writeFile(t, metricsFile))
	t.Setenv("SQLSHADOW_CLUSTER", "good")
	code, out, errs := runCmd(t, context.Background(), "-once")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, `"cluster": "good"`)
	require.NotContains(t, out, `"bad"`)
}

func TestOnceInconclusive(t *testing.T) {
	code, _, errs := runCmd(t, context.Background(), "-once",
		"-metrics-file", writeFile(t, `{"clusters": {"empty": {"values": {}}}}`))
	require.Equal(t, 3, code, errs)
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-once"},
		{"-once", "-prometheus", "http://127.0.0.1:1", "-scrape", "http://127.0.0.1:1/metrics"},
		{"-once", "-scrape", "http://127.0.0.1:1/metrics"},
		{"-once", "-metrics-file", "/nonexistent.json"},
		{"-once", "-metrics-file", writeFile(t, metricsFile), "-tier", "A+"},
		{"-no-such-flag"},
	} {
		code, _, _ := runCmd(t, context.Background(), args...)
		require.Equal(t, 2, code, "%v", args)
	}
}

func TestOnceScrape(t *testing.T) {
	sr := scoringtest.NewStarRocks(1, 2)
	sr.SetRealTime(true)
	fes, bes := sr.Serve(t)
	code, out, errs := runCmd(t, context.Background(), "-once", "-scrape", strings.Join(append(fes, bes...), ","),
		"-cluster", "sim", "-tier", "s", "-rate-window", "300ms")
	require.Equal(t, 0, code, errs)
	var snaps []dataset.HealthScore
	require.NoError(t, json.Unmarshal([]byte(out), &snaps))
	require.Len(t, snaps, 1)
	require.Equal(t, "S", snaps[0].Tier)
	require.Equal(t, 0.8, snaps[0].TierFactor)
	require.Equal(t, 1.0, snaps[0].Confidence, "missing: %v", snaps[0].Missing)
	require.Equal(t, "scrape", snaps[0].Source)
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

func TestServesWritesAndNotifies(t *testing.T) {
	var mu sync.Mutex
	var hooks []dataset.SentinelTask
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var task dataset.SentinelTask
		if json.NewDecoder(r.Body).Decode(&task) == nil {
			mu.Lock()
			hooks = append(hooks, task)
			mu.Unlock()
		}
	}))
	defer hook.Close()
	dir := t.TempDir()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var out, errb bytes.Buffer
	go func() {
		done <- run(ctx, []string{"-metrics-file", writeFile(t, metricsFile), "-interval", "50ms",
			"-bucket-url", "file://" + dir, "-webhook", hook.URL, "-metrics-listen", addr}, &out, &errb)
	}()
	metrics := func() string {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	require.Eventually(t, func() bool {
		m := metrics()
		return strings.Contains(m, `sqlshadow_health_score{cluster="bad"}`) &&
			strings.Contains(m, `sqlshadow_health_triggers_total{cluster="bad",trigger="new_critical"} 1`)
	}, 20*time.Second, 50*time.Millisecond)
	resp, err := http.Get("http://" + addr + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	// Three more evaluations of the critical cluster: no task while it cools down.
	evals := regexp.MustCompile(`sqlshadow_health_evaluations_total\{cluster="bad",result="ok"\} (\d+)`)
	first := evals.FindStringSubmatch(metrics())
	require.NotNil(t, first)
	require.Eventually(t, func() bool {
		m := evals.FindStringSubmatch(metrics())
		return m != nil && atoi(t, m[1]) >= atoi(t, first[1])+3
	}, 20*time.Second, 50*time.Millisecond)
	require.Contains(t, metrics(), `sqlshadow_health_triggers_total{cluster="bad",trigger="new_critical"} 1`)
	cancel()
	select {
	case code := <-done:
		require.Equal(t, 0, code, errb.String())
	case <-time.After(30 * time.Second):
		t.Fatal("no graceful shutdown")
	}
	mu.Lock()
	require.Len(t, hooks, 1, "one task per cooldown")
	require.Equal(t, dataset.TriggerNewCritical, hooks[0].Trigger)
	mu.Unlock()

	// Both datasets landed in Hive partitions, flushed at shutdown.
	found := map[string]int{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			require.Regexp(t, `^(health-scores|triggers)/year=\d{4}/month=\d\d/day=\d\d/hour=\d\d/\d{8}_\d{6}_[0-9a-f]{8}\.jsonl$`, rel)
			found[strings.SplitN(rel, "/", 2)[0]]++
		}
		return err
	}))
	require.NotZero(t, found["health-scores"], fmt.Sprint(found))
	require.NotZero(t, found["triggers"], fmt.Sprint(found))
}

func atoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}
