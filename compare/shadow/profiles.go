package shadow

import (
	"context"
	"encoding/json"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
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

// indexExec records an execution for the profile join. A server_conn_id of
// 0 is unknown (servers number connections from 1; the open-source
// StarRocks shadow proxy writes none).
func (a *aggregate) indexExec(r *dataset.QueryLog, side uint8, g *groupAgg, ts int64) {
	if !a.cfg.indexExecs || r.ServerConnID == 0 || r.QueryHash == "" {
		return
	}
	k := execKey{side: side, connID: int64(r.ServerConnID), query: sampleHash(0, r.QueryHash)}
	e, ok := a.execs[k]
	if !ok {
		if len(a.execs) >= a.cfg.maxQueries {
			a.counts.UntrackedQueries++
			return
		}
		a.execs[k] = &execRange{groupKey: g.key, isRoute: g.isRoute, first: ts, last: ts}
		return
	}
	e.first, e.last = min(e.first, ts), max(e.last, ts)
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

// profileAgg sums the joined profiles of one group and side.
type profileAgg struct {
	n    int64
	sums [7]float64 // duration, pending, cpu ns, scan rows, scan bytes, mem, spill
	ns   [7]int64
}

func (p *profileAgg) add(r *dataset.Profile) {
	p.n++
	i64 := func(v *int64) *float64 {
		if v == nil {
			return nil
		}
		f := float64(*v)
		return &f
	}
	for i, v := range [...]*float64{r.DurationMS, r.PendingMS, i64(r.CPUCostNs), i64(r.ScanRows),
		i64(r.ScanBytes), i64(r.MemCostBytes), i64(r.SpillBytes)} {
		if v != nil && *v >= 0 {
			p.sums[i] += *v
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
// (side by cluster, server_conn_id, query_hash, time). Objects and lines
// that cannot be read are counted in in.
func (cfg *config) joinProfiles(ctx context.Context, a *aggregate, sources []source, in *input) (map[profileKey]*profileAgg, error) {
	workers := min(cfg.parallelism, max(len(sources), 1))
	results := make([]map[profileKey]*profileAgg, workers)
	counts := make([][3]int64, workers) // read, matched, unmatched
	ins := make([]input, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		results[w] = map[profileKey]*profileAgg{}
		wg.Go(func() {
			var r dataset.Profile
			for {
				i := int(next.Add(1)) - 1
				if i >= len(sources) || ctx.Err() != nil {
					return
				}
				err := ins[w].eachLine(ctx, cfg, sources[i], func(line []byte) {
					r = dataset.Profile{}
					if json.Unmarshal(line, &r) != nil {
						ins[w].malformed++
						return
					}
					if r.Kind != "" && r.Kind != dataset.ProfileStatement {
						return
					}
					var side uint8
					switch r.Cluster {
					case cfg.primaryCluster:
					case cfg.shadowCluster:
						side = 1
					default:
						return
					}
					counts[w][0]++
					ts := time.Time(r.TS).UnixMicro()
					var connID int64
					if r.ServerConnID != nil {
						connID = *r.ServerConnID
					}
					e, ok := a.execs[execKey{side: side, connID: connID, query: sampleHash(0, r.QueryHash)}]
					if !ok || r.ServerConnID == nil || ts < e.first-profileToleranceMicros || ts > e.last+profileToleranceMicros {
						counts[w][2]++
						return
					}
					counts[w][1]++
					k := profileKey{label: groupLabel(e.groupKey, e.isRoute), side: side}
					pa := results[w][k]
					if pa == nil {
						pa = &profileAgg{}
						results[w][k] = pa
					}
					pa.add(&r)
				})
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	total := results[0]
	for w, m := range results {
		in.merge(&ins[w])
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
