package wire

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/sqlshadow/sqlshadow/mirror/internal/replay"
)

func resultStream(rows int, deprecate bool) []byte {
	var b []byte
	seq := byte(1)
	add := func(p []byte) {
		b = append(b, byte(len(p)), byte(len(p)>>8), byte(len(p)>>16), seq)
		b = append(b, p...)
		seq++
	}
	add([]byte{4})
	add(colDef("id", TypeLong))
	add(colDef("k", TypeLong))
	add(colDef("c", TypeString))
	add(colDef("pad", TypeString))
	if !deprecate {
		add(eofPacket(StatusAutocommit))
	}
	c := bytes.Repeat([]byte("c"), 119)
	pad := bytes.Repeat([]byte("p"), 59)
	for i := 0; i < rows; i++ {
		add(textRow([]byte(fmt.Sprint(i)), []byte(fmt.Sprint(i*7)), c, pad))
	}
	if deprecate {
		ok := AppendOK(nil, 0, 0, StatusAutocommit, 0)
		ok[0] = HeaderEOF
		add(ok)
	} else {
		add(eofPacket(StatusAutocommit))
	}
	return b
}

// BenchmarkReadResponse reads and hashes a text result set of 4 columns
// (sysbench's sbtest shape), relaying every packet to a discarding writer.
func BenchmarkReadResponse(b *testing.B) {
	for _, rows := range []int{1, 100} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			data := resultStream(rows, false)
			server := NewConn(replay.NewConn(data))
			client := NewConn(replay.NewConn(nil))
			fn := func(raw []byte) error { return client.WriteRaw(raw) }
			var res Result
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				res.Reset()
				if err := server.ReadResponse(Request{Cmd: ComQuery, Caps: Supported &^ ClientDeprecateEOF}, fn, &res); err != nil {
					b.Fatal(err)
				}
				_ = client.Flush()
			}
			if res.RowsReturned != int64(rows) {
				b.Fatal(res.RowsReturned)
			}
		})
	}
}

// BenchmarkCanonicalRow builds the canonical row of a row whose text form is
// not canonical (DECIMAL, DOUBLE, DATETIME, TIME, a string and a NULL), from
// the text and from the binary protocol.
func BenchmarkCanonicalRow(b *testing.B) {
	cols := []Column{{Type: TypeLong}, {Type: TypeNewDecimal}, {Type: TypeDouble},
		{Type: TypeDateTime}, {Type: TypeTime}, {Type: TypeVarString}, {Type: TypeNull}}
	text := textRow([]byte("-42"), []byte("001.500"), []byte("3.14159265358979"),
		[]byte("2024-01-02 03:04:05.120000"), []byte("-838:59:59.000000"), bytes.Repeat([]byte("c"), 60), nil)
	bin := []byte{0x00, 1 << 0, 1 << 0} // NULL bitmap with offset 2: column 6 is bit 8
	bin = binary.LittleEndian.AppendUint32(bin, uint32(0xffffffd6))
	bin = AppendLenEncString(bin, []byte("1.5"))
	bin = binary.LittleEndian.AppendUint64(bin, math.Float64bits(3.14159265358979))
	bin = append(bin, 11, 0xe8, 0x07, 1, 2, 3, 4, 5)
	bin = binary.LittleEndian.AppendUint32(bin, 120000)
	bin = append(bin, 8, 1, 34, 0, 0, 0, 22, 59, 59)
	bin = AppendLenEncString(bin, bytes.Repeat([]byte("c"), 60))
	for _, c := range []struct {
		name   string
		row    []byte
		append func([]byte, []Column, []byte) ([]byte, error)
	}{{"text", text, AppendTextRow}, {"binary", bin, AppendBinaryRow}} {
		b.Run(c.name, func(b *testing.B) {
			var out []byte
			var err error
			b.ReportAllocs()
			for b.Loop() {
				if out, err = c.append(out[:0], cols, c.row); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
