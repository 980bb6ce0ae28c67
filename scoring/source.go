package scoring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"sync"
	"time"
)

// ErrNoHistory is returned by a source asked for values at a time it cannot
// look back to (a direct scrape only knows "now").
var ErrNoHistory = errors.New("scoring: source has no history")

// Metrics are the dimension values of one cluster at one time.
type Metrics struct {
	// At is when the values were taken.
	At time.Time
	// Values holds the available dimensions, by dimension name. A dimension
	// that could not be obtained is absent (never zero).
	Values map[string]float64
	// Missing says why a dimension is absent, by dimension name.
	Missing map[string]string
	// Notes are observations worth reporting (an unreachable target, a
	// counter reset, no queries in the window).
	Notes []string
	// Source names the source ("prometheus", "scrape", "static").
	Source string
}

// set records a value, or the reason it is missing when ok is false.
func (m *Metrics) set(name string, v float64, ok bool, reason string) {
	if ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
		if m.Values == nil {
			m.Values = map[string]float64{}
		}
		m.Values[name] = v
		return
	}
	if m.Missing == nil {
		m.Missing = map[string]string{}
	}
	m.Missing[name] = reason
}

// Source supplies the dimension values of a cluster. Implementations are
// safe for concurrent use.
type Source interface {
	// Collect returns cluster's values at time at. A source that cannot
	// look back returns ErrNoHistory (wrapped) for a time in the past.
	// Individual missing dimensions are reported in Metrics.Missing, not as
	// an error; an error means the source as a whole failed.
	Collect(ctx context.Context, cluster string, at time.Time) (Metrics, error)
}

// SourceFunc adapts a function to the Source interface.
type SourceFunc func(ctx context.Context, cluster string, at time.Time) (Metrics, error)

// Collect implements Source.
func (f SourceFunc) Collect(ctx context.Context, cluster string, at time.Time) (Metrics, error) {
	return f(ctx, cluster, at)
}

// StaticSource serves fixed values, for tests and for the metrics file: the
// current values from Collect, the week-ago values from History, tiers and
// alert counts. It is safe for concurrent use.
type StaticSource struct {
	mu       sync.Mutex
	clusters map[string]StaticCluster
}

// StaticCluster is one cluster of a StaticSource and of the metrics file.
type StaticCluster struct {
	// Tier is the cluster's tier, used by StaticSource.Tier.
	Tier string `json:"tier,omitempty"`
	// Values are the current dimension values.
	Values map[string]float64 `json:"values"`
	// WeekAgo are the values one trend window earlier, optional.
	WeekAgo map[string]float64 `json:"week_ago,omitempty"`
	// Alerts7d and AlertsLastHour are alert counts, optional.
	Alerts7d       *int `json:"alerts_7d,omitempty"`
	AlertsLastHour *int `json:"alerts_last_hour,omitempty"`
}

// MetricsFile is the JSON document read by ParseMetricsFile (the binary's
// -metrics-file). Example:
//
//	{"clusters": {
//	  "prod-a": {"tier": "A",
//	             "values":   {"cpu_util_pct": 42, "fe_heap_used_pct": 61.5},
//	             "week_ago": {"cpu_util_pct": 30},
//	             "alerts_7d": 2, "alerts_last_hour": 0}}}
//
// Dimension names are the Dim constants; a dimension left out is missing
// (never zero). Unknown dimension names are kept and ignored by the scorer.
type MetricsFile struct {
	Clusters map[string]StaticCluster `json:"clusters"`
}

// ErrBadMetricsFile reports a metrics file that cannot be used.
var ErrBadMetricsFile = errors.New("scoring: bad metrics file")

// ReadMetricsFile reads the MetricsFile at path into a StaticSource (see
// ParseMetricsFile).
func ReadMetricsFile(path string) (*StaticSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("scoring: %w", err)
	}
	defer f.Close()
	mf, err := ParseMetricsFile(f)
	if err != nil {
		return nil, err
	}
	return NewStaticSource(mf.Clusters), nil
}

// ParseMetricsFile decodes a MetricsFile. Non-finite values are rejected.
func ParseMetricsFile(r io.Reader) (*MetricsFile, error) {
	var f MetricsFile
	dec := json.NewDecoder(r)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadMetricsFile, err)
	}
	if len(f.Clusters) == 0 {
		return nil, fmt.Errorf("%w: no clusters", ErrBadMetricsFile)
	}
	for name, c := range f.Clusters {
		if name == "" {
			return nil, fmt.Errorf("%w: empty cluster name", ErrBadMetricsFile)
		}
		for _, m := range []map[string]float64{c.Values, c.WeekAgo} {
			for k, v := range m {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return nil, fmt.Errorf("%w: cluster %s: %s is not finite", ErrBadMetricsFile, name, k)
				}
			}
		}
		for _, p := range []*int{c.Alerts7d, c.AlertsLastHour} {
			if p != nil && *p < 0 {
				return nil, fmt.Errorf("%w: cluster %s: negative alert count", ErrBadMetricsFile, name)
			}
		}
	}
	return &f, nil
}

// NewStaticSource returns a source serving clusters (copied).
func NewStaticSource(clusters map[string]StaticCluster) *StaticSource {
	s := &StaticSource{clusters: map[string]StaticCluster{}}
	for k, v := range clusters {
		s.Set(k, v)
	}
	return s
}

// Set replaces one cluster's data.
func (s *StaticSource) Set(cluster string, c StaticCluster) {
	c.Values = maps.Clone(c.Values)
	c.WeekAgo = maps.Clone(c.WeekAgo)
	s.mu.Lock()
	s.clusters[cluster] = c
	s.mu.Unlock()
}

// Clusters returns the cluster names, in no particular order.
func (s *StaticSource) Clusters() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Keys(s.clusters))
}

func (s *StaticSource) get(cluster string) (StaticCluster, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clusters[cluster]
	return c, ok
}

// Collect implements Source: the cluster's current values, whatever at.
func (s *StaticSource) Collect(_ context.Context, cluster string, at time.Time) (Metrics, error) {
	c, ok := s.get(cluster)
	if !ok {
		return Metrics{}, fmt.Errorf("%w: %q", ErrUnknownCluster, cluster)
	}
	return Metrics{At: at, Values: maps.Clone(c.Values), Source: "static"}, nil
}

// History returns a Source of the clusters' week-ago values (for
// MonitorOptions.History); a cluster without them is ErrNoHistory.
func (s *StaticSource) History() Source {
	return SourceFunc(func(_ context.Context, cluster string, at time.Time) (Metrics, error) {
		c, ok := s.get(cluster)
		if !ok {
			return Metrics{}, fmt.Errorf("%w: %q", ErrUnknownCluster, cluster)
		}
		if c.WeekAgo == nil {
			return Metrics{}, fmt.Errorf("%w: no week-ago values for %q", ErrNoHistory, cluster)
		}
		return Metrics{At: at, Values: maps.Clone(c.WeekAgo), Source: "static"}, nil
	})
}

// Tier implements TierSource.
func (s *StaticSource) Tier(_ context.Context, cluster string) (string, error) {
	c, ok := s.get(cluster)
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrUnknownCluster, cluster)
	}
	return c.Tier, nil
}

// CountAlerts implements AlertCounter: windows of an hour or less get
// AlertsLastHour, longer ones Alerts7d. A count that is not set is
// ErrUnknownCount.
func (s *StaticSource) CountAlerts(_ context.Context, cluster string, from, to time.Time) (int, error) {
	c, ok := s.get(cluster)
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrUnknownCluster, cluster)
	}
	p := c.Alerts7d
	if to.Sub(from) <= time.Hour {
		p = c.AlertsLastHour
	}
	if p == nil {
		return 0, ErrUnknownCount
	}
	return *p, nil
}

// ErrUnknownCluster is returned for a cluster a source does not know.
var ErrUnknownCluster = errors.New("scoring: unknown cluster")
