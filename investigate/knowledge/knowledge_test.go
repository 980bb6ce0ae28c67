package knowledge_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sqlshadow/sqlshadow/investigate/knowledge"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func open(t *testing.T, opts *knowledge.Options) *knowledge.Index {
	t.Helper()
	ix, err := knowledge.Open(context.Background(), os.DirFS("../testdata/knowledge"), opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, ix.Close()) })
	return ix
}

// labelled are queries written as an on-call engineer or the investigator
// would ask, each with the document that answers it.
var labelled = []struct{ query, want string }{
	{"disk usage 93% on BEs and compaction score rising", "runbooks/disk-compaction.md"},
	{"BEDiskUsageHigh CompactionScoreHigh", "runbooks/disk-compaction.md"},
	{"FE JVM heap at 82% since the upgrade to 3.3.1", "runbooks/fe-heap.md"},
	{"heap memory grows slowly on FE running 3.3.0", "bugs/sr-3.3-memory-leak.md"},
	{"query errors and BE not alive on several clusters of the same account", "runbooks/account-wide.md"},
	{"route slower on the shadow, profile shows more rows scanned", "runbooks/shadow-scan.md"},
	{"shadow failure error 1054 unknown column loyalty_points", "resolutions/shadow-unknown-column.md"},
	{"stream load fails with too many versions", "resolutions/load-failures.md"},
	{"p99 latency spike with pending queries in the queue", "notes/slow-queries.md"},
	{"optimizer picks a full scan instead of the index on the new version", "runbooks/shadow-scan.md"},
}

func TestSearchQuality(t *testing.T) {
	ix := open(t, nil)
	ctx := context.Background()
	top1 := 0
	for _, l := range labelled {
		hits, err := ix.Search(ctx, l.query, 3)
		require.NoError(t, err)
		var paths []string
		for _, h := range hits {
			paths = append(paths, h.Path)
		}
		require.Contains(t, paths, l.want, "query %q", l.query)
		if paths[0] == l.want {
			top1++
		}
	}
	t.Logf("right document first for %d of %d queries, in the top 3 for all", top1, len(labelled))
}

func TestSearchHit(t *testing.T) {
	ix := open(t, nil)
	hits, err := ix.Search(context.Background(), "compaction score", 1)
	require.NoError(t, err)
	require.Len(t, hits, 1)
	h := hits[0]
	require.Equal(t, "runbooks/disk-compaction.md", h.Path)
	require.Equal(t, "BE disk nearly full while compaction falls behind", h.Title)
	require.Contains(t, strings.ToLower(h.Snippet), "compaction")
	require.Greater(t, h.Score, 0.0)
	require.Equal(t, "disk_compaction", h.Document.Meta["category"])
	require.Len(t, h.Document.Recommendations(), 4)
	require.Len(t, ix.Documents(), 8)
}

func TestSearchNothing(t *testing.T) {
	ix := open(t, nil)
	for _, q := range []string{"", "the and of", "zzzqqq"} {
		hits, err := ix.Search(context.Background(), q, 3)
		require.NoError(t, err, q)
		require.Empty(t, hits, q)
	}
}

// A toy embedder over a fixed vocabulary: one dimension per concept, so
// "memory" and "heap" land together where full text sees no shared word.
func conceptEmbedder() knowledge.Embedder {
	concepts := [][]string{{"heap", "memory", "jvm", "ram"}, {"disk", "storage", "space"}, {"shadow", "plan"}}
	return knowledge.EmbedderFunc(func(ctx context.Context, texts []string) ([][]float32, error) {
		out := make([][]float32, len(texts))
		for i, t := range texts {
			v := make([]float32, len(concepts))
			for j, words := range concepts {
				for _, w := range words {
					v[j] += float32(strings.Count(strings.ToLower(t), w))
				}
			}
			out[i] = v
		}
		return out, nil
	})
}

func TestHybridFusion(t *testing.T) {
	ctx := context.Background()
	// "ram" appears in no document: full text finds nothing, the vector
	// ranking finds the heap documents.
	plain := open(t, nil)
	hits, err := plain.Search(ctx, "ram", 3)
	require.NoError(t, err)
	require.Empty(t, hits)

	hybrid := open(t, &knowledge.Options{Embedder: conceptEmbedder()})
	hits, err = hybrid.Search(ctx, "ram", 2)
	require.NoError(t, err)
	require.Len(t, hits, 2)
	for _, h := range hits {
		require.Contains(t, []string{"runbooks/fe-heap.md", "bugs/sr-3.3-memory-leak.md"}, h.Path)
	}
	// Both rankings agreeing puts a document first.
	hits, err = hybrid.Search(ctx, "disk space", 1)
	require.NoError(t, err)
	require.Equal(t, "runbooks/disk-compaction.md", hits[0].Path)
}

func TestEmbedderErrors(t *testing.T) {
	boom := errors.New("boom")
	_, err := knowledge.Open(context.Background(), os.DirFS("../testdata/knowledge"), &knowledge.Options{
		Embedder: knowledge.EmbedderFunc(func(context.Context, []string) ([][]float32, error) { return nil, boom })})
	require.ErrorIs(t, err, boom)
}

func BenchmarkSearch(b *testing.B) {
	ix, err := knowledge.Open(context.Background(), os.DirFS("../testdata/knowledge"), nil)
	require.NoError(b, err)
	defer ix.Close()
	for b.Loop() {
		if _, err := ix.Search(context.Background(), labelled[0].query, 3); err != nil {
			b.Fatal(err)
		}
	}
}
