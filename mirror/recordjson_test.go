package mirror

import (
	"bytes"
	"encoding/json"
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
