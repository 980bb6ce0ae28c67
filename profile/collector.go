package profile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/sink"
)

// Options configures a Collector. Nil means defaults.
type Options struct {
	// Cluster names the cluster in every record (and in the dedup key).
	// Default "".
	Cluster string
	// Interval is the time between polls. Keep it well below the FE
	// retention (30 s). Default 5 s.
	Interval time.Duration
	// FE configures the StarRocks FE sources the Collector makes for each
	// discovered endpoint (its Cluster is set from Cluster). Default: nil
	// FEOptions defaults.
	FE *FEOptions
	// NewSource makes the source for an endpoint, instead of a StarRocks FE
	// source (for example a PerfSchemaSource for a MySQL server). Default:
	// NewFESource(addr, FE).
	NewSource func(addr string) (ProfileSource, error)
	// DedupSize bounds the deduplication cache of (cluster, query id, state)
	// keys. Default 1,000,000.
	DedupSize int
	// DedupTTL is how long a key is remembered after the statement was
	// written: at least twice the FE retention. Default 10 min.
	DedupTTL time.Duration
	// Now is the clock of DedupTTL. Default time.Now.
	Now func() time.Time
	// Checkpoint, when set, loads the cursors at the start of Run and saves
	// them after every poll and at the end. Default: none.
	Checkpoint CheckpointStore
	// FlushTimeout bounds the final flush after ctx ends (draining held-back
	// statements, writing them, Sink.Flush, saving the checkpoint). Default 10 s.
	FlushTimeout time.Duration
	// Registerer registers the Collector's metrics. Default nil: not
	// registered.
	Registerer prometheus.Registerer
	// Logger receives errors and warnings. Default: discard.
	Logger *slog.Logger
}

// Collector polls every endpoint of a cluster concurrently, deduplicates
// statements across endpoints and polls on (cluster, query id, state), and
// writes the records to a Sink.
//
// A Collector starts no goroutine of its own outside Poll, so it needs no
// Close: Run is the poll loop, and each Poll starts one goroutine per
// endpoint and joins them before it returns. Poll runs one cycle; do not
// call it concurrently with itself or while Run runs. Ready may be called at
// any time.
type Collector struct {
	dst  sink.Sink
	disc Discovery
	opts Options
	// dedup maps the keys of the statements written to when they expire
	// (written + DedupTTL); an expired key is treated as absent. It holds
	// at most DedupSize keys, evicting the least recently written.
	dedup   *simplelru.LRU[dedupKey, time.Time]
	m       *metrics
	sources map[string]ProfileSource
	saved   map[string]Cursor
	loaded  bool
	ready   atomic.Bool
	running atomic.Bool
}

type metrics struct {
	polls      *prometheus.CounterVec
	pollErrors *prometheus.CounterVec
	records    *prometheus.CounterVec
	duplicates prometheus.Counter
	gaps       *prometheus.CounterVec
	writeErrs  prometheus.Counter
	profiles   *prometheus.CounterVec
	endpoints  prometheus.Gauge
	discErrs   prometheus.Counter
	pollSecs   prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "sqlshadow", "profile"
	m := &metrics{
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "polls_total",
			Help: "Polls of an endpoint, by endpoint and result (ok, error)."}, []string{"endpoint", "result"}),
		pollErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "poll_errors_total",
			Help: "Failed polls by endpoint and reason (unauthorized, forbidden, too_large, not_ready, bad_response, other)."},
			[]string{"endpoint", "reason"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "records_total",
			Help: "Records written to the sink, by kind (statement, gap, digest)."}, []string{"kind"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "duplicates_total",
			Help: "Statements dropped as duplicates of (cluster, query id, state)."}),
		gaps: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "gaps_total",
			Help: "Suspected gaps (statements possibly lost), by endpoint."}, []string{"endpoint"}),
		writeErrs: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "write_errors_total",
			Help: "Records the sink refused (lost)."}),
		profiles: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "profiles_total",
			Help: "Statements written, by profile outcome (attached, missing, not_wanted)."}, []string{"outcome"}),
		endpoints: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "endpoints",
			Help: "Endpoints found by the last discovery."}),
		discErrs: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "discovery_errors_total",
			Help: "Failed discoveries (the previous endpoints are kept)."}),
		pollSecs: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "poll_duration_seconds",
			Help: "Duration of a poll cycle over all endpoints.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.polls, m.pollErrors, m.records, m.duplicates, m.gaps, m.writeErrs,
			m.profiles, m.endpoints, m.discErrs, m.pollSecs} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("profile: register metrics: %w", err)
			}
		}
	}
	return m, nil
}

// NewCollector returns a Collector that writes to dst the records of the
// endpoints disc finds. It starts no goroutine; Run starts polling.
func NewCollector(dst sink.Sink, disc Discovery, opts *Options) (*Collector, error) {
	if dst == nil || disc == nil {
		return nil, errors.New("profile: NewCollector needs a sink and a discovery")
	}
	c := &Collector{dst: dst, disc: disc, sources: map[string]ProfileSource{}, saved: map[string]Cursor{}}
	if opts != nil {
		c.opts = *opts
	}
	o := &c.opts
	if o.Interval <= 0 {
		o.Interval = 5 * time.Second
	}
	if o.DedupSize <= 0 {
		o.DedupSize = 1_000_000
	}
	if o.DedupTTL <= 0 {
		o.DedupTTL = 10 * time.Minute
	}
	if o.FlushTimeout <= 0 {
		o.FlushTimeout = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.NewSource == nil {
		fe := o.FE.withDefaults()
		fe.Cluster = o.Cluster
		if o.FE == nil || o.FE.Logger == nil {
			fe.Logger = o.Logger
		}
		o.NewSource = func(addr string) (ProfileSource, error) { return NewFESource(addr, &fe), nil }
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	c.m = m
	c.dedup, err = simplelru.NewLRU[dedupKey, time.Time](o.DedupSize, nil)
	if err != nil {
		return nil, fmt.Errorf("profile: dedup cache: %w", err)
	}
	return c, nil
}

// Ready reports whether a poll cycle has completed with at least one
// endpoint polled successfully.
func (c *Collector) Ready() bool { return c.ready.Load() }

// Run polls every Interval until ctx ends, then makes a final flush: the
// statements still waiting for a profile are written without one, the sink
// is flushed and the checkpoint saved, within FlushTimeout. It returns nil
// after a clean flush, or the flush's error.
func (c *Collector) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("profile: Collector.Run called twice")
	}
	defer c.running.Store(false)
	if err := c.load(ctx); err != nil {
		return err
	}
	t := time.NewTicker(c.opts.Interval)
	defer t.Stop()
	for {
		if err := c.Poll(ctx); err != nil && ctx.Err() == nil {
			c.opts.Logger.Warn("profile: poll", "err", err)
		}
		select {
		case <-ctx.Done():
			return c.finalFlush(ctx)
		case <-t.C:
		}
	}
}

// load reads the checkpoint once.
func (c *Collector) load(ctx context.Context) error {
	if c.loaded || c.opts.Checkpoint == nil {
		return nil
	}
	cs, err := c.opts.Checkpoint.Load(ctx)
	if err != nil {
		return err
	}
	for _, cur := range cs {
		c.saved[cur.Source] = cur
	}
	c.loaded = true
	return nil
}

func (c *Collector) finalFlush(ctx context.Context) error {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.FlushTimeout)
	defer cancel()
	for _, addr := range c.sortedAddrs() {
		c.drainAndClose(fctx, addr)
	}
	err := c.dst.Flush(fctx)
	if err != nil {
		err = fmt.Errorf("profile: final flush: %w", err)
	}
	return errors.Join(err, c.saveCheckpoint(fctx))
}

func (c *Collector) sortedAddrs() []string {
	addrs := make([]string, 0, len(c.sources))
	for a := range c.sources {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	return addrs
}

// drainAndClose writes what a source holds back, records its cursor for the
// checkpoint, closes it and forgets it.
func (c *Collector) drainAndClose(ctx context.Context, addr string) {
	src := c.sources[addr]
	if d, ok := src.(Drainer); ok {
		c.write(ctx, d.Drain())
	}
	if cp, ok := src.(Checkpointer); ok {
		c.saved[addr] = cp.Cursor()
	}
	if cl, ok := src.(io.Closer); ok {
		_ = cl.Close()
	}
	delete(c.sources, addr)
}

func (c *Collector) saveCheckpoint(ctx context.Context) error {
	if c.opts.Checkpoint == nil {
		return nil
	}
	for addr, src := range c.sources {
		if cp, ok := src.(Checkpointer); ok {
			c.saved[addr] = cp.Cursor()
		}
	}
	cs := make([]Cursor, 0, len(c.saved))
	for _, cur := range c.saved {
		cs = append(cs, cur)
	}
	slices.SortFunc(cs, func(a, b Cursor) int { return cmp.Compare(a.Source, b.Source) })
	return c.opts.Checkpoint.Save(ctx, cs)
}

// Poll runs one cycle: discovery, one concurrent Collect per endpoint, dedup
// and writes. Records already fetched are written even if ctx ends meanwhile
// (within FlushTimeout), since the sources' cursors have moved past them. It
// returns the endpoints' errors, joined.
func (c *Collector) Poll(ctx context.Context) error {
	start := time.Now()
	defer func() { c.m.pollSecs.Observe(time.Since(start).Seconds()) }()
	if err := c.load(ctx); err != nil {
		return err
	}

	addrs, derr := c.disc.Discover(ctx)
	if derr != nil {
		c.m.discErrs.Inc()
		c.opts.Logger.Warn("profile: discovery failed; keeping the previous endpoints", "err", derr)
		addrs = c.sortedAddrs()
	}
	dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.FlushTimeout)
	defer dcancel()
	want := map[string]bool{}
	for _, a := range addrs {
		want[a] = true
	}
	for _, a := range c.sortedAddrs() {
		if !want[a] {
			c.opts.Logger.Info("profile: endpoint gone", "endpoint", a)
			c.drainAndClose(dctx, a)
			delete(c.saved, a)
		}
	}
	var errs []error
	if derr != nil {
		errs = append(errs, derr)
	}
	for _, a := range addrs {
		if _, ok := c.sources[a]; ok {
			continue
		}
		src, err := c.opts.NewSource(a)
		if err != nil {
			errs = append(errs, fmt.Errorf("profile: source for %s: %w", a, err))
			continue
		}
		if cur, ok := c.saved[a]; ok {
			if cp, ok := src.(Checkpointer); ok {
				cp.SetCursor(cur)
			}
		}
		c.sources[a] = src
	}
	c.m.endpoints.Set(float64(len(c.sources)))

	type result struct {
		addr string
		recs []dataset.Profile
		err  error
	}
	active := c.sortedAddrs()
	results := make([]result, len(active))
	var wg sync.WaitGroup
	for i, a := range active {
		src := c.sources[a]
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs, err := src.Collect(ctx)
			results[i] = result{a, recs, err}
		}()
	}
	wg.Wait()

	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.FlushTimeout)
	defer cancel()
	ok := false
	for _, r := range results {
		c.write(wctx, r.recs)
		if r.err != nil {
			c.m.polls.WithLabelValues(r.addr, "error").Inc()
			c.m.pollErrors.WithLabelValues(r.addr, errorReason(r.err)).Inc()
			errs = append(errs, fmt.Errorf("%s: %w", r.addr, r.err))
			continue
		}
		ok = true
		c.m.polls.WithLabelValues(r.addr, "ok").Inc()
	}
	if ok {
		c.ready.Store(true)
	}
	if err := c.saveCheckpoint(wctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func errorReason(err error) string {
	switch {
	case errors.Is(err, ErrUnauthorized):
		return "unauthorized"
	case errors.Is(err, ErrForbidden):
		return "forbidden"
	case errors.Is(err, ErrBodyTooLarge):
		return "too_large"
	case errors.Is(err, ErrNotReady):
		return "not_ready"
	case errors.Is(err, ErrBadResponse):
		return "bad_response"
	case errors.Is(err, ErrServerConfig):
		return "server_config"
	}
	return "other"
}

// write deduplicates statements and writes every record to the sink.
func (c *Collector) write(ctx context.Context, recs []dataset.Profile) {
	for i := range recs {
		r := &recs[i]
		if r.Cluster == "" {
			r.Cluster = c.opts.Cluster
		}
		if k, ok := dedupKeyOf(r); ok {
			now := c.opts.Now()
			if expires, ok := c.dedup.Peek(k); ok && now.Before(expires) {
				c.m.duplicates.Inc()
				continue
			}
			c.dedup.Add(k, now.Add(c.opts.DedupTTL))
		}
		if err := c.dst.Write(ctx, time.Time(r.TS), *r); err != nil {
			c.m.writeErrs.Inc()
			c.opts.Logger.Error("profile: record lost: sink refused it", "kind", r.Kind, "query_id", r.SRQueryID, "err", err)
			continue
		}
		c.m.records.WithLabelValues(r.Kind).Inc()
		switch r.Kind {
		case dataset.ProfileGap:
			c.m.gaps.WithLabelValues(r.FEHost).Inc()
			c.opts.Logger.Warn("profile: suspected gap", "endpoint", r.FEHost, "reason", r.GapReason)
		case dataset.ProfileStatement:
			switch {
			case r.ProfileText != "":
				c.m.profiles.WithLabelValues("attached").Inc()
			case r.ProfileError != "":
				c.m.profiles.WithLabelValues("missing").Inc()
			default:
				c.m.profiles.WithLabelValues("not_wanted").Inc()
			}
		}
	}
}
