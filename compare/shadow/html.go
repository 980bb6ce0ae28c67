package shadow

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
)

// Colours of the two sides in every chart.
const (
	htmlColorA = "#2f6db5" // primary / before
	htmlColorB = "#e07b00" // shadow / after
)

// htmlMaxLatencyCharts bounds the per-group latency charts (findings first).
const htmlMaxLatencyCharts = 40

func esc(s string) string { return template.HTMLEscapeString(s) }

// svgBuilder accumulates one inline SVG chart.
type svgBuilder struct {
	strings.Builder
}

func newSVG(id, title string, w, h int) *svgBuilder {
	s := &svgBuilder{}
	fmt.Fprintf(s, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="%s" data-chart="%s" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		esc(id), esc(id), w, h, w, h, esc(title))
	fmt.Fprintf(s, `<title>%s</title>`, esc(title))
	return s
}

func (s *svgBuilder) text(x, y float64, anchor, class, t string) {
	fmt.Fprintf(s, `<text x="%.1f" y="%.1f" text-anchor="%s" class="%s">%s</text>`, x, y, anchor, class, esc(t))
}

func (s *svgBuilder) done() template.HTML {
	s.WriteString(`</svg>`)
	return template.HTML(s.String()) //nolint:gosec // every text node is escaped by esc
}

// ratioChart draws, per group, the P50 and P99 ratios on a log axis with the
// thresholds.
func ratioChart(r *Report) template.HTML {
	type row struct {
		label    string
		r50, r99 float64
		status   string
	}
	var rows []row
	for _, g := range r.Groups {
		if g.P50 == nil {
			continue
		}
		rw := row{label: g.Label, r50: g.P50.Ratio, status: g.Status}
		if g.P99 != nil {
			rw.r99 = g.P99.Ratio
		}
		rows = append(rows, rw)
		if len(rows) == 25 {
			break
		}
	}
	const left, right, rowH, top = 260.0, 30.0, 22.0, 30.0
	w := 900.0
	h := top + rowH*float64(max(len(rows), 1)) + 30
	s := newSVG("chart-ratios", "Shadow/primary latency ratio per group (P50, P99)", int(w), int(h))
	lo, hi := math.Log(1/8.0), math.Log(8.0)
	for _, rw := range rows {
		for _, v := range []float64{rw.r50, rw.r99} {
			if v > 0 {
				lo, hi = math.Min(lo, math.Log(v)-0.1), math.Max(hi, math.Log(v)+0.1)
			}
		}
	}
	x := func(v float64) float64 { return left + (math.Log(v)-lo)/(hi-lo)*(w-left-right) }
	// Axis ticks and thresholds.
	for _, t := range []float64{0.125, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64} {
		if math.Log(t) < lo || math.Log(t) > hi {
			continue
		}
		fmt.Fprintf(s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/>`, x(t), top-5, x(t), h-25)
		s.text(x(t), h-10, "middle", "tick", fmt.Sprintf("%gx", t))
	}
	for _, t := range []float64{r.Settings.Ratio, 1 / r.Settings.Ratio} {
		if t > 0 {
			fmt.Fprintf(s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="threshold"/>`, x(t), top-5, x(t), h-25)
		}
	}
	fmt.Fprintf(s, `<rect x="%.1f" y="8" width="10" height="10" fill="%s"/><text x="%.1f" y="17" class="legend">P50</text>`, left+60, htmlColorA, left+75)
	fmt.Fprintf(s, `<rect x="%.1f" y="8" width="10" height="10" fill="%s"/><text x="%.1f" y="17" class="legend">P99</text>`, left+120, htmlColorB, left+135)
	if len(rows) == 0 {
		s.text(w/2, top+15, "middle", "empty", "no group had enough pairs for a test")
	}
	for i, rw := range rows {
		y := top + rowH*float64(i)
		cls := "label"
		if rw.status == StatusRegression {
			cls = "label bad"
		}
		s.text(left-8, y+14, "end", cls, truncateString(rw.label, 34))
		for k, v := range []float64{rw.r50, rw.r99} {
			if v <= 0 {
				continue
			}
			col := htmlColorA
			if k == 1 {
				col = htmlColorB
			}
			x0, x1 := x(1), x(v)
			if x1 < x0 {
				x0, x1 = x1, x0
			}
			fmt.Fprintf(s, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="8" fill="%s"><title>%s %s ratio %.2f</title></rect>`,
				x0, y+4+float64(k)*9, math.Max(x1-x0, 1), col, esc(rw.label), []string{"P50", "P99"}[k], v)
		}
	}
	return s.done()
}

// countChart draws horizontal bars of labelled counts.
func countChart(id, title string, labels []string, counts []int64, colors []string) template.HTML {
	const left, right, rowH, top = 260.0, 80.0, 22.0, 10.0
	w := 900.0
	h := top + rowH*float64(max(len(labels), 1)) + 10
	s := newSVG(id, title, int(w), int(h))
	var maxC int64 = 1
	for _, c := range counts {
		maxC = max(maxC, c)
	}
	if len(labels) == 0 {
		s.text(w/2, top+15, "middle", "empty", "none")
	}
	for i, l := range labels {
		y := top + rowH*float64(i)
		s.text(left-8, y+14, "end", "label", truncateString(l, 34))
		bw := (w - left - right) * float64(counts[i]) / float64(maxC)
		fmt.Fprintf(s, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="14" fill="%s"><title>%s: %d</title></rect>`, left, y+3, math.Max(bw, 1), colors[i], esc(l), counts[i])
		s.text(left+bw+6, y+14, "start", "tick", fmt.Sprint(counts[i]))
	}
	return s.done()
}

// latencyChart draws the two sides' latency distributions of one group as
// step areas on a log axis.
func latencyChart(id string, g *GroupReport, a, b string) template.HTML {
	const w, h, left, right, top, bottom = 440.0, 186.0, 40.0, 10.0, 38.0, 28.0
	s := newSVG(id, fmt.Sprintf("Latency distribution of %s (%s vs %s)", g.Label, a, b), int(w), int(h))
	hist := g.Histogram
	if hist == nil || len(hist.Edges) < 2 {
		s.text(w/2, h/2, "middle", "empty", "no successful commands")
		return s.done()
	}
	n := len(hist.Primary)
	totA, totB := 0, 0
	for i := range n {
		totA += hist.Primary[i]
		totB += hist.Shadow[i]
	}
	maxF := 1e-9
	frac := func(c, tot int) float64 {
		if tot == 0 {
			return 0
		}
		return float64(c) / float64(tot)
	}
	for i := range n {
		maxF = math.Max(maxF, math.Max(frac(hist.Primary[i], totA), frac(hist.Shadow[i], totB)))
	}
	l0, l1 := math.Log(hist.Edges[0]), math.Log(hist.Edges[n])
	x := func(v float64) float64 { return left + (math.Log(v)-l0)/(l1-l0)*(w-left-right) }
	y := func(f float64) float64 { return h - bottom - f/maxF*(h-top-bottom) }
	for k, counts := range [][]int{hist.Primary, hist.Shadow} {
		tot := totA
		col := htmlColorA
		if k == 1 {
			tot, col = totB, htmlColorB
		}
		var pts strings.Builder
		fmt.Fprintf(&pts, "%.1f,%.1f", x(hist.Edges[0]), y(0))
		for i := range n {
			yy := y(frac(counts[i], tot))
			fmt.Fprintf(&pts, " %.1f,%.1f %.1f,%.1f", x(hist.Edges[i]), yy, x(hist.Edges[i+1]), yy)
		}
		fmt.Fprintf(&pts, " %.1f,%.1f", x(hist.Edges[n]), y(0))
		fmt.Fprintf(s, `<polygon class="dist" points="%s" fill="%s" fill-opacity="0.35" stroke="%s" stroke-width="1.2"/>`, pts.String(), col, col)
	}
	// Medians.
	for k, v := range []float64{g.Primary.P50, g.Shadow.P50} {
		if v <= 0 || math.Log(v) < l0 || math.Log(v) > l1 {
			continue
		}
		col := htmlColorA
		if k == 1 {
			col = htmlColorB
		}
		fmt.Fprintf(s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="4 3"/>`, x(v), top, x(v), h-bottom, col)
	}
	fmt.Fprintf(s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="axis"/>`, left, h-bottom, w-right, h-bottom)
	// The outer labels are anchored inwards, so that they end inside the chart.
	for _, t := range []struct {
		edge   int
		anchor string
	}{{0, "start"}, {n / 2, "middle"}, {n, "end"}} {
		s.text(x(hist.Edges[t.edge]), h-bottom+14, t.anchor, "tick", fmtMS(hist.Edges[t.edge])+" ms")
	}
	cls := "label"
	if g.Status == StatusRegression {
		cls = "label bad"
	}
	s.text(left, 13, "start", cls, truncateString(g.Label+" ("+lower(g.Status)+")", 70))
	s.text(left, 29, "start", "legend", fmt.Sprintf("%s P50 %s ms (n=%d)", a, fmtMS(g.Primary.P50), totA))
	s.text(w-right, 29, "end", "legend", fmt.Sprintf("%s P50 %s ms (n=%d)", b, fmtMS(g.Shadow.P50), totB))
	return s.done()
}

type htmlGroupChart struct {
	Group *GroupReport
	SVG   template.HTML
}

type htmlData struct {
	R          *Report
	A, B       string
	Ratios     template.HTML
	Failures   template.HTML
	Mismatches template.HTML
	Latency    []htmlGroupChart
	MoreGroups int
	Profiled   []*GroupReport
}

func lower(s string) string { return strings.ReplaceAll(s, "_", " ") }

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms": fmtMS, "p": fmtP, "time": fmtTime, "lower": lower, "upper": strings.ToUpper,
	"code": errorCodeLabel, "ratio": func(v float64) string { return fmt.Sprintf("%.2f", v) },
	"trunc": func(s string) string { return truncateString(s, 120) },
	"opt":   optNum,
	"sides": func(g *GroupReport) []ProfileStats { return []ProfileStats{g.Profiles.Primary, g.Profiles.Shadow} },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shadow report: {{upper (print .R.Outcome)}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:24px}h2{font-size:19px;margin-top:32px;border-bottom:1px solid #ddd}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff}
.fail{background:#c0392b}.pass{background:#27ae60}.inconclusive{background:#7f8c8d}
table{border-collapse:collapse;width:100%;font-size:13px}td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}code{background:#f4f4f4;padding:0 3px;word-break:break-all}
tr.regression td{background:#fdecea}tr.improvement td{background:#eafaf1}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chartbox{border:1px solid #eee;padding:4px}
svg text{font:11px system-ui,sans-serif;fill:#333}svg .label.bad{fill:#c0392b;font-weight:bold}
svg .grid{stroke:#eee}svg .threshold{stroke:#c0392b;stroke-dasharray:4 3}svg .axis{stroke:#999}
svg .empty{fill:#999}.finding{margin:6px 0}.kind{font-weight:bold}
</style></head><body>
<h1>Shadow report <span class="verdict {{.R.Outcome}}" id="verdict">{{upper (print .R.Outcome)}}</span></h1>
<p id="summary"><strong>{{.R.SummaryLine}}</strong></p>
<p>{{if .R.Windows}}Before/after on the {{.R.Windows.Target}} side: before {{time .R.Windows.BeforeFrom}} – {{time .R.Windows.BeforeTo}}, after {{time .R.Windows.AfterFrom}} – {{time .R.Windows.AfterTo}}.{{else}}Window {{time .R.Window.From}} – {{time .R.Window.To}} (analysed up to {{time .R.Window.EffectiveTo}}), {{.R.Window.Objects}} objects.{{end}}
Thresholds: ratio ≥ {{ratio .R.Settings.Ratio}}, adjusted p &lt; {{.R.Settings.Alpha}}, P50 test from {{.R.Settings.MinPairs}} pairs, P99 test from {{.R.Settings.MinTailPairs}} pairs. Schema <code>{{.R.Schema}}</code>.</p>

<h2>Findings ({{len .R.Findings}})</h2>
{{if not .R.Findings}}<p>None.</p>{{end}}
<ol id="findings">{{range .R.Findings}}<li class="finding" data-kind="{{.Kind}}"><span class="kind">{{lower .Kind}}</span>: {{.Title}}<br><small>{{.Evidence}}</small></li>{{end}}</ol>

<h2>Latency ratio per group</h2>
<div class="chartbox">{{.Ratios}}</div>

<h2>Latency by group</h2>
<table id="groups"><thead><tr><th>group</th><th>status</th><th>pairs</th><th>{{.A}} P50</th><th>{{.B}} P50</th><th>P50 ratio</th><th>adj. p</th><th>{{.A}} P99</th><th>{{.B}} P99</th><th>P99 ratio [CI]</th><th>adj. p</th><th>errors {{.A}}/{{.B}}</th></tr></thead><tbody>
{{range .R.Groups}}<tr class="{{.Status}}"><td>{{.Label}}{{if .Example}}<br><code>{{trunc .Example}}</code>{{end}}</td><td>{{lower .Status}}</td><td class="n">{{.Pairs}}</td><td class="n">{{ms .Primary.P50}}</td><td class="n">{{ms .Shadow.P50}}</td>
<td class="n">{{with .P50}}{{ratio .Ratio}}{{else}}-{{end}}</td><td class="n">{{with .P50}}{{p .PAdjusted}}{{else}}-{{end}}</td>
<td class="n">{{ms .Primary.P99}}</td><td class="n">{{ms .Shadow.P99}}</td>
<td class="n">{{with .P99}}{{ratio .Ratio}} [{{ratio .CILow}}, {{ratio .CIHigh}}]{{else}}-{{end}}</td><td class="n">{{with .P99}}{{p .PAdjusted}}{{else}}-{{end}}</td>
<td class="n">{{.Primary.Errors}}/{{.Shadow.Errors}}</td></tr>
{{end}}</tbody></table>
<p><small>Durations in ms; the {{.A}} side is duration_ms minus client_wait_ms.</small></p>

{{if .Profiled}}<h2>Where the time went (engine profiles)</h2>
<table id="profiles"><thead><tr><th>group</th><th>side</th><th>profiles</th><th>engine ms</th><th>pending ms</th><th>CPU ms</th><th>scan rows</th><th>scan bytes</th><th>memory bytes</th><th>spill bytes</th></tr></thead><tbody>
{{range .Profiled}}{{$g := .}}{{range $i, $st := (sides .)}}<tr><td>{{$g.Label}}</td><td>{{if $i}}{{$.B}}{{else}}{{$.A}}{{end}}</td><td class="n">{{$st.Count}}</td><td class="n">{{opt $st.MeanDurationMS}}</td><td class="n">{{opt $st.MeanPendingMS}}</td><td class="n">{{opt $st.MeanCPUMS}}</td><td class="n">{{opt $st.MeanScanRows}}</td><td class="n">{{opt $st.MeanScanBytes}}</td><td class="n">{{opt $st.MeanMemBytes}}</td><td class="n">{{opt $st.MeanSpillBytes}}</td></tr>
{{end}}{{end}}</tbody></table>
<p><small>Means per statement, from the profiles dataset joined on (server_conn_id, query_hash, time).</small></p>{{end}}

<h2>Latency distributions</h2>
<p><span style="color:#2f6db5">■</span> {{.A}} <span style="color:#e07b00">■</span> {{.B}}; dashed lines: medians.</p>
<div class="charts">{{range .Latency}}<div class="chartbox">{{.SVG}}</div>{{end}}</div>
{{if .MoreGroups}}<p>{{.MoreGroups}} more groups are in the table above and in report.json.</p>{{end}}

{{if ne .R.Mode "before_after"}}
<h2>Shadow-only failures</h2>
<div class="chartbox">{{.Failures}}</div>
{{range .R.Failures}}<h3>{{code .ErrorCode}}: {{.Count}} statements</h3>
<p>Groups: {{range $i, $g := .Groups}}{{if $i}}, {{end}}{{$g.Group}} ({{$g.Count}}){{end}}</p>
<ul>{{range .Examples}}<li><code>{{.Query}}</code>: {{.Error}}</li>{{end}}</ul>{{end}}

<h2>Result mismatches</h2>
<div class="chartbox">{{.Mismatches}}</div>
{{range .R.Mismatches}}<h3>{{.Group}}: {{.Count}} statements, {{.QueryHashes}} distinct texts</h3>
<ul>{{range .Examples}}<li><code>{{.Query}}</code> (×{{.Count}}): primary <code>{{.PrimaryResultHash}}</code>, shadow <code>{{.ShadowResultHash}}</code></li>{{end}}</ul>{{end}}
{{if .R.ColumnDifferences}}<h2>Column differences</h2>
{{range .R.ColumnDifferences}}<h3>{{.Group}}: {{.Count}} statements</h3>
<ul>{{range .Examples}}<li><code>{{.Query}}</code></li>{{end}}</ul>{{end}}{{end}}
{{end}}

<h2>Noise (not findings)</h2>
{{if not .R.Noise}}<p>None.</p>{{else}}<table id="noise"><thead><tr><th>kind</th><th>group</th><th>count</th><th>reason</th><th>example</th></tr></thead><tbody>
{{range .R.Noise}}<tr><td>{{lower .Kind}}</td><td>{{.Group}}</td><td class="n">{{.Count}}</td><td>{{.Reason}}</td><td>{{range $i, $e := .Examples}}{{if not $i}}<code>{{trunc $e.Query}}</code>{{end}}{{end}}</td></tr>
{{end}}</tbody></table>{{end}}

<h2>Records</h2>
{{with .R.Counts}}<table id="counts"><tr><th>records</th><th>{{$.A}}</th><th>{{$.B}}</th><th>paired</th><th>filtered</th><th>dropped</th><th>diverged</th><th>out of window</th><th>malformed</th><th>primary-only failures</th></tr>
<tr><td class="n">{{.Records}}</td><td class="n">{{.Primary}}</td><td class="n">{{.Shadow}}</td><td class="n">{{.Paired}}</td><td class="n">{{.Filtered}}</td><td class="n">{{.Dropped}}</td><td class="n">{{.Diverged}}</td><td class="n">{{.OutOfWindow}}</td><td class="n">{{.Malformed}}</td><td class="n">{{.PrimaryOnlyFailures}}</td></tr></table>{{end}}
<p><small>Filtered, dropped and diverged shadow records are excluded from every verdict.</small></p>
{{with .R.Counts}}{{if or .PairedByQueryID .UnpairedPrimary .UnpairedShadow}}<p id="pairing">Shadow records without the primary's outcome, paired by query_id: {{.PairedByQueryID}}; unpaired primary records: {{.UnpairedPrimary}}; unpaired shadow records: {{.UnpairedShadow}} (given up early, window full: {{.PairingOverflow}}).</p>{{end}}{{end}}
<h2>Input</h2>
{{with .R.Input}}<table id="input"><tr><th>objects</th><th>read</th><th>lines</th><th>malformed lines</th><th>unreadable objects</th></tr>
<tr><td class="n">{{.Objects}}</td><td class="n">{{.Read}}</td><td class="n">{{.Lines}}</td><td class="n">{{.MalformedLines}}</td><td class="n">{{.UnreadableObjects}}</td></tr></table>
{{if .Unreadable}}<table id="unreadable"><tr><th>unreadable object</th><th>reason</th><th>error</th></tr>
{{range .Unreadable}}<tr><td><code>{{.Key}}</code></td><td>{{.Reason}}</td><td>{{.Error}}</td></tr>
{{end}}</table>{{end}}{{end}}
{{if .R.Notes}}<h2>Notes</h2><ul>{{range .R.Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
</body></html>
`))

// WriteHTML writes r as one self-contained HTML page: styles inline, charts
// as inline SVG (latency ratios per group, latency distributions of both
// sides per group, failures, mismatches), no script and no network access.
func (r *Report) WriteHTML(w io.Writer) error {
	a, b := r.sideNames()
	d := htmlData{R: r, A: a, B: b, Ratios: ratioChart(r)}
	var labels []string
	var counts []int64
	var colors []string
	for _, f := range r.Failures {
		labels = append(labels, errorCodeLabel(f.ErrorCode))
		counts = append(counts, f.Count)
		colors = append(colors, "#c0392b")
	}
	d.Failures = countChart("chart-failures", "Shadow-only failures by error code", labels, counts, colors)
	labels, counts, colors = nil, nil, nil
	for _, m := range r.Mismatches {
		labels = append(labels, m.Group)
		counts = append(counts, m.Count)
		colors = append(colors, "#c0392b")
	}
	for _, m := range r.ColumnDifferences {
		labels = append(labels, m.Group+" (columns)")
		counts = append(counts, m.Count)
		colors = append(colors, "#8e44ad")
	}
	for _, n := range r.Noise {
		if n.Kind == NoiseSmallSample {
			continue
		}
		labels = append(labels, n.Group+" (noise: "+lower(n.Kind)+")")
		counts = append(counts, n.Count)
		colors = append(colors, "#95a5a6")
	}
	d.Mismatches = countChart("chart-mismatches", "Result mismatches by group (grey: noise)", labels, counts, colors)
	for i := range r.Groups {
		if r.Groups[i].Profiles != nil {
			d.Profiled = append(d.Profiled, &r.Groups[i])
		}
	}
	for i := range r.Groups {
		if len(d.Latency) == htmlMaxLatencyCharts {
			d.MoreGroups = len(r.Groups) - i
			break
		}
		g := &r.Groups[i]
		d.Latency = append(d.Latency, htmlGroupChart{Group: g, SVG: latencyChart(fmt.Sprintf("chart-latency-%d", i), g, a, b)})
	}
	if err := htmlTemplate.Execute(w, d); err != nil {
		return fmt.Errorf("shadow: write HTML report: %w", err)
	}
	return nil
}
