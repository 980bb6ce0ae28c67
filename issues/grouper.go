package issues

import (
	"slices"
	"time"
)

// Grouper decides which issue a new alert joins, and when an open issue
// resolves by itself. The Tracker calls it under the cluster's lock, one
// alert at a time (a batch's firings first, each part in startsAt order), so
// it needs no locking of its own; it must not keep the issues it is given.
//
// A Grouper may also be a Classifier, as RuleGrouper is: the Tracker then
// uses it to tell whether a resolution releases its issue (only alerts of the
// issue's kind keep it Ongoing). Without it, every resolution does.
type Grouper interface {
	// Place chooses where alert a, new on its cluster, goes among the
	// cluster's open (Ongoing) issues, oldest first.
	Place(a *Alert, open []*Issue) Placement
	// Expired reports whether open issue is resolves at now although its
	// alerts are not all resolved (a quiet period, for instance).
	Expired(is *Issue, now time.Time) bool
}

// Classifier is a Grouper that also tells the kind of any alert, not only
// of those it places (see Grouper).
type Classifier interface {
	// KindOf returns the kind of alert a.
	KindOf(a *Alert) Kind
}

var _ Classifier = (*RuleGrouper)(nil)

// Placement is a Grouper's decision for one alert.
type Placement struct {
	// Kind is the alert's kind. An alert keeps an issue Ongoing only while
	// it fires and is of the issue's kind.
	Kind Kind
	// Issue is the open issue the alert joins (one of those given to
	// Place), or nil to open a new issue of Kind in Group.
	Issue *Issue
	// Group is the correlation group of a new failure issue.
	Group string
	// Escalate raises the joined issue's severity one step (firing alerts
	// only).
	Escalate bool
}

// CorrelationGroup is a set of alert names whose failures on one cluster
// belong together. An anomaly issue is linked to every group that holds one
// of its alert names; a failure joins (escalates) an open anomaly issue
// linked to its group.
type CorrelationGroup struct {
	// Name names the group (Issue.Group).
	Name string
	// Alerts are the alert names of the group. Empty means every name: the
	// default group.
	Alerts []string
}

// GrouperOptions configures the default grouper. The zero value (or nil)
// gives the defaults documented on each field.
type GrouperOptions struct {
	// Anomalies are the names of anomaly alerts. Default: OperationDurationGT,
	// HeapUsageTooHigh, MemoryUsageTooHigh, CPUUsageTooHigh,
	// QueryLatencyTooHigh, DiskUsageTooHigh.
	Anomalies []string
	// Failures are the names of failure alerts. Default: OperationAbnormal,
	// BeAliveAbnormal, QueryFailed, NodeDown, LoadFailed.
	Failures []string
	// Unknown is the kind of names in neither list. Default Failure.
	Unknown Kind
	// KindLabel names a label whose value ("anomaly" or "failure") overrides
	// the lists for one alert. Default "alert_kind"; "-" disables it.
	KindLabel string
	// Groups are the correlation groups; a failure name in none of them is a
	// group of its own, named after it. Default: one group "default" holding
	// every name.
	Groups []CorrelationGroup
	// SameNameWindow: a failure joins the open failure issue holding its
	// name if it started at most this long after the issue's last firing.
	// Default 30 min.
	SameNameWindow time.Duration
	// GroupWindow: else it joins the open failure issue of its correlation
	// group if it started at most this long after the issue's first firing.
	// Default 4 h.
	GroupWindow time.Duration
	// QuietPeriod: a failure issue resolves once this long has passed since
	// its last firing. Default 30 min.
	QuietPeriod time.Duration
}

// The default alert name lists (documented on GrouperOptions).
var (
	defaultAnomalies = []string{"OperationDurationGT", "HeapUsageTooHigh", "MemoryUsageTooHigh", "CPUUsageTooHigh", "QueryLatencyTooHigh", "DiskUsageTooHigh"}
	defaultFailures  = []string{"OperationAbnormal", "BeAliveAbnormal", "QueryFailed", "NodeDown", "LoadFailed"}
)

// RuleGrouper is the default Grouper:
//
//   - an anomaly joins the cluster's open anomaly issue, or opens one;
//   - a failure joins (escalation) the open anomaly issue linked to its
//     correlation group, raising its severity one step; else the open
//     failure issue holding its name if it started within SameNameWindow of
//     that issue's last firing; else the open failure issue of its group if
//     it started within GroupWindow of that issue's first firing; else it
//     opens a new failure issue;
//   - a failure issue resolves QuietPeriod after its last firing, or when
//     all its alerts are resolved; an anomaly issue when all its anomaly
//     alerts are resolved.
type RuleGrouper struct {
	kinds     map[string]Kind
	unknown   Kind
	kindLabel string
	groups    []CorrelationGroup
	sameName  time.Duration
	group     time.Duration
	quiet     time.Duration
}

// NewGrouper returns the default grouper configured by opts (nil for the
// defaults).
func NewGrouper(opts *GrouperOptions) *RuleGrouper {
	var o GrouperOptions
	if opts != nil {
		o = *opts
	}
	if o.Anomalies == nil {
		o.Anomalies = defaultAnomalies
	}
	if o.Failures == nil {
		o.Failures = defaultFailures
	}
	if o.Unknown == "" {
		o.Unknown = Failure
	}
	if o.KindLabel == "" {
		o.KindLabel = "alert_kind"
	} else if o.KindLabel == "-" {
		o.KindLabel = ""
	}
	if o.Groups == nil {
		o.Groups = []CorrelationGroup{{Name: "default"}}
	}
	if o.SameNameWindow <= 0 {
		o.SameNameWindow = 30 * time.Minute
	}
	if o.GroupWindow <= 0 {
		o.GroupWindow = 4 * time.Hour
	}
	if o.QuietPeriod <= 0 {
		o.QuietPeriod = 30 * time.Minute
	}
	g := &RuleGrouper{
		kinds: map[string]Kind{}, unknown: o.Unknown, kindLabel: o.KindLabel,
		sameName: o.SameNameWindow, group: o.GroupWindow, quiet: o.QuietPeriod,
	}
	for _, n := range o.Failures {
		g.kinds[n] = Failure
	}
	for _, n := range o.Anomalies {
		g.kinds[n] = Anomaly
	}
	for _, cg := range o.Groups {
		g.groups = append(g.groups, CorrelationGroup{Name: cg.Name, Alerts: slices.Clone(cg.Alerts)})
	}
	return g
}

// KindOf returns the kind of alert a.
func (g *RuleGrouper) KindOf(a *Alert) Kind {
	if g.kindLabel != "" {
		switch Kind(a.Labels[g.kindLabel]) {
		case Anomaly:
			return Anomaly
		case Failure:
			return Failure
		}
	}
	if k, ok := g.kinds[a.Name()]; ok {
		return k
	}
	return g.unknown
}

// GroupOf returns the correlation group of alert name.
func (g *RuleGrouper) GroupOf(name string) string {
	for _, cg := range g.groups {
		if len(cg.Alerts) == 0 || slices.Contains(cg.Alerts, name) {
			return cg.Name
		}
	}
	return name
}

// linked reports whether anomaly issue is is linked to correlation group.
func (g *RuleGrouper) linked(is *Issue, group string) bool {
	for _, cg := range g.groups {
		if cg.Name != group {
			continue
		}
		if len(cg.Alerts) == 0 {
			return true
		}
		for _, n := range is.AlertNames {
			if slices.Contains(cg.Alerts, n) {
				return true
			}
		}
	}
	return false
}

// Place implements Grouper.
func (g *RuleGrouper) Place(a *Alert, open []*Issue) Placement {
	kind := g.KindOf(a)
	if kind == Anomaly {
		for _, is := range open {
			if is.Kind == Anomaly {
				return Placement{Kind: Anomaly, Issue: is}
			}
		}
		return Placement{Kind: Anomaly}
	}
	name, group := a.Name(), g.GroupOf(a.Name())
	for _, is := range open {
		if is.Kind == Anomaly && g.linked(is, group) {
			return Placement{Kind: Failure, Issue: is, Escalate: true}
		}
	}
	var best *Issue
	for _, is := range open {
		if is.Kind == Failure && is.hasName(name) && !a.StartsAt.After(is.LastFiring.Add(g.sameName)) {
			if best == nil || is.LastFiring.After(best.LastFiring) {
				best = is
			}
		}
	}
	if best == nil {
		for _, is := range open {
			if is.Kind == Failure && is.Group == group && !a.StartsAt.After(is.FirstFiring.Add(g.group)) {
				if best == nil || is.FirstFiring.After(best.FirstFiring) {
					best = is
				}
			}
		}
	}
	return Placement{Kind: Failure, Issue: best, Group: group}
}

// Expired implements Grouper: failure issues resolve QuietPeriod after their
// last firing.
func (g *RuleGrouper) Expired(is *Issue, now time.Time) bool {
	return is.Kind == Failure && now.Sub(is.LastFiring) >= g.quiet
}
