package sinktest_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/sqlshadow/sqlshadow/sink"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRecorder(t *testing.T) {
	var r sinktest.Recorder
	ctx := context.Background()
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, r.Write(ctx, ts, map[string]int{"a": 1}))
	require.NoError(t, r.Write(ctx, ts, json.RawMessage(`{"a":2}`)))
	require.NoError(t, r.Flush(ctx))
	require.Len(t, r.Lines(), 2)
	require.Equal(t, []map[string]any{{"a": 1.0}, {"a": 2.0}}, r.Maps())
	got, err := sinktest.Decode[struct{ A int }](&r)
	require.NoError(t, err)
	require.Equal(t, 2, got[1].A)
	require.NoError(t, r.Close(ctx))
	require.ErrorIs(t, r.Write(ctx, ts, map[string]int{}), sink.ErrClosed)
}

// The in-memory bucket passes the suite from here too, so the suite itself
// is exercised by this package's tests.
func TestConformanceMemblob(t *testing.T) {
	sinktest.TestBucket(t, sinktest.Harness{
		Open: func(t *testing.T) *blob.Bucket {
			b := memblob.OpenBucket(nil)
			t.Cleanup(func() { _ = b.Close() })
			return b
		},
	})
}

func TestFaultyBucket(t *testing.T) {
	under := memblob.OpenBucket(nil)
	defer under.Close()
	fb := sinktest.NewFaultyBucket(under, nil)
	b := fb.Bucket()
	ctx := context.Background()
	require.NoError(t, b.WriteAll(ctx, "a", []byte("1"), nil))
	fb.Fail()
	require.ErrorIs(t, b.WriteAll(ctx, "b", []byte("2"), nil), sinktest.ErrOutage)
	got, err := b.ReadAll(ctx, "a")
	require.NoError(t, err, "reads pass through an outage")
	require.Equal(t, "1", string(got))
	fb.Hang()
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, b.WriteAll(short, "c", []byte("3"), nil), context.DeadlineExceeded)
	fb.Recover()
	require.NoError(t, b.WriteAll(ctx, "d", []byte("4"), nil))
	for _, k := range []string{"b", "c"} {
		ok, err := under.Exists(ctx, k)
		require.NoError(t, err)
		require.False(t, ok, k)
	}
	require.Equal(t, 4, fb.Writes())
}
