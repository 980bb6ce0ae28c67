package cli

import (
	"flag"
	"fmt"

	"github.com/sqlshadow/sqlshadow/sink"
	"github.com/sqlshadow/sqlshadow/sink/parquet"
)

// LogFormatFlag defines the -log-format flag on fs: the format of the
// objects a binary writes, for LogFormat.
func LogFormatFlag(fs *flag.FlagSet) *string {
	return fs.String("log-format", "", "format of the objects written: jsonl (the default), jsonl.gz, or parquet (zstd; StarRocks FILES(), DuckDB, Trino and BigQuery read it in place)")
}

// LogFormat returns the sink.Format named name for records of type T:
// sink.FormatJSONL, sink.FormatJSONLGzip or sink.FormatParquet; "" gives
// nil, the sink's default (JSON Lines, gzip-compressed when
// sink.WriterOptions.Gzip).
func LogFormat[T any](name string) (sink.Format, error) {
	switch name {
	case "":
		return nil, nil
	case sink.FormatJSONL:
		return sink.JSONL(), nil
	case sink.FormatJSONLGzip:
		return sink.JSONLGzip(0), nil
	case sink.FormatParquet:
		return parquet.NewFormat[T](nil)
	}
	return nil, fmt.Errorf("-log-format %q: want %s, %s or %s", name, sink.FormatJSONL, sink.FormatJSONLGzip, sink.FormatParquet)
}
