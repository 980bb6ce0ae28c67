package sink_test

import (
	"context"
	"encoding/json"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/sink"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

// stdRecord is a query-log record without its fast encoder: the writer
// encodes it with encoding/json.
type stdRecord dataset.QueryLog

// benchRecords returns query-log records as the proxy writes them.
func benchRecords() []dataset.QueryLog {
	ttfb := 1.25
	base := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	out := make([]dataset.QueryLog, 1024)
	for i := range out {
		out[i] = dataset.QueryLog{
			TS: sink.Time(base.Add(time.Duration(i) * time.Millisecond)), QueryID: "0b6f7c1e-4f1a-4c55-9a57-6d2f0c3f1a2b",
			Target: "primary", Command: "COM_QUERY",
			QueryText: "SELECT c_custkey, sum(o_totalprice) FROM orders JOIN customer ON o_custkey = c_custkey WHERE o_orderdate >= '2026-01-01' GROUP BY c_custkey ORDER BY 2 DESC LIMIT 100",
			QueryHash: "9e107d9d372bb6826bd81d3542a419d6", TemplateHash: "e4d909c290d0fb1ca068ffaddf22cbd0", Route: "screening",
			Database: "tpch", User: "analyst", ClientAddr: "10.1.2.3:53412", ConnID: 42, Seq: uint64(i), DurationMS: 12.5,
			TTFBMS: &ttfb, ServerConnID: 1234, Success: true, Rows: 100, ResultHash: "2f1c0a9b8d7e6f5a4b3c2d1e0f9a8b7c",
			ColumnsHash: "a1b2c3d4e5f60718293a4b5c6d7e8f90", BytesSent: 180, BytesRecv: 5120,
		}
	}
	return out
}

// benchWriter writes recs round and round into a file:// bucket with opts,
// Close included, and reports records/s and CPU per record.
func benchWriter[R any](b *testing.B, opts *sink.WriterOptions, recs []R, ts func(*R) time.Time) {
	ctx := context.Background()
	bucket, err := sink.OpenBucket(ctx, "file://"+b.TempDir())
	require.NoError(b, err)
	defer func() { _ = bucket.Close() }()
	line, _ := json.Marshal(recs[0])
	w, err := sink.NewWriter(bucket, "query-logs", opts)
	require.NoError(b, err)
	b.SetBytes(int64(len(line) + 1))
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := range b.N {
		r := &recs[i%len(recs)]
		if err := w.Write(ctx, ts(r), r); err != nil {
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

func stdRecords() []stdRecord {
	recs := benchRecords()
	out := make([]stdRecord, len(recs))
	for i := range recs {
		out[i] = stdRecord(recs[i])
	}
	return out
}

func stdRecordTS(r *stdRecord) time.Time { return time.Time(r.TS) }

// BenchmarkWriterFile measures one goroutine writing query-log records
// through encoding/json into a file:// bucket, Close (every record durable)
// included.
func BenchmarkWriterFile(b *testing.B) {
	b.Run("plain", func(b *testing.B) { benchWriter(b, nil, stdRecords(), stdRecordTS) })
	b.Run("gzip", func(b *testing.B) { benchWriter(b, &sink.WriterOptions{Gzip: true}, stdRecords(), stdRecordTS) })
}

// BenchmarkWriteDrop measures the cost of Write on a proxy's client path
// when the bucket is down: drop mode, as many goroutines as GOMAXPROCS, a
// bucket that never answers, so after the first BufferBytes every Write is a
// drop. (An accepted Write costs what BenchmarkWriterFile measures: encoding
// plus a locked append.)
func BenchmarkWriteDrop(b *testing.B) {
	recs := benchRecords()
	run := func(b *testing.B, bucket *blob.Bucket) {
		ctx := context.Background()
		w, err := sink.NewWriter(bucket, "query-logs", &sink.WriterOptions{DropWhenFull: true, BufferBytes: 16 << 20})
		require.NoError(b, err)
		b.ReportAllocs()
		cpu0 := cpuTime()
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
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(w.Stats().Dropped)/float64(b.N), "dropped/op")
		closeCtx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_ = w.Close(closeCtx)
	}
	b.Run("full", func(b *testing.B) {
		under, err := sink.OpenBucket(context.Background(), "mem://")
		require.NoError(b, err)
		defer func() { _ = under.Close() }()
		fb := sinktest.NewFaultyBucket(under, nil)
		fb.Hang()
		run(b, fb.Bucket())
	})
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

// BenchmarkWriterFileAppender is BenchmarkWriterFile/plain with the records
// encoding themselves (dataset.QueryLog is a sink.JSONAppender), as the proxy
// writes them.
func BenchmarkWriterFileAppender(b *testing.B) {
	benchWriter(b, nil, benchRecords(), func(r *dataset.QueryLog) time.Time { return time.Time(r.TS) })
}
