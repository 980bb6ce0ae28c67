package sink

import (
	"context"
	"errors"
	"time"
)

// Sink accepts the records of one dataset. Implementations are safe for
// concurrent use.
type Sink interface {
	// Write accepts one record. ts is the record's own timestamp: it chooses
	// the partition (UTC), whatever the time of the flush. record is encoded
	// as one JSON object (json.Marshal, or json.RawMessage as is).
	//
	// When the buffer is full, Write either blocks until there is room or
	// ctx ends, or returns ErrDropped at once and counts the drop, as the
	// sink's options say. Write never waits on the bucket in drop mode.
	Write(ctx context.Context, ts time.Time, record any) error
	// Flush writes every record accepted so far to the bucket and returns
	// once they are durable, or when ctx ends.
	Flush(ctx context.Context) error
	// Close flushes, then releases the sink. Nothing accepted is lost unless
	// ctx ends first, and then what was lost is in the error.
	Close(ctx context.Context) error
}

var (
	// ErrDropped is returned by Write in drop mode when the buffer is full.
	ErrDropped = errors.New("sink: record dropped: buffer full")
	// ErrClosed is returned by calls on a closed sink.
	ErrClosed = errors.New("sink: closed")
)

// TimeFormat is the fixed-width UTC microsecond layout of every timestamp the
// project writes ("ts" and others): every engine reads it as a timestamp.
const TimeFormat = "2006-01-02T15:04:05.000000Z"

// Time is a time.Time that marshals to JSON in TimeFormat, in UTC.
type Time time.Time

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(TimeFormat)+2)
	b = append(b, '"')
	b = time.Time(t).UTC().AppendFormat(b, TimeFormat)
	return append(b, '"'), nil
}

// UnmarshalJSON implements json.Unmarshaler; it accepts TimeFormat and RFC 3339.
func (t *Time) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return errors.New("sink: time: not a JSON string")
	}
	v, err := time.Parse(time.RFC3339Nano, string(b[1:len(b)-1]))
	if err != nil {
		return err
	}
	*t = Time(v.UTC())
	return nil
}
