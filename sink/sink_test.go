package sink_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/sink"
)

func TestOpenBucketFileSkipsMetadata(t *testing.T) {
	dir := t.TempDir()
	b := openURL(t, "file://"+dir)
	w, err := sink.NewWriter(b, "ds", nil)
	require.NoError(t, err)
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	require.NoError(t, w.Write(context.Background(), ts, map[string]any{"ts": sink.Time(ts)}))
	require.NoError(t, w.Close(context.Background()))
	var files []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return err
	}))
	require.Len(t, files, 1, "no .attrs side files, no probe left: %v", files)
	require.Regexp(t, `^ds/year=2026/month=01/day=02/hour=03/\d{8}_\d{6}_[0-9a-f]{8}\.jsonl$`, files[0])
}

func TestOpenBucketFileCreatesDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	openURL(t, "file://"+dir)
	require.DirExists(t, dir)
}

func TestOpenBucketRefusesSideFiles(t *testing.T) {
	_, err := sink.OpenBucket(context.Background(), "file://"+t.TempDir()+"?metadata=sidecar")
	require.ErrorContains(t, err, "metadata=skip")
}

func TestOpenBucketProbeAcrossFilesystems(t *testing.T) {
	dir := t.TempDir()
	other := "/dev/shm"
	var a, b syscall.Stat_t
	if syscall.Stat(dir, &a) != nil || syscall.Stat(other, &b) != nil || a.Dev == b.Dev {
		t.Skipf("needs %s on another filesystem than %s", other, dir)
	}
	tmp, err := os.MkdirTemp(other, "sinktest")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(tmp) })
	t.Setenv("TMPDIR", tmp)

	_, err = sink.OpenBucket(context.Background(), "file://"+dir)
	var pe *sink.ProbeError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, tmp, pe.TempDir)
	require.ErrorContains(t, err, "TMPDIR")
	require.ErrorContains(t, err, "no_tmp_dir=1")
	require.ErrorIs(t, err, syscall.EXDEV)

	// The fix the message gives works.
	bk := openURL(t, "file://"+dir+"?no_tmp_dir=1")
	require.NoError(t, bk.WriteAll(context.Background(), "k", []byte("v"), nil))
}

func TestOpenBucketReadOnlyDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes anywhere")
	}
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o555))
	_, err := sink.OpenBucket(context.Background(), "file://"+dir)
	var pe *sink.ProbeError
	require.ErrorAs(t, err, &pe)
}

func TestWriteRejects(t *testing.T) {
	b := openURL(t, "mem://")
	w, err := sink.NewWriter(b, "ds", &sink.WriterOptions{BufferBytes: 1 << 10, MaxObjectBytes: 512})
	require.NoError(t, err)
	ctx := context.Background()
	now := time.Now()
	require.ErrorIs(t, w.Write(ctx, now, "a string"), sink.ErrNotObject)
	require.ErrorIs(t, w.Write(ctx, now, json.RawMessage(`[1]`)), sink.ErrNotObject)
	require.ErrorIs(t, w.Write(ctx, now, nil), sink.ErrNotObject)
	require.Error(t, w.Write(ctx, now, json.RawMessage(`{"a":`)))
	require.Error(t, w.Write(ctx, now, map[string]any{"f": func() {}}))
	require.ErrorIs(t, w.Write(ctx, now, map[string]string{"big": strings.Repeat("x", 2<<10)}), sink.ErrTooLarge)
	require.NoError(t, w.Write(ctx, now, json.RawMessage("{\n  \"a\": \"<b>\",\n  \"n\": 1\n}")))
	require.NoError(t, w.Write(ctx, now, map[string]string{"html": "<&>"}))
	require.NoError(t, w.Close(ctx))

	r := sink.NewReader(b, "ds", time.Time{}, time.Time{}, &sink.ReaderOptions{TimeField: "-"})
	var lines []string
	for {
		raw, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		lines = append(lines, string(raw))
	}
	require.Equal(t, []string{`{"a":"<b>","n":1}`, `{"html":"<&>"}`}, lines, "compact, one line, no HTML escaping")
}

func TestNewWriterErrors(t *testing.T) {
	b := openURL(t, "mem://")
	for _, ds := range []string{"", "/x", "x/", "a//b", "a/../b", "year=2026"} {
		_, err := sink.NewWriter(b, ds, nil)
		require.Error(t, err, ds)
	}
	_, err := sink.NewWriter(nil, "ds", nil)
	require.Error(t, err)
	_, err = sink.Objects(context.Background(), b, "", time.Time{}, time.Time{})
	require.Error(t, err)
}

func TestWriterMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	b := openURL(t, "mem://")
	w, err := sink.NewWriter(b, "query-logs", &sink.WriterOptions{Registerer: reg})
	require.NoError(t, err)
	_, err = sink.NewWriter(b, "query-logs", &sink.WriterOptions{Registerer: reg})
	require.Error(t, err, "one writer per dataset and registry")
	ctx := context.Background()
	for i := range 10 {
		require.NoError(t, w.Write(ctx, time.Now(), map[string]int{"i": i}))
	}
	require.NoError(t, w.Flush(ctx))
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP sqlshadow_sink_records_total Records accepted by Write.
# TYPE sqlshadow_sink_records_total counter
sqlshadow_sink_records_total{dataset="query-logs"} 10
# HELP sqlshadow_sink_records_dropped_total Records refused because the buffer was full (drop mode).
# TYPE sqlshadow_sink_records_dropped_total counter
sqlshadow_sink_records_dropped_total{dataset="query-logs"} 0
# HELP sqlshadow_sink_objects_total Objects written to the bucket.
# TYPE sqlshadow_sink_objects_total counter
sqlshadow_sink_objects_total{dataset="query-logs"} 1
# HELP sqlshadow_sink_buffered_bytes Bytes accepted and not yet written.
# TYPE sqlshadow_sink_buffered_bytes gauge
sqlshadow_sink_buffered_bytes{dataset="query-logs"} 0
`), "sqlshadow_sink_records_total", "sqlshadow_sink_records_dropped_total", "sqlshadow_sink_objects_total", "sqlshadow_sink_buffered_bytes"))
	n, err := testutil.GatherAndCount(reg)
	require.NoError(t, err)
	require.Greater(t, n, 5)
	require.NoError(t, w.Close(ctx))
	require.NoError(t, w.Close(ctx), "Close is idempotent")
	require.ErrorIs(t, w.Flush(ctx), sink.ErrClosed)
	n, err = testutil.GatherAndCount(reg)
	require.NoError(t, err)
	require.Zero(t, n, "Close unregisters")
	w2, err := sink.NewWriter(b, "query-logs", &sink.WriterOptions{Registerer: reg})
	require.NoError(t, err)
	require.NoError(t, w2.Close(ctx))
}

func TestReaderCorruptGzip(t *testing.T) {
	b := openURL(t, "mem://")
	ctx := context.Background()
	key := "ds/year=2026/month=01/day=01/hour=00/20260101_000000_00000001.jsonl.gz"
	require.NoError(t, b.WriteAll(ctx, key, []byte("not gzip at all"), nil))
	r := sink.NewReader(b, "ds", time.Time{}, time.Time{}, nil)
	_, err := r.Next(ctx)
	require.ErrorIs(t, err, io.EOF)
	require.EqualValues(t, 1, r.Stats().Corrupt)
}

func TestTimeJSON(t *testing.T) {
	ts := time.Date(2026, 11, 22, 1, 2, 3, 4000, time.FixedZone("X", 3600))
	b, err := json.Marshal(struct {
		TS sink.Time `json:"ts"`
	}{sink.Time(ts)})
	require.NoError(t, err)
	require.JSONEq(t, `{"ts":"2026-11-22T00:02:03.000004Z"}`, string(b))
	var back struct {
		TS sink.Time `json:"ts"`
	}
	require.NoError(t, json.Unmarshal(b, &back))
	require.True(t, ts.Equal(time.Time(back.TS)))
	require.NoError(t, json.Unmarshal([]byte(`{"ts":"2026-11-22T01:02:03+01:00"}`), &back))
	require.Equal(t, "2026-11-22T00:02:03.000000Z", back.TS.String())
	require.Error(t, json.Unmarshal([]byte(`{"ts":12}`), &back))
	require.Error(t, json.Unmarshal([]byte(`{"ts":"yesterday"}`), &back))
}

func TestReaderObjectVanishes(t *testing.T) {
	b := openURL(t, "mem://")
	ctx := context.Background()
	w, err := sink.NewWriter(b, "ds", nil)
	require.NoError(t, err)
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	for i := range 3 {
		ts := t0.Add(time.Duration(i) * time.Hour)
		require.NoError(t, w.Write(ctx, ts, map[string]any{"ts": sink.Time(ts), "i": i}))
	}
	require.NoError(t, w.Close(ctx))
	objs, err := sink.Objects(ctx, b, "ds", time.Time{}, time.Time{})
	require.NoError(t, err)
	require.Len(t, objs, 3)

	r := sink.NewReader(b, "ds", time.Time{}, time.Time{}, nil)
	first, err := r.Next(ctx)
	require.NoError(t, err)
	require.Contains(t, string(first), `"i":0`)
	require.NoError(t, b.Delete(ctx, objs[1].Key)) // e.g. a retention job
	last, err := r.Next(ctx)
	require.NoError(t, err)
	require.Contains(t, string(last), `"i":2`)
	_, err = r.Next(ctx)
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, sink.ReaderStats{Objects: 2, Records: 2, Missing: 1}, r.Stats())
}
