package sink_test

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/sink"
)

// FuzzLineReader: whatever an object holds, the reader returns only JSON
// objects, never panics, and counts what it skips.
func FuzzLineReader(f *testing.F) {
	for _, s := range []string{
		"", "\n", "{}\n", `{"ts":"2026-11-22T00:00:00.000000Z","id":1}` + "\n",
		"{\"a\":1}\r\n{\"b\":2}", "not json\n{\"a\":1}\n[1]\nnull\n\"s\"\n",
		"{\"a\":\n1}\n", "{\"a\":\"\\u00e9\"}\n\n\n", "\xff\xfe{}\n", "{}{}\n", "  {\"x\":true}  \n",
		strings.Repeat("{\"k\":\""+strings.Repeat("v", 300)+"\"}\n", 3),
	} {
		f.Add([]byte(s), 64)
	}
	f.Fuzz(func(t *testing.T, data []byte, maxLine int) {
		maxLine %= 4096
		if maxLine < 0 {
			maxLine = -maxLine
		}
		maxLine++
		lr := sink.NewLineReader(bytes.NewReader(data), maxLine)
		nonBlank := 0
		for l := range bytes.SplitSeq(data, []byte("\n")) {
			if len(bytes.Trim(l, " \t\r\n")) > 0 {
				nonBlank++
			}
		}
		got := 0
		for {
			line, err := lr.Next()
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			require.True(t, json.Valid(line), "%q", line)
			require.Equal(t, byte('{'), line[0])
			require.NotContains(t, string(line), "\n")
			require.LessOrEqual(t, len(line), maxLine)
			got++
		}
		require.LessOrEqual(t, got+int(lr.Malformed()), nonBlank)
	})
}

// FuzzParseKey: any key parses or not without panicking, and a key the
// writer would make parses back to its hour.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{
		"ds/year=2026/month=11/day=22/hour=00/20261122_000000_0000abcd.jsonl",
		"ds/year=2026/month=02/day=30/hour=00/x.jsonl",
		"ds/year=2026/month=13/day=01/hour=00/x.jsonl.gz",
		"ds/year=2026/month=1/day=01/hour=00/x.jsonl",
		"ds/year=2026/month=01/day=01/hour=24/x.jsonl",
		"ds/year=2026/month=01/day=01/hour=23/.jsonl",
		"ds/year=2026/month=01/day=01/hour=23/a/b.jsonl",
		"ds/year=2026/month=01/day=01/hour=23/a.jsonl.123.tmp",
		"other/year=2026/month=01/day=01/hour=23/a.jsonl", "", "ds/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		hour, _, ok := sink.ParseKey("ds", key)
		if !ok {
			return
		}
		require.Equal(t, hour, hour.Truncate(time.Hour))
		require.Equal(t, time.UTC, hour.Location())
		require.True(t, strings.HasPrefix(key, "ds/"+hour.Format("year=2006/month=01/day=02/hour=15/")), key)
	})
}

// FuzzAppendJSONString: the output is the JSON string encoding/json writes
// (without HTML escaping).
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "q\"b\\s\n\r\t\x00\x1f", "é€😀", "\xff\xfe", "\u2028\u2029", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		require.NoError(t, enc.Encode(s))
		require.Equal(t, strings.TrimSuffix(buf.String(), "\n"), string(sink.AppendJSONString(nil, s)))
	})
}
