package parquet

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	pq "github.com/parquet-go/parquet-go"

	"github.com/sqlshadow/sqlshadow/sink"
)

// kind is how a field's values are stored.
type kind uint8

const (
	kindString kind = iota // BYTE_ARRAY STRING
	kindBool               // BOOLEAN
	kindInt                // INT64 (signed), from any Go integer
	kindFloat              // DOUBLE
	kindTime               // INT64 TIMESTAMP(MICROS, UTC), from sink.Time
	kindJSON               // BYTE_ARRAY JSON: slices, maps, structs, json.RawMessage
)

// field is one top-level field of the record type and its column.
type field struct {
	name     string       // the JSON name, and the column's name
	offset   uintptr      // in the record
	typ      reflect.Type // the field's Go type
	elem     reflect.Type // the type a pointer field points to; typ otherwise
	kind     kind
	ptr      bool // a pointer to a scalar: nil is null
	optional bool // omitempty or a pointer: the column is nullable
	col      int  // leaf column index in the schema (columns sorted by name)
}

var (
	timeType = reflect.TypeFor[sink.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// fieldsOf returns the fields of struct type t with a JSON name, and the
// Parquet schema built from them.
func fieldsOf(t reflect.Type) ([]field, *pq.Schema, error) {
	if t.Kind() != reflect.Struct {
		return nil, nil, fmt.Errorf("parquet: record type %s is not a struct", t)
	}
	var fields []field
	group := pq.Group{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() || sf.Anonymous {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		f := field{name: name, offset: sf.Offset, typ: sf.Type, elem: sf.Type}
		f.optional = strings.Contains(","+opts+",", ",omitempty,")
		if sf.Type.Kind() == reflect.Pointer && scalar(sf.Type.Elem()) {
			f.ptr, f.optional, f.elem = true, true, sf.Type.Elem()
		}
		var node pq.Node
		switch k := f.elem.Kind(); {
		case f.elem == timeType:
			f.kind, node = kindTime, pq.Timestamp(pq.Microsecond)
		case f.elem == rawType || !scalar(f.elem):
			f.kind, node = kindJSON, pq.JSON()
			f.optional = true // null for nil, empty or omitted values
		case k == reflect.String:
			f.kind, node = kindString, pq.String()
		case k == reflect.Bool:
			f.kind, node = kindBool, pq.Leaf(pq.BooleanType)
		case k == reflect.Float32 || k == reflect.Float64:
			f.kind, node = kindFloat, pq.Leaf(pq.DoubleType)
		default:
			f.kind, node = kindInt, pq.Int(64)
		}
		if f.optional {
			node = pq.Optional(node)
		}
		if _, dup := group[name]; dup {
			return nil, nil, fmt.Errorf("parquet: record type %s: two fields named %q", t, name)
		}
		group[name] = node
		fields = append(fields, f)
	}
	if len(fields) == 0 {
		return nil, nil, fmt.Errorf("parquet: record type %s has no exported field", t)
	}
	// A group's columns are in the order of their names.
	sort.Slice(fields, func(i, j int) bool { return fields[i].name < fields[j].name })
	for i := range fields {
		fields[i].col = i
	}
	return fields, pq.NewSchema(t.Name(), group), nil
}

// scalar reports a type stored in a column of its own: sink.Time, strings,
// booleans, integers and floats (named or not).
func scalar(t reflect.Type) bool {
	if t == timeType {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// appendRecord appends the record at base to buf in the encoding the
// Writer buffers (record encoding, below) and returns the extended buffer.
// The bytes are the record's own: strings and pointed-to values are copied.
func appendRecord(buf []byte, fields []field, base unsafe.Pointer) ([]byte, error) {
	for i := range fields {
		f := &fields[i]
		p := unsafe.Add(base, f.offset)
		if f.ptr {
			p = *(*unsafe.Pointer)(p)
			if p == nil {
				buf = append(buf, 0)
				continue
			}
		}
		// Each case sets null for a value JSON's omitempty would leave out
		// (pointers are never empty), then appends the value unless it is
		// a null of an optional column.
		var (
			null bool
			s    string
			x    uint64
		)
		switch f.kind {
		case kindString:
			s = *(*string)(p)
			null = s == "" && !f.ptr
			if !utf8.ValidString(s) { // a STRING column holds UTF-8, as JSON would
				s = strings.ToValidUTF8(s, "\uFFFD")
			}
		case kindBool:
			b := *(*bool)(p)
			null = !b && !f.ptr
			if b {
				x = 1
			}
		case kindFloat:
			v := readFloat(p, f.elem.Kind())
			null = v == 0 && !f.ptr
			x = math.Float64bits(v)
		case kindInt:
			v := readInt(p, f.elem.Kind())
			null = v == 0 && !f.ptr
			x = uint64(v)
		case kindTime:
			t := time.Time(*(*sink.Time)(p))
			null = t.IsZero() && !f.ptr
			x = uint64(t.UnixMicro())
		case kindJSON:
			rv := reflect.NewAt(f.typ, p).Elem()
			if isEmpty(rv) {
				null = true
				break
			}
			b, err := json.Marshal(rv.Interface())
			if err != nil {
				return buf, fmt.Errorf("parquet: field %s: %w", f.name, err)
			}
			s = unsafe.String(unsafe.SliceData(b), len(b))
		}
		if f.optional {
			if null {
				buf = append(buf, 0)
				continue
			}
			buf = append(buf, 1)
		}
		switch f.kind {
		case kindString, kindJSON:
			buf = binary.AppendUvarint(buf, uint64(len(s)))
			buf = append(buf, s...)
		case kindBool:
			buf = append(buf, byte(x))
		case kindFloat:
			buf = binary.LittleEndian.AppendUint64(buf, x)
		default: // kindInt, kindTime
			buf = binary.AppendVarint(buf, int64(x))
		}
	}
	return buf, nil
}

// errRecord is returned by readRow for bytes appendRecord did not write.
var errRecord = errors.New("parquet: malformed buffered record")

// readRow appends to row the values of the record at the start of data, as
// appendRecord encoded it, and returns the row and the rest of data. The
// row's byte arrays point into data.
//
// Record encoding: the fields in column order; an optional field starts
// with one byte, 0 for null (then nothing follows) or 1; then the value:
// strings and JSON as a uvarint length and the bytes, booleans as one byte,
// floats as 8 bytes (IEEE 754, little-endian), integers and timestamps
// (microseconds) as a varint.
func readRow(row pq.Row, fields []field, data []byte) (pq.Row, []byte, error) {
	for i := range fields {
		f := &fields[i]
		def := 0
		if f.optional {
			if len(data) == 0 {
				return row, nil, errRecord
			}
			if data[0] == 0 {
				row = append(row, pq.NullValue().Level(0, 0, f.col))
				data = data[1:]
				continue
			}
			def, data = 1, data[1:]
		}
		var v pq.Value
		switch f.kind {
		case kindString, kindJSON:
			n, k := binary.Uvarint(data)
			if k <= 0 || uint64(len(data)-k) < n {
				return row, nil, errRecord
			}
			v = pq.ByteArrayValue(data[k : k+int(n)])
			data = data[k+int(n):]
		case kindBool:
			if len(data) == 0 {
				return row, nil, errRecord
			}
			v = pq.BooleanValue(data[0] != 0)
			data = data[1:]
		case kindFloat:
			if len(data) < 8 {
				return row, nil, errRecord
			}
			v = pq.DoubleValue(math.Float64frombits(binary.LittleEndian.Uint64(data)))
			data = data[8:]
		default: // kindInt, kindTime
			x, k := binary.Varint(data)
			if k <= 0 {
				return row, nil, errRecord
			}
			v = pq.Int64Value(x)
			data = data[k:]
		}
		row = append(row, v.Level(0, def, f.col))
	}
	return row, data, nil
}

// isEmpty reports a value omitempty leaves out (nil or empty slices and
// maps, nil pointers and interfaces); structs are never empty.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map, reflect.Array:
		return v.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// setValue stores a non-null value into the record at base.
func setValue(f *field, base unsafe.Pointer, v pq.Value) error {
	p := unsafe.Add(base, f.offset)
	if f.ptr {
		np := reflect.New(f.elem).UnsafePointer()
		*(*unsafe.Pointer)(p) = np
		p = np
	}
	switch f.kind {
	case kindString:
		*(*string)(p) = string(v.ByteArray())
	case kindBool:
		*(*bool)(p) = v.Boolean()
	case kindFloat:
		writeFloat(p, f.elem.Kind(), v.Double())
	case kindInt:
		writeInt(p, f.elem.Kind(), v.Int64())
	case kindTime:
		*(*sink.Time)(p) = sink.Time(time.UnixMicro(v.Int64()).UTC())
	case kindJSON:
		rv := reflect.NewAt(f.typ, p)
		if err := json.Unmarshal(v.ByteArray(), rv.Interface()); err != nil {
			return fmt.Errorf("parquet: column %s: %w", f.name, err)
		}
	}
	return nil
}

func readFloat(p unsafe.Pointer, k reflect.Kind) float64 {
	if k == reflect.Float32 {
		return float64(*(*float32)(p))
	}
	return *(*float64)(p)
}

func writeFloat(p unsafe.Pointer, k reflect.Kind, x float64) {
	if k == reflect.Float32 {
		*(*float32)(p) = float32(x)
		return
	}
	*(*float64)(p) = x
}

func readInt(p unsafe.Pointer, k reflect.Kind) int64 {
	switch k {
	case reflect.Int:
		return int64(*(*int)(p))
	case reflect.Int8:
		return int64(*(*int8)(p))
	case reflect.Int16:
		return int64(*(*int16)(p))
	case reflect.Int32:
		return int64(*(*int32)(p))
	case reflect.Int64:
		return *(*int64)(p)
	case reflect.Uint:
		return int64(*(*uint)(p))
	case reflect.Uint8:
		return int64(*(*uint8)(p))
	case reflect.Uint16:
		return int64(*(*uint16)(p))
	case reflect.Uint32:
		return int64(*(*uint32)(p))
	default:
		return int64(*(*uint64)(p))
	}
}

func writeInt(p unsafe.Pointer, k reflect.Kind, x int64) {
	switch k {
	case reflect.Int:
		*(*int)(p) = int(x)
	case reflect.Int8:
		*(*int8)(p) = int8(x)
	case reflect.Int16:
		*(*int16)(p) = int16(x)
	case reflect.Int32:
		*(*int32)(p) = int32(x)
	case reflect.Int64:
		*(*int64)(p) = x
	case reflect.Uint:
		*(*uint)(p) = uint(x)
	case reflect.Uint8:
		*(*uint8)(p) = uint8(x)
	case reflect.Uint16:
		*(*uint16)(p) = uint16(x)
	case reflect.Uint32:
		*(*uint32)(p) = uint32(x)
	default:
		*(*uint64)(p) = uint64(x)
	}
}
