package canon

import (
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// AppendRow appends the canonical row of one row go-mysql decoded from the
// text protocol (integers and floats parsed, everything else as bytes).
func AppendRow(b []byte, fields []*mysql.Field, row []mysql.FieldValue) []byte {
	for i := range row {
		v := &row[i]
		if v.Type == mysql.FieldValueTypeNull {
			b = append(b, 0xfb)
			continue
		}
		start := len(b)
		b = append(b, 0)
		body := len(b)
		switch v.Type {
		case mysql.FieldValueTypeSigned:
			b = strconv.AppendInt(b, v.AsInt64(), 10)
		case mysql.FieldValueTypeUnsigned:
			b = strconv.AppendUint(b, v.AsUint64(), 10)
		case mysql.FieldValueTypeFloat:
			b = appendFloat(b, v.AsFloat64())
		default:
			s := v.AsString()
			t := fields[i].Type
			switch {
			case isDecimal(t):
				b = appendDecimal(b, s)
			case isTemporal(t):
				b = appendTemporalText(b, s)
			default:
				b = append(b, s...)
			}
		}
		b = fixLen(b, start, body)
	}
	return b
}

// AppendColumnsKey appends what the columns hash covers for one result
// set: each column's name, a zero byte and its type. Result sets after the
// first are preceded by 0xff; the columns hash is the hex MD5 of the key.
func AppendColumnsKey(b []byte, fields []*mysql.Field) []byte {
	for _, f := range fields {
		b = append(b, f.Name...)
		b = append(b, 0, f.Type)
	}
	return b
}

// HasFloat reports whether a column is FLOAT or DOUBLE.
func HasFloat(fields []*mysql.Field) bool {
	for _, f := range fields {
		if f.Type == mysql.MYSQL_TYPE_FLOAT || f.Type == mysql.MYSQL_TYPE_DOUBLE {
			return true
		}
	}
	return false
}

func isDecimal(t byte) bool { return t == mysql.MYSQL_TYPE_DECIMAL || t == mysql.MYSQL_TYPE_NEWDECIMAL }

func isTemporal(t byte) bool {
	switch t {
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP,
		mysql.MYSQL_TYPE_DATETIME2, mysql.MYSQL_TYPE_TIMESTAMP2, mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2:
		return true
	}
	return false
}

// fixLen writes the length-encoded length of b[body:] at b[start] (one byte
// was reserved there), moving the body when the length needs more bytes.
func fixLen(b []byte, start, body int) []byte {
	n := len(b) - body
	if n < 251 {
		b[start] = byte(n)
		return b
	}
	tmp := mysql.PutLengthEncodedInt(uint64(n))
	extra := len(tmp) - 1
	b = append(b, tmp[:extra]...) // grow
	copy(b[body+extra:], b[body:len(b)-extra])
	copy(b[start:], tmp)
	return b
}
