package compare

import (
	"context"
	"io"
)

// Verdict is the outcome of one comparison. Its values map to the exit codes
// of the binaries (see ExitCode).
type Verdict string

// Verdicts.
const (
	// VerdictPass: nothing was found and there was enough data to say so.
	VerdictPass Verdict = "pass"
	// VerdictFail: at least one finding (a regression, a failure, a wrong
	// answer).
	VerdictFail Verdict = "fail"
	// VerdictInconclusive: nothing was found, but there was not enough data
	// to trust that.
	VerdictInconclusive Verdict = "inconclusive"
)

// Exit codes of a comparison binary, as Verdict.ExitCode and Main return them.
const (
	ExitPass         = 0 // the verdict is pass (or Main ran with ReportOnly)
	ExitFail         = 1 // the verdict is fail
	ExitError        = 2 // an error, or bad usage
	ExitInconclusive = 3 // the verdict is inconclusive
)

// ExitCode returns the exit code a binary uses for v: ExitPass, ExitFail,
// ExitInconclusive, or ExitError for anything else.
func (v Verdict) ExitCode() int {
	switch v {
	case VerdictPass:
		return ExitPass
	case VerdictFail:
		return ExitFail
	case VerdictInconclusive:
		return ExitInconclusive
	}
	return ExitError
}

// Result is what every comparison returns: a verdict a program can act on,
// and a summary a person can read. The concrete types (*shadow.Report,
// *baseline.Report) carry the evidence, and write themselves in the formats
// they implement (JSONWriter, MarkdownWriter, HTMLWriter).
type Result interface {
	// Verdict is the machine-readable outcome.
	Verdict() Verdict
	// Summary is one line for people, without the verdict, e.g. "2
	// findings: 1 regression, 1 shadow failure".
	Summary() string
	// Details are the lines behind the summary, most important first: one
	// per finding or reason. It may be empty.
	Details() []string
}

// JSONWriter is a Result that writes itself as JSON, the form meant for
// programs and agents.
type JSONWriter interface {
	WriteJSON(w io.Writer) error
}

// MarkdownWriter is a Result that writes itself as Markdown, for people.
type MarkdownWriter interface {
	WriteMarkdown(w io.Writer) error
}

// HTMLWriter is a Result that writes itself as one self-contained HTML page.
type HTMLWriter interface {
	WriteHTML(w io.Writer) error
}

// Comparator is one comparison: the shadow analysis (*shadow.Analyzer), the
// baseline harness (*baseline.Harness), or one of your own; Main runs it.
// Compare runs it to completion; cancelling ctx aborts it and returns
// ctx.Err(). Implementations document whether Compare may be called more than
// once.
type Comparator interface {
	Compare(ctx context.Context) (Result, error)
}

// ComparatorFunc adapts a function to a Comparator.
type ComparatorFunc func(ctx context.Context) (Result, error)

// Compare calls f(ctx).
func (f ComparatorFunc) Compare(ctx context.Context) (Result, error) { return f(ctx) }
