package wire

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/sqlshadow/sqlshadow/internal/canon"
)

// The canonical rows of the result_hash (docs/datasets.md) from wire
// packets: AppendTextRow and AppendBinaryRow decode a row packet and append
// each value's canonical form, as package canon defines it. Text and binary
// protocol rows of the same data give the same canonical row. A text row
// whose columns are all TextIsCanonical is its own canonical row: the
// response reader hashes it as it is, without a copy.

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10%10), byte('0'+v%10)) }

// isDateTime reports whether a temporal type t holds a time of day besides
// its date.
func isDateTime(t byte) bool {
	return t == TypeDateTime || t == TypeTimestamp || t == TypeDateTime2 || t == TypeTimestamp2
}

// appendBinaryValue decodes one non-NULL binary-protocol value of column c
// at the start of p, appends its canonical encoding, and returns the bytes
// consumed (-1 when p is too short, 0 for a NULL-typed column).
func appendBinaryValue(b []byte, c *Column, p []byte) ([]byte, int) {
	start := len(b)
	b, body := canon.StartValue(b)
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
		b = canon.AppendFloat32(b, math.Float32frombits(binary.LittleEndian.Uint32(p)))
		n = 4
	case TypeDouble:
		if len(p) < 8 {
			return b[:start], -1
		}
		b = canon.AppendFloat(b, math.Float64frombits(binary.LittleEndian.Uint64(p)))
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
			b = canon.AppendFraction(b, us)
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
		b = canon.AppendFraction(b, us)
		n = 1 + l
	default:
		s, _, m := ReadLenEncString(p)
		if m == 0 {
			return b[:start], -1
		}
		if canon.KindOf(c.Type) == canon.Decimal {
			b = canon.AppendDecimal(b, s)
		} else {
			b = append(b, s...)
		}
		n = m
	}
	return canon.EndValue(b, body), n
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
			b = canon.AppendNull(b)
			continue
		}
		b = canon.AppendText(b, canon.KindOf(cols[i].Type), v)
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
			b = canon.AppendNull(b)
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

// TextIsCanonical reports whether every text-protocol value of column c is
// already in canonical form: strings and the like, and integers without
// ZEROFILL.
func TextIsCanonical(c *Column) bool {
	return canon.TextIsCanonical(c.Type, c.Flags&FlagZerofill != 0)
}
