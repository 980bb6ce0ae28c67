package compare_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sqlshadow/sqlshadow/compare"
)

// fakeResult is a Result with a JSON and a Markdown form (no HTML).
type fakeResult struct {
	verdict compare.Verdict
	summary string
	details []string
}

func (r *fakeResult) Verdict() compare.Verdict { return r.verdict }
func (r *fakeResult) Summary() string          { return r.summary }
func (r *fakeResult) Details() []string        { return r.details }
func (r *fakeResult) WriteJSON(w io.Writer) error {
	_, err := fmt.Fprintf(w, "{\"verdict\":%q}\n", r.verdict)
	return err
}
func (r *fakeResult) WriteMarkdown(w io.Writer) error {
	_, err := fmt.Fprintf(w, "# %s\n", r.summary)
	return err
}

func returning(r compare.Result, err error) compare.Comparator {
	return compare.ComparatorFunc(func(ctx context.Context) (compare.Result, error) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return r, err
	})
}

func TestVerdictExitCode(t *testing.T) {
	require.Equal(t, 0, compare.VerdictPass.ExitCode())
	require.Equal(t, 1, compare.VerdictFail.ExitCode())
	require.Equal(t, 3, compare.VerdictInconclusive.ExitCode())
	require.Equal(t, 2, compare.Verdict("").ExitCode())
}

func TestMainExitCodes(t *testing.T) {
	ctx := context.Background()
	for _, v := range []compare.Verdict{compare.VerdictPass, compare.VerdictFail, compare.VerdictInconclusive} {
		c := returning(&fakeResult{verdict: v}, nil)
		require.Equal(t, v.ExitCode(), compare.Main(ctx, c, nil), v)
		require.Equal(t, compare.ExitPass, compare.Main(ctx, c, &compare.MainOptions{ReportOnly: true}), v)
	}

	var stderr bytes.Buffer
	code := compare.Main(ctx, returning(nil, errors.New("boom")), &compare.MainOptions{Name: "prog", Stderr: &stderr, ReportOnly: true})
	require.Equal(t, compare.ExitError, code, "an error is an error even with ReportOnly")
	require.Equal(t, "prog: boom\n", stderr.String())

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.Equal(t, compare.ExitError, compare.Main(cancelled, returning(&fakeResult{verdict: compare.VerdictPass}, nil), nil))
}

func TestMainWritesReportsAndSummary(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	res := &fakeResult{verdict: compare.VerdictFail, summary: "2 findings", details: []string{"one", "two"}}
	var stdout bytes.Buffer
	code := compare.Main(context.Background(), returning(res, nil), &compare.MainOptions{Dir: dir, Stdout: &stdout})
	require.Equal(t, compare.ExitFail, code)
	require.Equal(t, "FAIL: 2 findings\n  - one\n  - two\nreports in "+dir+"\n", stdout.String())
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	require.Equal(t, "# 2 findings\n", string(md))
	require.FileExists(t, filepath.Join(dir, "report.json"))
	require.NoFileExists(t, filepath.Join(dir, "report.html"), "the result has no HTML form")

	stdout.Reset()
	code = compare.Main(context.Background(), returning(res, nil), &compare.MainOptions{Stdout: &stdout, JSON: true})
	require.Equal(t, compare.ExitFail, code)
	require.Equal(t, "{\"verdict\":\"fail\"}\n", stdout.String())

	// A directory that cannot be created is an error.
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	var stderr bytes.Buffer
	code = compare.Main(context.Background(), returning(res, nil), &compare.MainOptions{Dir: filepath.Join(file, "out"), Stderr: &stderr})
	require.Equal(t, compare.ExitError, code)
	require.Contains(t, stderr.String(), "compare: ")
}

// summaryOnly is a Result without any written form.
type summaryOnly struct{}

func (summaryOnly) Verdict() compare.Verdict { return compare.VerdictPass }
func (summaryOnly) Summary() string          { return "nothing to see" }
func (summaryOnly) Details() []string        { return nil }

func TestMainJSONNeedsJSONWriter(t *testing.T) {
	var stderr bytes.Buffer
	code := compare.Main(context.Background(), returning(summaryOnly{}, nil), &compare.MainOptions{JSON: true, Stderr: &stderr})
	require.Equal(t, compare.ExitError, code)
	require.Contains(t, stderr.String(), "no JSON form")
}

// Main is what a comparison binary calls: it runs the comparison, prints the
// verdict and summary, and returns the exit code.
func ExampleMain() {
	c := compare.ComparatorFunc(func(ctx context.Context) (compare.Result, error) {
		return summaryOnly{}, nil
	})
	code := compare.Main(context.Background(), c, &compare.MainOptions{Name: "example", Stdout: os.Stdout})
	fmt.Println("exit code", code)
	// Output:
	// PASS: nothing to see
	// exit code 0
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
