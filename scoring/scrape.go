package scoring

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ErrScrape reports that no target of a ScrapeSource could be scraped.
var ErrScrape = errors.New("scoring: scrape failed")

// Sample is one sample of a /metrics exposition, flattened: a summary gives
// one Sample per quantile (label "quantile") plus name_sum and name_count.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// ParseExposition parses a Prometheus text exposition as StarRocks FEs and
// BEs serve it, with prometheus/common expfmt (UTF-8 name validation, as
// v0.72's zero-value parser validates nothing and fails every name).
// StarRocks repeats # TYPE and # HELP lines for a family whose samples have
// different labels; the repeats are dropped before parsing. Histograms are
// flattened to name_sum and name_count only.
func ParseExposition(r io.Reader) ([]Sample, error) {
	clean, err := dedupMetadata(r)
	if err != nil {
		return nil, err
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(clean))
	if err != nil {
		return nil, fmt.Errorf("scoring: parse exposition: %w", err)
	}
	names := make([]string, 0, len(fams))
	for n := range fams {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []Sample
	for _, name := range names {
		mf := fams[name]
		for _, m := range mf.GetMetric() {
			labels := make(map[string]string, len(m.GetLabel()))
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out = append(out, Sample{name, labels, m.GetCounter().GetValue()})
			case dto.MetricType_GAUGE:
				out = append(out, Sample{name, labels, m.GetGauge().GetValue()})
			case dto.MetricType_UNTYPED:
				out = append(out, Sample{name, labels, m.GetUntyped().GetValue()})
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				for _, q := range s.GetQuantile() {
					l := cloneLabels(labels)
					l["quantile"] = model.FloatString(q.GetQuantile()).String()
					out = append(out, Sample{name, l, q.GetValue()})
				}
				out = append(out, Sample{name + "_sum", labels, s.GetSampleSum()},
					Sample{name + "_count", cloneLabels(labels), float64(s.GetSampleCount())})
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				h := m.GetHistogram()
				out = append(out, Sample{name + "_sum", labels, h.GetSampleSum()},
					Sample{name + "_count", cloneLabels(labels), float64(h.GetSampleCount())})
			}
		}
	}
	return out, nil
}

func cloneLabels(l map[string]string) map[string]string {
	c := make(map[string]string, len(l)+1)
	for k, v := range l {
		c[k] = v
	}
	return c
}

// dedupMetadata drops # HELP and # TYPE lines for a name already described
// or already sampled, which the text parser rejects.
func dedupMetadata(r io.Reader) ([]byte, error) {
	var out bytes.Buffer
	seenMeta := map[string]bool{}
	seenSample := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		trim := strings.TrimLeft(line, " \t")
		if strings.HasPrefix(trim, "#") {
			f := strings.Fields(trim[1:])
			if len(f) >= 2 && (f[0] == "TYPE" || f[0] == "HELP") {
				key := f[0] + " " + f[1]
				if seenMeta[key] || seenSample[f[1]] {
					continue
				}
				seenMeta[key] = true
			}
		} else if trim != "" {
			name := trim
			if i := strings.IndexAny(name, "{ \t"); i >= 0 {
				name = name[:i]
			}
			seenSample[name] = true
			for _, suf := range []string{"_sum", "_count", "_bucket"} {
				seenSample[strings.TrimSuffix(name, suf)] = true
			}
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scoring: read exposition: %w", err)
	}
	return out.Bytes(), nil
}

// ScrapeSourceOptions configures a ScrapeSource.
type ScrapeSourceOptions struct {
	// Client does the requests. Default: a client with a 10 s timeout.
	Client *http.Client
	// Header is added to every request (e.g. Authorization). Default none.
	Header http.Header
	// RateWindow is the time between the two scrapes that rates (CPU from
	// jiffies, error and load failure rates from counters) need. Default
	// 30 s.
	RateWindow time.Duration
	// Sleep waits d or until ctx ends. Default: a timer. Tests inject one
	// that advances a simulated cluster instead.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// MaxBodyBytes caps one /metrics response. Default 32 MiB.
	MaxBodyBytes int64
	// HistoryTolerance is how far before Now a Collect may ask and still
	// be served with a fresh scrape; earlier is ErrNoHistory. Default 5 min.
	HistoryTolerance time.Duration
}

// ScrapeSource reads StarRocks FE and BE /metrics endpoints directly: two
// scrapes RateWindow apart, from which it derives every dimension. A target
// is an FE when it exports starrocks_fe_* or jvm_* families, a BE when it
// exports starrocks_be_* families. The cluster argument of Collect only
// labels the result: the targets are the cluster. It is safe for concurrent
// use and starts no goroutines.
type ScrapeSource struct {
	targets []string
	o       ScrapeSourceOptions
}

var _ Source = (*ScrapeSource)(nil)

// NewScrapeSource returns a source scraping targets (full URLs of /metrics
// endpoints).
func NewScrapeSource(targets []string, opts *ScrapeSourceOptions) (*ScrapeSource, error) {
	if len(targets) == 0 {
		return nil, errors.New("scoring: scrape source needs at least one target")
	}
	var o ScrapeSourceOptions
	if opts != nil {
		o = *opts
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.RateWindow <= 0 {
		o.RateWindow = 30 * time.Second
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 32 << 20
	}
	if o.HistoryTolerance <= 0 {
		o.HistoryTolerance = 5 * time.Minute
	}
	return &ScrapeSource{targets: append([]string(nil), targets...), o: o}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Collect implements Source: it scrapes every target, waits RateWindow and
// scrapes again.
func (s *ScrapeSource) Collect(ctx context.Context, cluster string, at time.Time) (Metrics, error) {
	now := s.o.Now()
	if !at.IsZero() && at.Before(now.Add(-s.o.HistoryTolerance)) {
		return Metrics{}, fmt.Errorf("%w: a direct scrape cannot read %s", ErrNoHistory, at.UTC().Format(time.RFC3339))
	}
	first := s.scrapeAll(ctx)
	t0 := s.o.Now()
	if err := s.o.Sleep(ctx, s.o.RateWindow); err != nil {
		return Metrics{}, err
	}
	second := s.scrapeAll(ctx)
	t1 := s.o.Now()
	var notes []string
	ok := 0
	for _, t := range s.targets {
		if err := second[t].err; err != nil {
			notes = append(notes, fmt.Sprintf("target %s: %v", t, err))
			continue
		}
		ok++
	}
	if ok == 0 {
		return Metrics{}, fmt.Errorf("%w: %s", ErrScrape, strings.Join(notes, "; "))
	}
	m := Derive(s.targets, first.samples(), second.samples(), t1.Sub(t0))
	m.At = t1
	m.Source = "scrape"
	m.Notes = append(notes, m.Notes...)
	return m, nil
}

type scrapeResult struct {
	samples []Sample
	err     error
}

type scrapeSet map[string]scrapeResult

func (s scrapeSet) samples() map[string][]Sample {
	out := map[string][]Sample{}
	for t, r := range s {
		if r.err == nil {
			out[t] = r.samples
		}
	}
	return out
}

func (s *ScrapeSource) scrapeAll(ctx context.Context) scrapeSet {
	out := scrapeSet{}
	for _, t := range s.targets {
		samples, err := s.scrape(ctx, t)
		out[t] = scrapeResult{samples, err}
	}
	return out
}

func (s *ScrapeSource) scrape(ctx context.Context, target string) ([]Sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	for k, vs := range s.o.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1")
	resp, err := s.o.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	return ParseExposition(io.LimitReader(resp.Body, s.o.MaxBodyBytes))
}

// index is one target's samples by name.
type index map[string][]Sample

func newIndex(samples []Sample) index {
	ix := index{}
	for _, s := range samples {
		ix[s.Name] = append(ix[s.Name], s)
	}
	return ix
}

// get returns the value of the first sample of name whose labels include
// want (pairs of name, value).
func (ix index) get(name string, want ...string) (float64, bool) {
	for _, s := range ix[name] {
		match := true
		for i := 0; i+1 < len(want); i += 2 {
			if s.Labels[want[i]] != want[i+1] {
				match = false
				break
			}
		}
		if match {
			return s.Value, true
		}
	}
	return 0, false
}

// byLabel returns the values of name's samples by the value of label (the
// first sample of each value wins).
func (ix index) byLabel(name, label string) map[string]float64 {
	out := make(map[string]float64, len(ix[name]))
	for _, s := range ix[name] {
		if _, dup := out[s.Labels[label]]; !dup {
			out[s.Labels[label]] = s.Value
		}
	}
	return out
}

// sum returns the sum over every sample of name.
func (ix index) sum(name string) (float64, bool) {
	var v float64
	for _, s := range ix[name] {
		v += s.Value
	}
	return v, len(ix[name]) > 0
}

func (ix index) hasPrefix(prefixes ...string) bool {
	for name := range ix {
		for _, p := range prefixes {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
	}
	return false
}

// Derive computes the default dimensions from two scrapes of the targets
// taken elapsed apart (first may lack targets or be nil: then the rate
// dimensions are missing). It is what ScrapeSource does after scraping, and
// is exported for callers that scrape themselves.
func Derive(targets []string, first, second map[string][]Sample, elapsed time.Duration) Metrics {
	var m Metrics
	var fes, bes []string
	ix0, ix1 := map[string]index{}, map[string]index{}
	for _, t := range targets {
		s1, ok := second[t]
		if !ok {
			continue
		}
		ix1[t] = newIndex(s1)
		if s0, ok := first[t]; ok {
			ix0[t] = newIndex(s0)
		}
		if ix1[t].hasPrefix("starrocks_fe_", "jvm_") {
			fes = append(fes, t)
		}
		if ix1[t].hasPrefix("starrocks_be_") {
			bes = append(bes, t)
		}
	}
	noFE, noBE := "no FE target answered", "no BE target answered"
	rateReason := func(base string) string {
		if elapsed <= 0 {
			return base + "; rates need two samples"
		}
		return base
	}

	// CPU: per BE 100 x (1 - Δidle/Δtotal), mean over BEs.
	{
		var vals []float64
		reason := rateReason(noBE)
		for _, t := range bes {
			a, b := ix0[t], ix1[t]
			if a == nil {
				reason = "rates need two samples"
				continue
			}
			var dIdle, dTotal float64
			reset := false
			prevByMode := a.byLabel("starrocks_be_cpu", "mode")
			for _, s := range b["starrocks_be_cpu"] {
				mode := s.Labels["mode"]
				prev, ok := prevByMode[mode]
				if !ok {
					continue
				}
				delete(prevByMode, mode) // a repeated mode counts once
				d := s.Value - prev
				if d < 0 {
					reset = true
				}
				dTotal += d
				if mode == "idle" {
					dIdle += d
				}
			}
			switch {
			case reset:
				m.Notes = append(m.Notes, fmt.Sprintf("target %s: starrocks_be_cpu counter reset", t))
				reason = "counter reset"
			case dTotal > 0:
				vals = append(vals, 100*(1-dIdle/dTotal))
			default:
				reason = "starrocks_be_cpu did not advance"
			}
		}
		v, ok := mean(vals)
		m.set(DimCPU, v, ok, reason)
	}

	// FE heap: used / max, max over FEs.
	{
		var vals []float64
		for _, t := range fes {
			used, ok1 := ix1[t].get("jvm_heap_size_bytes", "type", "used")
			mx, ok2 := ix1[t].get("jvm_heap_size_bytes", "type", "max")
			if ok1 && ok2 && mx > 0 {
				vals = append(vals, 100*used/mx)
			}
		}
		v, ok := maxOf(vals)
		m.set(DimFEHeap, v, ok, reasonIf(len(fes) == 0, noFE, "jvm_heap_size_bytes{type=used|max} not exported"))
	}

	// Disk: (total - avail) / total per BE and path, max.
	{
		var vals []float64
		for _, t := range bes {
			availByPath := ix1[t].byLabel("starrocks_be_disks_avail_capacity", "path")
			for _, s := range ix1[t]["starrocks_be_disks_total_capacity"] {
				avail, ok := availByPath[s.Labels["path"]]
				if ok && s.Value > 0 {
					vals = append(vals, 100*(s.Value-avail)/s.Value)
				}
			}
		}
		v, ok := maxOf(vals)
		m.set(DimDisk, v, ok, reasonIf(len(bes) == 0, noBE, "starrocks_be_disks_{total,avail}_capacity not exported"))
	}

	// Compaction: per BE the max of the three max scores, mean over BEs.
	{
		var vals []float64
		for _, t := range bes {
			best, found := math.Inf(-1), false
			for _, n := range []string{"starrocks_be_tablet_base_max_compaction_score",
				"starrocks_be_tablet_cumulative_max_compaction_score",
				"starrocks_be_tablet_update_max_compaction_score"} {
				if v, ok := ix1[t].get(n); ok {
					best, found = math.Max(best, v), true
				}
			}
			if found {
				vals = append(vals, best)
			}
		}
		v, ok := mean(vals)
		m.set(DimCompaction, v, ok, reasonIf(len(bes) == 0, noBE, "starrocks_be_tablet_*_max_compaction_score not exported"))
	}

	// Latency P99: max over FEs, ms -> s.
	{
		var vals []float64
		for _, t := range fes {
			v, ok := ix1[t].get("starrocks_fe_query_latency_ms", "quantile", "0.99")
			if !ok {
				v, ok = ix1[t].get("starrocks_fe_query_latency", "type", "99_quantile")
			}
			if ok {
				vals = append(vals, v/1000)
			}
		}
		v, ok := maxOf(vals)
		m.set(DimLatencyP99, v, ok, reasonIf(len(fes) == 0, noFE, "starrocks_fe_query_latency_ms{quantile=0.99} not exported"))
	}

	// Counter ratios summed over FEs: error rate and load failure rate.
	ratio := func(dim, bad, other string, otherIsTotal bool) {
		var dBad, dAll float64
		n := 0
		reason := rateReason(noFE)
		for _, t := range fes {
			a, b := ix0[t], ix1[t]
			if a == nil {
				reason = "rates need two samples"
				continue
			}
			b1, ok1 := b.sum(bad)
			o1, ok2 := b.sum(other)
			b0, ok3 := a.sum(bad)
			o0, ok4 := a.sum(other)
			if !(ok1 && ok2 && ok3 && ok4) {
				reason = bad + " or " + other + " not exported"
				continue
			}
			if b1 < b0 || o1 < o0 {
				m.Notes = append(m.Notes, fmt.Sprintf("target %s: %s counter reset", t, bad))
				reason = "counter reset"
				continue
			}
			dBad += b1 - b0
			if otherIsTotal {
				dAll += o1 - o0
			} else {
				dAll += (o1 - o0) + (b1 - b0)
			}
			n++
		}
		if n == 0 {
			m.set(dim, 0, false, reason)
			return
		}
		if dAll == 0 {
			m.Notes = append(m.Notes, dim+": nothing happened between the two samples, rate taken as 0")
			m.set(dim, 0, true, "")
			return
		}
		m.set(dim, 100*dBad/dAll, true, "")
	}
	ratio(DimErrorRate, "starrocks_fe_query_err", "starrocks_fe_query_total", true)
	ratio(DimLoadFailureRate, "starrocks_fe_txn_failed", "starrocks_fe_txn_success", false)

	// Alive ratios from node_info, max over FEs (every FE reports the
	// cluster view).
	alive := func(dim, typ string) {
		var vals []float64
		for _, t := range fes {
			a, ok1 := ix1[t].get("node_info", "type", typ, "state", "alive")
			tot, ok2 := ix1[t].get("node_info", "type", typ, "state", "total")
			if ok1 && ok2 && tot > 0 {
				vals = append(vals, 100*a/tot)
			}
		}
		v, ok := maxOf(vals)
		m.set(dim, v, ok, reasonIf(len(fes) == 0, noFE, "node_info{type="+typ+"} not exported"))
	}
	alive(DimBEAlive, "be_node_num")
	alive(DimFEAlive, "fe_node_num")

	// Query queue pending, summed over FEs.
	{
		var total float64
		found := false
		for _, t := range fes {
			if v, ok := ix1[t].sum("starrocks_fe_query_queue_pending"); ok {
				total += v
				found = true
			}
		}
		m.set(DimQueuePending, total, found, reasonIf(len(fes) == 0, noFE, "starrocks_fe_query_queue_pending not exported"))
	}

	// BE memory and rowsets, max over BEs.
	{
		var mem, rows []float64
		for _, t := range bes {
			used, ok1 := ix1[t].get("starrocks_be_process_mem_bytes")
			lim, ok2 := ix1[t].get("starrocks_be_process_mem_limit_bytes")
			if ok1 && ok2 && lim > 0 {
				mem = append(mem, 100*used/lim)
			}
			if v, ok := ix1[t].get("starrocks_be_max_tablet_rowset_num"); ok {
				rows = append(rows, v)
			}
		}
		v, ok := maxOf(mem)
		m.set(DimBEMem, v, ok, reasonIf(len(bes) == 0, noBE, "starrocks_be_process_mem_{bytes,limit_bytes} not exported"))
		v, ok = maxOf(rows)
		m.set(DimRowsetNum, v, ok, reasonIf(len(bes) == 0, noBE, "starrocks_be_max_tablet_rowset_num not exported"))
	}
	return m
}

func reasonIf(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

func mean(v []float64) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v)), true
}

func maxOf(v []float64) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	m := v[0]
	for _, x := range v[1:] {
		m = math.Max(m, x)
	}
	return m, true
}
