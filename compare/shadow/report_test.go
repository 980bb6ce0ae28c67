package shadow

import (
	"bytes"
	"context"
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

// TestReportHTMLInChromium renders the page in headless Chromium and finds
// the charts in the DOM it built.
func TestReportHTMLInChromium(t *testing.T) {
	chromium := testdb.RequireBinary(t, "chromium")
	rep := plantedReport(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	require.NoError(t, os.WriteFile(path, []byte(writeHTML(t, rep)), 0o644))

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
}
