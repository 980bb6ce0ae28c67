package hashing

import "strings"

// Split returns the statements of a multi-statement text, in order, each
// without its terminating semicolon and trimmed of surrounding white space.
// Semicolons inside strings, quoted identifiers, comments and the body of a
// compound statement (CREATE PROCEDURE/FUNCTION/TRIGGER/EVENT ... BEGIN ...
// END, MariaDB's BEGIN NOT ATOMIC ... END) do not split. Statements with no
// code (empty, or only comments) are left out, so a trailing semicolon or
// comment adds nothing. There is no DELIMITER command: that is a client
// feature, not SQL.
func Split(sql string) []string {
	var out []string
	forEachStatement(sql, func(stmt string) { out = append(out, stmt) })
	return out
}

// forEachStatement calls fn for each statement of sql, as Split describes.
func forEachStatement(sql string, fn func(string)) {
	l := lexer{s: sql}
	start := 0
	hasCode := false
	// Compound statement tracking.
	first := true
	create := false   // the statement is a CREATE and no '(' was seen yet
	compound := false // the statement can hold a BEGIN ... END body
	blocks := 0
	var prevWord string
	flush := func(end int) {
		if hasCode {
			fn(strings.TrimSpace(sql[start:end]))
		}
		start = end + 1
		hasCode = false
		first = true
		create = false
		compound = false
		blocks = 0
		prevWord = ""
	}
	for {
		t := l.next()
		switch t.kind {
		case tkEOF:
			flush(len(sql))
			return
		case tkComment, tkHint:
			continue
		}
		if t.kind == tkPunct && sql[t.start] == ';' && blocks == 0 {
			flush(t.start)
			continue
		}
		hasCode = true
		if t.kind != tkWord {
			first = false
			if t.kind == tkPunct && sql[t.start] == '(' {
				create = false
			}
			prevWord = ""
			continue
		}
		w := sql[t.start:t.end]
		if first {
			first = false
			switch {
			case eqFold(w, "create"):
				create = true
			case eqFold(w, "begin"):
				p := l.peekCode()
				if p.kind == tkWord && eqFold(sql[p.start:p.end], "not") {
					compound = true
					blocks = 1
				}
			}
			prevWord = w
			continue
		}
		if create && !compound && (eqFold(w, "procedure") || eqFold(w, "function") || eqFold(w, "trigger") || eqFold(w, "event")) {
			compound = true
		}
		if compound {
			blocks = compoundDepth(&l, w, prevWord, blocks)
		}
		prevWord = w
	}
}

// compoundDepth updates the block depth of a compound statement body for
// the word w (prev is the word before it, "" if the token before was not a
// word).
func compoundDepth(l *lexer, w, prev string, blocks int) int {
	if eqFold(prev, "end") {
		// END IF, END LOOP, END CASE, END WHILE, END REPEAT: the END counted.
		return blocks
	}
	switch {
	case eqFold(w, "begin"):
		p := l.peekCode()
		pw := l.s[p.start:p.end]
		if p.kind == tkWord && (eqFold(pw, "work") || eqFold(pw, "transaction")) {
			return blocks // a transaction inside a body
		}
		if p.kind == tkPunct && l.s[p.start] == ';' && blocks > 0 {
			return blocks // BEGIN; inside a body is a transaction too
		}
		return blocks + 1
	case eqFold(w, "if") || eqFold(w, "case") || eqFold(w, "loop") || eqFold(w, "while") || eqFold(w, "repeat"):
		if blocks == 0 {
			return 0
		}
		p := l.peekCode()
		if p.kind == tkPunct && l.s[p.start] == '(' {
			return blocks // IF(a, b, c) is a function
		}
		if p.kind == tkWord && (eqFold(l.s[p.start:p.end], "exists") || eqFold(l.s[p.start:p.end], "not")) {
			return blocks // DROP TABLE IF EXISTS
		}
		return blocks + 1
	case eqFold(w, "end"):
		if blocks > 0 {
			return blocks - 1
		}
	}
	return blocks
}
