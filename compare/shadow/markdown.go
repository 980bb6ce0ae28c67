package shadow

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// mdCell escapes a value for a Markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "\\|")
	return s
}

// mdCode renders s as inline code, choosing a fence longer than any run of
// backticks inside.
func mdCode(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + s + pad + fence
}

func fmtMS(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

func fmtP(p float64) string {
	if math.IsNaN(p) {
		return "-"
	}
	if p < 1e-4 {
		return fmt.Sprintf("%.1e", p)
	}
	return fmt.Sprintf("%.4f", p)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "(open)"
	}
	return t.UTC().Format(time.RFC3339)
}

func (r *Report) sideNames() (string, string) {
	if r.Mode == "before_after" {
		return "before", "after"
	}
	return "primary", "shadow"
}

// WriteMarkdown writes r as a Markdown document for people (a pull request
// comment, a ticket).
func (r *Report) WriteMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	a, b := r.sideNames()

	p("# Shadow report: %s\n\n", strings.ToUpper(string(r.Outcome)))
	p("**%s**\n\n", r.SummaryLine)
	if r.Windows != nil {
		p("- Mode: before/after on the %s side: before %s – %s, after %s – %s\n", r.Windows.Target,
			fmtTime(r.Windows.BeforeFrom), fmtTime(r.Windows.BeforeTo), fmtTime(r.Windows.AfterFrom), fmtTime(r.Windows.AfterTo))
	} else {
		p("- Window: %s – %s (analysed up to %s), %d objects\n", fmtTime(r.Window.From), fmtTime(r.Window.To), fmtTime(r.Window.EffectiveTo), r.Window.Objects)
	}
	s := r.Settings
	p("- Thresholds: ratio ≥ %.2f (or ≤ %.2f for improvements), Benjamini-Hochberg adjusted p < %g; P50 test from %d pairs, P99 test from %d pairs; reservoir %d, %d bootstrap resamples\n",
		s.Ratio, 1/s.Ratio, s.Alpha, s.MinPairs, s.MinTailPairs, s.Reservoir, s.BootstrapResamples)
	p("- Schema: `%s`, generated %s\n\n", r.Schema, fmtTime(r.GeneratedAt))

	p("## Findings (%d)\n\n", len(r.Findings))
	if len(r.Findings) == 0 {
		p("None.\n\n")
	}
	for i, f := range r.Findings {
		p("%d. **%s**: %s  \n   %s\n", i+1, strings.ReplaceAll(f.Kind, "_", " "), f.Title, f.Evidence)
	}
	if len(r.Findings) > 0 {
		p("\n")
	}

	p("## Latency by group\n\n")
	p("| group | status | pairs | %s P50 | %s P50 | P50 ratio | P50 adj. p | %s P99 | %s P99 | P99 ratio [CI] | P99 adj. p | %s errors | %s errors |\n", a, b, a, b, a, b)
	p("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, g := range r.Groups {
		r50, p50, r99, p99 := "-", "-", "-", "-"
		if t := g.P50; t != nil {
			r50, p50 = fmt.Sprintf("%.2f", t.Ratio), fmtP(t.PAdjusted)
		}
		if t := g.P99; t != nil {
			r99, p99 = fmt.Sprintf("%.2f [%.2f, %.2f]", t.Ratio, t.CILow, t.CIHigh), fmtP(t.PAdjusted)
		}
		label := g.Label
		if g.KeyKind == "template" && g.Example != "" {
			label += " " + mdCode(truncateString(g.Example, 80))
		}
		p("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %d | %d |\n", mdCell(label), strings.ReplaceAll(g.Status, "_", " "), g.Pairs,
			fmtMS(g.Primary.P50), fmtMS(g.Shadow.P50), r50, p50, fmtMS(g.Primary.P99), fmtMS(g.Shadow.P99), r99, p99, g.Primary.Errors, g.Shadow.Errors)
	}
	p("\nDurations in ms; the %s side is duration_ms minus client_wait_ms.\n\n", a)

	var withProfiles []GroupReport
	for _, g := range r.Groups {
		if g.Profiles != nil {
			withProfiles = append(withProfiles, g)
		}
	}
	if len(withProfiles) > 0 {
		p("## Where the time went (engine profiles)\n\n")
		p("| group | side | profiles | engine ms | pending ms | CPU ms | scan rows | scan bytes | memory bytes | spill bytes |\n")
		p("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, g := range withProfiles {
			for _, side := range []struct {
				name string
				st   ProfileStats
			}{{a, g.Profiles.Primary}, {b, g.Profiles.Shadow}} {
				st := side.st
				p("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", mdCell(g.Label), side.name, st.Count,
					optNum(st.MeanDurationMS), optNum(st.MeanPendingMS), optNum(st.MeanCPUMS), optNum(st.MeanScanRows),
					optNum(st.MeanScanBytes), optNum(st.MeanMemBytes), optNum(st.MeanSpillBytes))
			}
		}
		p("\nMeans per statement, from the profiles dataset joined on (server_conn_id, query_hash, time).\n\n")
	}

	if r.Mode != "before_after" {
		p("## Shadow-only failures (%d codes)\n\n", len(r.Failures))
		if len(r.Failures) == 0 {
			p("None.\n\n")
		}
		for _, f := range r.Failures {
			p("### %s: %d statements\n\n", errorCodeLabel(f.ErrorCode), f.Count)
			var gs []string
			for _, g := range f.Groups {
				gs = append(gs, fmt.Sprintf("%s (%d)", g.Group, g.Count))
			}
			p("Groups: %s\n\n", strings.Join(gs, ", "))
			for _, x := range f.Examples {
				p("- %s: %s\n", mdCode(x.Query), mdCell(x.Error))
			}
			p("\n")
		}
		writeMismatchesMD(p, "Result mismatches", r.Mismatches)
		writeMismatchesMD(p, "Column differences", r.ColumnDifferences)
	}

	p("## Noise (not findings)\n\n")
	if len(r.Noise) == 0 {
		p("None.\n\n")
	} else {
		p("| kind | group | count | reason | example |\n|---|---|--:|---|---|\n")
		for _, n := range r.Noise {
			ex := ""
			if len(n.Examples) > 0 {
				ex = mdCode(truncateString(n.Examples[0].Query, 80))
			}
			p("| %s | %s | %d | %s | %s |\n", n.Kind, mdCell(n.Group), n.Count, mdCell(n.Reason), mdCell(ex))
		}
		p("\n")
	}

	c := r.Counts
	p("## Records\n\n")
	p("| records | %s | %s | paired | filtered | dropped | diverged | out of window | malformed | primary-only failures |\n", a, b)
	p("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	p("| %d | %d | %d | %d | %d | %d | %d | %d | %d | %d |\n\n", c.Records, c.Primary, c.Shadow, c.Paired, c.Filtered, c.Dropped, c.Diverged, c.OutOfWindow, c.Malformed, c.PrimaryOnlyFailures)
	p("Filtered, dropped and diverged shadow records are excluded from every verdict.\n")
	if c.PairedByQueryID+c.UnpairedPrimary+c.UnpairedShadow > 0 {
		p("\nShadow records without the primary's outcome, paired by query_id: %d; unpaired primary records: %d; unpaired shadow records: %d (given up early, window full: %d).\n",
			c.PairedByQueryID, c.UnpairedPrimary, c.UnpairedShadow, c.PairingOverflow)
	}
	in := r.Input
	p("\n## Input\n\n")
	p("| objects | read | lines | malformed lines | unreadable objects |\n|--:|--:|--:|--:|--:|\n")
	p("| %d | %d | %d | %d | %d |\n", in.Objects, in.Read, in.Lines, in.MalformedLines, in.UnreadableObjects)
	if len(in.Unreadable) > 0 {
		p("\n| unreadable object | reason | error |\n|---|---|---|\n")
		for _, u := range in.Unreadable {
			p("| %s | %s | %s |\n", mdCode(u.Key), u.Reason, mdCell(u.Error))
		}
	}
	if len(r.Notes) > 0 {
		p("\n## Notes\n\n")
		for _, n := range r.Notes {
			p("- %s\n", n)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("shadow: write Markdown report: %w", err)
	}
	return nil
}

func writeMismatchesMD(p func(string, ...any), title string, ms []MismatchReport) {
	p("## %s (%d groups)\n\n", title, len(ms))
	if len(ms) == 0 {
		p("None.\n\n")
		return
	}
	for _, m := range ms {
		p("### %s: %d statements, %d distinct texts\n\n", m.Group, m.Count, m.QueryHashes)
		for _, x := range m.Examples {
			p("- %s (×%d): primary `%s`, shadow `%s`\n", mdCode(x.Query), x.Count, x.PrimaryResultHash, x.ShadowResultHash)
		}
		p("\n")
	}
}

func truncateString(s string, n int) string { return truncateQuery(s, n) }

func optNum(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.4g", *v)
}
