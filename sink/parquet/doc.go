// Package parquet is the Parquet format of package sink: a dataset's objects
// written as Parquet instead of JSON Lines, in the same Hive layout, so that
// StarRocks (FILES()), DuckDB, Trino and BigQuery read them in place.
//
// # Use
//
// Build the format from the dataset's record type and give it to the
// writer, and to every reader of the dataset:
//
//	f, err := parquet.NewFormat[dataset.QueryLog](nil) // zstd
//	w, err := sink.NewWriter(bucket, dataset.QueryLogs, &sink.WriterOptions{Format: f})
//	r := sink.NewReader(bucket, dataset.QueryLogs, from, to, &sink.ReaderOptions{Formats: []sink.Format{f}})
//
// The Format is a sink.RecordAppender: Writer.Write hands it the record,
// and it appends the record's values to the Writer's buffer in a compact
// binary encoding of its own, with no JSON (a record of type T or *T
// directly; a record of another type through its JSON, decoded into a T).
// Those bytes are what the Writer counts against BufferBytes and
// MaxObjectBytes (a query log takes about 60% of its JSON line), and
// objects are rolled by size and age as for JSON Lines. When an object is
// rolled, its Encoder turns each buffered record into one row and writes
// the object whole, as one Parquet file, or not at all. Readers read an
// object whole into memory (a Parquet file's index is at its end), so a
// reader holds one object's stored bytes at a time; Reader.Next decodes
// records straight into a T, Reader.Read returns them as JSON Lines.
//
// # Schema
//
// The schema comes from T's JSON encoding, one column per top-level field,
// named by its JSON name, in the order of the names:
//
//	sink.Time                        INT64 TIMESTAMP(MICROS, UTC)
//	string                           BYTE_ARRAY STRING
//	bool                             BOOLEAN
//	any integer                      INT64 (signed)
//	float32, float64                 DOUBLE
//	slices, maps, structs, json.RawMessage  BYTE_ARRAY JSON (the field's JSON text)
//
// A column is nullable (OPTIONAL) where the JSON field is omitempty, or a
// pointer, and always for JSON columns: a value JSON would omit is null, and
// null reads back as the zero value (nil for pointers). Other columns are
// REQUIRED. Columns are read by name, so objects written before a field was
// added read too.
//
// # Row groups and compression
//
// Every column is compressed with zstd at its fastest level (or snappy,
// Options.Compression). A row group holds at most Options.RowGroupRows rows
// (DefaultRowGroupRows, DuckDB's own row group size): an object of the
// sink's default size is one row group, which engines read in one piece,
// with column statistics for pruning.
//
// # Errors
//
// NewFormat fails for a type that is not a struct with exported fields, and
// for an unknown compression. Errors from reading a damaged object wrap
// sink.ErrCorrupt (sink.IsCorrupt), so sink.Reader and the shadow report
// count and skip it like a corrupt gzip object.
package parquet
