package shadow

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"time"

	"gocloud.dev/blob"

	"github.com/sqlshadow/sqlshadow/compare"
	"github.com/sqlshadow/sqlshadow/hashing"
	"github.com/sqlshadow/sqlshadow/sink"
)

// QueryLogsDataset is the dataset the shadow analysis reads by default.
const QueryLogsDataset = "query-logs"

// Window is a time range [From, To). A zero From means the beginning of the
// data, a zero To its end.
type Window struct {
	From, To time.Time
}

// BeforeAfter selects the before/after mode: two time windows of one side,
// compared per group with an unpaired test (e.g. to validate a fix deployed
// on the shadow between the windows).
type BeforeAfter struct {
	// Before and After are the two windows; both are required.
	Before, After Window
	// Target is the side compared: "shadow" (default) or "primary".
	Target string
}

// Options configure the shadow analysis. A nil *Options means
// all defaults.
type Options struct {
	// Ratio is the smallest slowdown reported as a regression: a group
	// regresses when shadow/primary of its P50 or P99 is >= Ratio and the
	// test is significant. Faster by the same factor (<= 1/Ratio) is an
	// improvement. Default 1.5.
	Ratio float64
	// Alpha is the significance level applied to the Benjamini-Hochberg
	// adjusted p-values across every group and quantile. Default 0.01.
	Alpha float64
	// MinPairs is the number of paired observations a group needs for the
	// P50 test (Wilcoxon signed-rank on log(shadow/primary)); below it the
	// group is "insufficient data". Default 30.
	MinPairs int
	// MinTailPairs is the number of pairs a group needs for the P99 test
	// (bootstrap of the P99 ratio). Default 500.
	MinTailPairs int
	// Reservoir is the number of pairs (and of durations per side) kept per
	// group, a uniform sample chosen by hashing query ids, so results do not
	// depend on the order of the input. Default 10,000.
	Reservoir int
	// Resamples is the number of bootstrap resamples of the P99 test.
	// Default 2,000.
	Resamples int
	// Seed seeds the bootstrap and the sampling hash. Default 1.
	Seed uint64
	// Grace is how long after an hour ends its partition is treated as
	// complete: the analysed window ends at most at the start of the newest
	// complete hour, truncate(now - Grace, hour). Default 15 minutes;
	// negative disables the clamp.
	Grace time.Duration
	// Now returns the current time (tests). Default time.Now.
	Now func() time.Time
	// Parallelism is the number of log objects decoded at once (and of
	// groups tested at once). Default runtime.GOMAXPROCS(0).
	Parallelism int
	// Examples is the number of example statements per failure code,
	// mismatch group and noise entry. Default 3.
	Examples int
	// MaxTrackedQueries bounds the distinct query hashes remembered (to
	// detect primaries that answer the same text differently) and the
	// distinct mismatching query hashes; beyond it they are counted as
	// untracked. Default 1,000,000 (about 50 MB).
	MaxTrackedQueries int
	// NonDeterministic reports whether a statement's answer depends on when
	// or where it runs, and why. Default hashing.NonDeterministic.
	NonDeterministic func(sql string) (bool, string)
	// PairWindow is how far apart in time a shadow record without the
	// primary's outcome (no primary_* fields, as the open-source StarRocks
	// shadow proxy writes them) and the primary record of the same query_id
	// may be and still pair; records wait for their partner that long
	// (measured in partition hours read). Default 15 minutes.
	PairWindow time.Duration
	// MaxPending bounds the records waiting for their partner; beyond it the
	// oldest are given up as unpaired (and counted as pairing overflow).
	// A waiting primary record takes about 100 bytes, a waiting shadow
	// record about 500 plus its query text. Default 1,000,000.
	MaxPending int
	// BeforeAfter, when set, switches to the before/after mode.
	BeforeAfter *BeforeAfter
	// Dataset is the query-log dataset read from the bucket. Default
	// QueryLogsDataset.
	Dataset string
	// ProfilesDataset is the profile dataset joined to the query logs (by
	// side, server_conn_id, query_hash and time) to show where the time went
	// on each side; "-" disables the join. Default ProfilesDataset. Ignored
	// by Analyze and in before/after mode.
	ProfilesDataset string
	// PrimaryCluster and ShadowCluster are the profile records' "cluster"
	// values of each side. Default "primary" and "shadow".
	PrimaryCluster, ShadowCluster string
	// Logger receives progress at debug level and problems at warn level.
	// Default: discard.
	Logger *slog.Logger
}

// config is the resolved options of one run.
type config struct {
	ratio, alpha          float64
	minPairs, minTail     int
	reservoir, resamples  int
	seed                  uint64
	grace                 time.Duration
	now                   func() time.Time
	parallelism, examples int
	maxQueries            int
	pairWindow            time.Duration
	maxPending            int
	nonDet                func(string) (bool, string)
	dataset               string
	log                   *slog.Logger

	profilesDataset               string
	primaryCluster, shadowCluster string
	indexExecs                    bool // set once profile objects were found

	window               Window // requested
	effectiveTo          time.Time
	fromMicros, toMicros int64
	beforeAfter          *baWindows
	ba                   *BeforeAfter
}

type baWindows struct {
	target               string
	beforeFrom, beforeTo int64
	afterFrom, afterTo   int64
}

func microsOr(t time.Time, zero int64) int64 {
	if t.IsZero() {
		return zero
	}
	return t.UnixMicro()
}

func newConfig(w Window, o *Options) (*config, error) {
	if o == nil {
		o = &Options{}
	}
	c := &config{
		ratio: o.Ratio, alpha: o.Alpha, minPairs: o.MinPairs, minTail: o.MinTailPairs,
		reservoir: o.Reservoir, resamples: o.Resamples, seed: o.Seed, grace: o.Grace,
		now: o.Now, parallelism: o.Parallelism, examples: o.Examples, maxQueries: o.MaxTrackedQueries,
		nonDet: o.NonDeterministic, dataset: o.Dataset, pairWindow: o.PairWindow, maxPending: o.MaxPending, log: o.Logger, window: w,
		profilesDataset: o.ProfilesDataset, primaryCluster: o.PrimaryCluster, shadowCluster: o.ShadowCluster,
	}
	if c.profilesDataset == "" {
		c.profilesDataset = ProfilesDataset
	}
	if c.primaryCluster == "" {
		c.primaryCluster = "primary"
	}
	if c.shadowCluster == "" {
		c.shadowCluster = "shadow"
	}
	if c.ratio == 0 {
		c.ratio = 1.5
	}
	if c.ratio <= 1 {
		return nil, fmt.Errorf("shadow: ratio %v must be > 1", c.ratio)
	}
	if c.alpha == 0 {
		c.alpha = 0.01
	}
	if c.alpha < 0 || c.alpha >= 1 {
		return nil, fmt.Errorf("shadow: alpha %v must be in (0, 1)", c.alpha)
	}
	if c.minPairs <= 0 {
		c.minPairs = 30
	}
	if c.minTail <= 0 {
		c.minTail = 500
	}
	if c.reservoir <= 0 {
		c.reservoir = 10_000
	}
	if c.resamples <= 0 {
		c.resamples = 2_000
	}
	if c.seed == 0 {
		c.seed = 1
	}
	if c.grace == 0 {
		c.grace = 15 * time.Minute
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.parallelism <= 0 {
		c.parallelism = runtime.GOMAXPROCS(0)
	}
	if c.examples <= 0 {
		c.examples = 3
	}
	if c.maxQueries <= 0 {
		c.maxQueries = 1_000_000
	}
	if c.pairWindow < 0 {
		return nil, fmt.Errorf("shadow: pair window %v must not be negative", c.pairWindow)
	}
	if c.pairWindow == 0 {
		c.pairWindow = 15 * time.Minute
	}
	if c.maxPending <= 0 {
		c.maxPending = 1_000_000
	}
	if c.nonDet == nil {
		c.nonDet = hashing.NonDeterministic
	}
	if c.dataset == "" {
		c.dataset = QueryLogsDataset
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	// The newest hour counts only once it is complete.
	c.effectiveTo = w.To
	if c.grace > 0 {
		complete := c.now().Add(-c.grace).UTC().Truncate(time.Hour)
		if c.effectiveTo.IsZero() || complete.Before(c.effectiveTo) {
			c.effectiveTo = complete
		}
	}
	c.fromMicros = microsOr(w.From, 0)
	c.toMicros = microsOr(c.effectiveTo, 0)
	if ba := o.BeforeAfter; ba != nil {
		t := ba.Target
		if t == "" {
			t = "shadow"
		}
		if t != "shadow" && t != "primary" {
			return nil, fmt.Errorf("shadow: before/after target %q: want shadow or primary", t)
		}
		for _, win := range []Window{ba.Before, ba.After} {
			if win.From.IsZero() || win.To.IsZero() || !win.From.Before(win.To) {
				return nil, fmt.Errorf("shadow: before/after windows need From < To, got %v..%v", win.From, win.To)
			}
		}
		c.ba = &BeforeAfter{Before: ba.Before, After: ba.After, Target: t}
		c.beforeAfter = &baWindows{
			target:     t,
			beforeFrom: ba.Before.From.UnixMicro(), beforeTo: ba.Before.To.UnixMicro(),
			afterFrom: ba.After.From.UnixMicro(), afterTo: ba.After.To.UnixMicro(),
		}
	}
	return c, nil
}

// Analyzer is the shadow analysis over the query logs of one bucket: it
// implements compare.Comparator. It is safe for concurrent use; each Compare or
// Report call reads the logs again.
type Analyzer struct {
	bucket *blob.Bucket
	window Window
	opts   Options
}

// New returns the analysis of the query logs under bucket (the root
// where datasets live) in window w. In before/after mode (opts.BeforeAfter)
// w is ignored and the two windows are read.
func New(bucket *blob.Bucket, w Window, opts *Options) *Analyzer {
	s := &Analyzer{bucket: bucket, window: w}
	if opts != nil {
		s.opts = *opts
	}
	return s
}

var _ compare.Comparator = (*Analyzer)(nil)

// Compare implements compare.Comparator; the result is a *Report.
func (s *Analyzer) Compare(ctx context.Context) (compare.Result, error) { return s.Report(ctx) }

// Report lists the query-log objects of the window, decodes them in
// parallel and returns the report. Cancelling ctx aborts and returns
// ctx.Err().
func (s *Analyzer) Report(ctx context.Context) (*Report, error) {
	cfg, err := newConfig(s.window, &s.opts)
	if err != nil {
		return nil, err
	}
	from, to := s.window.From, cfg.effectiveTo
	if ba := cfg.ba; ba != nil {
		from, to = minTime(ba.Before.From, ba.After.From), maxTime(ba.Before.To, ba.After.To)
	}
	objs, err := sink.Objects(ctx, s.bucket, cfg.dataset, from, to)
	if err != nil {
		return nil, fmt.Errorf("shadow: list query logs: %w", err)
	}
	cfg.log.Debug("shadow: analysis", "objects", len(objs), "from", from, "to", to)
	var profiles []source
	if cfg.ba == nil && cfg.profilesDataset != "-" {
		pobjs, err := sink.Objects(ctx, s.bucket, cfg.profilesDataset, from, to)
		if err != nil {
			return nil, fmt.Errorf("shadow: list profiles: %w", err)
		}
		profiles = s.sources(pobjs, profilesFormat())
		cfg.indexExecs = len(profiles) > 0
	}
	return runAnalysis(ctx, cfg, s.sources(objs, queryLogsFormat()), profiles)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Analyze runs the shadow analysis over query logs given as JSON
// Lines readers (decompressed), in window w; readers are decoded in
// parallel. Use it when the logs do not come from a bucket in the sink's
// layout. Readers carry no partition hour: records wait for their partner
// until the end of the input, bounded by Options.MaxPending. A reader that
// fails is reported in Report.Input as "logs[i]".
func Analyze(ctx context.Context, w Window, logs []io.Reader, opts *Options) (*Report, error) {
	cfg, err := newConfig(w, opts)
	if err != nil {
		return nil, err
	}
	sources := make([]source, len(logs))
	for i, r := range logs {
		sources[i] = source{key: fmt.Sprintf("logs[%d]", i), open: func(context.Context) (io.ReadCloser, error) {
			return io.NopCloser(r), nil
		}}
	}
	return runAnalysis(ctx, cfg, sources, nil)
}
