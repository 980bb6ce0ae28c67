package mirror

import (
	"encoding/binary"
	"strings"

	"github.com/sqlshadow/sqlshadow/mirror/internal/wire"
)

// maxReplay bounds the statements a session keeps to rebuild its state.
const maxReplay = 1000

// sessionState is the primary session's state as the shadow side tracks it,
// to replay on a new shadow connection.
type sessionState struct {
	db     string
	user   string   // the client's current user (COM_CHANGE_USER changes it)
	replay []string // SET, SET ROLE/CATALOG, INTO @v, temporary table DDL, SQL PREPARE: in order
	inTx   bool
	txStmt string // the statement that opened the transaction
	temp   bool   // temporary tables exist (their rows cannot be rebuilt)
	lost   bool   // some state change could not be tracked
	multi  *bool  // COM_SET_OPTION: multi-statements on or off (nil: as negotiated)

	prepared     map[uint32]*prepared
	lastPrepared uint32 // primary id of the last prepared statement (MariaDB's 0xFFFFFFFF)
}

// prepared is one prepared statement of the client, by the primary's id.
type prepared struct {
	query     string
	kinds     []stmtKind
	numParams uint16
	types     []byte // the last bound parameter types, 2 bytes per parameter
	shadowID  uint32
	live      bool     // prepared on the current shadow connection
	failed    *Outcome // PREPARE failed on the shadow only: executes are logged with it
	filtered  string   // never mirrored, with this reason
	state     bool     // executes change state: never filtered or sampled
	longData  bool     // long data was sent since the last execute or reset
	execSent  bool     // the last execute was sent (fetches follow it)
	// cursorCols are the columns of the cursor the last execute opened.
	cursorCols []wire.Column
}

func newSessionState(info *SessionInfo) *sessionState {
	return &sessionState{db: info.Database, user: info.User, prepared: map[uint32]*prepared{}}
}

// reset forgets everything a COM_RESET_CONNECTION clears (the database stays).
func (st *sessionState) reset() {
	st.replay = nil
	st.inTx, st.txStmt, st.temp, st.lost, st.multi = false, "", false, false, nil
	clear(st.prepared)
	st.lastPrepared = 0
}

// apply records the effect of one statement that succeeded on the primary.
func (st *sessionState) apply(k *stmtKind) {
	switch {
	case k.global || k.write:
		// Never replayed: LOCK TABLES, SQL-level EXECUTE.
		if k.state {
			st.lost = true
		}
		return
	case k.class == classUse:
		if db, ok := parseUse(k.text); ok {
			st.db = db
		} else {
			st.lost = true
		}
	case k.class == classBegin:
		st.inTx, st.txStmt = true, k.text
	case k.class == classCommit || k.class == classRollback:
		if hasWord(k.text, "CHAIN") && !hasWord(k.text, "NO") {
			return // AND CHAIN: a new transaction starts at once
		}
		st.inTx, st.txStmt = false, ""
	case k.keyword == "SAVEPOINT" || k.keyword == "RELEASE" || k.keyword == "XA":
		// Part of a transaction: a rebuild inside one is inexact anyway.
	case k.tempDDL:
		st.temp = true
		st.remember(k.text)
	case k.class == classSet:
		if isSetTransaction(k.text) {
			return // applies to the next transaction only
		}
		st.remember(k.text)
	case k.state:
		st.remember(k.text)
	}
}

// remember appends a replay statement; an identical earlier one moves to the
// end. Past maxReplay the oldest is forgotten and the state marked lost.
func (st *sessionState) remember(text string) {
	for i, s := range st.replay {
		if s == text {
			copy(st.replay[i:], st.replay[i+1:])
			st.replay[len(st.replay)-1] = text
			return
		}
	}
	if len(st.replay) >= maxReplay {
		copy(st.replay, st.replay[1:])
		st.replay = st.replay[:len(st.replay)-1]
		st.lost = true
	}
	st.replay = append(st.replay, text)
}

// exact reports whether a rebuilt shadow session equals the primary's.
func (st *sessionState) exact() bool { return !st.inTx && !st.temp && !st.lost }

// resolve maps MariaDB's 0xFFFFFFFF (the last prepared statement).
func (st *sessionState) resolve(id uint32) uint32 {
	if id == 0xFFFFFFFF {
		return st.lastPrepared
	}
	return id
}

// parseUse returns the database of a USE statement.
func parseUse(text string) (string, bool) {
	t := strings.TrimSpace(text)
	if len(t) < 4 || !strings.EqualFold(t[:3], "USE") {
		return "", false
	}
	t = strings.TrimSpace(t[3:])
	t = strings.TrimRight(t, "; \t\r\n")
	if strings.HasPrefix(t, "`") {
		end := strings.LastIndexByte(t, '`')
		if end <= 0 {
			return "", false
		}
		return strings.ReplaceAll(t[1:end], "``", "`"), true
	}
	if t == "" || strings.ContainsAny(t, " \t\r\n") {
		return "", false
	}
	return t, true
}

func hasWord(text, w string) bool {
	for _, k := range keywords(text, 16) {
		if k == w {
			return true
		}
	}
	return false
}

func isSetTransaction(text string) bool {
	k := keywords(text, 2)
	return len(k) == 2 && k[1] == "TRANSACTION"
}

// executeLayout splits a COM_STMT_EXECUTE payload for a statement with n
// parameters: the 10-byte head (command, id, flags, iteration count), the
// NULL bitmap, the types when the new-params-bound flag is set, and the
// values.
func executeLayout(p []byte, n uint16) (bitmap, types, values []byte, ok bool) {
	const head = 10
	if len(p) < head {
		return nil, nil, nil, false
	}
	if n == 0 {
		return nil, nil, p[head:], true
	}
	bl := (int(n) + 7) / 8
	if len(p) < head+bl+1 {
		return nil, nil, nil, false
	}
	bitmap = p[head : head+bl]
	pos := head + bl
	bound := p[pos]
	pos++
	if bound == 1 {
		if len(p) < pos+2*int(n) {
			return nil, nil, nil, false
		}
		types = p[pos : pos+2*int(n)]
		pos += 2 * int(n)
	}
	return bitmap, types, p[pos:], true
}

// rewriteExecute builds the shadow's COM_STMT_EXECUTE: the shadow's id and
// the parameter types always sent (clients send them only with the first
// execute, and the shadow may not have seen it).
func rewriteExecute(dst, p []byte, shadowID uint32, n uint16, types []byte) ([]byte, bool) {
	bitmap, _, values, ok := executeLayout(p, n)
	if !ok || (n > 0 && len(types) != 2*int(n)) {
		return dst, false
	}
	dst = append(dst[:0], p[:10]...)
	binary.LittleEndian.PutUint32(dst[1:], shadowID)
	if n > 0 {
		dst = append(dst, bitmap...)
		dst = append(dst, 1)
		dst = append(dst, types...)
	}
	return append(dst, values...), true
}

// withStmtID returns a copy of a COM_STMT_* payload with the statement id
// replaced.
func withStmtID(dst, p []byte, id uint32) []byte {
	dst = append(dst[:0], p...)
	if len(dst) >= 5 {
		binary.LittleEndian.PutUint32(dst[1:], id)
	}
	return dst
}

// stmtIDOf returns the statement id of a COM_STMT_* payload.
func stmtIDOf(p []byte) (uint32, bool) {
	if len(p) < 5 {
		return 0, false
	}
	return binary.LittleEndian.Uint32(p[1:]), true
}
