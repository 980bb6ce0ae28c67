package plan

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return string(b)
}

func TestStarRocksFragmentsJoinIntoOneTree(t *testing.T) {
	n, err := ParseStarRocks(fixture(t, "starrocks_broadcast.txt"))
	require.NoError(t, err)
	require.Equal(t, `MERGING-EXCHANGE
  SORT
    AGGREGATE (merge finalize)
      EXCHANGE
        AGGREGATE (update serialize)
          Project
            HASH JOIN [INNER JOIN (BROADCAST)]
              EXCHANGE
                OlapScanNode customers
              OlapScanNode orders
`, n.Render())
	require.Equal(t, []string{"customers", "orders"}, n.Tables())
}

func TestStarRocksNestedInputsAndCostsForm(t *testing.T) {
	n, err := ParseStarRocks(fixture(t, "starrocks_union_nested.txt"))
	require.NoError(t, err)
	require.Equal(t, `UNION
  HASH JOIN [LEFT OUTER JOIN (BROADCAST)]
    OlapScanNode t3
    OlapScanNode t2
  Project
    OlapScanNode t1
`, n.Render())
}

func TestStarRocksDiffNamesTheJoinChange(t *testing.T) {
	a, err := ParseStarRocks(fixture(t, "starrocks_broadcast.txt"))
	require.NoError(t, err)
	b, err := ParseStarRocks(fixture(t, "starrocks_shuffle.txt"))
	require.NoError(t, err)
	changes := Diff(a, b)
	require.Len(t, changes, 1)
	require.Equal(t, "changed", changes[0].Kind)
	require.Contains(t, changes[0].Before, "BROADCAST")
	require.Contains(t, changes[0].After, "PARTITIONED")
	require.Empty(t, Diff(a, a))
}

// Real MariaDB 10.11 output (EXPLAIN FORMAT=JSON) for a join, before and
// after an index on o.c.
const mariaNoIndex = `{
  "query_block": {
    "select_id": 1,
    "nested_loop": [
      {"table": {"table_name": "cu", "access_type": "const", "possible_keys": ["PRIMARY"], "key": "PRIMARY", "key_length": "4", "used_key_parts": ["id"], "ref": ["const"], "rows": 1, "filtered": 100}},
      {"table": {"table_name": "o", "access_type": "ALL", "rows": 1001, "filtered": 49.95005035, "attached_condition": "o.c = 1"}}
    ]
  }
}`

const mariaIndex = `{
  "query_block": {
    "select_id": 1,
    "nested_loop": [
      {"table": {"table_name": "cu", "access_type": "const", "possible_keys": ["PRIMARY"], "key": "PRIMARY", "key_length": "4", "used_key_parts": ["id"], "ref": ["const"], "rows": 1, "filtered": 100}},
      {"table": {"table_name": "o", "access_type": "ref", "possible_keys": ["kc"], "key": "kc", "key_length": "5", "used_key_parts": ["c"], "ref": ["const"], "rows": 500, "filtered": 100}}
    ]
  }
}`

func TestMySQLJSONDiffNamesTheIndex(t *testing.T) {
	a, err := ParseMySQLJSON([]byte(mariaNoIndex))
	require.NoError(t, err)
	b, err := ParseMySQLJSON([]byte(mariaIndex))
	require.NoError(t, err)
	require.Equal(t, "query_block\n  nested_loop\n    table cu [const key=PRIMARY]\n    table o [ALL]\n", a.Render())
	changes := Diff(a, b)
	require.NotEmpty(t, changes)
	require.Equal(t, "access", changes[0].Kind)
	require.Equal(t, "o table [ALL]", changes[0].Before)
	require.Equal(t, "o table [ref key=kc]", changes[0].After)
	require.Contains(t, changes[0].String(), "key=kc")
}

func TestMariaDBAnalyze(t *testing.T) {
	s, err := ParseMariaDBAnalyze([]byte(`{"query_optimization": {"r_total_time_ms": 0.1},
 "query_block": {"select_id": 1, "r_loops": 1, "r_total_time_ms": 0.82,
  "filesort": {"sort_key": "cu.r", "temporary_table": {"nested_loop": [
   {"table": {"table_name": "cu", "access_type": "ALL", "r_loops": 1, "rows": 2, "r_rows": 2, "r_engine_stats": {"pages_accessed": 1}}},
   {"table": {"table_name": "o", "access_type": "ref", "key": "kc", "r_loops": 2, "rows": 1, "r_rows": 500, "r_engine_stats": {"pages_accessed": 2002}}}]}}}}`))
	require.NoError(t, err)
	require.InDelta(t, 0.82, s.TotalTimeMS, 1e-9)
	require.InDelta(t, 1002.0, s.RowsExamined, 1e-9)
	require.InDelta(t, 2003.0, s.PagesAccessed, 1e-9)
	require.InDelta(t, 1000.0, s.Tables["o"], 1e-9)
}

func TestMalformed(t *testing.T) {
	for _, in := range []string{"", "{", "[1,2]", `{"a":1} x`, `{"select": 1}`} {
		_, err := ParseMySQLJSON([]byte(in))
		require.ErrorIs(t, err, ErrMalformed, in)
	}
	for _, in := range []string{"", "no plan", "PLAN FRAGMENT x", "PLAN FRAGMENT 0\n 1:SORT\n|----3:EXCHANGE"} {
		_, err := ParseStarRocks(in)
		require.ErrorIs(t, err, ErrMalformed, in)
	}
}

func FuzzParseStarRocks(f *testing.F) {
	for _, name := range []string{"starrocks_broadcast.txt", "starrocks_shuffle.txt", "starrocks_union_nested.txt"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("PLAN FRAGMENT 0\n  1:EXCHANGE\nPLAN FRAGMENT 1\n EXCHANGE ID: 01\n  2:EXCHANGE\nPLAN FRAGMENT 2\n EXCHANGE ID: 02\n 3:EXCHANGE\n")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseStarRocks(s)
		if err == nil {
			_ = n.Render()
			_ = Diff(n, n)
		}
	})
}

func FuzzParseMySQLJSON(f *testing.F) {
	f.Add(mariaNoIndex)
	f.Add(mariaIndex)
	f.Add(`{"query_block": {"union_result": {"query_specifications": [{"query_block": {"table": {"table_name": "a"}}}]}}}`)
	f.Add(strings.Repeat("[", 300))
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseMySQLJSON([]byte(s))
		if err == nil {
			_ = Diff(n, n)
		}
		_, _ = ParseMariaDBAnalyze([]byte(s))
	})
}
