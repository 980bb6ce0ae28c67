package deploy

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	pq "github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"
	_ "gocloud.dev/blob/fileblob"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/dataset/datasettest"
	"github.com/sqlshadow/sqlshadow/sink"
	"github.com/sqlshadow/sqlshadow/sink/parquet"
)

// parquetKinds returns the kind of each column of the query logs' Parquet
// schema: timestamp, string, int, double or bool.
func parquetKinds(t *testing.T) map[string]string {
	t.Helper()
	f, err := parquet.NewFormat[dataset.QueryLog](nil)
	require.NoError(t, err)
	kinds := map[string]string{}
	for _, fl := range f.Schema().Fields() {
		typ := fl.Type()
		switch {
		case strings.HasPrefix(typ.String(), "TIMESTAMP"):
			kinds[fl.Name()] = "timestamp"
		case typ.Kind() == pq.ByteArray:
			kinds[fl.Name()] = "string"
		case typ.Kind() == pq.Int64:
			kinds[fl.Name()] = "int"
		case typ.Kind() == pq.Double:
			kinds[fl.Name()] = "double"
		case typ.Kind() == pq.Boolean:
			kinds[fl.Name()] = "bool"
		default:
			t.Fatalf("column %s: unexpected type %s", fl.Name(), typ)
		}
	}
	return kinds
}

// engineTypes is the type each engine reads for each kind of column.
var engineTypes = map[string]map[string]string{
	"trino":    {"timestamp": "TIMESTAMP(6) WITH TIME ZONE", "string": "VARCHAR", "int": "BIGINT", "double": "DOUBLE", "bool": "BOOLEAN"},
	"bigquery": {"timestamp": "TIMESTAMP", "string": "STRING", "int": "INT64", "double": "FLOAT64", "bool": "BOOL"},
	"duckdb":   {"timestamp": "TIMESTAMP WITH TIME ZONE", "string": "VARCHAR", "int": "BIGINT", "double": "DOUBLE", "bool": "BOOLEAN"},
}

// ddlColumnTypes returns the columns and types of the CREATE ... table (
// ... ) statement, without the Hive partition columns.
func ddlColumnTypes(sql, table string) map[string]string {
	m := regexp.MustCompile("(?is)CREATE[^;]*?" + regexp.QuoteMeta(table) + "`?\\s*\\(").FindStringIndex(sql)
	if m == nil {
		return nil
	}
	end := strings.Index(sql[m[1]:], "\n)")
	if end < 0 {
		return nil
	}
	out := map[string]string{}
	for item := range strings.SplitSeq(strings.ReplaceAll(sql[m[1]:m[1]+end], "\n", " "), ",") {
		name, typ, _ := strings.Cut(strings.TrimSpace(item), " ")
		name = strings.Trim(name, "`\"")
		switch name {
		case "", "year", "month", "day", "hour":
			continue
		}
		out[name] = strings.ToUpper(strings.TrimSpace(typ))
	}
	return out
}

// The Parquet variants of the Trino and BigQuery files declare every column
// of the Parquet schema with the type the engine reads it as; StarRocks'
// view over FILES() selects every column.
func TestSQLParquetVariantsMatchTheSchema(t *testing.T) {
	kinds := parquetKinds(t)
	require.Len(t, kinds, len(dataset.Fields(reflect.TypeFor[dataset.QueryLog]())))
	for file, engine := range map[string]string{"sql/trino.sql": "trino", "sql/bigquery.sql": "bigquery"} {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		want := map[string]string{}
		for name, kind := range kinds {
			want[name] = engineTypes[engine][kind]
		}
		require.Equal(t, want, ddlColumnTypes(string(b), "query_logs_parquet"), file)
	}
	b, err := os.ReadFile("sql/starrocks.sql")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?s)VIEW IF NOT EXISTS sqlshadow\.query_logs_parquet AS\s+SELECT(.*?)FROM FILES\(`).FindStringSubmatch(string(b))
	require.NotNil(t, m, "starrocks.sql: the Parquet view over FILES()")
	got := map[string]string{}
	for _, c := range names(strings.Split(m[1], ",")) {
		got[c] = kinds[c]
	}
	require.Equal(t, kinds, got, "starrocks.sql: the Parquet view's columns")
	require.Contains(t, string(b), `"format" = "parquet"`)
}

// DuckDB reads the Parquet objects the sink wrote, in place, with
// duckdb_parquet.sql: every field of every record equal, with the types of
// the Parquet schema.
func TestDuckDBReadsSinkParquet(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	bucket, err := sink.OpenBucket(ctx, "file://"+root)
	require.NoError(t, err)
	defer func() { require.NoError(t, bucket.Close()) }()
	f, err := parquet.NewFormat[dataset.QueryLog](nil)
	require.NoError(t, err)
	w, err := sink.NewWriter(bucket, dataset.QueryLogs, &sink.WriterOptions{Format: f})
	require.NoError(t, err)
	full := fullQueryLog()
	sparse := dataset.QueryLog{TS: sink.Time(time.Date(2026, 11, 22, 15, 0, 0, 1000, time.UTC)), QueryID: "q-2", Target: dataset.TargetPrimary, Command: "COM_PING"}
	want := []dataset.QueryLog{full, sparse}
	for i := range want {
		require.NoError(t, w.Write(ctx, time.Time(want[i].TS), &want[i]))
	}
	require.NoError(t, w.Close(ctx))

	ddl, err := os.ReadFile("sql/duckdb_parquet.sql")
	require.NoError(t, err)
	db, err := sql.Open("duckdb", "")
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()
	var ranComparison bool
	for _, s := range strings.Split(strings.ReplaceAll(string(ddl), "{{ROOT}}", filepath.ToSlash(root)), ";\n") {
		s = strings.TrimSpace(stripSQLComments(s))
		if s == "" {
			continue
		}
		if strings.HasPrefix(s, "SELECT") {
			rows, err := db.Query(s)
			require.NoError(t, err, s)
			for rows.Next() {
			}
			require.NoError(t, rows.Err())
			require.NoError(t, rows.Close())
			ranComparison = true
			continue
		}
		_, err := db.Exec(s)
		require.NoError(t, err, s)
	}
	require.True(t, ranComparison)

	// Types, as DuckDB reads them.
	kinds := parquetKinds(t)
	types := map[string]string{}
	rows, err := db.Query("SELECT column_name, column_type FROM (DESCRIBE query_logs)")
	require.NoError(t, err)
	for rows.Next() {
		var name, typ string
		require.NoError(t, rows.Scan(&name, &typ))
		if _, ok := kinds[name]; ok {
			types[name] = typ
		}
	}
	require.NoError(t, rows.Err())
	wantTypes := map[string]string{}
	for name, kind := range kinds {
		wantTypes[name] = engineTypes["duckdb"][kind]
	}
	require.Equal(t, wantTypes, types)

	// Every field: DuckDB's JSON of each row decodes to the record written.
	rows, err = db.Query(`SELECT to_json(q)::VARCHAR FROM (SELECT * EXCLUDE (year, month, day, hour, ts),
		strftime(ts AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ') AS ts FROM query_logs) q ORDER BY query_id`)
	require.NoError(t, err)
	var got []dataset.QueryLog
	for rows.Next() {
		var js string
		require.NoError(t, rows.Scan(&js))
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(js), &m))
		for k, v := range m {
			if v == nil {
				delete(m, k) // NULL: the field JSON omits
			}
		}
		b, err := json.Marshal(m)
		require.NoError(t, err)
		var rec dataset.QueryLog
		require.NoError(t, (&dataset.QueryLogDecoder{}).Decode(b, &rec), string(b))
		got = append(got, rec)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, want, got)
}

func stripSQLComments(s string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// fullQueryLog is datasettest.FullQueryLog in the hour the test reads.
func fullQueryLog() dataset.QueryLog {
	return datasettest.FullQueryLog(time.Date(2026, 11, 22, 14, 4, 5, 123456000, time.UTC))
}
