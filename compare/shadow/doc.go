// Package shadow is the shadow report: it reads the query logs the shadow
// proxy wrote (the query-logs dataset, whose fields docs/datasets.md
// defines) and says which route or query shape got slower on the shadow,
// which statements fail only there, which answers differ, and what is merely
// noise.
//
// # Usage
//
// New(bucket, window, opts) analyses the logs under a bucket in the sink's
// layout; its Report method returns the *Report. Analyze does the same over
// any JSON Lines readers. The report is written for machines (WriteJSON, read
// back with ReadReport), for people (WriteMarkdown) and as one
// self-contained page with inline SVG charts (WriteHTML). *Analyzer is a
// compare.Comparator and *Report a compare.Result, so compare.Main runs the
// analysis, writes the three reports and maps the verdict to an exit code.
//
// # What is compared
//
// The analysis reads the query-logs dataset only through
// dataset.QueryLogDecoder (the fields of dataset.QueryLog, docs/datasets.md)
// and profiles as dataset.Profile, one decoder per worker, objects in
// parallel. A shadow record of the sqlshadow proxy carries the primary's
// outcome of the same command (primary_success, primary_duration_ms,
// primary_client_wait_ms, primary_result_hash, primary_columns_hash, ...), so
// it is compared on its own. A shadow record without them, as the
// open-source StarRocks shadow proxy writes its logs, is paired with the
// primary record of the same query_id: records wait for their partner in a
// window bounded in time (Options.PairWindow, counted in partition hours
// read) and in entries (Options.MaxPending, the oldest given up first), and
// what stays unpaired is counted in the report. Records without
// template_hash are grouped by the template hash of their query_text
// (hashing.TemplateHash). A command failed when success is false or error is
// not empty (that proxy writes success true on an ERR packet). Records are
// grouped by route (the sqlcommenter tag) when present, else by template
// hash. Per group and side: count, error rate, and P50/P90/P95/P99 of
// duration_ms of successful commands (primary: minus client_wait_ms). Per group the analysis keeps a sample of at most
// Options.Reservoir (10,000) pairs, chosen by hashing query ids, so that a
// report does not depend on the order of the input or on the parallelism.
// The tests:
//
//   - P50: Wilcoxon signed-rank test on log(shadow/primary) of the pairs,
//     from Options.MinPairs (30) pairs; the ratio is that of the pairs'
//     medians.
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
// hashes differ) are classified per query hash: different columns (the
// primary's columns hash: primary_columns_hash, which the sqlshadow proxy
// writes, or the paired primary record's columns_hash; or else the columns
// the primary records of the same query hash reported) is a column
// difference; a statement hashing.NonDeterministic recognises, a query text
// the primary itself answered differently across executions, or a result
// with FLOAT/DOUBLE columns is noise; anything else is a wrong answer.
// Filtered, dropped and diverged shadow records are excluded from every
// verdict and counted. The newest hour is analysed only once it is complete:
// the window ends at most at truncate(now - Grace, hour). With
// Options.BeforeAfter, two time windows of one side are compared per group
// instead, with the Mann-Whitney U test. When a profiles dataset is present,
// each group shows where the time went on each side (profiles joined to the
// query logs by side, server_conn_id, query_hash and time).
//
// Memory is bounded by the number of groups: per decoding worker and group,
// up to three samples of Reservoir entries (24 bytes each), plus one small
// entry per distinct query hash up to MaxTrackedQueries, plus the records
// waiting for their partner (at most MaxPending).
//
// Results do not depend on the order of the input or on the parallelism,
// as long as every record lies in the partition hour of its ts (as the sink
// writes them) and the pairing window does not overflow (counted as
// pairing_overflow, with a note).
//
// # Reports
//
// A Report is the JSON document of the versioned schema ReportSchema
// ("sqlshadow.shadow-report/v1"), meant for machines and agents: every field
// is documented on the Go types, with its JSON name in the tag.
//
// # Lifecycle, concurrency and errors
//
// An Analyzer holds no state between calls and is safe for concurrent use;
// each Report (or Compare) call lists and reads the logs again. Report,
// Compare and Analyze start their decoding and testing goroutines and join
// them before returning; Analyze reads each reader from one goroutine.
// Reports are plain values. Invalid Options are an error before anything is
// read; a bucket that cannot be listed aborts the analysis with an error;
// cancelling ctx aborts it and returns ctx.Err(). Everything else follows
// package sink's skip-and-count rules: malformed lines, objects that vanished
// between listing and reading, corrupt compressed objects and objects that
// fail to read are counted and listed in Report.Input (the records read
// before the damage are analysed), never errors. Errors are prefixed
// "shadow: ".
package shadow
