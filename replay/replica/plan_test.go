package replica

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPlanValues checks the values planned for each kind of filter.
func TestPlanValues(t *testing.T) {
	cases := []struct {
		sql  string
		want map[string]string // column -> value of the first row
	}{
		{"SELECT * FROM t WHERE id = 42 AND name IN ('ann', 'bob')", map[string]string{"id": "42", "name": "'ann'"}},
		{"SELECT * FROM t WHERE p BETWEEN 10 AND 20.50", map[string]string{"p": "15.25"}},
		{"SELECT * FROM t WHERE p > 10 AND p < 10.03", map[string]string{"p": "10.01"}},
		{"SELECT * FROM t WHERE d >= '2024-01-10' AND d < '2024-01-13'", map[string]string{"d": "'2024-01-11'"}},
		{"SELECT * FROM t WHERE d > '2024-01-10 12:00:00'", map[string]string{"d": "'2024-01-11'"}},
		{"SELECT * FROM t WHERE name LIKE 'ab_c%d'", map[string]string{"name": "'abacd'"}},
		{"SELECT * FROM t WHERE d IS NULL", map[string]string{"d": "NULL"}},
		{"SELECT * FROM t WHERE 7 < id", map[string]string{"id": "8"}},
		{"SELECT * FROM t WHERE u = -3 OR name = 'zed'", map[string]string{"u": "-3"}},
		// A range the obfuscation inverted is swapped back.
		{"SELECT * FROM t WHERE id BETWEEN 90 AND 10", map[string]string{"id": "50"}},
	}
	for _, c := range cases {
		t.Run(c.sql, func(t *testing.T) {
			tables := fuzzTables(t)
			b := &builder{tables: tables, sum: &Summary{}}
			b.gen.rng = rand.New(rand.NewPCG(1, 2))
			_, p := b.plan(c.sql, "db", 1)
			require.NotNil(t, p)
			require.True(t, b.gen.addPlanRows(p))
			tb := tables["db.t"]
			require.Len(t, tb.rows, 1)
			for col, v := range c.want {
				require.Equal(t, v, tb.rows[0][tb.colIdx[col]], col)
			}
		})
	}
}

// TestPlanJoin checks that joined columns share one value and each alias
// gets a row, and that LIMIT ... OFFSET asks for more rows.
func TestPlanJoin(t *testing.T) {
	tables := fuzzTables(t)
	b := &builder{tables: tables, sum: &Summary{}}
	b.gen.rng = rand.New(rand.NewPCG(1, 2))
	_, p := b.plan("SELECT a.id FROM t a JOIN t b ON a.u = b.id WHERE b.name = 'x' LIMIT 2 OFFSET 3", "db", 1)
	require.NotNil(t, p)
	require.Equal(t, 4, p.copies)
	require.True(t, b.gen.addPlanRows(p))
	tb := tables["db.t"]
	// b is fixed by its name (unique): one row; a: four rows pointing at it.
	var bRow []string
	for _, r := range tb.rows {
		if r[tb.colIdx["name"]] == "'x'" {
			bRow = r
		}
	}
	require.NotNil(t, bRow)
	n := 0
	for _, r := range tb.rows {
		if r[tb.colIdx["u"]] == bRow[tb.colIdx["id"]] {
			n++
		}
	}
	require.Equal(t, 4, n)
}

// TestPlanSelfReference checks that a name leading back to its own CTE
// ends (it recursed without end once).
func TestPlanSelfReference(t *testing.T) {
	b := &builder{tables: fuzzTables(t), sum: &Summary{}}
	_, p := b.plan("WITH c AS (SELECT id) SELECT * FROM c JOIN t ON t.name = id", "db", 1)
	require.NotNil(t, p)
}

// BenchmarkPlan measures planning one statement and making its rows.
func BenchmarkPlan(b *testing.B) {
	const sql = "SELECT a.id, b.name FROM t a JOIN t b ON a.u = b.id WHERE b.name IN ('x', 'y') AND a.p BETWEEN 10 AND 99.5 AND a.d >= '2024-01-10'"
	tables := fuzzTables(b)
	bl := &builder{tables: tables, sum: &Summary{}}
	bl.gen.rng = rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		_, p := bl.plan(sql, "db", 3)
		bl.gen.addPlanRows(p)
	}
}
