// Package profile collects execution profiles and statistics from the engines
// (StarRocks FEs, MySQL/MariaDB performance_schema) and writes them with the
// same query and template hashes as the query logs, so that a regression found
// in the logs leads to its cause.
//
// Sources and collectors are safe to use from one goroutine at a time, except
// where a method says otherwise (Collector.Ready, FESource.Cursor and Drain
// may be called at any time).
//
// # Records
//
// Every line of the "profiles" dataset is a dataset.Profile (its field names
// are a public contract, listed in docs/datasets.md): a statement (Kind
// dataset.ProfileStatement: state, SQL text,
// query_hash, template_hash, the engine's statistics such as cpu_cost_ns,
// scan_bytes, mem_cost_bytes, spill_bytes, cache_miss_ratio, the profile text
// and the figures ParseProfile extracts from it), a suspected gap
// (dataset.ProfileGap, with gap_from, gap_to and gap_reason), or a
// performance_schema digest delta (dataset.ProfileDigest). A statement joins the query logs on
// (server_conn_id, query_hash, time) or on template_hash.
//
// # Sources
//
// ProfileSource is the one-method seam: Collect returns what is new. Two
// implementations:
//
//   - FESource polls one StarRocks FE: GET /api/query_detail with an int64
//     event_time cursor (a pseudo-nanosecond count above 2^53, never
//     milliseconds, never a float64), re-reading 2 s before it because the FE
//     can append records out of order; GET /api/profile (or the v2
//     endpoints) for each finished statement, retried while the FE answers
//     404, since profiles can be registered after the statement finished.
//     Every statement appears twice (RUNNING, then FINISHED or FAILED): only
//     the terminal record of a query (isQuery true) with SQL is emitted;
//     login events (no SQL) never are. HTTP Basic auth is always sent
//     (harmless on 3.2); 401 and 403 are *HTTPError values matching
//     ErrUnauthorized and ErrForbidden, with a hint naming the missing
//     privilege. 5xx and transport errors are retried with backoff; bodies
//     over a limit fail with ErrBodyTooLarge.
//   - PerfSchemaSource reads a MySQL/MariaDB server: per-digest deltas of
//     events_statements_summary_by_digest (lossless aggregates) and the
//     statements of events_statements_history_long (a ring buffer: a sample).
//     ServerCheck says which of the options and consumers it needs are off,
//     with the statement that turns each on.
//
// # Collector
//
// A Collector polls every endpoint that a Discovery returns (StaticDiscovery,
// or DNSDiscovery of a Kubernetes headless service, re-resolved every
// cycle), concurrently; deduplicates statements on (cluster, query id, state)
// with a bounded LRU whose keys expire DedupTTL after they were written,
// since a forwarded statement appears on two FEs and polls overlap; and
// writes to a sink.Sink. Cursors can be checkpointed (CheckpointStore,
// FileCheckpoint).
//
// Lifecycle: NewCollector starts nothing. Run polls every Interval until its
// ctx ends, then makes a final flush (statements still waiting for a profile
// are written without one, the sink is flushed, the checkpoint saved) and
// returns. Poll runs one cycle; its per-endpoint goroutines are joined
// before it returns. A Collector owns no other goroutine, so it has no
// Close: when Run has returned, nothing of it is running and its sources are
// closed (their idle HTTP connections too). A caller that drives Poll
// itself ends with a Run whose ctx is already cancelled, which makes only
// that final flush. The sink stays the caller's to close.
//
// Each FE keeps its records in memory for about 30 s and loses them on
// restart. A suspected loss is written as a gap record and counted: no
// successful poll for longer than the retention, an FE restart (a new start
// time from /api/bootstrap when the cluster token is configured, or records
// of the previous poll gone from the queue while still within retention), or
// a first new eventTime far above both the cursor and the last poll (FE clock
// ahead). A performance_schema history ring that filled up between two polls
// is a gap too.
//
// # Metrics
//
// With Options.Registerer: sqlshadow_profile_polls_total{endpoint,result},
// poll_errors_total{endpoint,reason}, records_total{kind},
// duplicates_total, gaps_total{endpoint}, write_errors_total,
// profiles_total{outcome}, endpoints, discovery_errors_total and
// poll_duration_seconds.
//
// # Errors
//
// Poll returns the errors of the endpoints that failed, joined, each
// prefixed with its endpoint; the other endpoints' records are written all
// the same. FE errors match ErrUnauthorized, ErrForbidden (both also
// *HTTPError, with a hint), ErrBodyTooLarge, ErrNotReady or ErrBadResponse
// with errors.Is; a performance_schema source not configured for collection
// returns ErrServerConfig. Records the sink refuses are logged and counted
// (write_errors_total), not returned. Run returns only the final flush's
// error (sink flush, checkpoint save); it logs the polls' errors.
//
// # Testing
//
// Package profiletest simulates StarRocks FEs in process (queue with
// retention, RUNNING/FINISHED pairs, the three authentication modes, late
// profiles, Gson escaping, restarts, failures), for these tests and yours.
//
// The CPU cost of a poll is in the "profile" section of docs/performance.md.
package profile
