package replay

import (
	"context"
	"io"
	"strconv"
	"time"

	"gocloud.dev/blob"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/sink"
)

// QueryLogOptions configures OpenQueryLog.
type QueryLogOptions struct {
	// Dataset is the query-log dataset under the bucket. Default
	// dataset.QueryLogs.
	Dataset string
	// From and To bound the records' ts, [From, To); zero leaves that end
	// open.
	From, To time.Time
	// Reader configures the underlying sink.Reader (its Logger receives the
	// objects and lines it skips).
	Reader *sink.ReaderOptions
}

// OpenQueryLog returns a Source over the project's own query logs (the
// QueryLogs dataset under bucket, as the proxy or a replay wrote them): the
// primary side's COM_QUERY records. Shadow records, and commands whose
// parameters the log does not hold (COM_STMT_EXECUTE) or that are not
// statements, are skipped. The session is client_addr and conn_id, the
// outcome duration_ms, rows, success and error_code. Lines the sink reader
// cannot read are counted as malformed (their object and line are in the
// reader's log); records that do not decode as a QueryLog are counted with
// their record number.
//
// Records are in object order: partition hour, then object key. Objects of
// one hour written by several proxies overlap in time, so the order is by
// hour, not exact.
func OpenQueryLog(bucket *blob.Bucket, opts *QueryLogOptions) Source {
	var o QueryLogOptions
	if opts != nil {
		o = *opts
	}
	if o.Dataset == "" {
		o.Dataset = dataset.QueryLogs
	}
	return &queryLog{name: o.Dataset, r: sink.NewReader(bucket, o.Dataset, o.From, o.To, o.Reader)}
}

type queryLog struct {
	name string
	r    *sink.Reader
	dec  dataset.QueryLogDecoder
	rec  dataset.QueryLog
	n    int64
	c    counter
}

func (q *queryLog) Next(ctx context.Context) (Statement, error) {
	for {
		line, err := q.r.Next(ctx)
		if err != nil {
			if err == io.EOF {
				return Statement{}, io.EOF
			}
			return Statement{}, err
		}
		q.n++
		if err := q.dec.Decode(line, &q.rec); err != nil {
			q.c.malformed(Position{q.name, q.n}, "%v", err)
			continue
		}
		r := &q.rec
		if r.Target != dataset.TargetPrimary || r.Command != "COM_QUERY" || r.QueryText == "" {
			q.c.skipped()
			continue
		}
		st := Statement{
			Time: time.Time(r.TS).UTC(), Session: r.ClientAddr + "#" + strconv.FormatUint(r.ConnID, 10),
			Database: r.Database, User: r.User, Text: r.QueryText,
			Duration: time.Duration(r.DurationMS * float64(time.Millisecond)), Rows: r.Rows,
			Failed: !r.Success, Pos: Position{q.name, q.n},
		}
		if r.ErrorCode != 0 {
			st.ErrorCode = strconv.Itoa(int(r.ErrorCode))
		}
		q.c.yielded()
		return st, nil
	}
}

// Stats adds the sink reader's malformed lines to the source's count.
func (q *queryLog) Stats() SourceStats {
	s := q.c.stats()
	s.Malformed += q.r.Stats().Malformed
	return s
}

func (q *queryLog) Close() error { return q.r.Close() }
