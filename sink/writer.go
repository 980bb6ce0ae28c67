package sink

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gocloud.dev/blob"
)

// WriterOptions configures a Writer. The zero value (or nil) gives the
// defaults documented on each field.
type WriterOptions struct {
	// DropWhenFull makes Write return ErrDropped at once, and count the
	// drop, when the buffer is full. Default false: Write blocks until there
	// is room or its ctx ends. Drop mode is for request paths that must never
	// wait on the bucket (the proxy); block mode for collectors.
	DropWhenFull bool
	// Format encodes the objects: JSONL(), JSONLGzip(level), or the
	// Parquet format of package github.com/sqlshadow/sqlshadow/sink/parquet.
	// Default nil: JSONLGzip(GzipLevel) when Gzip, else JSONL().
	Format Format
	// Gzip compresses objects (".jsonl.gz") when Format is nil. Default
	// false (".jsonl").
	Gzip bool
	// GzipLevel is the compress/gzip level when Format is nil and Gzip.
	// Default gzip.BestSpeed.
	GzipLevel int
	// MaxObjectBytes rolls an object once it holds this many buffered
	// bytes: JSON Lines (before compression), or a RecordAppender format's
	// own encoding of the records. Default 16 MiB.
	MaxObjectBytes int
	// MaxObjectAge rolls an object this long after its first record, so
	// records reach the bucket at most about this late. Default 1 minute.
	MaxObjectAge time.Duration
	// BufferBytes bounds the memory of records accepted but not yet written
	// (buffered bytes as for MaxObjectBytes, objects being written
	// included). Default 64 MiB, at least MaxObjectBytes.
	BufferBytes int
	// Uploaders is how many objects are written to the bucket at once.
	// Default 2.
	Uploaders int
	// UploadTimeout bounds one attempt to write one object. Default 2 minutes.
	UploadTimeout time.Duration
	// RetryMin and RetryMax bound the exponential backoff between attempts to
	// write an object (with jitter). Defaults 100ms and 30s. An object is
	// retried until it is written or Close's ctx ends.
	RetryMin, RetryMax time.Duration
	// Registerer registers the writer's metrics, labelled dataset=<dataset>.
	// Default nil: not registered. Close unregisters them.
	Registerer prometheus.Registerer
	// Logger receives write failures and losses. Default nil: discard.
	Logger *slog.Logger
	// Aborter makes an abandoned object write certain to commit nothing,
	// for drivers where cancelling the write's ctx is not enough. It is
	// called before each object write with the driver's As function (as in
	// gocloud's blob.WriterOptions.BeforeWrite); the function it returns,
	// if not nil, is called with the cause when the write is abandoned,
	// before the blob writer is closed. Default nil: an abandoned write is
	// cancelled through its ctx, which is enough for file://, mem:// and
	// s3://. For gs:// set it to drivers.AbortGCS (package
	// github.com/sqlshadow/sqlshadow/sink/drivers): the GCS client notices a
	// cancelled ctx asynchronously and can still commit what was written.
	Aborter func(as func(any) bool) (abort func(error))
}

func (o *WriterOptions) withDefaults() WriterOptions {
	var v WriterOptions
	if o != nil {
		v = *o
	}
	if v.GzipLevel == 0 {
		v.GzipLevel = gzip.BestSpeed
	}
	if v.Format == nil {
		v.Format = JSONL()
		if v.Gzip {
			v.Format = JSONLGzip(v.GzipLevel)
		}
	}
	if v.MaxObjectBytes <= 0 {
		v.MaxObjectBytes = 16 << 20
	}
	if v.MaxObjectAge <= 0 {
		v.MaxObjectAge = time.Minute
	}
	if v.BufferBytes <= 0 {
		v.BufferBytes = 64 << 20
	}
	if v.BufferBytes < v.MaxObjectBytes {
		v.BufferBytes = v.MaxObjectBytes
	}
	if v.Uploaders <= 0 {
		v.Uploaders = 2
	}
	if v.UploadTimeout <= 0 {
		v.UploadTimeout = 2 * time.Minute
	}
	if v.RetryMin <= 0 {
		v.RetryMin = 100 * time.Millisecond
	}
	if v.RetryMax < v.RetryMin {
		v.RetryMax = max(30*time.Second, v.RetryMin)
	}
	if v.Logger == nil {
		v.Logger = slog.New(slog.DiscardHandler)
	}
	return v
}

// ErrTooLarge is returned by Write for a record larger than the whole buffer.
var ErrTooLarge = errors.New("sink: record larger than the buffer")

// ErrNotObject is returned by Write for a record that does not encode as a
// JSON object.
var ErrNotObject = errors.New("sink: record is not a JSON object")

// LostError is returned by Close when its ctx ended before every accepted
// record was written: those records are lost, and counted.
type LostError struct {
	// Records and Objects count what was not written.
	Records int64
	Objects int
	// Err is why: the ctx error, with the last write error if any.
	Err error
}

func (e *LostError) Error() string {
	return fmt.Sprintf("sink: %d records in %d objects not written: %v", e.Records, e.Objects, e.Err)
}

func (e *LostError) Unwrap() error { return e.Err }

// WriterStats are a Writer's counters since NewWriter.
type WriterStats struct {
	// Records and Bytes were accepted by Write (buffered bytes: JSON Lines,
	// or a RecordAppender format's encoding).
	Records, Bytes int64
	// Dropped records were refused with ErrDropped.
	Dropped int64
	// Lost records were accepted but never written (Close's ctx ended).
	Lost int64
	// Objects were written, holding ObjectBytes stored bytes.
	Objects, ObjectBytes int64
	// WriteErrors counts failed attempts to write an object (each retried).
	WriteErrors int64
	// Buffered is the bytes accepted and not yet written; Pending the
	// objects rolled and not yet written.
	Buffered int64
	Pending  int
}

// Writer writes one dataset's records to a bucket as Hive-partitioned
// objects of its Format (JSON Lines by default). It implements Sink and is safe for concurrent use.
//
// Write encodes the record in the caller's goroutine and appends it to the
// in-memory object of its partition hour; background goroutines (started by
// NewWriter, joined by Close) roll objects by size and age and write them
// with retries. An object is written in one piece: it appears whole, or not
// at all.
type Writer struct {
	bucket  *blob.Bucket
	dataset string
	opts    WriterOptions
	records RecordAppender // opts.Format when it is one, else nil
	reg     prometheus.Registerer
	metrics *writerMetrics

	runCtx context.Context // cancelled when Close gives up: aborts uploads
	abort  context.CancelFunc
	wg     sync.WaitGroup
	stop   chan struct{} // closed by Close: stops the roller

	mu       sync.Mutex
	work     *sync.Cond          // signalled when queue grows or stopping
	changed  chan struct{}       // closed (and replaced) when space frees or a batch completes
	open     map[int64]*batch    // by partition hour (Unix seconds / 3600)
	queue    []*batch            // rolled, waiting for an uploader
	pending  map[uint64]struct{} // rolled and not yet done (queued or uploading)
	nextSeq  uint64              // sequence of the next rolled batch
	stats    WriterStats         // counters; Dropped lives in dropped
	lastErr  error               // last write error, for Flush and Close
	closed   bool                // Close called: Write refuses
	stopping bool                // uploaders exit once the queue is empty
	lostObjs int                 // objects lost

	full    atomic.Bool  // drop mode: the buffer was full; cleared when space frees
	dropped atomic.Int64 // records dropped
}

type batch struct {
	hour    int64
	seq     uint64
	opened  time.Time
	chunks  [][]byte
	size    int
	records int64
}

const (
	chunkSize      = 256 << 10
	firstChunkSize = 8 << 10
)

var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, chunkSize); return &b }}

func (b *batch) append(line []byte) {
	if n := len(b.chunks); n > 0 {
		last := b.chunks[n-1]
		if len(last)+len(line) <= cap(last) {
			b.chunks[n-1] = append(last, line...)
			b.size += len(line)
			b.records++
			return
		}
	}
	var c []byte
	switch {
	case len(line) > chunkSize:
		c = make([]byte, 0, len(line))
	case len(b.chunks) == 0 && len(line) <= firstChunkSize:
		// Small first chunk: many partitions open at once (late records)
		// must not cost a full chunk each.
		c = make([]byte, 0, firstChunkSize)
	default:
		c = (*chunkPool.Get().(*[]byte))[:0]
	}
	b.chunks = append(b.chunks, append(c, line...))
	b.size += len(line)
	b.records++
}

func (b *batch) release() {
	for _, c := range b.chunks {
		if cap(c) == chunkSize {
			c = c[:0]
			chunkPool.Put(&c)
		}
	}
	b.chunks = nil
}

// NewWriter returns a Writer of dataset's records into bucket. dataset is the
// first part of every key ("query-logs"): non-empty, without leading or
// trailing slash. The Writer does not close bucket. It starts its background
// goroutines at once: call Close to flush and stop them.
//
// An error is returned for an invalid dataset name, or when the metrics
// cannot be registered (for instance twice for the same dataset).
func NewWriter(bucket *blob.Bucket, dataset string, opts *WriterOptions) (*Writer, error) {
	if bucket == nil {
		return nil, errors.New("sink: nil bucket")
	}
	if err := validDataset(dataset); err != nil {
		return nil, err
	}
	w := &Writer{
		bucket:  bucket,
		dataset: dataset,
		opts:    opts.withDefaults(),
		stop:    make(chan struct{}),
		changed: make(chan struct{}),
		open:    make(map[int64]*batch),
		pending: make(map[uint64]struct{}),
		nextSeq: 1,
	}
	w.records, _ = w.opts.Format.(RecordAppender)
	w.work = sync.NewCond(&w.mu)
	w.metrics = newWriterMetrics(w)
	if w.opts.Registerer != nil {
		w.reg = prometheus.WrapRegistererWith(prometheus.Labels{"dataset": dataset}, w.opts.Registerer)
		if err := w.reg.Register(w.metrics); err != nil {
			return nil, fmt.Errorf("sink: register metrics of dataset %s: %w", dataset, err)
		}
	}
	w.runCtx, w.abort = context.WithCancel(context.Background())
	for range w.opts.Uploaders {
		w.wg.Go(w.uploader)
	}
	w.wg.Go(w.roller)
	return w, nil
}

var _ Sink = (*Writer)(nil)

type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
	rec []byte // a RecordAppender's encoding of the record
}

var encoderPool = sync.Pool{New: func() any {
	e := &encoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

// encode returns record as one JSON line with its newline; the bytes belong
// to e.
func (e *encoder) encode(record any) ([]byte, error) {
	e.buf.Reset()
	switch v := record.(type) {
	case JSONAppender:
		b, err := v.AppendJSON(e.buf.AvailableBuffer())
		if err != nil {
			return nil, fmt.Errorf("sink: encode record: %w", err)
		}
		if len(b) < 2 || b[len(b)-1] != '}' || bytes.IndexByte(b, '\n') >= 0 {
			return nil, ErrNotObject
		}
		e.buf.Write(b)
		e.buf.WriteByte('\n')
	case json.RawMessage:
		if err := json.Compact(&e.buf, v); err != nil {
			return nil, fmt.Errorf("sink: encode record: %w", err)
		}
		e.buf.WriteByte('\n')
	default:
		if err := e.enc.Encode(record); err != nil {
			return nil, fmt.Errorf("sink: encode record: %w", err)
		}
	}
	line := e.buf.Bytes()
	if len(line) < 3 || line[0] != '{' {
		return nil, ErrNotObject
	}
	return line, nil
}

// appendRecord returns record as f encodes it; the bytes belong to e.
func (e *encoder) appendRecord(f RecordAppender, record any) ([]byte, error) {
	var err error
	e.rec, err = f.AppendRecord(e.rec[:0], record)
	return e.rec, err
}

// putEncoder returns e to the pool unless a huge record grew its buffer.
func putEncoder(e *encoder) {
	if e.buf.Cap() <= 1<<20 && cap(e.rec) <= 1<<20 {
		encoderPool.Put(e)
	}
}

func hourKey(ts time.Time) int64 {
	s := ts.Unix()
	h := s / 3600
	if s < 0 && s%3600 != 0 {
		h--
	}
	return h
}

// Write implements Sink. The record is encoded at once (with its
// JSONAppender method if it has one, else json.Marshal rules without HTML
// escaping; a json.RawMessage is compacted; by AppendRecord for a
// RecordAppender format), so the caller may reuse it when Write returns. It returns ErrNotObject or an encoding error
// for a record that is not a JSON object, ErrTooLarge for one larger than
// BufferBytes, ErrClosed after Close, ErrDropped in drop mode when the
// buffer is full, and ctx.Err() when ctx ends while Write waits for room.
func (w *Writer) Write(ctx context.Context, ts time.Time, record any) error {
	if w.opts.DropWhenFull && w.full.Load() {
		// Fast path during an outage: no encoding, no lock.
		w.dropped.Add(1)
		return ErrDropped
	}
	e := encoderPool.Get().(*encoder)
	defer putEncoder(e)
	var (
		line []byte
		err  error
	)
	if w.records != nil {
		line, err = e.appendRecord(w.records, record)
	} else {
		line, err = e.encode(record)
	}
	if err != nil {
		return err
	}
	if len(line) > w.opts.BufferBytes {
		return ErrTooLarge
	}
	hour := hourKey(ts)
	w.mu.Lock()
	for {
		if w.closed {
			w.mu.Unlock()
			return ErrClosed
		}
		if int(w.stats.Buffered)+len(line) <= w.opts.BufferBytes {
			break
		}
		if w.opts.DropWhenFull {
			w.rollAllLocked() // so that the open objects get written
			w.full.Store(true)
			w.dropped.Add(1)
			w.mu.Unlock()
			return ErrDropped
		}
		// Full of open objects: roll them so they can be written.
		w.rollAllLocked()
		ch := w.changed
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		w.mu.Lock()
	}
	b := w.open[hour]
	if b == nil {
		b = &batch{hour: hour, opened: time.Now()}
		w.open[hour] = b
	}
	b.append(line)
	w.stats.Records++
	w.stats.Bytes += int64(len(line))
	w.stats.Buffered += int64(len(line))
	if b.size >= w.opts.MaxObjectBytes {
		w.rollLocked(b)
	}
	w.mu.Unlock()
	return nil
}

// rollLocked moves an open batch to the upload queue.
func (w *Writer) rollLocked(b *batch) {
	delete(w.open, b.hour)
	b.seq = w.nextSeq
	w.nextSeq++
	w.pending[b.seq] = struct{}{}
	w.queue = append(w.queue, b)
	w.stats.Pending++
	w.work.Signal()
}

func (w *Writer) rollAllLocked() {
	for _, b := range w.open {
		w.rollLocked(b)
	}
}

// notifyLocked wakes Writes waiting for room and Flushes waiting for objects.
func (w *Writer) notifyLocked() {
	close(w.changed)
	w.changed = make(chan struct{})
}

// roller rolls objects older than MaxObjectAge.
func (w *Writer) roller() {
	tick := max(w.opts.MaxObjectAge/4, 10*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case now := <-t.C:
			w.mu.Lock()
			for _, b := range w.open {
				if now.Sub(b.opened) >= w.opts.MaxObjectAge {
					w.rollLocked(b)
				}
			}
			w.mu.Unlock()
		}
	}
}

// uploader writes queued batches until stopping and the queue is empty.
func (w *Writer) uploader() {
	enc := w.opts.Format.NewEncoder()
	for {
		w.mu.Lock()
		for len(w.queue) == 0 && !w.stopping {
			w.work.Wait()
		}
		if len(w.queue) == 0 {
			w.mu.Unlock()
			return
		}
		b := w.queue[0]
		w.queue[0] = nil
		w.queue = w.queue[1:]
		w.mu.Unlock()

		n, err := w.upload(b, enc)

		w.mu.Lock()
		delete(w.pending, b.seq)
		w.stats.Pending--
		w.stats.Buffered -= int64(b.size)
		w.full.Store(false)
		if err != nil {
			w.stats.Lost += b.records
			w.lostObjs++
		} else {
			w.stats.Objects++
			w.stats.ObjectBytes += n
		}
		w.notifyLocked()
		w.mu.Unlock()
		if err != nil {
			w.opts.Logger.Error("sink: records lost", "dataset", w.dataset, "records", b.records, "bytes", b.size, "err", err)
		}
		b.release()
	}
}

// upload writes b, retrying with backoff until it succeeds or runCtx ends.
func (w *Writer) upload(b *batch, enc Encoder) (int64, error) {
	created := time.Now()
	key := partitionPrefix(w.dataset, time.Unix(b.hour*3600, 0)) + objectName(created, rand.Uint32(), w.opts.Format.Ext())
	delay := w.opts.RetryMin
	for attempt := 1; ; attempt++ {
		start := time.Now()
		n, err := w.put(key, b, enc)
		if err == nil {
			w.metrics.uploadSeconds.Observe(time.Since(start).Seconds())
			return n, nil
		}
		if w.runCtx.Err() != nil {
			return 0, err
		}
		w.mu.Lock()
		w.stats.WriteErrors++
		w.lastErr = err
		w.mu.Unlock()
		w.opts.Logger.Warn("sink: write failed, will retry", "dataset", w.dataset, "key", key, "attempt", attempt, "retry_in", delay, "err", err)
		// Full jitter in [delay/2, delay].
		sleep := delay/2 + rand.N(delay/2+1)
		t := time.NewTimer(sleep)
		select {
		case <-t.C:
		case <-w.runCtx.Done():
			t.Stop()
			return 0, err
		}
		delay = min(delay*2, w.opts.RetryMax)
	}
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// put makes one attempt to write b under key. On any error the blob writer's
// ctx is cancelled before it is closed, so nothing is committed.
func (w *Writer) put(key string, b *batch, enc Encoder) (int64, error) {
	ctx, cancel := context.WithTimeout(w.runCtx, w.opts.UploadTimeout)
	defer cancel()
	var (
		f     *os.File    // fileblob: the temporary file, to sync before the rename
		abort func(error) // from Aborter: aborts the write for certain
	)
	bw, err := w.bucket.NewWriter(ctx, key, &blob.WriterOptions{
		ContentType: w.opts.Format.ContentType(),
		BeforeWrite: func(as func(any) bool) error {
			as(&f)
			if w.opts.Aborter != nil {
				abort = w.opts.Aborter(as)
			}
			return nil
		},
	})
	if err != nil {
		return 0, fmt.Errorf("sink: write %s: %w", key, err)
	}
	cw := &countingWriter{w: bw}
	fail := func(err error) (int64, error) {
		cancel()
		if abort != nil {
			abort(err)
		}
		_ = bw.Close()
		return 0, fmt.Errorf("sink: write %s: %w", key, err)
	}
	if err := enc.Encode(cw, b.chunks); err != nil {
		return fail(err)
	}
	if f != nil {
		if err := f.Sync(); err != nil {
			return fail(err)
		}
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if err := bw.Close(); err != nil {
		return 0, fmt.Errorf("sink: write %s: %w", key, err)
	}
	return cw.n, nil
}

// Flush implements Sink: it rolls every open object and waits until every
// record accepted before the call is written, retrying failed writes, or
// until ctx ends (then the records stay buffered and are retried).
func (w *Writer) Flush(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.rollAllLocked()
	target := w.nextSeq - 1
	err := w.waitLocked(ctx, target)
	w.mu.Unlock()
	if err != nil {
		return fmt.Errorf("sink: flush: %w", err)
	}
	return nil
}

// waitLocked waits until no batch with seq <= target is pending. It returns
// with w.mu held.
func (w *Writer) waitLocked(ctx context.Context, target uint64) error {
	for {
		done := true
		for seq := range w.pending {
			if seq <= target {
				done = false
				break
			}
		}
		if done {
			return nil
		}
		ch := w.changed
		w.mu.Unlock()
		select {
		case <-ch:
			w.mu.Lock()
		case <-ctx.Done():
			w.mu.Lock()
			if w.lastErr != nil {
				return fmt.Errorf("%w (last write error: %v)", ctx.Err(), w.lastErr)
			}
			return ctx.Err()
		}
	}
}

// Close implements Sink: Write and Flush then return ErrClosed, every
// accepted record is written (retrying), and the background goroutines are
// stopped. When ctx ends first, writes in progress are aborted (nothing
// partial appears) and Close returns a *LostError counting what was lost.
// Close unregisters the metrics. Calling Close again returns nil.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.rollAllLocked()
	w.notifyLocked() // blocked Writes return ErrClosed
	waitErr := w.waitLocked(ctx, w.nextSeq-1)
	w.stopping = true
	w.work.Broadcast()
	w.mu.Unlock()
	if waitErr != nil {
		w.abort()
	}
	close(w.stop)
	w.wg.Wait()
	w.abort()
	if w.reg != nil {
		w.reg.Unregister(w.metrics)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stats.Lost > 0 {
		if waitErr == nil {
			waitErr = errors.New("writes aborted")
		}
		return &LostError{Records: w.stats.Lost, Objects: w.lostObjs, Err: waitErr}
	}
	return nil
}

// Stats returns the writer's counters.
func (w *Writer) Stats() WriterStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.stats
	s.Dropped = w.dropped.Load()
	return s
}

// writerMetrics reports a Writer's stats at scrape time.
type writerMetrics struct {
	w             *Writer
	records       *prometheus.Desc
	bytes         *prometheus.Desc
	dropped       *prometheus.Desc
	lost          *prometheus.Desc
	objects       *prometheus.Desc
	objectBytes   *prometheus.Desc
	writeErrors   *prometheus.Desc
	buffered      *prometheus.Desc
	pending       *prometheus.Desc
	uploadSeconds prometheus.Histogram
}

func newWriterMetrics(w *Writer) *writerMetrics {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("sqlshadow_sink_"+name, help, nil, nil)
	}
	return &writerMetrics{
		w:           w,
		records:     d("records_total", "Records accepted by Write."),
		bytes:       d("record_bytes_total", "Bytes accepted by Write (JSON Lines, or the format's own encoding of the records)."),
		dropped:     d("records_dropped_total", "Records refused because the buffer was full (drop mode)."),
		lost:        d("records_lost_total", "Records accepted but never written (Close gave up)."),
		objects:     d("objects_total", "Objects written to the bucket."),
		objectBytes: d("object_bytes_total", "Bytes written to the bucket (compressed when gzip)."),
		writeErrors: d("write_errors_total", "Failed attempts to write an object (each retried)."),
		buffered:    d("buffered_bytes", "Bytes accepted and not yet written."),
		pending:     d("pending_objects", "Objects rolled and not yet written."),
		uploadSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sqlshadow_sink_object_write_seconds",
			Help:    "Time to write one object, successful attempts.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}),
	}
}

// Describe implements prometheus.Collector.
func (m *writerMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.records, m.bytes, m.dropped, m.lost, m.objects, m.objectBytes, m.writeErrors, m.buffered, m.pending} {
		ch <- d
	}
	m.uploadSeconds.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *writerMetrics) Collect(ch chan<- prometheus.Metric) {
	s := m.w.Stats()
	c := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	c(m.records, s.Records)
	c(m.bytes, s.Bytes)
	c(m.dropped, s.Dropped)
	c(m.lost, s.Lost)
	c(m.objects, s.Objects)
	c(m.objectBytes, s.ObjectBytes)
	c(m.writeErrors, s.WriteErrors)
	ch <- prometheus.MustNewConstMetric(m.buffered, prometheus.GaugeValue, float64(s.Buffered))
	ch <- prometheus.MustNewConstMetric(m.pending, prometheus.GaugeValue, float64(s.Pending))
	m.uploadSeconds.Collect(ch)
}
