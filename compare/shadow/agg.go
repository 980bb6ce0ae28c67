package shadow

import (
	"container/heap"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/hashing"
)

// sampleHash is FNV-1a 64 over s, seeded: the deterministic sampling key of
// every reservoir (so results do not depend on the order files are read in)
// and the compact identity of hashes kept in maps.
func sampleHash(seed uint64, s string) uint64 {
	h := uint64(14695981039346656037) ^ seed
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	// Final avalanche (splitmix64) so that the low bits are well mixed.
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// sampleItem is one sampled observation: its sampling key and up to two
// values (primary and shadow duration for a pair; one duration otherwise).
type sampleItem struct {
	h    uint64
	a, b float64
}

// hashSample is a bottom-k sample: it keeps the k items with the smallest
// keys. Because the keys are hashes of query ids, it is a uniform random
// sample of at most k items, the same whatever the order of the input, and
// two samples merge exactly.
type hashSample struct {
	k     int
	items maxHeap
}

type maxHeap []sampleItem

func (h maxHeap) Len() int           { return len(h) }
func (h maxHeap) Less(i, j int) bool { return h[i].h > h[j].h }
func (h maxHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *maxHeap) Push(x any)        { *h = append(*h, x.(sampleItem)) }
func (h *maxHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

func (s *hashSample) add(it sampleItem) {
	if len(s.items) < s.k {
		if len(s.items) == cap(s.items) {
			// Grow by doubling, but never past k: a full sample holds
			// exactly k items.
			grown := make(maxHeap, len(s.items), min(max(2*cap(s.items), 16), s.k))
			copy(grown, s.items)
			s.items = grown
		}
		heap.Push(&s.items, it)
		return
	}
	if s.k == 0 || it.h >= s.items[0].h {
		return
	}
	s.items[0] = it
	heap.Fix(&s.items, 0)
}

func (s *hashSample) merge(o *hashSample) {
	for _, it := range o.items {
		s.add(it)
	}
}

// sorted returns the items ordered by key (deterministic order).
func (s *hashSample) sorted() []sampleItem {
	out := append([]sampleItem(nil), s.items...)
	sort.Slice(out, func(i, j int) bool { return out[i].h < out[j].h })
	return out
}

// sideAgg accumulates one side (primary or shadow) of one group.
type sideAgg struct {
	count, errors int64
	durations     hashSample // successful commands only (a = duration)
}

func (s *sideAgg) merge(o *sideAgg) {
	s.count += o.count
	s.errors += o.errors
	s.durations.merge(&o.durations)
}

// exampleRec is one example statement kept for a report.
type exampleRec struct {
	h          uint64
	queryID    string
	queryHash  string
	query      string
	errText    string
	group      string
	primResult string
	shadResult string
}

// exampleSet keeps up to k examples with distinct query hashes, those
// with the smallest keys (deterministic).
type exampleSet struct {
	k     int
	items []exampleRec
}

func (e *exampleSet) wants(h uint64, queryHash string) bool {
	if e.k <= 0 {
		return false
	}
	for i := range e.items {
		if e.items[i].queryHash == queryHash {
			return h < e.items[i].h
		}
	}
	return len(e.items) < e.k || h < e.items[len(e.items)-1].h
}

func (e *exampleSet) add(x exampleRec) {
	for i := range e.items {
		if e.items[i].queryHash == x.queryHash {
			if x.h < e.items[i].h {
				e.items[i] = x
				e.sortItems()
			}
			return
		}
	}
	e.items = append(e.items, x)
	e.sortItems()
	if len(e.items) > e.k {
		e.items = e.items[:e.k]
	}
}

func (e *exampleSet) sortItems() {
	sort.Slice(e.items, func(i, j int) bool { return e.items[i].h < e.items[j].h })
}

func (e *exampleSet) merge(o *exampleSet) {
	for _, x := range o.items {
		e.add(x)
	}
}

// groupAgg accumulates one group (a route, or a template hash).
type groupAgg struct {
	key     string
	isRoute bool
	example exampleRec // a query of the group (smallest key)
	hasEx   bool

	primary, shadow sideAgg
	pairs           hashSample // a = primary ms, b = shadow ms
	pairsSeen       int64

	dropped, diverged, filtered int64
	shadowOnlyFailures          int64
	primaryOnlyFailures         int64

	// Before/after mode: durations of the chosen side in each window.
	before, after hashSample
}

func (g *groupAgg) merge(o *groupAgg) {
	if o.hasEx && (!g.hasEx || o.example.h < g.example.h) {
		g.example, g.hasEx = o.example, true
	}
	g.primary.merge(&o.primary)
	g.shadow.merge(&o.shadow)
	g.pairs.merge(&o.pairs)
	g.pairsSeen += o.pairsSeen
	g.dropped += o.dropped
	g.diverged += o.diverged
	g.filtered += o.filtered
	g.shadowOnlyFailures += o.shadowOnlyFailures
	g.primaryOnlyFailures += o.primaryOnlyFailures
	g.before.merge(&o.before)
	g.after.merge(&o.after)
}

// failureAgg accumulates the shadow-only failures of one error code.
type failureAgg struct {
	code     int64
	count    int64
	groups   map[string]int64 // group label -> count
	examples exampleSet
}

// mismatchAgg accumulates the result mismatches of one query hash.
type mismatchAgg struct {
	queryHash  string
	groupKey   string
	isRoute    bool
	count      int64
	floatCols  bool
	colsKnown  int64 // mismatches whose record carried primary_columns_hash
	colsDiffer int64 // ... and of those, with different columns
	shadowCols uint64
	example    exampleRec
	// Non-deterministic statement (decided once, on the full text).
	textSeen     bool
	nonDet       bool
	nonDetReason string
}

func (m *mismatchAgg) merge(o *mismatchAgg) {
	m.count += o.count
	m.floatCols = m.floatCols || o.floatCols
	if !m.textSeen && o.textSeen {
		m.textSeen, m.nonDet, m.nonDetReason = true, o.nonDet, o.nonDetReason
	}
	m.colsKnown += o.colsKnown
	m.colsDiffer += o.colsDiffer
	if o.example.h < m.example.h {
		m.example = o.example
		m.shadowCols = o.shadowCols
	}
}

// queryState is what the analysis remembers per query hash: the first
// primary result hash and primary column hash seen (hashed), with
// varies once a different one was seen.
type queryState struct {
	result  uint64
	columns uint64
}

const varies = ^uint64(0)

func mergeState(a, b uint64) uint64 {
	switch {
	case a == 0:
		return b
	case b == 0 || a == b:
		return a
	}
	return varies
}

// aggregate is one worker's aggregation state; workers' states merge.
type aggregate struct {
	cfg *config

	routes    map[string]*groupAgg
	templates map[string]*groupAgg

	failures   map[int64]*failureAgg
	mismatches map[string]*mismatchAgg
	queries    map[uint64]queryState
	execs      map[execKey]*execRange // profile join index

	// pairs is the pairing window, shared by every worker's aggregate.
	pairs *pairing
	// templateCache computes template hashes of records that carry none.
	templateCache *hashing.TemplateCache

	counts ReportCounts
}

func newAggregate(cfg *config, pairs *pairing) *aggregate {
	return &aggregate{
		cfg:           cfg,
		pairs:         pairs,
		templateCache: hashing.NewTemplateCache(4096),
		routes:        map[string]*groupAgg{},
		templates:     map[string]*groupAgg{},
		failures:      map[int64]*failureAgg{},
		mismatches:    map[string]*mismatchAgg{},
		queries:       map[uint64]queryState{},
		execs:         map[execKey]*execRange{},
	}
}

func (a *aggregate) newGroup(key string, isRoute bool) *groupAgg {
	k := a.cfg.reservoir
	return &groupAgg{
		key: key, isRoute: isRoute,
		primary: sideAgg{durations: hashSample{k: k}},
		shadow:  sideAgg{durations: hashSample{k: k}},
		pairs:   hashSample{k: k},
		before:  hashSample{k: k},
		after:   hashSample{k: k},
	}
}

func (a *aggregate) group(r *dataset.QueryLog) *groupAgg {
	if r.Route != "" {
		if g, ok := a.routes[r.Route]; ok {
			return g
		}
		g := a.newGroup(r.Route, true)
		a.routes[g.key] = g
		return g
	}
	key := r.TemplateHash
	if key == "" {
		// Commands without SQL (COM_PING, COM_INIT_DB, ...) group by
		// command, so the report names them.
		key = r.Command
	}
	if g, ok := a.templates[key]; ok {
		return g
	}
	g := a.newGroup(key, false)
	a.templates[g.key] = g
	return g
}

// truncateQuery keeps examples readable in reports.
func truncateQuery(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func (a *aggregate) example(r *dataset.QueryLog, h uint64, g *groupAgg) exampleRec {
	return exampleRec{
		h:         h,
		queryID:   r.QueryID,
		queryHash: r.QueryHash,
		query:     truncateQuery(r.QueryText, 500),
		errText:   truncateQuery(r.Error, 300),
		group:     groupLabel(g.key, g.isRoute),
	}
}

func groupLabel(key string, isRoute bool) string {
	if isRoute {
		return "route:" + key
	}
	return "template:" + key
}

func (a *aggregate) trackQuery(r *dataset.QueryLog, result, columns string) {
	if r.QueryHash == "" || (result == "" && columns == "") {
		return
	}
	k := sampleHash(0, r.QueryHash)
	st, ok := a.queries[k]
	if !ok && len(a.queries) >= a.cfg.maxQueries {
		a.counts.UntrackedQueries++
		return
	}
	// A prepared statement's executes share the query hash of its text but
	// bind other parameters: their answers differ by design, so they say
	// nothing about the primary varying (their columns still do).
	if result != "" && r.Command != "COM_STMT_EXECUTE" {
		st.result = mergeState(st.result, sampleHash(1, result)|1)
	}
	if columns != "" {
		st.columns = mergeState(st.columns, sampleHash(2, columns)|1)
	}
	a.queries[k] = st
}

// succeeded reports whether a record's command succeeded: success true and
// no error text. The open-source StarRocks shadow proxy writes success true
// on an ERR packet, with the message in error; the sqlshadow proxy writes
// an error only with success false.
func succeeded(r *dataset.QueryLog) bool { return r.Success && r.Error == "" }

// primaryOutcome is what a shadow record's comparison needs of the
// primary's outcome of the same command: from the shadow record's primary_*
// fields, or from the primary record paired with it by query_id.
type primaryOutcome struct {
	ok bool
	// hasDuration is false when a shadow record carried primary_success
	// without primary_duration_ms.
	hasDuration bool
	// serverMS is duration_ms minus client_wait_ms.
	serverMS                float64
	resultHash, columnsHash string
}

// carriedOutcome returns the primary's outcome a shadow record carries, if
// it carries one (primary_success is there).
func carriedOutcome(r *dataset.QueryLog) (primaryOutcome, bool) {
	if r.PrimarySuccess == nil {
		return primaryOutcome{}, false
	}
	o := primaryOutcome{ok: *r.PrimarySuccess, resultHash: r.PrimaryResultHash, columnsHash: r.PrimaryColumnsHash}
	if r.PrimaryDurationMS != nil {
		o.hasDuration, o.serverMS = true, *r.PrimaryDurationMS
		if r.PrimaryClientWaitMS != nil {
			o.serverMS -= *r.PrimaryClientWaitMS
		}
	}
	return o, true
}

// outcomeOf returns the outcome of a primary record.
func outcomeOf(r *dataset.QueryLog) primaryOutcome {
	return primaryOutcome{
		ok: succeeded(r), hasDuration: true, serverMS: serverMS(r),
		resultHash: r.ResultHash, columnsHash: r.ColumnsHash,
	}
}

// serverMS is a primary record's duration without the time spent blocked
// on a slow client.
func serverMS(r *dataset.QueryLog) float64 {
	if r.ClientWaitMS != nil {
		return r.DurationMS - *r.ClientWaitMS
	}
	return r.DurationMS
}

// add folds one decoded record into the aggregation; shadow records that do
// not carry the primary's outcome go through the pairing window first.
func (a *aggregate) add(r *dataset.QueryLog) {
	cfg := a.cfg
	a.counts.Records++
	if r.QueryHash == "" && r.QueryText != "" {
		r.QueryHash = hashing.QueryHash(r.QueryText)
	}
	if r.TemplateHash == "" && r.QueryText != "" {
		r.TemplateHash = a.templateCache.TemplateHash(r.QueryText)
	}
	if ba := cfg.beforeAfter; ba != nil {
		a.addBeforeAfter(r, ba)
		return
	}
	ts := time.Time(r.TS).UnixMicro()
	if cfg.fromMicros != 0 && ts < cfg.fromMicros || cfg.toMicros != 0 && ts >= cfg.toMicros {
		a.counts.OutOfWindow++
		return
	}
	h := sampleHash(cfg.seed, r.QueryID)
	switch r.Target {
	case dataset.TargetPrimary:
		a.addPrimary(r, h, ts)
		a.pairs.primary(a, r, h, ts)
	case dataset.TargetShadow:
		if needsPartner(r) {
			a.pairs.shadow(a, r, h, ts)
			return
		}
		a.pairs.settle(a, h, ts)
		prim, ok := carriedOutcome(r)
		var p *primaryOutcome
		if ok {
			p = &prim
		}
		a.addShadow(r, h, ts, p)
	default:
		a.counts.UnknownTarget++
	}
}

// needsPartner reports whether a shadow record is compared but does not
// carry the primary's outcome: it waits for the primary record of its
// query_id. Filtered, dropped and diverged records are never compared.
func needsPartner(r *dataset.QueryLog) bool {
	return r.PrimarySuccess == nil && !r.Filtered && !r.Dropped && !r.Diverged
}

// addPrimary folds a primary record (in the window) into the aggregation.
func (a *aggregate) addPrimary(r *dataset.QueryLog, h uint64, ts int64) {
	a.counts.Primary++
	g := a.group(r)
	a.sampleGroupExample(g, r, h)
	a.indexExec(r, 0, g, ts)
	g.primary.count++
	if !succeeded(r) {
		g.primary.errors++
		return
	}
	g.primary.durations.add(sampleItem{h: h, a: serverMS(r)})
	a.trackQuery(r, r.ResultHash, r.ColumnsHash)
}

// addShadow folds a shadow record (in the window) into the aggregation;
// prim is the primary's outcome of the same command, nil when unknown (the
// record is then counted, never compared).
func (a *aggregate) addShadow(r *dataset.QueryLog, h uint64, ts int64, prim *primaryOutcome) {
	a.counts.Shadow++
	g := a.group(r)
	switch {
	case r.Filtered:
		a.counts.Filtered++
		g.filtered++
		return
	case r.Dropped:
		a.counts.Dropped++
		g.dropped++
		return
	case r.Diverged:
		a.counts.Diverged++
		g.diverged++
		return
	}
	a.sampleGroupExample(g, r, h)
	a.indexExec(r, 1, g, ts)
	g.shadow.count++
	ok := succeeded(r)
	if ok {
		g.shadow.durations.add(sampleItem{h: h, a: r.DurationMS})
	} else {
		g.shadow.errors++
	}
	if prim == nil {
		return
	}
	switch {
	case prim.ok && ok:
		if prim.hasDuration {
			g.pairsSeen++
			a.counts.Paired++
			g.pairs.add(sampleItem{h: h, a: prim.serverMS, b: r.DurationMS})
		}
		if prim.resultHash != "" {
			a.trackQuery(r, prim.resultHash, "")
		}
		if r.ResultHash != "" && prim.resultHash != "" && r.ResultHash != prim.resultHash {
			a.addMismatch(r, h, g, prim)
		}
	case prim.ok && !ok:
		g.shadowOnlyFailures++
		a.addFailure(r, h, g)
	case !prim.ok && ok:
		g.primaryOnlyFailures++
		a.counts.PrimaryOnlyFailures++
	}
}

func (a *aggregate) sampleGroupExample(g *groupAgg, r *dataset.QueryLog, h uint64) {
	if r.QueryText != "" && (!g.hasEx || h < g.example.h) {
		g.example = exampleRec{h: h, queryID: r.QueryID, queryHash: r.QueryHash, query: truncateQuery(r.QueryText, 500)}
		g.hasEx = true
	}
}

func (a *aggregate) addFailure(r *dataset.QueryLog, h uint64, g *groupAgg) {
	a.counts.ShadowOnlyFailures++
	code := int64(r.ErrorCode)
	f, ok := a.failures[code]
	if !ok {
		f = &failureAgg{code: code, groups: map[string]int64{}, examples: exampleSet{k: a.cfg.examples}}
		a.failures[code] = f
	}
	f.count++
	f.groups[groupLabel(g.key, g.isRoute)]++
	if f.examples.wants(h, r.QueryHash) {
		f.examples.add(a.example(r, h, g))
	}
}

func (a *aggregate) addMismatch(r *dataset.QueryLog, h uint64, g *groupAgg, prim *primaryOutcome) {
	a.counts.Mismatches++
	m, ok := a.mismatches[r.QueryHash]
	if !ok {
		if len(a.mismatches) >= a.cfg.maxQueries {
			a.counts.UntrackedMismatches++
			return
		}
		m = &mismatchAgg{queryHash: r.QueryHash, groupKey: g.key, isRoute: g.isRoute, example: exampleRec{h: ^uint64(0)}}
		a.mismatches[m.queryHash] = m
	}
	m.count++
	m.floatCols = m.floatCols || r.FloatCols
	if !m.textSeen && r.QueryText != "" {
		m.textSeen = true
		m.nonDet, m.nonDetReason = a.cfg.nonDet(r.QueryText)
	}
	if prim.columnsHash != "" {
		m.colsKnown++
		if prim.columnsHash != r.ColumnsHash {
			m.colsDiffer++
		}
	}
	if h < m.example.h {
		ex := a.example(r, h, g)
		ex.primResult = prim.resultHash
		ex.shadResult = r.ResultHash
		m.example = ex
		m.shadowCols = 0
		if r.ColumnsHash != "" {
			m.shadowCols = sampleHash(2, r.ColumnsHash) | 1
		}
	}
}

// addBeforeAfter folds a record into the before/after samples.
func (a *aggregate) addBeforeAfter(r *dataset.QueryLog, ba *baWindows) {
	if r.Target != ba.target {
		return
	}
	if r.Filtered || r.Dropped || r.Diverged {
		switch {
		case r.Filtered:
			a.counts.Filtered++
		case r.Dropped:
			a.counts.Dropped++
		default:
			a.counts.Diverged++
		}
		return
	}
	ts := time.Time(r.TS).UnixMicro()
	var into func(g *groupAgg) *hashSample
	switch {
	case ts >= ba.beforeFrom && ts < ba.beforeTo:
		into = func(g *groupAgg) *hashSample { return &g.before }
	case ts >= ba.afterFrom && ts < ba.afterTo:
		into = func(g *groupAgg) *hashSample { return &g.after }
	default:
		a.counts.OutOfWindow++
		return
	}
	if ba.target == dataset.TargetPrimary {
		a.counts.Primary++
	} else {
		a.counts.Shadow++
	}
	g := a.group(r)
	h := sampleHash(a.cfg.seed, r.QueryID)
	a.sampleGroupExample(g, r, h)
	side := &g.shadow
	if ba.target == dataset.TargetPrimary {
		side = &g.primary
	}
	side.count++
	if !succeeded(r) {
		side.errors++
		return
	}
	d := r.DurationMS
	if ba.target == dataset.TargetPrimary {
		d = serverMS(r)
	}
	into(g).add(sampleItem{h: h, a: d})
}

// mergeMap folds src into dst: values under a key of both merge, the others
// move over.
func mergeMap[K comparable, V interface{ merge(V) }](dst, src map[K]V) {
	for k, v := range src {
		if mine, ok := dst[k]; ok {
			mine.merge(v)
		} else {
			dst[k] = v
		}
	}
}

// merge folds o into a; o must not be used afterwards.
func (a *aggregate) merge(o *aggregate) {
	mergeMap(a.routes, o.routes)
	mergeMap(a.templates, o.templates)
	for code, f := range o.failures {
		mine, ok := a.failures[code]
		if !ok {
			a.failures[code] = f
			continue
		}
		mine.count += f.count
		for g, n := range f.groups {
			mine.groups[g] += n
		}
		mine.examples.merge(&f.examples)
	}
	mergeMap(a.mismatches, o.mismatches)
	for k, st := range o.queries {
		mine, ok := a.queries[k]
		if !ok {
			a.queries[k] = st
			continue
		}
		a.queries[k] = queryState{
			result:  mergeState(mine.result, st.result),
			columns: mergeState(mine.columns, st.columns),
		}
	}
	a.mergeExecs(o)
	c := &a.counts
	oc := o.counts
	c.Records += oc.Records
	c.Malformed += oc.Malformed
	c.OutOfWindow += oc.OutOfWindow
	c.Primary += oc.Primary
	c.Shadow += oc.Shadow
	c.Paired += oc.Paired
	c.Filtered += oc.Filtered
	c.Dropped += oc.Dropped
	c.Diverged += oc.Diverged
	c.UnknownTarget += oc.UnknownTarget
	c.PrimaryOnlyFailures += oc.PrimaryOnlyFailures
	c.ShadowOnlyFailures += oc.ShadowOnlyFailures
	c.Mismatches += oc.Mismatches
	c.UntrackedQueries += oc.UntrackedQueries
	c.UntrackedMismatches += oc.UntrackedMismatches
	c.PairedByQueryID += oc.PairedByQueryID
	c.UnpairedPrimary += oc.UnpairedPrimary
	c.UnpairedShadow += oc.UnpairedShadow
	c.PairingOverflow += oc.PairingOverflow
}

// errorCodeLabel names an error code for reports.
func errorCodeLabel(code int64) string {
	if code == 0 {
		return "no error code"
	}
	return "error " + strconv.FormatInt(code, 10)
}
