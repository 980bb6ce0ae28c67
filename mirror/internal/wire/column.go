package wire

import "encoding/binary"

// Column is what the response reader keeps of a column definition: enough
// to decode and canonicalise values.
type Column struct {
	Type     byte
	Flags    uint16
	Decimals byte
	Charset  uint16
}

// ColumnDef is a fully decoded column definition (Protocol::ColumnDefinition41).
type ColumnDef struct {
	Catalog, Schema, Table, OrgTable, Name, OrgName string
	Column
	Length uint32
}

// columnDefFields walks the six length-encoded strings of a column
// definition and returns them and the offset of the fixed part. ext: the
// connection negotiated MariaDB's extended metadata, a seventh string
// (type name and format, such as json) before the fixed part.
func columnDefFields(p []byte, ext bool) (fields [6][]byte, pos int, err error) {
	for i := range fields {
		s, _, n := ReadLenEncString(p[pos:])
		if n == 0 {
			return fields, 0, malformed("column definition: strings")
		}
		fields[i] = s
		pos += n
	}
	if ext {
		_, _, n := ReadLenEncString(p[pos:])
		if n == 0 {
			return fields, 0, malformed("column definition: extended metadata")
		}
		pos += n
	}
	// The fixed part: length of fixed fields (0x0c), charset, length,
	// type, flags, decimals, filler.
	if _, _, n := ReadLenEnc(p[pos:]); n == 0 {
		return fields, 0, malformed("column definition: fixed part")
	} else {
		pos += n
	}
	if len(p) < pos+10 {
		return fields, 0, malformed("column definition: fixed part too short")
	}
	return fields, pos, nil
}

// ParseColumn decodes the parts of a column definition that the response
// reader needs, and returns its name (a sub-slice of p). ext says that the
// connection negotiated MariaDBClientExtendedMetadata.
func ParseColumn(p []byte, ext bool) (Column, []byte, error) {
	fields, pos, err := columnDefFields(p, ext)
	if err != nil {
		return Column{}, nil, err
	}
	return Column{
		Charset:  binary.LittleEndian.Uint16(p[pos:]),
		Type:     p[pos+6],
		Flags:    binary.LittleEndian.Uint16(p[pos+7:]),
		Decimals: p[pos+9],
	}, fields[4], nil
}

// ParseColumnDef decodes a whole column definition (ext as for
// ParseColumn; the extended metadata itself is skipped).
func ParseColumnDef(p []byte, ext bool) (*ColumnDef, error) {
	fields, pos, err := columnDefFields(p, ext)
	if err != nil {
		return nil, err
	}
	return &ColumnDef{
		Catalog: string(fields[0]), Schema: string(fields[1]), Table: string(fields[2]),
		OrgTable: string(fields[3]), Name: string(fields[4]), OrgName: string(fields[5]),
		Column: Column{
			Charset:  binary.LittleEndian.Uint16(p[pos:]),
			Type:     p[pos+6],
			Flags:    binary.LittleEndian.Uint16(p[pos+7:]),
			Decimals: p[pos+9],
		},
		Length: binary.LittleEndian.Uint32(p[pos+2:]),
	}, nil
}
