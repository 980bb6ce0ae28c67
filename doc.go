// Package sqlshadow validates a change to a MySQL-protocol analytical database
// (a StarRocks upgrade first; also MariaDB and MySQL, configuration changes,
// schema changes and SQL rewrites) against real production traffic, before the
// change reaches customers.
//
// The root package holds no code: it documents how the packages fit together.
// The design, the data contract and the measured figures are in the
// repository's docs/design.md, docs/datasets.md and docs/performance.md.
//
// # The loop
//
//	data        mirror every production statement to a shadow cluster, log both sides  (mirror, sink, dataset)
//	            or replay captured workloads against both                              (replay)
//	diagnosis   collect execution profiles from both clusters, joined by query hash    (profile)
//	validate    compare latency distributions, failures and answers, primary vs shadow (compare/shadow)
//	change      verify one SQL change against its baseline: rows, latency, plan       (compare/baseline)
//	certify     chaos, soak and upgrade recipes with one report                        (certify)
//
// and the operations side that watches the clusters while this happens:
//
//	metrics  -> health score per cluster -> sentinel triggers with cooldowns          (scoring)
//	alerts   -> idempotent ingestion (webhook, chat cards) -> grouped issues         (issues, issues/lark)
//	tasks    -> investigation with evidence -> findings                              (investigate)
//
// # Packages
//
//   - [github.com/sqlshadow/sqlshadow/dataset]: the record types of every
//     dataset, their names, the query log's fast encoder and decoder.
//   - [github.com/sqlshadow/sqlshadow/hashing]: pure functions on SQL text: query
//     hash, template fingerprint, statement classification, sqlcommenter tags,
//     obfuscation.
//   - [github.com/sqlshadow/sqlshadow/sink]: durable Hive-partitioned JSON Lines
//     or Parquet on any gocloud.dev/blob bucket, and its reader.
//   - [github.com/sqlshadow/sqlshadow/mirror]: the MySQL-protocol shadow proxy and
//     the Mirror seam for custom proxies.
//   - [github.com/sqlshadow/sqlshadow/profile]: execution profiles from StarRocks FEs
//     and performance_schema.
//   - [github.com/sqlshadow/sqlshadow/compare/shadow] and
//     [github.com/sqlshadow/sqlshadow/compare/baseline]: the shadow report and
//     the baseline harness; [github.com/sqlshadow/sqlshadow/compare] holds their
//     verdicts and exit codes.
//   - [github.com/sqlshadow/sqlshadow/replay] and
//     [github.com/sqlshadow/sqlshadow/replay/replica]: replay of captured
//     workloads, and the obfuscated replica.
//   - [github.com/sqlshadow/sqlshadow/certify]: network faults, targets, recipes
//     and the certification report.
//   - [github.com/sqlshadow/sqlshadow/scoring]: cluster health scores and sentinel
//     triggers.
//   - [github.com/sqlshadow/sqlshadow/issues]: idempotent alert ingestion, grouping
//     and issue lifecycle.
//   - [github.com/sqlshadow/sqlshadow/investigate]: evidenced findings from
//     sentinel tasks and shadow findings.
//
// The binaries under examples/ (a separate Go module, so their dependencies
// never reach importers of this one) are wiring only: flags and environment to
// Options to library.
package sqlshadow
