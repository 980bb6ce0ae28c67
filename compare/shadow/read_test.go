package shadow

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/sink"
)

// writeWithSink writes the lines of bufs with sink Writers, buffer i in
// formats[i%len(formats)]: a bucket whose writers switched format.
func writeWithSink(t testing.TB, root string, bufs [][]byte, formats ...sink.Format) {
	t.Helper()
	ctx := context.Background()
	bucket, err := sink.OpenBucket(ctx, "file://"+root)
	require.NoError(t, err)
	defer func() { require.NoError(t, bucket.Close()) }()
	for i, buf := range bufs {
		w, err := sink.NewWriter(bucket, QueryLogsDataset, &sink.WriterOptions{Format: formats[i%len(formats)]})
		require.NoError(t, err)
		var dec dataset.QueryLogDecoder
		var rec dataset.QueryLog
		sc := bufio.NewScanner(bytes.NewReader(buf))
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			require.NoError(t, dec.Decode(sc.Bytes(), &rec))
			require.NoError(t, w.Write(ctx, time.Time(rec.TS), &rec))
		}
		require.NoError(t, w.Close(ctx))
	}
}

// TestShadowReadsMixedFormats: a window whose objects are partly Parquet,
// partly gzip JSON Lines reads whole, with the findings and counts of the
// same logs read directly; a corrupt Parquet object is counted and skipped.
func TestShadowReadsMixedFormats(t *testing.T) {
	root := t.TempDir()
	writeWithSink(t, root, genShadowLogs(1, genStart, 6*time.Hour, 4, plantedScenario()), queryLogsFormat(), sink.JSONLGzip(0))
	var parquetObjects int
	require.NoError(t, filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && filepath.Ext(path) == ".parquet" {
			parquetObjects++
		}
		return err
	}))
	require.Positive(t, parquetObjects)

	ctx := context.Background()
	bucket := openFileBucket(t, root)
	window := Window{From: genStart, To: genStart.Add(24 * time.Hour)}
	opts := &Options{Now: func() time.Time { return genStart.Add(48 * time.Hour) }}
	rep, err := New(bucket, window, opts).Report(ctx)
	require.NoError(t, err)
	direct := plantedReport(t)
	require.Equal(t, direct.Counts, rep.Counts)
	require.Equal(t, direct.Findings, rep.Findings)
	require.Zero(t, rep.Input.UnreadableObjects)

	// A Parquet object cut in half, as a torn copy would leave it.
	var whole string
	require.NoError(t, filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && whole == "" && filepath.Ext(path) == ".parquet" {
			whole = path
		}
		return err
	}))
	data, err := os.ReadFile(whole)
	require.NoError(t, err)
	corrupt := filepath.Join(filepath.Dir(whole), "20261120_100000_000000c1.parquet")
	require.NoError(t, os.WriteFile(corrupt, data[:len(data)/2], 0o644))
	rep, err = New(bucket, window, opts).Report(ctx)
	require.NoError(t, err)
	require.Equal(t, direct.Counts, rep.Counts)
	require.Equal(t, 1, rep.Input.UnreadableObjects)
	require.Equal(t, UnreadableCorrupt, rep.Input.Unreadable[0].Reason)
	require.Equal(t, filepath.Base(corrupt), filepath.Base(rep.Input.Unreadable[0].Key))
}
