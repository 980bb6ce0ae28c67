package shadow

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sqlshadow/sqlshadow/compare"
	"github.com/sqlshadow/sqlshadow/compare/stats"
)

// epsilonMS keeps log ratios finite for zero durations.
const epsilonMS = 1e-3

// groupResult is one group being turned into a GroupReport.
type groupResult struct {
	g   *groupAgg
	rep GroupReport
	// Observed ratio of medians (for small-sample noise).
	medianRatio float64
}

func sideStats(s *sideAgg, sample []sampleItem) SideStats {
	st := SideStats{Count: s.count, Errors: s.errors, Sampled: len(sample)}
	if s.count > 0 {
		st.ErrorRate = float64(s.errors) / float64(s.count)
	}
	if len(sample) > 0 {
		v := make([]float64, len(sample))
		for i, it := range sample {
			v[i] = it.a
		}
		slices.Sort(v)
		st.P50 = stats.Quantile(v, 0.50)
		st.P90 = stats.Quantile(v, 0.90)
		st.P95 = stats.Quantile(v, 0.95)
		st.P99 = stats.Quantile(v, 0.99)
	}
	return st
}

func itemValues(items []sampleItem, b bool) []float64 {
	v := make([]float64, len(items))
	for i, it := range items {
		if b {
			v[i] = it.b
		} else {
			v[i] = it.a
		}
	}
	return v
}

func safeRatio(num, den float64) float64 {
	return math.Max(num, epsilonMS) / math.Max(den, epsilonMS)
}

// histogram builds log-spaced bins over both samples.
func histogram(a, b []float64) *Histogram {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range [][]float64{a, b} {
		for _, v := range s {
			v = math.Max(v, epsilonMS)
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if math.IsInf(lo, 1) {
		return nil
	}
	const bins = 30
	if hi <= lo {
		hi = lo * 1.1
	}
	l0, l1 := math.Log(lo), math.Log(hi)*1.0000001+1e-12
	h := &Histogram{Edges: make([]float64, bins+1), Primary: make([]int, bins), Shadow: make([]int, bins)}
	for i := range h.Edges {
		h.Edges[i] = math.Exp(l0 + (l1-l0)*float64(i)/bins)
	}
	fill := func(s []float64, into []int) {
		for _, v := range s {
			i := int((math.Log(math.Max(v, epsilonMS)) - l0) / (l1 - l0) * bins)
			into[min(max(i, 0), bins-1)]++
		}
	}
	fill(a, h.Primary)
	fill(b, h.Shadow)
	return h
}

// testGroup computes a group's side statistics and its unadjusted tests.
func (cfg *config) testGroup(gr *groupResult) {
	g := gr.g
	label := groupLabel(g.key, g.isRoute)
	rep := &gr.rep
	rep.Label, rep.Key = label, g.key
	rep.KeyKind = "template"
	if g.isRoute {
		rep.KeyKind = "route"
	}
	if g.hasEx {
		rep.Example = g.example.query
	}
	rep.Filtered, rep.Dropped, rep.Diverged = g.filtered, g.dropped, g.diverged
	rep.ShadowOnlyFailures, rep.PrimaryOnlyFailures = g.shadowOnlyFailures, g.primaryOnlyFailures
	rng := rand.New(rand.NewPCG(cfg.seed, sampleHash(cfg.seed, label)))

	if cfg.ba != nil {
		before, after := g.before.sorted(), g.after.sorted()
		side := &g.shadow
		if cfg.ba.Target == "primary" {
			side = &g.primary
		}
		// Counts are per side, not per window: report them on the after
		// side only, with sample sizes per window.
		rep.Primary = sideStats(&sideAgg{}, before)
		rep.Shadow = sideStats(side, after)
		rep.Primary.Count, rep.Shadow.Count = int64(len(before)), int64(len(after))
		rep.Primary.Errors, rep.Primary.ErrorRate = 0, 0
		rep.Pairs, rep.Sampled = int64(min(len(before), len(after))), min(len(before), len(after))
		bv, av := itemValues(before, false), itemValues(after, false)
		rep.Histogram = histogram(bv, av)
		gr.medianRatio = safeRatio(rep.Shadow.P50, rep.Primary.P50)
		if len(before) < cfg.minPairs || len(after) < cfg.minPairs {
			return
		}
		mw := stats.MannWhitneyU(av, bv)
		rep.P50 = &QuantileTest{Test: "mann_whitney_u", N: mw.N, Ratio: gr.medianRatio, P: mw.P}
		return
	}

	prim, shad := g.primary.durations.sorted(), g.shadow.durations.sorted()
	rep.Primary = sideStats(&g.primary, prim)
	rep.Shadow = sideStats(&g.shadow, shad)
	rep.Histogram = histogram(itemValues(prim, false), itemValues(shad, false))
	pairs := g.pairs.sorted()
	rep.Pairs, rep.Sampled = g.pairsSeen, len(pairs)
	if len(pairs) == 0 {
		return
	}
	pv, sv := itemValues(pairs, false), itemValues(pairs, true)
	med := stats.Quantiles(pv, 0.5, 0.99)
	smed := stats.Quantiles(sv, 0.5, 0.99)
	gr.medianRatio = safeRatio(smed[0], med[0])
	if len(pairs) < cfg.minPairs {
		return
	}
	d := make([]float64, len(pairs))
	for i := range pairs {
		d[i] = math.Log(safeRatio(sv[i], pv[i]))
	}
	w := stats.WilcoxonSignedRank(d)
	rep.P50 = &QuantileTest{Test: "wilcoxon_signed_rank", N: len(pairs), Ratio: gr.medianRatio, P: w.P}
	if len(pairs) < cfg.minTail {
		return
	}
	pos := func(v []float64) []float64 {
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = math.Max(x, epsilonMS)
		}
		return out
	}
	reps := stats.BootstrapPairedQuantileLogRatio(rng, pos(pv), pos(sv), 0.99, cfg.resamples)
	lo, hi := stats.PercentileInterval(reps, 1-cfg.alpha)
	rep.P99 = &QuantileTest{
		Test: "bootstrap", N: len(pairs), Ratio: safeRatio(smed[1], med[1]),
		CILow: math.Exp(lo), CIHigh: math.Exp(hi), P: stats.BootstrapP(reps, 0),
	}
}

func (cfg *config) status(t *QuantileTest) string {
	switch {
	case t.PAdjusted < cfg.alpha && t.Ratio >= cfg.ratio:
		return StatusRegression
	case t.PAdjusted < cfg.alpha && t.Ratio <= 1/cfg.ratio:
		return StatusImprovement
	}
	return StatusNoChange
}

func statusRank(s string) int {
	switch s {
	case StatusRegression:
		return 0
	case StatusImprovement:
		return 1
	case StatusNoChange:
		return 2
	}
	return 3
}

func maxRatio(g *GroupReport) float64 {
	r := 0.0
	for _, t := range []*QuantileTest{g.P50, g.P99} {
		if t != nil {
			r = math.Max(r, math.Max(t.Ratio, 1/t.Ratio))
		}
	}
	return r
}

func buildReport(ctx context.Context, cfg *config, a *aggregate, objects int, profiles map[profileKey]*profileAgg) (*Report, error) {
	rep := &Report{
		Schema:      ReportSchema,
		GeneratedAt: cfg.now().UTC(),
		Mode:        "shadow",
		Window: ReportWindow{
			From: cfg.window.From.UTC(), To: cfg.window.To.UTC(), EffectiveTo: cfg.effectiveTo.UTC(),
			GraceSeconds: math.Max(cfg.grace.Seconds(), 0), Objects: objects,
		},
		Settings: ReportSettings{
			Ratio: cfg.ratio, Alpha: cfg.alpha, MinPairs: cfg.minPairs, MinTailPairs: cfg.minTail,
			Reservoir: cfg.reservoir, BootstrapResamples: cfg.resamples, Seed: cfg.seed,
		},
		Counts:            a.counts,
		Findings:          []Finding{},
		Groups:            []GroupReport{},
		Failures:          []FailureReport{},
		Mismatches:        []MismatchReport{},
		ColumnDifferences: []MismatchReport{},
		Noise:             []NoiseReport{},
	}
	if cfg.ba != nil {
		rep.Mode = "before_after"
		rep.Window = ReportWindow{From: minTime(cfg.ba.Before.From, cfg.ba.After.From).UTC(), To: maxTime(cfg.ba.Before.To, cfg.ba.After.To).UTC(), Objects: objects}
		rep.Window.EffectiveTo = rep.Window.To
		rep.Windows = &WindowsReport{
			Target:     cfg.ba.Target,
			BeforeFrom: cfg.ba.Before.From.UTC(), BeforeTo: cfg.ba.Before.To.UTC(),
			AfterFrom: cfg.ba.After.From.UTC(), AfterTo: cfg.ba.After.To.UTC(),
		}
	}
	if !cfg.window.To.IsZero() && cfg.effectiveTo.Before(cfg.window.To) && cfg.ba == nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("window end moved from %s to %s: the newest hour is analysed once it is complete (grace %s)",
			cfg.window.To.UTC().Format(time.RFC3339), cfg.effectiveTo.UTC().Format(time.RFC3339), cfg.grace))
	}
	if n := a.counts.PairingOverflow; n > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("pairing window full (%d records): %d records given up before their partner could come; raise Options.MaxPending",
			cfg.maxPending, n))
	}
	if a.counts.UntrackedQueries > 0 || a.counts.UntrackedMismatches > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("query-hash tracking limit (%d) reached: %d records and %d mismatches untracked",
			cfg.maxQueries, a.counts.UntrackedQueries, a.counts.UntrackedMismatches))
	}

	// Groups, tested in parallel.
	results := make([]*groupResult, 0, len(a.routes)+len(a.templates))
	for _, g := range a.routes {
		results = append(results, &groupResult{g: g})
	}
	for _, g := range a.templates {
		results = append(results, &groupResult{g: g})
	}
	sort.Slice(results, func(i, j int) bool {
		return groupLabel(results[i].g.key, results[i].g.isRoute) < groupLabel(results[j].g.key, results[j].g.isRoute)
	})
	var wg sync.WaitGroup
	work := make(chan *groupResult)
	for range cfg.parallelism {
		wg.Go(func() {
			for gr := range work {
				cfg.testGroup(gr)
			}
		})
	}
	for _, gr := range results {
		if ctx.Err() != nil {
			break
		}
		work <- gr
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	for _, gr := range results {
		pp, sp := profiles[profileKey{gr.rep.Label, 0}], profiles[profileKey{gr.rep.Label, 1}]
		if pp == nil && sp == nil {
			continue
		}
		gp := &GroupProfiles{}
		if pp != nil {
			gp.Primary = pp.stats()
		}
		if sp != nil {
			gp.Shadow = sp.stats()
		}
		gr.rep.Profiles = gp
	}

	// Benjamini-Hochberg across every group and quantile.
	var ps []float64
	var tests []*QuantileTest
	for _, gr := range results {
		for _, t := range []*QuantileTest{gr.rep.P50, gr.rep.P99} {
			if t != nil {
				ps = append(ps, t.P)
				tests = append(tests, t)
			}
		}
	}
	for i, adj := range stats.BenjaminiHochberg(ps) {
		tests[i].PAdjusted = adj
		tests[i].Status = cfg.status(tests[i])
	}
	tested := 0
	for _, gr := range results {
		g := &gr.rep
		switch {
		case g.P50 == nil:
			g.Status = StatusInsufficient
		default:
			tested++
			g.Status = StatusNoChange
			for _, t := range []*QuantileTest{g.P50, g.P99} {
				if t != nil && statusRank(t.Status) < statusRank(g.Status) {
					g.Status = t.Status
				}
			}
		}
		if g.Status == StatusInsufficient && gr.medianRatio > 0 && (gr.medianRatio >= cfg.ratio || gr.medianRatio <= 1/cfg.ratio) {
			n := g.Pairs
			if cfg.ba != nil {
				n = int64(g.Sampled)
			}
			rep.Noise = append(rep.Noise, NoiseReport{
				Kind: NoiseSmallSample, Group: g.Label, Count: n,
				Reason: fmt.Sprintf("median ratio %.2f from only %d pairs (the P50 test needs %d): not tested", gr.medianRatio, n, cfg.minPairs),
			})
		}
	}
	sort.SliceStable(results, func(i, j int) bool {
		gi, gj := &results[i].rep, &results[j].rep
		if ri, rj := statusRank(gi.Status), statusRank(gj.Status); ri != rj {
			return ri < rj
		}
		if ri, rj := maxRatio(gi), maxRatio(gj); ri != rj {
			return ri > rj
		}
		return gi.Pairs > gj.Pairs
	})
	for _, gr := range results {
		rep.Groups = append(rep.Groups, gr.rep)
	}
	for i := range rep.Groups {
		g := &rep.Groups[i]
		if g.Status != StatusRegression {
			continue
		}
		kind := FindingRegression
		if cfg.ba != nil {
			kind = FindingWindowRegression
			rep.Windows.Regressions++
		}
		rep.Findings = append(rep.Findings, Finding{Kind: kind, Group: g.Label, Title: regressionTitle(g, cfg.ba != nil), Evidence: regressionEvidence(g, cfg.ba != nil)})
	}

	if cfg.ba == nil {
		cfg.buildFailures(a, rep)
		cfg.buildMismatches(a, rep)
	}

	switch {
	case len(rep.Findings) > 0:
		rep.Outcome = compare.VerdictFail
	case tested > 0:
		rep.Outcome = compare.VerdictPass
	default:
		rep.Outcome = compare.VerdictInconclusive
	}
	rep.SummaryLine = findingsSummary(rep)
	return rep, nil
}

func regressionTitle(g *GroupReport, windows bool) string {
	var parts []string
	for _, q := range []struct {
		name string
		t    *QuantileTest
	}{{"P50", g.P50}, {"P99", g.P99}} {
		if q.t != nil && q.t.Status == StatusRegression {
			parts = append(parts, fmt.Sprintf("%s %.2fx", q.name, q.t.Ratio))
		}
	}
	where := "on the shadow"
	if windows {
		where = "in the after window"
	}
	return fmt.Sprintf("%s is slower %s: %s", g.Label, where, strings.Join(parts, ", "))
}

func regressionEvidence(g *GroupReport, windows bool) string {
	a, b := "primary", "shadow"
	if windows {
		a, b = "before", "after"
	}
	var parts []string
	if t := g.P50; t != nil {
		parts = append(parts, fmt.Sprintf("P50 %s %.3g ms vs %s %.3g ms (%s ratio %.2f, p=%.2g, adjusted p=%.2g, n=%d)",
			a, g.Primary.P50, b, g.Shadow.P50, t.Test, t.Ratio, t.P, t.PAdjusted, t.N))
	}
	if t := g.P99; t != nil {
		parts = append(parts, fmt.Sprintf("P99 %s %.3g ms vs %s %.3g ms (%s ratio %.2f, CI [%.2f, %.2f], adjusted p=%.2g, n=%d)",
			a, g.Primary.P99, b, g.Shadow.P99, t.Test, t.Ratio, t.CILow, t.CIHigh, t.PAdjusted, t.N))
	}
	if p := g.Profiles; p != nil && p.Primary.Count > 0 && p.Shadow.Count > 0 {
		parts = append(parts, "profiles: "+profileDelta(p))
	}
	return strings.Join(parts, "; ")
}

// profileDelta summarises where the time went on each side.
func profileDelta(p *GroupProfiles) string {
	var out []string
	for _, m := range []struct {
		name string
		a, b *float64
		unit string
	}{
		{"engine time", p.Primary.MeanDurationMS, p.Shadow.MeanDurationMS, " ms"},
		{"pending", p.Primary.MeanPendingMS, p.Shadow.MeanPendingMS, " ms"},
		{"CPU", p.Primary.MeanCPUMS, p.Shadow.MeanCPUMS, " ms"},
		{"scan rows", p.Primary.MeanScanRows, p.Shadow.MeanScanRows, ""},
		{"scan bytes", p.Primary.MeanScanBytes, p.Shadow.MeanScanBytes, ""},
		{"memory", p.Primary.MeanMemBytes, p.Shadow.MeanMemBytes, " B"},
		{"spill", p.Primary.MeanSpillBytes, p.Shadow.MeanSpillBytes, " B"},
	} {
		if m.a == nil || m.b == nil {
			continue
		}
		out = append(out, fmt.Sprintf("%s %.3g%s -> %.3g%s", m.name, *m.a, m.unit, *m.b, m.unit))
	}
	return fmt.Sprintf("mean per statement (%d vs %d profiles): %s", p.Primary.Count, p.Shadow.Count, strings.Join(out, ", "))
}

func toExample(x exampleRec, count int64) Example {
	return Example{
		QueryID: x.queryID, QueryHash: x.queryHash, Query: x.query, Error: x.errText,
		PrimaryResultHash: x.primResult, ShadowResultHash: x.shadResult, Count: count,
	}
}

func (cfg *config) buildFailures(a *aggregate, rep *Report) {
	for _, f := range a.failures {
		fr := FailureReport{ErrorCode: f.code, Count: f.count, Groups: []GroupCount{}, Examples: []Example{}}
		for g, n := range f.groups {
			fr.Groups = append(fr.Groups, GroupCount{Group: g, Count: n})
		}
		slices.SortFunc(fr.Groups, func(x, y GroupCount) int {
			return cmp.Or(cmp.Compare(y.Count, x.Count), strings.Compare(x.Group, y.Group))
		})
		for _, x := range f.examples.items {
			fr.Examples = append(fr.Examples, toExample(x, 0))
		}
		rep.Failures = append(rep.Failures, fr)
	}
	slices.SortFunc(rep.Failures, func(x, y FailureReport) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.ErrorCode, y.ErrorCode))
	})
	for _, fr := range rep.Failures {
		code := fr.ErrorCode
		var groups []string
		for i, g := range fr.Groups {
			if i == 3 {
				groups = append(groups, fmt.Sprintf("and %d more", len(fr.Groups)-3))
				break
			}
			groups = append(groups, fmt.Sprintf("%s (%d)", g.Group, g.Count))
		}
		ev := "in " + strings.Join(groups, ", ")
		if len(fr.Examples) > 0 {
			x := fr.Examples[0]
			ev += fmt.Sprintf("; e.g. %q: %s", x.Query, x.Error)
		}
		rep.Findings = append(rep.Findings, Finding{
			Kind: FindingShadowFailure, ErrorCode: &code,
			Title:    fmt.Sprintf("%d statements succeed on the primary and fail on the shadow with %s", fr.Count, errorCodeLabel(code)),
			Evidence: ev,
		})
	}
}

// buildMismatches classifies every mismatching query hash as a column
// difference, noise, or a real wrong answer, and aggregates by group.
func (cfg *config) buildMismatches(a *aggregate, rep *Report) {
	type acc struct {
		rep      MismatchReport
		examples []Example
	}
	real, cols := map[string]*acc{}, map[string]*acc{}
	type noiseKey struct{ kind, group, reason string }
	noise := map[noiseKey]*NoiseReport{}
	ms := make([]*mismatchAgg, 0, len(a.mismatches))
	for _, m := range a.mismatches {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(x, y *mismatchAgg) int {
		return cmp.Or(cmp.Compare(y.count, x.count), strings.Compare(x.queryHash, y.queryHash))
	})
	for _, m := range ms {
		label := groupLabel(m.groupKey, m.isRoute)
		st := a.queries[sampleHash(0, m.queryHash)]
		colsDiffer := false
		if m.colsKnown > 0 {
			colsDiffer = m.colsDiffer*2 > m.colsKnown
		} else if st.columns != 0 && st.columns != varies && m.shadowCols != 0 {
			colsDiffer = st.columns != m.shadowCols
		}
		ex := toExample(m.example, m.count)
		var into map[string]*acc
		var nk noiseKey
		switch {
		case colsDiffer:
			into = cols
		case m.nonDet:
			nk = noiseKey{NoiseNonDeterministic, label, "non-deterministic statement: " + m.nonDetReason}
		case st.result == varies:
			nk = noiseKey{NoisePrimaryVaries, label, "the primary answered the same query text differently across executions"}
		case m.floatCols:
			nk = noiseKey{NoiseFloatColumns, label, "the result has FLOAT/DOUBLE columns: the difference may be rounding"}
		default:
			into = real
		}
		if into != nil {
			ac := into[label]
			if ac == nil {
				ac = &acc{rep: MismatchReport{Group: label}}
				into[label] = ac
			}
			ac.rep.Count += m.count
			ac.rep.QueryHashes++
			if len(ac.examples) < cfg.examples {
				ac.examples = append(ac.examples, ex)
			}
			continue
		}
		nr := noise[nk]
		if nr == nil {
			nr = &NoiseReport{Kind: nk.kind, Group: nk.group, Reason: nk.reason}
			noise[nk] = nr
		}
		nr.Count += m.count
		if len(nr.Examples) < cfg.examples {
			nr.Examples = append(nr.Examples, ex)
		}
	}
	flatten := func(m map[string]*acc) []MismatchReport {
		out := []MismatchReport{}
		for _, ac := range m {
			ac.rep.Examples = ac.examples
			out = append(out, ac.rep)
		}
		slices.SortFunc(out, func(x, y MismatchReport) int {
			return cmp.Or(cmp.Compare(y.Count, x.Count), strings.Compare(x.Group, y.Group))
		})
		return out
	}
	rep.Mismatches = flatten(real)
	rep.ColumnDifferences = flatten(cols)
	for _, nr := range noise {
		rep.Noise = append(rep.Noise, *nr)
	}
	slices.SortFunc(rep.Noise, func(x, y NoiseReport) int {
		return cmp.Or(strings.Compare(x.Kind, y.Kind), strings.Compare(x.Group, y.Group), strings.Compare(x.Reason, y.Reason))
	})
	for _, m := range rep.Mismatches {
		ev := fmt.Sprintf("%d statements (%d distinct texts) with equal columns and different result hashes", m.Count, m.QueryHashes)
		if len(m.Examples) > 0 {
			x := m.Examples[0]
			ev += fmt.Sprintf("; e.g. %q: primary %s, shadow %s", x.Query, x.PrimaryResultHash, x.ShadowResultHash)
		}
		rep.Findings = append(rep.Findings, Finding{
			Kind: FindingResultMismatch, Group: m.Group,
			Title:    fmt.Sprintf("%s returns different answers on the shadow", m.Group),
			Evidence: ev,
		})
	}
	for _, m := range rep.ColumnDifferences {
		ev := fmt.Sprintf("%d statements (%d distinct texts) with different result columns", m.Count, m.QueryHashes)
		if len(m.Examples) > 0 {
			ev += fmt.Sprintf("; e.g. %q", m.Examples[0].Query)
		}
		rep.Findings = append(rep.Findings, Finding{
			Kind: FindingColumnDifference, Group: m.Group,
			Title:    fmt.Sprintf("%s returns different columns on the shadow", m.Group),
			Evidence: ev,
		})
	}
}
