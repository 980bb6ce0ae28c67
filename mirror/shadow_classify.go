package mirror

import (
	"strings"

	"github.com/sqlshadow/sqlshadow/hashing"
)

// stmtKind is what the shadow side needs to know about one statement.
type stmtKind struct {
	text    string
	keyword string // upper-case first keyword
	class   stmtClass
	write   bool // write, lock or side effect: mirrored only with MirrorWrites
	state   bool // changes session state: always mirrored and tracked
	global  bool // never mirrored (SET GLOBAL, KILL, SET PASSWORD, LOAD DATA LOCAL)
	tempDDL bool // CREATE/DROP TEMPORARY TABLE
}

type stmtClass uint8

const (
	classOther stmtClass = iota
	classRead
	classSet
	classUse
	classBegin
	classCommit
	classRollback
	classWrite
	classDDL
)

// classify splits sql into statements and classifies each one with the
// hashing package's token scan.
func classify(sql string) []stmtKind {
	all := hashing.ClassifyAll(sql)
	out := make([]stmtKind, 0, len(all))
	for _, st := range all {
		out = append(out, kindOf(st))
	}
	return out
}

// kindOf maps a classified statement to what the shadow side does with it.
func kindOf(st hashing.Statement) stmtKind {
	k := stmtKind{text: st.Text, keyword: st.Keyword}
	f := st.Flags
	k.global = f&hashing.FlagGlobal != 0
	k.write = f&(hashing.FlagWrite|hashing.FlagLock|hashing.FlagSideEffect) != 0
	k.state = f&hashing.FlagState != 0 && !k.global
	switch st.Class {
	case hashing.ClassSelect:
		k.class = classRead
	case hashing.ClassSet:
		k.class = classSet
	case hashing.ClassUse:
		k.class = classUse
	case hashing.ClassTransaction:
		switch st.Keyword {
		case "BEGIN", "START":
			k.class = classBegin
		case "COMMIT":
			k.class = classCommit
		case "ROLLBACK":
			k.class = classRollback
			if hasWord(st.Text, "TO") {
				k.class = classOther // ROLLBACK TO SAVEPOINT
			}
		}
		k.state = true
	case hashing.ClassInsert, hashing.ClassUpdate, hashing.ClassDelete, hashing.ClassReplace:
		k.class = classWrite
	case hashing.ClassDDL:
		k.class = classDDL
		k.tempDDL = k.state && !k.write
	}
	if st.Keyword == "EXECUTE" {
		// SQL-level EXECUTE runs whatever was prepared, which the text does
		// not say: mirrored only with writes.
		k.write = true
	}
	if k.keyword == "KILL" || k.keyword == "SHUTDOWN" || k.load() {
		k.global, k.state = true, false // never mirrored, as the design says
	}
	return k
}

// load reports a LOAD DATA LOCAL statement.
func (k *stmtKind) load() bool {
	return k.keyword == "LOAD" && hasWord(k.text, "LOCAL")
}

// keywords returns up to n upper-case word tokens of text, skipping comments,
// quoted strings and identifiers.
func keywords(text string, n int) []string {
	var out []string
	i := 0
	for i < len(text) && len(out) < n {
		c := text[i]
		switch {
		case c == '-' && i+2 < len(text) && text[i+1] == '-' && (text[i+2] == ' ' || text[i+2] == '\t'), c == '#':
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(text) && text[i+1] == '*':
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				return out
			}
			i += end + 4
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(text, i)
		case isWordByte(c):
			j := i
			for j < len(text) && isWordByte(text[j]) {
				j++
			}
			out = append(out, strings.ToUpper(text[i:j]))
			i = j
		default:
			i++
		}
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// skipQuoted returns the index after the quoted string starting at i.
func skipQuoted(s string, i int) int {
	q := s[i]
	i++
	for i < len(s) {
		switch {
		case s[i] == '\\' && q != '`':
			i += 2
		case s[i] == q:
			if i+1 < len(s) && s[i+1] == q {
				i += 2
				continue
			}
			return i + 1
		default:
			i++
		}
	}
	return i
}

// routeOf returns the route tag of a sqlcommenter comment (/*route='x'*/).
func routeOf(sql string) string {
	if !strings.Contains(sql, "route=") {
		return ""
	}
	return hashing.Tags(sql)["route"]
}
