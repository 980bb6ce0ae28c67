package mirror

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/mirror/internal/wire"
)

// Errors logged in shadow records (their text), for commands that the shadow
// side could not send.
var (
	errUnknownStmt   = errors.New("mirror: shadow: unknown prepared statement")
	errUnknownTypes  = errors.New("mirror: shadow: parameter types unknown (the execute that bound them was not seen)")
	errParamMismatch = errors.New("mirror: shadow: prepared statement has a different parameter count on the shadow")
)

// process runs one queued command on the shadow and logs its record. It runs
// on the session's goroutine only.
func (ss *shadowSession) process(it *queued) {
	cmd := &it.cmd
	queue := time.Since(it.at)
	ss.sh.metrics.lag.Observe(queue.Seconds())
	if it.resetLong {
		ss.resetLongData(cmd)
	}
	switch cmd.Kind() {
	case wire.ComQuery:
		ss.doQuery(cmd, queue)
	case wire.ComInitDB:
		ss.doInitDB(cmd, queue)
	case wire.ComStmtPrepare:
		ss.doPrepare(cmd, queue)
	case wire.ComStmtExecute:
		ss.doExecute(cmd, queue)
	case wire.ComStmtSendLongData, wire.ComStmtClose, wire.ComStmtReset, wire.ComStmtFetch:
		ss.doStmtOther(cmd, queue)
	case wire.ComResetConnection:
		ss.doReset(cmd, queue)
	case wire.ComChangeUser:
		ss.doChangeUser(cmd, queue)
	case wire.ComSetOption:
		ss.doSetOption(cmd, queue)
	case wire.ComPing, wire.ComFieldList, wire.ComStatistics:
		rec := ss.baseRecord(cmd, "", ss.who(), queue)
		if reason := ss.filterReason(cmd, ""); reason != "" {
			ss.filtered(cmd, rec, reason)
			return
		}
		ss.execute(cmd, rec, func() ([]byte, error) { return cmd.Payload, nil })
		ss.emit(cmd, rec)
	default:
		ss.filtered(cmd, ss.baseRecord(cmd, "", ss.who(), queue), "command")
	}
	w := ss.who()
	ss.cur.Store(&w)
}

// verdict sums up the statements of a command: a filter reason when it must
// not be mirrored as a whole ("never", "write"), and whether it changes state.
func (ss *shadowSession) verdict(kinds []stmtKind) (reason string, state bool) {
	write := false
	for i := range kinds {
		k := &kinds[i]
		switch {
		case k.global:
			reason = "never"
		case k.write:
			write = true
		}
		if k.state && !k.global {
			state = true
		}
	}
	if reason == "" && write && !ss.sh.opts.MirrorWrites {
		reason = "write"
	}
	return reason, state
}

func (ss *shadowSession) doQuery(cmd *Command, queue time.Duration) {
	text := queryText(cmd)
	kinds := classify(text)
	rec := ss.baseRecord(cmd, text, ss.who(), queue)
	reason, state := ss.verdict(kinds)
	if reason == "" && !state {
		reason = ss.filterReason(cmd, text)
	}
	if reason != "" {
		if state {
			ss.runStateParts(cmd, kinds)
		}
		ss.filtered(cmd, rec, reason)
		return
	}
	r, answered := ss.execute(cmd, rec, func() ([]byte, error) { return cmd.Payload, nil })
	if state {
		ss.track(cmd, kinds, answered && r.out.Success)
	}
	ss.emit(cmd, rec)
}

// track applies the state changes of a command that the primary ran; when
// the shadow did not run them too (shadowOK false), the session diverges.
func (ss *shadowSession) track(cmd *Command, kinds []stmtKind, shadowOK bool) {
	if !cmd.Primary.Success {
		if len(kinds) > 1 {
			// Some statements before the failing one may have applied.
			ss.st.lost = true
			ss.diverge("state")
		}
		return
	}
	for i := range kinds {
		if kinds[i].state {
			ss.st.apply(&kinds[i])
		}
	}
	if !ss.st.inTx {
		ss.txDiverged = false
	}
	if !shadowOK && ss.conn != nil {
		ss.diverge("state")
	}
}

// runStateParts runs the state-changing statements of a command that is
// otherwise filtered (for example "SET @a = 1; INSERT ..."), one by one.
func (ss *shadowSession) runStateParts(cmd *Command, kinds []stmtKind) {
	if !cmd.Primary.Success {
		ss.track(cmd, kinds, false)
		return
	}
	ok := true
	if ss.connect() == nil {
		for i := range kinds {
			k := &kinds[i]
			if !k.state || k.global || k.write {
				continue
			}
			out, err := ss.internal(append([]byte{wire.ComQuery}, k.text...))
			if err != nil {
				break // reconnecting replays the tracked state
			}
			if !out.Success {
				ok = false
			}
		}
	}
	ss.track(cmd, kinds, ok)
}

func (ss *shadowSession) doInitDB(cmd *Command, queue time.Duration) {
	rec := ss.baseRecord(cmd, queryText(cmd), ss.who(), queue)
	r, answered := ss.execute(cmd, rec, func() ([]byte, error) { return cmd.Payload, nil })
	if cmd.Primary.Success {
		ss.st.db = string(cmd.Payload[1:])
		if answered && !r.out.Success {
			ss.diverge("state")
		}
	}
	ss.emit(cmd, rec)
}

func (ss *shadowSession) doPrepare(cmd *Command, queue time.Duration) {
	text := queryText(cmd)
	kinds := classify(text)
	rec := ss.baseRecord(cmd, text, ss.who(), queue)
	p := &prepared{query: text, kinds: kinds, numParams: cmd.Primary.NumParams}
	p.filtered, p.state = ss.verdict(kinds)
	keep := func() {
		if cmd.Primary.Success {
			ss.st.prepared[cmd.StmtID] = p
			ss.st.lastPrepared = cmd.StmtID
		}
	}
	if p.filtered != "" {
		keep()
		ss.filtered(cmd, rec, p.filtered)
		return
	}
	r, answered := ss.execute(cmd, rec, func() ([]byte, error) { return cmd.Payload, nil })
	switch {
	case !cmd.Primary.Success:
		if answered && r.out.Success && ss.conn != nil {
			// Prepared on the shadow only: do not leak it.
			if err := ss.conn.send(closePayload(r.stmtID), ss.deadline(0)); err != nil {
				ss.dropConn()
			}
		}
	case answered && r.out.Success:
		p.shadowID, p.live = r.stmtID, true
		if r.numParams != p.numParams {
			o := Outcome{Error: errParamMismatch.Error()}
			p.failed = &o
		}
	case answered:
		o := r.out
		p.failed = &o
	}
	keep()
	ss.emit(cmd, rec)
}

func closePayload(id uint32) []byte {
	p := []byte{wire.ComStmtClose, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(p[1:], id)
	return p
}

// stmtFor returns the prepared statement a COM_STMT_* command names.
func (ss *shadowSession) stmtFor(cmd *Command) (uint32, *prepared) {
	id, ok := stmtIDOf(cmd.Payload)
	if !ok {
		return 0, nil
	}
	id = ss.st.resolve(id)
	return id, ss.st.prepared[id]
}

// failNotSent logs a command that was not sent because of out (a PREPARE
// that failed on the shadow only) or err.
func (ss *shadowSession) failNotSent(cmd *Command, rec *dataset.QueryLog, out *Outcome, err error) {
	rec.Success = false
	rec.Diverged = rec.Diverged || ss.diverged()
	if ss.conn != nil {
		rec.ServerConnID = ss.conn.connID
	}
	if out != nil {
		rec.ErrorCode, rec.SQLState, rec.Error = out.ErrorCode, out.SQLState, out.Error
	} else {
		rec.Error = err.Error()
		rec.Diverged = true
	}
	ss.sh.metrics.commands.WithLabelValues("failed").Inc()
	ss.sh.metrics.errorCode(rec.ErrorCode)
	ss.emit(cmd, rec)
}

func (ss *shadowSession) doExecute(cmd *Command, queue time.Duration) {
	_, p := ss.stmtFor(cmd)
	text := cmd.Query
	if p != nil && text == "" {
		text = p.query
	}
	rec := ss.baseRecord(cmd, text, ss.who(), queue)
	if p == nil {
		ss.failNotSent(cmd, rec, nil, errUnknownStmt)
		return
	}
	if _, types, _, ok := executeLayout(cmd.Payload, p.numParams); ok && types != nil {
		p.types = append(p.types[:0], types...)
	}
	if p.filtered != "" {
		p.execSent = false
		ss.filtered(cmd, rec, p.filtered)
		return
	}
	if p.failed != nil {
		ss.failNotSent(cmd, rec, p.failed, nil)
		return
	}
	if !p.state {
		if reason := ss.filterReason(cmd, text); reason != "" {
			if p.longData && p.live && ss.conn != nil {
				// The shadow holds long data for an execute it will not see.
				_, _ = ss.internal(withStmtID(nil, []byte{wire.ComStmtReset, 0, 0, 0, 0}, p.shadowID))
			}
			p.longData, p.execSent = false, false
			ss.filtered(cmd, rec, reason)
			return
		}
	}
	var notSent *Outcome
	r, answered := ss.execute(cmd, rec, func() ([]byte, error) {
		if p.failed != nil { // the rebuild could not prepare it
			notSent = p.failed
			return nil, errNotSent
		}
		b, ok := rewriteExecute(ss.buf, cmd.Payload, p.shadowID, p.numParams, p.types)
		if !ok {
			return nil, errUnknownTypes
		}
		ss.buf = b
		return b, nil
	})
	if notSent != nil {
		ss.failNotSent(cmd, rec, notSent, nil)
		return
	}
	p.longData, p.execSent = false, answered
	p.cursorCols = nil
	if answered && r.cursor {
		p.cursorCols = r.columns
	}
	if p.state {
		ss.track(cmd, p.kinds, answered && r.out.Success)
	}
	ss.emit(cmd, rec)
}

// resetLongData discards the long data the shadow statement of cmd holds
// for an execute that was dropped, before cmd runs.
func (ss *shadowSession) resetLongData(cmd *Command) {
	_, p := ss.stmtFor(cmd)
	if p == nil || !p.longData {
		return
	}
	if p.live && ss.conn != nil {
		_, _ = ss.internal(withStmtID(nil, []byte{wire.ComStmtReset, 0, 0, 0, 0}, p.shadowID))
	}
	p.longData = false
}

// errNotSent tells execute that the builder logged the command itself.
var errNotSent = errors.New("mirror: not sent")

func (ss *shadowSession) doStmtOther(cmd *Command, queue time.Duration) {
	kind := cmd.Kind()
	id, p := ss.stmtFor(cmd)
	text := cmd.Query
	if p != nil && text == "" {
		text = p.query
	}
	rec := ss.baseRecord(cmd, text, ss.who(), queue)
	if p == nil {
		ss.filtered(cmd, rec, "unknown-statement")
		return
	}
	if kind == wire.ComStmtClose {
		delete(ss.st.prepared, id)
		if p.live && ss.conn != nil {
			ss.execute(cmd, rec, func() ([]byte, error) {
				ss.buf = withStmtID(ss.buf, cmd.Payload, p.shadowID)
				return ss.buf, nil
			})
			ss.emit(cmd, rec)
			return
		}
		ss.filtered(cmd, rec, "not-prepared")
		return
	}
	switch {
	case p.filtered != "":
		ss.filtered(cmd, rec, p.filtered)
		return
	case p.failed != nil:
		ss.failNotSent(cmd, rec, p.failed, nil)
		return
	case kind == wire.ComStmtFetch && !p.execSent:
		ss.filtered(cmd, rec, "sample")
		return
	}
	if kind == wire.ComStmtFetch {
		ss.fetchCols = p.cursorCols
		defer func() { ss.fetchCols = nil }()
	}
	ss.execute(cmd, rec, func() ([]byte, error) {
		if !p.live {
			return nil, fmt.Errorf("%w: statement not prepared on the shadow", ErrShadowUnavailable)
		}
		ss.buf = withStmtID(ss.buf, cmd.Payload, p.shadowID)
		return ss.buf, nil
	})
	switch kind {
	case wire.ComStmtSendLongData:
		p.longData = true
	case wire.ComStmtReset:
		p.longData = false
	}
	ss.emit(cmd, rec)
}

func (ss *shadowSession) doReset(cmd *Command, queue time.Duration) {
	rec := ss.baseRecord(cmd, "", ss.who(), queue)
	r, answered := ss.execute(cmd, rec, func() ([]byte, error) { return cmd.Payload, nil })
	if cmd.Primary.Success {
		ss.st.reset()
		if answered && r.out.Success {
			ss.sticky, ss.txDiverged = "", false
		} else {
			ss.dropConn() // a new connection is a reset one
		}
	}
	ss.emit(cmd, rec)
}

func (ss *shadowSession) doChangeUser(cmd *Command, queue time.Duration) {
	rec := ss.baseRecord(cmd, "", ss.who(), queue)
	cu, err := wire.ParseChangeUser(cmd.Payload, ss.info.Capabilities)
	if !cmd.Primary.Success || err != nil {
		ss.filtered(cmd, rec, "command")
		return
	}
	ss.st.reset()
	ss.st.db, ss.st.user = cu.Database, cu.User
	if ss.conn != nil {
		ss.conn.close(true)
		ss.conn = nil
		ss.holder.set(nil)
	}
	ss.retryAt = time.Time{}
	start := time.Now()
	err = ss.connect()
	rec.DurationMS = millis(time.Since(start))
	if err != nil {
		rec.Success, rec.Error, rec.Diverged = false, err.Error(), true
		ss.sh.metrics.commands.WithLabelValues("failed").Inc()
		ss.sh.metrics.errorCode(0)
	} else {
		ss.sticky, ss.txDiverged = "", false
		rec.Success = true
		rec.ServerConnID = ss.conn.connID
		ss.sh.metrics.commands.WithLabelValues("mirrored").Inc()
	}
	ss.emit(cmd, rec)
}

func (ss *shadowSession) doSetOption(cmd *Command, queue time.Duration) {
	rec := ss.baseRecord(cmd, "", ss.who(), queue)
	r, answered := ss.execute(cmd, rec, func() ([]byte, error) { return cmd.Payload, nil })
	if cmd.Primary.Success && len(cmd.Payload) >= 3 {
		on := binary.LittleEndian.Uint16(cmd.Payload[1:]) == 0
		ss.st.multi = &on
		if answered && !r.out.Success {
			ss.diverge("state")
		}
	}
	ss.emit(cmd, rec)
}

// filtered logs a command that was not mirrored, with the reason.
func (ss *shadowSession) filtered(cmd *Command, rec *dataset.QueryLog, reason string) {
	ss.sh.metrics.commands.WithLabelValues("filtered").Inc()
	if ss.sh.opts.OmitFiltered {
		return
	}
	rec.Filtered, rec.FilterReason = true, reason
	if ss.conn != nil {
		rec.ServerConnID = ss.conn.connID
	}
	rec.Diverged = rec.Diverged || ss.diverged()
	ss.emit(cmd, rec)
}

// execute logs in if needed, builds the payload, runs it with the command's
// deadline and fills rec with the outcome. answered is false when the shadow
// gave no answer (unavailable, lost connection, deadline).
func (ss *shadowSession) execute(cmd *Command, rec *dataset.QueryLog, build func() ([]byte, error)) (r response, answered bool) {
	fail := func(err error) {
		rec.Success, rec.Error, rec.Diverged = false, err.Error(), true
		ss.sh.metrics.commands.WithLabelValues("failed").Inc()
		ss.sh.metrics.errorCode(0)
	}
	if err := ss.connect(); err != nil {
		fail(err)
		return r, false
	}
	// The rebuild may have found the session diverged.
	rec.Diverged = rec.Diverged || ss.diverged()
	rec.ServerConnID = ss.conn.connID
	payload, err := build()
	if err != nil {
		if !errors.Is(err, errNotSent) {
			fail(err)
		}
		return r, false
	}
	c := ss.conn
	sent, recv := c.wc.BytesWritten, c.wc.BytesRead
	start := time.Now()
	r, err = ss.roundTripCursor(payload, cmd.Kind(), ss.fetchCols, ss.deadline(cmd.Primary.Duration))
	rec.DurationMS = millis(time.Since(start))
	rec.BytesSent, rec.BytesRecv = c.wc.BytesWritten-sent, c.wc.BytesRead-recv
	if err != nil {
		reason := "connection"
		if errors.Is(err, ErrShadowDeadline) {
			reason = "deadline"
		}
		fail(err)
		ss.diverge(reason)
		return r, false
	}
	o := r.out
	rec.Success, rec.ErrorCode, rec.SQLState, rec.Error = o.Success, o.ErrorCode, o.SQLState, o.Error
	rec.Rows, rec.ResultHash, rec.ColumnsHash, rec.FloatCols = o.Rows, o.ResultHash, o.ColumnsHash, o.FloatCols
	ss.sh.metrics.commands.WithLabelValues("mirrored").Inc()
	if !o.Success {
		ss.sh.metrics.errorCode(o.ErrorCode)
	}
	if !rec.Diverged {
		p := &cmd.Primary
		switch {
		case p.Success != o.Success || p.ErrorCode != o.ErrorCode:
			ss.sh.metrics.mismatches.WithLabelValues("error").Inc()
		case p.ResultHash != "" && o.ResultHash != "" && p.ResultHash != o.ResultHash:
			ss.sh.metrics.mismatches.WithLabelValues("result").Inc()
		case p.Rows != o.Rows:
			ss.sh.metrics.mismatches.WithLabelValues("rows").Inc()
		}
	}
	return r, true
}
