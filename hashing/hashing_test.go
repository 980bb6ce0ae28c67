package hashing

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQueryHash(t *testing.T) {
	require.Equal(t, "d41d8cd98f00b204e9800998ecf8427e", QueryHash(""))
	require.NotEqual(t, QueryHash("SELECT 1"), QueryHash("SELECT 1 "))
}

func TestFingerprint(t *testing.T) {
	cases := []struct{ in, want string }{
		{"SELECT * FROM t WHERE a IN (1,2,3) AND b='x' AND c IS NULL AND d = -5 ORDER BY 1 LIMIT 10",
			"select * from t where a in(?+) and b = ? and c is null and d = ? order by 1 limit ?"},
		{"INSERT INTO t1 (a,b) VALUES (1,'a'),(2,'b')", "insert into t1(a, b) values(?, ?)"},
		{"select `Abc`.x1, 0xFF, x'ab', TRUE from tbl_2020 where y = null", "select abc.x1, ?, ?, ? from tbl_2020 where y = ?"},
		{"SELECT /*+ MAX_EXECUTION_TIME(10) */ a FROM t /*route='x'*/ -- c\n;", "select a from t"},
		{"select 1; select 2;", "select ?; select ?"},
	}
	for _, c := range cases {
		require.Equal(t, c.want, Fingerprint(c.in), c.in)
		require.Equal(t, QueryHash(c.want), TemplateHash(c.in))
	}
}

func TestClassifyFirst(t *testing.T) {
	s := Classify("SELECT * FROM t FOR UPDATE")
	require.Equal(t, ClassSelect, s.Class)
	require.True(t, s.Flags.Has(FlagLock))
	require.False(t, s.ReadOnly())
	require.Equal(t, "SELECT", s.Keyword)
	require.Equal(t, []string{"SELECT 1", "SELECT ';'"}, Split("SELECT 1; SELECT ';';"))
	require.Equal(t, map[string]string{"route": "/a b"}, Tags("SELECT 1 /*route='%2Fa%20b'*/"))
	nd, why := NonDeterministic("SELECT NOW()")
	require.True(t, nd)
	require.Equal(t, "NOW()", why)
	o := NewObfuscator([]byte("k"))
	q, err := o.Query("SELECT name FROM customers WHERE id = 'abc'")
	require.NoError(t, err)
	require.NotContains(t, q, "customers")
}
