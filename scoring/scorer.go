package scoring

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/sink"
)

var (
	// ErrNoMetrics is returned by the scorer when no dimension has a value:
	// there is nothing to score, and no score is better than a made-up one.
	ErrNoMetrics = errors.New("scoring: no dimension has a value")
	// ErrBadThreshold reports an unusable threshold row or scorer option.
	ErrBadThreshold = errors.New("scoring: bad threshold")
)

// Input is everything the scorer needs for one cluster at one time.
type Input struct {
	Cluster string
	// Tier is the cluster's service tier ("S", "A", "B", ...; "" = unknown).
	Tier string
	// At is the evaluation time (the score's timestamp).
	At time.Time
	// Metrics are the dimension values now.
	Metrics Metrics
	// Previous are the dimension values one trend window earlier (7 days by
	// default); nil when unknown. They are reported, not scored.
	Previous map[string]float64
	// Alerts7d is the number of distinct alerts fired for the cluster in
	// the alert window (7 days by default); nil when unknown.
	Alerts7d *int
	// AlertsLastHour is the number of alerts firing for the cluster in the
	// last hour, for the Alert Storm trigger; nil when unknown.
	AlertsLastHour *int
}

// Scorer turns one cluster's metrics into a health score. Implementations
// are safe for concurrent use.
type Scorer interface {
	// Score computes the score for in. It returns ErrNoMetrics (wrapped)
	// when there is nothing to score.
	Score(ctx context.Context, in Input) (*dataset.HealthScore, error)
}

// ScorerFunc adapts a function to the Scorer interface.
type ScorerFunc func(ctx context.Context, in Input) (*dataset.HealthScore, error)

// Score implements Scorer.
func (f ScorerFunc) Score(ctx context.Context, in Input) (*dataset.HealthScore, error) {
	return f(ctx, in)
}

// ScorerOptions configures the default scorer. Every number of the model is
// here; nil Options or zero fields mean the defaults below.
type ScorerOptions struct {
	// Dimensions are the expected dimensions and their thresholds. Default:
	// DefaultDimensions().
	Dimensions []Dimension
	// MetricsWeight, AlertsWeight and TierWeight weigh the composite.
	// Defaults 0.60, 0.25 and 0.15. Negative means 0.
	MetricsWeight, AlertsWeight, TierWeight float64
	// AlertPenalty is the points an alerts score loses per distinct alert.
	// Default 10.
	AlertPenalty float64
	// TierFactors multiply the metrics score into the tier score, by tier
	// name (case-insensitive). Default {"S": 0.8, "A": 0.9}.
	TierFactors map[string]float64
	// DefaultTierFactor applies to tiers not in TierFactors. Default 1.0.
	DefaultTierFactor float64
	// HealthyMin and WarningMin bound the classes: Healthy [HealthyMin, 100],
	// Warning [WarningMin, HealthyMin), Critical [0, WarningMin). Defaults
	// 80 and 50.
	HealthyMin, WarningMin float64
}

// DefaultScorer is the model of the package doc: dimension scores from the
// threshold table, their mean as the metrics score, an alerts score and a
// tier score, and their weighted composite.
//
//	composite = 0.60 x metrics + 0.25 x alerts + 0.15 x metrics x tierFactor
//
// It is safe for concurrent use.
type DefaultScorer struct {
	dims                   []Dimension
	wm, wa, wt             float64
	penalty                float64
	tiers                  map[string]float64
	defTier                float64
	healthyMin, warningMin float64
}

var _ Scorer = (*DefaultScorer)(nil)

// NewScorer returns the default scorer. It fails on an invalid threshold row
// or a duplicate dimension name.
func NewScorer(opts *ScorerOptions) (*DefaultScorer, error) {
	var o ScorerOptions
	if opts != nil {
		o = *opts
	}
	s := &DefaultScorer{
		dims: o.Dimensions, wm: o.MetricsWeight, wa: o.AlertsWeight, wt: o.TierWeight,
		penalty: o.AlertPenalty, defTier: o.DefaultTierFactor,
		healthyMin: o.HealthyMin, warningMin: o.WarningMin,
	}
	if s.dims == nil {
		s.dims = DefaultDimensions()
	}
	seen := map[string]bool{}
	for _, d := range s.dims {
		if d.Name == "" || seen[d.Name] {
			return nil, fmt.Errorf("%w: empty or duplicate dimension name %q", ErrBadThreshold, d.Name)
		}
		seen[d.Name] = true
		if err := d.Threshold.Validate(); err != nil {
			return nil, fmt.Errorf("dimension %s: %w", d.Name, err)
		}
	}
	if s.wm == 0 && s.wa == 0 && s.wt == 0 {
		s.wm, s.wa, s.wt = 0.60, 0.25, 0.15
	}
	s.wm, s.wa, s.wt = math.Max(s.wm, 0), math.Max(s.wa, 0), math.Max(s.wt, 0)
	if s.penalty == 0 {
		s.penalty = 10
	}
	s.tiers = map[string]float64{"S": 0.8, "A": 0.9}
	if o.TierFactors != nil {
		s.tiers = make(map[string]float64, len(o.TierFactors))
		for k, v := range o.TierFactors {
			s.tiers[strings.ToUpper(k)] = v
		}
	}
	if s.defTier == 0 {
		s.defTier = 1.0
	}
	if s.healthyMin == 0 {
		s.healthyMin = 80
	}
	if s.warningMin == 0 {
		s.warningMin = 50
	}
	if !(s.warningMin < s.healthyMin) {
		return nil, fmt.Errorf("%w: warning minimum %g not below healthy minimum %g", ErrBadThreshold, s.warningMin, s.healthyMin)
	}
	return s, nil
}

// Dimensions returns the expected dimensions.
func (s *DefaultScorer) Dimensions() []Dimension { return append([]Dimension(nil), s.dims...) }

// TierFactor returns the factor of tier.
func (s *DefaultScorer) TierFactor(tier string) float64 {
	if f, ok := s.tiers[strings.ToUpper(tier)]; ok {
		return f
	}
	return s.defTier
}

// Classify returns the class of a composite score: Healthy [80, 100],
// Warning [50, 80), Critical [0, 50) with the default bounds.
func (s *DefaultScorer) Classify(score float64) dataset.HealthClass {
	switch {
	case score >= s.healthyMin:
		return dataset.ClassHealthy
	case score >= s.warningMin:
		return dataset.ClassWarning
	default:
		return dataset.ClassCritical
	}
}

// AlertsScore returns max(0, 100 - penalty x n).
func (s *DefaultScorer) AlertsScore(n int) float64 {
	return math.Max(0, 100-s.penalty*float64(n))
}

// Score implements Scorer.
func (s *DefaultScorer) Score(_ context.Context, in Input) (*dataset.HealthScore, error) {
	snap := &dataset.HealthScore{
		TS: sink.Time(in.At.UTC()), Cluster: in.Cluster, Tier: in.Tier,
		Alerts7d: in.Alerts7d, AlertsLastHour: in.AlertsLastHour,
		TierFactor: s.TierFactor(in.Tier), Source: in.Metrics.Source,
		Notes: append([]string(nil), in.Metrics.Notes...),
	}
	var sum float64
	var n int
	snap.Dimensions = make([]dataset.HealthDimension, len(s.dims))
	for i, d := range s.dims {
		r := dataset.HealthDimension{Name: d.Name, Unit: d.Unit}
		v, ok := in.Metrics.Values[d.Name]
		if ok && (math.IsNaN(v) || math.IsInf(v, 0)) {
			ok = false
			r.Reason = fmt.Sprintf("value is %g", v)
		}
		if !ok {
			r.Status = dataset.StatusMissing
			if r.Reason == "" {
				r.Reason = in.Metrics.Missing[d.Name]
			}
			if r.Reason == "" {
				r.Reason = "no value from the source"
			}
			snap.Missing = append(snap.Missing, d.Name)
			snap.Dimensions[i] = r
			continue
		}
		sc := d.Threshold.Score(v)
		r.Value, r.Score, r.Status = ptr(v), ptr(sc), d.Threshold.Status(v)
		if p, ok := in.Previous[d.Name]; ok && !math.IsNaN(p) && !math.IsInf(p, 0) {
			r.Previous, r.Delta = ptr(p), ptr(v-p)
		}
		sum += sc
		n++
		snap.Dimensions[i] = r
	}
	if len(s.dims) > 0 {
		snap.Confidence = float64(n) / float64(len(s.dims))
	}
	if n == 0 {
		return nil, fmt.Errorf("%w (cluster %q, %d expected)", ErrNoMetrics, in.Cluster, len(s.dims))
	}
	m := sum / float64(n)
	snap.MetricsScore = m
	snap.TierScore = m * snap.TierFactor
	// With the alert count unknown, the metrics and tier parts share the
	// alerts weight in proportion to theirs.
	scale := 1.0
	var alertsPart float64
	if in.Alerts7d != nil {
		a := s.AlertsScore(*in.Alerts7d)
		snap.AlertsScore = ptr(a)
		alertsPart = s.wa * a
	} else {
		if s.wm+s.wt <= 0 {
			return nil, fmt.Errorf("%w: alert count unknown and metrics and tier weights are zero", ErrBadThreshold)
		}
		scale = (s.wm + s.wa + s.wt) / (s.wm + s.wt)
	}
	// Each dimension's share of the metrics and tier parts.
	perDim := (s.wm + s.wt*snap.TierFactor) * scale / float64(n)
	for i := range snap.Dimensions {
		r := &snap.Dimensions[i]
		if r.Score == nil {
			continue
		}
		r.Contribution = ptr(perDim * *r.Score)
		r.PointsLost = ptr(perDim * (100 - *r.Score))
	}
	snap.Score = clamp((s.wm*m+s.wt*snap.TierScore)*scale + alertsPart)
	snap.Class = s.Classify(snap.Score)
	if in.Alerts7d == nil {
		snap.Notes = append(snap.Notes, "alert count unknown: alerts weight shared by metrics and tier parts")
	}
	sort.Strings(snap.Missing)
	return snap, nil
}

func clamp(v float64) float64 { return math.Min(100, math.Max(0, v)) }

func ptr[T any](v T) *T { return &v }
