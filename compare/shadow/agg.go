package shadow

import (
	"bytes"
	"container/heap"
	"sort"
	"strconv"
	"unicode/utf8"
)

// sampleHash is FNV-1a 64 over b, seeded: the deterministic sampling key of
// every reservoir (so results do not depend on the order files are read in)
// and the compact identity of hashes kept in maps.
func sampleHash(seed uint64, b []byte) uint64 {
	h := uint64(14695981039346656037) ^ seed
	for _, c := range b {
		h ^= uint64(c)
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

func (e *exampleSet) wants(h uint64, queryHash []byte) bool {
	if e.k <= 0 {
		return false
	}
	for i := range e.items {
		if e.items[i].queryHash == string(queryHash) {
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

	counts ReportCounts
}

func newAggregate(cfg *config) *aggregate {
	return &aggregate{
		cfg:        cfg,
		routes:     map[string]*groupAgg{},
		templates:  map[string]*groupAgg{},
		failures:   map[int64]*failureAgg{},
		mismatches: map[string]*mismatchAgg{},
		queries:    map[uint64]queryState{},
		execs:      map[execKey]*execRange{},
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

func (a *aggregate) group(r *shadowLine) *groupAgg {
	if len(r.route) > 0 {
		if g, ok := a.routes[string(r.route)]; ok {
			return g
		}
		g := a.newGroup(string(r.route), true)
		a.routes[g.key] = g
		return g
	}
	key := r.templateHash
	if len(key) == 0 {
		// Commands without SQL (COM_PING, COM_INIT_DB, ...) group by
		// command, so the report names them.
		key = r.command
	}
	if g, ok := a.templates[string(key)]; ok {
		return g
	}
	g := a.newGroup(string(key), false)
	a.templates[g.key] = g
	return g
}

// truncateQuery keeps examples readable in reports.
func truncateQuery(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return string(b[:cut]) + "…"
}

func (a *aggregate) example(r *shadowLine, h uint64, g *groupAgg) exampleRec {
	return exampleRec{
		h:         h,
		queryID:   string(r.queryID),
		queryHash: string(r.queryHash),
		query:     truncateQuery(r.queryText, 500),
		errText:   truncateQuery(r.errorText, 300),
		group:     groupLabel(g.key, g.isRoute),
	}
}

func groupLabel(key string, isRoute bool) string {
	if isRoute {
		return "route:" + key
	}
	return "template:" + key
}

func (a *aggregate) trackQuery(r *shadowLine, result, columns []byte) {
	if len(r.queryHash) == 0 || (len(result) == 0 && len(columns) == 0) {
		return
	}
	k := sampleHash(0, r.queryHash)
	st, ok := a.queries[k]
	if !ok && len(a.queries) >= a.cfg.maxQueries {
		a.counts.UntrackedQueries++
		return
	}
	// A prepared statement's executes share the query hash of its text but
	// bind other parameters: their answers differ by design, so they say
	// nothing about the primary varying (their columns still do).
	if len(result) > 0 && string(r.command) != "COM_STMT_EXECUTE" {
		st.result = mergeState(st.result, sampleHash(1, result)|1)
	}
	if len(columns) > 0 {
		st.columns = mergeState(st.columns, sampleHash(2, columns)|1)
	}
	a.queries[k] = st
}

// add folds one decoded record into the aggregation.
func (a *aggregate) add(r *shadowLine) {
	cfg := a.cfg
	a.counts.Records++
	if ba := cfg.beforeAfter; ba != nil {
		a.addBeforeAfter(r, ba)
		return
	}
	if cfg.fromMicros != 0 && r.tsMicros < cfg.fromMicros || cfg.toMicros != 0 && r.tsMicros >= cfg.toMicros {
		a.counts.OutOfWindow++
		return
	}
	switch string(r.target) {
	case "primary":
		a.counts.Primary++
		g := a.group(r)
		h := sampleHash(cfg.seed, r.queryID)
		a.sampleGroupExample(g, r, h)
		a.indexExec(r, 0, g)
		g.primary.count++
		if !r.success {
			g.primary.errors++
			return
		}
		g.primary.durations.add(sampleItem{h: h, a: r.durationMS - r.clientWaitMS})
		a.trackQuery(r, r.resultHash, r.columnsHash)
	case "shadow":
		a.counts.Shadow++
		g := a.group(r)
		switch {
		case r.filtered:
			a.counts.Filtered++
			g.filtered++
			return
		case r.dropped:
			a.counts.Dropped++
			g.dropped++
			return
		case r.diverged:
			a.counts.Diverged++
			g.diverged++
			return
		}
		h := sampleHash(cfg.seed, r.queryID)
		a.sampleGroupExample(g, r, h)
		a.indexExec(r, 1, g)
		g.shadow.count++
		if r.success {
			g.shadow.durations.add(sampleItem{h: h, a: r.durationMS})
		} else {
			g.shadow.errors++
		}
		if !r.hasPrimSuccess {
			return
		}
		switch {
		case r.primSuccess && r.success:
			if r.hasPrimDuration {
				g.pairsSeen++
				a.counts.Paired++
				g.pairs.add(sampleItem{h: h, a: r.primDuration - r.primWaitMS, b: r.durationMS})
			}
			if len(r.primResult) > 0 {
				a.trackQuery(r, r.primResult, nil)
			}
			if len(r.resultHash) > 0 && len(r.primResult) > 0 && !bytes.Equal(r.resultHash, r.primResult) {
				a.addMismatch(r, h, g)
			}
		case r.primSuccess && !r.success:
			g.shadowOnlyFailures++
			a.addFailure(r, h, g)
		case !r.primSuccess && r.success:
			g.primaryOnlyFailures++
			a.counts.PrimaryOnlyFailures++
		}
	default:
		a.counts.UnknownTarget++
	}
}

func (a *aggregate) sampleGroupExample(g *groupAgg, r *shadowLine, h uint64) {
	if len(r.queryText) > 0 && (!g.hasEx || h < g.example.h) {
		g.example = exampleRec{h: h, queryID: string(r.queryID), queryHash: string(r.queryHash), query: truncateQuery(r.queryText, 500)}
		g.hasEx = true
	}
}

func (a *aggregate) addFailure(r *shadowLine, h uint64, g *groupAgg) {
	a.counts.ShadowOnlyFailures++
	f, ok := a.failures[r.errorCode]
	if !ok {
		f = &failureAgg{code: r.errorCode, groups: map[string]int64{}, examples: exampleSet{k: a.cfg.examples}}
		a.failures[r.errorCode] = f
	}
	f.count++
	f.groups[groupLabel(g.key, g.isRoute)]++
	if f.examples.wants(h, r.queryHash) {
		f.examples.add(a.example(r, h, g))
	}
}

func (a *aggregate) addMismatch(r *shadowLine, h uint64, g *groupAgg) {
	a.counts.Mismatches++
	m, ok := a.mismatches[string(r.queryHash)]
	if !ok {
		if len(a.mismatches) >= a.cfg.maxQueries {
			a.counts.UntrackedMismatches++
			return
		}
		m = &mismatchAgg{queryHash: string(r.queryHash), groupKey: g.key, isRoute: g.isRoute, example: exampleRec{h: ^uint64(0)}}
		a.mismatches[m.queryHash] = m
	}
	m.count++
	m.floatCols = m.floatCols || r.floatCols
	if !m.textSeen && len(r.queryText) > 0 {
		m.textSeen = true
		m.nonDet, m.nonDetReason = a.cfg.nonDet(string(r.queryText))
	}
	if len(r.primColumns) > 0 {
		m.colsKnown++
		if !bytes.Equal(r.primColumns, r.columnsHash) {
			m.colsDiffer++
		}
	}
	if h < m.example.h {
		ex := a.example(r, h, g)
		ex.primResult = string(r.primResult)
		ex.shadResult = string(r.resultHash)
		m.example = ex
		m.shadowCols = 0
		if len(r.columnsHash) > 0 {
			m.shadowCols = sampleHash(2, r.columnsHash) | 1
		}
	}
}

// addBeforeAfter folds a record into the before/after samples.
func (a *aggregate) addBeforeAfter(r *shadowLine, ba *baWindows) {
	if string(r.target) != ba.target {
		return
	}
	if r.filtered || r.dropped || r.diverged {
		switch {
		case r.filtered:
			a.counts.Filtered++
		case r.dropped:
			a.counts.Dropped++
		default:
			a.counts.Diverged++
		}
		return
	}
	var into func(g *groupAgg) *hashSample
	switch {
	case r.tsMicros >= ba.beforeFrom && r.tsMicros < ba.beforeTo:
		into = func(g *groupAgg) *hashSample { return &g.before }
	case r.tsMicros >= ba.afterFrom && r.tsMicros < ba.afterTo:
		into = func(g *groupAgg) *hashSample { return &g.after }
	default:
		a.counts.OutOfWindow++
		return
	}
	if ba.target == "primary" {
		a.counts.Primary++
	} else {
		a.counts.Shadow++
	}
	g := a.group(r)
	h := sampleHash(a.cfg.seed, r.queryID)
	a.sampleGroupExample(g, r, h)
	side := &g.shadow
	if ba.target == "primary" {
		side = &g.primary
	}
	side.count++
	if !r.success {
		side.errors++
		return
	}
	d := r.durationMS
	if ba.target == "primary" {
		d -= r.clientWaitMS
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
}

// errorCodeLabel names an error code for reports.
func errorCodeLabel(code int64) string {
	if code == 0 {
		return "I/O error"
	}
	return "error " + strconv.FormatInt(code, 10)
}
