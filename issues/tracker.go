package issues

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sqlshadow/sqlshadow/sink"
)

// TrackerOptions configures a Tracker. The zero value (or nil) gives the defaults
// documented on each field.
type TrackerOptions struct {
	// Grouper places alerts into issues. Default NewGrouper(nil).
	Grouper Grouper
	// IDScheme chooses the fields of message ids. Default IDFingerprint.
	IDScheme IDScheme
	// ClusterLabels are the label names that give an alert's cluster, the
	// first present wins. Default ["cluster_id", "cluster"]. Alerts with
	// none of them belong to the cluster "".
	ClusterLabels []string
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// SweepInterval is how often Run resolves expired issues. Default 1 min.
	SweepInterval time.Duration
	// Sink, if set, receives every new or changed issue as a
	// dataset.Issue record after it is stored, for the dataset.Issues
	// dataset. Write errors are counted and logged, never returned.
	Sink sink.Sink
	// Registerer registers the tracker's metrics (nil: not registered).
	Registerer prometheus.Registerer
	// Logger logs store and sink failures (nil: discard).
	Logger *slog.Logger
}

// Tracker ingests alerts idempotently into a Store and groups them into
// issues. It is safe for concurrent use; ingestion is serialised per
// cluster within the process. It starts no goroutine except inside Run.
type Tracker struct {
	store    Store
	grouper  Grouper
	scheme   IDScheme
	clusters []string
	now      func() time.Time
	sweep    time.Duration
	sink     sink.Sink
	log      *slog.Logger
	locks    keyedMutex
	m        *metrics
}

// NewTracker returns a Tracker that keeps its issues in store.
func NewTracker(store Store, opts *TrackerOptions) *Tracker {
	var o TrackerOptions
	if opts != nil {
		o = *opts
	}
	t := &Tracker{
		store: store, grouper: o.Grouper, scheme: o.IDScheme, clusters: o.ClusterLabels,
		now: o.Now, sweep: o.SweepInterval, sink: o.Sink, log: o.Logger,
		locks: keyedMutex{m: map[string]*lockEntry{}},
		m:     newMetrics(o.Registerer),
	}
	if t.grouper == nil {
		t.grouper = NewGrouper(nil)
	}
	if t.clusters == nil {
		t.clusters = []string{"cluster_id", "cluster"}
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.sweep <= 0 {
		t.sweep = time.Minute
	}
	if t.log == nil {
		t.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return t
}

// ClusterOf returns alert a's cluster.
func (t *Tracker) ClusterOf(a *Alert) string {
	for _, l := range t.clusters {
		if v, ok := a.Labels[l]; ok {
			return v
		}
	}
	return ""
}

// MessageID returns alert a's message id.
func (t *Tracker) MessageID(a *Alert) string {
	return t.scheme.messageID(a, t.ClusterOf(a), a.Status)
}

// Result reports what one Ingest did.
type Result struct {
	// Received counts the alerts given; New those stored for the first
	// time; Duplicates those already stored (or repeated in the batch).
	Received   int `json:"received"`
	New        int `json:"new"`
	Duplicates int `json:"duplicates"`
	// Issues are the ids of the issues the new alerts joined, sorted.
	Issues []string `json:"issues"`
}

type pending struct {
	alert *Alert
	id    string
	twin  string
}

// Ingest stores the alerts that are new and groups them into issues;
// alerts already stored are no-ops, so a source may deliver any number of
// times. It validates every alert first and ingests nothing if one is
// invalid (the error wraps ErrInvalidAlert). Clusters are ingested one at a
// time, each atomically: on a store error, the clusters before it stay
// ingested and a retry of the whole batch finishes the job.
func (t *Tracker) Ingest(ctx context.Context, alerts []Alert) (Result, error) {
	start := time.Now()
	res := Result{Received: len(alerts)}
	byCluster := map[string][]pending{}
	for i := range alerts {
		a := &alerts[i]
		if err := a.validate(i); err != nil {
			return Result{}, err
		}
		c := t.ClusterOf(a)
		if len(c) > maxName {
			return Result{}, &AlertError{Index: i, Reason: fmt.Sprintf("cluster over %d bytes", maxName)}
		}
		byCluster[c] = append(byCluster[c], pending{
			alert: a,
			id:    t.scheme.messageID(a, c, a.Status),
			twin:  t.scheme.messageID(a, c, other(a.Status)),
		})
	}
	issueSet := map[string]bool{}
	for _, c := range slices.Sorted(maps.Keys(byCluster)) {
		out, err := t.ingestCluster(ctx, c, byCluster[c])
		if err != nil {
			t.m.errors.Inc()
			t.log.Error("issues: ingest failed", "cluster", c, "err", err)
			return res, err
		}
		res.New += out.New
		res.Duplicates += out.Duplicates
		for _, id := range out.Issues {
			issueSet[id] = true
		}
	}
	res.Issues = append([]string{}, slices.Sorted(maps.Keys(issueSet))...)
	t.m.received.Add(float64(res.Received))
	t.m.duplicates.Add(float64(res.Duplicates))
	t.m.duration.Observe(time.Since(start).Seconds())
	return res, nil
}

func (t *Tracker) ingestCluster(ctx context.Context, cluster string, batch []pending) (Result, error) {
	// Firings first, so that a resolution in the same batch finds its
	// firing, and a resolution whose firing was never seen joins the issue
	// its batch opened; then by startsAt.
	slices.SortStableFunc(batch, func(a, b pending) int {
		if a.alert.Status != b.alert.Status {
			if a.alert.Status == StatusFiring {
				return -1
			}
			return 1
		}
		if c := a.alert.StartsAt.Compare(b.alert.StartsAt); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	q := Query{Cluster: cluster}
	for _, p := range batch {
		q.MessageIDs = append(q.MessageIDs, p.id, p.twin)
	}
	unlock, err := t.locks.lock(ctx, cluster)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	var res Result
	var ev events
	err = t.store.Update(ctx, q, func(st State) (Change, error) {
		w := t.newWork(cluster, st)
		res, ev = Result{}, events{}
		w.expire(&ev)
		for _, p := range batch {
			if _, dup := w.seen[p.id]; dup {
				res.Duplicates++
				continue
			}
			res.New++
			res.Issues = append(res.Issues, w.add(p, &ev))
		}
		ch := w.change()
		ev.changed = ch.Issues
		return ch, nil
	})
	if err != nil {
		return Result{}, err
	}
	t.emit(ctx, ev)
	return res, nil
}

// work is one Update's view of a cluster.
type work struct {
	t       *Tracker
	cluster string
	now     time.Time
	seen    map[string]string
	issues  map[string]*Issue
	open    []*Issue
	changed map[string]bool
	msgs    []Message
}

type events struct {
	opened    []Kind
	resolved  int
	escalated int
	reopened  int
	new       map[Status]int
	changed   []Issue
}

func (t *Tracker) newWork(cluster string, st State) *work {
	w := &work{
		t: t, cluster: cluster, now: t.now().UTC(), seen: maps.Clone(st.Seen),
		issues: map[string]*Issue{}, changed: map[string]bool{},
	}
	if w.seen == nil {
		w.seen = map[string]string{}
	}
	for i := range st.Issues {
		is := st.Issues[i].clone()
		w.issues[is.ID] = is
		if is.Status == Ongoing {
			w.open = append(w.open, is)
		}
	}
	sortOpen(w.open)
	return w
}

func sortOpen(open []*Issue) {
	slices.SortFunc(open, func(a, b *Issue) int {
		if c := a.FirstFiring.Compare(b.FirstFiring); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// expire resolves the open issues the grouper says have expired.
func (w *work) expire(ev *events) {
	var expired []*Issue
	for _, is := range w.open {
		if w.t.grouper.Expired(is, w.now) {
			expired = append(expired, is)
		}
	}
	for _, is := range expired {
		w.resolve(is, ev)
	}
}

func (w *work) resolve(is *Issue, ev *events) {
	is.Status, is.ResolvedAt, is.Updated = Resolved, w.now, w.now
	w.changed[is.ID] = true
	ev.resolved++
	w.open = slices.DeleteFunc(w.open, func(o *Issue) bool { return o == is })
}

// add stores one new message and returns the id of its issue.
func (w *work) add(p pending, ev *events) string {
	a := p.alert
	if ev.new == nil {
		ev.new = map[Status]int{}
	}
	ev.new[a.Status]++
	defer func() { w.seen[p.id] = w.msgs[len(w.msgs)-1].IssueID }()
	if twinIssue, ok := w.seen[p.twin]; ok {
		// The other half of this occurrence is stored: it already counts.
		if is := w.issues[twinIssue]; is != nil && a.Status == StatusResolved {
			if w.t.kindOf(a, is) == is.Kind && is.Firing > 0 {
				is.Firing--
				is.Updated = w.now
				w.changed[is.ID] = true
				if is.Firing == 0 && is.Status == Ongoing {
					w.resolve(is, ev)
				}
			}
		}
		w.record(p, twinIssue)
		return twinIssue
	}
	pl := w.t.grouper.Place(a, w.open)
	is := pl.Issue
	if is == nil {
		is = w.openIssue(p, pl, ev)
	}
	firing := a.Status == StatusFiring
	is.Alerts++
	is.addName(a.Name())
	if firing && pl.Kind == is.Kind {
		is.Firing++
	}
	if a.StartsAt.Before(is.FirstFiring) {
		is.FirstFiring = a.StartsAt.UTC()
	}
	if a.StartsAt.After(is.LastFiring) {
		is.LastFiring = a.StartsAt.UTC()
	}
	sev := ParseSeverity(a.Labels["severity"])
	switch {
	case pl.Escalate && pl.Issue != nil && firing:
		is.Severity = is.Severity.Raise()
		is.Escalations++
		ev.escalated++
	case !pl.Escalate:
		is.Severity = maxSeverity(is.Severity, sev)
	}
	if firing && is.Triage == TriageClosed {
		is.Triage, is.Disposition = TriageInvestigating, DispositionNew
		ev.reopened++
	}
	if is.Status == Ongoing && is.Firing == 0 && !firing && pl.Issue == nil {
		// A resolution whose firing was never seen opens a resolved issue.
		w.resolve(is, ev)
	}
	is.Updated = w.now
	w.changed[is.ID] = true
	w.record(p, is.ID)
	return is.ID
}

// kindOf is the kind of alert a, from the grouper if it is a Classifier
// (as RuleGrouper is), else the kind of the issue it joined.
func (t *Tracker) kindOf(a *Alert, is *Issue) Kind {
	if k, ok := t.grouper.(Classifier); ok {
		return k.KindOf(a)
	}
	return is.Kind
}

func (w *work) openIssue(p pending, pl Placement, ev *events) *Issue {
	a := p.alert
	sum := sha256.Sum256([]byte(w.cluster + "\x00" + p.id))
	title := a.Name()
	if s := a.Annotations["summary"]; s != "" {
		title += ": " + s
	}
	title = truncate(title, 1000)
	is := &Issue{
		ID: "iss_" + hex.EncodeToString(sum[:12]), Cluster: w.cluster, Kind: pl.Kind, Title: title,
		Severity: ParseSeverity(a.Labels["severity"]), Status: Ongoing,
		Triage: TriageNew, Disposition: DispositionNew,
		FirstFiring: a.StartsAt.UTC(), LastFiring: a.StartsAt.UTC(), Opened: w.now, Updated: w.now,
	}
	if pl.Kind == Failure {
		is.Group = pl.Group
	}
	w.issues[is.ID] = is
	w.open = append(w.open, is)
	sortOpen(w.open)
	ev.opened = append(ev.opened, pl.Kind)
	return is
}

func (w *work) record(p pending, issueID string) {
	w.msgs = append(w.msgs, Message{ID: p.id, Cluster: w.cluster, IssueID: issueID, Alert: *p.alert, Received: w.now})
}

func (w *work) change() Change {
	var ch Change
	for _, id := range slices.Sorted(maps.Keys(w.changed)) {
		ch.Issues = append(ch.Issues, *w.issues[id])
	}
	ch.Messages = w.msgs
	return ch
}

// emit counts what a committed Update did and writes changed issues to the
// sink.
func (t *Tracker) emit(ctx context.Context, ev events) {
	for _, k := range ev.opened {
		t.m.opened.WithLabelValues(string(k)).Inc()
	}
	for st, n := range ev.new {
		t.m.newAlerts.WithLabelValues(string(st)).Add(float64(n))
	}
	t.m.resolved.Add(float64(ev.resolved))
	t.m.escalated.Add(float64(ev.escalated))
	t.m.reopened.Add(float64(ev.reopened))
	if t.sink == nil {
		return
	}
	for i := range ev.changed {
		is := &ev.changed[i]
		if err := t.sink.Write(ctx, is.Updated, issueRecord(is)); err != nil {
			t.m.sinkErrors.Inc()
			t.log.Warn("issues: sink write failed", "issue", is.ID, "err", err)
		}
	}
}

// Triage applies a person's lifecycle change to issue id and returns the
// issue as stored. Rejected changes return a *TransitionError; an unknown
// id ErrNotFound.
func (t *Tracker) Triage(ctx context.Context, id string, c TriageChange) (Issue, error) {
	found, err := t.store.Issues(ctx, Filter{IDs: []string{id}})
	if err != nil {
		return Issue{}, err
	}
	if len(found) == 0 {
		return Issue{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	cluster := found[0].Cluster
	unlock, err := t.locks.lock(ctx, cluster)
	if err != nil {
		return Issue{}, err
	}
	defer unlock()
	var out Issue
	var ev events
	err = t.store.Update(ctx, Query{Cluster: cluster, IssueIDs: []string{id}}, func(st State) (Change, error) {
		ev = events{}
		var cur *Issue
		for i := range st.Issues {
			if st.Issues[i].ID == id {
				cur = st.Issues[i].clone()
			}
		}
		if cur == nil {
			return Change{}, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		if err := c.apply(cur); err != nil {
			return Change{}, err
		}
		cur.Updated = t.now().UTC()
		out = *cur
		ev.changed = []Issue{out}
		return Change{Issues: []Issue{out}}, nil
	})
	if err != nil {
		return Issue{}, err
	}
	t.m.triaged.WithLabelValues(string(out.Triage)).Inc()
	t.emit(ctx, ev)
	return out, nil
}

// Issues returns the issues matching f, newest first.
func (t *Tracker) Issues(ctx context.Context, f Filter) ([]Issue, error) {
	return t.store.Issues(ctx, f)
}

// Sweep resolves the open issues that have expired (a failure issue quiet
// for its quiet period) on every cluster. Ingest does the same on the
// clusters it touches; Sweep makes it visible on the others.
func (t *Tracker) Sweep(ctx context.Context) error {
	open, err := t.store.Issues(ctx, Filter{Status: Ongoing})
	if err != nil {
		return err
	}
	clusters := map[string]bool{}
	for i := range open {
		if t.grouper.Expired(&open[i], t.now().UTC()) {
			clusters[open[i].Cluster] = true
		}
	}
	var errs []error
	for _, c := range slices.Sorted(maps.Keys(clusters)) {
		if err := t.sweepCluster(ctx, c); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (t *Tracker) sweepCluster(ctx context.Context, cluster string) error {
	unlock, err := t.locks.lock(ctx, cluster)
	if err != nil {
		return err
	}
	defer unlock()
	var ev events
	err = t.store.Update(ctx, Query{Cluster: cluster}, func(st State) (Change, error) {
		w := t.newWork(cluster, st)
		ev = events{}
		w.expire(&ev)
		ch := w.change()
		ev.changed = ch.Issues
		return ch, nil
	})
	if err != nil {
		return err
	}
	t.emit(ctx, ev)
	return nil
}

// Run sweeps every SweepInterval until ctx ends, then returns nil. Sweep
// errors are logged and counted.
func (t *Tracker) Run(ctx context.Context) error {
	tick := time.NewTicker(t.sweep)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if err := t.Sweep(ctx); err != nil && ctx.Err() == nil {
				t.m.errors.Inc()
				t.log.Error("issues: sweep failed", "err", err)
			}
		}
	}
}

// keyedMutex is a set of per-key locks that a ctx can abandon waiting for.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*lockEntry
}

type lockEntry struct {
	ch   chan struct{}
	refs int
}

func (k *keyedMutex) lock(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	e := k.m[key]
	if e == nil {
		e = &lockEntry{ch: make(chan struct{}, 1)}
		k.m[key] = e
	}
	e.refs++
	k.mu.Unlock()
	release := func() {
		k.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
	select {
	case e.ch <- struct{}{}:
		return func() { <-e.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
