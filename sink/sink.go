package sink

import (
	"context"
	"errors"
	"fmt"
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

// Time is a time.Time that marshals to JSON (and text) in TimeFormat, in
// UTC. It implements encoding.TextMarshaler rather than json.Marshaler: the
// JSON is the same quoted string, and encoding/json need not re-validate it,
// which matters at hundreds of thousands of records a second.
type Time time.Time

// MarshalText implements encoding.TextMarshaler.
func (t Time) MarshalText() ([]byte, error) {
	return appendTime(make([]byte, 0, len(TimeFormat)), time.Time(t)), nil
}

// AppendText implements encoding.TextAppender.
func (t Time) AppendText(b []byte) ([]byte, error) {
	return appendTime(b, time.Time(t)), nil
}

// appendTime appends t in TimeFormat. It is what t.UTC().AppendFormat(b,
// TimeFormat) gives, without parsing the layout: every record has a
// timestamp.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, TimeFormat)
	}
	hour, minute, sec := t.Clock()
	us := t.Nanosecond() / 1000
	return append(b,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.',
		byte('0'+us/100000), byte('0'+us/10000%10), byte('0'+us/1000%10),
		byte('0'+us/100%10), byte('0'+us/10%10), byte('0'+us%10), 'Z')
}

// UnmarshalText implements encoding.TextUnmarshaler; it accepts TimeFormat
// and RFC 3339.
func (t *Time) UnmarshalText(b []byte) error {
	v, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return fmt.Errorf("sink: time: %w", err)
	}
	*t = Time(v.UTC())
	return nil
}

// UnmarshalJSON implements json.Unmarshaler; it accepts a JSON string in
// TimeFormat or RFC 3339.
func (t *Time) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return errors.New("sink: time: not a JSON string")
	}
	return t.UnmarshalText(b[1 : len(b)-1])
}

// String returns the time in TimeFormat.
func (t Time) String() string {
	return string(appendTime(make([]byte, 0, len(TimeFormat)), time.Time(t)))
}
