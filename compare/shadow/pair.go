package shadow

import (
	"slices"
	"sync"

	"github.com/sqlshadow/sqlshadow/dataset"
)

// pairing is the window that pairs shadow records without the primary's
// outcome (no primary_* fields: the open-source StarRocks shadow proxy
// writes none) with the primary record of the same query_id. Every worker
// shares it; records are keyed by the 64-bit sampling hash of their
// query_id.
//
// A primary record waits in the window until a shadow record of its
// query_id comes; a shadow record without primary_* waits for its primary
// record; a shadow record that needs no partner (it carries primary_*, or it
// is filtered, dropped or diverged) but comes before its primary leaves a
// marker, so that the primary does not wait for nothing. Two records pair
// only when their timestamps are at most the window's duration apart.
//
// Memory is bounded in time and in entries. In time: when every object of
// the partition hours up to H is read, the entries older than H minus the
// window are given up, as unpaired (given that every record lies in the
// partition hour of its ts, as the sink writes them, their partner cannot
// come any more). In entries: when a shard holds its share of MaxPending,
// its oldest quarter is given up, and counted as overflow. Only the
// overflow depends on the order of the input.
type pairing struct {
	windowMicros int64
	maxPerShard  int
	shards       [pairShards]pairShard
}

const pairShards = 16

type pairShard struct {
	mu      sync.Mutex
	pending map[uint64]pending
}

type pendingKind uint8

const (
	// waitingPrimary: a primary record waits for its shadow record.
	waitingPrimary pendingKind = iota + 1
	// waitingShadow: a shadow record without primary_* waits for its
	// primary record.
	waitingShadow
	// settled: a shadow record that needed no partner came first.
	settled
)

// pending is one record waiting in the window.
type pending struct {
	ts      int64 // Unix microseconds
	kind    pendingKind
	primary primaryOutcome    // waitingPrimary
	shadow  *dataset.QueryLog // waitingShadow: a copy of the record
}

func newPairing(cfg *config) *pairing {
	p := &pairing{
		windowMicros: cfg.pairWindow.Microseconds(),
		maxPerShard:  max(cfg.maxPending/pairShards, 1),
	}
	for i := range p.shards {
		p.shards[i].pending = map[uint64]pending{}
	}
	return p
}

func (p *pairing) shard(h uint64) *pairShard { return &p.shards[h%pairShards] }

// near reports whether two timestamps are close enough to pair.
func (p *pairing) near(a, b int64) bool { return max(a-b, b-a) <= p.windowMicros }

// primary offers the primary record r (with key h and timestamp ts, already
// aggregated as a primary record) to the window: it completes a waiting
// shadow record, clears a marker, or waits.
func (p *pairing) primary(a *aggregate, r *dataset.QueryLog, h uint64, ts int64) {
	s := p.shard(h)
	s.mu.Lock()
	e, found := s.pending[h]
	switch {
	case !found:
		over := s.wait(h, pending{ts: ts, kind: waitingPrimary, primary: outcomeOf(r)}, p.maxPerShard)
		s.mu.Unlock()
		a.giveUp(over, true)
		return
	case e.kind == waitingPrimary:
		// A second primary record of the query id: the first one waits.
		s.mu.Unlock()
		return
	}
	delete(s.pending, h)
	s.mu.Unlock()
	if !p.near(e.ts, ts) {
		a.counts.UnpairedPrimary++
		if e.kind == waitingShadow {
			a.giveUp([]pending{e}, false)
		}
		return
	}
	if e.kind == waitingShadow {
		prim := outcomeOf(r)
		a.counts.PairedByQueryID++
		a.addShadow(e.shadow, h, e.ts, &prim)
	}
}

// shadow offers a shadow record without primary_* to the window: it pairs
// with its waiting primary record, or waits (as a copy).
func (p *pairing) shadow(a *aggregate, r *dataset.QueryLog, h uint64, ts int64) {
	s := p.shard(h)
	s.mu.Lock()
	e, found := s.pending[h]
	switch {
	case !found:
		over := s.wait(h, pending{ts: ts, kind: waitingShadow, shadow: waitingCopy(r)}, p.maxPerShard)
		s.mu.Unlock()
		a.giveUp(over, true)
		return
	case e.kind != waitingPrimary:
		// A second shadow record of the query id: it is not compared.
		s.mu.Unlock()
		a.counts.UnpairedShadow++
		a.addShadow(r, h, ts, nil)
		return
	}
	delete(s.pending, h)
	s.mu.Unlock()
	if !p.near(e.ts, ts) {
		a.counts.UnpairedPrimary++
		a.counts.UnpairedShadow++
		a.addShadow(r, h, ts, nil)
		return
	}
	a.counts.PairedByQueryID++
	a.addShadow(r, h, ts, &e.primary)
}

// settle tells the window that the shadow record of key h needs no
// partner: its waiting primary record stops waiting, or a marker is left
// for it.
func (p *pairing) settle(a *aggregate, h uint64, ts int64) {
	s := p.shard(h)
	s.mu.Lock()
	e, found := s.pending[h]
	switch {
	case !found:
		over := s.wait(h, pending{ts: ts, kind: settled}, p.maxPerShard)
		s.mu.Unlock()
		a.giveUp(over, true)
		return
	case e.kind != waitingPrimary:
		s.mu.Unlock()
		return
	}
	delete(s.pending, h)
	s.mu.Unlock()
	if !p.near(e.ts, ts) {
		a.counts.UnpairedPrimary++
	}
}

// waitingCopy copies a decoded shadow record to wait in the window: its
// strings may be kept, its pointer fields (reused by the decoder, and
// unused by the analysis of a shadow record without primary_*) are dropped.
func waitingCopy(r *dataset.QueryLog) *dataset.QueryLog {
	c := *r
	c.TTFBMS, c.ClientWaitMS, c.QueueMS = nil, nil, nil
	c.PrimaryDurationMS, c.PrimaryClientWaitMS, c.PrimaryRows = nil, nil, nil
	return &c
}

// wait puts e in the window under h, first evicting the oldest quarter of
// the shard's entries when it holds max; it returns the evicted entries. The
// caller holds s.mu.
func (s *pairShard) wait(h uint64, e pending, max int) []pending {
	var over []pending
	if len(s.pending) >= max {
		ts := make([]int64, 0, len(s.pending))
		for _, e := range s.pending {
			ts = append(ts, e.ts)
		}
		slices.Sort(ts)
		cut := ts[len(ts)/4]
		over = s.removeIf(func(e *pending) bool { return e.ts <= cut })
	}
	s.pending[h] = e
	return over
}

// removeIf removes the entries for which drop is true and returns them. The
// caller holds s.mu.
func (s *pairShard) removeIf(drop func(*pending) bool) []pending {
	var out []pending
	for h, e := range s.pending {
		if drop(&e) {
			out = append(out, e)
			delete(s.pending, h)
		}
	}
	return out
}

// expire gives up every entry older than cutoff (Unix microseconds).
func (p *pairing) expire(a *aggregate, cutoff int64) {
	p.giveUpIf(a, func(e *pending) bool { return e.ts < cutoff })
}

// flush gives up every entry left once all the input is read.
func (p *pairing) flush(a *aggregate) {
	p.giveUpIf(a, func(*pending) bool { return true })
}

// giveUpIf gives up the entries of every shard for which drop is true.
func (p *pairing) giveUpIf(a *aggregate, drop func(*pending) bool) {
	for i := range p.shards {
		s := &p.shards[i]
		s.mu.Lock()
		out := s.removeIf(drop)
		s.mu.Unlock()
		a.giveUp(out, false)
	}
}

// giveUp counts entries that leave the window unpaired; a shadow record is
// then aggregated without the primary's outcome. overflow marks entries
// evicted because the window was full.
func (a *aggregate) giveUp(entries []pending, overflow bool) {
	for i := range entries {
		e := &entries[i]
		switch e.kind {
		case waitingPrimary:
			a.counts.UnpairedPrimary++
		case waitingShadow:
			a.counts.UnpairedShadow++
			a.addShadow(e.shadow, sampleHash(a.cfg.seed, e.shadow.QueryID), e.ts, nil)
		default:
			continue
		}
		if overflow {
			a.counts.PairingOverflow++
		}
	}
}
