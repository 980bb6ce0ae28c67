// Package baseline is the baseline harness: it verifies one SQL change (a
// candidate statement) against its baseline by running both, alternating,
// and comparing their rows, latency, plans and engine statistics, with a
// verdict a person or an agent can act on.
//
// # Usage
//
//	h, err := baseline.New(db, db, oldSQL, newSQL, &baseline.Options{Runs: 20})
//	rep, err := h.Run(ctx)
//	// rep.Outcome is pass, fail or inconclusive; rep.Reasons say why.
//
// Pass the same *sql.DB twice to compare two statements on one server, or
// two to compare one statement across servers (for example two engine
// versions). The Report's JSON (WriteJSON) is the contract for automated
// callers; WriteMarkdown is for people. *Harness is a compare.Comparator and
// *Report a compare.Result, so compare.Main runs it, writes both reports and
// maps the verdict to an exit code.
//
// # Verdict
//
// Fail when the rows, the columns, the order (for an ORDER BY) or the errors
// differ, or when the lower bound of the bootstrap 95% interval of the
// median latency ratio (candidate/baseline) is above 1 + Options.Tolerance.
// Pass when the rows are equal and the upper bound is at most 1 + Tolerance.
// Anything else (too few runs, an interval straddling the limit) is
// inconclusive. Plans (EXPLAIN, diffed with package compare/plan) and
// engine statistics (MariaDB ANALYZE FORMAT=JSON, StarRocks query
// profiles) are evidence in the report, not verdicts.
//
// # Lifecycle, concurrency and errors
//
// A Harness holds its configuration only; Run (and Compare) may be called
// more than once and concurrently, each on two connections of its own (one
// per side, so session settings hold for all of a side's runs), closed
// before it returns; it starts no goroutine. Run returns an error only when
// the comparison cannot run (a connection cannot be had, the engine cannot
// be detected or the session prepared, ctx is cancelled: ctx.Err()); a
// statement's own error is a finding in the report. Errors are
// prefixed "baseline: ".
package baseline
