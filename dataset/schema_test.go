package dataset_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
)

var update = flag.Bool("update", false, "rewrite docs/schema from the record types")

// docs/schema/<dataset>.schema.json is generated from the record types:
// `go test ./dataset -run Schema -update` rewrites it.
func TestSchemaFilesMatchTheTypes(t *testing.T) {
	dir := filepath.Join("..", "docs", "schema")
	for _, name := range dataset.Names() {
		want, err := dataset.Schema(name)
		require.NoError(t, err)
		want = append(want, '\n')
		path := filepath.Join(dir, name+".schema.json")
		if *update {
			require.NoError(t, os.MkdirAll(dir, 0o755))
			require.NoError(t, os.WriteFile(path, want, 0o644))
		}
		got, err := os.ReadFile(path)
		require.NoError(t, err, "run: go test ./dataset -run Schema -update")
		require.Equal(t, string(want), string(got), "%s is stale: go test ./dataset -run Schema -update", path)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.schema.json"))
	require.NoError(t, err)
	require.Len(t, files, len(dataset.Names()), "a schema file without a dataset")
}

func TestSchemaOfQueryLog(t *testing.T) {
	b, err := dataset.Schema(dataset.QueryLogs)
	require.NoError(t, err)
	var s struct {
		Properties map[string]map[string]any `json:"properties"`
		Required   []string                  `json:"required"`
	}
	require.NoError(t, json.Unmarshal(b, &s))
	require.Len(t, s.Properties, reflect.TypeFor[dataset.QueryLog]().NumField())
	require.Equal(t, map[string]any{"type": "string", "format": "date-time"}, s.Properties["ts"])
	require.Equal(t, map[string]any{"type": "integer", "minimum": 0.0}, s.Properties["error_code"])
	require.Contains(t, s.Required, "query_id")
	require.NotContains(t, s.Required, "primary_duration_ms")
	_, err = dataset.Schema("nope")
	require.Error(t, err)
}

// Every record survives encoding/json: encode, decode, equal.
func TestRecordsRoundTrip(t *testing.T) {
	for _, name := range dataset.Names() {
		rec, ok := dataset.Record(name)
		require.True(t, ok)
		fill(reflect.ValueOf(rec).Elem(), 1)
		b, err := json.Marshal(rec)
		require.NoError(t, err)
		back, _ := dataset.Record(name)
		require.NoError(t, json.Unmarshal(b, back))
		require.Equal(t, rec, back, name)
		// Every field was set, so every field is in the JSON.
		var keys map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(b, &keys))
		for _, f := range dataset.Fields(reflect.TypeOf(rec).Elem()) {
			require.Contains(t, keys, f.Name, "%s.%s", name, f.Name)
		}
	}
}

// fill sets every field of v to a non-zero value derived from seed.
func fill(v reflect.Value, seed int) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), seed)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[dataset.QueryLog]().Field(0).Type { // sink.Time
			b, _ := json.Marshal("2026-01-02T03:04:05.000006Z")
			_ = json.Unmarshal(b, v.Addr().Interface())
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i), seed+i)
		}
	case reflect.String:
		v.SetString("s" + string(rune('a'+seed%26)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(seed + 1))
	case reflect.Uint, reflect.Uint64, reflect.Uint32, reflect.Uint16:
		v.SetUint(uint64(seed + 1))
	case reflect.Float64:
		v.SetFloat(float64(seed) + 0.5)
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			v.SetBytes([]byte(`{"k":1}`))
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), seed)
	default:
		panic(v.Kind().String())
	}
}
