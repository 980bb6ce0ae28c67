package parquet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"unsafe"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/sqlshadow/sqlshadow/sink"
)

// Compression codecs (Options.Compression).
const (
	Zstd   = "zstd"
	Snappy = "snappy"
)

// DefaultRowGroupRows is the default Options.RowGroupRows.
const DefaultRowGroupRows = 122880

// Options configures a Format. The zero value (or nil) gives the defaults
// documented on each field.
type Options struct {
	// Compression is the codec of every column: Zstd (the default, at its
	// fastest level) or Snappy.
	Compression string
	// RowGroupRows is the most rows in one row group. Default
	// DefaultRowGroupRows; an object of the sink's default size (16 MiB
	// buffered, some 35,000 query-log records) is one row group.
	RowGroupRows int64
}

// Format is the sink.Format of Parquet objects of record type T, a struct.
// It is safe for concurrent use.
type Format[T any] struct {
	fields []field
	schema *pq.Schema
	codec  compress.Codec
	rows   int64
}

var (
	_ sink.Format         = (*Format[struct{ A int }])(nil)
	_ sink.RecordAppender = (*Format[struct{ A int }])(nil)
)

// NewFormat returns the Parquet format of records of type T. The schema
// comes from T's JSON encoding (see the package comment). An error is
// returned when T is not a struct with exported fields, or for an unknown
// compression.
func NewFormat[T any](opts *Options) (*Format[T], error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	fields, schema, err := fieldsOf(reflect.TypeFor[T]())
	if err != nil {
		return nil, err
	}
	f := &Format[T]{fields: fields, schema: schema, rows: o.RowGroupRows}
	switch o.Compression {
	case "", Zstd:
		f.codec = &zstd.Codec{Level: zstd.SpeedFastest}
	case Snappy:
		f.codec = &snappy.Codec{}
	default:
		return nil, fmt.Errorf("parquet: unknown compression %q (want %s or %s)", o.Compression, Zstd, Snappy)
	}
	if f.rows <= 0 {
		f.rows = DefaultRowGroupRows
	}
	return f, nil
}

// Schema returns the Parquet schema of T's records.
func (f *Format[T]) Schema() *pq.Schema { return f.schema }

// Name implements sink.Format: sink.FormatParquet.
func (f *Format[T]) Name() string { return sink.FormatParquet }

// Ext implements sink.Format: ".parquet".
func (f *Format[T]) Ext() string { return ".parquet" }

// ContentType implements sink.Format.
func (f *Format[T]) ContentType() string { return "application/vnd.apache.parquet" }

// AppendRecord implements sink.RecordAppender: the Writer buffers the
// record as its values (see readRow for the encoding), not as JSON. A
// record of type T or *T is encoded directly; a record of another type is
// encoded to JSON as the Writer would (sink.JSONAppender, else
// encoding/json), then decoded into a T: fields of T that do not decode
// from it stay zero. sink.ErrNotObject is returned for a record that is not
// a JSON object.
func (f *Format[T]) AppendRecord(buf []byte, record any) ([]byte, error) {
	switch r := record.(type) {
	case *T:
		if r == nil { // JSON null
			return buf, sink.ErrNotObject
		}
		return appendRecord(buf, f.fields, unsafe.Pointer(r))
	case T:
		return appendRecord(buf, f.fields, unsafe.Pointer(&r))
	}
	var (
		line []byte
		err  error
	)
	if a, ok := record.(sink.JSONAppender); ok {
		line, err = a.AppendJSON(nil)
	} else {
		line, err = json.Marshal(record)
	}
	if err != nil {
		return buf, fmt.Errorf("sink: encode record: %w", err)
	}
	if len(line) < 2 || line[0] != '{' {
		return buf, sink.ErrNotObject
	}
	var rec T
	var typeErr *json.UnmarshalTypeError
	if err := json.Unmarshal(line, &rec); err != nil && !errors.As(err, &typeErr) {
		return buf, fmt.Errorf("sink: encode record: %w", err)
	}
	return appendRecord(buf, f.fields, unsafe.Pointer(&rec))
}

// NewEncoder implements sink.Format. Its Encode takes the records as
// AppendRecord buffered them.
func (f *Format[T]) NewEncoder() sink.Encoder {
	return &encoder[T]{f: f, rows: make([]pq.Row, 0, batchRows)}
}

// batchRows is how many rows an encoder converts before handing them to the
// Parquet writer.
const batchRows = 256

type encoder[T any] struct {
	f    *Format[T]
	w    *pq.Writer
	rows []pq.Row
}

// Encode implements sink.Encoder: chunks hold records as AppendRecord
// appended them; each becomes one row.
func (e *encoder[T]) Encode(w io.Writer, chunks [][]byte) error {
	if e.w == nil {
		e.w = pq.NewWriter(w, e.f.schema, pq.Compression(e.f.codec),
			pq.MaxRowsPerRowGroup(e.f.rows), pq.CreatedBy("sqlshadow", "", ""))
	} else {
		e.w.Reset(w)
	}
	e.rows = e.rows[:0]
	for _, c := range chunks {
		for len(c) > 0 {
			i := len(e.rows)
			var row pq.Row
			if cap(e.rows) > i {
				row = e.rows[:i+1][i][:0]
			}
			var err error
			if row, c, err = readRow(row, e.f.fields, c); err != nil {
				return err
			}
			e.rows = append(e.rows, row)
			if len(e.rows) == batchRows {
				if err := e.flush(); err != nil {
					return err
				}
			}
		}
	}
	if err := e.flush(); err != nil {
		return err
	}
	return e.w.Close()
}

func (e *encoder[T]) flush() error {
	if len(e.rows) == 0 {
		return nil
	}
	if _, err := e.w.WriteRows(e.rows); err != nil {
		return err
	}
	e.rows = e.rows[:0]
	return nil
}

// Open implements sink.Format: it reads the whole object (Parquet's index is
// at its end) and returns a *Reader of its records.
func (f *Format[T]) Open(r io.Reader, size int64) (io.ReadCloser, error) {
	return f.NewReader(r, size)
}

// NewReader reads the whole object from r (size bytes, -1 when unknown)
// and returns a Reader of its records. Errors from a damaged object satisfy
// sink.IsCorrupt.
func (f *Format[T]) NewReader(r io.Reader, size int64) (*Reader[T], error) {
	buf := bytes.NewBuffer(make([]byte, 0, max(size, 0)+bytes.MinRead))
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	file, err := pq.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: parquet: %v", sink.ErrCorrupt, err)
	}
	rd := &Reader[T]{f: f, r: pq.NewReader(file), rows: make([]pq.Row, 64)}
	// Columns by name: objects written with fewer or more fields read too.
	byName := map[string]int{}
	for i := range f.fields {
		byName[f.fields[i].name] = i
	}
	for _, path := range file.Schema().Columns() {
		i, ok := -1, false
		if len(path) == 1 {
			i, ok = byName[path[0]]
		}
		if !ok {
			i = -1
		}
		rd.cols = append(rd.cols, i)
	}
	return rd, nil
}

// Reader reads the records of one Parquet object: as T with Next, or as
// JSON Lines with Read (then an object of a type with an AppendJSON method,
// such as dataset.QueryLog, is encoded by it). Use one or the other. It is
// not safe for concurrent use.
type Reader[T any] struct {
	f    *Format[T]
	r    *pq.Reader
	cols []int // field index of each file column, -1 for columns T lacks
	rows []pq.Row
	n, i int
	err  error
	buf  []byte // Read: the current line
	line []byte // Read: the rest of buf to return
	rec  T
}

// Next decodes the next record into rec, which it resets first. It returns
// io.EOF after the last record; errors from a damaged object satisfy
// sink.IsCorrupt.
func (r *Reader[T]) Next(rec *T) error {
	if r.i == r.n {
		if r.err != nil {
			return r.err
		}
		n, err := r.r.ReadRows(r.rows)
		r.n, r.i = n, 0
		if err != nil {
			if err == io.EOF {
				r.err = io.EOF
			} else {
				r.err = fmt.Errorf("%w: parquet: %v", sink.ErrCorrupt, err)
			}
			if n == 0 {
				return r.err
			}
		}
	}
	row := r.rows[r.i]
	r.i++
	var zero T
	*rec = zero
	base := unsafe.Pointer(rec)
	for _, v := range row {
		c := v.Column()
		if c >= len(r.cols) || r.cols[c] < 0 || v.IsNull() {
			continue
		}
		if err := setValue(&r.f.fields[r.cols[c]], base, v); err != nil {
			return fmt.Errorf("%w: %v", sink.ErrCorrupt, err)
		}
	}
	return nil
}

// Read implements io.Reader: the records as JSON Lines.
func (r *Reader[T]) Read(p []byte) (int, error) {
	for len(r.line) == 0 {
		if err := r.Next(&r.rec); err != nil {
			return 0, err
		}
		var err error
		if a, ok := any(&r.rec).(sink.JSONAppender); ok {
			r.buf, err = a.AppendJSON(r.buf[:0])
		} else {
			var b []byte
			b, err = json.Marshal(&r.rec)
			r.buf = append(r.buf[:0], b...)
		}
		if err != nil {
			return 0, fmt.Errorf("parquet: encode record: %w", err)
		}
		r.buf = append(r.buf, '\n')
		r.line = r.buf
	}
	n := copy(p, r.line)
	r.line = r.line[n:]
	return n, nil
}

// Close releases the reader.
func (r *Reader[T]) Close() error {
	if r.err == nil {
		r.err = errClosed
	}
	return r.r.Close()
}

var errClosed = errors.New("parquet: reader closed")
