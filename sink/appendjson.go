package sink

import (
	"unicode/utf8"
)

// JSONAppender is implemented by records that encode themselves. Write calls
// AppendJSON instead of encoding/json, which is several times faster for hot
// records such as query logs (see the package benchmarks). AppendJSON must
// append exactly one JSON object, without a newline, to b and return the
// extended slice; AppendJSONString helps with the strings. Write checks only
// that the result looks like one object on one line ({...}, no newline): a
// reader counts and skips a line that is not valid JSON.
type JSONAppender interface {
	AppendJSON(b []byte) ([]byte, error)
}

// AppendJSONString appends s as a JSON string, quoted and escaped the way
// encoding/json does without HTML escaping: control characters escaped,
// invalid UTF-8 replaced by U+FFFD, U+2028 and U+2029 escaped.
func AppendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while none needs escaping, then byte by
		// byte.
		for i+8 <= len(s) && !needsEscape8(uint64(s[i])|uint64(s[i+1])<<8|uint64(s[i+2])<<16|uint64(s[i+3])<<24|
			uint64(s[i+4])<<32|uint64(s[i+5])<<40|uint64(s[i+6])<<48|uint64(s[i+7])<<56) {
			i += 8
		}
		for i < len(s) && safeASCII[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// needsEscape8 reports whether any of the eight bytes in x is a control
// character, '"', '\\' or not ASCII: the bytes AppendJSONString does not copy
// as they are.
func needsEscape8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	hasZero := func(v uint64) uint64 { return (v - ones) & ^v & highs }
	below20 := (x - ones*0x20) & ^x & highs
	return (below20 | hasZero(x^(ones*'"')) | hasZero(x^(ones*'\\')) | x&highs) != 0
}

// safeASCII holds the bytes a JSON string carries as they are.
var safeASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()
