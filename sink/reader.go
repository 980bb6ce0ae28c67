package sink

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// DefaultMaxLineBytes is the longest line a LineReader returns by default.
const DefaultMaxLineBytes = 64 << 20

// LineReader splits JSON Lines into records: it returns each line that is
// one JSON object and counts, then skips, every other non-blank line
// (invalid JSON, other JSON values, lines longer than the limit). A last
// line without its newline is returned like the others. It is not safe for
// concurrent use.
type LineReader struct {
	r         *bufio.Reader
	max       int
	long      []byte
	malformed int64
}

// NewLineReader returns a LineReader over r. maxLine bounds a line's length
// (0 means DefaultMaxLineBytes).
func NewLineReader(r io.Reader, maxLine int) *LineReader {
	if maxLine <= 0 {
		maxLine = DefaultMaxLineBytes
	}
	return &LineReader{r: bufio.NewReaderSize(r, 64<<10), max: maxLine}
}

// Malformed returns how many lines were skipped so far.
func (l *LineReader) Malformed() int64 { return l.malformed }

// Next returns the next JSON object line, without its line ending; the bytes
// are valid until the next call. It returns io.EOF at the end, or the
// reader's error.
func (l *LineReader) Next() ([]byte, error) {
	for {
		line, err := l.readLine()
		if len(line) > 0 {
			if validObject(line) {
				return line, nil
			}
			l.malformed++
		}
		if err != nil {
			return nil, err
		}
	}
}

// NextLine returns the next non-blank line within the length limit without
// checking that it is JSON, for callers whose decoder rejects malformed
// lines itself (and validates them anyway): it saves Next's validation pass.
// Such a caller calls Reject for every line it cannot decode, so that
// Malformed counts them as Next would have. The bytes are valid until the
// next call.
func (l *LineReader) NextLine() ([]byte, error) {
	for {
		line, err := l.readLine()
		if len(line) > 0 {
			return line, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Reject counts a line returned by NextLine as malformed.
func (l *LineReader) Reject() { l.malformed++ }

// readLine returns the next line, trimmed of surrounding white space, or nil
// (with the malformed count raised) for a line longer than max.
func (l *LineReader) readLine() ([]byte, error) {
	line, err := l.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		l.long = append(l.long[:0], line...)
		tooLong := false
		for err == bufio.ErrBufferFull {
			line, err = l.r.ReadSlice('\n')
			if !tooLong && len(l.long)+len(line) > l.max+2 {
				tooLong = true
				l.long = l.long[:0]
			}
			if !tooLong {
				l.long = append(l.long, line...)
			}
		}
		if tooLong {
			l.malformed++
			return nil, err
		}
		line = l.long
	}
	line = trimSpace(line)
	if len(line) > l.max {
		l.malformed++
		return nil, err
	}
	return line, err
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func validObject(line []byte) bool {
	return len(line) >= 2 && line[0] == '{' && line[len(line)-1] == '}' && json.Valid(line)
}

// ReaderOptions configures a Reader. The zero value (or nil) gives the
// defaults documented on each field.
type ReaderOptions struct {
	// TimeField is the top-level field holding each record's timestamp
	// (TimeFormat or RFC 3339): records whose timestamp is outside
	// [from, to) are skipped (and counted). Records without a readable
	// timestamp are returned. Default "ts"; "-" returns every record of the
	// overlapping partitions.
	TimeField string
	// Formats are the formats the Reader decodes besides the built-in JSON
	// Lines ones: the Parquet format of package
	// github.com/sqlshadow/sqlshadow/sink/parquet to read Parquet objects.
	// Objects of another format are counted as Unsupported and skipped.
	Formats []Format
	// MaxLineBytes bounds one line. Default DefaultMaxLineBytes.
	MaxLineBytes int
	// Logger receives skipped objects and malformed lines. Default nil:
	// discard.
	Logger *slog.Logger
}

// ReaderStats are a Reader's counters.
type ReaderStats struct {
	// Objects were read, holding Records returned records.
	Objects, Records int64
	// Malformed lines were skipped (not one JSON object, or too long).
	Malformed int64
	// OutOfRange records were skipped by their timestamp.
	OutOfRange int64
	// Missing objects were listed but gone when opened; Corrupt objects
	// ended in a compression or decoding error (their records up to it were
	// returned); Unsupported objects are of a format not in
	// ReaderOptions.Formats.
	Missing, Corrupt, Unsupported int64
}

// Reader iterates the records of a dataset over a time range: the objects of
// every partition hour overlapping the range, in partition order then key
// order, records in object order. It is not safe for concurrent use; to read
// objects in parallel use Objects and OpenObject.
//
// Objects being written are not seen until they are whole; objects that
// vanish between listing and reading, malformed lines, and compression
// errors are counted in Stats, logged, and skipped.
type Reader struct {
	bucket   *blob.Bucket
	dataset  string
	from, to time.Time
	opts     ReaderOptions
	tsType   reflect.Type // struct{ TS json.RawMessage `json:"<TimeField>"` }, nil when not filtering

	listed  bool
	objects []Object
	cur     io.ReadCloser
	lines   *LineReader
	stats   ReaderStats
	err     error
}

// NewReader returns a Reader of dataset's records whose partitions overlap
// [from, to) (a zero from or to leaves that end open). It does no I/O until
// Next. The Reader does not close bucket.
func NewReader(bucket *blob.Bucket, dataset string, from, to time.Time, opts *ReaderOptions) *Reader {
	r := &Reader{bucket: bucket, dataset: dataset, from: from, to: to}
	if opts != nil {
		r.opts = *opts
	}
	if r.opts.TimeField == "" {
		r.opts.TimeField = "ts"
	}
	if r.opts.Logger == nil {
		r.opts.Logger = slog.New(slog.DiscardHandler)
	}
	if r.opts.TimeField != "-" {
		r.tsType = reflect.StructOf([]reflect.StructField{{
			Name: "TS",
			Type: reflect.TypeFor[json.RawMessage](),
			Tag:  reflect.StructTag(`json:"` + r.opts.TimeField + `"`),
		}})
	}
	return r
}

// Next returns the next record, a JSON object that the caller owns. It
// returns io.EOF after the last one, or a listing or reading error. Next may
// be called again after an error: a failed listing or object open is tried
// again; after an error while reading an object, the rest of it is skipped.
func (r *Reader) Next(ctx context.Context) (json.RawMessage, error) {
	if r.err != nil {
		return nil, r.err
	}
	if !r.listed {
		objs, err := Objects(ctx, r.bucket, r.dataset, r.from, r.to)
		if err != nil {
			return nil, err
		}
		r.objects, r.listed = objs, true
	}
	lo, hi := rangeBounds(r.from, r.to)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if r.lines == nil {
			if len(r.objects) == 0 {
				r.err = io.EOF
				return nil, io.EOF
			}
			obj := r.objects[0]
			rc, err := OpenObject(ctx, r.bucket, obj, r.opts.Formats...)
			if err == nil || gcerrors.Code(err) == gcerrors.NotFound || IsCorrupt(err) || errors.Is(err, ErrNoFormat) {
				r.objects = r.objects[1:]
			}
			if err != nil {
				if errors.Is(err, ErrNoFormat) {
					r.stats.Unsupported++
					r.opts.Logger.Warn("sink: object of an unsupported format, skipped", "key", obj.Key, "format", obj.Format)
					continue
				}
				if gcerrors.Code(err) == gcerrors.NotFound {
					r.stats.Missing++
					r.opts.Logger.Warn("sink: object vanished, skipped", "key", obj.Key)
					continue
				}
				if IsCorrupt(err) {
					r.stats.Corrupt++
					r.opts.Logger.Warn("sink: corrupt object, skipped", "key", obj.Key, "err", err)
					continue
				}
				return nil, err
			}
			r.stats.Objects++
			r.cur, r.lines = rc, NewLineReader(rc, r.opts.MaxLineBytes)
		}
		line, err := r.lines.Next()
		if err != nil {
			r.stats.Malformed += r.lines.Malformed()
			if n := r.lines.Malformed(); n > 0 {
				r.opts.Logger.Warn("sink: malformed lines skipped", "dataset", r.dataset, "lines", n)
			}
			_ = r.cur.Close()
			r.cur, r.lines = nil, nil
			switch {
			case err == io.EOF:
			case IsCorrupt(err):
				r.stats.Corrupt++
				r.opts.Logger.Warn("sink: corrupt object, rest skipped", "err", err)
			default:
				return nil, fmt.Errorf("sink: read: %w", err)
			}
			continue
		}
		if r.tsType != nil {
			if ts, ok := r.recordTime(line); ok && (ts.Before(lo) || !ts.Before(hi)) {
				r.stats.OutOfRange++
				continue
			}
		}
		r.stats.Records++
		return json.RawMessage(append([]byte(nil), line...)), nil
	}
}

func (r *Reader) recordTime(line []byte) (time.Time, bool) {
	v := reflect.New(r.tsType)
	if err := json.Unmarshal(line, v.Interface()); err != nil {
		return time.Time{}, false
	}
	raw := v.Elem().Field(0).Bytes()
	var t Time
	if len(raw) == 0 || t.UnmarshalJSON(raw) != nil {
		return time.Time{}, false
	}
	return time.Time(t), true
}

// IsCorrupt reports whether err, from OpenObject or from reading an object
// it opened, is a compression or decoding error (a corrupt or truncated gzip
// or Parquet object, ErrCorrupt): such an object is unreadable from that
// point, and Reader counts and skips it.
func IsCorrupt(err error) bool {
	var ce flate.CorruptInputError
	return errors.Is(err, ErrCorrupt) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ce)
}

// Stats returns the reader's counters so far.
func (r *Reader) Stats() ReaderStats {
	s := r.stats
	if r.lines != nil {
		s.Malformed += r.lines.Malformed()
	}
	return s
}

// Close releases the object being read, if any.
func (r *Reader) Close() error {
	r.err = ErrClosed
	if r.cur != nil {
		err := r.cur.Close()
		r.cur, r.lines = nil, nil
		return err
	}
	return nil
}
