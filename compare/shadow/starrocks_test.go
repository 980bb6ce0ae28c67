package shadow

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"

	"github.com/sqlshadow/sqlshadow/hashing"
	"github.com/sqlshadow/sqlshadow/sink"
)

// starRocksRecord is one line as the open-source StarRocks shadow proxy
// writes it: these fields and no others. Its ts is the completion time and
// its success is true on an ERR packet (the message is in error).
type starRocksRecord struct {
	TS           sink.Time `json:"ts"`
	QueryID      string    `json:"query_id"`
	Target       string    `json:"target"`
	Command      string    `json:"command"`
	QueryText    string    `json:"query_text"`
	QueryHash    string    `json:"query_hash"`
	DurationMS   float64   `json:"duration_ms"`
	BytesSent    int64     `json:"bytes_sent"`
	BytesRecv    int64     `json:"bytes_recv"`
	Success      bool      `json:"success"`
	Error        string    `json:"error"`
	ClientAddr   string    `json:"client_addr"`
	Filtered     bool      `json:"filtered"`
	FilterReason string    `json:"filter_reason"`
}

// The StarRocks-proxy workload: three statement shapes without routes.
const (
	srFast   = "SELECT id, name FROM users WHERE id = %d"
	srSlow   = "SELECT COUNT(*) FROM orders WHERE user_id = %d AND status = 'open'"
	srFailed = "SELECT total FROM invoices WHERE id = %d"
)

// starRocksCounts are the numbers genStarRocksLogs planted.
type starRocksCounts struct {
	commands, paired, noShadow, noPrimary, filtered, shadowFailures int
}

// genStarRocksLogs writes span of traffic from start as the StarRocks
// shadow proxy logs it: srSlow is 3x slower on the shadow, srFailed fails
// on the shadow one time in five (an ERR packet: success true, error set),
// 2% of the commands have no shadow record and 2% no primary record, 1% of
// the shadow records are filtered. Records land in objects by partition
// hour (of their completion time) and, within an hour, by target and then
// by query id over objectsPerTarget objects, so a command's two records are
// always in different objects and sometimes in different hours. It returns
// the objects' lines by partition hour, and what it planted.
func genStarRocksLogs(seed uint64, start time.Time, span time.Duration, objectsPerTarget int) (map[time.Time][][]byte, starRocksCounts) {
	rng := rand.New(rand.NewPCG(seed, 17))
	objs := map[time.Time][][]byte{}
	write := func(r *starRocksRecord, obj int) {
		hour := time.Time(r.TS).Truncate(time.Hour)
		if objs[hour] == nil {
			objs[hour] = make([][]byte, 2*objectsPerTarget)
		}
		b, err := json.Marshal(r)
		if err != nil {
			panic(err)
		}
		objs[hour][obj] = append(append(objs[hour][obj], b...), '\n')
	}
	var c starRocksCounts
	const n = 7200 // one command a second
	for i := range n {
		received := start.Add(span * time.Duration(i) / n)
		shape, base, factor, fails := srFast, 2.0, 1.0, false
		switch i % 3 {
		case 1:
			shape, base, factor = srSlow, 5, 3
		case 2:
			shape, fails = srFailed, rng.IntN(5) == 0
		}
		text := fmt.Sprintf(shape, rng.IntN(40))
		primMS := base * math.Exp(0.2*rng.NormFloat64())
		shadMS := primMS * factor * math.Exp(0.1*rng.NormFloat64())
		queue := time.Duration(rng.IntN(200)) * time.Millisecond
		rec := starRocksRecord{
			QueryID: fmt.Sprintf("sr-%05d", i), Command: "COM_QUERY", QueryText: text,
			QueryHash: hashing.QueryHash(text), BytesSent: int64(len(text)), BytesRecv: 80,
			Success: true, ClientAddr: "10.0.0.9:40000",
		}
		prim, shad := rec, rec
		prim.Target, prim.DurationMS = "primary", primMS
		prim.TS = sink.Time(received.Add(time.Duration(primMS * float64(time.Millisecond))))
		shad.Target, shad.DurationMS = "shadow", shadMS
		shad.TS = sink.Time(received.Add(queue + time.Duration(shadMS*float64(time.Millisecond))))
		if fails {
			shad.Error = "Unknown column 'total' in 'field list'" // success stays true
		}
		obj := i % objectsPerTarget
		switch u := rng.Float64(); {
		case u < 0.02:
			c.noShadow++
			write(&prim, obj)
		case u < 0.04:
			c.noPrimary++
			write(&shad, objectsPerTarget+obj)
		case u < 0.05:
			c.filtered++
			shad.Filtered, shad.FilterReason = true, "read_only"
			write(&prim, obj)
			write(&shad, objectsPerTarget+obj)
		default:
			c.paired++
			if fails {
				c.shadowFailures++
			}
			write(&prim, obj)
			write(&shad, objectsPerTarget+obj)
		}
		c.commands++
	}
	return objs, c
}

// starRocksObjects flattens genStarRocksLogs' objects, hour by hour.
func starRocksObjects(objs map[time.Time][][]byte) [][]byte {
	var out [][]byte
	for _, hour := range slices.SortedFunc(maps.Keys(objs), time.Time.Compare) {
		for _, b := range objs[hour] {
			if len(b) > 0 {
				out = append(out, b)
			}
		}
	}
	return out
}

// writeStarRocksBucket writes genStarRocksLogs' objects under root in the
// sink's layout, one gzip object each.
func writeStarRocksBucket(t *testing.T, root string, objs map[time.Time][][]byte) int {
	t.Helper()
	n := 0
	for hour, bs := range objs {
		for _, b := range bs {
			if len(b) > 0 {
				n++
				writeHiveObject(t, root, hour, n, b)
			}
		}
	}
	return n
}

func openFileBucket(t *testing.T, root string) *blob.Bucket {
	t.Helper()
	bucket, err := sink.OpenBucket(context.Background(), "file://"+root)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, bucket.Close()) })
	return bucket
}

func TestStarRocksProxyLogs(t *testing.T) {
	objs, planted := genStarRocksLogs(1, genStart, 2*time.Hour, 3)
	root := t.TempDir()
	nObjects := writeStarRocksBucket(t, root, objs)
	bucket := openFileBucket(t, root)
	window := Window{From: genStart, To: genStart.Add(4 * time.Hour)}
	now := func() time.Time { return genStart.Add(48 * time.Hour) }

	rep, err := New(bucket, window, &Options{Now: now, Parallelism: 1}).Report(context.Background())
	require.NoError(t, err)

	// Grouped by the template hash of query_text; the slow shape and the
	// failing one are found, nothing else.
	slow := "template:" + hashing.TemplateHash(fmt.Sprintf(srSlow, 1))
	require.Equal(t, []string{"regression " + slow, "shadow_failure  no error code"}, findingKeys(rep))
	require.InDelta(t, 3, group(rep, slow).P50.Ratio, 0.3)
	failing := group(rep, "template:"+hashing.TemplateHash(fmt.Sprintf(srFailed, 1)))
	require.EqualValues(t, planted.shadowFailures, failing.ShadowOnlyFailures)
	require.Zero(t, failing.Primary.Errors, "an error is a failure even with success true")
	require.Len(t, rep.Failures, 1)
	require.Contains(t, rep.Failures[0].Examples[0].Error, "Unknown column")

	c := rep.Counts
	require.EqualValues(t, planted.paired, c.PairedByQueryID)
	require.EqualValues(t, planted.noShadow, c.UnpairedPrimary)
	require.EqualValues(t, planted.noPrimary, c.UnpairedShadow)
	require.EqualValues(t, planted.filtered, c.Filtered)
	require.Zero(t, c.PairingOverflow)
	require.EqualValues(t, planted.shadowFailures, c.ShadowOnlyFailures)
	require.Zero(t, c.Malformed)
	require.Equal(t, ReportInput{Objects: nObjects, Read: int64(nObjects), Lines: c.Records, Unreadable: []UnreadableObject{}}, rep.Input)
	for _, g := range rep.Groups {
		require.Equal(t, "template", g.KeyKind)
	}

	// The unpaired records are shown in every format.
	var md, html bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&md))
	require.NoError(t, rep.WriteHTML(&html))
	pairing := fmt.Sprintf("paired by query_id: %d; unpaired primary records: %d; unpaired shadow records: %d",
		planted.paired, planted.noShadow, planted.noPrimary)
	require.Contains(t, md.String(), pairing)
	require.Contains(t, html.String(), pairing)

	// Independent of parallelism and of how the records are split into
	// readers and in which order they come.
	par, err := New(bucket, window, &Options{Now: now, Parallelism: 3}).Report(context.Background())
	require.NoError(t, err)
	requireSameJSON(t, rep, par)
	bufs := starRocksObjects(objs)
	slices.Reverse(bufs)
	direct, err := Analyze(context.Background(), window, readers(bufs), &Options{Now: now, Parallelism: 2})
	require.NoError(t, err)
	require.Equal(t, rep.Counts, direct.Counts)
	require.Equal(t, rep.Findings, direct.Findings)
	require.Equal(t, rep.Groups, direct.Groups)
}

func requireSameJSON(t *testing.T, a, b *Report) {
	t.Helper()
	var ja, jb bytes.Buffer
	require.NoError(t, a.WriteJSON(&ja))
	require.NoError(t, b.WriteJSON(&jb))
	require.Equal(t, ja.String(), jb.String())
}

// A window too small to hold the records waiting for their partner gives
// the oldest up, counts them and says so; every record is still counted
// once.
func TestStarRocksPairingOverflow(t *testing.T) {
	objs, planted := genStarRocksLogs(2, genStart, 2*time.Hour, 3)
	root := t.TempDir()
	writeStarRocksBucket(t, root, objs)
	rep, err := New(openFileBucket(t, root), Window{From: genStart, To: genStart.Add(4 * time.Hour)}, &Options{
		Now: func() time.Time { return genStart.Add(48 * time.Hour) }, MaxPending: 64,
	}).Report(context.Background())
	require.NoError(t, err)
	c := rep.Counts
	require.Positive(t, c.PairingOverflow)
	require.EqualValues(t, planted.paired+planted.noPrimary, c.PairedByQueryID+c.UnpairedShadow)
	require.EqualValues(t, planted.commands-planted.noPrimary, c.Primary)
	require.Contains(t, strings.Join(rep.Notes, "\n"), "pairing window full")
}

// Records further apart in time than PairWindow do not pair, whatever the
// order they are read in.
func TestPairWindow(t *testing.T) {
	at := func(d time.Duration) sink.Time { return sink.Time(genStart.Add(d)) }
	lines := func(recs ...starRocksRecord) []byte {
		var b []byte
		for _, r := range recs {
			j, err := json.Marshal(r)
			require.NoError(t, err)
			b = append(append(b, j...), '\n')
		}
		return b
	}
	prim := starRocksRecord{TS: at(0), QueryID: "a", Target: "primary", QueryText: "SELECT 1", DurationMS: 1, Success: true}
	near := starRocksRecord{TS: at(time.Minute), QueryID: "a", Target: "shadow", QueryText: "SELECT 1", DurationMS: 2, Success: true}
	far := near
	far.TS = at(20 * time.Minute)
	for _, tc := range []struct {
		shadow starRocksRecord
		paired int64
	}{{near, 1}, {far, 0}} {
		for _, order := range [][]starRocksRecord{{prim, tc.shadow}, {tc.shadow, prim}} {
			rep := analyze(t, [][]byte{lines(order...)}, &Options{PairWindow: 10 * time.Minute})
			require.Equal(t, tc.paired, rep.Counts.PairedByQueryID)
			require.Equal(t, 1-tc.paired, rep.Counts.UnpairedPrimary)
			require.Equal(t, 1-tc.paired, rep.Counts.UnpairedShadow)
		}
	}
}
