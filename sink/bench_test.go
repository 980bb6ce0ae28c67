package sink_test

import (
	"context"
	"encoding/json"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/sink"
)

// benchRecord is shaped like a mirror query-log record (DESIGN.md).
type benchRecord struct {
	TS           sink.Time `json:"ts"`
	QueryID      string    `json:"query_id"`
	Target       string    `json:"target"`
	Command      string    `json:"command"`
	QueryText    string    `json:"query_text,omitempty"`
	QueryHash    string    `json:"query_hash,omitempty"`
	TemplateHash string    `json:"template_hash,omitempty"`
	Route        string    `json:"route,omitempty"`
	Database     string    `json:"database"`
	User         string    `json:"user"`
	ClientAddr   string    `json:"client_addr"`
	ConnID       uint64    `json:"conn_id"`
	Seq          uint64    `json:"seq"`
	DurationMS   float64   `json:"duration_ms"`
	TTFBMS       *float64  `json:"ttfb_ms,omitempty"`
	ServerConnID uint32    `json:"server_conn_id"`
	Success      bool      `json:"success"`
	Rows         int64     `json:"rows"`
	ResultHash   string    `json:"result_hash,omitempty"`
	ColumnsHash  string    `json:"columns_hash,omitempty"`
	BytesSent    int64     `json:"bytes_sent"`
	BytesRecv    int64     `json:"bytes_recv"`
}

func benchRecords() []benchRecord {
	ttfb := 1.25
	base := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	out := make([]benchRecord, 1024)
	for i := range out {
		out[i] = benchRecord{
			TS: sink.Time(base.Add(time.Duration(i) * time.Millisecond)), QueryID: "0b6f7c1e-4f1a-4c55-9a57-6d2f0c3f1a2b",
			Target: "primary", Command: "COM_QUERY",
			QueryText:    "SELECT c_custkey, sum(o_totalprice) FROM orders JOIN customer ON o_custkey = c_custkey WHERE o_orderdate >= '2026-01-01' GROUP BY c_custkey ORDER BY 2 DESC LIMIT 100",
			QueryHash:    "9e107d9d372bb6826bd81d3542a419d6", TemplateHash: "e4d909c290d0fb1ca068ffaddf22cbd0", Route: "screening",
			Database: "tpch", User: "analyst", ClientAddr: "10.1.2.3:53412", ConnID: 42, Seq: uint64(i), DurationMS: 12.5,
			TTFBMS: &ttfb, ServerConnID: 1234, Success: true, Rows: 100, ResultHash: "2f1c0a9b8d7e6f5a4b3c2d1e0f9a8b7c",
			ColumnsHash: "a1b2c3d4e5f60718293a4b5c6d7e8f90", BytesSent: 180, BytesRecv: 5120,
		}
	}
	return out
}

func benchWriter(b *testing.B, gz bool) {
	ctx := context.Background()
	bucket, err := sink.OpenBucket(ctx, "file://"+b.TempDir())
	require.NoError(b, err)
	defer func() { _ = bucket.Close() }()
	recs := benchRecords()
	line, _ := json.Marshal(recs[0])
	w, err := sink.NewWriter(bucket, "query-logs", &sink.WriterOptions{Gzip: gz})
	require.NoError(b, err)
	b.SetBytes(int64(len(line) + 1))
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := range b.N {
		r := &recs[i%len(recs)]
		if err := w.Write(ctx, time.Time(r.TS), r); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/record")
}

// BenchmarkWriterFile measures one goroutine writing query-log records into
// a file:// bucket, Close (every record durable) included.
func BenchmarkWriterFile(b *testing.B) {
	b.Run("plain", func(b *testing.B) { benchWriter(b, false) })
	b.Run("gzip", func(b *testing.B) { benchWriter(b, true) })
}

// BenchmarkWriteDrop measures the cost of Write on a proxy's client path:
// drop mode, many goroutines, a bucket that never answers (every Write is
// either buffered or dropped, none waits).
func BenchmarkWriteDrop(b *testing.B) {
	ctx := context.Background()
	bucket, err := sink.OpenBucket(ctx, "mem://")
	require.NoError(b, err)
	defer func() { _ = bucket.Close() }()
	recs := benchRecords()
	w, err := sink.NewWriter(bucket, "query-logs", &sink.WriterOptions{DropWhenFull: true})
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			r := &recs[i%len(recs)]
			i++
			if err := w.Write(ctx, time.Time(r.TS), r); err != nil && err != sink.ErrDropped {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if err := w.Close(ctx); err != nil {
		b.Fatal(err)
	}
}

// cpuTime returns the process's user and system CPU time in nanoseconds: on
// a loaded machine it shows the cost per record that wall time hides.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
