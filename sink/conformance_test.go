package sink_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"gocloud.dev/blob"

	"github.com/sqlshadow/sqlshadow/sink"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

// TestMain checks that no goroutine outlives the tests. The one ignored is
// third-party and started at init: opencensus's view worker, linked through
// cloud.google.com/go/pubsub by fake-gcs-server.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"))
}

func openURL(t *testing.T, url string) *blob.Bucket {
	t.Helper()
	b, err := sink.OpenBucket(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestConformanceMem(t *testing.T) {
	sinktest.TestBucket(t, sinktest.Harness{
		Open: func(t *testing.T) *blob.Bucket { return openURL(t, "mem://") },
	})
}

func TestConformanceFile(t *testing.T) {
	var mu sync.Mutex
	dirs := map[*blob.Bucket]string{}
	sinktest.TestBucket(t, sinktest.Harness{
		Open: func(t *testing.T) *blob.Bucket {
			dir := t.TempDir()
			b := openURL(t, "file://"+dir)
			mu.Lock()
			dirs[b] = dir
			mu.Unlock()
			return b
		},
		Dir: func(b *blob.Bucket) string {
			mu.Lock()
			defer mu.Unlock()
			return dirs[b]
		},
	})
}
