package canon

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"math"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// readLenEnc reads the length-encoded string at the start of p and returns
// it and the bytes it took (0 when p is malformed).
func readLenEnc(p []byte) ([]byte, int) {
	if len(p) == 0 {
		return nil, 0
	}
	var n, h int
	switch p[0] {
	case 0xfc:
		h = 3
	case 0xfd:
		h = 4
	case 0xfe:
		h = 9
	default:
		if p[0] > 0xfc {
			return nil, 0
		}
		n, h = int(p[0]), 1
	}
	if len(p) < h {
		return nil, 0
	}
	if h > 1 {
		for i := h - 1; i >= 1; i-- {
			n = n<<8 | int(p[i])
		}
	}
	if n < 0 || len(p)-h < n {
		return nil, 0
	}
	return p[h : h+n], h + n
}

// The hash is a contract between versions and between producers: a change
// to it makes every stored result_hash incomparable. These are the values
// the proxy wrote before the forms moved into this package.
func TestGolden(t *testing.T) {
	var row []byte
	row = AppendText(row, KindOf(0x03), []byte("-42"))                        // INT
	row = AppendText(row, KindOf(0xf6), []byte("001.500"))                    // DECIMAL
	row = AppendText(row, KindOf(0x05), []byte("0.1"))                        // DOUBLE
	row = AppendText(row, KindOf(0x0c), []byte("2024-01-02 03:04:05.120000")) // DATETIME
	row = AppendNull(row)
	require.Equal(t, "\x03-42\x031.5\x030.1\x162024-01-02T03:04:05.12\xfb", string(row))
	var s RowSum
	s.Add(row)
	s.Add([]byte{})
	s.Add([]byte("x"))
	require.Equal(t, "3:4af12bb2553e3faaa24357d69f4caf5a", s.String())
	hi, lo := Hash128([]byte("0123456789abcdef0123456789abcdef0123456789"))
	require.Equal(t, [2]uint64{0x7730ae494d6fc431, 0x361a03d3a14f42df}, [2]uint64{hi, lo})
	require.Equal(t, "0:00000000000000000000000000000000", RowSum{}.String())
}

func TestKindOf(t *testing.T) {
	want := map[byte]Kind{
		0x00: Decimal, 0xf6: Decimal,
		0x01: Integer, 0x02: Integer, 0x03: Integer, 0x08: Integer, 0x09: Integer, 0x0d: Integer,
		0x04: Float, 0x05: Float,
		0x07: Temporal, 0x0a: Temporal, 0x0b: Temporal, 0x0c: Temporal, 0x0e: Temporal, 0x11: Temporal,
		0x12: Temporal, 0x13: Temporal,
	}
	for typ := 0; typ < 256; typ++ {
		require.Equal(t, want[byte(typ)], KindOf(byte(typ)), "type 0x%02x", typ)
	}
	require.True(t, TextIsCanonical(0xfd, false))  // VAR_STRING
	require.True(t, TextIsCanonical(0x03, false))  // INT
	require.False(t, TextIsCanonical(0x03, true))  // INT ZEROFILL: "007"
	require.False(t, TextIsCanonical(0xf6, false)) // DECIMAL: "1.50"
	require.False(t, TextIsCanonical(0x05, false))
	require.False(t, TextIsCanonical(0x0a, false))
}

func TestAppendText(t *testing.T) {
	cases := []struct {
		kind Kind
		in   string
		want string
	}{
		{Decimal, "1.50", "1.5"},
		{Decimal, "-0.00", "0"},
		{Decimal, "0.050", "0.05"},
		{Decimal, "-.5", "-0.5"},
		{Decimal, "+12.0", "12"},
		{Decimal, "10", "10"},
		{Decimal, "1e5", "1e5"},
		{Integer, "007", "7"},
		{Integer, "-0", "0"},
		{Float, "3.14159265358979", "3.14159265359"},
		{Float, "-0", "0"},
		{Float, "1e300", "1e+300"},
		{Float, "nonsense", "nonsense"},
		{Temporal, "2024-01-02", "2024-01-02"},
		{Temporal, "2024-01-02 03:04:05.000000", "2024-01-02T03:04:05"},
		{Temporal, "2024-01-02 03:04:05.120", "2024-01-02T03:04:05.12"},
		{Temporal, "10:00:00.500", "10:00:00.5"},
		{Temporal, "-838:59:59.000000", "-838:59:59"},
		{Bytes, "1.50", "1.50"},
		{Bytes, "", ""},
	}
	for _, c := range cases {
		got := AppendText(nil, c.kind, []byte(c.in))
		require.Equal(t, c.want, string(got[1:]), c.in)
		require.Equal(t, byte(len(c.want)), got[0])
	}
	// NULL differs from the empty string.
	require.NotEqual(t, AppendNull(nil), AppendText(nil, Bytes, nil))
}

// Values of 251 bytes and more get a multi-byte length, in front of a text
// that may have been appended already.
func TestLongValues(t *testing.T) {
	for _, n := range []int{250, 251, 300, 65535, 65536, 70000, 1 << 24} {
		long := bytes.Repeat([]byte("a"), n)
		got := AppendText([]byte("prefix"), Bytes, long)
		require.Equal(t, "prefix", string(got[:6]))
		v, m := readLenEnc(got[6:])
		require.Equal(t, len(got)-6, m, n)
		require.Equal(t, long, v)

		row, body := StartValue([]byte("prefix"))
		row = append(row, long...)
		require.Equal(t, got, EndValue(row, body))
	}
}

func TestAppendFloat32AndFraction(t *testing.T) {
	// A FLOAT's float32 is 1.10000002384 as a float64: its canonical text is
	// the one the text protocol's "1.1" gives.
	require.Equal(t, string(AppendText(nil, Float, []byte("1.1"))[1:]), string(AppendFloat32(nil, 1.1)))
	require.Equal(t, "0", string(AppendFloat32(nil, float32(math.Copysign(0, -1)))))
	require.Equal(t, "x.5", string(AppendFraction([]byte("x"), 500000)))
	require.Equal(t, ".000001", string(AppendFraction(nil, 1)))
	require.Equal(t, ".123456", string(AppendFraction(nil, 123456)))
	require.Equal(t, "", string(AppendFraction(nil, 0)))
}

func TestRowSum(t *testing.T) {
	rows := [][]byte{[]byte("a"), []byte("b"), []byte("a"), {}, bytes.Repeat([]byte("z"), 100)}
	var fwd, rev, parts, other RowSum
	for i := range rows {
		fwd.Add(rows[i])
		rev.Add(rows[len(rows)-1-i])
	}
	require.Equal(t, fwd.String(), rev.String(), "order does not matter")
	// Fetches merged give the whole result.
	var first, second RowSum
	first.Add(rows[0])
	first.Add(rows[1])
	for _, r := range rows[2:] {
		second.Add(r)
	}
	parts.Merge(first)
	parts.Merge(second)
	require.Equal(t, fwd, parts)
	require.Equal(t, int64(5), fwd.Rows)
	// A duplicate is not cancelled out, and a different row changes the sum.
	for _, r := range rows[:4] {
		other.Add(r)
	}
	other.Add([]byte("y"))
	require.NotEqual(t, fwd.String(), other.String())
}

func TestHash128Distinct(t *testing.T) {
	seen := map[[2]uint64]int{}
	buf := make([]byte, 0, 64)
	for i := 0; i < 200000; i++ {
		buf = buf[:0]
		for n := i; ; n /= 7 {
			buf = append(buf, byte(n%7))
			if n < 7 {
				break
			}
		}
		hi, lo := Hash128(buf)
		k := [2]uint64{hi, lo}
		if j, ok := seen[k]; ok {
			t.Fatalf("rows %d and %d collide", i, j)
		}
		seen[k] = i
	}
	// Length is part of the hash: a trailing zero byte changes it.
	a1, a2 := Hash128([]byte{1, 2, 3})
	b1, b2 := Hash128([]byte{1, 2, 3, 0})
	require.False(t, a1 == b1 && a2 == b2)
}

func TestColumnsKey(t *testing.T) {
	var key []byte
	key = NextResultSet(key)
	key = AppendColumn(key, []byte("a"), 0x03)
	key = AppendColumn(key, []byte("b"), 0xfd)
	key = NextResultSet(key)
	key = AppendColumn(key, []byte("c"), 0x05)
	require.Equal(t, "a\x00\x03b\x00\xfd\xffc\x00\x05", string(key))
	s := md5.Sum(key)
	require.Equal(t, hex.EncodeToString(s[:]), ColumnsHash(key))
	require.Equal(t, s, ColumnsSum(key))
}

// serverText matches, per Kind, the text values a server sends.
var serverText = map[Kind]*regexp.Regexp{
	Integer:  regexp.MustCompile(`^-?[0-9]+$`),
	Decimal:  regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`),
	Temporal: regexp.MustCompile(`^(-?[0-9]{2,3}:[0-9]{2}:[0-9]{2}|[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?)(\.[0-9]{1,6})?$`),
}

// FuzzAppendText checks that every value's canonical text is framed as one
// length-encoded string and that canonical text is a fixed point: a value
// already canonical stays as it is (for the text values a server sends).
func FuzzAppendText(f *testing.F) {
	for _, s := range []string{"001.500", "-0", "3.14159265358979", "2024-01-02 03:04:05.120000", "-838:59:59.0", ".", "-", "+.", "1e5", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, k := range []Kind{Bytes, Integer, Decimal, Float, Temporal} {
			got := AppendText([]byte("p"), k, []byte(s))
			v, n := readLenEnc(got[1:])
			if n != len(got)-1 {
				t.Fatalf("kind %d, %q: framing %q", k, s, got)
			}
			if re := serverText[k]; re != nil && !re.MatchString(s) {
				continue
			}
			again := AppendText(nil, k, v)
			if w, _ := readLenEnc(again); !bytes.Equal(w, v) {
				t.Fatalf("kind %d, %q: canonical %q is not a fixed point: %q", k, s, v, w)
			}
		}
	})
}

// BenchmarkHash128 hashes a 200-byte canonical row.
func BenchmarkHash128(b *testing.B) {
	row := bytes.Repeat([]byte("x"), 200)
	b.SetBytes(int64(len(row)))
	for b.Loop() {
		Hash128(row)
	}
}
