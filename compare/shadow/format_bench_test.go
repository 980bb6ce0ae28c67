package shadow

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/sink"
)

// BenchmarkFormats writes the benchmark's query logs into file:// in each
// format (records/s, stored bytes per record), then runs the report over
// them (records/s). SQLSHADOW_BENCH_RECORDS sets the records (default 1M).
func BenchmarkFormats(b *testing.B) {
	n := benchRecords(b)
	ctx := context.Background()
	src, err := sink.OpenBucket(ctx, "file://"+benchLogsDir(b, n))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = src.Close() }()
	var recs []dataset.QueryLog
	r := sink.NewReader(src, QueryLogsDataset, time.Time{}, time.Time{}, nil)
	var dec dataset.QueryLogDecoder
	for {
		line, err := r.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		var rec dataset.QueryLog
		if err := dec.Decode(line, &rec); err != nil {
			b.Fatal(err)
		}
		recs = append(recs, rec)
	}
	_ = r.Close()
	window := Window{From: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}

	for _, f := range []sink.Format{sink.JSONL(), sink.JSONLGzip(0), queryLogsFormat()} {
		root := b.TempDir()
		b.Run(f.Name()+"/write", func(b *testing.B) {
			var size int64
			for b.Loop() {
				_ = os.RemoveAll(root)
				bucket, err := sink.OpenBucket(ctx, "file://"+root)
				if err != nil {
					b.Fatal(err)
				}
				w, err := sink.NewWriter(bucket, QueryLogsDataset, &sink.WriterOptions{Format: f})
				if err != nil {
					b.Fatal(err)
				}
				for i := range recs {
					if err := w.Write(ctx, time.Time(recs[i].TS), &recs[i]); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(ctx); err != nil {
					b.Fatal(err)
				}
				_ = bucket.Close()
			}
			b.StopTimer()
			size = dirSize(b, root)
			b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(size)/float64(len(recs)), "bytes/record")
		})
		b.Run(f.Name()+"/report", func(b *testing.B) {
			bucket, err := sink.OpenBucket(ctx, "file://"+root)
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = bucket.Close() }()
			s := New(bucket, window, nil)
			var rep *Report
			for b.Loop() {
				if rep, err = s.Report(ctx); err != nil {
					b.Fatal(err)
				}
			}
			if rep.Counts.Records != int64(len(recs)) {
				b.Fatalf("read %d records, want %d", rep.Counts.Records, len(recs))
			}
			b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// dirSize returns the bytes of the files under root.
func dirSize(b *testing.B, root string) int64 {
	var n int64
	err := filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}
