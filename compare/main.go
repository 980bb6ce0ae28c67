package compare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// MainOptions configures Main. A nil *MainOptions prints nothing, writes no
// report files, and returns the verdict's exit code.
type MainOptions struct {
	// Name is the program name that prefixes error messages on Stderr
	// ("shadow-report: ..."). Default "compare".
	Name string
	// Dir is the directory Main writes the reports into, created if
	// missing: report.json, report.md and report.html, each when the result
	// implements JSONWriter, MarkdownWriter or HTMLWriter. Empty: no files.
	Dir string
	// Stdout receives the verdict and summary ("FAIL: 2 findings: ..."),
	// the details one per line, and where the reports are. Nil discards.
	Stdout io.Writer
	// Stderr receives errors. Nil discards.
	Stderr io.Writer
	// JSON prints the JSON report on Stdout instead of the summary; the
	// result must implement JSONWriter.
	JSON bool
	// ReportOnly makes Main return ExitPass whatever the verdict, for a run
	// that only produces the reports; errors still return ExitError.
	ReportOnly bool
}

// Main runs c, writes its reports and summary as opts says, and returns the
// exit code for a binary: the verdict's (Verdict.ExitCode), ExitPass with
// ReportOnly, or ExitError when c fails, ctx is cancelled or a report cannot
// be written (the error is printed on opts.Stderr). It is what the comparison
// binaries call between reading their flags and os.Exit.
func Main(ctx context.Context, c Comparator, opts *MainOptions) int {
	var o MainOptions
	if opts != nil {
		o = *opts
	}
	if o.Name == "" {
		o.Name = "compare"
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	res, err := c.Compare(ctx)
	if err == nil {
		err = writeResult(res, &o)
	}
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s: %v\n", o.Name, err)
		return ExitError
	}
	if o.ReportOnly {
		return ExitPass
	}
	return res.Verdict().ExitCode()
}

// writeResult writes res's report files into o.Dir and its summary (or JSON)
// on o.Stdout.
func writeResult(res Result, o *MainOptions) error {
	if o.Dir != "" {
		if err := WriteReports(o.Dir, res); err != nil {
			return err
		}
	}
	if o.JSON {
		j, ok := res.(JSONWriter)
		if !ok {
			return fmt.Errorf("compare: a %T has no JSON form", res)
		}
		return j.WriteJSON(o.Stdout)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", strings.ToUpper(string(res.Verdict())), res.Summary())
	for _, d := range res.Details() {
		fmt.Fprintf(&b, "  - %s\n", d)
	}
	if o.Dir != "" {
		fmt.Fprintf(&b, "reports in %s\n", o.Dir)
	}
	_, err := io.WriteString(o.Stdout, b.String())
	return err
}

// WriteReports writes res into dir (created if missing) in every format it
// implements: report.json (JSONWriter), report.md (MarkdownWriter) and
// report.html (HTMLWriter). It returns the first error; a file whose write
// failed may be left incomplete.
func WriteReports(dir string, res Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	type format struct {
		name  string
		write func(io.Writer) error
	}
	var formats []format
	if w, ok := res.(JSONWriter); ok {
		formats = append(formats, format{"report.json", w.WriteJSON})
	}
	if w, ok := res.(MarkdownWriter); ok {
		formats = append(formats, format{"report.md", w.WriteMarkdown})
	}
	if w, ok := res.(HTMLWriter); ok {
		formats = append(formats, format{"report.html", w.WriteHTML})
	}
	for _, f := range formats {
		if err := writeFile(filepath.Join(dir, f.name), f.write); err != nil {
			return fmt.Errorf("compare: write %s: %w", f.name, err)
		}
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return errors.Join(write(f), f.Close())
}
