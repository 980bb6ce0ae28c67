package replica

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser"
)

const fuzzSchema = "CREATE TABLE `t` (`id` int NOT NULL, `name` varchar(20) NOT NULL, `d` date DEFAULT NULL, " +
	"`p` decimal(8,2) NOT NULL, `u` int unsigned, PRIMARY KEY (`id`), UNIQUE KEY `k` (`name`))"

func fuzzTables(t testing.TB) map[string]*table {
	tb, err := parseTable("db", fuzzSchema)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*table{"db.t": tb}
}

// FuzzLiteralEnd checks that literalEnd stays within the text and ends
// after where it started.
func FuzzLiteralEnd(f *testing.F) {
	for _, s := range []string{"1", "12.5e-3", "'a''b'", `"x\"y"`, "'open", ".5", "1e", "'\\"} {
		f.Add(s, 0)
	}
	f.Fuzz(func(t *testing.T, sql string, pos int) {
		end, ok := literalEnd(sql, pos)
		if ok && (end <= pos || end > len(sql)) {
			t.Fatalf("literalEnd(%q, %d) = %d", sql, pos, end)
		}
	})
}

// FuzzPlan checks that planning any statement never panics, that the
// rows it makes honour the table's unique keys, and that a statement whose
// range bounds were swapped still parses.
func FuzzPlan(f *testing.F) {
	for _, s := range []string{
		"SELECT * FROM t WHERE id = 5 AND name IN ('a', 'b')",
		"SELECT * FROM t WHERE p BETWEEN 900.5 AND 10 AND d > '2024-05-01' AND d < '2024-02-01'",
		"SELECT a.id FROM t a JOIN t b ON a.u = b.id WHERE b.name LIKE 'x%' LIMIT 3 OFFSET 7",
		"WITH c AS (SELECT id FROM t WHERE u > 7) SELECT * FROM c JOIN t ON t.id = c.id",
		"SELECT id FROM t WHERE id IN (SELECT u FROM t WHERE d IS NULL) OR name = 'z'",
		"SELECT * FROM (SELECT id AS x FROM t) q WHERE q.x <= -3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		tables := fuzzTables(t)
		b := &builder{tables: tables, sum: &Summary{}}
		b.gen.rng = rand.New(rand.NewPCG(1, 2))
		out, p := b.plan(sql, "db", 2)
		if p == nil {
			return
		}
		if out != sql {
			if _, err := parser.New().ParseOneStmt(out, "", ""); err != nil {
				t.Fatalf("swapped %q into %q, which does not parse: %v", sql, out, err)
			}
		}
		b.gen.addPlanRows(p)
		tb := tables["db.t"]
		seen := map[string]bool{}
		for _, r := range tb.rows {
			if k := strings.ToLower(r[0]); seen[k] {
				t.Fatalf("primary key %s twice", k)
			} else {
				seen[k] = true
			}
		}
	})
}
