// Package canon is the canonical result hash of the query logs, for the
// replay runner: a copy of the proxy's (package mirror's internal wire
// package, canonical.go), so that equal answers hash equal whether the proxy
// or a replay recorded them. A test checks both against the same server.
//
// A row is hashed as the concatenation of its values, each encoded as in a
// text-protocol row (NULL: 0xfb; otherwise the length-encoded canonical
// text): integers and DECIMALs as normalised decimal strings, FLOAT and
// DOUBLE rounded to 12 significant digits, DATE as YYYY-MM-DD, DATETIME and
// TIMESTAMP as YYYY-MM-DDTHH:MM:SS[.f] and TIME as [-]HH:MM:SS[.f] without
// trailing zero fractions, anything else as its bytes. The result hash is
// "<rows>:<32 hex digits>", the row count and the sum mod 2^128 of Hash128
// over each canonical row, so row order does not matter.
package canon

import (
	"encoding/binary"
	"math/bits"
	"strconv"
)

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
