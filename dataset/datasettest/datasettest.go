// Package datasettest holds fixtures for tests of code that writes or reads
// the datasets.
package datasettest

import (
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/sink"
)

// FullQueryLog returns a QueryLog at ts whose every field is set to a value
// that is not its zero value (a statement text with characters JSON must
// escape, pointers set, flags true), so that a round trip through an
// encoding shows any field it loses. Its test keeps it that way as fields
// are added.
func FullQueryLog(ts time.Time) dataset.QueryLog {
	f, tiny, huge, pw := 1.25, 1e-9, 3e22, 0.5
	ok := true
	code := uint16(1146)
	rows := int64(-3)
	return dataset.QueryLog{
		TS: sink.Time(ts), QueryID: "q-1-2", Target: dataset.TargetShadow,
		Command: "COM_QUERY", QueryText: "SELECT '\"<x>&\\\n\t\x01 é \u2028'", QueryHash: "h", TemplateHash: "th",
		Route: "r", Database: "db", User: "u", ClientAddr: "127.0.0.1:1", ConnID: 7, Seq: 9, DurationMS: 0.000123,
		TTFBMS: &f, ClientWaitMS: &tiny, ServerConnID: 42, QueueMS: &huge, Success: true, ErrorCode: 1064,
		SQLState: "42000", Error: "e", Rows: 5, ResultHash: "5:abc", ColumnsHash: "c", FloatCols: true,
		PrimaryDurationMS: &f, PrimaryClientWaitMS: &pw, PrimarySuccess: &ok, PrimaryErrorCode: &code, PrimaryRows: &rows,
		PrimaryResultHash: "p", PrimaryColumnsHash: "pc", BytesSent: 10, BytesRecv: 20, Filtered: true,
		FilterReason: "write", Dropped: true, Diverged: true,
	}
}
