// Package compare holds what every comparison of sqlshadow shares: the
// Verdict (pass, fail, inconclusive) and the exit code each maps to, the
// Result interface every report implements, and Main, which runs a
// Comparator the way the comparison binaries do.
//
// The comparisons themselves live in sub-packages:
//
//   - [github.com/sqlshadow/sqlshadow/compare/shadow]: the shadow report over
//     the query logs the shadow proxy wrote (primary vs shadow per route or
//     query shape: latency, shadow-only failures, wrong answers, noise);
//   - [github.com/sqlshadow/sqlshadow/compare/baseline]: the baseline harness,
//     which verifies one SQL change against its baseline (rows, latency,
//     plan, engine statistics);
//   - [github.com/sqlshadow/sqlshadow/compare/stats] and
//     [github.com/sqlshadow/sqlshadow/compare/plan]: the statistics and the
//     plan parsing and diffing they use, usable on their own.
//
// # Usage
//
// A program that only wants the evidence calls the comparison directly
// (shadow.New(...).Report(ctx), baseline.New(...).Run(ctx)) and reads the
// concrete report. A binary reads its flags into the comparison's Options
// and hands the comparison, a Comparator, to Main:
//
//	os.Exit(compare.Main(ctx, shadow.New(bucket, window, opts), &compare.MainOptions{
//		Name: "shadow-report", Dir: "report/", Stdout: os.Stdout, Stderr: os.Stderr,
//	}))
//
// Main runs it, writes report.json, report.md and report.html (each format
// the result implements: JSONWriter, MarkdownWriter, HTMLWriter) into Dir,
// prints the verdict and summary, and returns the exit code: ExitPass,
// ExitFail, ExitInconclusive, or ExitError.
//
// # Lifecycle and errors
//
// Nothing here starts a goroutine or keeps state: Main returns once the
// comparison and the report files are done. A comparison returns an error
// only when it could not run (a bucket unreadable, a connection refused, ctx
// cancelled); what it found is in its Result, never in an error. Main prints
// such an error, prefixed with MainOptions.Name, and returns ExitError.
package compare
