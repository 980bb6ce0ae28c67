package hashing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
)

// ErrUnterminated is returned by the Obfuscator for text with an
// unterminated string, quoted identifier or comment.
var ErrUnterminated = errors.New("hashing: unterminated string, quoted identifier or comment")

// Obfuscator replaces the identifiers and literals of SQL text
// deterministically under a key, keeping the text executable: the "customer
// query replica". Keywords, built-in function names, types, system
// variables, character sets, collations, storage engines and the system
// schemas (information_schema, performance_schema, mysql, sys) stay as they
// are; comments and optimizer hints are removed; the content of executable
// comments (/*! ... */) is obfuscated as code.
//
// Identifiers become "o" and nine base-32 characters of a keyed hash of
// their lower-case form, so the same name gets the same replacement in Query
// and DDL and across calls, and a different key gives different names.
// Literals keep their type and shape: strings keep their length, letters
// stay letters and digits stay digits; dates, times and datetimes stay valid
// ones; integers keep their digit count and never grow (so LIMIT, ORDER BY 2
// and column ranges stay valid); hex and bit literals keep their length.
// Equal literals get equal replacements, so joins and ENUM values keep
// matching.
//
// Many everyday column names are also non-reserved keywords (id, name,
// status, type, date, value). DDL records the names it declares, and Query
// then replaces them too: obfuscate the schema with DDL before its queries.
// Where a query uses such a word as a keyword again (DATE '2024-01-02',
// INTERVAL 1 DAY, CAST(x AS DATE)) it is kept.
//
// An Obfuscator is safe for concurrent use.
type Obfuscator struct {
	key []byte

	mu     sync.RWMutex
	names  map[string]bool   // lower-case keyword-like names declared by DDL
	idents map[string]string // cache: lower-case name -> replacement
}

// NewObfuscator returns an Obfuscator keyed by key (any length; an empty key
// works but gives replacements anyone can recompute).
func NewObfuscator(key []byte) *Obfuscator {
	return &Obfuscator{key: append([]byte(nil), key...), names: make(map[string]bool), idents: make(map[string]string)}
}

func (o *Obfuscator) mac(kind byte, s string) []byte {
	h := hmac.New(sha256.New, o.key)
	h.Write([]byte{kind})
	h.Write([]byte(s))
	return h.Sum(nil)
}

// Query obfuscates one or more statements. It returns ErrUnterminated for
// text with an unterminated string, quoted identifier or comment.
func (o *Obfuscator) Query(sql string) (string, error) { return o.obfuscate(sql, false) }

// DDL obfuscates schema statements (CREATE TABLE, ALTER TABLE, CREATE INDEX,
// CREATE VIEW, ...) and records the names they declare for later calls. It
// differs from Query in two ways: numbers are kept (they are lengths,
// precisions, defaults and partition bounds), and keyword-like names (a
// column called status) are recognised from their position.
func (o *Obfuscator) DDL(sql string) (string, error) { return o.obfuscate(sql, true) }

var (
	keywordSet  = sync.OnceValue(func() map[string]bool { return setOf(sqlKeywords[:]) })
	functionSet = sync.OnceValue(func() map[string]bool { return setOf(sqlFunctions[:]) })
)

func setOf(ws []string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

func lowerString(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// typeWords are the type names that take (n) or (p, s) arguments, whose
// numbers a query keeps, and that CAST(x AS type) names.
var typeWords = map[string]bool{
	"char": true, "varchar": true, "binary": true, "varbinary": true, "decimal": true, "dec": true,
	"numeric": true, "float": true, "double": true, "int": true, "integer": true, "signed": true,
	"unsigned": true, "date": true, "datetime": true, "time": true, "timestamp": true, "year": true,
	"json": true, "text": true, "blob": true, "bit": true, "tinyint": true, "smallint": true,
	"mediumint": true, "bigint": true, "real": true, "nchar": true, "nvarchar": true, "enum": true, "set": true,
	"interval": true,
}

// systemSchemas keep their names and the names they qualify.
var systemSchemas = map[string]bool{"information_schema": true, "performance_schema": true, "mysql": true, "sys": true}

// tableIntro are the words after which "name(" is a table or index, not a
// function call.
var tableIntro = map[string]bool{"into": true, "table": true, "references": true, "exists": true, "key": true, "index": true}

// valueIntro are the words after which a word (optionally after =) is a
// character set, collation, engine or format, not a name.
var valueIntro = map[string]bool{"engine": true, "charset": true, "collate": true, "names": true, "row_format": true,
	"using": true, "character": true, "storage": true, "format": true, "algorithm": true, "lock": true}

// ddlNoName are the words after ADD/DROP/MODIFY/CHANGE that are not names.
var ddlNoName = map[string]bool{"column": true, "index": true, "key": true, "primary": true, "constraint": true,
	"foreign": true, "unique": true, "partition": true, "fulltext": true, "spatial": true, "check": true,
	"if": true, "not": true, "exists": true, "table": true, "default": true, "period": true, "system": true,
	"foreign_key_checks": true}

type obfState struct {
	o     *Obfuscator
	sql   string
	code  []token // code tokens
	out   []byte
	ddl   bool
	names map[string]bool // declared names (a snapshot plus this call's)
	isPos map[int]bool    // DDL: token starts that are name positions
	// tableDef: the current statement is CREATE/ALTER TABLE, where DDL finds
	// keyword-like names by position.
	tableDef bool
}

func (o *Obfuscator) obfuscate(sql string, ddl bool) (string, error) {
	l := lexer{s: sql}
	var code, comments []token
	for {
		t := l.next()
		if t.kind == tkEOF {
			break
		}
		if t.kind == tkComment || t.kind == tkHint {
			comments = append(comments, t)
		} else {
			code = append(code, t)
		}
	}
	if l.bad {
		return "", ErrUnterminated
	}
	st := &obfState{o: o, sql: sql, code: code, ddl: ddl, out: make([]byte, 0, len(sql)+len(sql)/4)}
	o.mu.RLock()
	st.names = make(map[string]bool, len(o.names))
	for k := range o.names {
		st.names[k] = true
	}
	o.mu.RUnlock()
	if ddl {
		st.isPos = make(map[int]bool)
		declared := st.learn()
		if len(declared) > 0 {
			o.mu.Lock()
			for _, n := range declared {
				o.names[n] = true
				st.names[n] = true
			}
			o.mu.Unlock()
		}
	}
	last := 0
	ci := 0
	gap := func(to int) {
		for ci < len(comments) && comments[ci].start < to {
			c := comments[ci]
			st.out = append(st.out, sql[last:c.start]...)
			st.out = append(st.out, ' ')
			last = c.end
			ci++
		}
		st.out = append(st.out, sql[last:to]...)
	}
	first := ""      // first word of the statement, lower case
	depth := 0       // parenthesis depth
	typeDepth := -1  // depth of a type's (n, m): numbers kept
	sysQual := false // the previous name was a system schema
	sysQualNext := false
	tableDef := false // CREATE/ALTER TABLE: keyword-like names by position
	sysStmt := st.systemStatements()
	stmt := 0          // statement index
	sysTarget := false // SET: the current assignment is to a system variable
	for k, t := range code {
		gap(t.start)
		last = t.end
		tok := sql[t.start:t.end]
		sysQual, sysQualNext = sysQualNext, false
		switch t.kind {
		case tkPunct:
			switch tok {
			case "(":
				depth++
				if k > 0 && code[k-1].kind == tkWord && typeWords[lowerString(st.text(k-1))] {
					typeDepth = depth
				}
			case ")":
				if depth == typeDepth {
					typeDepth = -1
				}
				depth--
			case ";":
				first, depth, typeDepth, tableDef, sysTarget = "", 0, -1, false, false
				stmt++
			case ".":
				sysQualNext = sysQual
			}
			st.out = append(st.out, tok...)
		case tkParam:
			st.out = append(st.out, tok...)
		case tkString:
			if first == "set" && sysTarget && depth == 0 {
				st.out = append(st.out, tok...) // a system variable's value
				break
			}
			st.string(tok)
		case tkNumber:
			if ddl || depth == typeDepth {
				st.out = append(st.out, tok...)
			} else {
				st.out = append(st.out, o.number(tok)...)
			}
		case tkHex:
			if ddl {
				st.out = append(st.out, tok...)
			} else {
				st.out = append(st.out, o.hex(tok)...)
			}
		case tkVar:
			if first == "set" && depth == 0 {
				sysTarget = strings.HasPrefix(tok, "@@")
			}
			st.variable(tok)
		case tkQuoted:
			name := unquoteIdent(tok)
			if sysQual || systemSchemas[strings.ToLower(name)] && st.nextIs(k, ".") {
				sysQualNext = !sysQual
				st.out = append(st.out, tok...)
				break
			}
			st.out = append(st.out, '`')
			st.out = append(st.out, o.ident(name)...)
			st.out = append(st.out, '`')
		case tkWord:
			lw := lowerString(tok)
			if first == "" {
				first = lw
				sysTarget = lw == "set"
			}
			if lw == "table" && depth == 0 && (first == "create" || first == "alter") {
				tableDef = true
			}
			st.tableDef = tableDef
			if first == "set" && depth == 0 && (st.nextIs(k, "=") || st.nextIs(k, ":=")) {
				sysTarget = true
			}
			switch {
			case sysQual:
				st.out = append(st.out, tok...)
			case systemSchemas[lw] && st.nextIs(k, "."):
				sysQualNext = true
				st.out = append(st.out, tok...)
			case sysStmt[stmt] && !st.prevIs(k, ".") && !st.nextIs(k, "."):
				// A query on a system schema: its columns are system names.
				st.out = append(st.out, tok...)
			case st.isIdent(k, lw, first, depth):
				st.out = append(st.out, o.ident(tok)...)
			default:
				st.out = append(st.out, tok...)
			}
		}
	}
	gap(len(sql))
	return string(st.out), nil
}

// systemStatements reports, per statement, whether it names a system
// schema (information_schema.tables, mysql.user).
func (st *obfState) systemStatements() []bool {
	res := []bool{false}
	for k, t := range st.code {
		switch {
		case t.kind == tkPunct && st.text(k) == ";":
			res = append(res, false)
		case (t.kind == tkWord || t.kind == tkQuoted) && st.nextIs(k, "."):
			name := st.text(k)
			if t.kind == tkQuoted {
				name = unquoteIdent(name)
			}
			if systemSchemas[strings.ToLower(name)] {
				res[len(res)-1] = true
			}
		}
	}
	return res
}

func (st *obfState) text(k int) string { t := st.code[k]; return st.sql[t.start:t.end] }

func (st *obfState) nextIs(k int, p string) bool {
	return k+1 < len(st.code) && st.code[k+1].kind == tkPunct && st.text(k+1) == p
}

func (st *obfState) prevIs(k int, p string) bool {
	return k > 0 && st.code[k-1].kind == tkPunct && st.text(k-1) == p
}

// prevWord returns the lower-case word before token k, skipping one "=".
func (st *obfState) prevWord(k int) string {
	j := k - 1
	if j >= 0 && st.prevIs(k, "=") {
		j--
	}
	if j >= 0 && st.code[j].kind == tkWord {
		return lowerString(st.text(j))
	}
	return ""
}

// isIdent decides whether the word at k is a name to replace.
func (st *obfState) isIdent(k int, lw, first string, depth int) bool {
	kw := keywordSet()[lw]
	declared := st.names[lw]
	prevW := ""
	if k > 0 && st.code[k-1].kind == tkWord {
		prevW = lowerString(st.text(k - 1))
	}
	if st.nextIs(k, "(") {
		if st.prevIs(k, ".") {
			return true // db.func( or a qualified name
		}
		if tableIntro[prevW] || prevW == "on" && (first == "create" || first == "alter") {
			return true
		}
		if declared && !functionSet()[lw] && !typeWords[lw] {
			return true
		}
		if st.ddl && st.isPos[st.code[k].start] {
			return true
		}
		return false // a function call or syntax
	}
	if st.prevIs(k, ".") || st.nextIs(k, ".") {
		return true
	}
	if pw := st.prevWord(k); valueIntro[pw] || pw == "set" && k >= 2 && st.isCharacterSet(k) {
		return false
	}
	if first == "set" && depth == 0 && (st.nextIs(k, "=") || st.nextIs(k, ":=")) {
		return false // a system variable
	}
	if !kw {
		return true
	}
	if !declared {
		return false
	}
	if st.ddl && st.tableDef {
		return st.isPos[st.code[k].start]
	}
	// A declared name that is also a keyword: keep the keyword uses.
	if k+1 < len(st.code) && st.code[k+1].kind == tkString {
		return false // DATE '2024-01-02', COMMENT 'x'
	}
	if k > 0 {
		switch st.code[k-1].kind {
		case tkNumber, tkString, tkParam, tkHex:
			return false // INTERVAL 1 DAY
		}
	}
	if prevW == "as" && typeWords[lw] && depth > 0 {
		return false // CAST(x AS DATE)
	}
	if prevW == "interval" {
		return false
	}
	return true
}

// isCharacterSet reports whether "set" before k is CHARACTER SET / CHAR SET.
func (st *obfState) isCharacterSet(k int) bool {
	j := k - 2
	if st.prevIs(k, "=") {
		j--
	}
	if j < 0 || st.code[j].kind != tkWord {
		return false
	}
	w := lowerString(st.text(j))
	return w == "character" || w == "char"
}

// learn finds the names a DDL text declares and marks their positions.
func (st *obfState) learn() []string {
	var declared []string
	mark := func(k int) {
		t := st.code[k]
		if t.kind != tkWord && t.kind != tkQuoted {
			return
		}
		st.isPos[t.start] = true
		if t.kind == tkWord {
			declared = append(declared, lowerString(st.text(k)))
		} else {
			declared = append(declared, strings.ToLower(unquoteIdent(st.text(k))))
		}
	}
	word := func(k int) string {
		if k < len(st.code) && st.code[k].kind == tkWord {
			return lowerString(st.text(k))
		}
		return ""
	}
	// skipIf skips IF [NOT] EXISTS at k.
	skipIf := func(k int) int {
		if word(k) == "if" {
			k++
			if word(k) == "not" {
				k++
			}
			if word(k) == "exists" {
				k++
			}
		}
		return k
	}
	// name marks a possibly qualified name at k and returns the index after it.
	name := func(k int) int {
		for k < len(st.code) {
			mark(k)
			if k+2 < len(st.code) && st.nextIs(k, ".") {
				k += 2
				continue
			}
			return k + 1
		}
		return k
	}
	first := ""
	depth := 0
	tableDef := false // in CREATE/ALTER TABLE
	for k := 0; k < len(st.code); k++ {
		t := st.code[k]
		if t.kind == tkPunct {
			switch st.text(k) {
			case "(":
				depth++
				if tableDef && depth == 1 && first == "create" {
					k = st.columnName(k+1, mark) - 1
				}
			case ")":
				depth--
			case ",":
				if tableDef && depth == 1 && first == "create" {
					k = st.columnName(k+1, mark) - 1
				}
			case ";":
				first, depth, tableDef = "", 0, false
			}
			continue
		}
		w := word(k)
		if w == "" {
			if tableDef && depth >= 2 && t.kind == tkQuoted {
				mark(k)
			}
			continue
		}
		if first == "" {
			first = w
		}
		if tableDef && depth >= 2 && !st.nextIs(k, "(") {
			// Key column lists, CHECK and generated expressions: a
			// keyword-like word there is a column when declared.
			if st.names[w] || contains(declared, w) {
				st.isPos[t.start] = true
			}
		}
		switch w {
		case "table":
			tableDef = first == "create" || first == "alter"
			k = name(skipIf(k+1)) - 1
			for k+2 < len(st.code) && st.nextIs(k, ",") && first == "drop" {
				k = name(k+2) - 1
			}
		case "view", "references", "constraint", "to", "like", "after":
			if first == "create" || first == "alter" || first == "rename" {
				k = name(skipIf(k+1)) - 1
			}
		case "index", "key":
			if (first == "create" || first == "alter") && word(k+1) != "" && !ddlNoName[word(k+1)] {
				k = name(skipIf(k+1)) - 1
			}
		case "on":
			if first == "create" && !tableDef {
				k = name(k+1) - 1
			}
		case "add", "modify", "change", "drop", "alter", "rename":
			if tableDef && depth == 0 && k > 0 {
				n := word(k + 1)
				if n == "" && k+1 < len(st.code) && st.code[k+1].kind == tkQuoted || n != "" && !ddlNoName[n] {
					j := name(k+1) - 1
					if w == "change" {
						j = name(j+1) - 1
					}
					k = j
				} else if n == "column" {
					j := name(skipIf(k+2)) - 1
					if w == "change" {
						j = name(j+1) - 1
					}
					k = j
				}
			}
		}
	}
	return declared
}

func contains(ws []string, w string) bool {
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}

// columnName marks the column name that starts a CREATE TABLE element at k,
// unless the element is a key or constraint, and returns k.
func (st *obfState) columnName(k int, mark func(int)) int {
	if k >= len(st.code) {
		return k
	}
	t := st.code[k]
	if t.kind == tkQuoted {
		mark(k)
		return k + 1
	}
	if t.kind != tkWord {
		return k
	}
	switch lowerString(st.text(k)) {
	case "primary", "key", "index", "unique", "constraint", "foreign", "fulltext", "spatial", "check", "period", "like":
		return k
	}
	mark(k)
	return k + 1
}

func unquoteIdent(tok string) string {
	if len(tok) >= 2 && tok[len(tok)-1] == '`' {
		tok = tok[1 : len(tok)-1]
	} else if len(tok) >= 1 {
		tok = tok[1:]
	}
	return strings.ReplaceAll(tok, "``", "`")
}

func (st *obfState) variable(tok string) {
	if strings.HasPrefix(tok, "@@") {
		st.out = append(st.out, tok...)
		return
	}
	name := tok[1:]
	if len(name) > 0 && (name[0] == '\'' || name[0] == '"' || name[0] == '`') {
		name = unquote(name)
		if tok[1] == '`' {
			name = unquoteIdent(tok[1:])
		}
	}
	st.out = append(st.out, '@')
	st.out = append(st.out, st.o.ident(name)...)
}

// string writes the replacement of a string literal token (with an N or
// _charset introducer, kept).
func (st *obfState) string(tok string) {
	q := strings.IndexAny(tok, "'\"")
	st.out = append(st.out, tok[:q]...)
	quote := tok[q]
	st.out = append(st.out, quote)
	for _, c := range []byte(st.o.str(unquote(tok))) {
		switch c {
		case quote, '\\':
			st.out = append(st.out, '\\', c)
		case 0:
			st.out = append(st.out, '\\', '0')
		default:
			st.out = append(st.out, c)
		}
	}
	st.out = append(st.out, quote)
}

const ident32 = "abcdefghijklmnopqrstuvwxyz234567"

// maxCachedIdents bounds the cache of identifier replacements.
const maxCachedIdents = 1 << 16

// Ident returns the replacement of one identifier (a schema, table, column
// or alias name, unquoted), as Query and DDL write it: "o" and nine base-32
// characters of the keyed hash of its lower-case form.
func (o *Obfuscator) Ident(name string) string { return o.ident(name) }

func (o *Obfuscator) ident(name string) string {
	lower := strings.ToLower(name)
	o.mu.RLock()
	v, ok := o.idents[lower]
	o.mu.RUnlock()
	if ok {
		return v
	}
	m := o.mac('i', lower)
	b := make([]byte, 10)
	b[0] = 'o'
	for i := 1; i < len(b); i++ {
		b[i] = ident32[m[i]&31]
	}
	v = string(b)
	o.mu.Lock()
	if len(o.idents) < maxCachedIdents {
		o.idents[lower] = v
	}
	o.mu.Unlock()
	return v
}

// stream is a deterministic byte stream derived from a keyed hash.
type stream struct {
	o    *Obfuscator
	seed []byte
	buf  []byte
	n    uint32
}

func (o *Obfuscator) stream(kind byte, s string) *stream {
	return &stream{o: o, seed: o.mac(kind, s)}
}

func (r *stream) byte() byte {
	if len(r.buf) == 0 {
		var c [4]byte
		binary.BigEndian.PutUint32(c[:], r.n)
		r.n++
		h := hmac.New(sha256.New, r.seed)
		h.Write(c[:])
		r.buf = h.Sum(nil)
	}
	b := r.buf[0]
	r.buf = r.buf[1:]
	return b
}

// intn returns a number in [0, n) for n <= 1<<16.
func (r *stream) intn(n int) int {
	v := int(r.byte())<<8 | int(r.byte())
	return v % n
}

// str returns the replacement of a string literal's content.
func (o *Obfuscator) str(s string) string {
	if s == "" || isFormatString(s) {
		return s
	}
	r := o.stream('s', s)
	if d, ok := dateShape(s, r); ok {
		return d
	}
	hexish := len(s) >= 8
	for i := 0; i < len(s) && hexish; i++ {
		hexish = isHexDigit(s[i]) || s[i] == '-'
	}
	jsonish := s[0] == '{' || s[0] == '['
	inQuote := !jsonish // outside a JSON string, letters are keywords (true, null)
	var b []byte
	for i, c := range s {
		if jsonish && c == '"' && (i == 0 || s[i-1] != '\\') {
			inQuote = !inQuote
		}
		switch {
		case c >= 'a' && c <= 'z':
			switch {
			case !inQuote:
				b = append(b, byte(c))
			case hexish && c <= 'f':
				b = append(b, byte('a'+r.intn(6)))
			default:
				b = append(b, byte('a'+r.intn(26)))
			}
		case c >= 'A' && c <= 'Z':
			switch {
			case !inQuote:
				b = append(b, byte(c))
			case hexish && c <= 'F':
				b = append(b, byte('A'+r.intn(6)))
			default:
				b = append(b, byte('A'+r.intn(26)))
			}
		case c >= '0' && c <= '9':
			b = append(b, byte('0'+r.intn(10)))
		case c >= 0x80:
			b = append(b, byte('a'+r.intn(26))) // one character for one
		default:
			b = append(b, byte(c))
		}
	}
	return string(b)
}

// isFormatString reports whether s holds only %-specifiers and punctuation
// (a DATE_FORMAT pattern): it reveals nothing and is kept.
func isFormatString(s string) bool {
	spec := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+1 < len(s):
			i++
			spec = true
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c >= 0x80:
			return false
		}
	}
	return spec
}

// dateShape maps YYYY-MM-DD, YYYY-MM-DD hh:mm:ss[.f] and hh:mm:ss[.f] to a
// valid value of the same shape in the same year.
func dateShape(s string, r *stream) (string, bool) {
	digits := func(a, b int) bool {
		for i := a; i < b; i++ {
			if !isDigit(s[i]) {
				return false
			}
		}
		return true
	}
	isDate := len(s) >= 10 && digits(0, 4) && s[4] == '-' && digits(5, 7) && s[7] == '-' && digits(8, 10)
	timeAt := -1
	switch {
	case isDate && len(s) == 10:
	case isDate && len(s) >= 19 && (s[10] == ' ' || s[10] == 'T'):
		timeAt = 11
	case !isDate && len(s) >= 8 && s[2] == ':':
		timeAt = 0
	default:
		return "", false
	}
	if timeAt >= 0 && !(len(s) >= timeAt+8 && digits(timeAt, timeAt+2) && s[timeAt+2] == ':' &&
		digits(timeAt+3, timeAt+5) && s[timeAt+5] == ':' && digits(timeAt+6, timeAt+8)) {
		return "", false
	}
	frac := timeAt + 8
	if timeAt >= 0 && len(s) > frac {
		if s[frac] != '.' || !digits(frac+1, len(s)) {
			return "", false
		}
	}
	b := []byte(s)
	two := func(at, n, base int) {
		v := base + r.intn(n)
		b[at], b[at+1] = byte('0'+v/10), byte('0'+v%10)
	}
	if isDate {
		two(5, 12, 1)
		two(8, 28, 1)
	}
	if timeAt >= 0 {
		two(timeAt, 24, 0)
		two(timeAt+3, 60, 0)
		two(timeAt+6, 60, 0)
		for i := frac + 1; i < len(b); i++ {
			b[i] = byte('0' + r.intn(10))
		}
	}
	return string(b), true
}

// number returns the replacement of a numeric literal: 0 and 1 are kept;
// an integer part of d digits becomes one of d digits no larger than it;
// fraction digits are replaced; an exponent is kept.
func (o *Obfuscator) number(tok string) string {
	r := o.stream('n', tok)
	mant, exp := tok, ""
	if i := strings.IndexAny(tok, "eE"); i >= 0 {
		mant, exp = tok[:i], tok[i:]
	}
	ip, fp := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		ip, fp = mant[:i], mant[i:]
	}
	var b []byte
	b = append(b, smallerInt(ip, r)...)
	if fp != "" {
		b = append(b, '.')
		for i := 1; i < len(fp); i++ {
			b = append(b, byte('0'+r.intn(10)))
		}
	}
	return string(append(b, exp...))
}

// smallerInt maps the decimal digits ip to a number of as many digits that
// is not larger.
func smallerInt(ip string, r *stream) string {
	if ip == "" || len(ip) == 1 && ip[0] <= '1' {
		return ip
	}
	if len(ip) > 18 || ip[0] == '0' {
		b := []byte(ip)
		for i := 1; i < len(b); i++ {
			b[i] = byte('0' + r.intn(10))
		}
		if b[0] != '0' {
			b[0] = byte('1' + r.intn(int(ip[0]-'0')))
		}
		return string(b)
	}
	var n uint64
	for i := 0; i < len(ip); i++ {
		n = n*10 + uint64(ip[i]-'0')
	}
	lo := uint64(1)
	for i := 1; i < len(ip); i++ {
		lo *= 10
	}
	var x uint64
	for i := 0; i < 8; i++ {
		x = x<<8 | uint64(r.byte())
	}
	v := lo + x%(n-lo+1)
	return uitoa(v)
}

func uitoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(b[i:])
}

// hex returns the replacement of a hex or bit literal, of the same form and
// length. Hex that spells ASCII text keeps its shape (letters stay letters,
// digits digits), so it stays valid in a text column; other bytes are
// replaced by random ones.
func (o *Obfuscator) hex(tok string) string {
	r := o.stream('h', tok)
	b := []byte(tok)
	bits := tok[0] == 'b' || tok[0] == 'B' || tok[1] == 'b' || tok[1] == 'B'
	end := len(b)
	if b[end-1] == '\'' {
		end--
	}
	digits := b[2:end]
	if bits {
		for i := range digits {
			digits[i] = byte('0' + r.intn(2))
		}
		return string(b)
	}
	ascii := len(digits)%2 == 0
	for i := 0; ascii && i < len(digits); i += 2 {
		ascii = unhex(digits[i]) < 8
	}
	if !ascii {
		for i := range digits {
			digits[i] = "0123456789abcdef"[r.intn(16)]
		}
		return string(b)
	}
	const hexDigits = "0123456789abcdef"
	for i := 0; i < len(digits); i += 2 {
		c := unhex(digits[i])<<4 | unhex(digits[i+1])
		switch {
		case c >= 'a' && c <= 'z':
			c = byte('a' + r.intn(26))
		case c >= 'A' && c <= 'Z':
			c = byte('A' + r.intn(26))
		case c >= '0' && c <= '9':
			c = byte('0' + r.intn(10))
		}
		digits[i], digits[i+1] = hexDigits[c>>4], hexDigits[c&15]
	}
	return string(b)
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0
}
