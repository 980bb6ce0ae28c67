package hashing

import "strings"

// Class is the kind of a statement, from its first keyword and, where the
// first keyword is not enough (WITH, EXPLAIN, ANALYZE, SET STATEMENT), from
// the statement it introduces. The zero value is ClassOther.
type Class int

// The statement classes.
const (
	ClassOther       Class = iota // anything else: GRANT, KILL, CALL, FLUSH, PREPARE, LOCK TABLES, unknown text
	ClassSelect                   // SELECT, WITH ... SELECT, SHOW, EXPLAIN, DESCRIBE/DESC, VALUES, TABLE, MariaDB ANALYZE <stmt>
	ClassSet                      // SET in all its forms (variables, NAMES, ROLE, CATALOG, WAREHOUSE, TRANSACTION, PASSWORD)
	ClassUse                      // USE db, StarRocks USE catalog.db
	ClassTransaction              // BEGIN, START TRANSACTION, COMMIT, ROLLBACK, SAVEPOINT, RELEASE SAVEPOINT, XA
	ClassInsert                   // INSERT, LOAD DATA / LOAD XML
	ClassUpdate                   // UPDATE, WITH ... UPDATE
	ClassDelete                   // DELETE, WITH ... DELETE
	ClassReplace                  // REPLACE
	ClassDDL                      // CREATE, ALTER, DROP, TRUNCATE, RENAME
)

var classNames = [...]string{"OTHER", "SELECT", "SET", "USE", "TRANSACTION", "INSERT", "UPDATE", "DELETE", "REPLACE", "DDL"}

// String returns the upper-case name of the class: SELECT, SET, USE,
// TRANSACTION, INSERT, UPDATE, DELETE, REPLACE, DDL or OTHER.
func (c Class) String() string {
	if c < 0 || int(c) >= len(classNames) {
		return "OTHER"
	}
	return classNames[c]
}

// Flags are what a statement does beyond its class, found by a token scan
// past the first keyword.
type Flags uint8

// The flags.
const (
	// FlagWrite: the statement changes data or schema (DML, DDL, EXPLAIN
	// ANALYZE of DML, NEXTVAL, ANALYZE TABLE, CALL).
	FlagWrite Flags = 1 << iota
	// FlagLock: the statement takes or releases locks (FOR UPDATE, FOR
	// SHARE, LOCK IN SHARE MODE, LOCK/UNLOCK TABLES, GET_LOCK(),
	// RELEASE_LOCK()).
	FlagLock
	// FlagSideEffect: the statement acts outside the database or its effect
	// is unknown (SELECT ... INTO OUTFILE/DUMPFILE, LOAD DATA LOCAL, KILL,
	// CALL, unknown statements).
	FlagSideEffect
	// FlagState: the statement changes session state that later statements
	// depend on (USE, session SET, SET NAMES/ROLE/CATALOG/WAREHOUSE,
	// SELECT ... INTO @v, := assignments, transactions, CREATE/DROP
	// TEMPORARY TABLE, PREPARE/EXECUTE/DEALLOCATE, LOCK TABLES).
	FlagState
	// FlagGlobal: the statement changes server-wide state (SET GLOBAL/
	// PERSIST, SET PASSWORD, GRANT, REVOKE, user management, FLUSH,
	// SHUTDOWN, replication control).
	FlagGlobal
)

var flagNames = [...]string{"write", "lock", "side_effect", "state", "global"}

// Has reports whether all of the flags in g are set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

// String returns the set flags joined by "|" (for example "write|lock"),
// or "none".
func (f Flags) String() string {
	if f == 0 {
		return "none"
	}
	var b strings.Builder
	for i, n := range flagNames {
		if f&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			b.WriteString(n)
		}
	}
	return b.String()
}

// notReadOnly are the flags that make a statement unsafe to mirror by
// default.
const notReadOnly = FlagWrite | FlagLock | FlagSideEffect | FlagGlobal

// Statement is one classified statement.
type Statement struct {
	// Text is the statement as given to Classify (as split by ClassifyAll).
	Text string
	// Class is the kind of statement.
	Class Class
	// Flags are what it does beyond its class.
	Flags Flags
	// Keyword is the first keyword in upper case ("SELECT", "WITH",
	// "START"), "" when the statement has no code.
	Keyword string
}

// ReadOnly reports whether the statement has none of the write, lock,
// side_effect and global flags: it can run on a shadow without changing
// anything there that outlives the session. State statements are read-only
// (and must be carried to the shadow).
func (s Statement) ReadOnly() bool { return s.Flags&notReadOnly == 0 }

// ClassifyAll splits sql into statements (see Split) and classifies each.
func ClassifyAll(sql string) []Statement {
	var out []Statement
	forEachStatement(sql, func(stmt string) { out = append(out, Classify(stmt)) })
	return out
}

// Classify classifies one statement by its first keyword and a token scan
// of the rest: comments, strings and quoted identifiers are skipped, and the
// content of MySQL executable comments (/*! ... */) counts as code. It is
// meant for every statement a proxy relays: it does not allocate for common
// keywords.
//
// Decisions where MySQL is silent or the text alone cannot tell:
//   - EXPLAIN/DESCRIBE without ANALYZE is read-only whatever it explains;
//     EXPLAIN ANALYZE and MariaDB's ANALYZE <statement> run the statement and
//     take its flags.
//   - PREPARE name FROM 'text' is state, plus the write, lock, side_effect
//     and global flags of text; from a variable (unknown text) it is also
//     side_effect. EXECUTE and DEALLOCATE are state only: a caller that
//     mirrors EXECUTE must know what was prepared.
//   - CREATE/DROP TEMPORARY TABLE is state, not write.
//   - Statements the classifier does not know are ClassOther with
//     side_effect, so they are never mirrored as read-only by mistake.
func Classify(stmt string) Statement { return classifyNested(stmt, 0) }

// maxNesting bounds EXPLAIN ANALYZE EXPLAIN ANALYZE ... and PREPARE of
// PREPARE: deeper text is unknown (side_effect).
const maxNesting = 8

func classifyNested(stmt string, nesting int) Statement {
	st := Statement{Text: stmt}
	if nesting > maxNesting {
		st.Flags = FlagSideEffect
		return st
	}
	c := classifier{lx: lexer{s: stmt}, nesting: nesting}
	t := c.lx.nextCode()
	for t.kind == tkPunct && stmt[t.start] == '(' {
		t = c.lx.nextCode()
	}
	if t.kind == tkEOF {
		return st
	}
	if t.kind != tkWord {
		st.Keyword = ""
		st.Flags = FlagSideEffect
		return st
	}
	w := stmt[t.start:t.end]
	st.Keyword = upperKeyword(w)
	st.Class, st.Flags = c.classify(w)
	return st
}

type classifier struct {
	lx      lexer
	nesting int // how many statements contain this one
}

// inner classifies a statement inside this one.
func (c *classifier) inner(stmt string) Statement { return classifyNested(stmt, c.nesting+1) }

// word returns the next code token and, when it is a word, its text.
func (c *classifier) word() (token, string) {
	t := c.lx.nextCode()
	if t.kind != tkWord {
		return t, ""
	}
	return t, c.lx.s[t.start:t.end]
}

func (c *classifier) peekWord() string {
	t := c.lx.peekCode()
	if t.kind != tkWord {
		return ""
	}
	return c.lx.s[t.start:t.end]
}

func (c *classifier) rest(t token) string { return c.lx.s[t.start:] }

func (c *classifier) classify(w string) (Class, Flags) {
	switch len(w) {
	case 2:
		if eqFold(w, "do") {
			return ClassOther, c.scan(0, false)
		}
		if eqFold(w, "xa") {
			return ClassTransaction, FlagState
		}
	case 3:
		switch {
		case eqFold(w, "set"):
			return c.set()
		case eqFold(w, "use"):
			return ClassUse, FlagState
		case eqFold(w, "end"):
			return ClassTransaction, FlagState
		}
	case 4:
		switch {
		case eqFold(w, "with"):
			return c.with()
		case eqFold(w, "show"), eqFold(w, "desc"):
			return c.explain(w)
		case eqFold(w, "kill"):
			return ClassOther, FlagSideEffect
		case eqFold(w, "lock"):
			return ClassOther, c.lock()
		case eqFold(w, "load"):
			return c.load()
		case eqFold(w, "call"):
			return ClassOther, FlagWrite | FlagSideEffect
		case eqFold(w, "drop"):
			return c.ddl(false)
		case eqFold(w, "help"):
			return ClassOther, 0
		}
	case 5:
		switch {
		case eqFold(w, "begin"):
			if eqFold(c.peekWord(), "not") {
				return ClassOther, FlagWrite | FlagSideEffect // BEGIN NOT ATOMIC ... END
			}
			return ClassTransaction, FlagState
		case eqFold(w, "start"):
			if p := c.peekWord(); eqFold(p, "transaction") {
				return ClassTransaction, FlagState
			}
			return ClassOther, FlagGlobal // START SLAVE/REPLICA
		case eqFold(w, "alter"):
			return c.ddl(false)
		case eqFold(w, "grant"), eqFold(w, "flush"), eqFold(w, "reset"), eqFold(w, "purge"), eqFold(w, "admin"):
			return ClassOther, FlagGlobal
		case eqFold(w, "table"):
			return ClassSelect, c.scan(0, true)
		case eqFold(w, "check"):
			return ClassOther, 0
		case eqFold(w, "cache"):
			return ClassOther, FlagSideEffect
		}
	case 6:
		switch {
		case eqFold(w, "select"):
			return ClassSelect, c.scan(0, true)
		case eqFold(w, "insert"):
			// Not scanned: INSERTs can be megabytes of VALUES, and the write
			// flag already keeps them from read-only mirroring.
			return ClassInsert, FlagWrite
		case eqFold(w, "update"):
			return ClassUpdate, c.scan(FlagWrite, false)
		case eqFold(w, "delete"):
			return ClassDelete, c.scan(FlagWrite, false)
		case eqFold(w, "values"):
			return ClassSelect, c.scan(0, true)
		case eqFold(w, "commit"):
			return ClassTransaction, FlagState
		case eqFold(w, "create"):
			return c.ddl(true)
		case eqFold(w, "rename"):
			if eqFold(c.peekWord(), "user") {
				return ClassDDL, FlagWrite | FlagGlobal
			}
			return ClassDDL, FlagWrite
		case eqFold(w, "revoke"):
			return ClassOther, FlagGlobal
		case eqFold(w, "unlock"):
			if eqFold(c.peekWord(), "instance") {
				return ClassOther, FlagLock | FlagGlobal
			}
			return ClassOther, FlagLock | FlagState
		case eqFold(w, "change"), eqFold(w, "binlog"):
			return ClassOther, FlagGlobal
		case eqFold(w, "signal"):
			return ClassOther, 0
		}
	case 7:
		switch {
		case eqFold(w, "replace"):
			return ClassReplace, FlagWrite
		case eqFold(w, "explain"):
			return c.explain(w)
		case eqFold(w, "analyze"):
			return c.analyze()
		case eqFold(w, "prepare"):
			return ClassOther, c.prepare()
		case eqFold(w, "execute"):
			return ClassOther, FlagState
		case eqFold(w, "release"):
			return ClassTransaction, FlagState
		case eqFold(w, "handler"):
			return ClassOther, FlagState
		case eqFold(w, "install"):
			return ClassOther, FlagGlobal
		case eqFold(w, "restart"):
			return ClassOther, FlagGlobal
		case eqFold(w, "refresh"):
			return ClassOther, FlagWrite
		case eqFold(w, "recover"):
			return ClassDDL, FlagWrite
		case eqFold(w, "repair"):
			return ClassOther, FlagWrite
		}
	case 8:
		switch {
		case eqFold(w, "rollback"):
			return ClassTransaction, FlagState
		case eqFold(w, "truncate"):
			return ClassDDL, FlagWrite
		case eqFold(w, "describe"):
			return c.explain(w)
		case eqFold(w, "shutdown"):
			return ClassOther, FlagGlobal
		case eqFold(w, "optimize"):
			return ClassOther, FlagWrite
		case eqFold(w, "checksum"):
			return ClassOther, 0
		case eqFold(w, "resignal"):
			return ClassOther, 0
		}
	case 9:
		switch {
		case eqFold(w, "savepoint"):
			return ClassTransaction, FlagState
		case eqFold(w, "uninstall"):
			return ClassOther, FlagGlobal
		}
	case 10:
		if eqFold(w, "deallocate") {
			return ClassOther, FlagState
		}
	}
	if eqFold(w, "get") { // GET DIAGNOSTICS
		return ClassOther, 0
	}
	if eqFold(w, "stop") {
		return ClassOther, FlagGlobal
	}
	return ClassOther, FlagSideEffect
}

// scan reads the rest of the statement and returns base plus the flags its
// tokens imply. sel enables the SELECT-only rules (INTO OUTFILE, INTO @v).
func (c *classifier) scan(base Flags, sel bool) Flags {
	f := base
	s := c.lx.s
	for {
		t := c.lx.nextCode()
		switch t.kind {
		case tkEOF:
			return f
		case tkPunct:
			if t.end-t.start == 2 && s[t.start] == ':' {
				f |= FlagState // @v := expr
			}
			continue
		case tkWord:
		default:
			continue
		}
		w := s[t.start:t.end]
		switch len(w) {
		case 3:
			if eqFold(w, "for") {
				if p := c.peekWord(); eqFold(p, "update") || eqFold(p, "share") {
					f |= FlagLock
				}
			}
		case 4:
			if eqFold(w, "lock") && eqFold(c.peekWord(), "in") {
				f |= FlagLock // LOCK IN SHARE MODE
			}
			if sel && eqFold(w, "into") {
				p := c.lx.peekCode()
				pw := s[p.start:p.end]
				switch {
				case p.kind == tkVar:
					f |= FlagState
				case p.kind == tkWord && (eqFold(pw, "outfile") || eqFold(pw, "dumpfile")):
					f |= FlagSideEffect
				}
			}
		case 6:
			if eqFold(w, "setval") && c.isCall() {
				f |= FlagWrite
			}
		case 7:
			if eqFold(w, "nextval") && c.isCall() {
				f |= FlagWrite
			}
		case 8:
			if eqFold(w, "get_lock") && c.isCall() {
				f |= FlagLock
			}
			if (eqFold(w, "sys_exec") || eqFold(w, "sys_eval")) && c.isCall() {
				f |= FlagSideEffect
			}
		case 12:
			if eqFold(w, "release_lock") && c.isCall() {
				f |= FlagLock
			}
		case 17:
			if eqFold(w, "release_all_locks") && c.isCall() {
				f |= FlagLock
			}
		}
	}
}

func (c *classifier) isCall() bool {
	p := c.lx.peekCode()
	return p.kind == tkPunct && c.lx.s[p.start] == '('
}

// with classifies WITH [RECURSIVE] cte AS (...), ... <statement> by the
// first DML keyword outside parentheses.
func (c *classifier) with() (Class, Flags) {
	s := c.lx.s
	depth := 0
	class, base := ClassSelect, Flags(0)
	for {
		t := c.lx.nextCode()
		switch t.kind {
		case tkEOF:
			return class, base
		case tkPunct:
			switch s[t.start] {
			case '(':
				depth++
			case ')':
				depth--
			}
			continue
		case tkWord:
			if depth != 0 {
				continue
			}
		default:
			continue
		}
		w := s[t.start:t.end]
		switch {
		case eqFold(w, "select"), eqFold(w, "values"), eqFold(w, "table"):
			return ClassSelect, c.scanFrom(true)
		case eqFold(w, "update"):
			return ClassUpdate, FlagWrite | c.scanFrom(false)
		case eqFold(w, "delete"):
			return ClassDelete, FlagWrite | c.scanFrom(false)
		case eqFold(w, "insert"):
			return ClassInsert, FlagWrite | c.scanFrom(false)
		case eqFold(w, "replace"):
			return ClassReplace, FlagWrite | c.scanFrom(false)
		}
	}
}

// scanFrom scans the whole statement (CTE bodies included) for flags, then
// the lexer is at its end.
func (c *classifier) scanFrom(sel bool) Flags {
	whole := classifier{lx: lexer{s: c.lx.s}}
	whole.lx.nextCode() // WITH
	f := whole.scan(0, sel)
	c.lx = whole.lx
	return f
}

// explain handles EXPLAIN, DESCRIBE, DESC and SHOW.
func (c *classifier) explain(w string) (Class, Flags) {
	if eqFold(w, "show") {
		return ClassSelect, 0
	}
	analyze := false
	for {
		t := c.lx.nextCode()
		switch t.kind {
		case tkEOF:
			return ClassSelect, 0
		case tkWord:
			x := c.lx.s[t.start:t.end]
			switch {
			case eqFold(x, "analyze"):
				analyze = true
				continue
			case eqFold(x, "extended"), eqFold(x, "partitions"), eqFold(x, "verbose"), eqFold(x, "costs"),
				eqFold(x, "logical"), eqFold(x, "physical"), eqFold(x, "format"), eqFold(x, "json"),
				eqFold(x, "tree"), eqFold(x, "traditional"):
				continue
			}
			if !analyze {
				return ClassSelect, 0
			}
			inner := c.inner(c.rest(t))
			return ClassSelect, inner.Flags
		case tkPunct:
			if c.lx.s[t.start] == '=' {
				continue
			}
			if c.lx.s[t.start] == '(' && analyze {
				inner := c.inner(c.rest(t))
				return ClassSelect, inner.Flags
			}
			return ClassSelect, 0
		default:
			return ClassSelect, 0
		}
	}
}

// analyze handles ANALYZE TABLE (statistics: a write) and MariaDB's ANALYZE
// <statement>, which runs the statement.
func (c *classifier) analyze() (Class, Flags) {
	for {
		t, x := c.word()
		switch {
		case t.kind == tkPunct && c.lx.s[t.start] == '=':
			continue
		case t.kind == tkPunct && c.lx.s[t.start] == '(':
			return ClassSelect, c.inner(c.rest(t)).Flags
		case t.kind != tkWord:
			return ClassOther, FlagWrite
		case eqFold(x, "format"), eqFold(x, "json"):
			continue
		case eqFold(x, "select"), eqFold(x, "with"), eqFold(x, "insert"), eqFold(x, "update"),
			eqFold(x, "delete"), eqFold(x, "replace"), eqFold(x, "values"):
			return ClassSelect, c.inner(c.rest(t)).Flags
		default:
			return ClassOther, FlagWrite // ANALYZE [LOCAL|FULL|SAMPLE] TABLE t
		}
	}
}

// set classifies the forms of SET.
func (c *classifier) set() (Class, Flags) {
	s := c.lx.s
	t, w := c.word()
	switch {
	case t.kind == tkEOF:
		return ClassSet, FlagState
	case eqFold(w, "password"), eqFold(w, "property"):
		return ClassSet, FlagGlobal
	case eqFold(w, "default"):
		if eqFold(c.peekWord(), "role") {
			return ClassSet, FlagGlobal
		}
	case eqFold(w, "statement"):
		// MariaDB SET STATEMENT var=value [, ...] FOR statement.
		depth := 0
		for {
			t := c.lx.nextCode()
			if t.kind == tkEOF {
				return ClassSet, FlagState
			}
			if t.kind == tkPunct {
				switch s[t.start] {
				case '(':
					depth++
				case ')':
					depth--
				}
			}
			if t.kind == tkWord && depth == 0 && eqFold(s[t.start:t.end], "for") {
				n := c.lx.nextCode()
				inner := c.inner(c.rest(n))
				return inner.Class, inner.Flags
			}
		}
	}
	f := FlagState
	if t.kind == tkWord && (eqFold(w, "global") || eqFold(w, "persist") || eqFold(w, "persist_only")) ||
		t.kind == tkVar && isGlobalVar(s[t.start:t.end]) {
		f = FlagGlobal
	}
	// Later assignments: SET a = 1, GLOBAL b = 2. Only targets count: a
	// target follows a comma at depth 0 (SET @@session.x = @@global.x reads
	// a global variable, it does not set one).
	depth := 0
	target := false
	for {
		t := c.lx.nextCode()
		atTarget := target
		target = false
		switch t.kind {
		case tkEOF:
			return ClassSet, f
		case tkPunct:
			switch s[t.start] {
			case '(':
				depth++
			case ')':
				depth--
			case ',':
				target = depth == 0
			}
		case tkVar:
			if atTarget && isGlobalVar(s[t.start:t.end]) {
				f |= FlagGlobal
			}
		case tkWord:
			x := s[t.start:t.end]
			if atTarget && (eqFold(x, "global") || eqFold(x, "persist") || eqFold(x, "persist_only")) {
				f |= FlagGlobal
			}
			if len(x) == 8 && eqFold(x, "get_lock") || len(x) == 12 && eqFold(x, "release_lock") {
				f |= FlagLock
			}
		}
	}
}

func isGlobalVar(v string) bool {
	return len(v) > 9 && eqFold(v[:9], "@@global.") || len(v) > 10 && eqFold(v[:10], "@@persist.") ||
		len(v) > 15 && eqFold(v[:15], "@@persist_only.")
}

// ddl classifies CREATE (create=true), ALTER and DROP.
func (c *classifier) ddl(create bool) (Class, Flags) {
	for i := 0; i < 8; i++ {
		t, w := c.word()
		if t.kind != tkWord {
			if t.kind == tkPunct && c.lx.s[t.start] == '=' || t.kind == tkQuoted || t.kind == tkString || t.kind == tkVar {
				continue // DEFINER = `u`@`h`
			}
			break
		}
		switch {
		case eqFold(w, "temporary"):
			return ClassDDL, FlagState
		case eqFold(w, "prepare"):
			return ClassOther, FlagState // DROP PREPARE
		case eqFold(w, "user"), eqFold(w, "role"), eqFold(w, "server"), eqFold(w, "system"),
			eqFold(w, "resource"), eqFold(w, "tablespace"), eqFold(w, "logfile"), eqFold(w, "instance"):
			return ClassDDL, FlagWrite | FlagGlobal
		case eqFold(w, "table"), eqFold(w, "database"), eqFold(w, "schema"), eqFold(w, "view"),
			eqFold(w, "index"), eqFold(w, "materialized"):
			return ClassDDL, FlagWrite
		}
	}
	return ClassDDL, FlagWrite
}

// lock handles LOCK TABLES and LOCK INSTANCE FOR BACKUP.
func (c *classifier) lock() Flags {
	if eqFold(c.peekWord(), "instance") {
		return FlagLock | FlagGlobal
	}
	return FlagLock | FlagState
}

// load handles LOAD DATA / LOAD XML [LOCAL] INFILE and StarRocks LOAD LABEL.
func (c *classifier) load() (Class, Flags) {
	f := FlagWrite
	for i := 0; i < 4; i++ {
		t, w := c.word()
		if t.kind != tkWord {
			break
		}
		switch {
		case eqFold(w, "local"):
			f |= FlagSideEffect
		case eqFold(w, "index"):
			return ClassOther, FlagSideEffect // LOAD INDEX INTO CACHE
		case eqFold(w, "infile"):
			return ClassInsert, f
		}
	}
	return ClassInsert, f
}

// prepare handles PREPARE name FROM 'text' | @var.
func (c *classifier) prepare() Flags {
	for {
		t := c.lx.nextCode()
		switch t.kind {
		case tkEOF:
			return FlagState
		case tkString:
			inner := c.inner(unquote(c.lx.s[t.start:t.end]))
			return FlagState | inner.Flags&notReadOnly
		case tkVar:
			return FlagState | FlagSideEffect
		}
	}
}

// unquote returns the content of a quoted string token with its escapes
// resolved.
func unquote(s string) string {
	if len(s) > 0 && s[0] != '\'' && s[0] != '"' {
		// N'..' or _charset'..'
		if i := strings.IndexByte(s, '\''); i >= 0 {
			s = s[i:]
		}
	}
	if len(s) < 2 {
		return ""
	}
	q := s[0]
	body := s[1:]
	if n := len(body); n > 0 && body[n-1] == q {
		body = body[:n-1]
	}
	if strings.IndexByte(body, '\\') < 0 && strings.IndexByte(body, q) < 0 {
		return body
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		ch := body[i]
		switch {
		case ch == '\\' && i+1 < len(body):
			i++
			switch body[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			case 'Z':
				b.WriteByte(26)
			case 'b':
				b.WriteByte('\b')
			default:
				b.WriteByte(body[i])
			}
		case ch == q && i+1 < len(body) && body[i+1] == q:
			b.WriteByte(q)
			i++
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// keywordNames are the first keywords returned without allocation.
var keywordNames = [...]string{
	"SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "WITH", "SET", "USE", "SHOW", "EXPLAIN",
	"DESCRIBE", "DESC", "VALUES", "TABLE", "BEGIN", "START", "COMMIT", "ROLLBACK", "SAVEPOINT",
	"RELEASE", "XA", "CREATE", "ALTER", "DROP", "TRUNCATE", "RENAME", "ANALYZE", "PREPARE",
	"EXECUTE", "DEALLOCATE", "KILL", "LOCK", "UNLOCK", "LOAD", "CALL", "DO", "GRANT", "REVOKE",
	"FLUSH", "HANDLER", "HELP", "CHECKSUM", "CHECK", "OPTIMIZE", "REPAIR", "END",
}

func upperKeyword(w string) string {
	for _, k := range keywordNames {
		if len(k) == len(w) && strings.EqualFold(k, w) {
			return k
		}
	}
	return strings.ToUpper(w)
}
