package hashing

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzSeeds are shared by the fuzz targets; more seeds are checked in under
// testdata/fuzz.
var fuzzSeeds = []string{
	"SELECT * FROM t WHERE a IN (1,2,3) AND b = 'x' ORDER BY 1 LIMIT 10",
	"INSERT INTO t (a, b) VALUES (1, 'a'), (2, 'b') ON DUPLICATE KEY UPDATE a = VALUES(a)",
	"SELECT /*+ HINT(x) */ a FROM t /*route='r',controller='c%2Fd'*/ -- tail",
	"/*!40101 SET NAMES utf8 */; SELECT 1; ;",
	"CREATE PROCEDURE p() BEGIN IF x THEN SELECT 1; END IF; END; CALL p()",
	"WITH c AS (SELECT 1) UPDATE t JOIN c SET a = 1",
	"SELECT 'unterminated",
	"SELECT `a``b`, \"c\\\"d\", x'0A', 0x1F, b'01', 1e-3, .5, -2, @v, @@global.x, ? FROM t",
	"SET GLOBAL x = 1, @a := 2",
	"EXPLAIN ANALYZE DELETE FROM t",
	"PREPARE s FROM 'SELECT 1'",
	"/* open",
	"SELECT a FROM t1 USE INDEX (i), IGNORE KEY (j) JOIN [broadcast] u",
	"VALUES ROW(1, 2), ROW(3, 4)",
	"CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(10), status ENUM('a','b')) ENGINE=InnoDB",
}

func addSeeds(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
}

func FuzzSplit(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, sql string) {
		for _, s := range Split(sql) {
			if s == "" || strings.TrimSpace(s) != s {
				t.Fatalf("statement %q is empty or untrimmed", s)
			}
			if !strings.Contains(sql, s) {
				t.Fatalf("statement %q is not part of the input", s)
			}
		}
	})
}

func FuzzClassify(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, sql string) {
		s := Classify(sql)
		if s.Text != sql {
			t.Fatal("Text changed")
		}
		if s.Class.String() == "" || s.Flags.String() == "" {
			t.Fatal("empty names")
		}
		if s.Keyword != strings.ToUpper(s.Keyword) {
			t.Fatalf("keyword %q is not upper case", s.Keyword)
		}
		_ = ClassifyAll(sql)
	})
}

func FuzzFingerprint(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, sql string) {
		fp := Fingerprint(sql)
		if fp != Fingerprint(sql) {
			t.Fatal("not deterministic")
		}
		if utf8.ValidString(sql) && !utf8.ValidString(fp) {
			t.Fatalf("invalid UTF-8 from valid input: %q", fp)
		}
		if strings.HasPrefix(fp, " ") || strings.HasSuffix(fp, " ") {
			t.Fatalf("untrimmed %q", fp)
		}
		if again := Fingerprint(fp); again != fp {
			t.Fatalf("not a fixed point: %q -> %q -> %q", sql, fp, again)
		}
		if len(TemplateHash(sql)) != 32 {
			t.Fatal("bad hash")
		}
	})
}

func FuzzTags(f *testing.F) {
	addSeeds(f)
	f.Add("SELECT 1 /*a='1', b = 'x\\'y' */ /*bad*/ /*c='%zz'*/")
	f.Fuzz(func(t *testing.T, sql string) {
		m := Tags(sql)
		if m != nil && len(m) == 0 {
			t.Fatal("empty non-nil map")
		}
		for k := range m {
			if k == "" {
				t.Fatal("empty key")
			}
		}
	})
}

func FuzzNonDeterministic(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, sql string) {
		if nd, why := NonDeterministic(sql); nd != (why != "") {
			t.Fatalf("%v with reason %q", nd, why)
		}
	})
}

func FuzzObfuscator(f *testing.F) {
	addSeeds(f)
	o := NewObfuscator([]byte("fuzz"))
	f.Fuzz(func(t *testing.T, sql string) {
		q, err := o.Query(sql)
		if err != nil {
			return
		}
		q2, err := o.Query(sql)
		if err != nil || q != q2 {
			t.Fatal("not deterministic")
		}
		if _, err := o.DDL(sql); err != nil {
			t.Fatalf("DDL fails where Query did not: %v", err)
		}
		// The output scans cleanly again.
		if _, err := o.Query(q); err != nil {
			t.Fatalf("obfuscated text does not scan: %q: %v", q, err)
		}
	})
}
