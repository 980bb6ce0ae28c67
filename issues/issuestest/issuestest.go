// Package issuestest is the conformance suite every issues.Store passes:
// the in-memory store, the SQL store on MariaDB, and stores users write.
//
//	func TestMemoryStore(t *testing.T) {
//		issuestest.TestStore(t, func(t *testing.T) issues.Store { return issues.NewMemoryStore() }, nil)
//	}
//
// It checks the Store contract (what Update loads, that Change is written
// atomically or not at all, Issues filters and order, exact round trips of
// issues and, for an issues.MessageLister, of messages) and, through
// issues.Tracker, the behaviour users see: re-deliveries are no-ops (with
// hashed or explicit message ids) and parallel duplicate deliveries create
// one issue. A store that is an issues.FiringCounter must be one (the
// suite fails otherwise); its counts are checked.
package issuestest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/issues"
)

// TestStoreOptions configures TestStore. nil means the zero value.
type TestStoreOptions struct {
	// Reopen, if set, returns another handle on the data of s, as another
	// tracker process would open it. The suite then checks that two
	// trackers sharing the data still create each issue once. Leave it nil
	// for stores that must have a single writer.
	Reopen func(t *testing.T, s issues.Store) issues.Store
}

// Base is the time the suite's alerts start at.
var Base = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// harness is what the tests get: how to make stores and reopen them.
type harness struct {
	NewStore func(t *testing.T) issues.Store
	Reopen   func(t *testing.T, s issues.Store) issues.Store
}

// TestStore runs the conformance suite on the stores newStore returns: each
// call returns a new, empty store, which the test cleans up.
func TestStore(t *testing.T, newStore func(t *testing.T) issues.Store, opts *TestStoreOptions) {
	h := harness{NewStore: newStore}
	if opts != nil {
		h.Reopen = opts.Reopen
	}
	t.Run("EmptyState", func(t *testing.T) { testEmptyState(t, h) })
	t.Run("ChangeIsWrittenAndLoaded", func(t *testing.T) { testChangeRoundTrip(t, h) })
	t.Run("LargeChange", func(t *testing.T) { testLargeChange(t, h) })
	t.Run("FnErrorWritesNothing", func(t *testing.T) { testFnError(t, h) })
	t.Run("StateHoldsOngoingAndAsked", func(t *testing.T) { testStateContents(t, h) })
	t.Run("IssuesFilterAndOrder", func(t *testing.T) { testIssuesFilter(t, h) })
	t.Run("RedeliveryIsNoOp", func(t *testing.T) { testRedelivery(t, h) })
	t.Run("ParallelDuplicatesOneIssue", func(t *testing.T) { testParallelDuplicates(t, h, false) })
	t.Run("ExplicitIDs", func(t *testing.T) { testExplicitIDs(t, h) })
	t.Run("CountFiring", func(t *testing.T) { testCountFiring(t, h) })
	if h.Reopen != nil {
		t.Run("TwoTrackersOneIssue", func(t *testing.T) { testParallelDuplicates(t, h, true) })
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// Sample returns a complete issue for round-trip checks.
func Sample(id, cluster string, opened time.Time) issues.Issue {
	return issues.Issue{
		ID: id, Cluster: cluster, Kind: issues.Failure, Group: "default", Title: "OperationAbnormal: boom ü",
		Severity: issues.SeverityCritical, Status: issues.Ongoing, Triage: issues.TriageNew,
		Disposition: issues.DispositionNew, AlertNames: []string{"BeAliveAbnormal", "OperationAbnormal"},
		Alerts: 3, Firing: 2, Escalations: 1,
		FirstFiring: Base.Add(123456 * time.Microsecond), LastFiring: Base.Add(time.Minute),
		Opened: opened, Updated: opened.Add(time.Second),
	}
}

// Msg returns a message for issue issueID.
func Msg(id, cluster, issueID string) issues.Message {
	return issues.Message{
		ID: id, Cluster: cluster, IssueID: issueID, Received: Base,
		Alert: issues.Alert{
			Source: "wh", Status: issues.StatusFiring, StartsAt: Base, Fingerprint: "abc",
			Labels:      map[string]string{"alertname": "OperationAbnormal", "cluster_id": cluster},
			Annotations: map[string]string{"summary": "s"},
		},
	}
}

func testEmptyState(t *testing.T, h harness) {
	s := h.NewStore(t)
	calls := 0
	err := s.Update(ctx(t), issues.Query{Cluster: "c1", MessageIDs: []string{"wh_x"}, IssueIDs: []string{"iss_x"}},
		func(st issues.State) (issues.Change, error) {
			calls++
			require.Empty(t, st.Seen)
			require.Empty(t, st.Issues)
			return issues.Change{}, nil
		})
	require.NoError(t, err)
	require.Equal(t, 1, calls)
	list, err := s.Issues(ctx(t), issues.Filter{})
	require.NoError(t, err)
	require.Empty(t, list)
}

func update(t *testing.T, s issues.Store, q issues.Query, ch issues.Change) issues.State {
	t.Helper()
	var got issues.State
	require.NoError(t, s.Update(ctx(t), q, func(st issues.State) (issues.Change, error) {
		got = st
		return ch, nil
	}))
	return got
}

func testChangeRoundTrip(t *testing.T, h harness) {
	s := h.NewStore(t)
	is := Sample("iss_1", "c1", Base.Add(2*time.Hour))
	is.ResolvedAt = time.Time{}
	update(t, s, issues.Query{Cluster: "c1"}, issues.Change{
		Issues: []issues.Issue{is}, Messages: []issues.Message{Msg("wh_1", "c1", "iss_1"), Msg("wh_2", "c1", "iss_1")},
	})
	st := update(t, s, issues.Query{Cluster: "c1", MessageIDs: []string{"wh_1", "wh_2", "wh_3"}}, issues.Change{})
	require.Equal(t, map[string]string{"wh_1": "iss_1", "wh_2": "iss_1"}, st.Seen)
	require.Len(t, st.Issues, 1)
	requireIssue(t, is, st.Issues[0])

	// Replace it: resolved, with new tallies.
	is.Status, is.Firing, is.ResolvedAt = issues.Resolved, 0, Base.Add(3*time.Hour)
	is.AlertNames = append(is.AlertNames, "NodeDown")
	update(t, s, issues.Query{Cluster: "c1"}, issues.Change{Issues: []issues.Issue{is}})
	list, err := s.Issues(ctx(t), issues.Filter{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	requireIssue(t, is, list[0])
}

func requireIssue(t *testing.T, want, got issues.Issue) {
	t.Helper()
	for _, p := range []*issues.Issue{&want, &got} {
		p.FirstFiring, p.LastFiring = p.FirstFiring.UTC(), p.LastFiring.UTC()
		p.Opened, p.Updated, p.ResolvedAt = p.Opened.UTC(), p.Updated.UTC(), p.ResolvedAt.UTC()
	}
	require.Equal(t, want, got)
}

// testLargeChange writes and loads more rows than one statement holds.
func testLargeChange(t *testing.T, h harness) {
	s := h.NewStore(t)
	var ch issues.Change
	var ids []string
	for i := range 450 {
		is := Sample(fmt.Sprintf("iss_%03d", i), "c1", Base.Add(time.Duration(i)*time.Second))
		ch.Issues = append(ch.Issues, is)
		id := fmt.Sprintf("wh_%03d", i)
		ch.Messages = append(ch.Messages, Msg(id, "c1", is.ID))
		ids = append(ids, id)
	}
	update(t, s, issues.Query{Cluster: "c1"}, ch)
	st := update(t, s, issues.Query{Cluster: "c1", MessageIDs: ids}, issues.Change{})
	require.Len(t, st.Seen, 450)
	require.Len(t, st.Issues, 450)
	require.Equal(t, "iss_123", st.Seen["wh_123"])
}

func testFnError(t *testing.T, h harness) {
	s := h.NewStore(t)
	boom := errors.New("boom")
	err := s.Update(ctx(t), issues.Query{Cluster: "c1"}, func(issues.State) (issues.Change, error) {
		return issues.Change{Issues: []issues.Issue{Sample("iss_1", "c1", Base)}}, boom
	})
	require.ErrorIs(t, err, boom)
	list, err := s.Issues(ctx(t), issues.Filter{})
	require.NoError(t, err)
	require.Empty(t, list)
}

func testStateContents(t *testing.T, h harness) {
	s := h.NewStore(t)
	open1 := Sample("iss_open", "c1", Base)
	res1 := Sample("iss_res", "c1", Base)
	res1.Status = issues.Resolved
	res1.ResolvedAt = Base.Add(time.Hour)
	res2 := Sample("iss_res2", "c1", Base)
	res2.Status = issues.Resolved
	res2.ResolvedAt = Base.Add(time.Hour)
	other := Sample("iss_other", "c2", Base)
	update(t, s, issues.Query{Cluster: "c1"}, issues.Change{
		Issues:   []issues.Issue{open1, res1, res2},
		Messages: []issues.Message{Msg("wh_a", "c1", "iss_res2")},
	})
	update(t, s, issues.Query{Cluster: "c2"}, issues.Change{Issues: []issues.Issue{other}})

	ids := func(st issues.State) map[string]bool {
		m := map[string]bool{}
		for _, is := range st.Issues {
			require.False(t, m[is.ID], "issue %s loaded twice", is.ID)
			m[is.ID] = true
		}
		return m
	}
	st := update(t, s, issues.Query{Cluster: "c1"}, issues.Change{})
	require.Equal(t, map[string]bool{"iss_open": true}, ids(st))
	st = update(t, s, issues.Query{Cluster: "c1", IssueIDs: []string{"iss_res", "iss_open"}}, issues.Change{})
	require.Equal(t, map[string]bool{"iss_open": true, "iss_res": true}, ids(st))
	st = update(t, s, issues.Query{Cluster: "c1", MessageIDs: []string{"wh_a"}}, issues.Change{})
	require.Equal(t, map[string]bool{"iss_open": true, "iss_res2": true}, ids(st))
	st = update(t, s, issues.Query{Cluster: "c2"}, issues.Change{})
	require.Equal(t, map[string]bool{"iss_other": true}, ids(st))
}

func testIssuesFilter(t *testing.T, h harness) {
	s := h.NewStore(t)
	var all []issues.Issue
	for i := range 6 {
		is := Sample(fmt.Sprintf("iss_%d", i), fmt.Sprintf("c%d", i%2), Base.Add(time.Duration(i)*time.Minute))
		if i%3 == 0 {
			is.Status, is.ResolvedAt = issues.Resolved, Base.Add(time.Hour)
		}
		if i == 4 {
			is.Triage = issues.TriageAcknowledged
		}
		all = append(all, is)
	}
	for _, c := range []string{"c0", "c1"} {
		var mine []issues.Issue
		for _, is := range all {
			if is.Cluster == c {
				mine = append(mine, is)
			}
		}
		update(t, s, issues.Query{Cluster: c}, issues.Change{Issues: mine})
	}
	idsOf := func(f issues.Filter) []string {
		list, err := s.Issues(ctx(t), f)
		require.NoError(t, err)
		out := []string{}
		for _, is := range list {
			out = append(out, is.ID)
		}
		return out
	}
	require.Equal(t, []string{"iss_5", "iss_4", "iss_3", "iss_2", "iss_1", "iss_0"}, idsOf(issues.Filter{}))
	require.Equal(t, []string{"iss_5", "iss_3", "iss_1"}, idsOf(issues.Filter{Cluster: "c1"}))
	require.Equal(t, []string{"iss_5", "iss_4", "iss_2", "iss_1"}, idsOf(issues.Filter{Status: issues.Ongoing}))
	require.Equal(t, []string{"iss_4"}, idsOf(issues.Filter{Triage: issues.TriageAcknowledged}))
	require.Equal(t, []string{"iss_5", "iss_1"}, idsOf(issues.Filter{Cluster: "c1", Status: issues.Ongoing}))
	require.Equal(t, []string{"iss_3", "iss_0"}, idsOf(issues.Filter{IDs: []string{"iss_0", "iss_3", "nope"}}))
	require.Equal(t, []string{"iss_5", "iss_4"}, idsOf(issues.Filter{Limit: 2}))
}

// Alert returns a firing webhook alert of rule name on cluster, instance
// inst, started at Base+offset.
func Alert(name, cluster, inst string, offset time.Duration) issues.Alert {
	return issues.Alert{
		Source: "wh", Status: issues.StatusFiring, StartsAt: Base.Add(offset),
		Labels: map[string]string{"alertname": name, "cluster_id": cluster, "instance": inst, "severity": "warning"},
	}
}

func clock() func() time.Time {
	return func() time.Time { return Base.Add(time.Minute) }
}

func testRedelivery(t *testing.T, h harness) {
	s := h.NewStore(t)
	tr := issues.NewTracker(s, &issues.TrackerOptions{Now: clock()})
	batch := []issues.Alert{
		Alert("OperationAbnormal", "c1", "fe1", 0),
		Alert("OperationAbnormal", "c1", "fe2", 0), // another instance: another alert
		Alert("OperationAbnormal", "c2", "fe1", 0),
	}
	first, err := tr.Ingest(ctx(t), batch)
	require.NoError(t, err)
	require.Equal(t, 3, first.New)
	for range 3 {
		again, err := tr.Ingest(ctx(t), batch)
		require.NoError(t, err)
		require.Equal(t, 0, again.New)
		require.Equal(t, 3, again.Duplicates)
		require.Empty(t, again.Issues)
	}
	list, err := tr.Issues(ctx(t), issues.Filter{})
	require.NoError(t, err)
	require.Len(t, list, 2)
	for _, is := range list {
		want := map[string]int{"c1": 2, "c2": 1}[is.Cluster]
		require.Equal(t, want, is.Alerts, is.Cluster)
		require.Equal(t, want, is.Firing, is.Cluster)
	}
	// The resolution of one instance is one more message, then a no-op.
	res := batch[0]
	res.Status, res.EndsAt = issues.StatusResolved, Base.Add(30*time.Second)
	for i := range 2 {
		r, err := tr.Ingest(ctx(t), []issues.Alert{res})
		require.NoError(t, err)
		require.Equal(t, 1-i, r.New)
	}
	list, err = tr.Issues(ctx(t), issues.Filter{Cluster: "c1"})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, 2, list[0].Alerts)
	require.Equal(t, 1, list[0].Firing)
	require.Equal(t, issues.Ongoing, list[0].Status)
}

// testParallelDuplicates delivers the same payload from many goroutines at
// once (as Alertmanager HA peers and retries do), through one tracker or
// two sharing the data.
func testParallelDuplicates(t *testing.T, h harness, twoTrackers bool) {
	s := h.NewStore(t)
	trackers := []*issues.Tracker{issues.NewTracker(s, &issues.TrackerOptions{Now: clock()})}
	if twoTrackers {
		trackers = append(trackers, issues.NewTracker(h.Reopen(t, s), &issues.TrackerOptions{Now: clock()}))
	}
	var batch []issues.Alert
	for i := range 5 {
		batch = append(batch, Alert("OperationAbnormal", "c1", fmt.Sprintf("be%d", i), time.Duration(i)*time.Second))
		batch = append(batch, Alert("BeAliveAbnormal", "c2", fmt.Sprintf("be%d", i), time.Duration(i)*time.Second))
	}
	const senders = 24
	var wg sync.WaitGroup
	results := make([]issues.Result, senders)
	errs := make([]error, senders)
	start := make(chan struct{})
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = trackers[i%len(trackers)].Ingest(context.Background(), batch)
		}()
	}
	close(start)
	wg.Wait()
	newTotal := 0
	for i := range senders {
		require.NoError(t, errs[i])
		newTotal += results[i].New
		require.Equal(t, len(batch), results[i].New+results[i].Duplicates)
	}
	require.Equal(t, len(batch), newTotal, "each alert is new exactly once")
	list, err := trackers[0].Issues(ctx(t), issues.Filter{})
	require.NoError(t, err)
	require.Len(t, list, 2, "one issue per cluster: %+v", list)
	for _, is := range list {
		require.Equal(t, 5, is.Alerts)
		require.Equal(t, 5, is.Firing)
	}
}

// testExplicitIDs ingests alerts with their own ids (as a chat source
// does): stored under them, a re-delivery is a no-op, and the resolution
// ("/resolved") ends its firing.
func testExplicitIDs(t *testing.T, h harness) {
	s := h.NewStore(t)
	tr := issues.NewTracker(s, &issues.TrackerOptions{Now: clock()})
	fire := Alert("OperationAbnormal", "c1", "fe1", 0)
	fire.Source, fire.ID = "chat", "om_1#0"
	other := Alert("OperationAbnormal", "c1", "fe1", 0) // same labels, another id: another alert
	other.Source, other.ID = "chat", "om_1#1"
	for i := range 2 {
		r, err := tr.Ingest(ctx(t), []issues.Alert{fire, other})
		require.NoError(t, err)
		require.Equal(t, 2-2*i, r.New)
	}
	res := fire
	res.Status, res.EndsAt = issues.StatusResolved, Base.Add(time.Minute)
	for i := range 2 {
		r, err := tr.Ingest(ctx(t), []issues.Alert{res})
		require.NoError(t, err)
		require.Equal(t, 1-i, r.New)
	}
	list, err := tr.Issues(ctx(t), issues.Filter{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, 2, list[0].Alerts, "two occurrences")
	require.Equal(t, 1, list[0].Firing, "the resolution ended its own firing, not the other")
	ml, ok := s.(issues.MessageLister)
	if !ok {
		return
	}
	msgs, err := ml.Messages(ctx(t), list[0].ID)
	require.NoError(t, err)
	var ids []string
	for _, m := range msgs {
		ids = append(ids, m.ID)
		require.Equal(t, "chat", m.Alert.Source)
		require.Equal(t, strings.TrimSuffix(m.ID, issues.ResolvedSuffix), m.Alert.ID)
	}
	require.ElementsMatch(t, []string{"om_1#0", "om_1#1", "om_1#0" + issues.ResolvedSuffix}, ids)
}

// testCountFiring counts each firing occurrence once, per cluster, in
// [from, to), whatever its source; resolutions are not counted.
func testCountFiring(t *testing.T, h harness) {
	s := h.NewStore(t)
	fc, ok := s.(issues.FiringCounter)
	require.True(t, ok, "the store is no issues.FiringCounter")
	n, err := fc.CountFiring(ctx(t), "c1", Base.Add(-time.Hour), Base.Add(time.Hour))
	require.NoError(t, err)
	require.Zero(t, n)
	tr := issues.NewTracker(s, &issues.TrackerOptions{Now: clock()})
	chat := Alert("BeAliveAbnormal", "c1", "be1", 30*time.Minute)
	chat.Source, chat.ID = "chat", "om_2#0"
	batch := []issues.Alert{
		Alert("OperationAbnormal", "c1", "fe1", 0),
		Alert("OperationAbnormal", "c1", "fe2", 59*time.Minute+59*time.Second),
		Alert("OperationAbnormal", "c1", "fe3", time.Hour), // at to: out
		Alert("OperationAbnormal", "c1", "fe4", -time.Second),
		Alert("OperationAbnormal", "c2", "fe1", time.Minute),
		chat,
	}
	for range 2 {
		_, err := tr.Ingest(ctx(t), batch)
		require.NoError(t, err)
	}
	res := batch[0]
	res.Status, res.EndsAt = issues.StatusResolved, Base.Add(2*time.Minute)
	_, err = tr.Ingest(ctx(t), []issues.Alert{res})
	require.NoError(t, err)
	for _, c := range []struct {
		cluster  string
		from, to time.Duration
		want     int
	}{
		{"c1", 0, time.Hour, 3},
		{"c1", -time.Hour, 2 * time.Hour, 5},
		{"c1", 30 * time.Minute, 31 * time.Minute, 1},
		{"c1", time.Hour, time.Hour, 0},
		{"c2", 0, time.Hour, 1},
		{"c3", 0, time.Hour, 0},
	} {
		n, err := fc.CountFiring(ctx(t), c.cluster, Base.Add(c.from), Base.Add(c.to))
		require.NoError(t, err)
		require.Equal(t, c.want, n, "%s [%s, %s)", c.cluster, c.from, c.to)
	}
}
