package mirror

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/sink"
)

func TestAppendRecordJSONMatchesEncodingJSON(t *testing.T) {
	f := 1.25
	tiny := 1e-9
	huge := 3e22
	ok := true
	code := uint16(1146)
	rows := int64(-3)
	recs := []Record{
		{},
		{
			TS: sink.Time(time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)), QueryID: "q-1-2", Target: TargetPrimary,
			Command: "COM_QUERY", QueryText: "SELECT '\"<x>&\\\n\t\x01 é \u2028 \xff'", QueryHash: "h", TemplateHash: "th",
			Route: "r", Database: "db", User: "u", ClientAddr: "127.0.0.1:1", ConnID: 7, Seq: 9, DurationMS: 0.000123,
			TTFBMS: &f, ClientWaitMS: &tiny, ServerConnID: 42, QueueMS: &huge, Success: true, ErrorCode: 1064,
			SQLState: "42000", Error: "e", Rows: 5, ResultHash: "5:abc", ColumnsHash: "c", FloatCols: true,
			PrimaryDurationMS: &f, PrimarySuccess: &ok, PrimaryErrorCode: &code, PrimaryRows: &rows,
			PrimaryResultHash: "p", BytesSent: 10, BytesRecv: 20, Filtered: true, FilterReason: "write",
			Dropped: true, Diverged: true,
		},
	}
	for _, r := range recs {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		require.NoError(t, enc.Encode(&r))
		got, err := r.AppendJSON(nil)
		require.NoError(t, err)
		require.Equal(t, strings.TrimSuffix(want.String(), "\n"), string(got))
	}
}

// Durations take appendFloatField's fast path; whatever the value, the
// output is encoding/json's.
func TestAppendFloatFieldMatchesEncodingJSON(t *testing.T) {
	vals := []float64{0, 1e-6, 0.000001, 0.1, 0.123456, 1, 1.5, 999999.999999, 1e9 - 1e-6, 1e9, 1e15, 1e21, 5e-7,
		-0.5, 0.1 + 0.2, 1.0 / 3, 123.456789, 86_400_000.000001}
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		ns := r.Int64N(1 << r.IntN(51))
		vals = append(vals, float64(ns)/1e6, float64(time.Duration(ns))/float64(time.Millisecond), r.Float64()*1e4)
	}
	for _, v := range vals {
		want, err := json.Marshal(v)
		require.NoError(t, err)
		got := appendFloatField(nil, "x", &v)
		require.Equal(t, `,"x":`+string(want), string(got), "%v", v)
	}
}

func FuzzAppendFloatField(f *testing.F) {
	for _, v := range []float64{0, 0.123456, 1e9, 1.0 / 3} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		want, err := json.Marshal(v)
		if err != nil {
			t.Skip("NaN or infinity: not a JSON number")
		}
		require.Equal(t, `,"x":`+string(want), string(appendFloatField(nil, "x", &v)))
	})
}
