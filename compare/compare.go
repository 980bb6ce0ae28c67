package compare

import "context"

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

// ExitCode returns the exit code a binary uses for v: 0 pass, 1 fail,
// 3 inconclusive, 2 for anything else (an error).
func (v Verdict) ExitCode() int {
	switch v {
	case VerdictPass:
		return 0
	case VerdictFail:
		return 1
	case VerdictInconclusive:
		return 3
	}
	return 2
}

// Result is what every comparison returns: a verdict a program can act on,
// and a one-line summary a person can read. The concrete types (such as
// *ShadowReport) carry the evidence.
type Result interface {
	// Verdict is the machine-readable outcome.
	Verdict() Verdict
	// Summary is one line for people, e.g. "2 findings: 1 regression, 1
	// shadow-only failure".
	Summary() string
}

// Comparator is one comparison: the shadow analysis (*Shadow), the baseline
// harness, or one of your own. Compare runs it to completion; cancelling ctx
// aborts it and returns ctx.Err(). Implementations document whether Compare
// may be called more than once.
type Comparator interface {
	Compare(ctx context.Context) (Result, error)
}

// ComparatorFunc adapts a function to a Comparator.
type ComparatorFunc func(ctx context.Context) (Result, error)

// Compare calls f(ctx).
func (f ComparatorFunc) Compare(ctx context.Context) (Result, error) { return f(ctx) }
