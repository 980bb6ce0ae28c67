package hashing

import "bytes"

// Fingerprint returns the normalised template of sql: literals become ?,
// IN-lists and multi-row VALUES collapse, comments, hints and whitespace go,
// and words are lower-cased. The rules, each with an example, are in the
// package documentation. Fingerprint never fails: text that does not scan
// (an unterminated string, say) is normalised as far as it goes.
func Fingerprint(sql string) string {
	fp, _ := appendFingerprint(make([]byte, 0, len(sql)), sql)
	return string(fp)
}

// appendFingerprint appends Fingerprint(sql) to dst and reports whether the
// value of a literal (not only its kind and place) decided part of it.
func appendFingerprint(dst []byte, sql string) ([]byte, bool) {
	f := fingerprinter{lx: lexer{s: sql}, out: dst}
	f.run()
	out := f.out
	for len(out) > len(dst) && isSpace(out[len(out)-1]) {
		out = out[:len(out)-1] // an unterminated `quoted identifier
	}
	return out, f.valueDep
}

// Categories of the last token written, for spacing and literal folding.
const (
	outNone   = iota
	outWord   // a word or identifier
	outValue  // ? or another value-ending token (variable, quoted identifier)
	outOpen   // (
	outClose  // )
	outDot    // .
	outComma  // ,
	outOper   // any other operator
	outSign   // + or - that may be a sign
	outIsNull // "is" or "is not": the next null/true/false is kept
)

type fingerprinter struct {
	lx    lexer
	out   []byte
	last  int // category of the last token written
	prevC int // category of the token before the last one

	// A run of unary signs (- - +) waiting for a literal to fold into.
	signRun    int
	signStart  int // len(out) before the run
	beforeSign int // category before the run

	depth int // parenthesis depth

	// IN-list collapse: inStart >= 0 while "in (" is followed only by
	// literals, commas and parentheses.
	inStart, inDepth int
	inLits           bool

	// Multi-row VALUES collapse.
	vState            int // 0 off, 1 in the first row, 2 after a row, 3 after a comma, 4 in a later row
	vDepth            int
	rowStart, rowEnd  int // first row in out
	commaAt, curStart int // the comma before the current row, its start
	tokStart          int // where the last token written starts in out

	// ORDER BY / GROUP BY positions: integers right after "by" or "," in
	// the list are kept.
	byDepth    int // -1 when not in a by-list
	lastWasBy  bool
	lastString bool // the last value written was a string (adjacent strings concatenate)
	pendSemi   bool

	// valueDep: a literal's value (not only its kind and place) decided
	// part of the output.
	valueDep bool
}

func (f *fingerprinter) run() {
	f.inStart = -1
	f.byDepth = -1
	for {
		t := f.lx.next()
		switch t.kind {
		case tkEOF:
			return
		case tkComment, tkHint:
			continue
		}
		wasBy := f.lastWasBy
		f.lastWasBy = false
		switch t.kind {
		case tkString:
			if f.lastString && f.last == outValue {
				continue // 'a' 'b' is one literal
			}
			f.literal()
			f.lastString = true
			continue
		case tkNumber:
			if f.byDepth == f.depth && (wasBy || f.last == outComma) {
				// ORDER BY 2 keeps the 2: the output depends on a
				// literal's value (TemplateCache must not share it).
				f.valueDep = true
				if f.isInt(t) {
					f.write(outValue, f.lx.s[t.start:t.end])
					continue
				}
			}
			f.literal()
		case tkHex, tkParam:
			f.literal()
		case tkVar:
			f.cancelIn()
			f.writeLower(outValue, f.lx.s[t.start:t.end])
		case tkQuoted:
			f.cancelIn()
			f.quoted(t)
		case tkWord:
			f.word(t)
		case tkPunct:
			f.punct(t)
		}
		f.lastString = false
	}
}

func (f *fingerprinter) isInt(t token) bool {
	for i := t.start; i < t.end; i++ {
		if !isDigit(f.lx.s[i]) {
			return false
		}
	}
	return true
}

// space writes the separator due before a token of category cat.
func (f *fingerprinter) space(cat int) {
	if f.pendSemi {
		f.pendSemi = false
		f.resetStatement()
		f.out = append(f.out, ';', ' ')
		f.last = outNone
		return
	}
	switch f.last {
	case outNone, outOpen:
		return
	case outDot:
		if f.prevC == outWord || f.prevC == outValue || f.prevC == outClose {
			return // a qualified name: t.a, @v.x, (...).x
		}
	}
	switch cat {
	case outComma, outClose, outDot:
		return
	case outOpen:
		if f.last == outWord && !f.keywordBeforeParen() {
			return
		}
	}
	f.out = append(f.out, ' ')
}

func (f *fingerprinter) resetStatement() {
	f.inStart = -1
	f.vState = 0
	f.byDepth = -1
	f.depth = 0
}

func (f *fingerprinter) write(cat int, s string) {
	f.space(cat)
	f.tokStart = len(f.out)
	f.out = append(f.out, s...)
	f.prevC, f.last = f.last, cat
}

func (f *fingerprinter) writeByte(cat int, b byte) {
	f.space(cat)
	f.tokStart = len(f.out)
	f.out = append(f.out, b)
	f.prevC, f.last = f.last, cat
}

func (f *fingerprinter) writeLower(cat int, s string) {
	f.space(cat)
	f.tokStart = len(f.out)
	for i := 0; i < len(s); i++ {
		f.out = append(f.out, lowerByte(s[i]))
	}
	f.prevC, f.last = f.last, cat
}

// literal writes ?, folding preceding unary signs into it.
func (f *fingerprinter) literal() {
	if f.last == outSign && f.signRun > 0 {
		// "= -1": drop the signs and the space before them.
		f.out = f.out[:f.signStart]
		f.last = f.beforeSign
	}
	if f.inStart >= 0 {
		f.inLits = true
	}
	f.writeByte(outValue, '?')
}

func (f *fingerprinter) cancelIn() { f.inStart = -1 }

func (f *fingerprinter) quoted(t token) {
	s := f.lx.s[t.start:t.end]
	simple := len(s) > 2 && s[len(s)-1] == '`' && !isDigit(s[1])
	for i := 1; simple && i < len(s)-1; i++ {
		simple = isIdentByte(s[i])
	}
	if simple {
		f.writeLower(outWord, s[1:len(s)-1])
		return
	}
	f.write(outValue, s)
}

func (f *fingerprinter) word(t token) {
	w := f.lx.s[t.start:t.end]
	if f.last != outIsNull && (eqFold(w, "null") || eqFold(w, "true") || eqFold(w, "false")) && f.inStart >= 0 {
		f.literal() // a literal inside an IN-list
		return
	}
	f.cancelIn()
	switch {
	case f.vState == 2:
		f.vState = 0
	case f.vState == 3:
		if eqFold(w, "row") {
			f.writeLower(outWord, w)
			f.curStart = f.tokStart
			f.vState = 4
			return
		}
		f.vState = 0
	case f.vState == 1 && f.rowStart < 0 && eqFold(w, "row"):
		f.writeLower(outWord, w)
		f.rowStart = f.tokStart
		return
	}
	switch len(w) {
	case 2:
		if eqFold(w, "is") {
			f.writeLower(outIsNull, w)
			return
		}
		if eqFold(w, "by") && (f.lastWordIs("order") || f.lastWordIs("group")) {
			f.writeLower(outWord, w)
			f.byDepth = f.depth
			f.lastWasBy = true
			return
		}
	case 3:
		if eqFold(w, "not") && f.last == outIsNull {
			f.writeLower(outIsNull, w)
			return
		}
		if eqFold(w, "asc") {
			return // the default direction
		}
	case 4:
		if eqFold(w, "null") || eqFold(w, "true") {
			f.nullish(w)
			return
		}
	case 5:
		if eqFold(w, "false") {
			f.nullish(w)
			return
		}
		if eqFold(w, "limit") {
			f.byDepth = -1
		}
	case 6:
		if eqFold(w, "having") || eqFold(w, "offset") {
			f.byDepth = -1
		}
		if eqFold(w, "values") {
			f.writeLower(outWord, w)
			f.startValues()
			return
		}
	case 9:
		if eqFold(w, "sql_cache") {
			return
		}
	case 12:
		if eqFold(w, "sql_no_cache") {
			return
		}
	}
	if f.indexHint(w) {
		return
	}
	if eqFold(w, "value") {
		f.writeLower(outWord, w)
		f.startValues()
		return
	}
	f.writeLower(outWord, w)
}

func (f *fingerprinter) startValues() {
	f.vState = 1
	f.vDepth = f.depth
	f.rowStart = -1
}

func (f *fingerprinter) lastWordIs(k string) bool {
	if f.last != outWord || len(f.out) < len(k) {
		return false
	}
	n := len(f.out) - len(k)
	if string(f.out[n:]) != k {
		return false
	}
	return n == 0 || f.out[n-1] == ' '
}

func (f *fingerprinter) nullish(w string) {
	if f.last == outIsNull {
		f.writeLower(outWord, w)
		return
	}
	f.literal()
}

// indexHint skips USE|FORCE|IGNORE INDEX|KEY [FOR ...] (list), and a comma
// that joins it to the next one.
func (f *fingerprinter) indexHint(w string) bool {
	if !(eqFold(w, "use") || eqFold(w, "force") || eqFold(w, "ignore")) {
		return false
	}
	p := f.lx.peekCode()
	pw := f.lx.s[p.start:p.end]
	if p.kind != tkWord || !(eqFold(pw, "index") || eqFold(pw, "key")) {
		return false
	}
	// Skip to the parenthesised list and past its end.
	depth := 0
	for {
		t := f.lx.nextCode()
		if t.kind == tkEOF {
			return true
		}
		if t.kind != tkPunct {
			continue
		}
		switch f.lx.s[t.start] {
		case '(':
			depth++
		case ')':
			depth--
			if depth <= 0 {
				f.skipHintComma()
				return true
			}
		case ';':
			f.pendSemi = true
			return true
		}
	}
}

func (f *fingerprinter) skipHintComma() {
	save := f.lx
	t := f.lx.nextCode()
	if t.kind == tkPunct && f.lx.s[t.start] == ',' {
		n := f.lx.nextCode()
		if n.kind == tkWord {
			nw := f.lx.s[n.start:n.end]
			if eqFold(nw, "use") || eqFold(nw, "force") || eqFold(nw, "ignore") {
				p := f.lx.peekCode()
				pw := f.lx.s[p.start:p.end]
				if p.kind == tkWord && (eqFold(pw, "index") || eqFold(pw, "key")) {
					f.indexHint(nw)
					return
				}
			}
		}
	}
	f.lx = save
}

func (f *fingerprinter) punct(t token) {
	s := f.lx.s[t.start:t.end]
	c := s[0]
	if len(s) == 1 {
		switch c {
		case ';':
			f.pendSemi = f.last != outNone || len(f.out) > 0
			f.signRun = 0
			return
		case '(':
			f.writeByte(outOpen, c)
			f.depth++
			if f.last == outOpen && f.prevC == outWord && f.inStart < 0 && f.lastWordBefore("in") {
				f.inStart = len(f.out) - 1
				f.inDepth = f.depth
				f.inLits = false
			}
			switch {
			case f.vState == 1 && f.rowStart < 0:
				f.rowStart = f.tokStart
			case f.vState == 3:
				f.curStart = f.tokStart
				f.vState = 4
			case f.vState == 2:
				f.vState = 0
			}
			return
		case ')':
			f.writeByte(outClose, c)
			f.depth--
			if f.byDepth > f.depth {
				f.byDepth = -1
			}
			if f.inStart >= 0 && f.depth == f.inDepth-1 {
				if f.inLits {
					f.out = append(f.out[:f.inStart], "(?+)"...)
				}
				f.inStart = -1
			}
			switch {
			case f.depth < f.vDepth:
				f.vState = 0
			case f.vState == 1 && f.depth == f.vDepth && f.rowStart >= 0:
				f.rowEnd = len(f.out)
				f.vState = 2
			case f.vState == 4 && f.depth == f.vDepth:
				// Drop this row when it has the shape of the first.
				if bytes.Equal(f.out[f.curStart:], f.out[f.rowStart:f.rowEnd]) {
					f.out = f.out[:f.commaAt]
				}
				f.vState = 2
			}
			return
		case ',':
			if f.vState == 2 && f.depth == f.vDepth {
				f.commaAt = len(f.out)
				f.writeByte(outComma, c)
				f.vState = 3
				return
			}
			f.writeByte(outComma, c)
			return
		case '.':
			f.writeByte(outDot, c)
			return
		case '-', '+':
			if f.last == outWord || f.last == outValue || f.last == outClose {
				// A binary operator; IN (1+2) still collapses.
				if f.vState == 2 || f.vState == 3 {
					f.vState = 0
				}
				f.write(outOper, s)
				return
			}
			if f.last != outSign {
				f.signRun = 0
				f.signStart = len(f.out)
				f.beforeSign = f.last
			}
			f.signRun++
			f.writeByte(outSign, c)
			return
		case '[':
			if f.bracketHint() {
				return
			}
		}
	}
	f.cancelIn()
	if f.vState == 2 || f.vState == 3 {
		f.vState = 0
	}
	f.write(outOper, s)
}

func (f *fingerprinter) lastWordBefore(k string) bool {
	// out ends with "<k>(".
	n := len(f.out) - 1 - len(k)
	if n < 0 || string(f.out[n:len(f.out)-1]) != k {
		return false
	}
	return n == 0 || f.out[n-1] == ' '
}

// bracketHint skips StarRocks join hints such as [broadcast] and [shuffle].
func (f *fingerprinter) bracketHint() bool {
	save := f.lx
	w := f.lx.nextCode()
	e := f.lx.nextCode()
	if w.kind == tkWord && e.kind == tkPunct && f.lx.s[e.start] == ']' {
		return true
	}
	f.lx = save
	return false
}

// keywordBeforeParen reports whether the word at the end of out is an
// operator-like keyword that keeps a space before "(" (and (, from (,
// as (); other words are taken as function or table names, and
// "name(" is written without a space.
func (f *fingerprinter) keywordBeforeParen() bool {
	w := f.out[f.tokStart:]
	switch len(w) {
	case 2:
		switch string(w) {
		case "or", "on", "as", "by", "is":
			return true
		}
	case 3:
		switch string(w) {
		case "and", "not", "xor", "all", "any", "set":
			return true
		}
	case 4:
		switch string(w) {
		case "from", "join", "when", "then", "else", "like", "some", "case", "with":
			return true
		}
	case 5:
		switch string(w) {
		case "where", "union":
			return true
		}
	case 6:
		switch string(w) {
		case "select", "having", "except":
			return true
		}
	case 7:
		switch string(w) {
		case "between":
			return true
		}
	case 8:
		switch string(w) {
		case "distinct":
			return true
		}
	case 9:
		switch string(w) {
		case "intersect":
			return true
		}
	}
	return false
}
