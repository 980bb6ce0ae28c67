package shadow

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
)

// ProfilesDataset is the profile dataset the shadow analysis joins by
// default.
const ProfilesDataset = "profiles"

// shadowProfileTolerance widens the time range of an execution key: a
// profile's start may differ a little from the proxy's ts.
const profileToleranceMicros = 60_000_000

// execKey identifies the executions of one query text on one server
// connection of one side: the join key to profiles, with the time range.
type execKey struct {
	side   uint8 // 0 primary, 1 shadow
	connID int64
	query  uint64 // sampleHash(0, query_hash)
}

type execRange struct {
	groupKey    string
	isRoute     bool
	first, last int64
}

// indexExec records an execution for the profile join.
func (a *aggregate) indexExec(r *shadowLine, side uint8, g *groupAgg) {
	if !a.cfg.indexExecs || !r.hasConnID || len(r.queryHash) == 0 {
		return
	}
	k := execKey{side: side, connID: r.serverConnID, query: sampleHash(0, r.queryHash)}
	e, ok := a.execs[k]
	if !ok {
		if len(a.execs) >= a.cfg.maxQueries {
			a.counts.UntrackedQueries++
			return
		}
		a.execs[k] = &execRange{groupKey: g.key, isRoute: g.isRoute, first: r.tsMicros, last: r.tsMicros}
		return
	}
	e.first, e.last = min(e.first, r.tsMicros), max(e.last, r.tsMicros)
}

func (a *aggregate) mergeExecs(o *aggregate) {
	for k, e := range o.execs {
		if mine, ok := a.execs[k]; ok {
			mine.first, mine.last = min(mine.first, e.first), max(mine.last, e.last)
		} else {
			a.execs[k] = e
		}
	}
}

// shadowProfileLine is one decoded profile record.
type shadowProfileLine struct {
	tsMicros                                int64
	kind, cluster, queryHash                []byte
	connID                                  int64
	hasConnID                               bool
	duration, pending, cpuNs                float64
	scanRows, scanBytes, memBytes, spill    float64
	hasDur, hasPending, hasCPU, hasScanRows bool
	hasScanBytes, hasMem, hasSpill          bool
	line                                    shadowLine // scratch for strings
}

func decodeProfileLine(b []byte, r *shadowProfileLine) error {
	line := r.line
	line.reset()
	*r = shadowProfileLine{line: line}
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errShadowSyntax
	}
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) {
			return errShadowSyntax
		}
		if b[i] == '}' {
			return nil
		}
		if b[i] == ',' {
			i++
			continue
		}
		key, next, ok := scanRawString(b, i)
		if !ok || b[i] != '"' {
			return errShadowSyntax
		}
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return errShadowSyntax
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return errShadowSyntax
		}
		var err error
		var f float64
		switch string(key) {
		case "ts":
			var s []byte
			if s, i, err = r.line.str(b, i); err == nil && s != nil {
				r.tsMicros = parseTSMicros(s)
			}
		case "kind":
			r.kind, i, err = r.line.str(b, i)
		case "cluster":
			r.cluster, i, err = r.line.str(b, i)
		case "query_hash":
			r.queryHash, i, err = r.line.str(b, i)
		case "server_conn_id":
			f, r.hasConnID, i, err = num(b, i)
			r.connID = int64(f)
		case "duration_ms":
			r.duration, r.hasDur, i, err = num(b, i)
		case "pending_ms":
			r.pending, r.hasPending, i, err = num(b, i)
		case "cpu_cost_ns":
			r.cpuNs, r.hasCPU, i, err = num(b, i)
		case "scan_rows":
			r.scanRows, r.hasScanRows, i, err = num(b, i)
		case "scan_bytes":
			r.scanBytes, r.hasScanBytes, i, err = num(b, i)
		case "mem_cost_bytes":
			r.memBytes, r.hasMem, i, err = num(b, i)
		case "spill_bytes":
			r.spill, r.hasSpill, i, err = num(b, i)
		default:
			i, err = skipValue(b, i, 0)
		}
		if err != nil {
			return err
		}
	}
}

// profileAgg sums the joined profiles of one group and side.
type profileAgg struct {
	n    int64
	sums [7]float64 // duration, pending, cpu ns, scan rows, scan bytes, mem, spill
	ns   [7]int64
}

func (p *profileAgg) add(r *shadowProfileLine) {
	p.n++
	for i, v := range []struct {
		v  float64
		ok bool
	}{{r.duration, r.hasDur}, {r.pending, r.hasPending}, {r.cpuNs, r.hasCPU}, {r.scanRows, r.hasScanRows},
		{r.scanBytes, r.hasScanBytes}, {r.memBytes, r.hasMem}, {r.spill, r.hasSpill}} {
		if v.ok && v.v >= 0 {
			p.sums[i] += v.v
			p.ns[i]++
		}
	}
}

func (p *profileAgg) merge(o *profileAgg) {
	p.n += o.n
	for i := range p.sums {
		p.sums[i] += o.sums[i]
		p.ns[i] += o.ns[i]
	}
}

func (p *profileAgg) stats() ProfileStats {
	mean := func(i int) float64 {
		if p.ns[i] == 0 {
			return math.NaN()
		}
		return p.sums[i] / float64(p.ns[i])
	}
	st := ProfileStats{Count: p.n}
	st.MeanDurationMS = jsonFloat(mean(0))
	st.MeanPendingMS = jsonFloat(mean(1))
	st.MeanCPUMS = jsonFloat(mean(2) / 1e6)
	st.MeanScanRows = jsonFloat(mean(3))
	st.MeanScanBytes = jsonFloat(mean(4))
	st.MeanMemBytes = jsonFloat(mean(5))
	st.MeanSpillBytes = jsonFloat(mean(6))
	return st
}

// jsonFloat maps NaN (not reported) to nil.
func jsonFloat(v float64) *float64 {
	if math.IsNaN(v) {
		return nil
	}
	return &v
}

type profileKey struct {
	label string
	side  uint8
}

// joinProfiles reads the profile objects and attributes each statement
// profile to the group of the query-log executions it joins with on
// (side by cluster, server_conn_id, query_hash, time).
func (cfg *config) joinProfiles(ctx context.Context, a *aggregate, sources []shadowSource) (map[profileKey]*profileAgg, error) {
	workers := min(cfg.parallelism, max(len(sources), 1))
	results := make([]map[profileKey]*profileAgg, workers)
	counts := make([][3]int64, workers) // read, matched, unmatched
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		results[w] = map[profileKey]*profileAgg{}
		wg.Go(func() {
			var r shadowProfileLine
			for {
				i := int(next.Add(1)) - 1
				if i >= len(sources) || ctx.Err() != nil {
					return
				}
				rc, err := sources[i](ctx)
				if err != nil {
					errs[w] = err
					return
				}
				err = shadowReadLines(rc, func(b []byte) bool {
					if decodeProfileLine(b, &r) != nil {
						return true
					}
					if len(r.kind) > 0 && string(r.kind) != "statement" {
						return true
					}
					var side uint8
					switch string(r.cluster) {
					case cfg.primaryCluster:
					case cfg.shadowCluster:
						side = 1
					default:
						return true
					}
					counts[w][0]++
					e, ok := a.execs[execKey{side: side, connID: r.connID, query: sampleHash(0, r.queryHash)}]
					if !ok || !r.hasConnID || r.tsMicros < e.first-profileToleranceMicros || r.tsMicros > e.last+profileToleranceMicros {
						counts[w][2]++
						return true
					}
					counts[w][1]++
					k := profileKey{label: groupLabel(e.groupKey, e.isRoute), side: side}
					pa := results[w][k]
					if pa == nil {
						pa = &profileAgg{}
						results[w][k] = pa
					}
					pa.add(&r)
					return true
				})
				_ = rc.Close()
				if err != nil {
					errs[w] = fmt.Errorf("shadow: read profiles: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	total := results[0]
	for w, m := range results {
		a.counts.Profiles += counts[w][0]
		a.counts.ProfilesJoined += counts[w][1]
		if w == 0 {
			continue
		}
		for k, pa := range m {
			if mine, ok := total[k]; ok {
				mine.merge(pa)
			} else {
				total[k] = pa
			}
		}
	}
	return total, nil
}
