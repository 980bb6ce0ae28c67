package cli

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/sink"
)

func TestNewWriterFormats(t *testing.T) {
	ctx := context.Background()
	bucket, err := sink.OpenBucket(ctx, "mem://")
	require.NoError(t, err)
	defer bucket.Close()
	_, err = NewWriter[dataset.Issue](bucket, dataset.Issues, "xml", nil, nil)
	require.ErrorContains(t, err, `-log-format "xml"`)

	w, err := NewWriter[dataset.Issue](bucket, dataset.Issues, sink.FormatJSONL, nil, nil)
	require.NoError(t, err)
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	require.NoError(t, w.Write(ctx, ts, &dataset.Issue{ID: "i1", Cluster: "c"}))
	require.NoError(t, w.Close(ctx))
	r := sink.NewReader(bucket, dataset.Issues, time.Time{}, time.Time{}, nil)
	defer r.Close()
	raw, err := r.Next(ctx)
	require.NoError(t, err)
	require.Contains(t, string(raw), `"i1"`)
	_, err = r.Next(ctx)
	require.ErrorIs(t, err, io.EOF)
}

func TestBackgroundJoins(t *testing.T) {
	ended := make(chan struct{})
	stop := Background(context.Background(), func(ctx context.Context) error {
		<-ctx.Done()
		close(ended)
		return errors.New("stopped")
	})
	require.EqualError(t, stop(), "stopped")
	select {
	case <-ended: // stop returned only after fn did
	default:
		t.Fatal("stop returned before fn")
	}
}
