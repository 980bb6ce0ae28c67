package dataset_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/dataset/datasettest"
	"github.com/sqlshadow/sqlshadow/sink"
)

// fullQueryLog is datasettest.FullQueryLog at a fixed time.
func fullQueryLog() dataset.QueryLog {
	return datasettest.FullQueryLog(time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC))
}

func encodingJSON(t testing.TB, v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return strings.TrimSuffix(buf.String(), "\n")
}

// The fast encoder writes exactly what encoding/json writes.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	invalid := fullQueryLog()
	invalid.QueryText = "bad \xff utf-8"
	for _, r := range []dataset.QueryLog{{}, fullQueryLog(), invalid} {
		got, err := r.AppendJSON(nil)
		require.NoError(t, err)
		require.Equal(t, encodingJSON(t, &r), string(got))
	}
}

// Durations take the encoder's fast path; whatever the value, the output is
// encoding/json's.
func TestAppendJSONDurationsMatchEncodingJSON(t *testing.T) {
	vals := []float64{0, 1e-6, 0.1, 0.123456, 1, 1.5, 999999.999999, 1e9 - 1e-6, 1e9, 1e15, 1e21, 5e-7,
		-0.5, 0.1 + 0.2, 1.0 / 3, 123.456789, 86_400_000.000001}
	rnd := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		ns := rnd.Int64N(1 << rnd.IntN(51))
		vals = append(vals, float64(ns)/1e6, float64(time.Duration(ns))/float64(time.Millisecond), rnd.Float64()*1e4)
	}
	for _, v := range vals {
		r := dataset.QueryLog{DurationMS: v}
		got, err := r.AppendJSON(nil)
		require.NoError(t, err)
		require.Equal(t, encodingJSON(t, &r), string(got), "%v", v)
	}
}

// Encode, decode, equal: for every field, through the fast encoder and
// decoder and through encoding/json.
func TestQueryLogRoundTrip(t *testing.T) {
	var d dataset.QueryLogDecoder
	for _, want := range []dataset.QueryLog{fullQueryLog(), {}, {Target: "primary", Success: true, Rows: 1}} {
		line, err := want.AppendJSON(nil)
		require.NoError(t, err)
		var got dataset.QueryLog
		require.NoError(t, d.Decode(line, &got))
		require.Equal(t, want, got)

		var viaStd dataset.QueryLog
		require.NoError(t, json.Unmarshal(line, &viaStd))
		require.Equal(t, want, viaStd)
	}
}

// Decoding into a reused record resets it: a field absent from the second
// line is not left over from the first.
func TestQueryLogDecoderResets(t *testing.T) {
	var d dataset.QueryLogDecoder
	full := fullQueryLog()
	line, _ := full.AppendJSON(nil)
	var r dataset.QueryLog
	require.NoError(t, d.Decode(line, &r))
	require.NoError(t, d.Decode([]byte(`{"query_id":"x","target":"primary"}`), &r))
	require.Equal(t, dataset.QueryLog{QueryID: "x", Target: "primary"}, r)
	require.NoError(t, d.Decode(line, &r))
	require.Equal(t, full, r)
}

// Logs of the open-source StarRocks shadow proxy: its fields, no primary_*,
// and fields of its own that are skipped.
func TestQueryLogDecoderReadsOtherProducers(t *testing.T) {
	line := `{"ts":"2026-03-01T10:00:00.5+08:00","query_id":"a1","target":"shadow","command":"COM_QUERY",` +
		`"query_text":"SELECT 1","query_hash":"c4ca","duration_ms":12.5,"bytes_sent":10,"bytes_recv":99,` +
		`"success":false,"error":"timeout","client_addr":"10.0.0.1:5000","filtered":false,"filter_reason":null,` +
		`"extra":{"nested":[1,2,{"a":null}]}}`
	var d dataset.QueryLogDecoder
	var r dataset.QueryLog
	require.NoError(t, d.Decode([]byte(line), &r))
	require.Equal(t, dataset.QueryLog{
		TS: sink.Time(time.Date(2026, 3, 1, 2, 0, 0, 5e8, time.UTC)), QueryID: "a1", Target: "shadow",
		Command: "COM_QUERY", QueryText: "SELECT 1", QueryHash: "c4ca", DurationMS: 12.5, BytesSent: 10,
		BytesRecv: 99, Error: "timeout", ClientAddr: "10.0.0.1:5000",
	}, r)
}

func TestQueryLogDecoderRejects(t *testing.T) {
	var d dataset.QueryLogDecoder
	var r dataset.QueryLog
	for _, line := range []string{
		``, `[]`, `{`, `{"query_id":}`, `{"query_id":"x"`, `{"success":"yes"}`, `{"rows":1.5}`,
		`{"error_code":-1}`, `{"error_code":70000}`, `{"ts":"yesterday"}`, `{"query_id":"x"} {}`, `{"a":[1,2}`,
	} {
		err := d.Decode([]byte(line), &r)
		require.ErrorIs(t, err, dataset.ErrSyntax, "%q", line)
	}
}

func FuzzQueryLogDecoder(f *testing.F) {
	full := fullQueryLog()
	line, _ := full.AppendJSON(nil)
	f.Add(line)
	f.Add([]byte(`{"query_id":"a\u0000b","ts":null,"rows":-0,"x":[{"y":"\""}]}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		var d dataset.QueryLogDecoder
		var r dataset.QueryLog
		if d.Decode(line, &r) != nil {
			return
		}
		// What decodes re-encodes to a line that decodes to the same record.
		again, err := r.AppendJSON(nil)
		require.NoError(t, err)
		var r2 dataset.QueryLog
		require.NoError(t, d.Decode(again, &r2), "%s", again)
		if utf8.Valid(line) { // the encoder replaces invalid UTF-8 with U+FFFD
			require.Equal(t, r, r2)
		}
	})
}

func BenchmarkQueryLogDecode(b *testing.B) {
	full := fullQueryLog()
	line, _ := full.AppendJSON(nil)
	var d dataset.QueryLogDecoder
	var r dataset.QueryLog
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Decode(line, &r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueryLogDecodeTypical decodes a shadow record as the proxy writes
// it: no escapes in the statement text.
func BenchmarkQueryLogDecodeTypical(b *testing.B) {
	r := fullQueryLog()
	r.QueryText = "SELECT c, pad FROM sbtest1 WHERE id = 4242 /*route='point-select'*/"
	line, _ := r.AppendJSON(nil)
	var d dataset.QueryLogDecoder
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Decode(line, &r); err != nil {
			b.Fatal(err)
		}
	}
}

// Strings with escapes decode as encoding/json decodes them.
func FuzzQueryLogDecoderStrings(f *testing.F) {
	for _, s := range []string{`a\"b`, `\u00e9\n\t\\`, `\ud83d\ude00`, `\ud83d`, `\ude00x`, `\/\b\f\r`, `\u12`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		line := []byte(`{"query_text":"` + body + `"}`)
		var want struct {
			QueryText string `json:"query_text"`
		}
		stdErr := json.Unmarshal(line, &want)
		var d dataset.QueryLogDecoder
		var r dataset.QueryLog
		err := d.Decode(line, &r)
		if stdErr != nil || !utf8.ValidString(body) {
			// We accept more (control characters), and keep invalid UTF-8
			// as it is where encoding/json replaces it.
			return
		}
		require.NoError(t, err, "%q", line)
		require.Equal(t, want.QueryText, r.QueryText, "%q", line)
	})
}
