package dataset

import (
	"math"
	"strconv"

	"github.com/sqlshadow/sqlshadow/internal/canon"
	"github.com/sqlshadow/sqlshadow/sink"
)

// AppendJSON implements sink.JSONAppender: it appends r as one JSON object,
// exactly as encoding/json encodes a QueryLog without HTML escaping (same
// fields, order and omitempty rules), without reflection: the proxy logs
// every command, so this is on its hot path.
func (r *QueryLog) AppendJSON(b []byte) ([]byte, error) { return appendQueryLog(b, r), nil }

var _ sink.JSONAppender = (*QueryLog)(nil)

func appendQueryLog(b []byte, r *QueryLog) []byte {
	b = append(b, `{"`+FieldTS+`":"`...)
	b, _ = r.TS.AppendText(b)
	b = append(b, '"')
	b = appendStr(b, FieldQueryID, r.QueryID, false)
	b = appendStr(b, FieldTarget, r.Target, false)
	b = appendStr(b, FieldCommand, r.Command, false)
	b = appendStr(b, FieldQueryText, r.QueryText, true)
	b = appendStr(b, FieldQueryHash, r.QueryHash, true)
	b = appendStr(b, FieldTemplateHash, r.TemplateHash, true)
	b = appendStr(b, FieldRoute, r.Route, true)
	b = appendStr(b, FieldDatabase, r.Database, false)
	b = appendStr(b, FieldUser, r.User, false)
	b = appendStr(b, FieldClientAddr, r.ClientAddr, false)
	b = appendUint(b, FieldConnID, r.ConnID)
	b = appendUint(b, FieldSeq, r.Seq)
	b = appendFloat(b, FieldDurationMS, &r.DurationMS)
	b = appendFloat(b, FieldTTFBMS, r.TTFBMS)
	b = appendFloat(b, FieldClientWaitMS, r.ClientWaitMS)
	b = appendUint(b, FieldServerConnID, uint64(r.ServerConnID))
	b = appendFloat(b, FieldQueueMS, r.QueueMS)
	b = appendBool(b, FieldSuccess, r.Success)
	if r.ErrorCode != 0 {
		b = appendUint(b, FieldErrorCode, uint64(r.ErrorCode))
	}
	b = appendStr(b, FieldSQLState, r.SQLState, true)
	b = appendStr(b, FieldError, r.Error, true)
	b = appendInt(b, FieldRows, r.Rows)
	b = appendStr(b, FieldResultHash, r.ResultHash, true)
	b = appendStr(b, FieldColumnsHash, r.ColumnsHash, true)
	if r.FloatCols {
		b = appendBool(b, FieldFloatCols, true)
	}
	b = appendFloat(b, FieldPrimaryDurationMS, r.PrimaryDurationMS)
	b = appendFloat(b, FieldPrimaryClientWaitMS, r.PrimaryClientWaitMS)
	if r.PrimarySuccess != nil {
		b = appendBool(b, FieldPrimarySuccess, *r.PrimarySuccess)
	}
	if r.PrimaryErrorCode != nil {
		b = appendUint(b, FieldPrimaryErrorCode, uint64(*r.PrimaryErrorCode))
	}
	if r.PrimaryRows != nil {
		b = appendInt(b, FieldPrimaryRows, *r.PrimaryRows)
	}
	b = appendStr(b, FieldPrimaryResultHash, r.PrimaryResultHash, true)
	b = appendStr(b, FieldPrimaryColumnsHash, r.PrimaryColumnsHash, true)
	b = appendInt(b, FieldBytesSent, r.BytesSent)
	b = appendInt(b, FieldBytesRecv, r.BytesRecv)
	if r.Filtered {
		b = appendBool(b, FieldFiltered, true)
	}
	b = appendStr(b, FieldFilterReason, r.FilterReason, true)
	if r.Dropped {
		b = appendBool(b, FieldDropped, true)
	}
	if r.Diverged {
		b = appendBool(b, FieldDiverged, true)
	}
	return append(b, '}')
}

func appendKey(b []byte, name string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

func appendStr(b []byte, name, v string, omitEmpty bool) []byte {
	if omitEmpty && v == "" {
		return b
	}
	return sink.AppendJSONString(appendKey(b, name), v)
}

func appendUint(b []byte, name string, v uint64) []byte {
	return strconv.AppendUint(appendKey(b, name), v, 10)
}

func appendInt(b []byte, name string, v int64) []byte {
	return strconv.AppendInt(appendKey(b, name), v, 10)
}

func appendBool(b []byte, name string, v bool) []byte {
	return strconv.AppendBool(appendKey(b, name), v)
}

// appendFloat encodes a float64 as encoding/json does; a nil pointer is
// omitted.
func appendFloat(b []byte, name string, v *float64) []byte {
	if v == nil {
		return b
	}
	b = appendKey(b, name)
	f := *v
	if ns, ok := exactMillis(f); ok {
		return appendMillis(b, ns)
	}
	abs := math.Abs(f)
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
	return canon.AppendFraction(b, uint32(ns%1e6))
}
