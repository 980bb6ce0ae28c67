package hashing

// The lexer is a single-pass byte scanner shared by every function of the
// package. It knows MySQL's lexical rules (quotes, escapes, comments,
// executable comments, hex and bit literals, variables) but no grammar.

type tokKind uint8

const (
	tkEOF     tokKind = iota
	tkWord            // unquoted identifier or keyword
	tkQuoted          // `quoted identifier`
	tkString          // 'string' or "string", also N'..' and _charset'..'
	tkNumber          // 12, 1.5, .5, 1e-3
	tkHex             // 0x1F, X'1F', 0b01, B'01'
	tkParam           // ? placeholder
	tkVar             // @user_var, @'user var', @@system.var
	tkPunct           // operators and punctuation
	tkComment         // -- .., # .., /* .. */
	tkHint            // /*+ .. */ optimizer hint
)

type token struct {
	kind       tokKind
	start, end int // byte offsets in the scanned text
}

// lexer scans s. Executable comments (/*! .. */, /*!50001 .. */,
// /*M!100101 .. */) are transparent: their markers are skipped and their
// content is scanned as code.
type lexer struct {
	s    string
	i    int
	exec bool    // inside an executable comment
	prev tokKind // kind of the last non-comment token
	// prevEnd is the last byte of the previous non-comment token when it was
	// punctuation (')' matters for ".5"), 0 otherwise.
	prevPunct byte
	bad       bool // an unterminated string, identifier or comment was seen
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c >= 0x80
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// eqFold reports whether the ASCII word w equals the lower-case constant k,
// ignoring case.
func eqFold(w, k string) bool {
	if len(w) != len(k) {
		return false
	}
	for i := 0; i < len(w); i++ {
		if lowerByte(w[i]) != k[i] {
			return false
		}
	}
	return true
}

// next returns the next token, comments included.
func (l *lexer) next() token {
	s := l.s
	for {
		i := l.i
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		l.i = i
		if i >= len(s) {
			return token{kind: tkEOF, start: i, end: i}
		}
		c := s[i]
		switch {
		case c == '*' && l.exec && i+1 < len(s) && s[i+1] == '/':
			l.exec = false
			l.i = i + 2
			continue
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			if !l.exec && i+2 < len(s) && (s[i+2] == '!' || s[i+2] == 'M' && i+3 < len(s) && s[i+3] == '!') {
				j := i + 3
				if s[i+2] == 'M' {
					j++
				}
				for j < len(s) && isDigit(s[j]) {
					j++
				}
				l.exec = true
				l.i = j
				continue
			}
			kind := tkComment
			if i+2 < len(s) && s[i+2] == '+' {
				kind = tkHint
			}
			j := i + 2
			for {
				if j+1 >= len(s) {
					l.bad = true
					j = len(s)
					break
				}
				if s[j] == '*' && s[j+1] == '/' {
					j += 2
					break
				}
				j++
			}
			l.i = j
			return token{kind: kind, start: i, end: j}
		case c == '#' || c == '-' && i+1 < len(s) && s[i+1] == '-' && (i+2 >= len(s) || s[i+2] <= ' '):
			j := i + 1
			for j < len(s) && s[j] != '\n' {
				j++
			}
			l.i = j
			return token{kind: tkComment, start: i, end: j}
		}
		return l.code(i, c)
	}
}

// nextCode returns the next token that is not a comment or hint.
func (l *lexer) nextCode() token {
	for {
		t := l.next()
		if t.kind != tkComment && t.kind != tkHint {
			return t
		}
	}
}

// peekCode returns the next code token without consuming it.
func (l *lexer) peekCode() token {
	save := *l
	t := l.nextCode()
	*l = save
	return t
}

func (l *lexer) emit(kind tokKind, start, end int) token {
	l.i = end
	l.prev = kind
	l.prevPunct = 0
	if kind == tkPunct {
		l.prevPunct = l.s[start]
	}
	return token{kind: kind, start: start, end: end}
}

// quoted scans a quoted run starting at s[i] == q and returns its end.
func (l *lexer) quoted(i int, q byte, escapes bool) int {
	s := l.s
	j := i + 1
	for j < len(s) {
		c := s[j]
		if c == '\\' && escapes {
			j += 2
			continue
		}
		if c == q {
			if j+1 < len(s) && s[j+1] == q {
				j += 2
				continue
			}
			return j + 1
		}
		j++
	}
	l.bad = true
	return len(s)
}

func (l *lexer) code(i int, c byte) token {
	s := l.s
	switch {
	case c == '\'' || c == '"':
		return l.emit(tkString, i, l.quoted(i, c, true))
	case c == '`':
		return l.emit(tkQuoted, i, l.quoted(i, c, false))
	case isDigit(c) || c == '.' && i+1 < len(s) && isDigit(s[i+1]) && l.prev != tkWord && l.prev != tkQuoted && l.prevPunct != ')':
		return l.number(i)
	case isIdentByte(c):
		j := i + 1
		for j < len(s) && isIdentByte(s[j]) {
			j++
		}
		if j < len(s) && s[j] == '\'' {
			switch {
			case j == i+1 && (c == 'x' || c == 'X' || c == 'b' || c == 'B'):
				return l.emit(tkHex, i, l.quoted(j, '\'', false))
			case j == i+1 && (c == 'n' || c == 'N') || c == '_':
				return l.emit(tkString, i, l.quoted(j, '\'', true))
			}
		}
		return l.emit(tkWord, i, j)
	case c == '?':
		return l.emit(tkParam, i, i+1)
	case c == '@':
		j := i + 1
		if j < len(s) && s[j] == '@' {
			j++
		}
		if j < len(s) && (s[j] == '\'' || s[j] == '"' || s[j] == '`') {
			return l.emit(tkVar, i, l.quoted(j, s[j], s[j] != '`'))
		}
		for j < len(s) && (isIdentByte(s[j]) || s[j] == '.') {
			j++
		}
		for j > i+1 && s[j-1] == '.' {
			j-- // a trailing dot is punctuation
		}
		if j == i+1 || j == i+2 && s[i+1] == '@' {
			return l.emit(tkPunct, i, j)
		}
		return l.emit(tkVar, i, j)
	}
	// Punctuation and operators.
	j := i + 1
	if j < len(s) {
		d := s[j]
		switch c {
		case '<':
			if d == '=' && j+1 < len(s) && s[j+1] == '>' {
				j += 2
			} else if d == '=' || d == '>' || d == '<' {
				j++
			}
		case '>':
			if d == '=' || d == '>' {
				j++
			}
		case '!':
			if d == '=' {
				j++
			}
		case ':':
			if d == '=' {
				j++
			}
		case '|':
			if d == '|' {
				j++
			}
		case '&':
			if d == '&' {
				j++
			}
		case '-':
			if d == '>' {
				j++
				if j < len(s) && s[j] == '>' {
					j++
				}
			}
		}
	}
	return l.emit(tkPunct, i, j)
}

func (l *lexer) number(i int) token {
	s := l.s
	j := i
	if s[i] == '0' && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') {
		k := i + 2
		for k < len(s) && isHexDigit(s[k]) {
			k++
		}
		if k > i+2 && (k >= len(s) || !isIdentByte(s[k])) {
			return l.emit(tkHex, i, k)
		}
	}
	if s[i] == '0' && i+1 < len(s) && (s[i+1] == 'b' || s[i+1] == 'B') {
		k := i + 2
		for k < len(s) && (s[k] == '0' || s[k] == '1') {
			k++
		}
		if k > i+2 && (k >= len(s) || !isIdentByte(s[k])) {
			return l.emit(tkHex, i, k)
		}
	}
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	dot := false
	if j < len(s) && s[j] == '.' {
		dot = true
		j++
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			j = k
		}
	}
	if !dot && j < len(s) && isIdentByte(s[j]) {
		// 1abc, 2020_sales: an identifier that starts with digits.
		for j < len(s) && isIdentByte(s[j]) {
			j++
		}
		return l.emit(tkWord, i, j)
	}
	return l.emit(tkNumber, i, j)
}
