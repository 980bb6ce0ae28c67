package compare

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/sink"
)

// writeHiveLogs writes the lines of bufs under root in the sink's layout,
// one gzip object per buffer and partition hour (from each line's ts).
func writeHiveLogs(t testing.TB, root string, bufs [][]byte) {
	t.Helper()
	id := 0
	for _, buf := range bufs {
		byHour := map[int64]*bytes.Buffer{}
		var line shadowLine
		sc := bufio.NewScanner(bytes.NewReader(buf))
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			require.NoError(t, decodeShadowLine(sc.Bytes(), &line))
			hour := line.tsMicros / 3_600_000_000
			if byHour[hour] == nil {
				byHour[hour] = &bytes.Buffer{}
			}
			byHour[hour].Write(sc.Bytes())
			byHour[hour].WriteByte('\n')
		}
		for hour, lines := range byHour {
			id++
			writeHiveObject(t, root, time.UnixMicro(hour*3_600_000_000).UTC(), id, lines.Bytes())
		}
	}
}

func writeHiveObject(t testing.TB, root string, hour time.Time, id int, lines []byte) {
	t.Helper()
	dir := filepath.Join(root, QueryLogsDataset, hour.Format("year=2006/month=01/day=02/hour=15"))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	require.NoError(t, err)
	_, err = zw.Write(lines)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	name := fmt.Sprintf("%s_%08x.jsonl.gz", hour.Format("20060102_150405"), id)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), gz.Bytes(), 0o644))
}

func TestShadowFromBucket(t *testing.T) {
	root := t.TempDir()
	writeHiveLogs(t, root, genShadowLogs(1, genStart, 6*time.Hour, 4, plantedScenario()))
	// A side file and a foreign object are ignored.
	require.NoError(t, os.WriteFile(filepath.Join(root, QueryLogsDataset, "README"), []byte("x"), 0o644))

	ctx := context.Background()
	bucket, err := sink.OpenBucket(ctx, "file://"+root)
	require.NoError(t, err)
	defer func() { require.NoError(t, bucket.Close()) }()

	now := func() time.Time { return genStart.Add(48 * time.Hour) }
	s := NewShadow(bucket, Window{From: genStart, To: genStart.Add(24 * time.Hour)}, &ShadowOptions{Now: now})
	res, err := s.Compare(ctx)
	require.NoError(t, err)
	rep := res.(*ShadowReport)
	require.Equal(t, []string{
		"regression route:checkout",
		"result_mismatch " + templateLabel(qUsers),
		"shadow_failure  error 1054",
	}, findingKeys(rep))
	require.Equal(t, 4*6, rep.Window.Objects)
	require.Equal(t, VerdictFail, res.Verdict())

	// The same logs through readers give the same findings and counts.
	direct := analyze(t, genShadowLogs(1, genStart, 6*time.Hour, 4, plantedScenario()), nil)
	require.Equal(t, direct.Counts, rep.Counts)
	require.Equal(t, direct.Findings, rep.Findings)

	// An empty window: inconclusive, no error.
	empty := NewShadow(bucket, Window{From: genStart.Add(-48 * time.Hour), To: genStart.Add(-24 * time.Hour)}, &ShadowOptions{Now: now})
	rep, err = empty.Report(ctx)
	require.NoError(t, err)
	require.Equal(t, VerdictInconclusive, rep.Verdict())
	require.Zero(t, rep.Window.Objects)
}
