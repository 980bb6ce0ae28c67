package hashing

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestObfuscatorLiterals(t *testing.T) {
	o := NewObfuscator([]byte("k"))
	for _, s := range []string{"2024-02-29", "1999-12-31 23:59:59", "2024-01-01T00:00:00.123456", "12:30:00", "00:00:00.5"} {
		got := o.str(s)
		require.Len(t, got, len(s))
		require.NotEqual(t, s, got)
		switch {
		case len(s) == 10 && s[4] == '-':
			_, err := time.Parse("2006-01-02", got)
			require.NoError(t, err, got)
			require.Equal(t, s[:4], got[:4], "the year is kept")
		case len(s) >= 19:
			_, err := time.Parse("2006-01-02 15:04:05", strings.Replace(got[:19], "T", " ", 1))
			require.NoError(t, err, got)
		default:
			_, err := time.Parse("15:04:05", got[:8])
			require.NoError(t, err, got)
		}
	}
	// Strings keep their shape.
	got := o.str("Alice O'Neil <alice@example.com> #42")
	require.Len(t, got, len("Alice O'Neil <alice@example.com> #42"))
	require.Regexp(t, `^[A-Z][a-z]{4} [A-Z]'[A-Z][a-z]{3} <[a-z]{5}@[a-z]{7}\.[a-z]{3}> #[0-9]{2}$`, got)
	require.Equal(t, "", o.str(""))
	require.Equal(t, "%Y-%m-%d %H:%i", o.str("%Y-%m-%d %H:%i"), "format patterns are kept")
	require.Equal(t, o.str("same"), o.str("same"))
	// Integers keep their digit count and never grow; 0 and 1 stay.
	for _, n := range []string{"0", "1", "2", "9", "10", "42", "100", "255", "65535", "18446744073709551615", "123456789012345678901234"} {
		got := o.number(n)
		require.Len(t, got, len(n), n)
		if len(n) <= 18 {
			a, _ := strconv.ParseUint(n, 10, 64)
			b, err := strconv.ParseUint(got, 10, 64)
			require.NoError(t, err)
			require.LessOrEqual(t, b, a, n)
		}
		if n == "0" || n == "1" {
			require.Equal(t, n, got)
		}
	}
	require.Regexp(t, `^[0-9]{3}\.[0-9]{2}$`, o.number("123.45"))
	require.Regexp(t, `^[0-9]\.[0-9]e-3$`, o.number("1.5e-3"))
	require.Regexp(t, `^0x[0-9a-f]{4}$`, o.hex("0xBEEF"))
	require.Regexp(t, `^X'[0-9a-f]{6}'$`, o.hex("X'414243'"))
	require.Regexp(t, `^b'[01]{4}'$`, o.hex("b'0101'"))
}

func TestObfuscatorQuery(t *testing.T) {
	o := NewObfuscator([]byte("k"))
	_, err := o.Query("SELECT 'open")
	require.True(t, errors.Is(err, ErrUnterminated))
	_, err = o.DDL("CREATE TABLE t (a INT) /* open")
	require.ErrorIs(t, err, ErrUnterminated)

	q, err := o.Query("SELECT /*+ BKA(t) */ a, COUNT(*) FROM t /* secret */ WHERE b = 'x' -- secret\n GROUP BY a")
	require.NoError(t, err)
	require.NotContains(t, q, "secret")
	require.NotContains(t, q, "BKA")
	require.Contains(t, q, "COUNT(*)")
	require.Equal(t, "SELECT   "+o.ident("a")+", COUNT(*) FROM "+o.ident("t")+"   WHERE "+o.ident("b")+" = '"+o.str("x")+"'  \n GROUP BY "+o.ident("a"), q)

	// Names are case-insensitive and the same in DDL and Query.
	ddl, err := o.DDL("CREATE TABLE Orders (Status INT)")
	require.NoError(t, err)
	q, err = o.Query("SELECT status FROM orders")
	require.NoError(t, err)
	require.Equal(t, "CREATE TABLE "+o.ident("orders")+" ("+o.ident("status")+" INT)", ddl)
	require.Equal(t, "SELECT "+o.ident("status")+" FROM "+o.ident("orders"), q)
	// Before the DDL declared it, a fresh Obfuscator keeps the keyword-like
	// name; after, it replaces it.
	fresh := NewObfuscator([]byte("k"))
	q, err = fresh.Query("SELECT status FROM orders")
	require.NoError(t, err)
	require.Equal(t, "SELECT status FROM "+o.ident("orders"), q)

	// Kept: system variables and their values, charsets, system schemas,
	// placeholders, types in CAST.
	q, err = o.Query("SET sql_mode = 'ANSI', @u = 'x'; SELECT ?, CAST(a AS CHAR(10)) FROM information_schema.columns WHERE table_name = 't' COLLATE utf8mb4_bin")
	require.NoError(t, err)
	require.Contains(t, q, "SET sql_mode = 'ANSI', @"+o.ident("u")+" = '"+o.str("x")+"'")
	require.Contains(t, q, "SELECT ?, CAST(a AS CHAR(10)) FROM information_schema.columns WHERE table_name = ")
	require.Contains(t, q, "COLLATE utf8mb4_bin")

	// Executable comments keep their markers and are obfuscated inside.
	q, err = o.Query("SELECT /*!50000 secret_col */ FROM t")
	require.NoError(t, err)
	require.Equal(t, "SELECT /*!50000 "+o.ident("secret_col")+" */ FROM "+o.ident("t"), q)
}

func TestObfuscatorConcurrent(t *testing.T) {
	o := NewObfuscator([]byte("k"))
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				_, err := o.DDL("CREATE TABLE t" + strconv.Itoa(i) + " (name INT, value INT)")
				assert.NoError(t, err)
				_, err = o.Query("SELECT name, value FROM t" + strconv.Itoa(j))
				assert.NoError(t, err)
			}
		}(i)
	}
	wg.Wait()
}

func TestObfuscatorKeys(t *testing.T) {
	const q = "SELECT c.name FROM customers c WHERE c.id = 42 AND c.email = 'a@b.c'"
	a1, err := NewObfuscator([]byte("one")).Query(q)
	require.NoError(t, err)
	a2, err := NewObfuscator([]byte("one")).Query(q)
	require.NoError(t, err)
	b, err := NewObfuscator([]byte("two")).Query(q)
	require.NoError(t, err)
	require.Equal(t, a1, a2, "the same key gives the same text")
	require.NotEqual(t, a1, b)
	ia, ib := identsOf(a1), identsOf(b)
	require.Len(t, ia, 8) // c (4 times), name, customers, id, email
	require.Len(t, ib, 8)
	for i := range ia {
		require.NotEqual(t, ia[i], ib[i], "a different key gives different names")
	}
}
