package replay

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/hashing"
	"github.com/sqlshadow/sqlshadow/sink"
)

// Shard selects the sessions one process of N replays: those whose session
// key hashes (FNV-1a, 64 bits) to I modulo N. The zero value takes every
// session.
type Shard struct{ I, N int }

// Contains reports whether the session belongs to the shard.
func (s Shard) Contains(session string) bool {
	if s.N <= 1 {
		return true
	}
	h := fnv.New64a()
	_, _ = io.WriteString(h, session)
	return h.Sum64()%uint64(s.N) == uint64(s.I)
}

// ParseShard parses "I/N" (0 <= I < N).
func ParseShard(v string) (Shard, error) {
	a, b, ok := strings.Cut(v, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("replay: shard %q: want I/N with 0 <= I < N", v)
	}
	return Shard{I: i, N: n}, nil
}

// Options configures a Runner.
type Options struct {
	// Primary is the first target (the primary, or the baseline); Shadow,
	// when set, the second (the shadow, or the candidate).
	Primary Target
	Shadow  *Target
	// Sink receives the query-log records of both sides (a sink.Writer of
	// dataset.QueryLogs), as the proxy writes them: one record per
	// statement per target, the shadow's carrying the primary's outcome
	// (primary_*). The Runner does not close it.
	Sink sink.Sink
	// Pacing. Speed > 0 replays at the recorded timing divided by Speed
	// (2 is twice as fast); Rate > 0 starts statements at a fixed rate
	// (statements per second, open loop). With neither, statements are
	// replayed as fast as the workers go (closed loop).
	Speed float64
	Rate  float64
	// Workers replay sessions in parallel: each session is served by one
	// worker, in order, on its own connections; a worker serves its
	// sessions one statement at a time. Default 8.
	Workers int
	// Repeat runs each statement this many times on both targets,
	// interleaved ABBA (primary then shadow, shadow then primary, ...),
	// each run a pair of records: for latency verdicts on a sample.
	// Default 1.
	Repeat int
	// Shard selects the sessions this process replays.
	Shard Shard
	// MaxSessions bounds the sessions (connection pairs) held open; the
	// least recently used is closed beyond it, and a later statement of it
	// reconnects (its database is restored, other session state is lost).
	// Default 1024.
	MaxSessions int
	// QueueLen bounds the statements waiting per worker. Default 64.
	QueueLen int
	// StatementTimeout bounds one statement on one target. Default 0: none.
	StatementTimeout time.Duration
	// RunID prefixes every query_id of the run. Default random.
	RunID string
	// Total is the number of statements expected, for Progress (0:
	// unknown).
	Total int64
	// Logger receives errors writing records. Default nil: discard.
	Logger *slog.Logger
}

// Stats are a run's counters.
type Stats struct {
	// Statements were read from the source for this shard; OtherShards
	// belonged to other shards.
	Statements, OtherShards int64
	// Primary and Shadow count statement runs and failures per target.
	Primary, Shadow TargetStats
	// WritesSkipped are runs of writes skipped on non-writable targets.
	WritesSkipped int64
	// Mismatches are runs where both targets answered and differ: one
	// failed, or the result hashes differ on a deterministic statement.
	Mismatches int64
	// Evicted sessions were closed to respect MaxSessions.
	Evicted int64
	// RecordErrors are query-log records the sink did not accept.
	RecordErrors int64
}

// TargetStats count one target's runs.
type TargetStats struct{ Runs, Failed int64 }

// Progress is a running replay's state.
type Progress struct {
	// Done statements of Total (0: unknown), and Errors among them (a
	// statement that failed on any target).
	Done, Total, Errors int64
	// Elapsed since Run started.
	Elapsed time.Duration
}

// Runner replays statements against one or two targets and records both
// sides in the query logs. Run may be called once; Progress is safe for
// concurrent use.
type Runner struct {
	o       Options
	started atomic.Int64 // unix nanos
	done    atomic.Int64
	errs    atomic.Int64

	mu    sync.Mutex
	stats Stats
}

// NewRunner returns a Runner; it checks the options and starts nothing.
func NewRunner(opts Options) (*Runner, error) {
	if opts.Primary.Addr == "" {
		return nil, errors.New("replay: no primary target")
	}
	if opts.Sink == nil {
		return nil, errors.New("replay: no sink")
	}
	if opts.Speed < 0 || opts.Rate < 0 || opts.Speed > 0 && opts.Rate > 0 {
		return nil, errors.New("replay: set at most one of Speed and Rate, positive")
	}
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.Repeat <= 0 {
		opts.Repeat = 1
	}
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = 1024
	}
	opts.MaxSessions = max(opts.MaxSessions, opts.Workers)
	if opts.QueueLen <= 0 {
		opts.QueueLen = 64
	}
	if opts.RunID == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		opts.RunID = hex.EncodeToString(b[:])
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{o: opts}, nil
}

// Progress returns the replay's progress so far.
func (r *Runner) Progress() Progress {
	p := Progress{Done: r.done.Load(), Total: r.o.Total, Errors: r.errs.Load()}
	if s := r.started.Load(); s != 0 {
		p.Elapsed = time.Since(time.Unix(0, s))
	}
	return p
}

// Run replays src's statements of this shard until src ends or ctx ends,
// then closes every connection and returns once every worker has returned.
// It returns ctx's error when ctx ended first (the statements in flight are
// interrupted, the ones queued are not run), or src's error. It does not
// close src.
func (r *Runner) Run(ctx context.Context, src Source) (Stats, error) {
	r.started.Store(time.Now().UnixNano())
	queues := make([]chan job, r.o.Workers)
	var wg sync.WaitGroup
	for i := range queues {
		queues[i] = make(chan job, r.o.QueueLen)
		w := &worker{r: r, id: i, sessions: map[string]*list.Element{}, lru: list.New(),
			max: max(1, r.o.MaxSessions/r.o.Workers), templates: hashing.NewTemplateCache(1024)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(ctx, queues[i])
		}()
	}
	err := r.dispatch(ctx, src, queues)
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		err = ctx.Err()
	}
	return r.stats, err
}

type job struct {
	st  Statement
	seq uint64
}

// dispatch reads src, paces, and hands each statement to its session's
// worker.
func (r *Runner) dispatch(ctx context.Context, src Source, queues []chan job) error {
	var seq uint64
	var base time.Time
	wall0 := time.Now()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		st, err := src.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if !r.o.Shard.Contains(st.Session) {
			r.add(func(s *Stats) { s.OtherShards++ })
			continue
		}
		r.add(func(s *Stats) { s.Statements++ })
		var due time.Time
		switch {
		case r.o.Speed > 0:
			if base.IsZero() {
				base = st.Time
			}
			due = wall0.Add(time.Duration(float64(st.Time.Sub(base)) / r.o.Speed))
		case r.o.Rate > 0:
			due = wall0.Add(time.Duration(float64(seq) / r.o.Rate * float64(time.Second)))
		}
		if wait := time.Until(due); !due.IsZero() && wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-timer.C:
			}
		}
		h := fnv.New32a()
		_, _ = io.WriteString(h, st.Session)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case queues[h.Sum32()%uint32(len(queues))] <- job{st, seq}:
		}
		seq++
	}
}

func (r *Runner) add(f func(*Stats)) {
	r.mu.Lock()
	f(&r.stats)
	r.mu.Unlock()
}

// worker serves the sessions that hash to it, one statement at a time.
type worker struct {
	r         *Runner
	id        int
	sessions  map[string]*list.Element // of *session
	lru       *list.List
	max       int
	nextID    uint64
	templates *hashing.TemplateCache
	rec       [2]dataset.QueryLog
}

type session struct {
	key      string
	id       uint64
	seq      uint64
	prim     conn
	shad     conn
	diverged bool
}

func (w *worker) run(ctx context.Context, q <-chan job) {
	defer func() {
		for e := w.lru.Front(); e != nil; e = e.Next() {
			s := e.Value.(*session)
			s.prim.close()
			s.shad.close()
		}
	}()
	for j := range q {
		if ctx.Err() != nil {
			continue // drain: the dispatcher stops sending
		}
		w.statement(ctx, w.session(j.st.Session), &j)
	}
}

// session returns the session of key, opening it (and closing the least
// recently used one beyond the bound).
func (w *worker) session(key string) *session {
	if e, ok := w.sessions[key]; ok {
		w.lru.MoveToFront(e)
		return e.Value.(*session)
	}
	if w.lru.Len() >= w.max {
		e := w.lru.Back()
		old := e.Value.(*session)
		old.prim.close()
		old.shad.close()
		w.lru.Remove(e)
		delete(w.sessions, old.key)
		w.r.add(func(s *Stats) { s.Evicted++ })
	}
	w.nextID++
	s := &session{key: key, id: w.nextID*uint64(w.r.o.Workers) + uint64(w.id)}
	s.prim.t = &w.r.o.Primary
	if w.r.o.Shadow != nil {
		s.shad.t = w.r.o.Shadow
	}
	w.sessions[key] = w.lru.PushFront(s)
	return s
}

// statement replays one statement Repeat times on the targets.
func (w *worker) statement(ctx context.Context, s *session, j *job) {
	o := &w.r.o
	st := &j.st
	readOnly, state := true, false
	for _, c := range hashing.ClassifyAll(st.Text) {
		readOnly = readOnly && c.ReadOnly()
		state = state || c.Flags.Has(hashing.FlagState)
	}
	runP := readOnly || o.Primary.Writable
	runS := o.Shadow != nil && (readOnly || o.Shadow.Writable)
	if !runP || o.Shadow != nil && !runS {
		w.r.add(func(x *Stats) {
			if !runP {
				x.WritesSkipped += int64(o.Repeat)
			}
			if o.Shadow != nil && !runS {
				x.WritesSkipped += int64(o.Repeat)
			}
		})
	}
	failed := false
	for i := 0; i < o.Repeat && ctx.Err() == nil; i++ {
		s.seq++
		var p, sh outcome
		shadowFirst := i%2 == 1
		if runS && shadowFirst {
			sh = s.shad.run(ctx, st, o.StatementTimeout)
		}
		if runP {
			p = s.prim.run(ctx, st, o.StatementTimeout)
		}
		if runS && !shadowFirst {
			sh = s.shad.run(ctx, st, o.StatementTimeout)
		}
		if ctx.Err() != nil {
			return // interrupted: the outcomes are not the servers'
		}
		id := o.RunID + "-" + strconv.Itoa(o.Shard.I) + "-" + strconv.FormatUint(j.seq, 10)
		if o.Repeat > 1 {
			id += "-" + strconv.Itoa(i)
		}
		if runP {
			failed = failed || !p.ok
			w.record(ctx, s, st, id, dataset.TargetPrimary, &p, nil)
		}
		if runS {
			failed = failed || !sh.ok
			var prim *outcome
			if runP {
				prim = &p
			}
			if runP && state && p.ok != sh.ok {
				s.diverged = true
			}
			w.record(ctx, s, st, id, dataset.TargetShadow, &sh, prim)
		}
		w.r.add(func(x *Stats) {
			if runP {
				x.Primary.Runs++
				if !p.ok {
					x.Primary.Failed++
				}
			}
			if runS {
				x.Shadow.Runs++
				if !sh.ok {
					x.Shadow.Failed++
				}
			}
			if runP && runS && mismatch(st.Text, &p, &sh) {
				x.Mismatches++
			}
		})
	}
	w.r.done.Add(1)
	if failed {
		w.r.errs.Add(1)
	}
}

// mismatch reports whether both sides answered differently: one failed, or
// both succeeded with different results on a deterministic statement.
func mismatch(text string, p, s *outcome) bool {
	if p.ok != s.ok {
		return true
	}
	if p.ok && p.result != s.result {
		nd, _ := hashing.NonDeterministic(text)
		return !nd
	}
	return false
}

// record writes one query-log record.
func (w *worker) record(ctx context.Context, s *session, st *Statement, id, target string, o *outcome, prim *outcome) {
	r := &w.rec[0]
	if target == dataset.TargetShadow {
		r = &w.rec[1]
	}
	*r = dataset.QueryLog{
		TS: sink.Time(o.start.UTC()), QueryID: id, Target: target, Command: "COM_QUERY",
		QueryText: st.Text, QueryHash: hashing.QueryHash(st.Text), TemplateHash: w.templates.TemplateHash(st.Text),
		Route: hashing.Tags(st.Text)["route"], Database: st.Database, User: st.User, ClientAddr: st.Session,
		ConnID: s.id, Seq: s.seq, DurationMS: ms(o.dur), ServerConnID: o.serverID, Success: o.ok,
		ErrorCode: o.code, SQLState: o.state, Error: o.msg, Rows: o.rows,
		ResultHash: o.result, ColumnsHash: o.columns, FloatCols: o.floats,
	}
	if target == dataset.TargetShadow {
		r.Diverged = s.diverged
		if prim != nil {
			d, ok, code, rows := ms(prim.dur), prim.ok, prim.code, prim.rows
			r.PrimaryDurationMS, r.PrimarySuccess, r.PrimaryErrorCode, r.PrimaryRows = &d, &ok, &code, &rows
			r.PrimaryResultHash, r.PrimaryColumnsHash = prim.result, prim.columns
		}
	}
	if err := w.r.o.Sink.Write(ctx, o.start, r); err != nil {
		w.r.add(func(x *Stats) { x.RecordErrors++ })
		w.r.o.Logger.Warn("replay: query-log record not written", "query_id", id, "target", target, "err", err)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
