package sinktest

import (
	"context"
	"errors"
	"io"
	"sync"

	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/gcerrors"
)

// ErrOutage is the error a FaultyBucket returns while failing.
var ErrOutage = errors.New("sinktest: simulated bucket outage")

// FaultyBucket wraps a bucket to simulate outages of object writes: while
// failing, every new object write fails; while hanging, writes block after
// their first bytes until their ctx ends (so the underlying driver sees a
// cancelled write in progress). Reads, lists and deletes always pass
// through. It is safe for concurrent use.
type FaultyBucket struct {
	under   *blob.Bucket
	aborter func(as func(any) bool) func(error)

	mu      sync.Mutex
	mode    int // 0 healthy, 1 failing, 2 hanging
	changed chan struct{}
	writes  int // object writes started
}

const (
	healthy = iota
	failing
	hanging
)

// NewFaultyBucket returns a FaultyBucket over under, healthy. Its Bucket
// does not close under. aborter, nil for every kind but gs://, is the
// sink.WriterOptions.Aborter of under's driver (drivers.AbortGCS for gs://):
// the FaultyBucket uses it to abandon a hung write with nothing committed.
func NewFaultyBucket(under *blob.Bucket, aborter func(as func(any) bool) func(error)) *FaultyBucket {
	return &FaultyBucket{under: under, aborter: aborter, changed: make(chan struct{})}
}

// Bucket returns the wrapped bucket to hand to the code under test. Each
// call returns a new *blob.Bucket over the same FaultyBucket.
func (f *FaultyBucket) Bucket() *blob.Bucket { return blob.NewBucket(&faultyDriver{f: f}) }

func (f *FaultyBucket) set(mode int) {
	f.mu.Lock()
	f.mode = mode
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

// Fail makes object writes fail with ErrOutage until Recover.
func (f *FaultyBucket) Fail() { f.set(failing) }

// Hang makes object writes block, after passing their first write through,
// and their commit (Close), until their ctx ends or Recover.
func (f *FaultyBucket) Hang() { f.set(hanging) }

// Recover makes the bucket healthy again.
func (f *FaultyBucket) Recover() { f.set(healthy) }

// Writes returns how many object writes were started (successful or not).
func (f *FaultyBucket) Writes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes
}

func (f *FaultyBucket) state() (int, chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mode, f.changed
}

type faultyDriver struct{ f *FaultyBucket }

func (d *faultyDriver) ErrorCode(err error) gcerrors.ErrorCode {
	if errors.Is(err, ErrOutage) {
		return gcerrors.Unknown
	}
	return gcerrors.Code(err)
}

func (d *faultyDriver) As(i any) bool { return d.f.under.As(i) }

func (d *faultyDriver) ErrorAs(err error, i any) bool { return d.f.under.ErrorAs(err, i) }

func (d *faultyDriver) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	a, err := d.f.under.Attributes(ctx, key)
	if err != nil {
		return nil, err
	}
	return &driver.Attributes{
		CacheControl: a.CacheControl, ContentDisposition: a.ContentDisposition,
		ContentEncoding: a.ContentEncoding, ContentLanguage: a.ContentLanguage,
		ContentType: a.ContentType, Metadata: a.Metadata, CreateTime: a.CreateTime,
		ModTime: a.ModTime, Size: a.Size, MD5: a.MD5, ETag: a.ETag,
	}, nil
}

func (d *faultyDriver) ListPaged(ctx context.Context, opts *driver.ListOptions) (*driver.ListPage, error) {
	size := opts.PageSize
	if size <= 0 {
		size = 1000
	}
	objs, next, err := d.f.under.ListPage(ctx, opts.PageToken, size, &blob.ListOptions{
		Prefix: opts.Prefix, Delimiter: opts.Delimiter, BeforeList: opts.BeforeList,
	})
	if err != nil && !(err == io.EOF && next == nil) {
		return nil, err
	}
	page := &driver.ListPage{NextPageToken: next}
	for _, o := range objs {
		page.Objects = append(page.Objects, &driver.ListObject{Key: o.Key, ModTime: o.ModTime, Size: o.Size, MD5: o.MD5, IsDir: o.IsDir})
	}
	return page, nil
}

func (d *faultyDriver) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *driver.ReaderOptions) (driver.Reader, error) {
	r, err := d.f.under.NewRangeReader(ctx, key, offset, length, &blob.ReaderOptions{BeforeRead: opts.BeforeRead})
	if err != nil {
		return nil, err
	}
	return &faultyReader{r: r}, nil
}

func (d *faultyDriver) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	mode, _ := d.f.state()
	d.f.mu.Lock()
	d.f.writes++
	d.f.mu.Unlock()
	if mode == failing {
		return nil, ErrOutage
	}
	ctx, cancel := context.WithCancel(ctx)
	fw := &faultyWriter{ctx: ctx, cancel: cancel, f: d.f}
	w, err := d.f.under.NewWriter(ctx, key, &blob.WriterOptions{
		BufferSize: opts.BufferSize, MaxConcurrency: opts.MaxConcurrency,
		CacheControl: opts.CacheControl, ContentDisposition: opts.ContentDisposition,
		ContentEncoding: opts.ContentEncoding, ContentLanguage: opts.ContentLanguage,
		ContentType: contentType, ContentMD5: opts.ContentMD5, Metadata: opts.Metadata,
		DisableContentTypeDetection: true, IfNotExist: opts.IfNotExist,
		BeforeWrite: func(as func(any) bool) error {
			if d.f.aborter != nil {
				fw.abortUnder = d.f.aborter(as)
			}
			if opts.BeforeWrite != nil {
				return opts.BeforeWrite(as)
			}
			return nil
		},
	})
	if err != nil {
		cancel()
		return nil, err
	}
	fw.w = w
	return fw, nil
}

func (d *faultyDriver) Copy(ctx context.Context, dstKey, srcKey string, _ *driver.CopyOptions) error {
	return d.f.under.Copy(ctx, dstKey, srcKey, nil)
}

func (d *faultyDriver) Delete(ctx context.Context, key string, _ *driver.DeleteOptions) error {
	return d.f.under.Delete(ctx, key)
}

func (d *faultyDriver) SignedURL(ctx context.Context, key string, _ *driver.SignedURLOptions) (string, error) {
	return d.f.under.SignedURL(ctx, key, nil)
}

func (d *faultyDriver) Close() error { return nil }

type faultyReader struct{ r *blob.Reader }

func (r *faultyReader) Read(p []byte) (int, error) { return r.r.Read(p) }
func (r *faultyReader) Close() error               { return r.r.Close() }
func (r *faultyReader) As(i any) bool              { return r.r.As(i) }
func (r *faultyReader) Attributes() *driver.ReaderAttributes {
	return &driver.ReaderAttributes{ContentType: r.r.ContentType(), ModTime: r.r.ModTime(), Size: r.r.Size()}
}

type faultyWriter struct {
	ctx        context.Context
	cancel     context.CancelFunc
	abortUnder func(error) // from the aborter, when the driver needs one
	f          *FaultyBucket
	w          *blob.Writer
	passed     bool
}

func (w *faultyWriter) Write(p []byte) (int, error) {
	for {
		mode, changed := w.f.state()
		switch {
		case mode == failing:
			return 0, ErrOutage
		case mode == hanging && w.passed:
			select {
			case <-changed:
				continue
			case <-w.ctx.Done():
				return 0, w.ctx.Err()
			}
		}
		w.passed = true
		return w.w.Write(p)
	}
}

func (w *faultyWriter) Close() error {
	defer w.cancel()
	for {
		mode, changed := w.f.state()
		switch mode {
		case failing:
			w.abort(ErrOutage)
			return ErrOutage
		case hanging:
			select {
			case <-changed:
				continue
			case <-w.ctx.Done():
				w.abort(w.ctx.Err())
				return w.ctx.Err()
			}
		}
		if err := w.ctx.Err(); err != nil {
			w.abort(err)
			return err
		}
		return w.w.Close()
	}
}

// abort closes the underlying writer without committing anything.
func (w *faultyWriter) abort(err error) {
	w.cancel()
	if w.abortUnder != nil {
		w.abortUnder(err)
	}
	_ = w.w.Close()
}
