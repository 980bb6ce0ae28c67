package shadow

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/compare"
	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/sink"
)

// writeHiveLogs writes the lines of bufs under root in the sink's layout,
// one gzip object per buffer and partition hour (from each line's ts).
func writeHiveLogs(t testing.TB, root string, bufs [][]byte) {
	t.Helper()
	id := 0
	for _, buf := range bufs {
		byHour := map[int64]*bytes.Buffer{}
		var dec dataset.QueryLogDecoder
		var line dataset.QueryLog
		sc := bufio.NewScanner(bytes.NewReader(buf))
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			require.NoError(t, dec.Decode(sc.Bytes(), &line))
			hour := time.Time(line.TS).UnixMicro() / 3_600_000_000
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
	s := New(bucket, Window{From: genStart, To: genStart.Add(24 * time.Hour)}, &Options{Now: now})
	res, err := s.Compare(ctx)
	require.NoError(t, err)
	rep := res.(*Report)
	require.Equal(t, []string{
		"regression route:checkout",
		"result_mismatch " + templateLabel(qUsers),
		"shadow_failure  error 1054",
	}, findingKeys(rep))
	require.Equal(t, 4*6, rep.Window.Objects)
	require.Equal(t, compare.VerdictFail, res.Verdict())

	// The same logs through readers give the same findings and counts.
	direct := plantedReport(t)
	require.Equal(t, direct.Counts, rep.Counts)
	require.Equal(t, direct.Findings, rep.Findings)

	// An empty window: inconclusive, no error.
	empty := New(bucket, Window{From: genStart.Add(-48 * time.Hour), To: genStart.Add(-24 * time.Hour)}, &Options{Now: now})
	rep, err = empty.Report(ctx)
	require.NoError(t, err)
	require.Equal(t, compare.VerdictInconclusive, rep.Verdict())
	require.Zero(t, rep.Window.Objects)
}

// writeProfiles writes a statement profile for every query-log record of
// route checkout (CPU 3x higher on the shadow) plus unrelated profiles, in
// the sink's layout under root.
func writeProfiles(t *testing.T, root string, bufs [][]byte) int {
	t.Helper()
	byHour := map[int64]*bytes.Buffer{}
	n := 0
	var dec dataset.QueryLogDecoder
	var line dataset.QueryLog
	for _, buf := range bufs {
		sc := bufio.NewScanner(bytes.NewReader(buf))
		for sc.Scan() {
			require.NoError(t, dec.Decode(sc.Bytes(), &line))
			if line.Route != "checkout" {
				continue
			}
			cluster, cpu := "primary", int64(2_000_000)
			if line.Target == dataset.TargetShadow {
				cluster, cpu = "shadow", 6_000_000
			}
			hour := time.Time(line.TS).UnixMicro() / 3_600_000_000
			if byHour[hour] == nil {
				byHour[hour] = &bytes.Buffer{}
			}
			for _, conn := range []int64{int64(line.ServerConnID), 999} { // 999: traffic the proxy did not see
				scanRows, dur := int64(100), line.DurationMS
				b, err := json.Marshal(dataset.Profile{
					TS: line.TS, Kind: dataset.ProfileStatement, Source: dataset.SourcePerformanceSchema,
					Cluster: cluster, ServerConnID: &conn, QueryHash: line.QueryHash, DurationMS: &dur,
					CPUCostNs: &cpu, ScanRows: &scanRows, State: dataset.StateFinished,
				})
				require.NoError(t, err)
				byHour[hour].Write(append(b, '\n'))
			}
			n++
		}
	}
	id := 0
	for hour, b := range byHour {
		id++
		h := time.UnixMicro(hour * 3_600_000_000).UTC()
		dir := filepath.Join(root, ProfilesDataset, h.Format("year=2006/month=01/day=02/hour=15"))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s_%08x.jsonl", h.Format("20060102_150405"), id)), b.Bytes(), 0o644))
	}
	return n
}

func TestShadowJoinsProfiles(t *testing.T) {
	root := t.TempDir()
	bufs := genShadowLogs(1, genStart, 6*time.Hour, 4, plantedScenario())
	writeHiveLogs(t, root, bufs)
	joined := writeProfiles(t, root, bufs)
	ctx := context.Background()
	bucket, err := sink.OpenBucket(ctx, "file://"+root)
	require.NoError(t, err)
	defer func() { require.NoError(t, bucket.Close()) }()
	rep, err := New(bucket, Window{From: genStart, To: genStart.Add(24 * time.Hour)},
		&Options{Now: func() time.Time { return genStart.Add(48 * time.Hour) }}).Report(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 2*joined, rep.Counts.Profiles)
	require.EqualValues(t, joined, rep.Counts.ProfilesJoined)
	g := group(rep, "route:checkout")
	require.NotNil(t, g.Profiles)
	require.EqualValues(t, 800, g.Profiles.Primary.Count)
	require.EqualValues(t, 800, g.Profiles.Shadow.Count)
	require.InDelta(t, 2, *g.Profiles.Primary.MeanCPUMS, 1e-9)
	require.InDelta(t, 6, *g.Profiles.Shadow.MeanCPUMS, 1e-9)
	require.InDelta(t, 100, *g.Profiles.Shadow.MeanScanRows, 1e-9)
	require.Nil(t, g.Profiles.Shadow.MeanSpillBytes)
	require.Nil(t, group(rep, "route:orders").Profiles)
	require.Contains(t, rep.Findings[0].Evidence, "CPU 2 ms -> 6 ms")
	// The same three findings.
	require.Len(t, rep.Findings, 3)

	// Disabled join.
	rep, err = New(bucket, Window{From: genStart, To: genStart.Add(24 * time.Hour)},
		&Options{ProfilesDataset: "-", Now: func() time.Time { return genStart.Add(48 * time.Hour) }}).Report(ctx)
	require.NoError(t, err)
	require.Zero(t, rep.Counts.Profiles)
	require.Nil(t, group(rep, "route:checkout").Profiles)
}

func TestReportsShowProfiles(t *testing.T) {
	rep := &Report{Schema: ReportSchema, Mode: "shadow", Outcome: compare.VerdictPass}
	two, six := 2.0, 6.0
	rep.Groups = []GroupReport{{Label: "route:x", Status: StatusNoChange, Profiles: &GroupProfiles{
		Primary: ProfileStats{Count: 3, MeanCPUMS: &two}, Shadow: ProfileStats{Count: 4, MeanCPUMS: &six},
	}}}
	var md, h bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&md))
	require.NoError(t, rep.WriteHTML(&h))
	require.Contains(t, md.String(), "| route:x | shadow | 4 | - | - | 6 |")
	require.Contains(t, h.String(), `<table id="profiles">`)
	require.Contains(t, h.String(), `<td class="n">6</td>`)
}

// Objects that cannot be read, or not to their end, and malformed lines are
// counted and listed, never an error: the report covers the rest.
func TestShadowSkipsAndCountsUnreadable(t *testing.T) {
	root := t.TempDir()
	writeHiveLogs(t, root, genShadowLogs(1, genStart, time.Hour, 2, stableGroups()))
	// A corrupt object: a gzip stream cut in the middle.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	for range 2000 {
		_, _ = zw.Write([]byte(`{"ts":"2026-11-20T10:00:01.000000Z","query_id":"x","target":"primary","route":"home","duration_ms":1,"success":true}` + "\n"))
	}
	require.NoError(t, zw.Close())
	dir := filepath.Join(root, QueryLogsDataset, genStart.Format("year=2006/month=01/day=02/hour=15"))
	corruptKey := "20261120_100000_000000c0.jsonl.gz"
	require.NoError(t, os.WriteFile(filepath.Join(dir, corruptKey), gz.Bytes()[:gz.Len()/2], 0o644))
	// Malformed lines, in a plain object.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20261120_100000_000000d0.jsonl"), []byte("not json\n{\"target\":\n[1]\n"), 0o644))

	ctx := context.Background()
	bucket := openFileBucket(t, root)
	a := New(bucket, Window{From: genStart, To: genStart.Add(time.Hour)}, &Options{Now: func() time.Time { return genStart.Add(48 * time.Hour) }})
	objs, err := sink.Objects(ctx, bucket, QueryLogsDataset, genStart, genStart.Add(time.Hour))
	require.NoError(t, err)
	// An object that vanished between listing and reading.
	vanished := objs[0]
	vanished.Key = filepath.ToSlash(filepath.Join(QueryLogsDataset, genStart.Format("year=2006/month=01/day=02/hour=15"), "20261120_100000_000000ff.jsonl"))
	vanished.Gzip = false
	cfg, err := newConfig(a.window, &a.opts)
	require.NoError(t, err)
	rep, err := runAnalysis(ctx, cfg, a.sources(append(objs, vanished), queryLogsFormat()), nil)
	require.NoError(t, err)

	in := rep.Input
	require.Equal(t, len(objs)+1, in.Objects)
	require.EqualValues(t, len(objs)-1, in.Read)
	// Three malformed lines, and the line the corrupt object was cut in.
	require.EqualValues(t, 4, in.MalformedLines)
	require.EqualValues(t, 4, rep.Counts.Malformed)
	require.Equal(t, 2, in.UnreadableObjects)
	require.Len(t, in.Unreadable, 2)
	require.Equal(t, UnreadableCorrupt, in.Unreadable[0].Reason)
	require.True(t, strings.HasSuffix(in.Unreadable[0].Key, corruptKey))
	require.Equal(t, UnreadableVanished, in.Unreadable[1].Reason)
	require.Equal(t, vanished.Key, in.Unreadable[1].Key)
	// The records before the damage are analysed.
	require.Greater(t, group(rep, "route:home").Primary.Count, int64(0))
	require.Contains(t, strings.Join(rep.Notes, "\n"), "2 objects could not be read")

	var md, html bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&md))
	require.NoError(t, rep.WriteHTML(&html))
	for _, out := range []string{md.String(), html.String()} {
		require.Contains(t, out, corruptKey)
		require.Contains(t, out, "20261120_100000_000000ff.jsonl")
	}
}
