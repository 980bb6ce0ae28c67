package scoring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"gocloud.dev/blob"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/sink"
)

// DatasetHistoryOptions configures a DatasetHistory.
type DatasetHistoryOptions struct {
	// Dataset is the scores' dataset. Default dataset.HealthScores.
	Dataset string
	// Tolerance is how far from the requested time a score may be and
	// still count. Default 1 h.
	Tolerance time.Duration
}

// DatasetHistory answers "what were the values then" from the scores the
// monitor wrote to the health-scores dataset: the cluster's score
// closest to the requested time, within Tolerance. It is the trend source
// of a direct scrape, which has no history of its own. Use it as
// MonitorOptions.History. It is safe for concurrent use.
type DatasetHistory struct {
	bucket  *blob.Bucket
	dataset string
	tol     time.Duration
}

var _ Source = (*DatasetHistory)(nil)

// NewDatasetHistory returns a history over bucket (not closed by it).
func NewDatasetHistory(bucket *blob.Bucket, opts *DatasetHistoryOptions) *DatasetHistory {
	var o DatasetHistoryOptions
	if opts != nil {
		o = *opts
	}
	if o.Dataset == "" {
		o.Dataset = dataset.HealthScores
	}
	if o.Tolerance <= 0 {
		o.Tolerance = time.Hour
	}
	return &DatasetHistory{bucket: bucket, dataset: o.Dataset, tol: o.Tolerance}
}

// Collect implements Source. No score within the tolerance is
// ErrNoHistory.
func (h *DatasetHistory) Collect(ctx context.Context, cluster string, at time.Time) (Metrics, error) {
	r := sink.NewReader(h.bucket, h.dataset, at.Add(-h.tol), at.Add(h.tol), nil)
	defer r.Close()
	var best *dataset.HealthScore
	var bestDist time.Duration
	for {
		raw, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return Metrics{}, ctx.Err()
			}
			return Metrics{}, fmt.Errorf("scoring: read %s: %w", h.dataset, err)
		}
		var s dataset.HealthScore
		if json.Unmarshal(raw, &s) != nil || s.Cluster != cluster {
			continue
		}
		d := time.Time(s.TS).Sub(at).Abs()
		if best == nil || d < bestDist {
			best, bestDist = &s, d
		}
	}
	if best == nil {
		return Metrics{}, fmt.Errorf("%w: no %s score of %q within %s of %s", ErrNoHistory, h.dataset, cluster, h.tol, at.UTC().Format(time.RFC3339))
	}
	m := Metrics{At: time.Time(best.TS), Values: map[string]float64{}, Source: h.dataset}
	for _, d := range best.Dimensions {
		if d.Value != nil {
			m.Values[d.Name] = *d.Value
		}
	}
	return m, nil
}
