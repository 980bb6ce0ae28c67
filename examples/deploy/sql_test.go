package deploy

import (
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
)

// The query_logs table of every engine's SQL file has exactly the columns of
// the query-logs dataset (plus, where the engine declares them, the Hive
// partition columns).
func TestSQLQueryLogColumnsMatchTheDataset(t *testing.T) {
	var want []string
	for _, f := range dataset.Fields(reflect.TypeFor[dataset.QueryLog]()) {
		want = append(want, f.Name)
	}
	sort.Strings(want)
	for file, cols := range map[string]func(string) []string{
		"sql/trino.sql":     ddlColumns,
		"sql/bigquery.sql":  ddlColumns,
		"sql/starrocks.sql": ddlColumns,
		"sql/duckdb.sql":    duckdbColumns,
	} {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		got := cols(string(b))
		require.NotEmpty(t, got, "%s: no query_logs columns found", file)
		var kept []string
		for _, c := range got {
			switch c {
			case "year", "month", "day", "hour":
				continue
			}
			kept = append(kept, c)
		}
		sort.Strings(kept)
		require.Equal(t, want, kept, "%s: query_logs columns differ from dataset.QueryLog", file)
	}
}

// ddlColumns returns the column names of the first CREATE ... query_logs (
// ... ) statement: the first word of each top-level comma-separated item.
func ddlColumns(sql string) []string {
	m := regexp.MustCompile("(?is)CREATE[^;]*?query_logs`?\\s*\\(").FindStringIndex(sql)
	if m == nil {
		return nil
	}
	depth, start := 0, m[1]
	var items []string
	for i := m[1]; i < len(sql); i++ {
		switch sql[i] {
		case '(':
			depth++
		case ')':
			if depth == 0 {
				return names(append(items, sql[start:i]))
			}
			depth--
		case ',':
			if depth == 0 {
				items = append(items, sql[start:i])
				start = i + 1
			}
		}
	}
	return nil
}

// duckdbColumns returns the keys of the columns = { ... } map of the
// query_logs view.
func duckdbColumns(sql string) []string {
	i := strings.Index(sql, "VIEW query_logs")
	if i < 0 {
		return nil
	}
	m := regexp.MustCompile(`(?s)columns\s*=\s*\{(.*?)\}`).FindStringSubmatch(sql[i:])
	if m == nil {
		return nil
	}
	var items []string
	for _, kv := range strings.Split(m[1], ",") {
		k, _, _ := strings.Cut(kv, ":")
		items = append(items, k)
	}
	return names(items)
}

func names(items []string) []string {
	var out []string
	for _, it := range items {
		f := strings.Fields(it)
		if len(f) == 0 {
			continue
		}
		out = append(out, strings.Trim(f[0], "`\""))
	}
	return out
}
