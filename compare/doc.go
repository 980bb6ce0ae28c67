// Package compare holds every comparison of sqlshadow: the shadow report over
// query logs, and the baseline harness that verifies one SQL change against its
// baseline.
//
// Every comparison implements Comparator: Compare(ctx) runs it and returns a
// Result, whose Verdict (pass, fail, inconclusive) maps to the binaries' exit
// codes (Verdict.ExitCode) and whose concrete type carries the evidence.
//
// # Shadow analysis
//
// Shadow (over a bucket in the sink's layout) and AnalyzeShadowLogs (over any
// JSON Lines readers) turn the query-logs dataset into a ShadowReport: which
// route or query shape got slower on the shadow, which statements fail only
// there, which answers differ, and what is merely noise. They decode the
// public JSON contract themselves (DESIGN.md, "Data contracts") with a
// decoder that reads only the fields they need, decode objects in parallel,
// and need no pairing state: a shadow record carries the primary's outcome.
//
// Records are grouped by route (the sqlcommenter tag) when present, else by
// template hash. Per group and side: count, error rate, and P50/P90/P95/P99
// of duration_ms of successful commands (primary: minus client_wait_ms).
// Per group the analysis keeps a sample of at most ShadowOptions.Reservoir
// (10,000) pairs, chosen by hashing query ids, so that a report does not
// depend on the order of the input or on the parallelism. The tests:
//
//   - P50: Wilcoxon signed-rank test on log(shadow/primary) of the pairs,
//     from ShadowOptions.MinPairs (30) pairs; the ratio is that of the
//     pairs' medians.
//   - P99: bootstrap (2,000 paired resamples) of the P99 ratio, from
//     MinTailPairs (500) pairs: a percentile confidence interval at level
//     1-Alpha, and a p-value from the bootstrap standard error of the log
//     ratio (so that it survives the adjustment across many groups).
//   - Benjamini-Hochberg adjustment across every group and quantile; a
//     quantile regresses when its ratio is >= Ratio (1.5) and its adjusted
//     p < Alpha (0.01), and improves when its ratio is <= 1/Ratio. Groups
//     below MinPairs are "insufficient data", never regressions; when such a
//     group looks slower or faster it is listed as small-sample noise.
//
// Shadow-only failures (primary succeeded, shadow failed) are grouped by
// error code with examples. Result mismatches (both succeeded, result
// hashes differ) are classified per query hash: different columns (when
// the shadow record carries primary_columns_hash, or else against the
// columns the primary records of the same query hash reported) is a column
// difference; a statement hashing.NonDeterministic recognises, a query text
// the primary itself answered differently across executions, or a result
// with FLOAT/DOUBLE columns is noise; anything else is a wrong answer.
// Filtered, dropped and diverged shadow records are excluded from every
// verdict and counted. The newest hour is analysed only once it is complete:
// the window ends at most at truncate(now - Grace, hour). With
// ShadowOptions.BeforeAfter, two time windows of one side are compared per
// group instead, with the Mann-Whitney U test.
//
// Memory is bounded by the number of groups: per decoding worker and group,
// up to three samples of Reservoir entries (24 bytes each), plus one small
// entry per distinct query hash up to MaxTrackedQueries.
//
// # Reports
//
// A ShadowReport is the JSON document of the versioned schema
// ShadowReportSchema ("sqlshadow.shadow-report/v1"), meant for machines and
// agents: every field is documented on the Go types, with its JSON name in
// the tag; WriteJSON and ReadShadowReport write and read it. WriteMarkdown
// writes it for people, and WriteHTML as one self-contained page (no script,
// no network) with inline SVG charts: latency ratios per group, the latency
// distributions of both sides per group, failures and mismatches.
//
// # Concurrency
//
// Shadow is safe for concurrent use; Report and Compare start their
// decoding and testing goroutines and join them before returning.
// AnalyzeShadowLogs reads each reader from one goroutine. Reports are plain
// values.
//
// # Performance
//
// BenchmarkShadowReport generates gzip JSON Lines in the sink's layout once
// (kept under $TMPDIR/sqlshadow-compare-bench-v1-N; 100,000 records per
// object, 200 groups, one slow route, one failing, one answering wrongly)
// and runs the whole analysis over file://, bootstrap included:
//
//	SQLSHADOW_BENCH_RECORDS=10000000 go test ./compare -run '^$' -bench ShadowReport -benchtime 1x
//
// Figures on this machine (2 cores), 10 million records (807 MB of gzip
// objects, generated once in 2m27s), same command:
//
//   - On a quiet machine (load average under 2): 14.8 s wall, 674,000
//     records/s, 1.05x the DuckDB 1.5.5 anchor (2 million records in 3.1 s,
//     645,000 records/s, 0.5 GiB); 350,000 records per CPU second; peak RSS
//     570 MiB. Targets: under 60 s and 1 GiB.
//   - With a load average of 15 (the process got about a third of the
//     machine): 113 s wall, 36.4 s of CPU (gzip inflate 37% of it, decoding
//     15%, aggregation 14%, the tests 20%), peak RSS 607 MiB.
package compare
