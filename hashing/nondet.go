package hashing

import "strings"

// NonDeterministic reports whether sql can give different answers on two
// servers holding the same data, and why: the first cause found, such as
// "NOW()", "RAND()", "@@hostname", "LIMIT without ORDER BY" or
// "GROUP_CONCAT() without ORDER BY". A result mismatch on such a query is
// noise, not a regression.
//
// Causes: time functions (NOW, SYSDATE, CURDATE, CURTIME, CURRENT_DATE/TIME/
// TIMESTAMP, LOCALTIME(STAMP), UTC_DATE/TIME/TIMESTAMP, UNIX_TIMESTAMP() with
// no argument), randomness (RAND, RANDOM, UUID, UUID_SHORT, SYS_GUID),
// session and server identity (USER, CURRENT_USER, SESSION_USER,
// SYSTEM_USER, CURRENT_ROLE, CONNECTION_ID, LAST_QUERY_ID, LAST_INSERT_ID,
// FOUND_ROWS, ROW_COUNT, VERSION, and any @@ system variable), ANY_VALUE,
// sequences (NEXTVAL, LASTVAL), SLEEP and BENCHMARK (timing), LIMIT without
// an ORDER BY at the same level, GROUP_CONCAT without ORDER BY, and SHOW
// PROCESSLIST/STATUS.
func NonDeterministic(sql string) (bool, string) {
	l := lexer{s: sql}
	const maxDepth = 64
	var ordered [maxDepth]bool // ORDER BY seen at this depth since its SELECT
	var gcDepth [maxDepth]bool // a GROUP_CONCAT call opened this depth
	depth := 0
	first := true
	for {
		t := l.nextCode()
		switch t.kind {
		case tkEOF:
			return false, ""
		case tkVar:
			if v := sql[t.start:t.end]; strings.HasPrefix(v, "@@") {
				return true, strings.ToLower(v)
			}
			first = false
			continue
		case tkPunct:
			switch sql[t.start] {
			case '(':
				if depth+1 < maxDepth {
					depth++
					ordered[depth] = false
					gcDepth[depth] = false
				}
			case ')':
				if depth > 0 {
					if gcDepth[depth] && !ordered[depth] {
						return true, "GROUP_CONCAT() without ORDER BY"
					}
					depth--
				}
			case ';':
				depth = 0
				ordered[0] = false
				first = true
				continue
			}
			first = false
			continue
		case tkWord:
		default:
			first = false
			continue
		}
		w := sql[t.start:t.end]
		if first {
			first = false
			if eqFold(w, "show") {
				p := l.peekCode()
				pw := sql[p.start:p.end]
				if eqFold(pw, "full") {
					save := l
					l.nextCode()
					p = l.peekCode()
					pw = sql[p.start:p.end]
					l = save
				}
				if eqFold(pw, "processlist") || eqFold(pw, "status") || eqFold(pw, "global") || eqFold(pw, "session") {
					return true, "SHOW " + strings.ToUpper(pw)
				}
			}
		}
		switch {
		case eqFold(w, "select"):
			ordered[depth] = false
			continue
		case eqFold(w, "order"):
			if eqFold(peekWord(&l), "by") {
				ordered[depth] = true
			}
			continue
		case eqFold(w, "limit"):
			if !ordered[depth] {
				return true, "LIMIT without ORDER BY"
			}
			continue
		}
		if r, ok := nondetFunc(&l, w); ok {
			return true, r
		}
		if eqFold(w, "group_concat") && isCallNext(&l) && depth+1 < maxDepth {
			l.nextCode()
			depth++
			ordered[depth] = false
			gcDepth[depth] = true
		}
	}
}

func peekWord(l *lexer) string {
	t := l.peekCode()
	if t.kind != tkWord {
		return ""
	}
	return l.s[t.start:t.end]
}

func isCallNext(l *lexer) bool {
	p := l.peekCode()
	return p.kind == tkPunct && l.s[p.start] == '('
}

// nondetNoParens are the functions that need no parentheses.
var nondetNoParens = [...]string{"CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "LOCALTIME",
	"LOCALTIMESTAMP", "CURRENT_USER", "CURRENT_ROLE", "UTC_DATE", "UTC_TIME", "UTC_TIMESTAMP"}

// nondetCalls are the functions that are non-deterministic when called.
var nondetCalls = [...]string{"NOW", "SYSDATE", "CURDATE", "CURTIME", "RAND", "RANDOM", "UUID",
	"UUID_SHORT", "SYS_GUID", "USER", "SESSION_USER", "SYSTEM_USER", "CONNECTION_ID",
	"LAST_QUERY_ID", "LAST_INSERT_ID", "FOUND_ROWS", "ROW_COUNT", "VERSION", "ANY_VALUE",
	"NEXTVAL", "LASTVAL", "SLEEP", "BENCHMARK", "UUID_NUMERIC", "CURRENT_TIMESTAMP", "CURRENT_DATE",
	"CURRENT_TIME", "LOCALTIME", "LOCALTIMESTAMP", "CURRENT_USER", "CURRENT_ROLE", "UTC_DATE",
	"UTC_TIME", "UTC_TIMESTAMP"}

func nondetFunc(l *lexer, w string) (string, bool) {
	if len(w) < 3 || len(w) > 17 {
		return "", false
	}
	call := isCallNext(l)
	if call {
		for _, k := range nondetCalls {
			if len(k) == len(w) && strings.EqualFold(k, w) {
				return k + "()", true
			}
		}
		if eqFold(w, "unix_timestamp") {
			save := *l
			l.nextCode()
			empty := l.peekCode()
			*l = save
			if empty.kind == tkPunct && l.s[empty.start] == ')' {
				return "UNIX_TIMESTAMP()", true
			}
		}
		return "", false
	}
	for _, k := range nondetNoParens {
		if len(k) == len(w) && strings.EqualFold(k, w) {
			return k, true
		}
	}
	return "", false
}
