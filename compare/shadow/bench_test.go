package shadow

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sqlshadow/sqlshadow/sink"
)

// duckDBAnchor is DuckDB 1.5.5's rate on this machine for the same per-route
// report with an explicit schema: 2 million records in 3.1 s.
const duckDBAnchor = 2_000_000 / 3.1

// benchRecords is the benchmark's dataset size: SQLSHADOW_BENCH_RECORDS, or
// 1 million by default (10 million take about a minute to generate once).
func benchRecords(b *testing.B) int {
	if s := os.Getenv("SQLSHADOW_BENCH_RECORDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 2 {
			b.Fatalf("SQLSHADOW_BENCH_RECORDS=%q", s)
		}
		return n
	}
	return 1_000_000
}

// benchQuery is one query text of the generated workload.
type benchQuery struct {
	text, hash, template, route, result, columns string
	baseMS, factor                               float64
	fails, wrong                                 bool
}

// benchWorkload: 200 groups (150 routes, 50 route-less templates) of 50
// literals each; group 0 is 2x slower on the shadow, group 1 fails 2% of
// the time on the shadow, group 2 answers wrongly 1% of the time.
func benchWorkload() [][]benchQuery {
	hexMD5 := func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
	groups := make([][]benchQuery, 200)
	for g := range groups {
		route := ""
		tmpl := fmt.Sprintf("SELECT o.id, o.user_id, o.total, o.status, o.created_at FROM orders_%d o JOIN users u ON u.id = o.user_id WHERE o.user_id = ? AND o.status = 'open' ORDER BY o.created_at DESC LIMIT 50", g)
		if g < 150 {
			route = "route_" + strconv.Itoa(g)
			tmpl = "/*route='" + route + "'*/ " + tmpl
		}
		for lit := range 50 {
			text := strings.Replace(tmpl, "?", strconv.Itoa(1000+lit*37), 1)
			q := benchQuery{
				text: text, hash: hexMD5(text), template: hexMD5(tmpl), route: route,
				result: hexMD5("r" + text), columns: hexMD5("c" + tmpl),
				baseMS: 1 + float64(g%17), factor: 1,
			}
			switch g {
			case 0:
				q.factor = 2
			case 1:
				q.fails = true
			case 2:
				q.wrong = true
			}
			groups[g] = append(groups[g], q)
		}
	}
	return groups
}

// appendBenchRecord appends one query-log line as the proxy writes it.
func appendBenchRecord(b []byte, ts time.Time, qid int, shadow bool, q *benchQuery, dur, primDur float64, ok bool, result string) []byte {
	b = append(b, `{"ts":"`...)
	b = ts.AppendFormat(b, sink.TimeFormat)
	b = append(b, `","query_id":"b-`...)
	b = strconv.AppendInt(b, int64(qid), 16)
	if shadow {
		b = append(b, `","target":"shadow"`...)
	} else {
		b = append(b, `","target":"primary"`...)
	}
	b = append(b, `,"command":"COM_QUERY","query_text":"`...)
	b = append(b, q.text...) // the texts need no escaping
	b = append(b, `","query_hash":"`...)
	b = append(b, q.hash...)
	b = append(b, `","template_hash":"`...)
	b = append(b, q.template...)
	if q.route != "" {
		b = append(b, `","route":"`...)
		b = append(b, q.route...)
	}
	b = append(b, `","database":"shop","user":"app","client_addr":"10.1.2.3:51234","conn_id":`...)
	b = strconv.AppendInt(b, int64(qid%977), 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, int64(qid/977), 10)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, dur, 'f', 3, 64)
	if !shadow {
		b = append(b, `,"ttfb_ms":`...)
		b = strconv.AppendFloat(b, dur/2, 'f', 3, 64)
		b = append(b, `,"client_wait_ms":0`...)
	} else {
		b = append(b, `,"queue_ms":0.012`...)
	}
	b = append(b, `,"server_conn_id":77,"success":`...)
	b = strconv.AppendBool(b, ok)
	if !ok {
		b = append(b, `,"error_code":1054,"sql_state":"42S22","error":"Unknown column 'o.total' in 'field list'","rows":0`...)
	} else {
		b = append(b, `,"rows":50,"result_hash":"`...)
		b = append(b, result...)
		b = append(b, `","columns_hash":"`...)
		b = append(b, q.columns...)
		b = append(b, '"')
	}
	if shadow {
		b = append(b, `,"primary_duration_ms":`...)
		b = strconv.AppendFloat(b, primDur, 'f', 3, 64)
		b = append(b, `,"primary_success":true,"primary_error_code":0,"primary_rows":50,"primary_result_hash":"`...)
		b = append(b, q.result...)
		b = append(b, '"')
	}
	b = append(b, `,"bytes_sent":180,"bytes_recv":4096}`...)
	return append(b, '\n')
}

// generateBenchLogs writes n records (n/2 commands, both sides) as gzip
// JSONL objects of the sink's layout under root, over 24 hours, with files
// of 100,000 records written in parallel.
func generateBenchLogs(root string, n int) error {
	groups := benchWorkload()
	const perFile = 100_000
	files := (n + perFile - 1) / perFile
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, files)
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for f := range files {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs <- writeBenchFile(root, f, files, min(perFile, n-f*perFile), start, groups)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func writeBenchFile(root string, f, files, records int, start time.Time, groups [][]benchQuery) error {
	hour := start.Add(time.Duration(f*24/files) * time.Hour)
	dir := filepath.Join(root, QueryLogsDataset, hour.Format("year=2006/month=01/day=02/hour=15"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	out, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s_%08x.jsonl.gz", hour.Format("20060102_150405"), f)))
	if err != nil {
		return err
	}
	zw, _ := gzip.NewWriterLevel(out, gzip.BestSpeed)
	bw := bufio.NewWriterSize(zw, 1<<20)
	rng := rand.New(rand.NewPCG(uint64(f), 7))
	var line []byte
	for i := 0; i < records; i += 2 {
		g := groups[rng.IntN(len(groups))]
		q := &g[rng.IntN(len(g))]
		ts := hour.Add(time.Duration(float64(time.Hour) * float64(i) / float64(records)))
		qid := f*records + i
		prim := q.baseMS * math.Exp(0.3*rng.NormFloat64())
		shad := prim * q.factor * math.Exp(0.1*rng.NormFloat64())
		line = appendBenchRecord(line[:0], ts, qid, false, q, prim, 0, true, q.result)
		ok, result := true, q.result
		if q.fails && rng.IntN(50) == 0 {
			ok = false
		}
		if q.wrong && rng.IntN(100) == 0 {
			result = "00000000000000000000000000000000"
		}
		if i+1 < records {
			line = appendBenchRecord(line, ts, qid, true, q, shad, prim, ok, result)
		}
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return out.Close()
}

// benchLogsDir returns a directory holding n generated records, generating
// them on first use only: it is kept in the temporary directory between
// runs (delete $TMPDIR/sqlshadow-compare-bench-* to regenerate).
func benchLogsDir(b *testing.B, n int) string {
	root := filepath.Join(os.TempDir(), fmt.Sprintf("sqlshadow-compare-bench-v1-%d", n))
	done := filepath.Join(root, "complete")
	if _, err := os.Stat(done); err == nil {
		return root
	}
	_ = os.RemoveAll(root)
	start := time.Now()
	if err := generateBenchLogs(root, n); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d records in %s under %s", n, time.Since(start).Round(time.Millisecond), root)
	return root
}

// cpuSeconds returns the process's user+system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// peakRSS returns the process's peak resident set size (VmHWM), or 0.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

// BenchmarkShadowReport is the whole analysis over gzip JSONL objects on
// file://: listing, parallel decompression and decoding, aggregation, the
// tests (bootstrap included) and the report. It reports records/s, the
// ratio to the DuckDB anchor, and the process's peak RSS.
func BenchmarkShadowReport(b *testing.B) {
	n := benchRecords(b)
	root := benchLogsDir(b, n)
	ctx := context.Background()
	bucket, err := sink.OpenBucket(ctx, "file://"+root)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = bucket.Close() }()
	s := New(bucket, Window{From: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}, nil)
	runtime.GC()
	cpu0 := cpuSeconds()
	b.ResetTimer()
	var rep *Report
	for b.Loop() {
		if rep, err = s.Report(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu := cpuSeconds() - cpu0
	if rep.Counts.Records != int64(n) {
		b.Fatalf("read %d records, want %d", rep.Counts.Records, n)
	}
	if len(rep.Findings) != 3 {
		b.Errorf("findings: %+v", rep.Findings)
	}
	perSec := float64(n) * float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(perSec, "records/s")
	b.ReportMetric(perSec/duckDBAnchor, "x_duckdb")
	b.ReportMetric(peakRSS()/(1<<20), "peak_RSS_MiB")
	// The machine is shared: CPU time is the figure that does not depend on
	// the neighbours. records per CPU second, times the cores, is the rate
	// on an idle machine if decoding scales (it is parallel per object).
	b.ReportMetric(float64(n)*float64(b.N)/cpu, "records/cpu_s")
}
