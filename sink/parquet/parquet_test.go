package parquet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	_ "gocloud.dev/blob/memblob"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/dataset/datasettest"
	"github.com/sqlshadow/sqlshadow/sink"
	"github.com/sqlshadow/sqlshadow/sink/parquet"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fullQueryLog is datasettest.FullQueryLog at a fixed time.
func fullQueryLog() dataset.QueryLog {
	return datasettest.FullQueryLog(time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC))
}

// encode writes recs as one object of format f, buffered by AppendRecord as
// the sink.Writer buffers them, two records a chunk.
func encode[T any](t *testing.T, f *parquet.Format[T], recs []T) []byte {
	t.Helper()
	var chunks [][]byte
	for i := range recs {
		if i%2 == 0 {
			chunks = append(chunks, nil)
		}
		var err error
		chunks[len(chunks)-1], err = f.AppendRecord(chunks[len(chunks)-1], &recs[i])
		require.NoError(t, err)
	}
	var out bytes.Buffer
	require.NoError(t, f.NewEncoder().Encode(&out, chunks))
	return out.Bytes()
}

func decodeAll[T any](t *testing.T, f *parquet.Format[T], data []byte) []T {
	t.Helper()
	r, err := f.NewReader(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	defer func() { require.NoError(t, r.Close()) }()
	var out []T
	for {
		var rec T
		err := r.Next(&rec)
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		out = append(out, rec)
	}
}

func TestQueryLogRoundTrip(t *testing.T) {
	f, err := parquet.NewFormat[dataset.QueryLog](nil)
	require.NoError(t, err)
	full, empty := fullQueryLog(), dataset.QueryLog{TS: sink.Time(time.Unix(0, 0).UTC())}
	want := []dataset.QueryLog{full, empty, full}
	require.Equal(t, want, decodeAll(t, f, encode(t, f, want)))

	// Read as JSON Lines: the JSON the sink writes for the same records.
	data := encode(t, f, want)
	r, err := f.Open(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	var lines []byte
	for _, rec := range want {
		lines, _ = rec.AppendJSON(lines)
		lines = append(lines, '\n')
	}
	require.Equal(t, string(lines), string(got))
}

func TestSchemaTypes(t *testing.T) {
	f, err := parquet.NewFormat[dataset.QueryLog](nil)
	require.NoError(t, err)
	s := f.Schema().String()
	for _, want := range []string{
		"required int64 ts (TIMESTAMP(isAdjustedToUTC=true,unit=MICROS))",
		"required binary query_id (STRING)",
		"optional binary query_text (STRING)",
		"required int64 conn_id (INT(64,true))",
		"required double duration_ms",
		"optional double ttfb_ms",
		"required boolean success",
		"optional boolean primary_success",
		"optional int64 primary_error_code (INT(64,true))",
	} {
		require.Contains(t, s, want)
	}
}

// Nested values (a Finding's hypotheses, evidence, subject) are JSON columns.
func TestFindingRoundTrip(t *testing.T) {
	f, err := parquet.NewFormat[dataset.Finding](&parquet.Options{Compression: parquet.Snappy})
	require.NoError(t, err)
	rec := dataset.Finding{
		TS: sink.Time(time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)), Fingerprint: "0123456789abcdef",
		Subject: dataset.Subject{Kind: "cluster", Cluster: "c1"}, Title: "t", Confidence: 0.5,
		Recommendations: []string{"a", "b"}, Hypotheses: []dataset.Hypothesis{{Category: "x", Statement: "s", Status: "pending"}},
		ToolCalls: []dataset.ToolCall{{Tool: "q", Input: json.RawMessage(`{"a":1}`)}},
	}
	got := decodeAll(t, f, encode(t, f, []dataset.Finding{rec}))
	require.Equal(t, []dataset.Finding{rec}, got)
	require.Contains(t, f.Schema().String(), "optional binary subject (JSON)")
}

func TestNewFormatErrors(t *testing.T) {
	_, err := parquet.NewFormat[int](nil)
	require.Error(t, err)
	_, err = parquet.NewFormat[dataset.QueryLog](&parquet.Options{Compression: "lzo"})
	require.Error(t, err)
}

// A corrupt object: OpenObject's error, or the Reader's, satisfies
// sink.IsCorrupt, and sink.Reader counts and skips it.
func TestCorruptObjectSkipped(t *testing.T) {
	f, err := parquet.NewFormat[dataset.QueryLog](nil)
	require.NoError(t, err)
	ctx := context.Background()
	b, err := sink.OpenBucket(ctx, "mem://")
	require.NoError(t, err)
	defer func() { require.NoError(t, b.Close()) }()
	w, err := sink.NewWriter(b, dataset.QueryLogs, &sink.WriterOptions{Format: f})
	require.NoError(t, err)
	rec := fullQueryLog()
	for range 100 {
		require.NoError(t, w.Write(ctx, time.Time(rec.TS), &rec))
	}
	require.NoError(t, w.Close(ctx))
	objs, err := sink.Objects(ctx, b, dataset.QueryLogs, time.Time{}, time.Time{})
	require.NoError(t, err)
	require.Len(t, objs, 1)
	data, err := b.ReadAll(ctx, objs[0].Key)
	require.NoError(t, err)
	prefix := objs[0].Key[:len(objs[0].Key)-len("12345678.parquet")]
	require.NoError(t, b.WriteAll(ctx, prefix+"cut00001.parquet", data[:len(data)/2], nil))
	garbled := bytes.Clone(data)
	for i := 4; i < len(garbled)/2; i++ {
		garbled[i] ^= 0x5a
	}
	require.NoError(t, b.WriteAll(ctx, prefix+"bad00002.parquet", garbled, nil))

	r := sink.NewReader(b, dataset.QueryLogs, time.Time{}, time.Time{}, &sink.ReaderOptions{Formats: []sink.Format{f}})
	defer func() { require.NoError(t, r.Close()) }()
	n := 0
	for {
		raw, err := r.Next(ctx)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		var got dataset.QueryLog
		require.NoError(t, (&dataset.QueryLogDecoder{}).Decode(raw, &got))
		n++
	}
	st := r.Stats()
	require.EqualValues(t, 2, st.Corrupt, "%+v", st)
	require.GreaterOrEqual(t, n, 100)
	require.LessOrEqual(t, n, 200, "records of the garbled object before the damage at most")
}

// Records of another type than T are buffered through their JSON, as the
// JSON Lines formats would hold them; non-objects are refused.
func TestAppendRecordOtherTypes(t *testing.T) {
	f, err := parquet.NewFormat[dataset.QueryLog](nil)
	require.NoError(t, err)
	full := fullQueryLog()
	line, err := full.AppendJSON(nil)
	require.NoError(t, err)
	var chunk []byte
	for _, rec := range []any{full, json.RawMessage(line), map[string]any{"query_id": "m", "rows": "not a number", "seq": 3}} {
		chunk, err = f.AppendRecord(chunk, rec)
		require.NoError(t, err, "%T", rec)
	}
	var out bytes.Buffer
	require.NoError(t, f.NewEncoder().Encode(&out, [][]byte{chunk}))
	got := decodeAll(t, f, out.Bytes())
	require.Equal(t, []dataset.QueryLog{full, full, {QueryID: "m", Seq: 3, TS: sink.Time(time.UnixMicro(time.Time{}.UnixMicro()).UTC())}}, got)

	for _, rec := range []any{json.RawMessage(`[1]`), 5, (*dataset.QueryLog)(nil)} {
		_, err := f.AppendRecord(nil, rec)
		require.ErrorIs(t, err, sink.ErrNotObject, "%T", rec)
	}
}

// A STRING column holds UTF-8: invalid bytes become U+FFFD, as in JSON.
func TestInvalidUTF8(t *testing.T) {
	f, err := parquet.NewFormat[dataset.QueryLog](nil)
	require.NoError(t, err)
	rec := dataset.QueryLog{TS: sink.Time(time.Unix(1, 0).UTC()), QueryText: "a\xffb"}
	got := decodeAll(t, f, encode(t, f, []dataset.QueryLog{rec}))
	require.Equal(t, "a\uFFFDb", got[0].QueryText)
}

// Bytes that AppendRecord did not write fail Encode, never a partial row.
func TestEncodeMalformed(t *testing.T) {
	f, err := parquet.NewFormat[dataset.QueryLog](nil)
	require.NoError(t, err)
	rec := fullQueryLog()
	b, err := f.AppendRecord(nil, &rec)
	require.NoError(t, err)
	for _, n := range []int{1, len(b) / 2, len(b) - 1} {
		require.Error(t, f.NewEncoder().Encode(io.Discard, [][]byte{b[:n]}), "cut at %d", n)
	}
}

// The Writer buffers and counts the records' AppendRecord bytes (smaller
// than their JSON Lines), and rolls objects by them.
func TestWriterBuffersRecords(t *testing.T) {
	f, err := parquet.NewFormat[dataset.QueryLog](nil)
	require.NoError(t, err)
	ctx := context.Background()
	b, err := sink.OpenBucket(ctx, "mem://")
	require.NoError(t, err)
	defer func() { require.NoError(t, b.Close()) }()
	rec := fullQueryLog()
	enc, err := f.AppendRecord(nil, &rec)
	require.NoError(t, err)
	line, err := rec.AppendJSON(nil)
	require.NoError(t, err)
	require.Less(t, len(enc), len(line))
	const perObject = 10
	w, err := sink.NewWriter(b, dataset.QueryLogs, &sink.WriterOptions{Format: f, MaxObjectBytes: perObject * len(enc)})
	require.NoError(t, err)
	for range 3 * perObject {
		require.NoError(t, w.Write(ctx, time.Time(rec.TS), &rec))
	}
	require.NoError(t, w.Close(ctx))
	st := w.Stats()
	require.EqualValues(t, 3*perObject*len(enc), st.Bytes)
	require.EqualValues(t, 3, st.Objects)
	objs, err := sink.Objects(ctx, b, dataset.QueryLogs, time.Time{}, time.Time{})
	require.NoError(t, err)
	for _, o := range objs {
		data, err := b.ReadAll(ctx, o.Key)
		require.NoError(t, err)
		got := decodeAll(t, f, data)
		require.Len(t, got, perObject)
		require.Equal(t, rec, got[0])
	}
}
