// Package sqlshadow validates a change to a MySQL-protocol analytical database
// (a StarRocks upgrade first; also MariaDB and MySQL, configuration changes,
// schema changes and SQL rewrites) against real production traffic, before the
// change reaches customers.
//
// The root package holds no code: it documents how the packages fit together.
//
// # The loop
//
//	data        mirror every production query to a shadow cluster, log both sides   (mirror, sink, hashing)
//	diagnosis   collect execution profiles from both clusters, joined by query hash (profile, sink, hashing)
//	change      verify one SQL change against its baseline: rows, latency, plan,     (compare)
//	            profile, with a machine-readable verdict
//	validate    compare the full latency distribution and results primary vs shadow (compare)
//
// and the operations side that watches the clusters while this happens:
//
//	metrics  -> health score per cluster -> sentinel triggers with cooldowns         (scoring)
//	alerts   -> idempotent ingestion -> grouped, escalated, tracked issues          (issues)
//
// # Packages
//
//   - [github.com/sqlshadow/sqlshadow/hashing]: pure functions on SQL text: query
//     hash, template fingerprint, statement classification, sqlcommenter tags,
//     obfuscation.
//   - [github.com/sqlshadow/sqlshadow/sink]: durable Hive-partitioned JSONL on any
//     gocloud.dev/blob bucket, and its reader.
//   - [github.com/sqlshadow/sqlshadow/mirror]: the MySQL-protocol shadow proxy and
//     the Mirror seam for custom proxies.
//   - [github.com/sqlshadow/sqlshadow/profile]: execution profiles from StarRocks FEs
//     and performance_schema.
//   - [github.com/sqlshadow/sqlshadow/compare]: the shadow report and the baseline
//     harness.
//   - [github.com/sqlshadow/sqlshadow/scoring]: cluster health scores and sentinel
//     triggers.
//   - [github.com/sqlshadow/sqlshadow/issues]: idempotent alert ingestion, grouping
//     and issue lifecycle.
//
// The binaries under examples/ (a separate Go module, so their dependencies
// never reach importers of this one) are wiring only: flags and environment to
// Options to library.
package sqlshadow
