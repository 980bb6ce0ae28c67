package certify

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"

	"github.com/sqlshadow/sqlshadow/compare"
)

// Report is the certification report of one run: the timeline with its
// fault windows, each step's and each assertion's result, the figures
// behind them, and the verdict. It is a compare.Result and writes itself as
// JSON, Markdown and one self-contained HTML page (compare.WriteReports).
type Report struct {
	// Recipe and Description come from the recipe; Started and Ended
	// bound the run.
	Recipe      string    `json:"recipe"`
	Description string    `json:"description,omitempty"`
	Started     time.Time `json:"started"`
	Ended       time.Time `json:"ended"`
	// Status is the verdict: fail when an assertion or a step failed,
	// inconclusive when one could not decide, else pass.
	Status compare.Verdict `json:"verdict"`
	// ExitCode is Status.ExitCode(): 0 certified, 1 failed, 3 inconclusive.
	ExitCode   int               `json:"exit_code"`
	Steps      []StepResult      `json:"steps"`
	Assertions []AssertionResult `json:"assertions"`
	// Events are the chaos events and network faults with their windows.
	Events []Event `json:"events"`
	// Faults are the fault proxies' changes, timestamped.
	Faults        []FaultEvent  `json:"faults,omitempty"`
	RecoveryBound time.Duration `json:"recovery_bound_ns"`
	Clients       ClientSummary `json:"clients"`
	Logs          *LogSummary   `json:"logs,omitempty"`
	// Timeline bins the clients' statements: latency and errors.
	Timeline   []Bin          `json:"timeline,omitempty"`
	Soak       *SoakResult    `json:"soak,omitempty"`
	Startup    *StartupResult `json:"startup,omitempty"`
	ProxyUp    bool           `json:"proxy_up"`
	ProxyError string         `json:"proxy_error,omitempty"`
	// Findings are problems of the run itself (a proxy that did not shut
	// down cleanly, nothing checked).
	Findings []string `json:"findings,omitempty"`
}

// StepResult is one step's outcome.
type StepResult struct {
	// Index is the step's place in Recipe.Steps; Name its name (or kind and
	// target); Kind workload, sql, restart, kill or fault.
	Index int    `json:"index"`
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	// Start and End bound the step; Status is pass or fail, and Message
	// says what it did or why it failed.
	Start   time.Time       `json:"start"`
	End     time.Time       `json:"end"`
	Status  compare.Verdict `json:"status"`
	Message string          `json:"message"`
}

// AssertionResult is one assertion's outcome, with its figures in Message.
type AssertionResult struct {
	// Name is the assertion: client_errors, lost_records, mismatches,
	// recovery, proxy_up, step, "soak METRIC" or "startup VERSION".
	Name    string          `json:"name"`
	Status  compare.Verdict `json:"status"`
	Message string          `json:"message"`
}

// ClientSummary counts the workload's statements as the clients saw them.
type ClientSummary struct {
	// Statements ran; Errors failed, inside and outside fault windows (by
	// the statement's start).
	Statements    int `json:"statements"`
	ErrorsInside  int `json:"errors_inside"`
	ErrorsOutside int `json:"errors_outside"`
}

// LogSummary is what the query logs the proxy wrote show, split by fault
// windows (a record is inside when its ts is).
type LogSummary struct {
	// PrimaryRecords and ShadowRecords are the records read (COM_QUIT
	// left out); Malformed the lines that did not decode.
	PrimaryRecords int   `json:"primary_records"`
	ShadowRecords  int   `json:"shadow_records"`
	Malformed      int64 `json:"malformed"`
	// Lost: client statements that succeeded without a primary record.
	LostInside  int `json:"lost_inside"`
	LostOutside int `json:"lost_outside"`
	// Unpaired: a primary record without its shadow record, or the reverse.
	UnpairedInside  int `json:"unpaired_inside"`
	UnpairedOutside int `json:"unpaired_outside"`
	// ShadowFailed: shadow records that failed or were dropped.
	ShadowFailedInside  int `json:"shadow_failed_inside"`
	ShadowFailedOutside int `json:"shadow_failed_outside"`
	// Diverged: shadow records marked diverged.
	DivergedInside  int `json:"diverged_inside"`
	DivergedOutside int `json:"diverged_outside"`
	// Mismatches: the shadow answered differently from the primary.
	MismatchesInside  int `json:"mismatches_inside"`
	MismatchesOutside int `json:"mismatches_outside"`
	// Examples are the first records lost or unpaired outside fault
	// windows.
	Examples []string `json:"examples,omitempty"`
	// ShadowExamples are the first shadow records failed, dropped or
	// diverged outside fault windows, with the shadow's error.
	ShadowExamples []string `json:"shadow_examples,omitempty"`
}

// Bin is one interval of the timeline.
type Bin struct {
	// Offset is the interval's start from the start of the run and Width
	// its length, in seconds; P50MS and P99MS are the clients' latency
	// quantiles in it.
	Offset     float64 `json:"offset_s"`
	Width      float64 `json:"width_s"`
	Statements int     `json:"statements"`
	Errors     int     `json:"errors"`
	P50MS      float64 `json:"p50_ms"`
	P99MS      float64 `json:"p99_ms"`
}

var _ compare.Result = (*Report)(nil)

// Verdict implements compare.Result.
func (r *Report) Verdict() compare.Verdict { return r.Status }

// Summary implements compare.Result: one line with the figures that matter.
func (r *Report) Summary() string {
	failed := 0
	for _, a := range r.Assertions {
		if a.Status != StatusPass {
			failed++
		}
	}
	var parts []string
	if failed == 0 {
		parts = append(parts, fmt.Sprintf("%d of %d assertions hold", len(r.Assertions), len(r.Assertions)))
	} else {
		parts = append(parts, fmt.Sprintf("%d of %d assertions do not hold", failed, len(r.Assertions)))
	}
	if r.Clients.Statements > 0 {
		parts = append(parts, fmt.Sprintf("clients: %d statements, %d errors outside fault windows, %d inside",
			r.Clients.Statements, r.Clients.ErrorsOutside, r.Clients.ErrorsInside))
	}
	for _, ev := range r.Events {
		if ev.Side != "" && ev.Error == "" {
			parts = append(parts, fmt.Sprintf("%s: recovered %.2fs after ready", ev.Name, ev.Recovery.Seconds()))
		}
	}
	if l := r.Logs; l != nil {
		parts = append(parts, fmt.Sprintf("logs: %d lost and %d unpaired outside fault windows", l.LostOutside, l.UnpairedOutside))
	}
	return strings.Join(parts, "; ")
}

// Details implements compare.Result: the assertions that do not hold first,
// then the others.
func (r *Report) Details() []string {
	var bad, good []string
	for _, a := range r.Assertions {
		line := fmt.Sprintf("[%s] %s: %s", a.Status, a.Name, a.Message)
		if a.Status == StatusPass {
			good = append(good, line)
		} else {
			bad = append(bad, line)
		}
	}
	return append(append(bad, good...), r.Findings...)
}

// WriteJSON implements compare.JSONWriter.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// offset returns t's seconds from the start of the run.
func (r *Report) offset(t time.Time) float64 { return t.Sub(r.Started).Seconds() }

// WriteMarkdown implements compare.MarkdownWriter.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Certification: %s\n\n", r.Recipe)
	if r.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", r.Description)
	}
	fmt.Fprintf(&b, "**Verdict: %s** (exit code %d). %s.\n\n", strings.ToUpper(string(r.Status)), r.ExitCode, r.Summary())
	fmt.Fprintf(&b, "Run from %s to %s (%.1fs).\n\n", r.Started.UTC().Format(time.RFC3339), r.Ended.UTC().Format(time.RFC3339), r.Ended.Sub(r.Started).Seconds())
	b.WriteString("## Assertions\n\n| status | assertion | figures |\n|---|---|---|\n")
	for _, a := range r.Assertions {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", a.Status, a.Name, mdEscape(a.Message))
	}
	b.WriteString("\n## Steps\n\n| at (s) | until (s) | step | status | result |\n|---:|---:|---|---|---|\n")
	for _, s := range r.Steps {
		fmt.Fprintf(&b, "| %.1f | %.1f | %s | %s | %s |\n", r.offset(s.Start), r.offset(s.End), mdEscape(s.Name), s.Status, mdEscape(s.Message))
	}
	if len(r.Events) > 0 {
		b.WriteString("\n## Fault windows\n\n| event | side | window start (s) | start (s) | ready (s) | window end (s) | recovery (s) | recovered |\n|---|---|---:|---:|---:|---:|---:|---|\n")
		for _, ev := range r.Events {
			fmt.Fprintf(&b, "| %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %v |\n", mdEscape(ev.Name), ev.Side, r.offset(ev.WindowStart), r.offset(ev.Start), r.offset(ev.Ready), r.offset(ev.WindowEnd), ev.Recovery.Seconds(), ev.Recovered)
		}
	}
	if l := r.Logs; l != nil {
		b.WriteString("\n## Query logs\n\n| | outside fault windows | inside |\n|---|---:|---:|\n")
		fmt.Fprintf(&b, "| client statements without a record (lost) | %d | %d |\n", l.LostOutside, l.LostInside)
		fmt.Fprintf(&b, "| records without their other side (unpaired) | %d | %d |\n", l.UnpairedOutside, l.UnpairedInside)
		fmt.Fprintf(&b, "| shadow records failed or dropped | %d | %d |\n", l.ShadowFailedOutside, l.ShadowFailedInside)
		fmt.Fprintf(&b, "| shadow records diverged | %d | %d |\n", l.DivergedOutside, l.DivergedInside)
		fmt.Fprintf(&b, "| answers that differ | %d | %d |\n", l.MismatchesOutside, l.MismatchesInside)
		fmt.Fprintf(&b, "\n%d primary and %d shadow records; %d malformed lines.\n", l.PrimaryRecords, l.ShadowRecords, l.Malformed)
	}
	if s := r.Soak; s != nil {
		fmt.Fprintf(&b, "\n## Soak\n\nSampled %s every %v; the first %v left out as warm-up.\n\n| metric | first | last | slope /s | 95%% interval of the growth over the run | bound | status |\n|---|---:|---:|---:|---|---:|---|\n", s.Source, s.Interval, s.Warmup)
		for _, x := range s.Series {
			fmt.Fprintf(&b, "| %s | %.0f | %.0f | %.4g | %.4g .. %.4g | %.4g | %s |\n", x.Metric, x.First, x.Last, x.Slope, x.GrowthLow, x.GrowthHigh, x.Bound, x.Status)
		}
	}
	if s := r.Startup; s != nil {
		b.WriteString("\n## Start-up\n\n| version | runs | median (s) | min (s) | max (s) | p (vs first) | status |\n|---|---:|---:|---:|---:|---:|---|\n")
		for _, v := range s.Versions {
			fmt.Fprintf(&b, "| %s | %d | %.3f | %.3f | %.3f | %.3g | %s |\n", v.Name, len(v.Seconds), v.Median, v.Min, v.Max, v.P, v.Status)
		}
	}
	if len(r.Findings) > 0 {
		b.WriteString("\n## Findings\n\n")
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "- %s\n", f)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// chart is the data of one SVG chart of the HTML page.
type chart struct {
	Title         string
	Width, Height float64
	Bands         []rect     // fault windows
	Marks         []float64  // x of fault changes
	Lines         []polyline // series
	YMax          float64
	XMax          float64
	Bars          []rect
}

type rect struct {
	X, Y, W, H float64
	Label      string
}

type polyline struct {
	Points string
	Color  string
	Label  string
}

const chartW, chartH = 900.0, 180.0

func (r *Report) charts() []chart {
	if len(r.Timeline) == 0 {
		return nil
	}
	xmax := r.Ended.Sub(r.Started).Seconds()
	x := func(s float64) float64 { return s / xmax * chartW }
	var bands []rect
	for _, ev := range r.Events {
		a, b := x(r.offset(ev.WindowStart)), x(r.offset(ev.WindowEnd))
		bands = append(bands, rect{X: a, W: math.Max(b-a, 2), H: chartH, Label: fmt.Sprintf("%s: %.1f-%.1f s", ev.Name, r.offset(ev.WindowStart), r.offset(ev.WindowEnd))})
	}
	var marks []float64
	for _, f := range r.Faults {
		marks = append(marks, x(r.offset(f.Time)))
	}
	lat := chart{Title: "Client latency (ms): p50 (blue), p99 (orange)", Width: chartW, Height: chartH, Bands: bands, Marks: marks, XMax: xmax}
	errs := chart{Title: "Client error rate (share of statements per interval)", Width: chartW, Height: chartH, Bands: bands, Marks: marks, XMax: xmax, YMax: 1}
	for _, bn := range r.Timeline {
		lat.YMax = math.Max(lat.YMax, bn.P99MS)
	}
	if lat.YMax == 0 {
		lat.YMax = 1
	}
	y := func(v, max float64) float64 { return chartH - v/max*(chartH-10) }
	var p50, p99 strings.Builder
	for _, bn := range r.Timeline {
		if bn.Statements == 0 {
			continue
		}
		cx := x(bn.Offset + bn.Width/2)
		fmt.Fprintf(&p50, "%.1f,%.1f ", cx, y(bn.P50MS, lat.YMax))
		fmt.Fprintf(&p99, "%.1f,%.1f ", cx, y(bn.P99MS, lat.YMax))
		if bn.Errors > 0 {
			share := float64(bn.Errors) / float64(bn.Statements)
			errs.Bars = append(errs.Bars, rect{X: x(bn.Offset), Y: y(share, 1), W: math.Max(x(bn.Width)-1, 1), H: chartH - y(share, 1)})
		}
	}
	lat.Lines = []polyline{{Points: p50.String(), Color: "#1f77b4", Label: "p50"}, {Points: p99.String(), Color: "#ff7f0e", Label: "p99"}}
	return []chart{lat, errs}
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"offset": func(r *Report, t time.Time) string { return fmt.Sprintf("%.2f", r.offset(t)) },
	"secs":   func(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) },
	"num":    func(f float64) string { return fmt.Sprintf("%.4g", f) },
}).Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Certification: {{.R.Recipe}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:1000px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:14px}
.pass{color:#2a7a2a;font-weight:bold}.fail{color:#b00;font-weight:bold}.inconclusive{color:#a60;font-weight:bold}
svg{border:1px solid #ddd;background:#fff}.band{fill:#f4a4a4;fill-opacity:.35}.mark{stroke:#b00;stroke-dasharray:3,3}
</style></head><body>
<h1>Certification: {{.R.Recipe}}</h1>
{{if .R.Description}}<p>{{.R.Description}}</p>{{end}}
<p>Verdict: <span class="{{.R.Status}}">{{.R.Status}}</span> (exit code {{.R.ExitCode}}). {{.R.Summary}}.</p>
{{range .Charts}}<h3>{{.Title}}</h3>
<svg width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" role="img">
{{range .Bands}}<rect class="band" x="{{.X}}" y="0" width="{{.W}}" height="{{.H}}"><title>{{.Label}}</title></rect>{{end}}
{{range .Marks}}<line class="mark" x1="{{.}}" x2="{{.}}" y1="0" y2="180"/>{{end}}
{{range .Bars}}<rect fill="#d62728" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}"/>{{end}}
{{range .Lines}}<polyline fill="none" stroke="{{.Color}}" stroke-width="1.5" points="{{.Points}}"><title>{{.Label}}</title></polyline>{{end}}
<text x="4" y="12" font-size="11">max {{num .YMax}}</text><text x="{{.Width}}" dx="-60" y="176" font-size="11">{{num .XMax}} s</text>
</svg>{{end}}
<p>Shaded: fault windows (from each event's start to the last failure it caused); dashed: fault proxy changes.</p>
<h2>Assertions</h2><table><tr><th>status</th><th>assertion</th><th>figures</th></tr>
{{range .R.Assertions}}<tr><td class="{{.Status}}">{{.Status}}</td><td>{{.Name}}</td><td>{{.Message}}</td></tr>{{end}}</table>
<h2>Steps</h2><table><tr><th>at (s)</th><th>until (s)</th><th>step</th><th>status</th><th>result</th></tr>
{{range .R.Steps}}<tr><td>{{offset $.R .Start}}</td><td>{{offset $.R .End}}</td><td>{{.Name}}</td><td class="{{.Status}}">{{.Status}}</td><td>{{.Message}}</td></tr>{{end}}</table>
{{if .R.Events}}<h2>Fault windows</h2><table><tr><th>event</th><th>side</th><th>window start (s)</th><th>start (s)</th><th>ready (s)</th><th>window end (s)</th><th>recovery (s)</th><th>recovered</th></tr>
{{range .R.Events}}<tr><td>{{.Name}}</td><td>{{.Side}}</td><td>{{offset $.R .WindowStart}}</td><td>{{offset $.R .Start}}</td><td>{{offset $.R .Ready}}</td><td>{{offset $.R .WindowEnd}}</td><td>{{secs .Recovery}}</td><td>{{.Recovered}}</td></tr>{{end}}</table>{{end}}
{{with .R.Logs}}<h2>Query logs</h2><table><tr><th></th><th>outside fault windows</th><th>inside</th></tr>
<tr><td>client statements without a record (lost)</td><td>{{.LostOutside}}</td><td>{{.LostInside}}</td></tr>
<tr><td>records without their other side (unpaired)</td><td>{{.UnpairedOutside}}</td><td>{{.UnpairedInside}}</td></tr>
<tr><td>shadow records failed or dropped</td><td>{{.ShadowFailedOutside}}</td><td>{{.ShadowFailedInside}}</td></tr>
<tr><td>shadow records diverged</td><td>{{.DivergedOutside}}</td><td>{{.DivergedInside}}</td></tr>
<tr><td>answers that differ</td><td>{{.MismatchesOutside}}</td><td>{{.MismatchesInside}}</td></tr></table>
<p>{{.PrimaryRecords}} primary and {{.ShadowRecords}} shadow records.</p>{{end}}
{{with .R.Soak}}<h2>Soak</h2><p>Sampled {{.Source}} every {{.Interval}}; warm-up left out: {{.Warmup}}.</p>
<table><tr><th>metric</th><th>first</th><th>last</th><th>slope /s</th><th>growth over the run, 95% interval</th><th>bound</th><th>status</th></tr>
{{range .Series}}<tr><td>{{.Metric}}</td><td>{{num .First}}</td><td>{{num .Last}}</td><td>{{num .Slope}}</td><td>{{num .GrowthLow}} .. {{num .GrowthHigh}}</td><td>{{num .Bound}}</td><td class="{{.Status}}">{{.Status}}</td></tr>{{end}}</table>{{end}}
{{with .R.Startup}}<h2>Start-up</h2><table><tr><th>version</th><th>runs</th><th>median (s)</th><th>min</th><th>max</th><th>p vs first</th><th>status</th></tr>
{{range .Versions}}<tr><td>{{.Name}}</td><td>{{len .Seconds}}</td><td>{{num .Median}}</td><td>{{num .Min}}</td><td>{{num .Max}}</td><td>{{num .P}}</td><td class="{{.Status}}">{{.Status}}</td></tr>{{end}}</table>{{end}}
{{if .R.Findings}}<h2>Findings</h2><ul>{{range .R.Findings}}<li>{{.}}</li>{{end}}</ul>{{end}}
</body></html>
`))

// WriteHTML implements compare.HTMLWriter: one self-contained page (inline
// CSS and SVG) with the timeline, its fault windows shaded over latency and
// error rate, and every table of the Markdown report.
func (r *Report) WriteHTML(w io.Writer) error {
	return page.Execute(w, struct {
		R      *Report
		Charts []chart
	}{r, r.charts()})
}
