package sinktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"

	"github.com/sqlshadow/sqlshadow/sink"
	"github.com/sqlshadow/sqlshadow/sink/parquet"
)

// Harness gives the conformance suite buckets of one kind.
type Harness struct {
	// Open returns a new, empty bucket; the harness closes it when the test
	// ends. Required.
	Open func(t *testing.T) *blob.Bucket
	// Outage, optional, makes the server behind the buckets unavailable
	// (stopped, not just failing) and returns a function that brings it
	// back with its data.
	Outage func(t *testing.T) (restore func())
	// Dir, optional, returns the directory holding a file:// bucket's
	// objects, to check that nothing else is ever left in it.
	Dir func(b *blob.Bucket) string
	// Aborter, optional, is the sink.WriterOptions.Aborter the suite's
	// writers and FaultyBuckets use: drivers.AbortGCS for gs:// buckets.
	Aborter func(as func(any) bool) func(error)
	// Format, optional, is the format of the suite's writers. Default nil:
	// TestBucket runs the suite once per format, sink.JSONL(),
	// sink.JSONLGzip(0) and the Parquet format of Rec, and its readers read
	// every format.
	Format sink.Format
}

// parquetRec is the Parquet format of Rec.
func parquetRec(t *testing.T) sink.Format {
	f, err := parquet.NewFormat[Rec](nil)
	require.NoError(t, err)
	return f
}

// Rec is the record the conformance suite writes: shaped like a query log.
type Rec struct {
	TS        sink.Time `json:"ts"`
	ID        int       `json:"id"`
	Writer    int       `json:"writer"`
	QueryText string    `json:"query_text"`
	Success   bool      `json:"success"`
}

// TestBucket runs the sink conformance suite against h's buckets: a
// sink.Writer and sink.Reader over them must keep the data contracts
// (partitions from record timestamps, only objects of the layout in partitions,
// objects whole or not at all, nothing lost through an outage).
func TestBucket(t *testing.T, h Harness) {
	t.Helper()
	if h.Format == nil {
		for _, f := range []sink.Format{sink.JSONL(), sink.JSONLGzip(0), parquetRec(t)} {
			h := h
			h.Format = f
			t.Run(f.Name(), func(t *testing.T) { TestBucket(t, h) })
		}
		return
	}
	t.Run("PartitionsFromRecordTimestamps", func(t *testing.T) { testPartitions(t, h) })
	t.Run("ReaderRangeAndPruning", func(t *testing.T) { testReaderRange(t, h) })
	t.Run("RollsBySizeAndAge", func(t *testing.T) { testRolling(t, h) })
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrent(t, h) })
	t.Run("CancelledWriteLeavesNothing", func(t *testing.T) { testCancelledWrite(t, h) })
	t.Run("OutageSurvived", func(t *testing.T) { testOutage(t, h) })
	t.Run("DropModeNeverWaits", func(t *testing.T) { testDropMode(t, h) })
	t.Run("BlockModeHonoursContext", func(t *testing.T) { testBlockMode(t, h) })
	t.Run("ReaderSkipsMalformed", func(t *testing.T) { testMalformed(t, h) })
	t.Run("MixedFormatsReadWhole", func(t *testing.T) { testMixedFormats(t, h) })
	if h.Outage != nil {
		t.Run("ServerOutageSurvived", func(t *testing.T) { testServerOutage(t, h) })
	}
}

const dataset = "conformance"

// base is a fixed UTC time the records are spread around.
var base = time.Date(2026, 3, 31, 22, 59, 58, 0, time.UTC)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// records returns n records spread over hours, days and a month boundary,
// some given in a non-UTC zone.
func records(n, writer int) []Rec {
	zone := time.FixedZone("UTC+5", 5*3600)
	out := make([]Rec, n)
	for i := range out {
		ts := base.Add(time.Duration(i%7) * 37 * time.Minute).Add(time.Duration(i) * time.Millisecond)
		if i%3 == 0 {
			ts = ts.In(zone)
		}
		out[i] = Rec{TS: sink.Time(ts), ID: i, Writer: writer, QueryText: fmt.Sprintf("SELECT %d /* <&> \"q\" \n */", i), Success: i%2 == 0}
	}
	return out
}

func newWriter(t *testing.T, h Harness, b *blob.Bucket, opts *sink.WriterOptions) *sink.Writer {
	t.Helper()
	var o sink.WriterOptions
	if opts != nil {
		o = *opts
	}
	o.Aborter = h.Aborter
	if o.Format == nil {
		o.Format = h.Format
	}
	w, err := sink.NewWriter(b, dataset, &o)
	require.NoError(t, err)
	return w
}

func writeAll(t *testing.T, w *sink.Writer, recs []Rec) {
	t.Helper()
	ctx := ctxT(t)
	for _, r := range recs {
		require.NoError(t, w.Write(ctx, time.Time(r.TS), r))
	}
}

// allKeys lists every key in the bucket.
func allKeys(t *testing.T, b *blob.Bucket) []*blob.ListObject {
	t.Helper()
	var out []*blob.ListObject
	it := b.List(nil)
	for {
		o, err := it.Next(ctxT(t))
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		out = append(out, o)
	}
}

// readObject returns the records of one object, failing on any bad line.
func readObject(t *testing.T, b *blob.Bucket, obj sink.Object) []Rec {
	t.Helper()
	rc, err := sink.OpenObject(ctxT(t), b, obj, parquetRec(t))
	require.NoError(t, err)
	defer func() { _ = rc.Close() }()
	data, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.True(t, len(data) > 0 && data[len(data)-1] == '\n', "object %s must end with a newline", obj.Key)
	var out []Rec
	for line := range strings.SplitSeq(strings.TrimSuffix(string(data), "\n"), "\n") {
		var r Rec
		require.NoError(t, json.Unmarshal([]byte(line), &r), "object %s line %q", obj.Key, line)
		out = append(out, r)
	}
	return out
}

// readAll reads the whole dataset with a Reader.
func readAll(t *testing.T, b *blob.Bucket) ([]Rec, sink.ReaderStats) {
	t.Helper()
	r := sink.NewReader(b, dataset, time.Time{}, time.Time{}, &sink.ReaderOptions{Formats: []sink.Format{parquetRec(t)}})
	defer func() { _ = r.Close() }()
	var out []Rec
	for {
		raw, err := r.Next(ctxT(t))
		if err == io.EOF {
			return out, r.Stats()
		}
		require.NoError(t, err)
		var rec Rec
		require.NoError(t, json.Unmarshal(raw, &rec))
		out = append(out, rec)
	}
}

func requireSameIDs(t *testing.T, want, got []Rec) {
	t.Helper()
	key := func(r Rec) string { return fmt.Sprintf("%d/%d", r.Writer, r.ID) }
	seen := make(map[string]int, len(got))
	for _, r := range got {
		seen[key(r)]++
	}
	for _, r := range want {
		require.Equal(t, 1, seen[key(r)], "record %s must be read exactly once", key(r))
	}
	require.Len(t, got, len(want))
}

func checkDir(t *testing.T, h Harness, b *blob.Bucket) {
	t.Helper()
	if h.Dir == nil {
		return
	}
	dir := h.Dir(b)
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		_, _, ok := sink.ParseObjectKey(dataset, filepath.ToSlash(rel))
		if !ok {
			return fmt.Errorf("unexpected file %s in the bucket directory", rel)
		}
		return nil
	})
	require.NoError(t, err)
}

func testPartitions(t *testing.T, h Harness) {
	b := h.Open(t)
	w := newWriter(t, h, b, nil)
	recs := records(500, 0)
	writeAll(t, w, recs)
	require.NoError(t, w.Flush(ctxT(t)))
	require.NoError(t, w.Close(ctxT(t)))
	require.ErrorIs(t, w.Write(ctxT(t), time.Now(), recs[0]), sink.ErrClosed)

	hours := map[time.Time]bool{}
	for _, r := range recs {
		hours[time.Time(r.TS).UTC().Truncate(time.Hour)] = true
	}
	var got []Rec
	objHours := map[time.Time]bool{}
	for _, o := range allKeys(t, b) {
		require.True(t, strings.HasPrefix(o.Key, dataset+"/"), "key %s outside the dataset", o.Key)
		hour, format, ok := sink.ParseObjectKey(dataset, o.Key)
		require.True(t, ok, "key %s is not an object of the layout", o.Key)
		require.Equal(t, h.Format.Name(), format, o.Key)
		base := o.Key[strings.LastIndexByte(o.Key, '/')+1:]
		require.Regexp(t, `^\d{8}_\d{6}_[0-9a-f]{8}`+regexp.QuoteMeta(h.Format.Ext())+`$`, base)
		objHours[hour] = true
		for _, r := range readObject(t, b, sink.Object{Key: o.Key, Hour: hour, Format: format}) {
			require.Equal(t, hour, time.Time(r.TS).UTC().Truncate(time.Hour), "record %d in %s", r.ID, o.Key)
			got = append(got, r)
		}
	}
	require.Equal(t, hours, objHours, "one partition per record hour")
	requireSameIDs(t, recs, got)
	for _, r := range got {
		require.True(t, time.Time(r.TS).Equal(time.Time(recs[r.ID].TS)))
		require.Equal(t, recs[r.ID].QueryText, r.QueryText)
	}
	s := w.Stats()
	require.EqualValues(t, len(recs), s.Records)
	require.Zero(t, s.Lost+s.Dropped+s.Buffered)
	checkDir(t, h, b)
}

func testReaderRange(t *testing.T, h Harness) {
	b := h.Open(t)
	w := newWriter(t, h, b, nil)
	recs := records(300, 0)
	writeAll(t, w, recs)
	require.NoError(t, w.Close(ctxT(t)))

	all, stats := readAll(t, b)
	requireSameIDs(t, recs, all)
	require.Zero(t, stats.Malformed)

	from := base.Add(90 * time.Minute)
	to := base.Add(150 * time.Minute)
	objs, err := sink.Objects(ctxT(t), b, dataset, from, to)
	require.NoError(t, err)
	require.NotEmpty(t, objs)
	for _, o := range objs {
		require.True(t, o.Hour.Before(to) && o.Hour.Add(time.Hour).After(from), "object %s outside the range", o.Key)
		require.Equal(t, h.Format.Name(), o.Format)
		require.Positive(t, o.Size)
	}
	var want []Rec
	for _, r := range recs {
		if ts := time.Time(r.TS); !ts.Before(from) && ts.Before(to) {
			want = append(want, r)
		}
	}
	r := sink.NewReader(b, dataset, from, to, &sink.ReaderOptions{Formats: []sink.Format{parquetRec(t)}})
	var got []Rec
	for {
		raw, err := r.Next(ctxT(t))
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		var rec Rec
		require.NoError(t, json.Unmarshal(raw, &rec))
		got = append(got, rec)
	}
	require.NoError(t, r.Close())
	requireSameIDs(t, want, got)
	require.Positive(t, r.Stats().OutOfRange)

	none, err := sink.Objects(ctxT(t), b, dataset, base.AddDate(1, 0, 0), base.AddDate(2, 0, 0))
	require.NoError(t, err)
	require.Empty(t, none)
}

func testRolling(t *testing.T, h Harness) {
	b := h.Open(t)
	w := newWriter(t, h, b, &sink.WriterOptions{MaxObjectBytes: 4 << 10, MaxObjectAge: 50 * time.Millisecond})
	ctx := ctxT(t)
	// By size: one hour, many objects.
	var recs []Rec
	for i := range 200 {
		r := Rec{TS: sink.Time(base.Truncate(time.Hour).Add(time.Duration(i) * time.Second)), ID: i, QueryText: strings.Repeat("x", 100)}
		recs = append(recs, r)
		require.NoError(t, w.Write(ctx, time.Time(r.TS), r))
	}
	require.NoError(t, w.Flush(ctx))
	objs, err := sink.Objects(ctx, b, dataset, time.Time{}, time.Time{})
	require.NoError(t, err)
	require.Greater(t, len(objs), 4, "objects roll by size")
	for _, o := range objs {
		require.LessOrEqual(t, o.Size, int64(4<<10+200))
	}
	// By age: no Flush, the record still arrives.
	late := Rec{TS: sink.Time(base.Add(-24 * time.Hour)), ID: 200}
	recs = append(recs, late)
	require.NoError(t, w.Write(ctx, time.Time(late.TS), late))
	require.Eventually(t, func() bool {
		objs, err := sink.Objects(ctx, b, dataset, time.Time(late.TS), time.Time(late.TS).Add(time.Second))
		return err == nil && len(objs) == 1
	}, 30*time.Second, 20*time.Millisecond, "objects roll by age")
	require.NoError(t, w.Close(ctx))
	got, _ := readAll(t, b)
	requireSameIDs(t, recs, got)
}

func testConcurrent(t *testing.T, h Harness) {
	b := h.Open(t)
	w := newWriter(t, h, b, &sink.WriterOptions{MaxObjectBytes: 32 << 10, BufferBytes: 128 << 10, Uploaders: 3})
	const writers, n = 8, 400
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	var want []Rec
	for i := range writers {
		recs := records(n, i)
		want = append(want, recs...)
		wg.Go(func() {
			for _, r := range recs {
				if err := w.Write(context.Background(), time.Time(r.TS), r); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, w.Close(ctxT(t)))
	got, _ := readAll(t, b)
	requireSameIDs(t, want, got)
	checkDir(t, h, b)
}

func testCancelledWrite(t *testing.T, h Harness) {
	under := h.Open(t)
	fb := NewFaultyBucket(under, h.Aborter)
	b := fb.Bucket()
	w := newWriter(t, h, b, &sink.WriterOptions{RetryMin: 5 * time.Millisecond})
	fb.Hang()
	// Large enough that the driver has started the object when it hangs.
	var recs []Rec
	for i := range 2000 {
		recs = append(recs, Rec{TS: sink.Time(base), ID: i, QueryText: strings.Repeat("y", 200)})
	}
	writeAll(t, w, recs)
	require.Error(t, w.Flush(shortCtx(t, 100*time.Millisecond)), "a hung bucket cannot flush")
	err := w.Close(shortCtx(t, 200*time.Millisecond))
	var lost *sink.LostError
	require.ErrorAs(t, err, &lost)
	require.EqualValues(t, len(recs), lost.Records)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.EqualValues(t, len(recs), w.Stats().Lost)
	require.Positive(t, fb.Writes())
	fb.Recover()
	requireNoKeys(t, under)
	checkDir(t, h, under)
}

func shortCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func testOutage(t *testing.T, h Harness) {
	for _, mode := range []string{"fail", "hang"} {
		t.Run(mode, func(t *testing.T) {
			under := h.Open(t)
			fb := NewFaultyBucket(under, h.Aborter)
			w := newWriter(t, h, fb.Bucket(), &sink.WriterOptions{
				RetryMin: 5 * time.Millisecond, RetryMax: 50 * time.Millisecond,
				UploadTimeout: 200 * time.Millisecond, MaxObjectBytes: 8 << 10,
			})
			if mode == "fail" {
				fb.Fail()
			} else {
				fb.Hang()
			}
			recs := records(300, 0)
			writeAll(t, w, recs)
			require.Error(t, w.Flush(shortCtx(t, 300*time.Millisecond)))
			requireNoKeys(t, under)
			fb.Recover()
			require.NoError(t, w.Flush(ctxT(t)))
			require.NoError(t, w.Close(ctxT(t)))
			s := w.Stats()
			require.Positive(t, s.WriteErrors)
			require.Zero(t, s.Lost+s.Dropped)
			got, _ := readAll(t, under)
			requireSameIDs(t, recs, got)
			checkDir(t, h, under)
		})
	}
}

func testServerOutage(t *testing.T, h Harness) {
	b := h.Open(t)
	w := newWriter(t, h, b, &sink.WriterOptions{
		RetryMin: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		UploadTimeout: 5 * time.Second, MaxObjectBytes: 8 << 10,
	})
	first := records(100, 0)
	writeAll(t, w, first)
	require.NoError(t, w.Flush(ctxT(t)))
	restore := h.Outage(t)
	second := records(300, 1)
	writeAll(t, w, second)
	require.Error(t, w.Flush(shortCtx(t, 500*time.Millisecond)), "the server is down")
	require.Eventually(t, func() bool { return w.Stats().WriteErrors > 0 }, 50*time.Second, 10*time.Millisecond,
		"writes fail while the server is down")
	restore()
	require.NoError(t, w.Flush(ctxT(t)))
	require.NoError(t, w.Close(ctxT(t)))
	got, _ := readAll(t, b)
	requireSameIDs(t, append(first, second...), got)
	require.Zero(t, w.Stats().Lost)
}

func testDropMode(t *testing.T, h Harness) {
	under := h.Open(t)
	fb := NewFaultyBucket(under, h.Aborter)
	w := newWriter(t, h, fb.Bucket(), &sink.WriterOptions{
		DropWhenFull: true, BufferBytes: 16 << 10, MaxObjectBytes: 4 << 10,
		RetryMin: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond,
	})
	fb.Hang()
	ctx := ctxT(t)
	var accepted []Rec
	dropped := 0
	for _, r := range records(1000, 0) {
		switch err := w.Write(ctx, time.Time(r.TS), r); {
		case err == nil:
			accepted = append(accepted, r)
		case errors.Is(err, sink.ErrDropped):
			dropped++
		default:
			require.NoError(t, err)
		}
	}
	require.Positive(t, dropped)
	require.EqualValues(t, dropped, w.Stats().Dropped)
	require.LessOrEqual(t, w.Stats().Buffered, int64(16<<10))
	fb.Recover()
	require.NoError(t, w.Close(ctxT(t)))
	got, _ := readAll(t, under)
	requireSameIDs(t, accepted, got)
}

func testBlockMode(t *testing.T, h Harness) {
	under := h.Open(t)
	fb := NewFaultyBucket(under, h.Aborter)
	w := newWriter(t, h, fb.Bucket(), &sink.WriterOptions{
		BufferBytes: 8 << 10, MaxObjectBytes: 4 << 10,
		RetryMin: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond,
	})
	fb.Fail()
	recs := records(1000, 0)
	var accepted []Rec
	var err error
	for _, r := range recs {
		if err = w.Write(shortCtx(t, 50*time.Millisecond), time.Time(r.TS), r); err != nil {
			break
		}
		accepted = append(accepted, r)
	}
	require.ErrorIs(t, err, context.DeadlineExceeded, "Write blocks until its ctx ends")
	require.Less(t, len(accepted), len(recs))
	// A blocked Write resumes when the bucket recovers.
	done := make(chan error, 1)
	next := recs[len(accepted)]
	go func() { done <- w.Write(context.Background(), time.Time(next.TS), next) }()
	fb.Recover()
	require.NoError(t, <-done)
	accepted = append(accepted, next)
	require.NoError(t, w.Close(ctxT(t)))
	require.Zero(t, w.Stats().Dropped)
	got, _ := readAll(t, under)
	requireSameIDs(t, accepted, got)
}

func testMalformed(t *testing.T, h Harness) {
	b := h.Open(t)
	w := newWriter(t, h, b, nil)
	recs := records(20, 0)
	writeAll(t, w, recs)
	require.NoError(t, w.Close(ctxT(t)))
	ctx := ctxT(t)
	// An object written by something else, with bad lines, and a file that
	// is not an object of the layout.
	prefix := dataset + "/year=2026/month=03/day=31/hour=22/"
	good, err := json.Marshal(Rec{TS: sink.Time(base), ID: 100})
	require.NoError(t, err)
	body := "not json\n" + string(good) + "\r\n\n[1,2]\n{\"truncated\": \n"
	require.NoError(t, b.WriteAll(ctx, prefix+"20260331_225959_0000abcd.jsonl", []byte(body), nil))
	require.NoError(t, b.WriteAll(ctx, prefix+"_SUCCESS", []byte("x"), nil))
	got, stats := readAll(t, b)
	requireSameIDs(t, append(recs, Rec{ID: 100}), got)
	require.EqualValues(t, 3, stats.Malformed)
}

// testMixedFormats writes one hour in h's format and in another, as a
// writer that switched format does: a Reader reads both whole, and one
// without the Parquet format counts Parquet objects as unsupported.
func testMixedFormats(t *testing.T, h Harness) {
	b := h.Open(t)
	other := sink.Format(sink.JSONLGzip(0))
	if h.Format.Name() != sink.FormatParquet {
		other = parquetRec(t)
	}
	recs := records(200, 0)
	for i, f := range []sink.Format{h.Format, other} {
		w := newWriter(t, h, b, &sink.WriterOptions{Format: f})
		writeAll(t, w, recs[i*100:(i+1)*100])
		require.NoError(t, w.Close(ctxT(t)))
	}
	got, stats := readAll(t, b)
	requireSameIDs(t, recs, got)
	require.Zero(t, stats.Unsupported+stats.Corrupt+stats.Malformed)

	r := sink.NewReader(b, dataset, time.Time{}, time.Time{}, nil)
	defer func() { _ = r.Close() }()
	n := 0
	for {
		_, err := r.Next(ctxT(t))
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		n++
	}
	require.Equal(t, 100, n, "the JSON Lines half")
	require.Positive(t, r.Stats().Unsupported)
}

// requireNoKeys checks that a bucket holds nothing: no partial object.
func requireNoKeys(t *testing.T, b *blob.Bucket) {
	t.Helper()
	for _, o := range allKeys(t, b) {
		data, _ := b.ReadAll(ctxT(t), o.Key)
		t.Errorf("unexpected object %s (%d bytes): %.200q", o.Key, o.Size, data)
	}
}
