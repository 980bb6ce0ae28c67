package issues_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/issues"
	"github.com/sqlshadow/sqlshadow/issues/issuestest"
)

var base = issuestest.Base

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// alert is a firing alert of rule name on cluster c1, instance inst, started
// at base+at, with severity sev.
func alert(name, inst string, at time.Duration, sev string) issues.Alert {
	a := issuestest.Alert(name, "c1", inst, at)
	if sev != "" {
		a.Labels["severity"] = sev
	}
	return a
}

func resolved(a issues.Alert, at time.Duration) issues.Alert {
	a.Status, a.EndsAt = issues.StatusResolved, base.Add(at)
	return a
}

// step is one event of a grouping scenario.
type step struct {
	// now is the clock when the step runs (default: the alert's startsAt
	// plus 10 s).
	now time.Duration
	// alert is ingested, and must land in the issue labelled join: a label
	// seen before means that issue, a new label a new issue.
	alert *issues.Alert
	join  string
	// sweep runs Tracker.Sweep instead.
	sweep bool
	// triage applies a change to the issue labelled join.
	triage *issues.TriageChange
}

type want struct {
	status      issues.IssueStatus
	kind        issues.Kind
	alerts      int
	firing      int
	escalations int
	severity    issues.Severity
	names       []string
	triage      issues.TriageStatus
	disposition issues.Disposition
}

func ptr[T any](v T) *T { return &v }

func TestGrouping(t *testing.T) {
	heap := func(inst string, at time.Duration) issues.Alert { return alert("HeapUsageTooHigh", inst, at, "") }
	dur := func(inst string, at time.Duration) issues.Alert { return alert("OperationDurationGT", inst, at, "") }
	oa := func(inst string, at time.Duration) issues.Alert { return alert("OperationAbnormal", inst, at, "") }
	ba := func(inst string, at time.Duration) issues.Alert { return alert("BeAliveAbnormal", inst, at, "") }
	min := time.Minute
	tests := []struct {
		name    string
		grouper *issues.GrouperOptions
		steps   []step
		want    map[string]want
	}{{
		name: "anomalies on one cluster merge into one issue",
		steps: []step{
			{alert: ptr(heap("be1", 0)), join: "A"},
			{alert: ptr(dur("fe1", 90*min)), join: "A"},
			{alert: ptr(heap("be2", 5*time.Hour)), join: "A"},
			{alert: ptr(issuestest.Alert("HeapUsageTooHigh", "c2", "be1", 0)), join: "B"},
		},
		want: map[string]want{
			"A": {status: issues.Ongoing, kind: issues.Anomaly, alerts: 3, firing: 3, severity: issues.SeverityWarning, names: []string{"HeapUsageTooHigh", "OperationDurationGT"}},
			"B": {status: issues.Ongoing, kind: issues.Anomaly, alerts: 1, firing: 1, severity: issues.SeverityWarning, names: []string{"HeapUsageTooHigh"}},
		},
	}, {
		name: "an anomaly issue resolves when all its alerts are resolved, then a firing opens a new one",
		steps: []step{
			{alert: ptr(heap("be1", 0)), join: "A"},
			{alert: ptr(dur("fe1", 5*min)), join: "A"},
			{alert: ptr(resolved(heap("be1", 0), 10*min)), join: "A"},
			{alert: ptr(resolved(dur("fe1", 5*min), 3*time.Hour)), join: "A"},
			{alert: ptr(heap("be1", 4*time.Hour)), join: "B"},
		},
		want: map[string]want{
			"A": {status: issues.Resolved, kind: issues.Anomaly, alerts: 2, firing: 0, severity: issues.SeverityWarning, names: []string{"HeapUsageTooHigh", "OperationDurationGT"}},
			"B": {status: issues.Ongoing, kind: issues.Anomaly, alerts: 1, firing: 1, severity: issues.SeverityWarning, names: []string{"HeapUsageTooHigh"}},
		},
	}, {
		name: "failures: same name within 30 min of the last firing, then the correlation group within 4 h of the first",
		steps: []step{
			{alert: ptr(oa("fe1", 0)), join: "A"},
			{alert: ptr(ba("be1", 20*min)), join: "A"},                             // group, within 4 h
			{alert: ptr(oa("fe1", 45*min)), join: "A"},                             // same name, 45 <= 20+30
			{alert: ptr(ba("be2", 70*min)), join: "A"},                             // same name, 70 <= 45+30
			{alert: ptr(oa("fe2", 95*min)), join: "A"},                             // same name
			{alert: ptr(ba("be1", 120*min)), join: "A"},                            // same name
			{alert: ptr(oa("fe1", 145*min)), join: "A"},                            // same name
			{alert: ptr(ba("be3", 170*min)), join: "A"},                            // same name
			{alert: ptr(oa("fe3", 195*min)), join: "A"},                            // same name
			{alert: ptr(ba("be1", 220*min)), join: "A"},                            // same name
			{alert: ptr(oa("fe1", 239*min)), join: "A"},                            // same name
			{alert: ptr(alert("NodeDown", "be9", 241*min, "critical")), join: "B"}, // group, but 241 min > first + 4 h
			{alert: ptr(oa("fe4", 250*min)), join: "A"},                            // same name still wins
			{alert: ptr(ba("be4", 251*min)), join: "A"},
		},
		want: map[string]want{
			"A": {status: issues.Ongoing, kind: issues.Failure, alerts: 13, firing: 13, severity: issues.SeverityWarning, names: []string{"BeAliveAbnormal", "OperationAbnormal"}},
			"B": {status: issues.Ongoing, kind: issues.Failure, alerts: 1, firing: 1, severity: issues.SeverityCritical, names: []string{"NodeDown"}},
		},
	}, {
		name: "failures of different correlation groups stay apart; same name after 30 min is a new issue",
		grouper: &issues.GrouperOptions{
			Groups:      []issues.CorrelationGroup{{Name: "fe", Alerts: []string{"OperationAbnormal"}}, {Name: "be", Alerts: []string{"BeAliveAbnormal"}}},
			QuietPeriod: 10 * time.Hour,
		},
		steps: []step{
			{alert: ptr(oa("fe1", 0)), join: "A"},
			{alert: ptr(ba("be1", 1*min)), join: "B"},
			{alert: ptr(oa("fe2", 29*min)), join: "A"},
			{alert: ptr(oa("fe2", 60*min)), join: "A"},                  // group fe, within 4 h of first
			{alert: ptr(alert("NodeDown", "x", 61*min, "")), join: "C"}, // a group of its own
			{alert: ptr(oa("fe1", 5*time.Hour)), join: "D"},             // 5 h > 60 min + 30 and > 0 + 4 h
		},
		want: map[string]want{
			"A": {status: issues.Ongoing, kind: issues.Failure, alerts: 3, firing: 3, severity: issues.SeverityWarning, names: []string{"OperationAbnormal"}},
			"B": {status: issues.Ongoing, kind: issues.Failure, alerts: 1, firing: 1, severity: issues.SeverityWarning, names: []string{"BeAliveAbnormal"}},
			"C": {status: issues.Ongoing, kind: issues.Failure, alerts: 1, firing: 1, severity: issues.SeverityWarning, names: []string{"NodeDown"}},
			"D": {status: issues.Ongoing, kind: issues.Failure, alerts: 1, firing: 1, severity: issues.SeverityWarning, names: []string{"OperationAbnormal"}},
		},
	}, {
		name: "a failure issue resolves 30 min after its last firing (sweep or next ingest)",
		steps: []step{
			{alert: ptr(oa("fe1", 0)), join: "A"},
			{alert: ptr(oa("fe2", 10*min)), join: "A"},
			{now: 39 * min, sweep: true},
			{now: 40 * min, sweep: true},
			{alert: ptr(ba("be1", 41*min)), join: "B"},
			{alert: ptr(ba("be2", 80*min)), now: 80 * min, join: "C"}, // B expired at 71 min, lazily
		},
		want: map[string]want{
			"A": {status: issues.Resolved, kind: issues.Failure, alerts: 2, firing: 2, severity: issues.SeverityWarning, names: []string{"OperationAbnormal"}},
			"B": {status: issues.Resolved, kind: issues.Failure, alerts: 1, firing: 1, severity: issues.SeverityWarning, names: []string{"BeAliveAbnormal"}},
			"C": {status: issues.Ongoing, kind: issues.Failure, alerts: 1, firing: 1, severity: issues.SeverityWarning, names: []string{"BeAliveAbnormal"}},
		},
	}, {
		name: "several issues expire at once",
		grouper: &issues.GrouperOptions{
			Groups: []issues.CorrelationGroup{{Name: "fe", Alerts: []string{"OperationAbnormal"}}, {Name: "be", Alerts: []string{"BeAliveAbnormal"}}},
		},
		steps: []step{
			{alert: ptr(oa("fe1", 0)), join: "A"},
			{alert: ptr(ba("be1", 1*min)), join: "B"},
			{alert: ptr(alert("NodeDown", "x", 2*min, "")), join: "C"},
			{alert: ptr(heap("be1", 3*min)), join: "D"},
			{now: 3 * time.Hour, sweep: true},
		},
		want: map[string]want{
			"A": {status: issues.Resolved, kind: issues.Failure, alerts: 1, firing: 1, severity: issues.SeverityWarning, names: []string{"OperationAbnormal"}},
			"B": {status: issues.Resolved, kind: issues.Failure, alerts: 1, firing: 1, severity: issues.SeverityWarning, names: []string{"BeAliveAbnormal"}},
			"C": {status: issues.Resolved, kind: issues.Failure, alerts: 1, firing: 1, severity: issues.SeverityWarning, names: []string{"NodeDown"}},
			"D": {status: issues.Ongoing, kind: issues.Anomaly, alerts: 1, firing: 1, severity: issues.SeverityWarning, names: []string{"HeapUsageTooHigh"}},
		},
	}, {
		name: "a failure issue resolves when all its alerts are resolved",
		steps: []step{
			{alert: ptr(oa("fe1", 0)), join: "A"},
			{alert: ptr(ba("be1", 1*min)), join: "A"},
			{alert: ptr(resolved(oa("fe1", 0), 2*min)), join: "A"},
			{alert: ptr(resolved(ba("be1", 1*min), 3*min)), join: "A"},
			{alert: ptr(oa("fe1", 4*min)), join: "B"},
		},
		want: map[string]want{
			"A": {status: issues.Resolved, kind: issues.Failure, alerts: 2, firing: 0, severity: issues.SeverityWarning, names: []string{"BeAliveAbnormal", "OperationAbnormal"}},
			"B": {status: issues.Ongoing, kind: issues.Failure, alerts: 1, firing: 1, severity: issues.SeverityWarning, names: []string{"OperationAbnormal"}},
		},
	}, {
		name: "escalation: failures join the open anomaly issue and raise its severity one step each",
		steps: []step{
			{alert: ptr(alert("HeapUsageTooHigh", "be1", 0, "info")), join: "A"},
			{alert: ptr(oa("fe1", 5*min)), join: "A"},
			{alert: ptr(ba("be1", 6*min)), join: "A"},
			{alert: ptr(ba("be2", 7*min)), join: "A"}, // capped at critical
			{alert: ptr(resolved(oa("fe1", 5*min), 8*min)), join: "A"},
			{alert: ptr(resolved(alert("HeapUsageTooHigh", "be1", 0, "info"), 9*min)), join: "A"}, // failures do not hold it open
			{alert: ptr(oa("fe1", 10*min)), join: "B"},
		},
		want: map[string]want{
			"A": {status: issues.Resolved, kind: issues.Anomaly, alerts: 4, firing: 0, escalations: 3, severity: issues.SeverityCritical, names: []string{"BeAliveAbnormal", "HeapUsageTooHigh", "OperationAbnormal"}},
			"B": {status: issues.Ongoing, kind: issues.Failure, alerts: 1, firing: 1, severity: issues.SeverityWarning, names: []string{"OperationAbnormal"}},
		},
	}, {
		name: "escalation only into anomaly issues linked to the failure's correlation group",
		grouper: &issues.GrouperOptions{
			Groups: []issues.CorrelationGroup{{Name: "mem", Alerts: []string{"HeapUsageTooHigh", "OperationAbnormal"}}, {Name: "alive", Alerts: []string{"BeAliveAbnormal"}}},
		},
		steps: []step{
			{alert: ptr(heap("be1", 0)), join: "A"},
			{alert: ptr(ba("be1", 1*min)), join: "B"},
			{alert: ptr(oa("fe1", 2*min)), join: "A"},
		},
		want: map[string]want{
			"A": {status: issues.Ongoing, kind: issues.Anomaly, alerts: 2, firing: 1, escalations: 1, severity: issues.SeverityCritical, names: []string{"HeapUsageTooHigh", "OperationAbnormal"}},
			"B": {status: issues.Ongoing, kind: issues.Failure, alerts: 1, firing: 1, severity: issues.SeverityWarning, names: []string{"BeAliveAbnormal"}},
		},
	}, {
		name: "a new firing reopens a Closed issue as Investigating",
		steps: []step{
			{alert: ptr(oa("fe1", 0)), join: "A"},
			{now: time.Minute, join: "A", triage: &issues.TriageChange{Triage: issues.TriageClosed, Disposition: issues.DispositionTicketCreated}},
			{alert: ptr(oa("fe2", 5*min)), join: "A"},
		},
		want: map[string]want{
			"A": {status: issues.Ongoing, kind: issues.Failure, alerts: 2, firing: 2, severity: issues.SeverityWarning, names: []string{"OperationAbnormal"}, triage: issues.TriageInvestigating, disposition: issues.DispositionNew},
		},
	}, {
		name: "a resolution whose firing was never seen opens a resolved issue; the late firing is a no-op",
		steps: []step{
			{alert: ptr(resolved(oa("fe1", 0), 3*min)), join: "A"},
			{alert: ptr(oa("fe1", 0)), join: "A"},
			{alert: ptr(oa("fe2", 4*min)), join: "B"},
		},
		want: map[string]want{
			"A": {status: issues.Resolved, kind: issues.Failure, alerts: 1, firing: 0, severity: issues.SeverityWarning, names: []string{"OperationAbnormal"}},
			"B": {status: issues.Ongoing, kind: issues.Failure, alerts: 1, firing: 1, severity: issues.SeverityWarning, names: []string{"OperationAbnormal"}},
		},
	}, {
		name: "the kind label overrides the name lists; unknown names are failures",
		steps: []step{
			{alert: ptr(alert("SomethingOdd", "x", 0, "")), join: "A"},
			{alert: func() *issues.Alert {
				a := alert("SlowDisk", "x", 1*min, "")
				a.Labels["alert_kind"] = "anomaly"
				return &a
			}(), join: "B"},
		},
		want: map[string]want{
			"A": {status: issues.Ongoing, kind: issues.Failure, alerts: 1, firing: 1, severity: issues.SeverityWarning, names: []string{"SomethingOdd"}},
			"B": {status: issues.Ongoing, kind: issues.Anomaly, alerts: 1, firing: 1, severity: issues.SeverityWarning, names: []string{"SlowDisk"}},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runScenario(t, issues.NewMemoryStore(), tc.grouper, tc.steps, tc.want)
		})
	}
}

func runScenario(t *testing.T, store issues.Store, g *issues.GrouperOptions, steps []step, wants map[string]want) {
	t.Helper()
	ctx := context.Background()
	clk := &fakeClock{t: base}
	tr := issues.NewTracker(store, &issues.TrackerOptions{Grouper: issues.NewGrouper(g), Now: clk.Now})
	labels := map[string]string{}
	for i, s := range steps {
		switch {
		case s.now != 0:
			clk.Set(base.Add(s.now))
		case s.alert != nil && s.alert.Status == issues.StatusResolved:
			clk.Set(s.alert.EndsAt.Add(10 * time.Second))
		case s.alert != nil:
			clk.Set(s.alert.StartsAt.Add(10 * time.Second))
		}
		what := fmt.Sprintf("step %d", i)
		switch {
		case s.sweep:
			require.NoError(t, tr.Sweep(ctx), what)
		case s.triage != nil:
			_, err := tr.Triage(ctx, labels[s.join], *s.triage)
			require.NoError(t, err, what)
		default:
			// Deliver twice: the second is a duplicate.
			res, err := tr.Ingest(ctx, []issues.Alert{*s.alert})
			require.NoError(t, err, what)
			require.Equal(t, 1, res.New+res.Duplicates, what)
			require.Equal(t, 1, res.New, what)
			require.Len(t, res.Issues, 1, what)
			again, err := tr.Ingest(ctx, []issues.Alert{*s.alert})
			require.NoError(t, err, what)
			require.Equal(t, 1, again.Duplicates, what)
			id := res.Issues[0]
			if prev, ok := labels[s.join]; ok {
				require.Equal(t, prev, id, "%s: want issue %s", what, s.join)
			} else {
				for l, other := range labels {
					require.NotEqual(t, other, id, "%s: want a new issue %s, joined %s", what, s.join, l)
				}
				labels[s.join] = id
			}
		}
	}
	all, err := tr.Issues(ctx, issues.Filter{})
	require.NoError(t, err)
	require.Len(t, all, len(wants))
	for l, w := range wants {
		list, err := tr.Issues(ctx, issues.Filter{IDs: []string{labels[l]}})
		require.NoError(t, err)
		require.Len(t, list, 1, l)
		is := list[0]
		if w.triage == "" {
			w.triage = issues.TriageNew
		}
		if w.disposition == "" {
			w.disposition = issues.DispositionNew
		}
		got := want{
			status: is.Status, kind: is.Kind, alerts: is.Alerts, firing: is.Firing, escalations: is.Escalations,
			severity: is.Severity, names: is.AlertNames, triage: is.Triage, disposition: is.Disposition,
		}
		require.Equal(t, w, got, "issue %s", l)
		require.Equal(t, is.Status == issues.Resolved, !is.ResolvedAt.IsZero(), l)
	}
}

func TestTriageTransitions(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		path []issues.TriageChange
		ok   bool
	}{
		{[]issues.TriageChange{{Triage: issues.TriageAcknowledged}, {Triage: issues.TriageInvestigating}, {Triage: issues.TriageMitigating}, {Triage: issues.TriageClosed}, {Disposition: issues.DispositionNoActionNeeded}}, true},
		{[]issues.TriageChange{{Triage: issues.TriageClosed, Disposition: issues.DispositionTicketCreated}}, true},
		{[]issues.TriageChange{{Triage: issues.TriageAcknowledged}, {Triage: issues.TriageClosed}}, true},
		{[]issues.TriageChange{{Triage: issues.TriageInvestigating}}, false},                                     // skips a step
		{[]issues.TriageChange{{Triage: issues.TriageAcknowledged}, {Triage: issues.TriageNew}}, false},          // backwards
		{[]issues.TriageChange{{Triage: issues.TriageAcknowledged}, {Triage: issues.TriageAcknowledged}}, false}, // no move
		{[]issues.TriageChange{{Triage: issues.TriageClosed}, {Triage: issues.TriageInvestigating}}, false},      // only a firing reopens
		{[]issues.TriageChange{{Disposition: issues.DispositionTicketCreated}}, false},                           // not closed
		{[]issues.TriageChange{{Triage: issues.TriageClosed, Disposition: issues.DispositionTicketCreated}, {Disposition: issues.DispositionNoActionNeeded}}, false},
		{[]issues.TriageChange{{Triage: "Done"}}, false},
		{[]issues.TriageChange{{Triage: issues.TriageClosed, Disposition: "Fixed"}}, false},
		{[]issues.TriageChange{{}}, false},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			tr := issues.NewTracker(issues.NewMemoryStore(), &issues.TrackerOptions{Now: func() time.Time { return base }})
			res, err := tr.Ingest(ctx, []issues.Alert{alert("OperationAbnormal", "fe1", 0, "")})
			require.NoError(t, err)
			id := res.Issues[0]
			for k, c := range tc.path {
				before, err := tr.Issues(ctx, issues.Filter{IDs: []string{id}})
				require.NoError(t, err)
				is, err := tr.Triage(ctx, id, c)
				if k < len(tc.path)-1 || tc.ok {
					require.NoError(t, err, "change %d", k)
					continue
				}
				require.ErrorIs(t, err, issues.ErrInvalidTransition)
				var te *issues.TransitionError
				require.ErrorAs(t, err, &te)
				require.NotEmpty(t, te.Reason)
				after, err := tr.Issues(ctx, issues.Filter{IDs: []string{id}})
				require.NoError(t, err)
				require.Equal(t, before, after, "a rejected change changes nothing")
				_ = is
			}
		})
	}
	tr := issues.NewTracker(issues.NewMemoryStore(), nil)
	_, err := tr.Triage(ctx, "iss_nope", issues.TriageChange{Triage: issues.TriageClosed})
	require.ErrorIs(t, err, issues.ErrNotFound)
}

func TestMessageIDs(t *testing.T) {
	tr := issues.NewTracker(issues.NewMemoryStore(), nil)
	a := alert("OperationAbnormal", "fe1", 0, "")
	id := tr.MessageID(&a)
	require.Regexp(t, `^wh_[0-9a-f]{64}$`, id)
	b := alert("OperationAbnormal", "fe1", 0, "")
	b.Annotations = map[string]string{"summary": "changed text"}
	require.Equal(t, id, tr.MessageID(&b), "annotations are not identity")
	c := alert("OperationAbnormal", "fe2", 0, "")
	require.NotEqual(t, id, tr.MessageID(&c), "two instances are two alerts")
	d := resolved(a, time.Minute)
	require.NotEqual(t, id, tr.MessageID(&d), "the resolution is another message")
	e := alert("OperationAbnormal", "fe1", time.Second, "")
	require.NotEqual(t, id, tr.MessageID(&e), "a new occurrence is another message")
	f := a
	f.Fingerprint = "0123456789abcdef"
	g := a
	g.Fingerprint = "0123456789abcdef"
	g.Labels = map[string]string{"alertname": "x"}
	require.Equal(t, tr.MessageID(&f), tr.MessageID(&g), "the fingerprint stands for the labels")
	// Length prefixes: moving a byte between label name and value changes the id.
	h1 := issues.Alert{Source: "wh", Status: issues.StatusFiring, StartsAt: base, Labels: map[string]string{"ab": "c"}}
	h2 := issues.Alert{Source: "wh", Status: issues.StatusFiring, StartsAt: base, Labels: map[string]string{"a": "bc"}}
	require.NotEqual(t, tr.MessageID(&h1), tr.MessageID(&h2))
	src := a
	src.Source = "pd"
	require.Regexp(t, `^pd_[0-9a-f]{64}$`, tr.MessageID(&src))

	labels := issues.NewTracker(issues.NewMemoryStore(), &issues.TrackerOptions{IDScheme: issues.IDLabels})
	require.NotEqual(t, labels.MessageID(&f), labels.MessageID(&g), "IDLabels ignores fingerprints")

	legacy := issues.NewTracker(issues.NewMemoryStore(), &issues.TrackerOptions{IDScheme: issues.IDLegacy})
	require.Equal(t, legacy.MessageID(&a), legacy.MessageID(&c), "the legacy formula merges instances")
	require.Regexp(t, `^wh_[0-9a-f]{64}$`, legacy.MessageID(&a))
}

func TestClusterLabels(t *testing.T) {
	tr := issues.NewTracker(issues.NewMemoryStore(), nil)
	a := issues.Alert{Labels: map[string]string{"cluster": "b", "cluster_id": "a"}}
	require.Equal(t, "a", tr.ClusterOf(&a))
	delete(a.Labels, "cluster_id")
	require.Equal(t, "b", tr.ClusterOf(&a))
	delete(a.Labels, "cluster")
	require.Equal(t, "", tr.ClusterOf(&a))
	custom := issues.NewTracker(issues.NewMemoryStore(), &issues.TrackerOptions{ClusterLabels: []string{"k8s_cluster"}})
	a.Labels["k8s_cluster"] = "k"
	require.Equal(t, "k", custom.ClusterOf(&a))
}

func TestIngestRejectsInvalidAlerts(t *testing.T) {
	tr := issues.NewTracker(issues.NewMemoryStore(), nil)
	good := alert("OperationAbnormal", "fe1", 0, "")
	for name, mut := range map[string]func(*issues.Alert){
		"no source":    func(a *issues.Alert) { a.Source = "" },
		"bad source":   func(a *issues.Alert) { a.Source = "W_H" },
		"status":       func(a *issues.Alert) { a.Status = "pending" },
		"no labels":    func(a *issues.Alert) { a.Labels = nil },
		"no start":     func(a *issues.Alert) { a.StartsAt = time.Time{} },
		"long name":    func(a *issues.Alert) { a.Labels["alertname"] = strings.Repeat("x", 256) },
		"long cluster": func(a *issues.Alert) { a.Labels["cluster_id"] = strings.Repeat("x", 256) },
	} {
		bad := alert("OperationAbnormal", "fe2", 0, "")
		mut(&bad)
		_, err := tr.Ingest(context.Background(), []issues.Alert{good, bad})
		require.ErrorIs(t, err, issues.ErrInvalidAlert, name)
		var ae *issues.AlertError
		require.ErrorAs(t, err, &ae, name)
		require.Equal(t, 1, ae.Index, name)
	}
	list, err := tr.Issues(context.Background(), issues.Filter{})
	require.NoError(t, err)
	require.Empty(t, list, "nothing of an invalid batch is ingested")
}

func TestLongSummaryIsCut(t *testing.T) {
	tr := issues.NewTracker(issues.NewMemoryStore(), nil)
	a := alert("OperationAbnormal", "fe1", 0, "")
	a.Annotations = map[string]string{"summary": strings.Repeat("é", 2000)}
	_, err := tr.Ingest(context.Background(), []issues.Alert{a})
	require.NoError(t, err)
	list, err := tr.Issues(context.Background(), issues.Filter{})
	require.NoError(t, err)
	require.LessOrEqual(t, len(list[0].Title), 1000)
	require.True(t, utf8.ValidString(list[0].Title))
}

func TestRunSweepsUntilCancelled(t *testing.T) {
	clk := &fakeClock{t: base}
	tr := issues.NewTracker(issues.NewMemoryStore(), &issues.TrackerOptions{Now: clk.Now, SweepInterval: 5 * time.Millisecond})
	_, err := tr.Ingest(context.Background(), []issues.Alert{alert("OperationAbnormal", "fe1", 0, "")})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tr.Run(ctx) }()
	clk.Set(base.Add(time.Hour))
	waitFor(t, 30*time.Second, "the sweep", func() bool {
		list, err := tr.Issues(context.Background(), issues.Filter{Status: issues.Resolved})
		return err == nil && len(list) == 1
	})
	cancel()
	require.NoError(t, <-done)
}
