package dataset

import "github.com/sqlshadow/sqlshadow/sink"

// HealthClass is the health class of a composite score.
type HealthClass string

// Classes, on half-open intervals of the composite score.
const (
	ClassHealthy  HealthClass = "healthy"  // [80, 100]
	ClassWarning  HealthClass = "warning"  // [50, 80)
	ClassCritical HealthClass = "critical" // [0, 50)
)

// DimensionStatus is where a value falls in a dimension's threshold table.
type DimensionStatus string

// The statuses of a dimension.
const (
	StatusHealthy  DimensionStatus = "healthy"
	StatusWarning  DimensionStatus = "warning"
	StatusCritical DimensionStatus = "critical"
	StatusMissing  DimensionStatus = "missing"
)

// HealthScore is one record of the HealthScores dataset: one health score
// of one cluster at one time, as package scoring computes it, and what its
// sentinel evaluates.
type HealthScore struct {
	TS      sink.Time `json:"ts"`
	Cluster string    `json:"cluster"`
	Tier    string    `json:"tier,omitempty"`
	// Score is the composite 0..100.
	Score float64     `json:"score"`
	Class HealthClass `json:"class"`
	// MetricsScore is the mean of the available dimension scores.
	MetricsScore float64 `json:"metrics_score"`
	// AlertsScore is max(0, 100 - 10 x Alerts7d); omitted when unknown, and
	// then its weight is shared by the other parts.
	AlertsScore *float64 `json:"alerts_score,omitempty"`
	// TierScore is MetricsScore x TierFactor.
	TierScore  float64 `json:"tier_score"`
	TierFactor float64 `json:"tier_factor"`
	// Confidence is available dimensions / expected dimensions.
	Confidence     float64 `json:"confidence"`
	Alerts7d       *int    `json:"alerts_7d,omitempty"`
	AlertsLastHour *int    `json:"alerts_last_hour,omitempty"`
	// Dimensions explain the score, one entry per expected dimension in the
	// model's order, missing ones included.
	Dimensions []HealthDimension `json:"dimensions"`
	// Missing lists the expected dimensions that had no value.
	Missing []string `json:"missing,omitempty"`
	// Notes carry what the source reported (unreachable targets, counter
	// resets, ...).
	Notes []string `json:"notes,omitempty"`
	// Source names where the metrics came from: prometheus, scrape,
	// metrics-file or health-scores (the history of earlier scores).
	Source string `json:"source,omitempty"`
}

// HealthDimension explains one dimension's part in a HealthScore.
type HealthDimension struct {
	Name   string          `json:"name"`
	Unit   string          `json:"unit,omitempty"`
	Status DimensionStatus `json:"status"`
	// Value, Score, Contribution and PointsLost are nil when the metric is
	// missing: a missing metric is never read as zero.
	Value *float64 `json:"value,omitempty"`
	Score *float64 `json:"score,omitempty"`
	// Contribution is the points this dimension adds to the composite;
	// PointsLost is what it costs against a perfect value. The
	// contributions of all dimensions plus the alerts part sum to the
	// composite.
	Contribution *float64 `json:"contribution,omitempty"`
	PointsLost   *float64 `json:"points_lost,omitempty"`
	// Previous is the value one trend window earlier and Delta = Value -
	// Previous; nil when either is unknown.
	Previous *float64 `json:"previous,omitempty"`
	Delta    *float64 `json:"delta,omitempty"`
	// Reason says why the value is missing.
	Reason string `json:"reason,omitempty"`
}

// Trigger names a sentinel trigger.
type Trigger string

// The built-in triggers of package scoring's sentinel.
const (
	// TriggerNewCritical: the cluster entered Critical.
	TriggerNewCritical Trigger = "new_critical"
	// TriggerScoreCliff: the score dropped sharply since the previous score.
	TriggerScoreCliff Trigger = "score_cliff"
	// TriggerAlertStorm: many alerts firing for the cluster in the last hour.
	TriggerAlertStorm Trigger = "alert_storm"
	// TriggerTierAtRisk: a tier A or S cluster at Warning or Critical.
	TriggerTierAtRisk Trigger = "tier_at_risk"
)

// SentinelTask is one record of the SentinelTasks dataset: a cluster that
// needs a person (or an automated investigator) now, as package scoring's
// sentinel hands it to a notifier.
type SentinelTask struct {
	TS       sink.Time `json:"ts"`
	Cluster  string    `json:"cluster"`
	Trigger  Trigger   `json:"trigger"`
	Priority int       `json:"priority"`
	// Reason explains in one sentence why the trigger fired.
	Reason string `json:"reason"`
	// Others are the triggers whose conditions also held in this
	// evaluation but were not sent (lower priority, or in cooldown).
	Others []Trigger `json:"others,omitempty"`
	// Score is the health score that fired the trigger.
	Score *HealthScore `json:"snapshot"`
	// PreviousScore is the score of the previous evaluation, when known.
	PreviousScore *float64 `json:"previous_score,omitempty"`
}
