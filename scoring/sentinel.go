package scoring

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/sink"
)

// Notifier receives the sentinel's tasks. Implementations are safe for
// concurrent use.
type Notifier interface {
	// Notify delivers one task. An error means it was not delivered: the
	// trigger's cooldown does not start, and the next evaluation retries.
	Notify(ctx context.Context, t dataset.SentinelTask) error
}

// NotifierFunc adapts a function to the Notifier interface.
type NotifierFunc func(ctx context.Context, t dataset.SentinelTask) error

// Notify implements Notifier.
func (f NotifierFunc) Notify(ctx context.Context, t dataset.SentinelTask) error { return f(ctx, t) }

// CooldownStore remembers when each (cluster, trigger) last fired, so that
// cooldowns survive restarts. Implementations are safe for concurrent use.
type CooldownStore interface {
	// LastFired returns when trigger last fired for cluster, and false if
	// never.
	LastFired(ctx context.Context, cluster string, trigger dataset.Trigger) (time.Time, bool, error)
	// RecordFired records that trigger fired for cluster at at.
	RecordFired(ctx context.Context, cluster string, trigger dataset.Trigger, at time.Time) error
}

// MemoryStore is an in-memory CooldownStore (state is lost on restart).
type MemoryStore struct {
	mu   sync.Mutex
	last map[[2]string]time.Time
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{last: map[[2]string]time.Time{}} }

// LastFired implements CooldownStore.
func (s *MemoryStore) LastFired(_ context.Context, cluster string, trigger dataset.Trigger) (time.Time, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.last[[2]string{cluster, string(trigger)}]
	return t, ok, nil
}

// RecordFired implements CooldownStore.
func (s *MemoryStore) RecordFired(_ context.Context, cluster string, trigger dataset.Trigger, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last[[2]string{cluster, string(trigger)}] = at.UTC()
	return nil
}

// SentinelOptions configures a Sentinel. Zero fields mean the defaults.
type SentinelOptions struct {
	// Cooldown is the time after a trigger fires for a cluster during which
	// it does not fire again for that cluster. Default 4 h.
	Cooldown time.Duration
	// CliffPoints: Score Cliff fires on a drop of more than this many points
	// from the previous score. Default 15.
	CliffPoints float64
	// StormAlerts: Alert Storm fires on more than this many alerts firing in
	// the last hour. Default 5.
	StormAlerts int
	// AtRiskTiers are the tiers watched by Tier At Risk. Default {"S", "A"}.
	AtRiskTiers []string
	// Priorities override the triggers' priorities (1 is the highest).
	// Defaults: new_critical 1, score_cliff 2, alert_storm 2,
	// tier_at_risk 3.
	Priorities map[dataset.Trigger]int
	// IndependentCooldowns lets a trigger fire while a higher-priority
	// trigger of the same cluster is in its cooldown. Default false: a
	// higher-priority trigger may fire during a lower one's cooldown, not
	// the reverse (the cluster already has someone's attention).
	IndependentCooldowns bool
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Sentinel turns scores into prioritised tasks with cooldowns per
// (cluster, trigger): at most one task per cluster per evaluation, the
// highest priority first. It is safe for concurrent use; evaluations of one
// cluster are serialised.
type Sentinel struct {
	store    CooldownStore
	notifier Notifier
	o        SentinelOptions
	tiers    map[string]bool
	mu       sync.Mutex
	busy     map[string]*sync.Mutex
}

// NewSentinel returns a sentinel persisting cooldowns in store and sending
// tasks to notifier.
func NewSentinel(store CooldownStore, notifier Notifier, opts *SentinelOptions) (*Sentinel, error) {
	if store == nil || notifier == nil {
		return nil, errors.New("scoring: sentinel needs a cooldown store and a notifier")
	}
	var o SentinelOptions
	if opts != nil {
		o = *opts
	}
	if o.Cooldown <= 0 {
		o.Cooldown = 4 * time.Hour
	}
	if o.CliffPoints <= 0 {
		o.CliffPoints = 15
	}
	if o.StormAlerts <= 0 {
		o.StormAlerts = 5
	}
	if o.AtRiskTiers == nil {
		o.AtRiskTiers = []string{"S", "A"}
	}
	pr := map[dataset.Trigger]int{dataset.TriggerNewCritical: 1, dataset.TriggerScoreCliff: 2, dataset.TriggerAlertStorm: 2, dataset.TriggerTierAtRisk: 3}
	for k, v := range o.Priorities {
		pr[k] = v
	}
	o.Priorities = pr
	if o.Now == nil {
		o.Now = time.Now
	}
	tiers := map[string]bool{}
	for _, t := range o.AtRiskTiers {
		tiers[strings.ToUpper(t)] = true
	}
	return &Sentinel{store: store, notifier: notifier, o: o, tiers: tiers, busy: map[string]*sync.Mutex{}}, nil
}

// Priority returns a trigger's priority (1 is the highest).
func (s *Sentinel) Priority(t dataset.Trigger) int { return s.o.Priorities[t] }

type condition struct {
	trigger dataset.Trigger
	reason  string
}

// Conditions returns the triggers whose conditions hold for cur given the
// previous score of the cluster (nil if none), highest priority first,
// ignoring cooldowns.
func (s *Sentinel) Conditions(cur, prev *dataset.HealthScore) []dataset.Trigger {
	var out []dataset.Trigger
	for _, c := range s.conditions(cur, prev) {
		out = append(out, c.trigger)
	}
	return out
}

func (s *Sentinel) conditions(cur, prev *dataset.HealthScore) []condition {
	var cs []condition
	if cur.Class == dataset.ClassCritical && (prev == nil || prev.Class != dataset.ClassCritical) {
		from := "no previous score"
		if prev != nil {
			from = "was " + string(prev.Class)
		}
		cs = append(cs, condition{dataset.TriggerNewCritical, fmt.Sprintf("score %.1f is critical (%s)", cur.Score, from)})
	}
	if prev != nil && prev.Score-cur.Score > s.o.CliffPoints {
		cs = append(cs, condition{dataset.TriggerScoreCliff, fmt.Sprintf("score dropped %.1f points (%.1f -> %.1f), more than %g",
			prev.Score-cur.Score, prev.Score, cur.Score, s.o.CliffPoints)})
	}
	if cur.AlertsLastHour != nil && *cur.AlertsLastHour > s.o.StormAlerts {
		cs = append(cs, condition{dataset.TriggerAlertStorm, fmt.Sprintf("%d alerts firing in the last hour, more than %d",
			*cur.AlertsLastHour, s.o.StormAlerts)})
	}
	if s.tiers[strings.ToUpper(cur.Tier)] && (cur.Class == dataset.ClassWarning || cur.Class == dataset.ClassCritical) {
		cs = append(cs, condition{dataset.TriggerTierAtRisk, fmt.Sprintf("tier %s cluster is %s (score %.1f)", cur.Tier, cur.Class, cur.Score)})
	}
	sort.SliceStable(cs, func(i, j int) bool { return s.o.Priorities[cs[i].trigger] < s.o.Priorities[cs[j].trigger] })
	return cs
}

func (s *Sentinel) lock(cluster string) func() {
	s.mu.Lock()
	m, ok := s.busy[cluster]
	if !ok {
		m = &sync.Mutex{}
		s.busy[cluster] = m
	}
	s.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// Evaluate checks cur (with prev, the cluster's previous score or nil)
// and sends at most one task: the highest-priority trigger whose condition
// holds and that is not cooling down. It returns the task sent, or nil.
// When the notifier fails, the cooldown does not start and the error is
// returned.
func (s *Sentinel) Evaluate(ctx context.Context, cur, prev *dataset.HealthScore) (*dataset.SentinelTask, error) {
	if cur == nil {
		return nil, errors.New("scoring: sentinel: nil score")
	}
	defer s.lock(cur.Cluster)()
	cs := s.conditions(cur, prev)
	if len(cs) == 0 {
		return nil, nil
	}
	now := s.o.Now()
	// Cooldown state of every trigger that could block one of cs.
	cooling := map[dataset.Trigger]bool{}
	for _, t := range []dataset.Trigger{dataset.TriggerNewCritical, dataset.TriggerScoreCliff, dataset.TriggerAlertStorm, dataset.TriggerTierAtRisk} {
		last, ok, err := s.store.LastFired(ctx, cur.Cluster, t)
		if err != nil {
			return nil, fmt.Errorf("scoring: sentinel: cooldown of %s/%s: %w", cur.Cluster, t, err)
		}
		cooling[t] = ok && now.Sub(last) < s.o.Cooldown
	}
	for _, c := range cs {
		if s.blocked(c.trigger, cooling) {
			continue
		}
		task := dataset.SentinelTask{TS: sink.Time(now.UTC()), Cluster: cur.Cluster, Trigger: c.trigger,
			Priority: s.o.Priorities[c.trigger], Reason: c.reason, Score: cur}
		for _, o := range cs {
			if o.trigger != c.trigger {
				task.Others = append(task.Others, o.trigger)
			}
		}
		if prev != nil {
			task.PreviousScore = ptr(prev.Score)
		}
		if err := s.notifier.Notify(ctx, task); err != nil {
			return nil, fmt.Errorf("scoring: sentinel: notify %s/%s: %w", cur.Cluster, c.trigger, err)
		}
		if err := s.store.RecordFired(ctx, cur.Cluster, c.trigger, now); err != nil {
			return &task, fmt.Errorf("scoring: sentinel: record %s/%s: %w", cur.Cluster, c.trigger, err)
		}
		return &task, nil
	}
	return nil, nil
}

// blocked reports whether t may not fire: it is cooling down, or (unless
// IndependentCooldowns) a trigger of strictly higher priority is.
func (s *Sentinel) blocked(t dataset.Trigger, cooling map[dataset.Trigger]bool) bool {
	if cooling[t] {
		return true
	}
	if s.o.IndependentCooldowns {
		return false
	}
	for o, c := range cooling {
		if c && s.o.Priorities[o] < s.o.Priorities[t] {
			return true
		}
	}
	return false
}
