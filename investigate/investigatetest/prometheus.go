// Package investigatetest helps tests of investigations: a real Prometheus
// on 127.0.0.1 whose history is planted series (StartPrometheus), and the
// planted StarRocks metrics of a cluster (Cluster).
package investigatetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/internal/promtest"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
)

// Series is one planted series: Name{Labels} with the value F(frac) at
// every step of [from, to], frac going from 0 at from to 1 at to.
type Series struct {
	Name   string
	Labels string
	F      func(frac float64) float64
}

// StartPrometheus backfills the planted series into a TSDB with promtool
// (the real history a real Prometheus would have scraped) and starts a real
// Prometheus on 127.0.0.1 over it. It returns the server's URL; the server is
// stopped when the test ends. It needs the prometheus and promtool
// binaries (skipping, or failing under SQLSHADOW_REQUIRE_DB=1, without them).
func StartPrometheus(t testing.TB, from, to time.Time, step time.Duration, series []Series) string {
	t.Helper()
	promtool := testdb.RequireBinary(t, "promtool")
	dir := t.TempDir()
	var om strings.Builder
	byName := map[string][]Series{}
	var names []string
	for _, s := range series {
		if byName[s.Name] == nil {
			names = append(names, s.Name)
		}
		byName[s.Name] = append(byName[s.Name], s)
	}
	n := int(to.Sub(from) / step)
	for _, name := range names {
		fmt.Fprintf(&om, "# TYPE %s gauge\n", name)
		for _, s := range byName[name] {
			for i := 0; i <= n; i++ {
				ts := from.Add(time.Duration(i) * step)
				fmt.Fprintf(&om, "%s{%s} %g %d\n", name, s.Labels, s.F(float64(i)/float64(n)), ts.Unix())
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

	return promtest.Start(t, dir, "--storage.tsdb.retention.time=30d")
}

// Linear returns the function from a (at frac 0) to b (at frac 1).
func Linear(a, b float64) func(float64) float64 {
	return func(f float64) float64 { return a + (b-a)*f }
}

// Flat returns the constant function v.
func Flat(v float64) func(float64) float64 { return func(float64) float64 { return v } }

// Cluster returns the series of one healthy StarRocks cluster (one FE and
// one BE, instance "node1") that package scoring's and investigate's
// queries read, with overrides by key, each a function of frac giving:
// "disk" (used %, default 50), "compaction" (score, 10), "heap" (FE heap
// used %, 40), "errors" (query error rate %, 0.1), "alive" (alive BEs of 3,
// 3).
func Cluster(cluster string, over map[string]func(float64) float64) []Series {
	get := func(k string, def func(float64) float64) func(float64) float64 {
		if f, ok := over[k]; ok {
			return f
		}
		return def
	}
	sel := `cluster="` + cluster + `",instance="node1"`
	const gib = 1 << 30
	disk := get("disk", Flat(50))
	heap := get("heap", Flat(40))
	errPct := get("errors", Flat(0.1))
	return []Series{
		{"starrocks_be_disks_total_capacity", sel, Flat(1000 * gib)},
		{"starrocks_be_disks_avail_capacity", sel, func(f float64) float64 { return 1000 * gib * (1 - disk(f)/100) }},
		{"starrocks_be_tablet_cumulative_max_compaction_score", sel, get("compaction", Flat(10))},
		{"jvm_heap_size_bytes", sel + `,type="used"`, func(f float64) float64 { return 8 * gib * heap(f) / 100 }},
		{"jvm_heap_size_bytes", sel + `,type="max"`, Flat(8 * gib)},
		{"starrocks_fe_query_total", sel, func(f float64) float64 { return f * 180 * 1000 }},
		{"starrocks_fe_query_err", sel, func(f float64) float64 { return f * 180 * 10 * errPct(f) }},
		{"node_info", sel + `,type="be_node_num",state="alive"`, get("alive", Flat(3))},
		{"node_info", sel + `,type="be_node_num",state="total"`, Flat(3)},
	}
}
