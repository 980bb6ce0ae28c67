package shadow

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gocloud.dev/gcerrors"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/sink"
	"github.com/sqlshadow/sqlshadow/sink/parquet"
)

// source is one object of the input: JSON Lines, or Parquet.
type source struct {
	// key names the object in the report: its key in the bucket, or
	// "logs[i]" for Analyze's readers.
	key string
	// hour is the object's partition hour; zero when unknown.
	hour time.Time
	open func(ctx context.Context) (io.ReadCloser, error)
}

// Reasons an object could not be read (UnreadableObject.Reason), the
// sink's skip-and-count rules.
const (
	// UnreadableVanished: the object was listed but gone when opened.
	UnreadableVanished = "vanished"
	// UnreadableCorrupt: the object's compression is broken; the records
	// before the damage were read.
	UnreadableCorrupt = "corrupt"
	// UnreadableError: opening or reading failed otherwise; the records
	// before the failure were read.
	UnreadableError = "error"
)

// sources returns the objects of one dataset as sources; format is the
// dataset's Parquet format, so that a window whose objects switched format
// reads whole.
func (s *Analyzer) sources(objs []sink.Object, format sink.Format) []source {
	sources := make([]source, len(objs))
	for i, o := range objs {
		sources[i] = source{key: o.Key, hour: o.Hour, open: func(ctx context.Context) (io.ReadCloser, error) {
			return sink.OpenObject(ctx, s.bucket, o, format)
		}}
	}
	return sources
}

// queryLogsFormat and profilesFormat return the Parquet formats of the
// datasets the report reads.
func queryLogsFormat() sink.Format { return parquetFormat[dataset.QueryLog]() }
func profilesFormat() sink.Format  { return parquetFormat[dataset.Profile]() }

// parquetFormat returns the Parquet format of record type T.
func parquetFormat[T any]() sink.Format {
	f, err := parquet.NewFormat[T](nil)
	if err != nil {
		panic(err) // the dataset types are structs: cannot happen
	}
	return f
}

// unwrapper is implemented by the objects sink.OpenObject returns: Unwrap
// returns the format's own reader.
type unwrapper interface{ Unwrap() io.ReadCloser }

// input counts what one worker read.
type input struct {
	read, lines, malformed int64
	unreadable             []UnreadableObject
}

func (in *input) merge(o *input) {
	in.read += o.read
	in.lines += o.lines
	in.malformed += o.malformed
	in.unreadable = append(in.unreadable, o.unreadable...)
}

// skip records an object that could not be read (whole or in part) and
// returns nil, or ctx's error when ctx ended: only that aborts the report.
func (in *input) skip(ctx context.Context, cfg *config, key string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	reason := UnreadableError
	switch {
	case gcerrors.Code(err) == gcerrors.NotFound:
		reason = UnreadableVanished
	case sink.IsCorrupt(err):
		reason = UnreadableCorrupt
	}
	cfg.log.Warn("shadow: object skipped", "key", key, "reason", reason, "err", err)
	in.unreadable = append(in.unreadable, UnreadableObject{Key: key, Reason: reason, Error: err.Error()})
	return nil
}

// maxUnreadableListed bounds the objects Report.Input lists by key.
const maxUnreadableListed = 100

// report returns the Input section of a report over objects listed objects.
func (in *input) report(objects int) ReportInput {
	slices.SortFunc(in.unreadable, func(a, b UnreadableObject) int { return strings.Compare(a.Key, b.Key) })
	r := ReportInput{
		Objects: objects, Read: in.read, Lines: in.lines, MalformedLines: in.malformed,
		UnreadableObjects: len(in.unreadable), Unreadable: in.unreadable,
	}
	if len(r.Unreadable) > maxUnreadableListed {
		r.Unreadable = r.Unreadable[:maxUnreadableListed]
	}
	if r.Unreadable == nil {
		r.Unreadable = []UnreadableObject{}
	}
	return r
}

// eachLine calls fn with every non-blank line of src, under the sink's
// rules: fn decodes the line and counts it as malformed if it cannot (the
// decoders validate, so the line reader does not), an object that cannot be
// read (or not to its end) is counted and skipped. It returns only ctx's
// error.
func (in *input) eachLine(ctx context.Context, cfg *config, src source, fn func(line []byte)) error {
	rc, err := src.open(ctx)
	if err != nil {
		return in.skip(ctx, cfg, src.key, err)
	}
	return in.eachLineOf(ctx, cfg, src, rc, fn)
}

// eachLineOf is eachLine over rc, src opened.
func (in *input) eachLineOf(ctx context.Context, cfg *config, src source, rc io.ReadCloser, fn func(line []byte)) error {
	defer func() { _ = rc.Close() }()
	lines := sink.NewLineReader(rc, 0)
	for n := 1; ; n++ {
		line, err := lines.NextLine() // fn's decoder validates, and counts what it rejects
		if err != nil {
			in.malformed += lines.Malformed()
			in.lines += lines.Malformed()
			if err == io.EOF {
				in.read++
				return nil
			}
			return in.skip(ctx, cfg, src.key, err)
		}
		if n&4095 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		in.lines++
		fn(line)
	}
}

// eachQueryLog calls fn with every query log of src: decoded straight from
// a Parquet object's columns, or from each JSON line with dec (a line it
// cannot decode counts as malformed), under the rules of eachLine.
func (in *input) eachQueryLog(ctx context.Context, cfg *config, src source, dec *dataset.QueryLogDecoder, rec *dataset.QueryLog, fn func(*dataset.QueryLog)) error {
	rc, err := src.open(ctx)
	if err != nil {
		return in.skip(ctx, cfg, src.key, err)
	}
	u, ok := rc.(unwrapper)
	pr, isParquet := (*parquet.Reader[dataset.QueryLog])(nil), false
	if ok {
		pr, isParquet = u.Unwrap().(*parquet.Reader[dataset.QueryLog])
	}
	if !isParquet {
		return in.eachLineOf(ctx, cfg, src, rc, func(line []byte) {
			if dec.Decode(line, rec) != nil {
				in.malformed++
				return
			}
			fn(rec)
		})
	}
	defer func() { _ = rc.Close() }()
	for n := 1; ; n++ {
		if err := pr.Next(rec); err != nil {
			if err == io.EOF {
				in.read++
				return nil
			}
			return in.skip(ctx, cfg, src.key, err)
		}
		if n&4095 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		in.lines++
		fn(rec)
	}
}

// progress tracks which sources are read, for the pairing window's bound
// in time.
type progress struct {
	mu      sync.Mutex
	sources []source
	done    []bool
	first   int // the first source not read yet
}

// finish marks source i read. When that moves the first unread source, it
// returns the start of that source's partition hour: every record of an
// earlier hour has been read.
func (p *progress) finish(i int) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done[i] = true
	old := p.first
	for p.first < len(p.done) && p.done[p.first] {
		p.first++
	}
	if p.first == old || p.first == len(p.done) || p.sources[p.first].hour.IsZero() {
		return time.Time{}, false
	}
	return p.sources[p.first].hour, true
}

// runAnalysis decodes the sources (sorted by partition hour) with
// cfg.parallelism workers, each with its own aggregation and decoder,
// merges them and builds the report.
func runAnalysis(ctx context.Context, cfg *config, sources, profiles []source) (*Report, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := min(cfg.parallelism, max(len(sources), 1))
	pairs := newPairing(cfg)
	prog := &progress{sources: sources, done: make([]bool, len(sources))}
	aggs := make([]*aggregate, workers)
	ins := make([]input, workers)
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for w := range workers {
		agg := newAggregate(cfg, pairs)
		aggs[w] = agg
		in := &ins[w]
		wg.Go(func() {
			var dec dataset.QueryLogDecoder
			var rec dataset.QueryLog
			for {
				i := int(next.Add(1)) - 1
				if i >= len(sources) || ctx.Err() != nil {
					return
				}
				err := in.eachQueryLog(ctx, cfg, sources[i], &dec, &rec, agg.add)
				if err != nil {
					return
				}
				if hour, ok := prog.finish(i); ok {
					pairs.expire(agg, hour.UnixMicro()-cfg.pairWindow.Microseconds())
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	total := aggs[0]
	pairs.flush(total)
	for w, a := range aggs[1:] {
		total.merge(a)
		ins[0].merge(&ins[w+1])
	}
	// Lines the line reader rejected count as malformed records too.
	total.counts.Malformed = ins[0].malformed
	in := &ins[0]
	var joined map[profileKey]*profileAgg
	if len(profiles) > 0 {
		var err error
		if joined, err = cfg.joinProfiles(ctx, total, profiles, in); err != nil {
			return nil, err
		}
	}
	rep, err := buildReport(ctx, cfg, total, len(sources), joined)
	if err != nil {
		return nil, err
	}
	rep.Input = in.report(len(sources) + len(profiles))
	if n := rep.Input.UnreadableObjects; n > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d objects could not be read, or not to their end: the report covers the records read (see Input)", n))
	}
	return rep, nil
}
