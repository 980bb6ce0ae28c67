// Package sink writes records as durable, Hive-partitioned JSON Lines (or
// Parquet, with package sink/parquet) to any gocloud.dev/blob bucket (local disk, S3, GCS, memory), and reads them back
// over a time range. Writer, the Sink implementation, is safe for concurrent
// use; Reader and LineReader are not.
//
// # Layout
//
// A dataset's records land under
//
//	<prefix>/<dataset>/year=YYYY/month=MM/day=DD/hour=HH/YYYYMMDD_HHMMSS_<8 hex>.{jsonl,jsonl.gz,parquet}
//
// where the partition comes from each record's own timestamp (the ts passed
// to Write) in UTC, never from the time of the flush, and the file name from
// the time the object was written plus a random suffix. BigQuery, Trino,
// StarRocks and DuckDB read it as an external table with Hive partitioning.
// The prefix is the bucket URL's prefix= parameter. Partition folders hold
// only "*.jsonl" or "*.jsonl.gz" objects, one JSON object per line, or
// "*.parquet" objects.
//
// # Formats
//
// WriterOptions.Format chooses a dataset's format: JSONL (the default),
// JSONLGzip, or the Parquet format of package
// github.com/sqlshadow/sqlshadow/sink/parquet, built from the dataset's
// record type. The Parquet encoding lives in that package so that only the
// programs that choose it link a Parquet library. One dataset may hold
// objects of several formats (a bucket whose writers switched format): the
// readers read them all, given the Parquet format in ReaderOptions.Formats or
// OpenObject's formats.
//
// # Opening buckets
//
// OpenBucket opens a URL (file://, s3://, gs://, mem://) with the project's
// rules. Package sink imports no bucket driver and no cloud SDK: the driver
// of a URL's scheme must be registered with gocloud's default URL mux, and
// binaries do that by importing github.com/sqlshadow/sqlshadow/sink/drivers
// (all four kinds), or only the gocloud driver they need. For file:// it
// adds metadata=skip and create_dir=1 and probes that an object can be
// written there: fileblob writes into TMPDIR and renames into the bucket
// directory, which fails across filesystems, and the *ProbeError says how to
// fix it (TMPDIR on the same filesystem, or no_tmp_dir=1). For S3-compatible
// stores use a path-style URL with explicit credentials in the environment,
// as the tests do:
//
//	s3://BUCKET?endpoint=http://127.0.0.1:7070&use_path_style=true&region=us-east-1
//
// For gs:// set WriterOptions.Aborter to drivers.AbortGCS, so that a write
// abandoned by Close commits nothing (the GCS client can otherwise commit
// it); the other kinds need no Aborter.
//
// # Writing
//
// NewWriter returns a Writer for one dataset. Write encodes the record in the
// caller's goroutine (a JSONAppender encodes itself, several times faster
// than encoding/json; a json.RawMessage is compacted; anything else goes
// through encoding/json without HTML escaping; a format that is a
// RecordAppender, such as Parquet, encodes it its own way instead) and
// appends the bytes to the in-memory object of its partition hour. Objects
// roll when they reach MaxObjectBytes or MaxObjectAge; background goroutines
// write each rolled object in one piece, so it appears whole or not at all,
// retrying failures with exponential backoff and jitter until they succeed
// or Close gives up.
// On file:// each object is fsynced before it is renamed into place.
//
// Memory is bounded by BufferBytes (records accepted, not yet written). When
// it is full, Write either blocks until there is room or its ctx ends (the
// default, for collectors), or, with DropWhenFull, returns ErrDropped at once
// and counts the drop (for the proxy: a slow or dead bucket never slows
// client traffic; a drop costs no encoding and no allocation). Flush waits
// until everything accepted is written. Close flushes, stops the goroutines
// and, if its ctx ends first, aborts the writes in progress (nothing partial
// appears) and returns a *LostError counting the records lost. Nothing
// accepted is lost silently: WriterStats and the metrics count records
// accepted, dropped, lost, objects written and failed attempts.
//
// # Reading
//
// Objects lists a dataset's objects whose partition hour overlaps a range,
// listing only the year, month, day and hour prefixes that can overlap it;
// OpenObject returns one object's records as JSON Lines (decompressed, or
// decoded from Parquet); the compare package
// uses both to read objects in parallel. Reader iterates the records of a
// range object by object, skips records whose timestamp (ReaderOptions
// TimeField, "ts" by default) is outside the range, and counts and skips
// malformed lines (LineReader), objects that vanished, compression and
// decoding errors, and objects of a format it was not given. Objects still being written are invisible until whole.
//
// # Metrics
//
// With WriterOptions.Registerer set, a Writer registers, labelled
// dataset=<dataset>: sqlshadow_sink_records_total, record_bytes_total,
// records_dropped_total, records_lost_total, objects_total,
// object_bytes_total, write_errors_total (counters), buffered_bytes,
// pending_objects (gauges) and object_write_seconds (histogram). Close
// unregisters them.
//
// # Errors
//
// ErrDropped, ErrClosed, ErrTooLarge, ErrNotObject, ErrCorrupt and
// ErrNoFormat are sentinels for
// errors.Is; *LostError and *ProbeError are for errors.As.
//
// Throughput and cost per record are in the "sink" section of
// docs/performance.md.
package sink
