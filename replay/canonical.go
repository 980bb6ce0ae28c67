package replay

import (
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sqlshadow/sqlshadow/internal/canon"
)

// The result_hash, columns_hash and float_cols of a replayed statement, from
// the values go-mysql decoded: the canonical forms are package
// internal/canon's, the proxy's own, so a replay and the proxy record equal
// answers with equal hashes.

// appendRow appends the canonical row of one row go-mysql decoded from the
// text protocol (integers and floats parsed, everything else as bytes).
func appendRow(b []byte, fields []*mysql.Field, row []mysql.FieldValue) []byte {
	for i := range row {
		v := &row[i]
		var body int
		switch v.Type {
		case mysql.FieldValueTypeNull:
			b = canon.AppendNull(b)
		case mysql.FieldValueTypeSigned:
			b, body = canon.StartValue(b)
			b = canon.EndValue(strconv.AppendInt(b, v.AsInt64(), 10), body)
		case mysql.FieldValueTypeUnsigned:
			b, body = canon.StartValue(b)
			b = canon.EndValue(strconv.AppendUint(b, v.AsUint64(), 10), body)
		case mysql.FieldValueTypeFloat:
			b, body = canon.StartValue(b)
			b = canon.EndValue(canon.AppendFloat(b, v.AsFloat64()), body)
		default:
			b = canon.AppendText(b, canon.KindOf(fields[i].Type), v.AsString())
		}
	}
	return b
}

// appendColumns appends a result set's columns to a columns key, and
// reports whether one of them is FLOAT or DOUBLE.
func appendColumns(key []byte, fields []*mysql.Field) ([]byte, bool) {
	key = canon.NextResultSet(key)
	floats := false
	for _, f := range fields {
		key = canon.AppendColumn(key, f.Name, f.Type)
		floats = floats || canon.KindOf(f.Type) == canon.Float
	}
	return key, floats
}
