// Package replay replays captured workloads against one or two clusters and
// records both sides in the query logs, so that the shadow report (package
// compare/shadow) reads a replay exactly as it reads the proxy's logs.
//
// # Sources
//
// A Source yields Statements (start time, session key, database, user,
// text, and the recorded duration, rows and error where the log has them):
//
//	OpenAuditLog     StarRocks FE audit log files (fe.audit.log and its rotated archives, plain or gzip)
//	OpenAuditTable   the table the StarRocks AuditLoader plugin fills, over SQL, for a time window
//	OpenSlowLog      MariaDB and MySQL slow query logs (captured with long_query_time=0)
//	OpenGeneralLog   MariaDB and MySQL general query logs
//	OpenQueryLog     the project's own query logs (the primary side), from any bucket
//
// Each source's documentation states the format it reads. Malformed input is
// never fatal and never dropped silently: it is skipped, counted and kept
// with its position (file and line, or row) in Stats; Next fails only when
// the input cannot be read at all. Merge merges sources by time; Statements
// serves statements held in memory.
//
// # Selection and sampling
//
// Select applies a Filter: time window, users, databases, routes and
// statement classes to include or exclude, and read-only statements only
// unless Writes is set. Sample keeps, per template hash (hashing.TemplateHash),
// up to N statements covering the template's literal variety and latency
// spread, and returns a Coverage: templates kept of seen, and the share of
// recorded execution time the kept templates account for.
//
// # Running
//
// NewRunner takes Options (targets, the sink of the query-log dataset,
// pacing, workers, repeat, shard); Run replays a Source until it ends or ctx
// ends. Each session (Statement.Session) is replayed in order on its own
// connection to each target, so USE, SET and the session's database carry
// over; the database is set before a statement whose recorded database
// differs from the connection's. Pacing is the recorded timing divided by
// Speed, a fixed Rate, or as fast as Workers allow. Repeat runs each
// statement k times on both sides, interleaved ABBA. Shard lets N processes
// (a Kubernetes Indexed Job) split the sessions of one workload, writing to
// the same bucket.
//
// For every run of a statement, Run writes a dataset.QueryLog per target as
// the proxy does: target "primary" for the first target and "shadow" for
// the second, the shadow's record carrying the primary's outcome
// (primary_*), result_hash, columns_hash and float_cols computed with the
// proxy's canonical forms (package internal/canon: equal answers give equal
// hashes, whichever recorded them), and diverged set on the shadow once a
// session-state statement succeeded on one side only. Prepared statements
// are replayed as the text the log holds (with values inlined where the log
// has them).
//
// # Lifecycle, concurrency and memory
//
// Run starts Options.Workers goroutines and returns only after every one has
// returned and every connection is closed; it closes neither the source nor
// the sink. When ctx ends, statements in flight are interrupted and Run
// returns ctx's error. Memory is bounded whatever the size of the log:
// QueueLen statements per worker, MaxSessions open sessions (least recently
// used closed beyond it), results streamed row by row. Progress may be
// called from any goroutine while Run runs.
//
// # Errors
//
// A statement's failure on a target is an outcome, recorded, not an error.
// Run returns an error for a source that cannot be read, or ctx's error.
// Query-log records the sink refuses are counted in Stats.RecordErrors.
package replay
