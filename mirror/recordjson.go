package mirror

import (
	"math"
	"strconv"

	"github.com/sqlshadow/sqlshadow/mirror/internal/wire"
	"github.com/sqlshadow/sqlshadow/sink"
)

// AppendJSON implements sink.JSONAppender: it appends r as one JSON object,
// exactly as encoding/json encodes a Record without HTML escaping (same
// fields, order and omitempty rules), without reflection: the proxy logs
// every command, so this is on its hot path.
func (r *Record) AppendJSON(b []byte) ([]byte, error) { return appendRecordJSON(b, r), nil }

var _ sink.JSONAppender = (*Record)(nil)

func appendRecordJSON(b []byte, r *Record) []byte {
	b = append(b, `{"ts":"`...)
	b, _ = r.TS.AppendText(b)
	b = append(b, '"')
	b = appendStrField(b, "query_id", r.QueryID, false)
	b = appendStrField(b, "target", r.Target, false)
	b = appendStrField(b, "command", r.Command, false)
	b = appendStrField(b, "query_text", r.QueryText, true)
	b = appendStrField(b, "query_hash", r.QueryHash, true)
	b = appendStrField(b, "template_hash", r.TemplateHash, true)
	b = appendStrField(b, "route", r.Route, true)
	b = appendStrField(b, "database", r.Database, false)
	b = appendStrField(b, "user", r.User, false)
	b = appendStrField(b, "client_addr", r.ClientAddr, false)
	b = append(b, `,"conn_id":`...)
	b = strconv.AppendUint(b, r.ConnID, 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, r.Seq, 10)
	b = appendFloatField(b, "duration_ms", &r.DurationMS)
	b = appendFloatField(b, "ttfb_ms", r.TTFBMS)
	b = appendFloatField(b, "client_wait_ms", r.ClientWaitMS)
	b = append(b, `,"server_conn_id":`...)
	b = strconv.AppendUint(b, uint64(r.ServerConnID), 10)
	b = appendFloatField(b, "queue_ms", r.QueueMS)
	b = append(b, `,"success":`...)
	b = strconv.AppendBool(b, r.Success)
	if r.ErrorCode != 0 {
		b = append(b, `,"error_code":`...)
		b = strconv.AppendUint(b, uint64(r.ErrorCode), 10)
	}
	b = appendStrField(b, "sql_state", r.SQLState, true)
	b = appendStrField(b, "error", r.Error, true)
	b = append(b, `,"rows":`...)
	b = strconv.AppendInt(b, r.Rows, 10)
	b = appendStrField(b, "result_hash", r.ResultHash, true)
	b = appendStrField(b, "columns_hash", r.ColumnsHash, true)
	if r.FloatCols {
		b = append(b, `,"float_cols":true`...)
	}
	b = appendFloatField(b, "primary_duration_ms", r.PrimaryDurationMS)
	if r.PrimarySuccess != nil {
		b = append(b, `,"primary_success":`...)
		b = strconv.AppendBool(b, *r.PrimarySuccess)
	}
	if r.PrimaryErrorCode != nil {
		b = append(b, `,"primary_error_code":`...)
		b = strconv.AppendUint(b, uint64(*r.PrimaryErrorCode), 10)
	}
	if r.PrimaryRows != nil {
		b = append(b, `,"primary_rows":`...)
		b = strconv.AppendInt(b, *r.PrimaryRows, 10)
	}
	b = appendStrField(b, "primary_result_hash", r.PrimaryResultHash, true)
	b = append(b, `,"bytes_sent":`...)
	b = strconv.AppendInt(b, r.BytesSent, 10)
	b = append(b, `,"bytes_recv":`...)
	b = strconv.AppendInt(b, r.BytesRecv, 10)
	if r.Filtered {
		b = append(b, `,"filtered":true`...)
	}
	b = appendStrField(b, "filter_reason", r.FilterReason, true)
	if r.Dropped {
		b = append(b, `,"dropped":true`...)
	}
	if r.Diverged {
		b = append(b, `,"diverged":true`...)
	}
	return append(b, '}')
}

func appendStrField(b []byte, name, v string, omitEmpty bool) []byte {
	if omitEmpty && v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return sink.AppendJSONString(b, v)
}

// appendFloatField encodes a float64 as encoding/json does; a nil pointer
// is omitted.
func appendFloatField(b []byte, name string, v *float64) []byte {
	if v == nil {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	f := *v
	if ns, ok := exactMillis(f); ok {
		return appendMillis(b, ns)
	}
	abs := f
	if abs < 0 {
		abs = -abs
	}
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// exactMillis returns ns when f is float64(ns)/1e6 for a whole number of
// nanoseconds under 1e15 (11 days): the durations the proxy records. Such an
// f's shortest decimal form is ns/10⁶ itself (at most 15 significant digits,
// which no other decimal of 15 digits or fewer shares), so appendMillis
// writes what strconv would, without its general algorithm.
func exactMillis(f float64) (int64, bool) {
	if !(f >= 0 && f < 1e9) {
		return 0, false
	}
	ns := int64(math.Round(f * 1e6))
	return ns, float64(ns)/1e6 == f
}

// appendMillis appends ns/10⁶ in decimal, without trailing zeros.
func appendMillis(b []byte, ns int64) []byte {
	b = strconv.AppendInt(b, ns/1e6, 10)
	return wire.AppendFraction(b, uint32(ns%1e6))
}
