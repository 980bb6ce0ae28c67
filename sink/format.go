package sink

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// Names of the formats (Format.Name), as the binaries' -log-format flag
// takes them.
const (
	FormatJSONL     = "jsonl"
	FormatJSONLGzip = "jsonl.gz"
	FormatParquet   = "parquet"
)

// Format is the encoding of a dataset's objects. JSONL and JSONLGzip are
// built in; package github.com/sqlshadow/sqlshadow/sink/parquet provides
// Parquet for a record type, so that only programs that choose Parquet link
// a Parquet library. Implementations are safe for concurrent use.
type Format interface {
	// Name is the format's name: FormatJSONL, FormatJSONLGzip or
	// FormatParquet.
	Name() string
	// Ext is the suffix of the objects' names, with its dot: ".jsonl",
	// ".jsonl.gz" or ".parquet".
	Ext() string
	// ContentType is the objects' MIME type.
	ContentType() string
	// NewEncoder returns an encoder that one goroutine at a time uses to
	// write whole objects.
	NewEncoder() Encoder
	// Open returns the records of the object read from r, size bytes
	// stored, as JSON Lines. Errors from a damaged object, from Open or from
	// reading, satisfy IsCorrupt.
	Open(r io.Reader, size int64) (io.ReadCloser, error)
}

// Encoder writes whole objects of one Format.
type Encoder interface {
	// Encode writes to w one object holding the records in chunks: JSON
	// objects, one per line, each ending with a newline, or for a
	// RecordAppender the records as its AppendRecord appended them; a chunk
	// holds whole records. Encode returns the first error of w.
	Encode(w io.Writer, chunks [][]byte) error
}

// RecordAppender is implemented by a Format that buffers records in an
// encoding of its own rather than as JSON Lines, to skip decoding JSON when
// the object is written (the Parquet format). Writer.Write then calls
// AppendRecord instead of encoding the record as JSON; what it appends is
// what the Writer buffers, counts against BufferBytes and MaxObjectBytes,
// and hands to the format's Encoder.
type RecordAppender interface {
	// AppendRecord appends record, as Writer.Write takes it, to buf and
	// returns the extended buffer. The bytes must not refer to the record's
	// memory: the caller may reuse it. It returns ErrNotObject for a record
	// that is not a JSON object, or another error for one it cannot encode.
	AppendRecord(buf []byte, record any) ([]byte, error)
}

// ErrCorrupt marks errors from reading a damaged object (IsCorrupt). Formats
// other than the built-in ones wrap their decoding errors with it.
var ErrCorrupt = errors.New("sink: corrupt object")

// ErrNoFormat is returned by OpenObject for an object of a format it was not
// given (a Parquet object without the Parquet format). Reader counts such
// objects as Unsupported and skips them.
var ErrNoFormat = errors.New("sink: no decoder for the object's format")

// JSONL returns the format of uncompressed JSON Lines objects (".jsonl").
func JSONL() Format { return jsonlFormat{} }

// JSONLGzip returns the format of gzip-compressed JSON Lines objects
// (".jsonl.gz") at compress/gzip level (0 means gzip.BestSpeed).
func JSONLGzip(level int) Format {
	if level == 0 {
		level = gzip.BestSpeed
	}
	return gzipFormat{level: level}
}

type jsonlFormat struct{}

func (jsonlFormat) Name() string        { return FormatJSONL }
func (jsonlFormat) Ext() string         { return extJSONL }
func (jsonlFormat) ContentType() string { return "application/x-ndjson" }
func (jsonlFormat) NewEncoder() Encoder { return jsonlEncoder{} }
func (jsonlFormat) Open(r io.Reader, _ int64) (io.ReadCloser, error) {
	return io.NopCloser(r), nil
}

type jsonlEncoder struct{}

func (jsonlEncoder) Encode(w io.Writer, chunks [][]byte) error {
	for _, c := range chunks {
		if _, err := w.Write(c); err != nil {
			return err
		}
	}
	return nil
}

type gzipFormat struct{ level int }

func (gzipFormat) Name() string        { return FormatJSONLGzip }
func (gzipFormat) Ext() string         { return extGzip }
func (gzipFormat) ContentType() string { return "application/gzip" }
func (f gzipFormat) NewEncoder() Encoder {
	zw, err := gzip.NewWriterLevel(io.Discard, f.level)
	if err != nil { // an invalid level: the default one
		zw = gzip.NewWriter(io.Discard)
	}
	return &gzipEncoder{zw: zw}
}

func (gzipFormat) Open(r io.Reader, _ int64) (io.ReadCloser, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, err
	}
	return zr, nil
}

type gzipEncoder struct{ zw *gzip.Writer }

func (e *gzipEncoder) Encode(w io.Writer, chunks [][]byte) error {
	e.zw.Reset(w)
	for _, c := range chunks {
		if _, err := e.zw.Write(c); err != nil {
			return err
		}
	}
	return e.zw.Close()
}

// formatOf returns the format of obj among the built-in ones and formats.
func formatOf(obj Object, formats []Format) (Format, error) {
	switch obj.Format {
	case FormatJSONL:
		return JSONL(), nil
	case FormatJSONLGzip:
		return JSONLGzip(0), nil
	}
	for _, f := range formats {
		if f.Name() == obj.Format {
			return f, nil
		}
	}
	return nil, fmt.Errorf("%w: %s (%s)", ErrNoFormat, obj.Format, obj.Key)
}
