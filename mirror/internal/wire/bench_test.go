package wire

import (
	"bytes"
	"fmt"
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

// BenchmarkHash128 hashes a 200-byte canonical row.
func BenchmarkHash128(b *testing.B) {
	row := bytes.Repeat([]byte("x"), 200)
	b.SetBytes(int64(len(row)))
	for b.Loop() {
		Hash128(row)
	}
}
