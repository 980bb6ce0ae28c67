package hashing

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fingerprintRules is one example per rule of the package documentation.
var fingerprintRules = []struct{ rule, in, want string }{
	{"literals", "SELECT * FROM t WHERE a = 'x' AND b = 42 AND c = 1.5e3 AND d = 0xFF AND e = X'0A' AND f = b'01'",
		"select * from t where a = ? and b = ? and c = ? and d = ? and e = ? and f = ?"},
	{"signed numbers", "SELECT a - 1 FROM t WHERE b = -2 AND c > +3", "select a - ? from t where b = ? and c > ?"},
	{"booleans and null", "UPDATE t SET a = NULL, b = TRUE WHERE c IS NOT NULL AND d IS FALSE", "update t set a = ?, b = ? where c is not null and d is false"},
	{"placeholders", "SELECT * FROM t WHERE a = ?", "select * from t where a = ?"},
	{"typed and national strings", "SELECT DATE '2024-01-02', _utf8mb4'x', N'y' FROM t", "select date ?, ?, ? from t"},
	{"adjacent strings", "SELECT 'a' 'b' FROM t", "select ? from t"},
	{"in lists", "SELECT * FROM t WHERE a IN (1, 2, 3) AND b NOT IN ('x') AND (c, d) IN ((1, 2), (3, 4))",
		"select * from t where a in(?+) and b not in(?+) and (c, d) in(?+)"},
	{"in subquery kept", "SELECT * FROM t WHERE a IN (SELECT b FROM u WHERE c IN (1,2))",
		"select * from t where a in(select b from u where c in(?+))"},
	{"multi-row values", "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, NOW())",
		"insert into t(a, b) values(?, ?), (?, now())"},
	{"values row", "INSERT INTO t VALUES ROW(1, 2), ROW(3, 4)", "insert into t values row(?, ?)"},
	{"comments", "SELECT /* c */ a -- c\nFROM t # c\n", "select a from t"},
	{"executable comments are code", "SELECT /*!40001 SQL_BUFFER_RESULT */ a FROM t", "select sql_buffer_result a from t"},
	{"hints", "SELECT /*+ SET_VAR(query_timeout=10) */ a FROM t USE INDEX (i1), IGNORE KEY FOR ORDER BY (i2) JOIN [broadcast] u",
		"select a from t join u"},
	{"sqlcommenter", "SELECT a FROM t /*route='screening',controller='x'*/", "select a from t"},
	{"query cache modifiers", "SELECT SQL_NO_CACHE a FROM t", "select a from t"},
	{"whitespace and case", "  Select\n\tA,B   FROM  T  WHERE  x=1  ", "select a, b from t where x = ?"},
	{"identifiers and digits", "SELECT t1.col_2, `Order`, `my col` FROM db1.tbl_2020 t1", "select t1.col_2, order, `my col` from db1.tbl_2020 t1"},
	{"functions", "SELECT COUNT(*), max( a ) FROM t", "select count(*), max(a) from t"},
	{"variables", "SELECT @A, @@session.sql_mode", "select @a, @@session.sql_mode"},
	{"ascending is the default", "SELECT a FROM t ORDER BY a ASC, b DESC", "select a from t order by a, b desc"},
	{"positional order", "SELECT a, b FROM t GROUP BY 1, 2 ORDER BY 2 DESC LIMIT 5, 10", "select a, b from t group by 1, 2 order by 2 desc limit ?, ?"},
	{"statements", "SELECT 1; SELECT 2;", "select ?; select ?"},
}

// docExamples are the examples of the package documentation, verbatim.
var docExamples = [][2]string{
	{"SELECT * FROM t WHERE a = 'x' AND b = 42 AND c = 1.5e3 AND d = 0xFF", "select * from t where a = ? and b = ? and c = ? and d = ?"},
	{"SELECT a - 1 FROM t WHERE b = -2", "select a - ? from t where b = ?"},
	{"UPDATE t SET a = NULL WHERE c IS NOT NULL AND d IS FALSE", "update t set a = ? where c is not null and d is false"},
	{"SELECT DATE '2024-01-02', _utf8mb4'x', N'y', 'a' 'b'", "select date ?, ?, ?, ?"},
	{"SELECT * FROM t WHERE a IN (1, 2, 3) AND (c, d) IN ((1, 2), (3, 4))", "select * from t where a in(?+) and (c, d) in(?+)"},
	{"INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')", "insert into t(a, b) values(?, ?)"},
	{"INSERT INTO t VALUES ROW(1, 2), ROW(3, 4)", "insert into t values row(?, ?)"},
	{"SELECT /* c */ a -- c", "select a"},
	{"SELECT /*!40001 SQL_BUFFER_RESULT */ a FROM t", "select sql_buffer_result a from t"},
	{"SELECT /*+ SET_VAR(query_timeout=10) */ SQL_NO_CACHE a FROM t USE INDEX (i1) JOIN [broadcast] u", "select a from t join u"},
	{"  Select\n\tA,B   FROM  T  WHERE  x=1 ;", "select a, b from t where x = ?"},
	{"SELECT `Order`, `my col` FROM T", "select order, `my col` from t"},
	{"SELECT t1.col_2 FROM db1.tbl_2020 t1", "select t1.col_2 from db1.tbl_2020 t1"},
	{"SELECT COUNT(*), max( a ) FROM t WHERE b<=>1", "select count(*), max(a) from t where b <=> ?"},
	{"SELECT @A, @@SESSION.sql_mode", "select @a, @@session.sql_mode"},
	{"SELECT a, b FROM t GROUP BY 1 ORDER BY 2 DESC, a ASC LIMIT 5, 10", "select a, b from t group by 1 order by 2 desc, a limit ?, ?"},
	{"SELECT 1; SELECT 2;", "select ?; select ?"},
}

func TestFingerprintDocExamples(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	flat := strings.Join(strings.Fields(strings.ReplaceAll(string(doc), "//", "")), " ")
	for _, e := range docExamples {
		require.Equal(t, e[1], Fingerprint(e[0]), e[0])
		shown := strings.NewReplacer("\n", `\n`, "\t", `\t`).Replace(e[0])
		require.Contains(t, flat, strings.Join(strings.Fields(shown), " "), "doc shows %q", shown)
		require.Contains(t, flat, "=> "+strings.Join(strings.Fields(e[1]), " "), "doc shows %q", e[1])
	}
}

func TestFingerprintRules(t *testing.T) {
	for _, r := range fingerprintRules {
		require.Equal(t, r.want, Fingerprint(r.in), "%s: %s", r.rule, r.in)
		require.Equal(t, r.want, Fingerprint(r.want), "%s: a fingerprint is its own fingerprint", r.rule)
	}
}

func TestFingerprintSame(t *testing.T) {
	pairs := [][2]string{
		{"SELECT * FROM t WHERE id = 1", "select *\nfrom t where id=2"},
		{"SELECT * FROM t WHERE id IN (1)", "SELECT * FROM t WHERE id IN (1,2,3,4,5,6)"},
		{"INSERT INTO t VALUES (1,'a')", "INSERT INTO t VALUES (2,'b'),(3,'c'),(4,'d')"},
		{"SELECT a FROM t WHERE d > '2024-01-01'", "SELECT a FROM t WHERE d > '2025-12-31 23:59:59'"},
		{"SELECT a FROM t LIMIT 10", "SELECT a FROM t LIMIT 20"},
		{"SELECT /*+ HINT */ a FROM t", "SELECT a FROM t /* route='x' */"},
		{"SELECT a FROM t WHERE b = -1", "SELECT a FROM t WHERE b = 7"},
		{"SELECT a FROM t WHERE b = ?", "SELECT a FROM t WHERE b = 'x'"},
		{"SELECT a FROM t WHERE b = 0x1F", "SELECT a FROM t WHERE b = 31"},
	}
	for _, p := range pairs {
		require.Equal(t, Fingerprint(p[0]), Fingerprint(p[1]), "%q vs %q", p[0], p[1])
		require.Equal(t, TemplateHash(p[0]), TemplateHash(p[1]))
	}
}

func TestFingerprintDifferent(t *testing.T) {
	pairs := [][2]string{
		{"SELECT a FROM t1", "SELECT a FROM t2"},                                            // tables
		{"SELECT a FROM t", "SELECT b FROM t"},                                              // columns
		{"SELECT a FROM t WHERE x = 1", "SELECT a FROM t WHERE x > 1"},                      // operators
		{"SELECT a FROM t WHERE x = 1", "SELECT a FROM t WHERE x <=> 1"},                    // operators
		{"SELECT * FROM a JOIN b ON a.i = b.i", "SELECT * FROM a LEFT JOIN b ON a.i = b.i"}, // joins
		{"SELECT MAX(a) FROM t", "SELECT MIN(a) FROM t"},                                    // functions
		{"SELECT a FROM t GROUP BY a", "SELECT a FROM t GROUP BY b"},                        // grouping
		{"SELECT a FROM t ORDER BY a", "SELECT a FROM t ORDER BY a DESC"},                   // ordering direction
		{"SELECT a FROM t ORDER BY 1", "SELECT a FROM t ORDER BY 2"},                        // ordering position
		{"SELECT a FROM t", "SELECT DISTINCT a FROM t"},                                     // distinct
		{"SELECT a FROM t UNION SELECT a FROM u", "SELECT a FROM t UNION ALL SELECT a FROM u"},
		{"SELECT a FROM t WHERE b IS NULL", "SELECT a FROM t WHERE b IS NOT NULL"},
		{"SELECT a FROM t WHERE b IN (1, 2)", "SELECT a FROM t WHERE b NOT IN (1, 2)"},
		{"SELECT a FROM t1 WHERE x = 1", "SELECT a FROM t11 WHERE x = 1"}, // digits in identifiers
		{"SELECT `a b` FROM t", "SELECT `a c` FROM t"},
		{"SELECT a FROM t WHERE b = 1 AND c = 2", "SELECT a FROM t WHERE b = 1 OR c = 2"},
	}
	for _, p := range pairs {
		require.NotEqual(t, Fingerprint(p[0]), Fingerprint(p[1]), "%q vs %q", p[0], p[1])
	}
}

func TestFingerprintOddInput(t *testing.T) {
	for _, in := range []string{"", ";", "'unterminated", "/* open", "`open", "SELECT 'a", "))((", "@", "--", "#", "0x", "1e", ".5", "x'", "in (", "values (", "values (1),", "order by"} {
		require.NotPanics(t, func() { Fingerprint(in) }, in)
	}
	require.Equal(t, "", Fingerprint("  -- nothing\n"))
}
