package shadow

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestDecodeShadowLine(t *testing.T) {
	line := `{"ts":"2026-11-20T10:11:12.345678Z","query_id":"q1","target":"shadow","command":"COM_QUERY",` +
		`"query_text":"SELECT \"a\\b\" /* é */","query_hash":"h1","template_hash":"t1","route":"r1",` +
		`"database":"db","nested":{"a":[1,2,{"b":null}],"c":"}"},"duration_ms":12.5,"client_wait_ms":1e-1,` +
		`"server_conn_id":7,"queue_ms":0.25,"success":false,"error_code":1054,"sql_state":"42S22","error":"boom",` +
		`"rows":-3,"result_hash":"rs","columns_hash":"cs","float_cols":true,"primary_duration_ms":4,` +
		`"primary_success":true,"primary_error_code":0,"primary_rows":2,"primary_result_hash":"rp",` +
		`"primary_columns_hash":"cp","filtered":false,"dropped":true,"diverged":true,"extra":[true,false,null,"x"]}`
	var r shadowLine
	require.NoError(t, decodeShadowLine([]byte(line), &r))
	require.Equal(t, time.Date(2026, 11, 20, 10, 11, 12, 345678000, time.UTC).UnixMicro(), r.tsMicros)
	require.Equal(t, "q1", string(r.queryID))
	require.Equal(t, "shadow", string(r.target))
	require.Equal(t, `SELECT "a\b" /* é */`, string(r.queryText))
	require.Equal(t, "h1", string(r.queryHash))
	require.Equal(t, "t1", string(r.templateHash))
	require.Equal(t, "r1", string(r.route))
	require.Equal(t, 12.5, r.durationMS)
	require.Equal(t, 0.1, r.clientWaitMS)
	require.False(t, r.success)
	require.EqualValues(t, 1054, r.errorCode)
	require.Equal(t, "boom", string(r.errorText))
	require.Equal(t, "rs", string(r.resultHash))
	require.Equal(t, "cs", string(r.columnsHash))
	require.True(t, r.floatCols)
	require.True(t, r.hasPrimDuration)
	require.Equal(t, 4.0, r.primDuration)
	require.True(t, r.hasPrimSuccess)
	require.True(t, r.primSuccess)
	require.Equal(t, "rp", string(r.primResult))
	require.Equal(t, "cp", string(r.primColumns))
	require.False(t, r.filtered)
	require.True(t, r.dropped)
	require.True(t, r.diverged)

	// Reuse resets every field.
	require.NoError(t, decodeShadowLine([]byte(`{"target":"primary","route":null}`), &r))
	require.Equal(t, "primary", string(r.target))
	require.Nil(t, r.route)
	require.False(t, r.hasPrimSuccess)
	require.Zero(t, r.tsMicros)

	// RFC 3339 timestamps with an offset.
	require.NoError(t, decodeShadowLine([]byte(`{"ts":"2026-11-20T12:11:12+02:00"}`), &r))
	require.Equal(t, time.Date(2026, 11, 20, 10, 11, 12, 0, time.UTC).UnixMicro(), r.tsMicros)
}

func TestParseTSMicrosMatchesTime(t *testing.T) {
	for _, ts := range []time.Time{
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 29, 23, 59, 59, 999999000, time.UTC),
		time.Date(2026, 12, 31, 1, 2, 3, 4000, time.UTC),
		time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC),
		time.Date(2400, 3, 1, 0, 0, 0, 0, time.UTC),
	} {
		require.Equal(t, ts.UnixMicro(), parseTSMicros([]byte(ts.Format("2006-01-02T15:04:05.000000Z"))), ts.String())
	}
	require.Zero(t, parseTSMicros([]byte("garbage")))
}

func TestDecodeShadowLineErrors(t *testing.T) {
	var r shadowLine
	for _, bad := range []string{``, `[]`, `{`, `{"a"`, `{"a":}`, `{"ts":"x`, `{"duration_ms":"x"}`, `{"success":tru}`,
		`{"a":[1,2}`, `{"route":12}`, `{"error_code":-}`, `{"a":"\"}`} {
		require.Error(t, decodeShadowLine([]byte(bad), &r), bad)
	}
}

// FuzzDecodeShadowLine: bad input never panics, and what encoding/json
// accepts as an object we decode with the same values.
func FuzzDecodeShadowLine(f *testing.F) {
	f.Add(`{"ts":"2026-11-20T10:11:12.345678Z","target":"shadow","route":"r","duration_ms":1.5,"success":true,"primary_success":false}`)
	f.Add(`{"query_text":"a\u00e9\n\"","x":{"y":[1,{"z":"}"}]},"error_code":1054}`)
	f.Add(`{"duration_ms":-1.5e3,"primary_duration_ms":null}`)
	f.Add(`{"a":[[[[[[[[]]]]]]]]}`)
	f.Add(`{`)
	f.Fuzz(func(t *testing.T, s string) {
		var r shadowLine
		err := decodeShadowLine([]byte(s), &r)
		var ref map[string]json.RawMessage
		if err != nil || !utf8.ValidString(s) || json.Unmarshal([]byte(s), &ref) != nil {
			return
		}
		str := func(key string, got []byte) {
			var v *string
			if raw, ok := ref[key]; ok && json.Unmarshal(raw, &v) == nil && v != nil {
				require.Equal(t, *v, string(got), key)
			}
		}
		str("target", r.target)
		str("route", r.route)
		str("query_text", r.queryText)
		var d *float64
		if raw, ok := ref["duration_ms"]; ok && json.Unmarshal(raw, &d) == nil && d != nil {
			require.Equal(t, *d, r.durationMS)
		}
		var b *bool
		if raw, ok := ref["success"]; ok && json.Unmarshal(raw, &b) == nil && b != nil {
			require.Equal(t, *b, r.success)
		}
	})
}

func TestDecodeProfileLine(t *testing.T) {
	var r shadowProfileLine
	require.NoError(t, decodeProfileLine([]byte(`{"ts":"2026-11-20T10:00:00.000000Z","kind":"statement","cluster":"shadow","server_conn_id":42,`+
		`"query_hash":"q","duration_ms":3.5,"pending_ms":0.5,"cpu_cost_ns":2000000,"scan_rows":10,"scan_bytes":100,"mem_cost_bytes":5,"spill_bytes":0,"profile_text":"x\"y"}`), &r))
	require.Equal(t, "shadow", string(r.cluster))
	require.Equal(t, "statement", string(r.kind))
	require.EqualValues(t, 42, r.connID)
	require.True(t, r.hasConnID && r.hasDur && r.hasCPU && r.hasSpill)
	require.Equal(t, 2e6, r.cpuNs)
	require.Error(t, decodeProfileLine([]byte(`{"cluster":`), &r))
}

// FuzzDecodeProfileLine: bad input never panics.
func FuzzDecodeProfileLine(f *testing.F) {
	f.Add(`{"ts":"2026-11-20T10:00:00.000000Z","kind":"statement","cluster":"primary","server_conn_id":1,"query_hash":"q","cpu_cost_ns":5}`)
	f.Add(`{"kind":null,"x":[{"y":"\\"}"}]}`)
	f.Add(`{"server_conn_id":`)
	f.Fuzz(func(t *testing.T, s string) {
		var r shadowProfileLine
		_ = decodeProfileLine([]byte(s), &r)
	})
}
