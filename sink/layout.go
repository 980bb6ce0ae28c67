package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"gocloud.dev/blob"
)

// Object is one object of a dataset, as Objects lists it.
type Object struct {
	// Key is the object's full key in the bucket.
	Key string
	// Hour is the start of the object's partition hour, in UTC.
	Hour time.Time
	// Size is the stored size in bytes (compressed when Gzip).
	Size int64
	// Gzip reports whether the object is gzip-compressed (".jsonl.gz").
	Gzip bool
	// Format is the name of the object's format, from its name's suffix:
	// FormatJSONL, FormatJSONLGzip or FormatParquet.
	Format string
}

const (
	extJSONL   = ".jsonl"
	extGzip    = ".jsonl.gz"
	extParquet = ".parquet"
)

// formatByExt is the format name of each object name suffix, longest first.
var formatByExt = [...]struct{ ext, name string }{
	{extGzip, FormatJSONLGzip}, {extJSONL, FormatJSONL}, {extParquet, FormatParquet},
}

// partitionPrefix returns "<dataset>/year=YYYY/month=MM/day=DD/hour=HH/" for
// the hour holding t (UTC).
func partitionPrefix(dataset string, t time.Time) string {
	t = t.UTC()
	b := make([]byte, 0, len(dataset)+40)
	b = append(b, dataset...)
	b = append(b, "/year="...)
	b = appendInt(b, t.Year(), 4)
	b = append(b, "/month="...)
	b = appendInt(b, int(t.Month()), 2)
	b = append(b, "/day="...)
	b = appendInt(b, t.Day(), 2)
	b = append(b, "/hour="...)
	b = appendInt(b, t.Hour(), 2)
	return string(append(b, '/'))
}

func appendInt(b []byte, v, width int) []byte {
	s := strconv.Itoa(v)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// objectName returns "YYYYMMDD_HHMMSS_<8 hex><ext>".
func objectName(created time.Time, id uint32, ext string) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 40)
	b = created.UTC().AppendFormat(b, "20060102_150405")
	b = append(b, '_')
	for shift := 28; shift >= 0; shift -= 4 {
		b = append(b, hex[(id>>uint(shift))&0xf])
	}
	return string(append(b, ext...))
}

// ParseKey parses an object key of dataset's layout,
// "<dataset>/year=YYYY/month=MM/day=DD/hour=HH/<name>.jsonl[.gz]", and
// returns the partition hour (UTC) and whether the object is gzip-compressed.
// ok is false for any other key (temporary files, side files, other layouts,
// other formats: ParseObjectKey takes Parquet objects too).
func ParseKey(dataset, key string) (hour time.Time, gz, ok bool) {
	hour, format, ok := ParseObjectKey(dataset, key)
	if !ok || format == FormatParquet {
		return time.Time{}, false, false
	}
	return hour, format == FormatJSONLGzip, true
}

// ParseObjectKey parses an object key of dataset's layout,
// "<dataset>/year=YYYY/month=MM/day=DD/hour=HH/<name>.<ext>" with ext
// jsonl, jsonl.gz or parquet, and returns the partition hour (UTC) and the
// name of the object's format. ok is false for any other key.
func ParseObjectKey(dataset, key string) (hour time.Time, format string, ok bool) {
	rest, found := strings.CutPrefix(key, dataset+"/")
	if !found || dataset == "" {
		return time.Time{}, "", false
	}
	var vals [4]int
	for i, p := range [4]struct {
		name       string
		width, max int
	}{{"year=", 4, 9999}, {"month=", 2, 12}, {"day=", 2, 31}, {"hour=", 2, 23}} {
		seg, tail, found := strings.Cut(rest, "/")
		if !found {
			return time.Time{}, "", false
		}
		v, vok := partitionValue(seg, p.name, p.width)
		if !vok || v > p.max {
			return time.Time{}, "", false
		}
		vals[i] = v
		rest = tail
	}
	if vals[1] < 1 || vals[2] < 1 {
		return time.Time{}, "", false
	}
	name := rest
	if strings.Contains(name, "/") {
		return time.Time{}, "", false
	}
	for _, f := range formatByExt {
		if strings.HasSuffix(name, f.ext) && len(name) > len(f.ext) {
			format = f.name
			break
		}
	}
	if format == "" {
		return time.Time{}, "", false
	}
	hour = time.Date(vals[0], time.Month(vals[1]), vals[2], vals[3], 0, 0, 0, time.UTC)
	if hour.Day() != vals[2] { // February 30th and the like
		return time.Time{}, "", false
	}
	return hour, format, true
}

// partitionValue parses "name=NNNN" with exactly width digits.
func partitionValue(seg, name string, width int) (int, bool) {
	digits, found := strings.CutPrefix(seg, name)
	if !found || len(digits) != width {
		return 0, false
	}
	v := 0
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// validDataset reports whether dataset can name a dataset: non-empty, no
// leading or trailing slash, no empty, "." or ".." segment, no partition-like
// segment.
func validDataset(dataset string) error {
	if dataset == "" {
		return errors.New("sink: empty dataset name")
	}
	for seg := range strings.SplitSeq(dataset, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.Contains(seg, "=") {
			return fmt.Errorf("sink: invalid dataset name %q", dataset)
		}
	}
	return nil
}

// Objects lists a dataset's objects whose partition hour overlaps [from, to),
// sorted by partition hour, then key. It lists only the partition prefixes
// that can overlap the range (year, then month, day and hour), so a short
// range costs a few list calls however much the dataset holds. Keys that are
// not "*.jsonl", "*.jsonl.gz" or "*.parquet" objects of the layout are
// ignored. A zero
// from means the beginning of time; a zero to means no end.
func Objects(ctx context.Context, bucket *blob.Bucket, dataset string, from, to time.Time) ([]Object, error) {
	if err := validDataset(dataset); err != nil {
		return nil, err
	}
	lo, hi := rangeBounds(from, to)
	if !lo.Before(hi) {
		return nil, nil
	}
	var out []Object
	// Each level: the partition prefixes found so far, with the interval
	// they cover.
	type part struct {
		prefix     string
		start, end time.Time
	}
	level := []part{{prefix: dataset + "/"}}
	steps := []struct {
		name  string
		width int
		span  func(vals []int) (time.Time, time.Time, bool)
	}{
		{"year=", 4, func(v []int) (time.Time, time.Time, bool) {
			s := time.Date(v[0], 1, 1, 0, 0, 0, 0, time.UTC)
			return s, s.AddDate(1, 0, 0), true
		}},
		{"month=", 2, func(v []int) (time.Time, time.Time, bool) {
			if v[1] < 1 || v[1] > 12 {
				return time.Time{}, time.Time{}, false
			}
			s := time.Date(v[0], time.Month(v[1]), 1, 0, 0, 0, 0, time.UTC)
			return s, s.AddDate(0, 1, 0), true
		}},
		{"day=", 2, func(v []int) (time.Time, time.Time, bool) {
			s := time.Date(v[0], time.Month(v[1]), v[2], 0, 0, 0, 0, time.UTC)
			if v[2] < 1 || s.Day() != v[2] {
				return time.Time{}, time.Time{}, false
			}
			return s, s.AddDate(0, 0, 1), true
		}},
		{"hour=", 2, func(v []int) (time.Time, time.Time, bool) {
			if v[3] > 23 {
				return time.Time{}, time.Time{}, false
			}
			s := time.Date(v[0], time.Month(v[1]), v[2], v[3], 0, 0, 0, time.UTC)
			return s, s.Add(time.Hour), true
		}},
	}
	vals := map[string][]int{dataset + "/": nil}
	for _, step := range steps {
		var next []part
		for _, p := range level {
			it := bucket.List(&blob.ListOptions{Prefix: p.prefix, Delimiter: "/"})
			for {
				o, err := it.Next(ctx)
				if err == io.EOF {
					break
				}
				if err != nil {
					return nil, fmt.Errorf("sink: list %s: %w", p.prefix, err)
				}
				if !o.IsDir {
					continue
				}
				seg := strings.TrimSuffix(strings.TrimPrefix(o.Key, p.prefix), "/")
				v, ok := partitionValue(seg, step.name, step.width)
				if !ok {
					continue
				}
				vv := append(append([]int(nil), vals[p.prefix]...), v)
				start, end, ok := step.span(vv)
				if !ok || !start.Before(hi) || !end.After(lo) {
					continue
				}
				vals[o.Key] = vv
				next = append(next, part{prefix: o.Key, start: start, end: end})
			}
		}
		level = next
	}
	for _, p := range level {
		it := bucket.List(&blob.ListOptions{Prefix: p.prefix})
		for {
			o, err := it.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("sink: list %s: %w", p.prefix, err)
			}
			hour, format, ok := ParseObjectKey(dataset, o.Key)
			if !ok || o.IsDir {
				continue
			}
			out = append(out, Object{Key: o.Key, Hour: hour, Size: o.Size, Gzip: format == FormatJSONLGzip, Format: format})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Hour.Equal(out[j].Hour) {
			return out[i].Hour.Before(out[j].Hour)
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

var (
	minTime = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

func rangeBounds(from, to time.Time) (time.Time, time.Time) {
	if from.IsZero() {
		from = minTime
	}
	if to.IsZero() {
		to = maxTime
	}
	return from.UTC(), to.UTC()
}

// OpenObject opens obj for reading and returns its records as JSON Lines,
// decompressed or decoded by its format: the built-in JSON Lines formats, or
// one of formats (a Parquet object needs the Parquet format of package
// github.com/sqlshadow/sqlshadow/sink/parquet, else the error is
// ErrNoFormat). An object whose format is not set (an Object built by hand)
// is taken as JSON Lines, gzip-compressed when obj.Gzip. The caller closes
// it. Errors from a damaged object satisfy IsCorrupt.
func OpenObject(ctx context.Context, bucket *blob.Bucket, obj Object, formats ...Format) (io.ReadCloser, error) {
	if obj.Format == "" {
		obj.Format = FormatJSONL
		if obj.Gzip {
			obj.Format = FormatJSONLGzip
		}
	}
	f, err := formatOf(obj, formats)
	if err != nil {
		return nil, err
	}
	r, err := bucket.NewReader(ctx, obj.Key, nil)
	if err != nil {
		return nil, fmt.Errorf("sink: open %s: %w", obj.Key, err)
	}
	rc, err := f.Open(r, r.Size())
	if err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("sink: open %s: %w", obj.Key, err)
	}
	return &object{ReadCloser: rc, r: r}, nil
}

// object closes the decoded stream, then the blob reader.
type object struct {
	io.ReadCloser
	r *blob.Reader
}

func (o *object) Close() error {
	err := o.ReadCloser.Close()
	if cerr := o.r.Close(); err == nil {
		err = cerr
	}
	return err
}

// Unwrap returns the decoded stream, so that callers can find the
// capabilities of a format's reader (such as reading records without JSON)
// by a type assertion.
func (o *object) Unwrap() io.ReadCloser { return o.ReadCloser }
