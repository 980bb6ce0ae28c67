package wire

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
)

// Canonical values (the result_hash contract of docs/datasets.md): a row is hashed as the
// concatenation of its values, each encoded as in a text-protocol row:
//
//	NULL:      0xfb
//	non-NULL:  length-encoded string of v
//
// where v is the canonical text of the value: integers and DECIMALs as
// normalised decimal strings ("1.50" -> "1.5", "-0" -> "0", "007" -> "7"),
// FLOAT and DOUBLE rounded to 12 significant digits (strconv 'g' form),
// DATE as YYYY-MM-DD, DATETIME and TIMESTAMP as YYYY-MM-DDTHH:MM:SS[.f]
// without trailing zero fractions, TIME as [-]HH:MM:SS[.f] likewise, and
// every other type (strings, BIT, JSON, ENUM, ...) as its raw bytes. Text and
// binary protocol rows of the same data give the same canonical row. A
// text-protocol row whose columns are all strings or integers (without
// ZEROFILL) is its own canonical row: it is hashed as it is, without a copy.

// appendValue appends the canonical encoding of a non-NULL text-protocol
// value v of column c.
func appendTextValue(b []byte, c *Column, v []byte) []byte {
	start := len(b)
	b = append(b, 0) // room for a one-byte length
	body := len(b)
	switch {
	case IsInteger(c.Type) || IsDecimal(c.Type):
		b = appendDecimal(b, v)
	case IsFloat(c.Type):
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			b = append(b, v...)
		} else {
			b = appendFloat(b, f)
		}
	case isDate(c.Type) || isDateTime(c.Type) || isTime(c.Type):
		b = appendTemporalText(b, v)
	default:
		b = append(b, v...)
	}
	return fixLen(b, start, body)
}

// fixLen writes the length-encoded length of b[body:] at b[start] (one byte
// was reserved there), moving the body when the length needs more bytes.
func fixLen(b []byte, start, body int) []byte {
	n := len(b) - body
	if n < 251 {
		b[start] = byte(n)
		return b
	}
	var tmp [9]byte
	ln := len(AppendLenEnc(tmp[:0], uint64(n)))
	extra := ln - 1
	b = append(b, tmp[:extra]...) // grow
	copy(b[body+extra:], b[body:len(b)-extra])
	copy(b[start:], tmp[:ln])
	return b
}

// appendDecimal appends the normalised form of a decimal string.
func appendDecimal(b, v []byte) []byte {
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
			// Not a plain decimal (exponent, garbage): keep as is.
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

func appendFloat(b []byte, f float64) []byte {
	if f == 0 {
		return append(b, '0') // -0 and 0
	}
	return strconv.AppendFloat(b, f, 'g', 12, 64)
}

// appendTemporalText canonicalises "YYYY-MM-DD HH:MM:SS.ffffff" and
// "[-]HHH:MM:SS.ffffff": the date and time separator becomes 'T' and
// trailing zeros of the fraction go.
func appendTemporalText(b, v []byte) []byte {
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

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10%10), byte('0'+v%10)) }

// AppendFraction appends the fraction of a second us microseconds make,
// without trailing zeros (".5" for 500000), and nothing for 0.
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

// appendBinaryValue decodes one non-NULL binary-protocol value of column c
// at the start of p, appends its canonical encoding, and returns the bytes
// consumed (0 when p is too short).
func appendBinaryValue(b []byte, c *Column, p []byte) ([]byte, int) {
	start := len(b)
	b = append(b, 0)
	body := len(b)
	unsigned := c.Flags&FlagUnsigned != 0
	var n int
	switch c.Type {
	case TypeNull:
		return b[:start], 0
	case TypeTiny:
		if len(p) < 1 {
			return b[:start], -1
		}
		if unsigned {
			b = strconv.AppendUint(b, uint64(p[0]), 10)
		} else {
			b = strconv.AppendInt(b, int64(int8(p[0])), 10)
		}
		n = 1
	case TypeShort, TypeYear:
		if len(p) < 2 {
			return b[:start], -1
		}
		v := binary.LittleEndian.Uint16(p)
		if unsigned || c.Type == TypeYear {
			b = strconv.AppendUint(b, uint64(v), 10)
		} else {
			b = strconv.AppendInt(b, int64(int16(v)), 10)
		}
		n = 2
	case TypeLong, TypeInt24:
		if len(p) < 4 {
			return b[:start], -1
		}
		v := binary.LittleEndian.Uint32(p)
		if unsigned {
			b = strconv.AppendUint(b, uint64(v), 10)
		} else {
			b = strconv.AppendInt(b, int64(int32(v)), 10)
		}
		n = 4
	case TypeLongLong:
		if len(p) < 8 {
			return b[:start], -1
		}
		v := binary.LittleEndian.Uint64(p)
		if unsigned {
			b = strconv.AppendUint(b, v, 10)
		} else {
			b = strconv.AppendInt(b, int64(v), 10)
		}
		n = 8
	case TypeFloat:
		if len(p) < 4 {
			return b[:start], -1
		}
		f := math.Float32frombits(binary.LittleEndian.Uint32(p))
		// The shortest decimal form of the float32 first, as the text
		// protocol prints it, then the 12-digit rounding.
		s := strconv.AppendFloat(b[len(b):], float64(f), 'g', -1, 32)
		g, _ := strconv.ParseFloat(string(s), 64)
		b = appendFloat(b, g)
		n = 4
	case TypeDouble:
		if len(p) < 8 {
			return b[:start], -1
		}
		b = appendFloat(b, math.Float64frombits(binary.LittleEndian.Uint64(p)))
		n = 8
	case TypeDate, TypeNewDate, TypeDateTime, TypeTimestamp, TypeDateTime2, TypeTimestamp2:
		if len(p) < 1 || len(p) < 1+int(p[0]) {
			return b[:start], -1
		}
		l := int(p[0])
		d := p[1 : 1+l]
		var y, mo, da, h, mi, s int
		var us uint32
		if l >= 4 {
			y, mo, da = int(binary.LittleEndian.Uint16(d)), int(d[2]), int(d[3])
		}
		if l >= 7 {
			h, mi, s = int(d[4]), int(d[5]), int(d[6])
		}
		if l >= 11 {
			us = binary.LittleEndian.Uint32(d[7:])
		}
		b = append2(b, y/100)
		b = append2(b, y%100)
		b = append(b, '-')
		b = append2(b, mo)
		b = append(b, '-')
		b = append2(b, da)
		if isDateTime(c.Type) {
			b = append(b, 'T')
			b = append2(b, h)
			b = append(b, ':')
			b = append2(b, mi)
			b = append(b, ':')
			b = append2(b, s)
			b = AppendFraction(b, us)
		}
		n = 1 + l
	case TypeTime, TypeTime2:
		if len(p) < 1 || len(p) < 1+int(p[0]) {
			return b[:start], -1
		}
		l := int(p[0])
		d := p[1 : 1+l]
		var neg bool
		var hours, mi, s int
		var us uint32
		if l >= 8 {
			neg = d[0] == 1
			hours = int(binary.LittleEndian.Uint32(d[1:]))*24 + int(d[5])
			mi, s = int(d[6]), int(d[7])
		}
		if l >= 12 {
			us = binary.LittleEndian.Uint32(d[8:])
		}
		if neg {
			b = append(b, '-')
		}
		if hours >= 100 {
			b = strconv.AppendInt(b, int64(hours), 10)
		} else {
			b = append2(b, hours)
		}
		b = append(b, ':')
		b = append2(b, mi)
		b = append(b, ':')
		b = append2(b, s)
		b = AppendFraction(b, us)
		n = 1 + l
	default:
		s, _, m := ReadLenEncString(p)
		if m == 0 {
			return b[:start], -1
		}
		if IsDecimal(c.Type) {
			b = appendDecimal(b, s)
		} else {
			b = append(b, s...)
		}
		n = m
	}
	return fixLen(b, start, body), n
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

// AppendTextRow appends the canonical row of a text-protocol row packet.
func AppendTextRow(b []byte, cols []Column, p []byte) ([]byte, error) {
	pos := 0
	for i := range cols {
		v, null, n := ReadLenEncString(p[pos:])
		if n == 0 {
			return b, malformed("text row: value")
		}
		pos += n
		if null {
			b = append(b, 0xfb)
			continue
		}
		b = appendTextValue(b, &cols[i], v)
	}
	if pos != len(p) {
		return b, malformed("text row: trailing bytes")
	}
	return b, nil
}

// AppendBinaryRow appends the canonical row of a binary-protocol row packet
// (header 0x00, NULL bitmap with an offset of 2, values).
func AppendBinaryRow(b []byte, cols []Column, p []byte) ([]byte, error) {
	nb := (len(cols) + 7 + 2) / 8
	if len(p) < 1+nb || p[0] != 0 {
		return b, malformed("binary row: header")
	}
	bitmap := p[1 : 1+nb]
	pos := 1 + nb
	for i := range cols {
		bit := i + 2
		if bitmap[bit/8]&(1<<(bit%8)) != 0 || cols[i].Type == TypeNull {
			b = append(b, 0xfb)
			continue
		}
		var n int
		b, n = appendBinaryValue(b, &cols[i], p[pos:])
		if n < 0 {
			return b, malformed("binary row: value")
		}
		pos += n
	}
	if pos != len(p) {
		return b, malformed("binary row: trailing bytes")
	}
	return b, nil
}

// TextIsCanonical reports whether a text-protocol value of column c is
// already in canonical form: strings and the like, and integers without
// ZEROFILL.
func TextIsCanonical(c *Column) bool {
	switch {
	case IsInteger(c.Type):
		return c.Flags&FlagZerofill == 0
	case IsDecimal(c.Type), IsFloat(c.Type), isDate(c.Type), isDateTime(c.Type), isTime(c.Type):
		return false
	}
	return true
}
