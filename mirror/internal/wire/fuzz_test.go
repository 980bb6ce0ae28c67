package wire

import (
	"bytes"
	"net"
	"testing"
)

func FuzzParsePackets(f *testing.F) {
	g := &Greeting{ProtocolVersion: 10, ServerVersion: "10.11", AuthData: []byte("12345678901234567890"),
		Capabilities: Supported, AuthPlugin: "mysql_native_password"}
	f.Add(g.Append(nil))
	r := &HandshakeResponse{Capabilities: Supported, User: "u", AuthData: []byte("x"), Database: "d", AuthPlugin: "p"}
	f.Add(r.Append(nil))
	f.Add(colDef("a", TypeLong))
	f.Add(AppendOK(nil, 1, 2, 3, 4))
	f.Add(AppendErr(nil, 1064, "42000", "syntax"))
	f.Add([]byte{0x11, 'u', 0, 1, 'x', 'd', 0, 33, 0, 'p', 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		_, _ = ParseGreeting(p)
		_, _ = ParseHandshakeResponse(p)
		for _, ext := range []bool{false, true} {
			_, _ = ParseColumnDef(p, ext)
			_, _, _ = ParseColumn(p, ext)
		}
		_, _ = ParseOK(p)
		_, _ = ParseErr(p)
		_, _, _ = ParseEOF(p, true)
		_, _ = ParseChangeUser(p, Supported)
		cols := []Column{{Type: TypeLong}, {Type: TypeDateTime}, {Type: TypeTime}, {Type: TypeNewDecimal}, {Type: TypeFloat}, {Type: TypeBlob}}
		_, _ = AppendTextRow(nil, cols, p)
		_, _ = AppendBinaryRow(nil, cols, p)
	})
}

// FuzzReadResponse feeds arbitrary bytes as a server's response stream.
func FuzzReadResponse(f *testing.F) {
	var stream []byte
	for i, p := range [][]byte{{1}, colDef("a", TypeLong), eofPacket(0), textRow([]byte("1")), eofPacket(0)} {
		stream = append(stream, byte(len(p)), byte(len(p)>>8), byte(len(p)>>16), byte(i+1))
		stream = append(stream, p...)
	}
	f.Add(byte(ComQuery), stream)
	f.Add(byte(ComStmtPrepare), stream)
	f.Add(byte(ComStmtExecute), stream)
	f.Add(byte(ComFieldList), stream)
	f.Fuzz(func(t *testing.T, cmd byte, stream []byte) {
		a, b := net.Pipe()
		defer b.Close()
		go func() {
			_, _ = a.Write(stream)
			a.Close()
		}()
		c := NewConn(b)
		var res Result
		for _, caps := range []uint32{Supported} {
			_ = c.ReadResponse(Request{Cmd: cmd, Caps: caps, Columns: []Column{{Type: TypeLong}}}, nil, &res)
		}
		_ = bytes.MinRead
	})
}
