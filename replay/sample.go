package replay

import (
	"context"
	"io"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/sqlshadow/sqlshadow/hashing"
)

// SampleOptions configures Sample.
type SampleOptions struct {
	// PerTemplate is the most statements kept per template hash. Default 5.
	PerTemplate int
	// MaxTemplates, when positive, keeps only the templates with the most
	// recorded execution time (statement count when durations are unknown).
	// Default 0: every template.
	MaxTemplates int
	// Seed makes the choice reproducible. Default 1.
	Seed uint64
}

// Coverage says how much of a workload a sample represents.
type Coverage struct {
	// Statements were read; Kept were sampled. StateDropped statements
	// (USE, SET, transactions, PREPARE...) were left out: on their own they
	// mean nothing.
	Statements, Kept, StateDropped int64
	// Templates were seen; TemplatesKept have at least one statement in
	// the sample.
	Templates, TemplatesKept int
	// RecordedTime is the recorded execution time of every statement read;
	// CoveredTime that of the statements of the kept templates.
	RecordedTime, CoveredTime time.Duration
}

// TimeShare returns CoveredTime / RecordedTime (1 when nothing was recorded).
func (c Coverage) TimeShare() float64 {
	if c.RecordedTime <= 0 {
		return 1
	}
	return float64(c.CoveredTime) / float64(c.RecordedTime)
}

// TemplateShare returns TemplatesKept / Templates.
func (c Coverage) TemplateShare() float64 {
	if c.Templates == 0 {
		return 1
	}
	return float64(c.TemplatesKept) / float64(c.Templates)
}

// Sample reads src to its end and keeps, per template hash, up to
// PerTemplate statements (at least one per kept template), chosen to cover
// the template's literal variety and its latency spread: the fastest and the
// slowest recorded statement are always kept when PerTemplate allows, and
// the rest are spread evenly over the latency order of a pool of distinct
// texts (query hashes) drawn by reservoir sampling. Statements that only
// change session state are left out. The sample is returned in start-time
// order. Memory is bounded by the number of templates times a pool of
// 4 x PerTemplate statements.
func Sample(ctx context.Context, src Source, opts *SampleOptions) ([]Statement, Coverage, error) {
	o := SampleOptions{PerTemplate: 5, Seed: 1}
	if opts != nil {
		if opts.PerTemplate > 0 {
			o.PerTemplate = opts.PerTemplate
		}
		o.MaxTemplates = opts.MaxTemplates
		if opts.Seed != 0 {
			o.Seed = opts.Seed
		}
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	poolCap := 4 * o.PerTemplate
	type tmpl struct {
		count    int64
		time     time.Duration
		min, max *Statement
		pool     []Statement
		hashes   map[string]bool
		distinct int64
	}
	byHash := map[string]*tmpl{}
	var order []string
	var cov Coverage
	cache := hashing.NewTemplateCache(4096)
	for {
		st, err := src.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, cov, err
		}
		cov.Statements++
		if isStateOnly(st.Text) {
			cov.StateDropped++
			continue
		}
		d := max(st.Duration, 0)
		cov.RecordedTime += d
		h := cache.TemplateHash(st.Text)
		t := byHash[h]
		if t == nil {
			t = &tmpl{hashes: map[string]bool{}}
			byHash[h] = t
			order = append(order, h)
		}
		t.count++
		t.time += d
		if t.min == nil || st.Duration < t.min.Duration {
			c := st
			t.min = &c
		}
		if t.max == nil || st.Duration > t.max.Duration {
			c := st
			t.max = &c
		}
		qh := hashing.QueryHash(st.Text)
		if t.hashes[qh] {
			continue
		}
		t.distinct++
		if len(t.pool) < poolCap {
			t.pool = append(t.pool, st)
			t.hashes[qh] = true
			continue
		}
		if j := rng.Int64N(t.distinct); j < int64(poolCap) {
			delete(t.hashes, hashing.QueryHash(t.pool[j].Text))
			t.pool[j] = st
			t.hashes[qh] = true
		}
	}
	cov.Templates = len(order)
	keep := order
	if o.MaxTemplates > 0 && len(order) > o.MaxTemplates {
		keep = append([]string(nil), order...)
		weight := func(t *tmpl) int64 {
			if cov.RecordedTime > 0 {
				return int64(t.time)
			}
			return t.count
		}
		sort.SliceStable(keep, func(i, j int) bool { return weight(byHash[keep[i]]) > weight(byHash[keep[j]]) })
		keep = keep[:o.MaxTemplates]
	}
	var out []Statement
	for _, h := range keep {
		t := byHash[h]
		cov.TemplatesKept++
		cov.CoveredTime += t.time
		out = append(out, pick(t.pool, t.min, t.max, o.PerTemplate)...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	cov.Kept = int64(len(out))
	return out, cov, nil
}

// pick chooses up to n statements: min and max first, then the pool spread
// evenly over its latency order, distinct texts only.
func pick(pool []Statement, minSt, maxSt *Statement, n int) []Statement {
	seen := map[string]bool{}
	var out []Statement
	add := func(st Statement) {
		if len(out) < n && !seen[st.Text] {
			seen[st.Text] = true
			out = append(out, st)
		}
	}
	add(*minSt)
	add(*maxSt)
	sorted := append([]Statement(nil), pool...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Duration < sorted[j].Duration })
	if rest := n - len(out); rest > 0 && len(sorted) > 0 {
		for k := 0; k < rest; k++ {
			i := 0
			if rest > 1 {
				i = k * (len(sorted) - 1) / (rest - 1)
			} else {
				i = len(sorted) / 2
			}
			add(sorted[i])
		}
		for _, st := range sorted { // fill gaps left by duplicates
			add(st)
		}
	}
	return out
}

// isStateOnly reports whether every statement of text only changes session
// state (USE, SET, transaction control, PREPARE/EXECUTE/DEALLOCATE).
func isStateOnly(text string) bool {
	sts := hashing.ClassifyAll(text)
	if len(sts) == 0 {
		return true
	}
	for _, s := range sts {
		switch s.Class {
		case hashing.ClassUse, hashing.ClassSet, hashing.ClassTransaction:
			continue
		}
		if s.Class == hashing.ClassOther && s.Flags.Has(hashing.FlagState) {
			continue
		}
		return false
	}
	return true
}
