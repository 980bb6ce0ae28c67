package scoring_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/scoring"
)

// fakeClock is the injected clock of the sentinel tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// tasks records what the sentinel sent.
type tasks struct {
	mu   sync.Mutex
	got  []dataset.SentinelTask
	fail error
}

func (n *tasks) Notify(_ context.Context, t dataset.SentinelTask) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fail != nil {
		return n.fail
	}
	n.got = append(n.got, t)
	return nil
}

func (n *tasks) triggers() []dataset.Trigger {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []dataset.Trigger
	for _, t := range n.got {
		out = append(out, t.Trigger)
	}
	return out
}

func snapshot(cluster, tier string, score float64, alertsLastHour int) *dataset.HealthScore {
	s, _ := scoring.NewScorer(nil)
	return &dataset.HealthScore{Cluster: cluster, Tier: tier, Score: score, Class: s.Classify(score), AlertsLastHour: &alertsLastHour}
}

func newSentinel(t *testing.T, store scoring.CooldownStore, opts *scoring.SentinelOptions) (*scoring.Sentinel, *tasks, *fakeClock) {
	t.Helper()
	clk := &fakeClock{now: t0}
	n := &tasks{}
	var o scoring.SentinelOptions
	if opts != nil {
		o = *opts
	}
	o.Now = clk.Now
	s, err := scoring.NewSentinel(store, n, &o)
	require.NoError(t, err)
	return s, n, clk
}

func eval(t *testing.T, s *scoring.Sentinel, cur, prev *dataset.HealthScore) dataset.Trigger {
	t.Helper()
	task, err := s.Evaluate(context.Background(), cur, prev)
	require.NoError(t, err)
	if task == nil {
		return ""
	}
	return task.Trigger
}

func TestTriggerConditions(t *testing.T) {
	s, _, _ := newSentinel(t, scoring.NewMemoryStore(), nil)
	cases := []struct {
		name      string
		cur, prev *dataset.HealthScore
		want      []dataset.Trigger
	}{
		{"healthy", snapshot("c", "", 90, 0), snapshot("c", "", 95, 0), nil},
		{"new critical", snapshot("c", "", 49.9, 0), snapshot("c", "", 55, 0), []dataset.Trigger{dataset.TriggerNewCritical}},
		{"critical first seen", snapshot("c", "", 40, 0), nil, []dataset.Trigger{dataset.TriggerNewCritical}},
		{"still critical", snapshot("c", "", 40, 0), snapshot("c", "", 45, 0), nil},
		{"drop of exactly 15 is no cliff", snapshot("c", "", 80, 0), snapshot("c", "", 95, 0), nil},
		{"drop of 15.5 is a cliff", snapshot("c", "", 80, 0), snapshot("c", "", 95.5, 0), []dataset.Trigger{dataset.TriggerScoreCliff}},
		{"5 alerts is no storm", snapshot("c", "", 90, 5), nil, nil},
		{"6 alerts is a storm", snapshot("c", "", 90, 6), nil, []dataset.Trigger{dataset.TriggerAlertStorm}},
		{"tier B warning", snapshot("c", "B", 70, 0), nil, nil},
		{"tier A warning", snapshot("c", "A", 70, 0), nil, []dataset.Trigger{dataset.TriggerTierAtRisk}},
		{"tier S healthy at 80", snapshot("c", "S", 80, 0), nil, nil},
		{"everything, by priority", snapshot("c", "S", 30, 9), snapshot("c", "S", 79, 0),
			[]dataset.Trigger{dataset.TriggerNewCritical, dataset.TriggerScoreCliff, dataset.TriggerAlertStorm, dataset.TriggerTierAtRisk}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, s.Conditions(c.cur, c.prev))
		})
	}
	require.Equal(t, 1, s.Priority(dataset.TriggerNewCritical))
	require.Equal(t, 2, s.Priority(dataset.TriggerScoreCliff))
	require.Equal(t, 2, s.Priority(dataset.TriggerAlertStorm))
	require.Equal(t, 3, s.Priority(dataset.TriggerTierAtRisk))
}

// Each trigger fires exactly once per cooldown, and again once it is over.
func TestEachTriggerFiresOncePerCooldown(t *testing.T) {
	for _, c := range []struct {
		trigger   dataset.Trigger
		cur, prev *dataset.HealthScore
	}{
		{dataset.TriggerNewCritical, snapshot("c", "", 40, 0), snapshot("c", "", 60, 0)},
		{dataset.TriggerScoreCliff, snapshot("c", "", 70, 0), snapshot("c", "", 90, 0)},
		{dataset.TriggerAlertStorm, snapshot("c", "", 90, 6), nil},
		{dataset.TriggerTierAtRisk, snapshot("c", "A", 60, 0), snapshot("c", "A", 62, 0)},
	} {
		t.Run(string(c.trigger), func(t *testing.T) {
			s, n, clk := newSentinel(t, scoring.NewMemoryStore(), nil)
			require.Equal(t, c.trigger, eval(t, s, c.cur, c.prev))
			for range 16 { // every 15 minutes for the 4 h cooldown
				clk.Advance(15*time.Minute - time.Nanosecond)
				require.Equal(t, dataset.Trigger(""), eval(t, s, c.cur, c.prev), "at %s", clk.Now())
				clk.Advance(time.Nanosecond)
			}
			// Exactly 4 h after: the cooldown is over.
			require.Equal(t, c.trigger, eval(t, s, c.cur, c.prev))
			require.Equal(t, []dataset.Trigger{c.trigger, c.trigger}, n.triggers())
		})
	}
}

func TestOneTaskPerClusterPerEvaluation(t *testing.T) {
	s, n, clk := newSentinel(t, scoring.NewMemoryStore(), &scoring.SentinelOptions{IndependentCooldowns: true})
	cur, prev := snapshot("c", "S", 30, 9), snapshot("c", "S", 79, 0)
	// All four conditions hold: one task per evaluation, highest priority
	// first, each then cooling down.
	task, err := s.Evaluate(context.Background(), cur, prev)
	require.NoError(t, err)
	require.Equal(t, dataset.TriggerNewCritical, task.Trigger)
	require.Equal(t, 1, task.Priority)
	require.Equal(t, []dataset.Trigger{dataset.TriggerScoreCliff, dataset.TriggerAlertStorm, dataset.TriggerTierAtRisk}, task.Others)
	require.Equal(t, 79.0, *task.PreviousScore)
	require.Equal(t, dataset.TriggerScoreCliff, eval(t, s, cur, prev))
	require.Equal(t, dataset.TriggerAlertStorm, eval(t, s, cur, prev))
	require.Equal(t, dataset.TriggerTierAtRisk, eval(t, s, cur, prev))
	require.Equal(t, dataset.Trigger(""), eval(t, s, cur, prev))
	// Another cluster has its own cooldowns.
	require.Equal(t, dataset.TriggerNewCritical, eval(t, s, snapshot("d", "", 10, 0), nil))
	clk.Advance(4 * time.Hour)
	require.Equal(t, dataset.TriggerNewCritical, eval(t, s, cur, prev))
	require.Len(t, n.triggers(), 6)
}

func TestHigherPriorityFiresDuringLowerCooldown(t *testing.T) {
	s, n, clk := newSentinel(t, scoring.NewMemoryStore(), nil)
	// Tier A at Warning: priority 3 fires.
	require.Equal(t, dataset.TriggerTierAtRisk, eval(t, s, snapshot("c", "A", 70, 0), nil))
	clk.Advance(time.Hour)
	// An hour later it turns Critical: priority 1 fires during the priority 3
	// cooldown.
	require.Equal(t, dataset.TriggerNewCritical, eval(t, s, snapshot("c", "A", 40, 0), snapshot("c", "A", 70, 0)))
	clk.Advance(time.Hour)
	// A storm (priority 2) may not fire while New Critical (priority 1) cools
	// down: the cluster already has someone's attention.
	require.Equal(t, dataset.Trigger(""), eval(t, s, snapshot("c", "A", 40, 9), snapshot("c", "A", 40, 0)))
	clk.Advance(3 * time.Hour) // New Critical fired 4 h ago: over
	require.Equal(t, dataset.TriggerAlertStorm, eval(t, s, snapshot("c", "A", 40, 9), snapshot("c", "A", 40, 0)))
	require.Equal(t, []dataset.Trigger{dataset.TriggerTierAtRisk, dataset.TriggerNewCritical, dataset.TriggerAlertStorm}, n.triggers())
}

func TestFailedNotifyDoesNotStartCooldown(t *testing.T) {
	store := scoring.NewMemoryStore()
	s, n, _ := newSentinel(t, store, nil)
	n.fail = errors.New("webhook down")
	_, err := s.Evaluate(context.Background(), snapshot("c", "", 40, 0), nil)
	require.ErrorIs(t, err, n.fail)
	_, ok, err := store.LastFired(context.Background(), "c", dataset.TriggerNewCritical)
	require.NoError(t, err)
	require.False(t, ok)
	n.fail = nil
	require.Equal(t, dataset.TriggerNewCritical, eval(t, s, snapshot("c", "", 40, 0), nil))
}

func TestSentinelOptions(t *testing.T) {
	s, _, clk := newSentinel(t, scoring.NewMemoryStore(), &scoring.SentinelOptions{
		Cooldown: time.Hour, CliffPoints: 5, StormAlerts: 1, AtRiskTiers: []string{"gold"},
		Priorities: map[dataset.Trigger]int{dataset.TriggerTierAtRisk: 0},
	})
	cur, prev := snapshot("c", "GOLD", 70, 2), snapshot("c", "GOLD", 76, 0)
	require.Equal(t, []dataset.Trigger{dataset.TriggerTierAtRisk, dataset.TriggerScoreCliff, dataset.TriggerAlertStorm}, s.Conditions(cur, prev))
	require.Equal(t, dataset.TriggerTierAtRisk, eval(t, s, cur, prev))
	require.Equal(t, dataset.Trigger(""), eval(t, s, cur, prev), "lower priorities wait for the higher one's cooldown")
	clk.Advance(time.Hour)
	require.Equal(t, dataset.TriggerTierAtRisk, eval(t, s, cur, prev))
}
