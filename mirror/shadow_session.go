package mirror

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/hashing"
	"github.com/sqlshadow/sqlshadow/mirror/internal/wire"
	"github.com/sqlshadow/sqlshadow/sink"
)

const (
	// entryOverhead is what a queued command costs beyond its bytes.
	entryOverhead = 160
	// State-changing commands that find the queue full still get in, within
	// this reserve per session, so that the shadow's state stays exact.
	reserveCommands = 256
	reserveBytes    = 256 << 10

	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// flushWaiter is a Flush call waiting until a session has finished the
// commands queued before it.
type flushWaiter struct {
	mark uint64
	done chan struct{}
}

// queued is one command waiting in a session's queue.
type queued struct {
	cmd        Command
	at         time.Time
	size       int64
	reserve    bool // admitted on the state reserve, outside the budget
	lostBefore bool // a state-changing command was dropped just before this one
	// resetLong: the shadow statement holds long data of an execute that
	// was dropped; it is reset before this command (of the same statement).
	resetLong bool
}

// longRound is one prepared statement's COM_STMT_SEND_LONG_DATA parts since
// its last execute or reset, as Submit admitted them: a round and its execute
// are mirrored together or not at all.
type longRound struct {
	queued  bool // a part is queued: the shadow statement will hold it
	dropped bool // a part was dropped: the other parts and the execute are too
	stale   bool // the shadow statement holds parts of a dropped execute
}

// shadowSession is the shadow side of one client connection: a bounded queue
// filled by Submit and one goroutine (run) that logs in, replays the queue
// on the shadow and writes the records.
type shadowSession struct {
	sh     *Shadow
	info   SessionInfo
	notify chan struct{}
	holder connHolder
	cur    atomic.Pointer[who] // the tracked database and user, for drop records

	mu           sync.Mutex
	q            []queued
	head         int
	bytes        int64
	reserveN     int
	reserveB     int64
	closed       bool
	closedAt     time.Time
	drainUntil   time.Time             // queued commands after it are logged as dropped
	long         map[uint32]*longRound // by primary statement id
	lostPending  bool
	closeAborted bool
	queuedN      uint64        // commands ever queued
	doneN        uint64        // of those, run or dropped, records handed to the sink
	flushes      []flushWaiter // Flush calls waiting for doneN to reach their mark
	ended        bool          // the run goroutine has returned

	// Owned by the run goroutine.
	st         *sessionState
	conn       *shadowConn
	connected  bool // ever logged in
	retryAt    time.Time
	backoff    time.Duration
	lastErr    error
	sticky     string // diverged until a reset or an exact rebuild, with the reason
	txDiverged bool   // diverged until the open transaction ends
	buf        []byte
	res        wire.Result
	fetchCols  []wire.Column // the open cursor's columns, while a fetch runs
}

func newShadowSession(sh *Shadow, info SessionInfo) *shadowSession {
	ss := &shadowSession{sh: sh, info: info, notify: make(chan struct{}, 1), st: newSessionState(&info)}
	ss.cur.Store(&who{db: info.Database, user: info.User})
	return ss
}

// Submit implements Session: it queues cmd, or drops it when the session's
// queue or the process-wide budget is full. It never blocks.
func (ss *shadowSession) Submit(cmd Command) bool {
	if cmd.Kind() == wire.ComQuit {
		return true
	}
	size := int64(len(cmd.Payload)+len(cmd.Query)) + entryOverhead
	o := &ss.sh.opts
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		ss.logDrop(&cmd, false, "session closed")
		return false
	}
	if why := ss.longDropped(&cmd); why != "" {
		ss.mu.Unlock()
		ss.logDrop(&cmd, false, why)
		return false
	}
	ok, reserve := false, false
	if len(ss.q)-ss.head < o.QueueCommands && ss.bytes+size <= o.QueueBytes && ss.sh.budget.take(size) {
		ok = true
	}
	stateful := false
	if !ok {
		stateful = mayChangeState(&cmd)
		if stateful && ss.reserveN < reserveCommands && ss.reserveB+size <= reserveBytes {
			ok, reserve = true, true
			ss.reserveN++
			ss.reserveB += size
		}
	}
	if ok {
		ss.q = append(ss.q, queued{cmd: cmd, at: time.Now(), size: size, reserve: reserve, lostBefore: ss.lostPending})
		ss.queuedN++
		ss.lostPending = false
		if !reserve {
			ss.bytes += size
		}
	}
	if ss.longAdmitted(&cmd, ok) {
		ss.q[len(ss.q)-1].resetLong = true
	}
	// A dropped state change, or a dropped write when writes are mirrored,
	// leaves the shadow different from the primary.
	lost := !ok && (stateful || o.MirrorWrites && mayWrite(&cmd))
	if lost {
		ss.lostPending = true
	}
	ss.mu.Unlock()
	if !ok {
		ss.logDrop(&cmd, lost, "queue full")
		return false
	}
	select {
	case ss.notify <- struct{}{}:
	default:
	}
	return true
}

// longDropped returns why cmd is dropped with the long data of its
// statement ("" when it is not): once a part of a round is dropped, its
// other parts and its execute are too. Called under ss.mu.
func (ss *shadowSession) longDropped(cmd *Command) string {
	kind := cmd.Kind()
	if kind != wire.ComStmtSendLongData && kind != wire.ComStmtExecute && kind != wire.ComStmtBulkExecute {
		return ""
	}
	lr := ss.long[cmd.StmtID]
	if lr == nil || !lr.dropped {
		return ""
	}
	if kind != wire.ComStmtSendLongData { // the round ends with its execute
		lr.dropped, lr.stale, lr.queued = false, lr.stale || lr.queued, false
	}
	return "queue full: a long data part of the statement was dropped"
}

// longAdmitted updates the statement's round after Submit decided on cmd
// (queued when ok), and reports whether the queued command must first reset
// the shadow statement's long data. Called under ss.mu.
func (ss *shadowSession) longAdmitted(cmd *Command, ok bool) (resetFirst bool) {
	kind := cmd.Kind()
	switch kind {
	case wire.ComResetConnection, wire.ComChangeUser:
		clear(ss.long)
		return false
	case wire.ComStmtClose:
		delete(ss.long, cmd.StmtID)
		return false
	case wire.ComStmtSendLongData:
		if ss.long == nil {
			ss.long = map[uint32]*longRound{}
		}
		if ss.long[cmd.StmtID] == nil {
			ss.long[cmd.StmtID] = &longRound{}
		}
	case wire.ComStmtExecute, wire.ComStmtBulkExecute, wire.ComStmtReset:
	default:
		return false
	}
	lr := ss.long[cmd.StmtID]
	if lr == nil {
		return false
	}
	switch kind {
	case wire.ComStmtSendLongData:
		lr.queued = lr.queued || ok
		lr.dropped = !ok
	case wire.ComStmtExecute, wire.ComStmtBulkExecute, wire.ComStmtReset:
		// The round ends: its parts are used (or discarded) when the
		// command runs; when it was dropped, the shadow keeps them.
		lr.stale = lr.stale || !ok && lr.queued
		lr.queued, lr.dropped = false, false
		if ok && kind == wire.ComStmtReset {
			lr.stale = false
			return false
		}
	}
	if ok && lr.stale {
		lr.stale = false
		return true
	}
	return false
}

// Close implements Session: the session stops taking commands, runs what is
// queued within the drain timeout, logs out and ends. It does not wait: the
// Shadow's Shutdown and Close join the session's goroutine.
func (ss *shadowSession) Close() error {
	ss.closeQueue(false)
	return nil
}

func (ss *shadowSession) closeQueue(abort bool) {
	ss.mu.Lock()
	if !ss.closed {
		ss.closed = true
		ss.closedAt = time.Now()
		ss.drainUntil = ss.closedAt.Add(ss.sh.opts.DrainTimeout)
	}
	if abort {
		ss.closeAborted = true
	}
	ss.mu.Unlock()
	select {
	case ss.notify <- struct{}{}:
	default:
	}
}

// interrupt closes the shadow connection under the session's goroutine
// (Shutdown's deadline passed).
func (ss *shadowSession) interrupt() {
	ss.closeQueue(true)
	ss.holder.interrupt()
}

// next returns the next queued command, waiting for one; ok is false once the
// session is closed and its queue empty.
func (ss *shadowSession) next() (it queued, ok bool) {
	for {
		ss.mu.Lock()
		if ss.head < len(ss.q) {
			it = ss.q[ss.head]
			ss.q[ss.head] = queued{}
			ss.head++
			if ss.head == len(ss.q) {
				ss.q, ss.head = ss.q[:0], 0
				if cap(ss.q) > 1024 {
					ss.q = nil
				}
			} else if ss.head > 1024 && ss.head > len(ss.q)/2 {
				n := copy(ss.q, ss.q[ss.head:])
				clear(ss.q[n:])
				ss.q, ss.head = ss.q[:n], 0
			}
			ss.mu.Unlock()
			return it, true
		}
		closed := ss.closed
		ss.mu.Unlock()
		if closed {
			return it, false
		}
		select {
		case <-ss.notify:
		case <-ss.sh.abort:
			ss.closeQueue(true)
		}
	}
}

// flushWait returns a channel closed once the commands queued so far are
// done, or nil when they are.
func (ss *shadowSession) flushWait() <-chan struct{} {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended || ss.doneN >= ss.queuedN {
		return nil
	}
	w := flushWaiter{mark: ss.queuedN, done: make(chan struct{})}
	ss.flushes = append(ss.flushes, w)
	return w.done
}

// release gives back a processed command's bytes and wakes the Flush calls
// it completes.
func (ss *shadowSession) release(it *queued) {
	ss.mu.Lock()
	if it.reserve {
		ss.reserveN--
		ss.reserveB -= it.size
	} else {
		ss.bytes -= it.size
	}
	ss.doneN++
	ss.wakeFlushes()
	ss.mu.Unlock()
	if !it.reserve {
		ss.sh.budget.give(it.size)
	}
}

// wakeFlushes closes the waiters whose commands are done (all of them once
// the session has ended). ss.mu is held.
func (ss *shadowSession) wakeFlushes() {
	kept := ss.flushes[:0]
	for _, w := range ss.flushes {
		if ss.ended || ss.doneN >= w.mark {
			close(w.done)
		} else {
			kept = append(kept, w)
		}
	}
	clear(ss.flushes[len(kept):])
	ss.flushes = kept
}

// stopping reports whether queued commands must be logged as dropped rather
// than run: Shutdown's deadline passed, or the drain timeout after Close.
func (ss *shadowSession) stopping() bool {
	select {
	case <-ss.sh.abort:
		return true
	default:
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.closeAborted || !ss.drainUntil.IsZero() && time.Now().After(ss.drainUntil)
}

// run is the session's goroutine.
func (ss *shadowSession) run() {
	defer func() {
		if ss.conn != nil {
			ss.conn.close(true)
			ss.conn = nil
		}
		ss.mu.Lock()
		ss.ended = true
		ss.wakeFlushes()
		ss.mu.Unlock()
	}()
	ss.connect()
	for {
		it, ok := ss.next()
		if !ok {
			return
		}
		if it.lostBefore {
			ss.st.lost = true
			ss.diverge("overflow")
		}
		if ss.stopping() {
			ss.logDrop(&it.cmd, false, "shutdown")
		} else {
			ss.process(&it)
		}
		ss.release(&it)
	}
}

// diverge marks the session diverged until a reset or an exact rebuild.
func (ss *shadowSession) diverge(reason string) {
	if ss.sticky == "" {
		ss.sh.metrics.divergences.WithLabelValues(reason).Inc()
		ss.sh.log.Info("mirror: shadow session diverged", "conn_id", ss.info.ConnID, "reason", reason)
	}
	ss.sticky = reason
}

func (ss *shadowSession) diverged() bool { return ss.sticky != "" || ss.txDiverged }

// connect logs in (unless backing off), then rebuilds the tracked state.
func (ss *shadowSession) connect() error {
	if ss.conn != nil {
		return nil
	}
	if time.Now().Before(ss.retryAt) {
		return fmt.Errorf("%w: %v", ErrShadowUnavailable, ss.lastErr)
	}
	ctx := ss.sh.runCtx
	c, err := ss.sh.dial(ctx, &ss.info, ss.st.user, ss.st.db, ss.holder.set)
	if err != nil && ss.st.db != "" && loginErrorCode(err) == errUnknownDatabase {
		c, err = ss.sh.dial(ctx, &ss.info, ss.st.user, "", ss.holder.set)
	}
	if err != nil {
		ss.holder.set(nil)
		ss.sh.metrics.logins.WithLabelValues("error").Inc()
		ss.lastErr = err
		ss.backoff = min(max(2*ss.backoff, minBackoff), maxBackoff)
		ss.retryAt = time.Now().Add(ss.backoff)
		ss.sh.log.Warn("mirror: shadow login failed", "conn_id", ss.info.ConnID, "err", err)
		if ss.connected {
			ss.diverge("connection")
		}
		return fmt.Errorf("%w: %v", ErrShadowUnavailable, err)
	}
	ss.sh.metrics.logins.WithLabelValues("ok").Inc()
	ss.backoff, ss.lastErr = 0, nil
	ss.conn = c
	rebuilt := ss.rebuild()
	if ss.conn == nil {
		return fmt.Errorf("%w: connection lost while rebuilding state", ErrShadowUnavailable)
	}
	switch {
	case !rebuilt:
		ss.diverge("replay")
	case ss.st.exact():
		ss.sticky = ""
	case ss.st.inTx && !ss.st.temp && !ss.st.lost:
		ss.sticky = "" // exact once the transaction ends
		if ss.connected {
			ss.txDiverged = true
			ss.sh.metrics.divergences.WithLabelValues("transaction").Inc()
		}
	default:
		if ss.connected {
			ss.diverge("state")
		}
	}
	ss.connected = true
	return nil
}

// rebuild replays the tracked state on a new connection. It reports false
// when part of it failed.
func (ss *shadowSession) rebuild() bool {
	st := ss.st
	ok := true
	if st.multi != nil {
		opt := byte(1)
		if *st.multi {
			opt = 0
		}
		if out, err := ss.internal([]byte{wire.ComSetOption, opt, 0}); err != nil || !out.Success {
			ok = false
		}
	}
	for _, q := range st.replay {
		out, err := ss.internal(append([]byte{wire.ComQuery}, q...))
		if err != nil {
			return false
		}
		if !out.Success {
			ss.sh.log.Info("mirror: shadow state replay failed", "conn_id", ss.info.ConnID, "statement", q, "error", out.Error)
			ok = false
		}
	}
	for _, p := range st.prepared {
		p.live = false
		if p.filtered != "" || p.failed != nil {
			continue
		}
		r, err := ss.roundTrip(append([]byte{wire.ComStmtPrepare}, p.query...), wire.ComStmtPrepare, time.Time{})
		if err != nil {
			return false
		}
		if !r.out.Success {
			o := r.out
			p.failed = &o
			ok = false
			continue
		}
		p.shadowID, p.live = r.stmtID, true
	}
	if st.inTx && st.txStmt != "" {
		if out, err := ss.internal(append([]byte{wire.ComQuery}, st.txStmt...)); err != nil || !out.Success {
			ok = false
		}
	}
	return ok
}

// internal runs a command of the shadow side's own (state replay), with the
// minimum deadline.
func (ss *shadowSession) internal(payload []byte) (Outcome, error) {
	r, err := ss.roundTrip(payload, payload[0], time.Time{})
	return r.out, err
}

// deadline returns the deadline of a command the primary ran in d.
func (ss *shadowSession) deadline(d time.Duration) time.Time {
	o := &ss.sh.opts
	limit := time.Duration(math.Min(float64(d)*o.DeadlineScale, float64(math.MaxInt64/2)))
	limit = max(limit, o.MinDeadline)
	t := time.Now().Add(limit)
	ss.mu.Lock()
	du := ss.drainUntil
	ss.mu.Unlock()
	if !du.IsZero() && du.Before(t) {
		t = du
	}
	return t
}

// roundTrip sends payload on the current connection and reads the response.
// An error means the connection was lost (and is closed); the caller marks
// the records. A zero deadline means the minimum deadline.
func (ss *shadowSession) roundTrip(payload []byte, kind byte, deadline time.Time) (response, error) {
	return ss.roundTripCursor(payload, kind, nil, deadline)
}

// roundTripCursor is roundTrip with the columns of an open cursor (fetch).
func (ss *shadowSession) roundTripCursor(payload []byte, kind byte, columns []wire.Column, deadline time.Time) (response, error) {
	if deadline.IsZero() {
		deadline = ss.deadline(0)
	}
	c := ss.conn
	if c == nil {
		return response{}, ErrShadowUnavailable
	}
	err := c.send(payload, deadline)
	var r response
	if err == nil {
		req := wire.Request{Cmd: kind, Columns: columns, CursorAsked: wire.ExecuteAsksCursor(payload)}
		r, err = ss.sh.readFn(c.wc, req, &ss.res)
	}
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			err = ErrShadowDeadline
		}
		ss.dropConn()
		return r, err
	}
	return r, nil
}

// dropConn closes the current connection; the next command reconnects and
// rebuilds the state.
func (ss *shadowSession) dropConn() {
	if ss.conn != nil {
		ss.conn.close(false)
		ss.conn = nil
		ss.holder.set(nil)
	}
}

// sampled decides whether a mirrorable command is sent, from its query id.
func (ss *shadowSession) sampled(cmd *Command) bool {
	rate := ss.sh.opts.SampleRate
	if rate >= 1 {
		return true
	}
	h := fnv.New64a()
	if cmd.QueryID != "" {
		_, _ = h.Write([]byte(cmd.QueryID))
	} else {
		_, _ = fmt.Fprintf(h, "%d/%d", ss.info.ConnID, cmd.Seq)
	}
	// FNV's high bits mix poorly on short keys: finish with splitmix64.
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11)/float64(1<<53) < rate
}

// filterReason applies the user's filters and sampling to a mirrorable,
// state-free command.
func (ss *shadowSession) filterReason(cmd *Command, text string) string {
	o := &ss.sh.opts
	if text != "" {
		if o.Include != nil && !o.Include.MatchString(text) {
			return "include"
		}
		if o.Exclude != nil && o.Exclude.MatchString(text) {
			return "exclude"
		}
	}
	if o.Filter != nil {
		if r := o.Filter(&ss.info, cmd); r != "" {
			return r
		}
	}
	if !ss.sampled(cmd) {
		return "sample"
	}
	return ""
}

// mayChangeState is the quick test Submit makes on a command it is about to
// drop.
func mayChangeState(cmd *Command) bool {
	switch cmd.Kind() {
	case wire.ComQuery:
		text := cmd.Query
		if text == "" && len(cmd.Payload) > 1 {
			text = string(cmd.Payload[1:])
		}
		for _, k := range classify(text) {
			if k.state && !k.global {
				return true
			}
		}
		return false
	case wire.ComStmtExecute, wire.ComStmtFetch, wire.ComFieldList, wire.ComPing, wire.ComStatistics:
		return false
	}
	return true
}

// mayWrite reports whether a command may write (it is about to be dropped).
func mayWrite(cmd *Command) bool {
	switch cmd.Kind() {
	case wire.ComQuery, wire.ComStmtExecute:
		for _, k := range classify(queryText(cmd)) {
			if k.write || k.global {
				return true
			}
		}
	}
	return false
}

// logDrop writes the record of a dropped command (from Submit or at
// shutdown).
func (ss *shadowSession) logDrop(cmd *Command, lostState bool, why string) {
	ss.sh.metrics.drops.Inc()
	ss.sh.metrics.commands.WithLabelValues("dropped").Inc()
	rec := ss.baseRecord(cmd, queryText(cmd), *ss.cur.Load(), 0)
	rec.QueueMS = nil
	rec.Dropped = true
	rec.Diverged = lostState
	rec.Error = "mirror: shadow command dropped: " + why
	ss.emit(cmd, rec)
}

// queryText is the SQL text of a command as the records show it.
func queryText(cmd *Command) string {
	if cmd.Query != "" {
		return cmd.Query
	}
	if (cmd.Kind() == wire.ComQuery || cmd.Kind() == wire.ComStmtPrepare) && len(cmd.Payload) > 1 {
		return string(cmd.Payload[1:])
	}
	return ""
}

// who is the session context of a record.
type who struct{ db, user string }

// who returns the tracked session context (run goroutine only).
func (ss *shadowSession) who() who { return who{db: ss.st.db, user: ss.st.user} }

// baseRecord fills the fields every shadow record has.
func (ss *shadowSession) baseRecord(cmd *Command, text string, w who, queue time.Duration) *dataset.QueryLog {
	r := &dataset.QueryLog{
		TS:         sink.Time(cmd.Received),
		QueryID:    cmd.QueryID,
		Target:     dataset.TargetShadow,
		Command:    wire.CommandName(cmd.Kind()),
		Database:   w.db,
		User:       w.user,
		ClientAddr: ss.info.ClientAddr,
		ConnID:     ss.info.ConnID,
		Seq:        cmd.Seq,
	}
	if r.TS == (sink.Time{}) {
		r.TS = sink.Time(time.Now())
	}
	if text != "" {
		if !ss.sh.opts.OmitQueryText {
			r.QueryText = text
		}
		r.QueryHash = hashing.QueryHash(text)
		r.TemplateHash = hashing.TemplateHash(text)
		r.Route = routeOf(text)
	}
	q := millis(queue)
	r.QueueMS = &q
	p := cmd.Primary
	pd, pw, ps, pc, pr := millis(p.Duration), millis(p.ClientWait), p.Success, p.ErrorCode, p.Rows
	r.PrimaryDurationMS, r.PrimaryClientWaitMS = &pd, &pw
	r.PrimarySuccess, r.PrimaryErrorCode, r.PrimaryRows = &ps, &pc, &pr
	r.PrimaryResultHash, r.PrimaryColumnsHash = p.ResultHash, p.ColumnsHash
	return r
}

func (ss *shadowSession) emit(cmd *Command, r *dataset.QueryLog) {
	if ss.sh.opts.Sink == nil {
		return
	}
	ts := cmd.Received
	if ts.IsZero() {
		ts = time.Time(r.TS)
	}
	if err := ss.sh.opts.Sink.Write(ss.sh.runCtx, ts, r); err != nil {
		ss.sh.metrics.logDrops.Inc()
	}
}
