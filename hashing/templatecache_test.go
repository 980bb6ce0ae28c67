package hashing

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// withOtherLiterals returns sql with every literal's value replaced by
// another of the same kind: the same shape, other values.
func withOtherLiterals(sql string, r *rand.Rand) string {
	var b strings.Builder
	lx := lexer{s: sql}
	last := 0
	for {
		t := lx.next()
		if t.kind == tkEOF {
			break
		}
		var repl string
		switch t.kind {
		case tkNumber:
			switch r.IntN(4) {
			case 0:
				repl = fmt.Sprint(r.IntN(10))
			case 1:
				repl = fmt.Sprint(r.Int64())
			case 2:
				repl = fmt.Sprintf("%d.%d", r.IntN(1000), r.IntN(1000))
			default:
				repl = fmt.Sprintf("%de-%d", 1+r.IntN(9), r.IntN(20))
			}
		case tkString:
			q := sql[t.start : t.start+1]
			if q != "'" && q != `"` { // N'..', _utf8'..': keep the prefix
				continue
			}
			repl = q + strings.Repeat("z", r.IntN(5)) + q
		case tkHex:
			if strings.HasPrefix(sql[t.start:t.end], "0x") {
				repl = fmt.Sprintf("0x%X", r.IntN(1<<16))
			}
		}
		if repl == "" {
			continue
		}
		b.WriteString(sql[last:t.start])
		b.WriteString(repl)
		last = t.end
	}
	b.WriteString(sql[last:])
	return b.String()
}

func templateCorpus() []string {
	out := append([]string(nil), fuzzSeeds...)
	for _, r := range fingerprintRules {
		out = append(out, r.in)
	}
	for _, e := range docExamples {
		out = append(out, e[0])
	}
	return append(out,
		"SELECT c FROM sbtest1 WHERE id=5000",
		"SELECT DISTINCT c FROM sbtest3 WHERE id BETWEEN 4512 AND 4611 ORDER BY c",
		"SELECT a, b FROM t ORDER BY 2, 1 LIMIT 5",
		"SELECT a FROM t GROUP BY 1.5",
		"SELECT a FROM t WHERE x IN (1, 2, 3) AND y = -4 AND z = 'a' 'b'",
	)
}

// The cache gives TemplateHash's answer for every statement, whatever it saw
// before: the same statements again, and the same shapes with other values.
func TestTemplateCacheMatchesTemplateHash(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	c := NewTemplateCache(64)
	corpus := templateCorpus()
	for round := range 20 {
		for _, sql := range corpus {
			q := sql
			if round > 0 {
				q = withOtherLiterals(sql, r)
			}
			if got, want := c.TemplateHash(q), TemplateHash(q); got != want {
				t.Fatalf("round %d, %q: cached %s, want %s (fingerprint %q)", round, q, got, want, Fingerprint(q))
			}
		}
	}
	if len(c.shapes) == 0 || len(c.shapes) > 64 {
		t.Fatalf("%d shapes cached", len(c.shapes))
	}
}

// Statements whose tokens differ in anything but literal values have
// their own templates, even when their token kinds line up.
func TestTemplateCacheTellsShapesApart(t *testing.T) {
	c := NewTemplateCache(64)
	qs := []string{
		"SELECT a FROM t WHERE id = 1", "SELECT b FROM t WHERE id = 1", "SELECT a FROM u WHERE id = 1",
		"DELETE a FROM t WHERE id = 1", "SELECT a FROM t WHERE id < 1", "SELECT a FROM t WHERE id = ?",
		"SELECT @a", "SELECT @b", "SELECT `a`", "SELECT `b`", "SELECT a + 1", "SELECT a - 1",
		"SELECT 'x'", "SELECT 1", "SELECT 0x1", "SELECT ?",
	}
	seen := map[string]string{}
	for range 2 {
		for _, q := range qs {
			got, want := c.TemplateHash(q), TemplateHash(q)
			if got != want {
				t.Fatalf("%q: cached %s, want %s", q, got, want)
			}
			seen[Fingerprint(q)] = q
		}
	}
	if len(seen) < len(qs)-4 { // 'x', 1, 0x1 and ? are all ?, and so are id = 1 and id = ?
		t.Fatalf("only %d templates: the test lost its point", len(seen))
	}
}

// ORDER BY 1 keeps its 1 and ORDER BY 1.5 does not: the shape is the same,
// so it must not be cached.
func TestTemplateCacheValueDependentShape(t *testing.T) {
	c := NewTemplateCache(8)
	for _, q := range []string{"SELECT a FROM t ORDER BY 1.5", "SELECT a FROM t ORDER BY 1", "SELECT a FROM t ORDER BY 2", "SELECT a FROM t ORDER BY 1.5"} {
		if got, want := c.TemplateHash(q), TemplateHash(q); got != want {
			t.Fatalf("%q: cached %s, want %s", q, got, want)
		}
	}
	if len(c.shapes) != 0 {
		t.Fatalf("a value-dependent shape was cached: %v", c.shapes)
	}
	if TemplateHash("SELECT a FROM t ORDER BY 1") == TemplateHash("SELECT a FROM t ORDER BY 2") {
		t.Fatal("ORDER BY positions no longer kept: the test lost its point")
	}
}

func FuzzTemplateCache(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, sql string) {
		r := rand.New(rand.NewPCG(uint64(len(sql)), 7))
		c := NewTemplateCache(4)
		for _, q := range []string{sql, withOtherLiterals(sql, r), sql, withOtherLiterals(sql, r)} {
			if got, want := c.TemplateHash(q), TemplateHash(q); got != want {
				t.Fatalf("%q: cached %s, want %s", q, got, want)
			}
		}
	})
}

func BenchmarkTemplateCache(b *testing.B) {
	c := NewTemplateCache(4096)
	qs := make([]string, 1000)
	for i := range qs {
		qs[i] = fmt.Sprintf("SELECT c FROM sbtest1 WHERE id=%d", i*7+1)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.TemplateHash(qs[i%len(qs)])
	}
}

// A statement whose shape is too long to keep is still hashed right, and
// the cache does not keep its key.
func TestTemplateCacheLongStatement(t *testing.T) {
	c := NewTemplateCache(8)
	long := "SELECT " + strings.Repeat("col_name, ", 2000) + "x FROM t WHERE id = 1"
	for range 2 {
		if got, want := c.TemplateHash(long), TemplateHash(long); got != want {
			t.Fatalf("cached %s, want %s", got, want)
		}
	}
	if len(c.shapes) != 0 || cap(c.key) > 2*maxShapeKey {
		t.Fatalf("%d shapes, key buffer of %d bytes", len(c.shapes), cap(c.key))
	}
	if got, want := c.TemplateHash("SELECT 1"), TemplateHash("SELECT 1"); got != want || len(c.shapes) != 1 {
		t.Fatalf("short statement after a long one: %s, want %s; %d shapes", got, want, len(c.shapes))
	}
}
