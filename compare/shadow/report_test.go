package shadow

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/compare"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
)

var (
	plantedOnce sync.Once
	plantedRep  *Report
)

// plantedReport is the report of the planted scenario, computed once.
func plantedReport(t *testing.T) *Report {
	t.Helper()
	plantedOnce.Do(func() {
		bufs := genShadowLogs(1, genStart, 6*time.Hour, 4, plantedScenario())
		rep, err := Analyze(context.Background(), Window{From: genStart, To: genStart.Add(24 * time.Hour)}, readers(bufs),
			&Options{Now: func() time.Time { return genStart.Add(48 * time.Hour) }})
		if err == nil {
			plantedRep = rep
		}
	})
	require.NotNil(t, plantedRep)
	return plantedRep
}

func TestReportJSONRoundTrip(t *testing.T) {
	rep := plantedReport(t)
	var buf bytes.Buffer
	require.NoError(t, rep.WriteJSON(&buf))
	require.Contains(t, buf.String(), `"schema": "sqlshadow.shadow-report/v1"`)
	back, err := ReadReport(&buf)
	require.NoError(t, err)
	require.Equal(t, rep.Findings, back.Findings)
	require.Equal(t, compare.VerdictFail, back.Verdict())
	require.Equal(t, rep.Summary(), back.Summary())

	_, err = ReadReport(strings.NewReader(`{"schema":"other/v9"}`))
	require.Error(t, err)
}

func TestReportMarkdownNamesTheThree(t *testing.T) {
	rep := plantedReport(t)
	var buf bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&buf))
	md := buf.String()
	require.Contains(t, md, "# Shadow report: FAIL")
	require.Contains(t, md, "## Findings (3)")
	findings := md[strings.Index(md, "## Findings"):strings.Index(md, "## Latency by group")]
	require.Contains(t, findings, "**regression**: route:checkout is slower on the shadow")
	require.Contains(t, findings, "**shadow failure**: ")
	require.Contains(t, findings, "error 1054")
	require.Contains(t, findings, "**result mismatch**: "+templateLabel(qUsers))
	for _, not := range []string{"clock", "stats", "rare", "queue", "stateful", "reports", "export", "home"} {
		require.NotContains(t, findings, not)
	}
	require.Equal(t, 3, strings.Count(findings, "\n1. ")+strings.Count(findings, "\n2. ")+strings.Count(findings, "\n3. "))
	noise := md[strings.Index(md, "## Noise"):]
	for _, kind := range []string{NoiseNonDeterministic, NoiseFloatColumns, NoiseSmallSample, NoisePrimaryVaries} {
		require.Contains(t, noise, "| "+kind+" |")
	}
	require.Contains(t, md, "Unknown column 'total'")
}

func writeHTML(t *testing.T, rep *Report) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, rep.WriteHTML(&buf))
	return buf.String()
}

func TestReportHTMLSelfContained(t *testing.T) {
	rep := plantedReport(t)
	h := writeHTML(t, rep)
	require.NotContains(t, h, "<script")
	require.NotRegexp(t, `(src|href)="https?:`, h)
	findings := h[strings.Index(h, `<ol id="findings">`):strings.Index(h, `</ol>`)]
	require.Equal(t, 3, strings.Count(findings, "<li "))
	require.Contains(t, findings, `data-kind="regression"`)
	require.Contains(t, findings, `data-kind="shadow_failure"`)
	require.Contains(t, findings, `data-kind="result_mismatch"`)
	require.Contains(t, findings, "route:checkout")
	require.Contains(t, h, `id="chart-ratios"`)
	require.Contains(t, h, `id="chart-failures"`)
	require.Contains(t, h, `id="chart-mismatches"`)
	require.Equal(t, len(rep.Groups), strings.Count(h, `id="chart-latency-`))

	// Text from the logs is escaped.
	evil := *rep
	evil.Groups = append([]GroupReport{{Label: "route:<script>alert(1)</script>", Status: StatusNoChange}}, rep.Groups...)
	require.NotContains(t, writeHTML(t, &evil), "<script>alert")
}

// measureText is a script the Chromium test adds to a copy of the page (the
// report itself has none): it lays out every chart and lists, as JSON in
// <pre id="overflow">, the text nodes whose box leaves the chart's viewBox, and
// in <pre id="ticks"> the right edge of each latency chart's last axis label.
const measureText = `<script>
(function () {
  var out = [], ticks = [];
  document.querySelectorAll("svg.chart").forEach(function (svg) {
    var vb = svg.viewBox.baseVal;
    svg.querySelectorAll("text").forEach(function (t) {
      var b = t.getBBox();
      if (b.x < vb.x - 0.5 || b.x + b.width > vb.x + vb.width + 0.5) {
        out.push(svg.id + ": " + t.textContent + " [" + b.x.toFixed(1) + ", " + (b.x + b.width).toFixed(1) + "] in width " + vb.width);
      }
    });
    var tick = svg.querySelectorAll("text.tick");
    if (svg.id.indexOf("chart-latency-") === 0 && tick.length > 0) {
      var b = tick[tick.length - 1].getBBox();
      ticks.push({text: tick[tick.length - 1].textContent, right: b.x + b.width, width: vb.width});
    }
  });
  function pre(id, v) { var p = document.createElement("pre"); p.id = id; p.textContent = JSON.stringify(v); document.body.appendChild(p); }
  pre("overflow", out);
  pre("ticks", ticks);
})();
</script>`

// TestReportHTMLInChromium renders the page in headless Chromium, finds the
// charts in the DOM it built, and checks that every chart's text, the last
// axis label included, fits in the chart.
func TestReportHTMLInChromium(t *testing.T) {
	chromium := testdb.RequireBinary(t, "chromium")
	rep := plantedReport(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	page := strings.Replace(writeHTML(t, rep), "</body>", measureText+"</body>", 1)
	require.NoError(t, os.WriteFile(path, []byte(page), 0o644))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--no-first-run", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--dump-dom", "file://"+path)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "chromium: %s", stderr.String())
	dom := string(out)

	require.Contains(t, dom, `id="verdict"`)
	svgs := regexp.MustCompile(`<svg[^>]*class="chart"[^>]*id="([^"]+)"`).FindAllStringSubmatch(dom, -1)
	ids := map[string]bool{}
	for _, m := range svgs {
		ids[m[1]] = true
	}
	require.True(t, ids["chart-ratios"], "ids %v", ids)
	require.True(t, ids["chart-failures"])
	require.True(t, ids["chart-mismatches"])
	require.True(t, ids["chart-latency-0"])
	require.Len(t, ids, 3+len(rep.Groups))
	// The charts have content: bars and distributions.
	require.Greater(t, strings.Count(dom, `class="bar"`), 10)
	require.Greater(t, strings.Count(dom, `class="dist"`), 2*len(rep.Groups)-2)
	require.Equal(t, 3, strings.Count(dom, `class="finding"`))

	// Every text node lies inside its chart; the last axis label of every
	// latency chart (e.g. "30.9 ms") ends inside the viewBox.
	pre := func(id string) string {
		m := regexp.MustCompile(`<pre id="` + id + `">([^<]*)</pre>`).FindStringSubmatch(dom)
		require.NotNil(t, m, "no <pre id=%q> in the DOM", id)
		return html.UnescapeString(m[1])
	}
	var overflow []string
	require.NoError(t, json.Unmarshal([]byte(pre("overflow")), &overflow))
	require.Empty(t, overflow)
	var ticks []struct {
		Text         string
		Right, Width float64
	}
	require.NoError(t, json.Unmarshal([]byte(pre("ticks")), &ticks))
	require.Len(t, ticks, len(rep.Groups))
	for _, tk := range ticks {
		require.True(t, strings.HasSuffix(tk.Text, " ms"), tk.Text)
		require.LessOrEqual(t, tk.Right, tk.Width, "last axis label %q", tk.Text)
	}
}
