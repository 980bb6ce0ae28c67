package investigate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sqlshadow/sqlshadow/compare/shadow"
	"github.com/sqlshadow/sqlshadow/dataset"
)

// Categories of the deterministic reasoner's findings.
const (
	// CategoryDiskCompaction: disk nearly full while compaction falls
	// behind.
	CategoryDiskCompaction = "disk_compaction"
	// CategoryHeapAfterUpdate: FE heap high after a recent UPDATE operation
	// (an upgrade or configuration change).
	CategoryHeapAfterUpdate = "fe_heap_after_update"
	// CategoryAccountWide: failures seen on sibling clusters too: a cause
	// shared by the account or version, not this cluster alone.
	CategoryAccountWide = "account_wide_failure"
	// CategoryScanGrowth: a shadow regression whose profile scans more.
	CategoryScanGrowth = "shadow_scan_growth"
	// CategoryShadowFailure: statements fail only on the shadow.
	CategoryShadowFailure = "shadow_failure"
	// CategoryResultMismatch: the shadow answers differently.
	CategoryResultMismatch = "result_mismatch"
	// CategoryUndetermined: no rule matched.
	CategoryUndetermined = "undetermined"
)

// Rules is the deterministic reasoner: rules over a Case's evidence, each
// a hypothesis confirmed, refuted or left pending, the best confirmed one
// giving the root cause. Its zero thresholds are invalid: start from
// DefaultRules.
type Rules struct {
	// DiskPct: disk used above it (max over the window) is nearly full.
	DiskPct float64
	// CompactionRise: the compaction score rises when its last value is at
	// least this factor of its first and above it.
	CompactionRise float64
	// HeapPct: FE heap used above it is high.
	HeapPct float64
	// ErrorRatePct: a query error rate above it is failing.
	ErrorRatePct float64
	// ScanGrowth: the shadow scans more when its mean scan rows or bytes
	// are at least this factor of the primary's.
	ScanGrowth float64
}

// DefaultRules returns the default thresholds: disk 85%, compaction score
// up by 20%, heap 75%, error rate 5%, scans grown 2 times.
func DefaultRules() Rules {
	return Rules{DiskPct: 85, CompactionRise: 1.2, HeapPct: 75, ErrorRatePct: 5, ScanGrowth: 2}
}

// candidate is one rule's outcome.
type candidate struct {
	h          dataset.Hypothesis
	cause      string
	confidence float64
	fallback   []string
}

// Reason writes the Finding for c from its evidence alone. It never fails
// and calls no tool.
func (r *Rules) Reason(c *Case) *dataset.Finding {
	var cands []candidate
	if c.Task.Sentinel != nil || c.Subject.Cluster != "" {
		cands = append(cands, r.diskCompaction(c), r.heapAfterUpdate(c), r.accountWide(c))
	}
	if c.Task.Shadow != nil {
		cands = append(cands, r.shadowRules(c)...)
	}
	best := -1
	for i, cd := range cands {
		if cd.h.Status == dataset.HypothesisConfirmed && (best < 0 || cd.confidence > cands[best].confidence) {
			best = i
		}
	}
	f := &dataset.Finding{Severity: severity(c)}
	for _, cd := range cands {
		if cd.h.Statement != "" {
			f.Hypotheses = append(f.Hypotheses, cd.h)
		}
	}
	if best < 0 {
		f.Category = CategoryUndetermined
		f.Title = "No known cause matched the evidence for " + c.Subject.String()
		f.RootCause = rootCause("not determined: no rule matched the evidence gathered", false)
		f.Confidence = 0.2
		f.Explanation = "The deterministic rules found no cause; the evidence gathered is attached for a person to read."
		f.Recommendations = []string{"Read the alerts and metrics attached and investigate by hand",
			"Add a runbook to the knowledge base once the cause is known"}
		for _, id := range slices.Sorted(mapValues(c.MetricEvidence)) {
			f.Hypotheses = append(f.Hypotheses, dataset.Hypothesis{Category: CategoryUndetermined, Statement: "unexplained symptoms", Status: dataset.HypothesisPending, For: []string{id}})
			break
		}
		return f
	}
	top := cands[best]
	f.Category = top.h.Category
	f.Confidence = top.confidence
	f.RootCause = rootCause(top.cause, false)
	f.Title = top.h.Statement
	f.Hypotheses = slices.DeleteFunc(f.Hypotheses, func(h dataset.Hypothesis) bool { return h.Category == top.h.Category })
	f.Hypotheses = append([]dataset.Hypothesis{top.h}, f.Hypotheses...)
	// The alerts of the cluster corroborate a cluster cause.
	if c.Task.Sentinel != nil && len(c.Issues) > 0 {
		f.Confidence += 0.05
	}
	// A runbook for the category gives the recommendations.
	if doc, id := r.runbook(c, top.h.Category); doc != nil {
		f.Recommendations = doc.Recommendations()
		f.Links = append(f.Links, doc.Path)
		f.Hypotheses[0].For = append(f.Hypotheses[0].For, id)
		f.Confidence += 0.1
	}
	if len(f.Recommendations) == 0 {
		f.Recommendations = top.fallback
	}
	// The same finding before: a recurring problem.
	if id, ok := c.PastEvidence[dataset.FindingFingerprint(c.Subject, top.h.Category)]; ok {
		f.Hypotheses[0].For = append(f.Hypotheses[0].For, id)
		f.Confidence += 0.05
		f.Explanation = "The same finding was made before for this subject. "
	}
	f.Confidence = min(f.Confidence, 0.95)
	f.Explanation += top.cause + "; evidence: " + strings.Join(f.Hypotheses[0].For, ", ") + "."
	return f
}

func mapValues(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// runbook returns the best knowledge hit for category: one whose front
// matter names it ("category: ..."), else none.
func (r *Rules) runbook(c *Case, category string) (*Document, string) {
	for _, h := range c.Knowledge {
		if h.Document != nil && strings.EqualFold(h.Document.Meta["category"], category) && len(h.Document.Recommendations()) > 0 {
			return h.Document, c.KnowledgeEvidence[h.Path]
		}
	}
	return nil, ""
}

func severity(c *Case) dataset.Severity {
	if t := c.Task.Sentinel; t != nil {
		if t.Trigger == dataset.TriggerNewCritical || t.Priority <= 1 || (t.Score != nil && t.Score.Class == dataset.ClassCritical) {
			return dataset.SeverityCritical
		}
		return dataset.SeverityWarning
	}
	switch c.Task.Shadow.Finding.Kind {
	case shadow.FindingShadowFailure, shadow.FindingResultMismatch, shadow.FindingColumnDifference:
		return dataset.SeverityCritical
	}
	return dataset.SeverityWarning
}

func maxOf(pts []Point) (float64, bool) {
	if len(pts) == 0 {
		return 0, false
	}
	m := pts[0].V
	for _, p := range pts {
		m = max(m, p.V)
	}
	return m, true
}

func minOf(pts []Point) (float64, bool) {
	if len(pts) == 0 {
		return 0, false
	}
	m := pts[0].V
	for _, p := range pts {
		m = min(m, p.V)
	}
	return m, true
}

func rising(pts []Point, factor float64) bool {
	if len(pts) < 2 {
		return false
	}
	first, last := pts[0].V, pts[len(pts)-1].V
	return last > first && last >= first*factor
}

// status sets a hypothesis' status from its conditions: confirmed when all
// hold, refuted when a known one fails, pending when one is unknown.
func status(known, holds []bool) dataset.HypothesisStatus {
	st := dataset.HypothesisConfirmed
	for i := range known {
		switch {
		case known[i] && !holds[i]:
			return dataset.HypothesisRefuted
		case !known[i]:
			st = dataset.HypothesisPending
		}
	}
	return st
}

func ids(c *Case, names ...string) []string {
	var out []string
	for _, n := range names {
		if id := c.MetricEvidence[n]; id != "" {
			out = append(out, id)
		}
	}
	return out
}

// issueIDs returns the evidence ids of the cluster's issues whose alert
// names contain one of words.
func issueIDs(c *Case, words ...string) []string {
	var out []string
	for _, is := range c.Issues {
		text := strings.ToLower(is.Title + " " + strings.Join(is.AlertNames, " "))
		for _, w := range words {
			if strings.Contains(text, w) {
				out = append(out, c.IssueEvidence[is.ID])
				break
			}
		}
	}
	return out
}

func (r *Rules) diskCompaction(c *Case) candidate {
	disk, dOK := maxOf(c.Metrics[MetricDisk])
	cpts := c.Metrics[MetricCompaction]
	cOK := len(cpts) >= 2
	h := dataset.Hypothesis{Category: CategoryDiskCompaction, Statement: "Disk nearly full while compaction falls behind on " + c.Subject.Cluster}
	h.Status = status([]bool{dOK, cOK}, []bool{disk > r.DiskPct, rising(cpts, r.CompactionRise)})
	ev := ids(c, MetricDisk, MetricCompaction)
	if h.Status == dataset.HypothesisRefuted {
		h.Against = ev
		return candidate{h: h}
	}
	h.For = append(ev, issueIDs(c, "disk", "compaction")...)
	cause := fmt.Sprintf("BE disk usage reached %s%% (threshold %s%%) while the compaction score rose from %s to %s: compaction cannot keep up, versions pile up and the free space runs out",
		num(disk), num(r.DiskPct), num(first(cpts)), num(last(cpts)))
	return candidate{h: h, cause: cause, confidence: 0.7, fallback: []string{
		"Free disk space on the BEs (drop expired partitions, clean trash) or add capacity",
		"Check compaction threads and the tablets with the highest compaction score",
		"Slow down high-frequency loads until the compaction score falls"}}
}

func first(p []Point) float64 {
	if len(p) == 0 {
		return 0
	}
	return p[0].V
}

func last(p []Point) float64 {
	if len(p) == 0 {
		return 0
	}
	return p[len(p)-1].V
}

func (r *Rules) heapAfterUpdate(c *Case) candidate {
	heap, hOK := maxOf(c.Metrics[MetricFEHeap])
	var upd []int
	for i, op := range c.Operations {
		if op.Kind == OpUpdate {
			upd = append(upd, i)
		}
	}
	h := dataset.Hypothesis{Category: CategoryHeapAfterUpdate, Statement: "FE heap pressure after the recent update of " + c.Subject.Cluster}
	h.Status = status([]bool{hOK, c.Operations != nil || len(upd) > 0}, []bool{heap > r.HeapPct, len(upd) > 0})
	ev := ids(c, MetricFEHeap)
	for _, i := range upd {
		ev = append(ev, c.OperationEvidence[i])
	}
	if h.Status == dataset.HypothesisRefuted {
		h.Against = ev
		return candidate{h: h}
	}
	h.For = append(ev, issueIDs(c, "heap", "memory", "gc")...)
	cause := fmt.Sprintf("FE JVM heap use reached %s%% (threshold %s%%)", num(heap), num(r.HeapPct))
	if len(upd) > 0 {
		op := c.Operations[upd[len(upd)-1]]
		cause += fmt.Sprintf(" after the UPDATE operation at %s (%s): the new version or configuration needs more heap or leaks it",
			op.TS.UTC().Format("2006-01-02 15:04 UTC"), op.Detail)
	}
	return candidate{h: h, cause: cause, confidence: 0.65, fallback: []string{
		"Compare the FE heap settings and version before and after the update",
		"Take a heap histogram of the FE leader before restarting it",
		"Roll back the update if the heap keeps growing"}}
}

func (r *Rules) accountWide(c *Case) candidate {
	failing := func(m map[string][]Point) (bool, bool) {
		er, eOK := maxOf(m[MetricErrorRate])
		alive, aOK := minOf(m[MetricBEAlive])
		return (eOK && er > r.ErrorRatePct) || (aOK && alive < 100), eOK || aOK
	}
	self, sOK := failing(c.Metrics)
	h := dataset.Hypothesis{Category: CategoryAccountWide, Statement: "Failures shared with sibling clusters of " + c.Subject.Cluster}
	var sibs []string
	var sibNames []string
	anyKnown := false
	for _, s := range c.Siblings {
		bad, known := failing(s.Metrics)
		anyKnown = anyKnown || known || s.Issues != nil
		if bad || len(s.Issues) > 0 && sharesAlert(c, s) {
			sibNames = append(sibNames, s.Cluster.Name)
			for _, n := range []string{MetricErrorRate, MetricBEAlive} {
				if id := s.Evidence[n]; id != "" {
					sibs = append(sibs, id)
				}
			}
			for _, is := range s.Issues {
				sibs = append(sibs, s.Evidence[is.ID])
			}
		}
	}
	h.Status = status([]bool{sOK, anyKnown}, []bool{self, len(sibNames) > 0})
	ev := ids(c, MetricErrorRate, MetricBEAlive)
	if h.Status == dataset.HypothesisRefuted {
		h.Against = ev
		return candidate{h: h}
	}
	h.For = append(append(ev, sibs...), issueIDs(c, "error", "alive", "down", "fail")...)
	acct := ""
	if c.Cluster != nil && c.Cluster.Account != "" {
		acct = " of account " + c.Cluster.Account
	}
	cause := fmt.Sprintf("query failures and BE liveness problems on %s are also seen on %s%s: a shared cause (the account's network, credentials, quota or a version bug), not this cluster alone",
		c.Subject.Cluster, strings.Join(sibNames, ", "), acct)
	return candidate{h: h, cause: cause, confidence: 0.7, fallback: []string{
		"Check what the affected clusters share (account quota, network, credentials, version) before touching one cluster",
		"Open one incident for the account rather than one per cluster"}}
}

// sharesAlert reports whether a sibling has an issue with an alert name the
// cluster has too.
func sharesAlert(c *Case, s SiblingState) bool {
	for _, a := range c.Issues {
		for _, b := range s.Issues {
			for _, n := range a.AlertNames {
				if slices.Contains(b.AlertNames, n) {
					return true
				}
			}
		}
	}
	return false
}

func scanGrew(g *shadow.GroupReport, factor float64) bool {
	if g == nil || g.Profiles == nil {
		return false
	}
	p, s := g.Profiles.Primary, g.Profiles.Shadow
	grew := func(a, b *float64) bool { return a != nil && b != nil && *b >= *a*factor && *b > *a }
	return grew(p.MeanScanRows, s.MeanScanRows) || grew(p.MeanScanBytes, s.MeanScanBytes)
}

func (r *Rules) shadowRules(c *Case) []candidate {
	t := c.Task.Shadow
	fid := c.ShadowEvidence["finding"]
	switch t.Finding.Kind {
	case shadow.FindingRegression, shadow.FindingWindowRegression:
		g := c.ShadowGroup
		h := dataset.Hypothesis{Category: CategoryScanGrowth, Statement: "The shadow scans more for " + t.Finding.Group}
		known := g != nil && g.Profiles != nil && g.Profiles.Primary.Count > 0 && g.Profiles.Shadow.Count > 0
		h.Status = status([]bool{known}, []bool{scanGrew(g, r.ScanGrowth)})
		ev := []string{fid}
		for _, k := range []string{"group", "profiles", "explain", "variables"} {
			if id := c.ShadowEvidence[k]; id != "" {
				ev = append(ev, id)
			}
		}
		if h.Status == dataset.HypothesisRefuted {
			h.Against = ev
			return []candidate{{h: h}}
		}
		h.For = ev
		cause := "the shadow's plan reads more data for " + t.Finding.Group
		if known {
			cause += fmt.Sprintf(" (mean scan rows: primary %s, shadow %s)", ptrNum(g.Profiles.Primary.MeanScanRows), ptrNum(g.Profiles.Shadow.MeanScanRows))
		}
		if c.SideBySide != nil && len(c.SideBySide.Variables) > 0 {
			cause += fmt.Sprintf("; %d system variables differ between the sides", len(c.SideBySide.Variables))
		}
		cause += ": an index or partition pruning the primary uses is not used on the shadow"
		return []candidate{{h: h, cause: cause, confidence: 0.7, fallback: []string{
			"Compare EXPLAIN of the group's statement on both sides",
			"Check the shadow's indexes, statistics and the optimizer variables that differ",
			"Verify the fix with the baseline harness before the upgrade"}}}
	case shadow.FindingShadowFailure:
		h := dataset.Hypothesis{Category: CategoryShadowFailure, Statement: "Statements fail only on the shadow: " + t.Finding.Title, Status: dataset.HypothesisConfirmed, For: []string{fid}}
		if id := c.ShadowEvidence["failure"]; id != "" {
			h.For = append(h.For, id)
		}
		return []candidate{{h: h, cause: "the shadow rejects statements the primary runs (" + t.Finding.Title + ")", confidence: 0.8,
			fallback: []string{"Read the failing examples and the error code in the shadow version's release notes",
				"Fix the schema or SQL difference on the shadow, or the statement, before the upgrade"}}}
	case shadow.FindingResultMismatch, shadow.FindingColumnDifference:
		h := dataset.Hypothesis{Category: CategoryResultMismatch, Statement: "The shadow answers differently: " + t.Finding.Title, Status: dataset.HypothesisConfirmed, For: []string{fid}}
		return []candidate{{h: h, cause: "the shadow returns different results for " + t.Finding.Group, confidence: 0.75,
			fallback: []string{"Run the example statements on both sides and diff the rows with the baseline harness",
				"Check the data of both sides is the same snapshot"}}}
	}
	return nil
}

func ptrNum(v *float64) string {
	if v == nil {
		return "unknown"
	}
	return num(*v)
}
