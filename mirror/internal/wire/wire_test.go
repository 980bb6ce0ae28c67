package wire

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"math"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/internal/canon"
)

func textRow(vals ...[]byte) []byte {
	var b []byte
	for _, v := range vals {
		if v == nil {
			b = append(b, 0xfb)
			continue
		}
		b = AppendLenEncString(b, v)
	}
	return b
}

func TestTextAndBinaryRowsHashAlike(t *testing.T) {
	cols := []Column{
		{Type: TypeLong}, {Type: TypeLongLong, Flags: FlagUnsigned}, {Type: TypeNewDecimal},
		{Type: TypeDouble}, {Type: TypeDateTime}, {Type: TypeDate}, {Type: TypeTime},
		{Type: TypeVarString}, {Type: TypeNull}, {Type: TypeFloat}, {Type: TypeTiny},
	}
	text := textRow([]byte("-42"), []byte("18446744073709551615"), []byte("001.500"),
		[]byte("0.1"), []byte("2024-01-02 03:04:05.120000"), []byte("2024-01-02"),
		[]byte("-838:59:59.000000"), []byte("héllo"), nil, []byte("1.1"), []byte("-1"))

	bin := []byte{0x00}
	nb := (len(cols) + 9) / 8
	bitmap := make([]byte, nb)
	bit := 8 + 2 // the NULL column
	bitmap[bit/8] |= 1 << (bit % 8)
	bin = append(bin, bitmap...)
	bin = binary.LittleEndian.AppendUint32(bin, uint32(0xffffffd6)) // -42
	bin = binary.LittleEndian.AppendUint64(bin, math.MaxUint64)
	bin = AppendLenEncString(bin, []byte("1.5"))
	bin = binary.LittleEndian.AppendUint64(bin, math.Float64bits(0.1))
	bin = append(bin, 11, 0xe8, 0x07, 1, 2, 3, 4, 5)
	bin = binary.LittleEndian.AppendUint32(bin, 120000)
	bin = append(bin, 4, 0xe8, 0x07, 1, 2)
	bin = append(bin, 8, 1, 34, 0, 0, 0, 22, 59, 59) // 34 days 22 h = 838 h
	bin = AppendLenEncString(bin, []byte("héllo"))
	bin = binary.LittleEndian.AppendUint32(bin, math.Float32bits(1.1))
	bin = append(bin, 0xff)

	a, err := AppendTextRow(nil, cols, text)
	require.NoError(t, err)
	b, err := AppendBinaryRow(nil, cols, bin)
	require.NoError(t, err)
	require.Equal(t, string(a), string(b))

	var s1, s2 canon.RowSum
	s1.Add(a)
	s1.Add([]byte("x"))
	s2.Add([]byte("x"))
	s2.Add(b)
	require.Equal(t, s1.String(), s2.String())
	require.Equal(t, int64(2), s1.Rows)
}

// Each column type's text value takes the canonical form of its Kind, and a
// binary value of the same data the same form.
func TestCanonicalValues(t *testing.T) {
	cases := []struct {
		typ  byte
		in   string
		want string
	}{
		{TypeNewDecimal, "1.50", "1.5"},
		{TypeNewDecimal, "-0.00", "0"},
		{TypeLong, "007", "7"},
		{TypeYear, "2024", "2024"},
		{TypeDouble, "3.14159265358979", "3.14159265359"},
		{TypeFloat, "-0", "0"},
		{TypeDate, "2024-01-02", "2024-01-02"},
		{TypeDateTime, "2024-01-02 03:04:05.000000", "2024-01-02T03:04:05"},
		{TypeTimestamp2, "2024-01-02 03:04:05.5", "2024-01-02T03:04:05.5"},
		{TypeTime, "10:00:00.500", "10:00:00.5"},
		{TypeVarString, "1.50", "1.50"},
		{TypeJSON, `{"a": 1.50}`, `{"a": 1.50}`},
	}
	for _, c := range cases {
		got, err := AppendTextRow(nil, []Column{{Type: c.typ}}, textRow([]byte(c.in)))
		require.NoError(t, err)
		require.Equal(t, c.want, string(got[1:]), c.in)
		require.Equal(t, byte(len(c.want)), got[0])
	}
	// Long values get a multi-byte length, from both protocols.
	for _, n := range []int{250, 251, 300, 70000, 1 << 24} {
		long := bytes.Repeat([]byte("a"), n)
		text, err := AppendTextRow([]byte("prefix"), []Column{{Type: TypeBlob}}, AppendLenEncString(nil, long))
		require.NoError(t, err)
		require.Equal(t, "prefix", string(text[:6]))
		v, null, m := ReadLenEncString(text[6:])
		require.False(t, null)
		require.Equal(t, len(text)-6, m)
		require.Equal(t, long, v)
		bin, k := appendBinaryValue([]byte("prefix"), &Column{Type: TypeBlob}, AppendLenEncString(nil, long))
		require.Positive(t, k)
		require.Equal(t, text, bin)
	}
	// A text row of strings and integers is its own canonical row.
	cols := []Column{{Type: TypeLong}, {Type: TypeVarString}, {Type: TypeLongLong, Flags: FlagUnsigned}}
	row := textRow([]byte("-5"), nil, []byte("18446744073709551615"))
	canonical, err := AppendTextRow(nil, cols, row)
	require.NoError(t, err)
	require.Equal(t, row, canonical)
	for i := range cols {
		require.True(t, TextIsCanonical(&cols[i]))
	}
	require.False(t, TextIsCanonical(&Column{Type: TypeLong, Flags: FlagZerofill}))
	require.False(t, TextIsCanonical(&Column{Type: TypeNewDecimal}))
	// NULL differs from the empty string.
	r1, _ := AppendTextRow(nil, []Column{{Type: TypeVarString}}, textRow(nil))
	r2, _ := AppendTextRow(nil, []Column{{Type: TypeVarString}}, textRow([]byte{}))
	require.NotEqual(t, r1, r2)
}

func TestPacketsSplitAndJoin(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	big := bytes.Repeat([]byte{7}, MaxPayload+10)
	exact := bytes.Repeat([]byte{8}, MaxPayload)
	go func() {
		w := NewConn(a)
		seq, _ := w.WritePacket(0, big)
		seq, _ = w.WritePacket(seq, exact)
		_, _ = w.WritePacket(seq, []byte("small"))
		_ = w.Flush()
	}()
	r := NewConn(b)
	var phys []int
	seq, p, err := r.ReadPacket(func(raw []byte) error { phys = append(phys, PayloadLen(raw)); return nil })
	require.NoError(t, err)
	require.Equal(t, uint8(0), seq)
	require.Equal(t, big, p)
	require.Equal(t, []int{MaxPayload, 10}, phys)
	seq, p, err = r.ReadPacket(nil)
	require.NoError(t, err)
	require.Equal(t, uint8(2), seq)
	require.Equal(t, exact, p)
	seq, p, err = r.ReadPacket(nil)
	require.NoError(t, err)
	require.Equal(t, uint8(4), seq) // exact took 2 physical packets (the 2nd empty)
	require.Equal(t, "small", string(p))
}

func TestGreetingRoundTrip(t *testing.T) {
	g := &Greeting{
		ProtocolVersion: 10, ServerVersion: "5.5.5-10.11.6-MariaDB", ConnID: 77,
		AuthData:     []byte("abcdefghijklmnopqrst"),
		Capabilities: Supported&^ClientLongPassword | ClientSSL, Charset: 45, Status: 2,
		MariaDBCapabilities: MariaDBClientCacheMetadata | MariaDBClientProgress, AuthPlugin: "mysql_native_password",
	}
	p := g.Append(nil)
	g2, err := ParseGreeting(p)
	require.NoError(t, err)
	require.Equal(t, g, g2)
}

func TestHandshakeResponseRoundTrip(t *testing.T) {
	for _, caps := range []uint32{
		Supported,
		Supported &^ (ClientPluginAuthLenencClientData | ClientConnectAttrs | ClientLongPassword),
		ClientProtocol41 | ClientSecureConnection | ClientPluginAuth,
	} {
		r := &HandshakeResponse{Capabilities: caps, MaxPacket: 1 << 24, Charset: 33,
			User: "bob", AuthData: []byte("0123456789abcdefghij"), AuthPlugin: "mysql_native_password"}
		if caps&ClientConnectWithDB != 0 {
			r.Database = "db1"
		}
		if caps&ClientConnectAttrs != 0 {
			r.Attrs = AppendLenEncString(AppendLenEncString(nil, []byte("_os")), []byte("linux"))
		}
		if caps&ClientLongPassword == 0 {
			r.MariaDBCapabilities = MariaDBClientExtendedMetadata
		}
		p := r.Append(nil)
		r2, err := ParseHandshakeResponse(p)
		require.NoError(t, err)
		require.Equal(t, r, r2)
	}
	ssl := &HandshakeResponse{Capabilities: Supported | ClientSSL, MaxPacket: 1, Charset: 8, SSLRequest: true}
	r2, err := ParseHandshakeResponse(ssl.Append(nil))
	require.NoError(t, err)
	require.Equal(t, ssl, r2)
}

// fakeServer writes packets (payloads) with consecutive sequence ids from 1.
func respond(t *testing.T, payloads ...[]byte) *Conn {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	go func() {
		w := NewConn(a)
		seq := uint8(1)
		for _, p := range payloads {
			seq, _ = w.WritePacket(seq, p)
		}
		_ = w.Flush()
	}()
	return NewConn(b)
}

func colDef(name string, typ byte) []byte {
	var b []byte
	for _, s := range []string{"def", "db", "t", "t", name, name} {
		b = AppendLenEncString(b, []byte(s))
	}
	b = append(b, 0x0c, 33, 0, 11, 0, 0, 0, typ, 0, 0, 0, 0, 0)
	return b
}

func eofPacket(status uint16) []byte { return []byte{0xfe, 0, 0, byte(status), byte(status >> 8)} }

func TestReadResponseMultiResults(t *testing.T) {
	c := respond(t,
		[]byte{1}, colDef("a", TypeLong), eofPacket(StatusMoreResultsExists|StatusAutocommit),
		textRow([]byte("1")), textRow([]byte("2")), eofPacket(StatusMoreResultsExists),
		AppendOK(nil, 3, 0, 2, 0),
	)
	// The second result, an OK after a result set: classic EOFs.
	var res Result
	var n int
	err := c.ReadResponse(Request{Cmd: ComQuery, Caps: Supported &^ ClientDeprecateEOF}, func(raw []byte) error { n++; return nil }, &res)
	require.NoError(t, err)
	require.True(t, res.Success)
	require.Equal(t, 7, n)
	require.Equal(t, int64(2), res.RowsReturned)
	require.Equal(t, int64(5), res.Rows())
	require.Equal(t, 1, res.ResultSets)
	require.NotEmpty(t, res.ResultHash())
	require.NotEmpty(t, res.ColumnsHash())
}

func TestReadResponseDeprecateEOFAndErr(t *testing.T) {
	okEOF := AppendOK(nil, 0, 0, StatusAutocommit, 0)
	okEOF[0] = 0xfe
	c := respond(t,
		[]byte{2}, colDef("a", TypeVarString), colDef("b", TypeDouble),
		textRow([]byte("x"), []byte("1.5")), okEOF,
		AppendErr(nil, 1146, "42S02", "Table 'x' doesn't exist"),
	)
	var res Result
	req := Request{Cmd: ComQuery, Caps: Supported}
	require.NoError(t, c.ReadResponse(req, nil, &res))
	require.True(t, res.Success)
	require.True(t, res.FloatCols)
	require.Equal(t, int64(1), res.RowsReturned)
	res.Reset()
	require.NoError(t, c.ReadResponse(req, nil, &res))
	require.False(t, res.Success)
	require.Equal(t, uint16(1146), res.Err.Code)
	require.Equal(t, "42S02", res.Err.SQLState)
}

func TestReadResponsePrepareAndCursor(t *testing.T) {
	prep := []byte{0, 5, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0}
	bin := []byte{0, 0, 7, 0, 0, 0}
	c := respond(t,
		prep, colDef("?", TypeLongLong), eofPacket(0), colDef("a", TypeLong), eofPacket(0),
		[]byte{1}, colDef("a", TypeLong), eofPacket(StatusCursorExists),
		bin, eofPacket(StatusCursorExists|StatusLastRowSent),
	)
	caps := Supported &^ ClientDeprecateEOF
	var res Result
	require.NoError(t, c.ReadResponse(Request{Cmd: ComStmtPrepare, Caps: caps}, nil, &res))
	require.Equal(t, uint32(5), res.StmtID)
	require.Equal(t, uint16(1), res.NumParams)
	require.Equal(t, uint16(1), res.NumColumns)
	res.Reset()
	require.NoError(t, c.ReadResponse(Request{Cmd: ComStmtExecute, Caps: caps, CursorAsked: true}, nil, &res))
	require.True(t, res.Cursor)
	cols := append([]Column(nil), res.Columns...)
	res.Reset()
	require.NoError(t, c.ReadResponse(Request{Cmd: ComStmtFetch, Caps: caps, Columns: cols}, nil, &res))
	require.Equal(t, int64(1), res.RowsReturned)
	require.NotEmpty(t, res.ResultHash())
}

func TestReadResponseLocalInfile(t *testing.T) {
	c := respond(t, append([]byte{0xfb}, "/tmp/x.csv"...))
	var res Result
	require.NoError(t, c.ReadResponse(Request{Cmd: ComQuery, Caps: Supported}, nil, &res))
	require.True(t, res.LocalInfile)
	require.Equal(t, "/tmp/x.csv", res.InfileName)
}

func TestCommandName(t *testing.T) {
	require.Equal(t, "COM_QUERY", CommandName(ComQuery))
	require.Equal(t, "COM_UNKNOWN_0x99", CommandName(0x99))
}

// The columns hash is the MD5 of every result set's names and types, and a
// Result reused across commands of different shapes never reports the
// previous command's.
func TestColumnsHashAcrossCommands(t *testing.T) {
	want := func(parts ...string) string {
		s := md5.Sum([]byte(strings.Join(parts, "")))
		return hex.EncodeToString(s[:])
	}
	a, b, cc := "a\x00"+string(rune(TypeLong)), "b\x00"+string([]byte{TypeVarString}), "c\x00"+string(rune(TypeLong))
	ab := want(a, b)
	c := want(cc)
	two := want(a, b, "\xff", cc)
	shapes := map[string][][]byte{
		ab: {[]byte{2}, colDef("a", TypeLong), colDef("b", TypeVarString), eofPacket(0), eofPacket(0)},
		c:  {[]byte{1}, colDef("c", TypeLong), eofPacket(0), eofPacket(0)},
		two: {[]byte{2}, colDef("a", TypeLong), colDef("b", TypeVarString), eofPacket(0), eofPacket(StatusMoreResultsExists),
			[]byte{1}, colDef("c", TypeLong), eofPacket(0), eofPacket(0)},
	}
	var res Result
	for _, key := range []string{ab, ab, c, two, ab, c, c, "", ab} {
		var c *Conn
		if key == "" {
			c = respond(t, AppendOK(nil, 1, 0, 0, 0))
		} else {
			c = respond(t, shapes[key]...)
		}
		res.Reset()
		require.NoError(t, c.ReadResponse(Request{Cmd: ComQuery, Caps: Supported &^ ClientDeprecateEOF}, nil, &res))
		require.Equal(t, key, res.ColumnsHash())
	}
}
