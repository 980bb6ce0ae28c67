// Package canon is the canonical form of result rows behind the result_hash,
// columns_hash and float_cols fields of the query logs (docs/datasets.md), in
// one place for every producer: the proxy builds canonical rows from wire
// packets (mirror/internal/wire), the replay runner from the values its
// client decoded (replay). Equal answers hash equal whichever recorded them.
//
// # Canonical rows
//
// A canonical row is the concatenation of its values, each encoded as in a
// text-protocol row: NULL as the byte 0xfb (AppendNull), anything else as the
// length-encoded string of its canonical text. The canonical text depends on
// the column type's Kind (KindOf):
//
//   - Integer and Decimal: a normalised decimal string ("1.50" -> "1.5",
//     "-0" -> "0", "007" -> "7");
//   - Float: rounded to 12 significant digits, strconv's 'g' form, a FLOAT
//     first taken at its shortest float32 decimal form (AppendFloat,
//     AppendFloat32);
//   - Temporal: DATE as YYYY-MM-DD, DATETIME and TIMESTAMP as
//     YYYY-MM-DDTHH:MM:SS[.f], TIME as [-]HH:MM:SS[.f], without trailing zero
//     fractions (AppendTemporal, AppendFraction);
//   - Bytes (strings, BIT, JSON, ENUM, SET, ...): the raw bytes.
//
// AppendText appends one text-protocol value in canonical form; a caller
// that decodes values itself (binary protocol, typed values) brackets its
// canonical text with StartValue and EndValue.
//
// # Hashes
//
// RowSum accumulates a result: the row count and the sum, mod 2^128, of
// Hash128 over each canonical row, so neither row order nor the split of a
// result into fetches matters; its String is the result_hash. The columns
// hash is the hex MD5 of a columns key (AppendColumn, NextResultSet,
// ColumnsHash). Everything here is a pure function or a value type: no
// errors, no state, safe for concurrent use on separate values.
package canon

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"math/bits"
	"strconv"
)

// Kind is the canonical form a column type's values take.
type Kind uint8

const (
	// Bytes values are canonical as they are: strings, BIT, JSON, ENUM,
	// SET, geometry and any type not named below.
	Bytes Kind = iota
	// Integer values (YEAR included) are normalised decimal strings.
	Integer
	// Decimal values are normalised decimal strings.
	Decimal
	// Float values (FLOAT and DOUBLE) are rounded to 12 significant digits.
	Float
	// Temporal values (DATE, DATETIME, TIMESTAMP, TIME) are ISO strings
	// without trailing zero fractions.
	Temporal
)

// The column type codes of the MySQL protocol that have a canonical form of
// their own.
const (
	typeDecimal    = 0x00
	typeTiny       = 0x01
	typeShort      = 0x02
	typeLong       = 0x03
	typeFloat      = 0x04
	typeDouble     = 0x05
	typeTimestamp  = 0x07
	typeLongLong   = 0x08
	typeInt24      = 0x09
	typeDate       = 0x0a
	typeTime       = 0x0b
	typeDateTime   = 0x0c
	typeYear       = 0x0d
	typeNewDate    = 0x0e
	typeTimestamp2 = 0x11
	typeDateTime2  = 0x12
	typeTime2      = 0x13
	typeNewDecimal = 0xf6
)

// KindOf returns the Kind of a column of protocol type code typ.
func KindOf(typ byte) Kind {
	switch typ {
	case typeTiny, typeShort, typeLong, typeLongLong, typeInt24, typeYear:
		return Integer
	case typeDecimal, typeNewDecimal:
		return Decimal
	case typeFloat, typeDouble:
		return Float
	case typeDate, typeNewDate, typeDateTime, typeTimestamp, typeDateTime2, typeTimestamp2, typeTime, typeTime2:
		return Temporal
	}
	return Bytes
}

// TextIsCanonical reports whether every text-protocol value of a column of
// type typ is already its canonical text: Bytes columns, and Integer
// columns without ZEROFILL. A text row whose columns all are is its own
// canonical row, to be hashed without a copy.
func TextIsCanonical(typ byte, zerofill bool) bool {
	switch KindOf(typ) {
	case Bytes:
		return true
	case Integer:
		return !zerofill
	}
	return false
}

// AppendNull appends a NULL value to a canonical row.
func AppendNull(row []byte) []byte { return append(row, 0xfb) }

// AppendText appends the canonical encoding of a non-NULL text-protocol
// value v of Kind k to a canonical row.
func AppendText(row []byte, k Kind, v []byte) []byte {
	row, body := StartValue(row)
	switch k {
	case Integer, Decimal:
		row = AppendDecimal(row, v)
	case Float:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			row = append(row, v...)
		} else {
			row = AppendFloat(row, f)
		}
	case Temporal:
		row = AppendTemporal(row, v)
	default:
		row = append(row, v...)
	}
	return EndValue(row, body)
}

// StartValue begins a non-NULL value of a canonical row: it reserves room
// for the value's length and returns where its canonical text starts. The
// caller appends the text, then calls EndValue.
func StartValue(row []byte) ([]byte, int) {
	row = append(row, 0)
	return row, len(row)
}

// EndValue ends the value StartValue began at body: it writes the
// length-encoded length of row[body:] in front of it, moving the text when
// the length needs more than one byte.
func EndValue(row []byte, body int) []byte {
	n := len(row) - body
	if n < 251 {
		row[body-1] = byte(n)
		return row
	}
	var tmp [9]byte
	ln := appendLenEnc(tmp[:0], uint64(n))
	extra := len(ln) - 1
	row = append(row, tmp[:extra]...) // grow
	copy(row[body+extra:], row[body:len(row)-extra])
	copy(row[body-1:], ln)
	return row
}

// appendLenEnc appends n as a length-encoded integer.
func appendLenEnc(b []byte, n uint64) []byte {
	switch {
	case n < 251:
		return append(b, byte(n))
	case n < 1<<16:
		return append(b, 0xfc, byte(n), byte(n>>8))
	case n < 1<<24:
		return append(b, 0xfd, byte(n), byte(n>>8), byte(n>>16))
	}
	return binary.LittleEndian.AppendUint64(append(b, 0xfe), n)
}

// AppendDecimal appends the normalised form of a decimal string v: no sign
// for zero, no leading zeros in the integer part (but one "0"), no trailing
// zeros in the fraction, no "." without a fraction. Text that is not a
// plain decimal (an exponent, garbage) is appended as it is.
func AppendDecimal(b, v []byte) []byte {
	neg := false
	if len(v) > 0 && (v[0] == '-' || v[0] == '+') {
		neg = v[0] == '-'
		v = v[1:]
	}
	intPart, frac := v, []byte(nil)
	for i, c := range v {
		if c == '.' {
			intPart, frac = v[:i], v[i+1:]
			break
		}
		if c < '0' || c > '9' {
			if neg {
				b = append(b, '-')
			}
			return append(b, v...)
		}
	}
	for len(intPart) > 0 && intPart[0] == '0' {
		intPart = intPart[1:]
	}
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	if len(intPart) == 0 && len(frac) == 0 {
		return append(b, '0')
	}
	if neg {
		b = append(b, '-')
	}
	if len(intPart) == 0 {
		b = append(b, '0')
	}
	b = append(b, intPart...)
	if len(frac) > 0 {
		b = append(b, '.')
		b = append(b, frac...)
	}
	return b
}

// AppendFloat appends the canonical text of a FLOAT or DOUBLE value: 12
// significant digits in strconv's 'g' form, and "0" for both zeros.
func AppendFloat(b []byte, f float64) []byte {
	if f == 0 {
		return append(b, '0') // -0 and 0
	}
	return strconv.AppendFloat(b, f, 'g', 12, 64)
}

// AppendFloat32 appends the canonical text of a FLOAT the binary protocol
// sent as a float32: its shortest decimal form first, as the text protocol
// prints it, then AppendFloat's rounding.
func AppendFloat32(b []byte, f float32) []byte {
	s := strconv.AppendFloat(b[len(b):], float64(f), 'g', -1, 32)
	g, _ := strconv.ParseFloat(string(s), 64)
	return AppendFloat(b, g)
}

// AppendTemporal appends the canonical text of a text-protocol temporal
// value ("YYYY-MM-DD", "YYYY-MM-DD HH:MM:SS.ffffff", "[-]HHH:MM:SS.ffffff"):
// the date and time separator becomes 'T', and trailing zeros of the
// fraction go (with the '.' when nothing is left).
func AppendTemporal(b, v []byte) []byte {
	start := len(b)
	b = append(b, v...)
	out := b[start:]
	if len(out) > 10 && out[10] == ' ' && out[4] == '-' {
		out[10] = 'T'
	}
	for i := len(out) - 1; i >= 0; i-- {
		if out[i] == '.' {
			j := len(out)
			for j > i+1 && out[j-1] == '0' {
				j--
			}
			if j == i+1 {
				j = i
			}
			return b[:start+j]
		}
		if out[i] < '0' || out[i] > '9' {
			break
		}
	}
	return b
}

// AppendFraction appends the fraction of a second us microseconds make,
// without trailing zeros (".5" for 500000), and nothing for 0: the end of a
// canonical DATETIME, TIMESTAMP or TIME decoded from its parts.
func AppendFraction(b []byte, us uint32) []byte {
	if us == 0 {
		return b
	}
	var d [6]byte
	for i := 5; i >= 0; i-- {
		d[i] = byte('0' + us%10)
		us /= 10
	}
	n := 6
	for n > 0 && d[n-1] == '0' {
		n--
	}
	b = append(b, '.')
	return append(b, d[:n]...)
}

// Hash128 is the 128-bit hash of one canonical row: four 64-bit lanes over
// 32-byte stripes of little-endian words (the xxHash64 round), the remaining
// words and bytes folded into the lanes, and two murmur3 fmix64 finalisers
// over different combinations of the lanes. Row hashes are summed mod 2^128,
// so the sum does not depend on row order.
func Hash128(p []byte) (hi, lo uint64) {
	const (
		p1 = 0x9e3779b185ebca87
		p2 = 0xc2b2ae3d27d4eb4f
		p3 = 0x165667b19e3779f9
		p4 = 0x85ebca77c2b2ae63
	)
	n := uint64(len(p))
	v1 := uint64(0x243f6a8885a308d3)
	v2 := uint64(0x13198a2e03707344)
	v3 := uint64(0xa4093822299f31d0)
	v4 := uint64(0x082efa98ec4e6c89)
	for len(p) >= 32 {
		v1 = bits.RotateLeft64(v1+binary.LittleEndian.Uint64(p)*p2, 31) * p1
		v2 = bits.RotateLeft64(v2+binary.LittleEndian.Uint64(p[8:])*p2, 31) * p1
		v3 = bits.RotateLeft64(v3+binary.LittleEndian.Uint64(p[16:])*p2, 31) * p1
		v4 = bits.RotateLeft64(v4+binary.LittleEndian.Uint64(p[24:])*p2, 31) * p1
		p = p[32:]
	}
	lane := 0
	for len(p) >= 8 {
		w := binary.LittleEndian.Uint64(p)
		switch lane {
		case 0:
			v1 = bits.RotateLeft64(v1+w*p2, 31) * p1
		case 1:
			v2 = bits.RotateLeft64(v2+w*p2, 31) * p1
		default:
			v3 = bits.RotateLeft64(v3+w*p2, 31) * p1
		}
		lane++
		p = p[8:]
	}
	if len(p) > 0 {
		var t [8]byte
		copy(t[:], p)
		w := binary.LittleEndian.Uint64(t[:]) ^ uint64(len(p))<<59
		v4 = bits.RotateLeft64(v4+w*p2, 31) * p1
	}
	a := bits.RotateLeft64(v1, 1) + bits.RotateLeft64(v2, 7) + bits.RotateLeft64(v3, 12) + bits.RotateLeft64(v4, 18) + n*p3
	b := (v1 ^ bits.RotateLeft64(v3, 29)) + (v2^bits.RotateLeft64(v4, 41))*p4 + n
	return fmix64(a ^ fmix64(b)), fmix64(b + a*p3)
}

// fmix64 is murmur3's 64-bit finaliser.
func fmix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

// RowSum accumulates the canonical result hash: the row count and the sum
// mod 2^128 of the row hashes. The zero value is an empty result.
type RowSum struct {
	// Rows is the number of rows added.
	Rows   int64
	hi, lo uint64
}

// Add adds one canonical row.
func (s *RowSum) Add(row []byte) {
	hi, lo := Hash128(row)
	var c uint64
	s.lo, c = bits.Add64(s.lo, lo, 0)
	s.hi, _ = bits.Add64(s.hi, hi, c)
	s.Rows++
}

// Merge adds the rows of o.
func (s *RowSum) Merge(o RowSum) {
	var c uint64
	s.lo, c = bits.Add64(s.lo, o.lo, 0)
	s.hi, _ = bits.Add64(s.hi, o.hi, c)
	s.Rows += o.Rows
}

// String returns the result_hash form: "<rows>:<32 lower-case hex digits>".
func (s RowSum) String() string {
	var b [20 + 1 + 32]byte
	out := strconv.AppendInt(b[:0], s.Rows, 10)
	out = append(out, ':')
	const hex = "0123456789abcdef"
	for i := 60; i >= 0; i -= 4 {
		out = append(out, hex[(s.hi>>uint(i))&15])
	}
	for i := 60; i >= 0; i -= 4 {
		out = append(out, hex[(s.lo>>uint(i))&15])
	}
	return string(out)
}

// NextResultSet begins the columns of a result set in a columns key: the
// separator 0xff, unless key is empty (the response's first result set).
func NextResultSet(key []byte) []byte {
	if len(key) > 0 {
		return append(key, 0xff)
	}
	return key
}

// AppendColumn appends one column to a columns key: its name, a zero byte
// and its protocol type code.
func AppendColumn(key, name []byte, typ byte) []byte {
	key = append(key, name...)
	return append(key, 0, typ)
}

// ColumnsSum returns the MD5 of a columns key.
func ColumnsSum(key []byte) [md5.Size]byte { return md5.Sum(key) }

// ColumnsHash returns the columns_hash of a columns key: the lower-case hex
// MD5 of it.
func ColumnsHash(key []byte) string {
	s := md5.Sum(key)
	return hex.EncodeToString(s[:])
}
