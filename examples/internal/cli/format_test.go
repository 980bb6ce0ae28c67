package cli

import (
	"flag"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/sink"
)

func TestLogFormat(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	name := LogFormatFlag(fs)
	require.NoError(t, fs.Parse([]string{"-log-format", "parquet"}))
	f, err := LogFormat[dataset.QueryLog](*name)
	require.NoError(t, err)
	require.Equal(t, sink.FormatParquet, f.Name())
	require.Equal(t, ".parquet", f.Ext())
	for _, n := range []string{sink.FormatJSONL, sink.FormatJSONLGzip} {
		f, err := LogFormat[dataset.QueryLog](n)
		require.NoError(t, err)
		require.Equal(t, n, f.Name())
	}
	f, err = LogFormat[dataset.QueryLog]("")
	require.NoError(t, err)
	require.Nil(t, f, "the sink's default")
	_, err = LogFormat[dataset.QueryLog]("csv")
	require.ErrorContains(t, err, "-log-format")
}
