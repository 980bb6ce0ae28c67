package scoring

import (
	"fmt"
	"math"

	"github.com/sqlshadow/sqlshadow/dataset"
)

// Names of the default dimensions. They are the keys of Metrics.Values, of
// the metrics file and of the Prometheus source's queries.
const (
	DimCPU             = "cpu_util_pct"          // BE host CPU utilisation, %, mean over BEs
	DimFEHeap          = "fe_heap_used_pct"      // FE JVM heap used / max, %, max over FEs
	DimDisk            = "disk_used_pct"         // BE disk used, %, max over BEs and storage paths
	DimCompaction      = "compaction_score"      // per-BE max compaction score, mean over BEs
	DimLatencyP99      = "query_latency_p99_s"   // FE query latency P99, seconds, max over FEs
	DimErrorRate       = "query_error_rate_pct"  // failed / all queries between two samples, %
	DimBEAlive         = "be_alive_pct"          // alive BEs / all BEs, %
	DimFEAlive         = "fe_alive_pct"          // alive FEs / all FEs, %
	DimQueuePending    = "query_queue_pending"   // queries waiting in the query queue, sum over FEs
	DimLoadFailureRate = "load_failure_rate_pct" // failed / finished load transactions, %
	DimBEMem           = "be_mem_used_pct"       // BE process memory / its limit, %, max over BEs
	DimRowsetNum       = "tablet_rowset_max"     // the largest rowset count of any tablet, max over BEs
)

// Threshold is one row of the threshold table.
//
// When Healthy < Critical (lower is better, the usual case) a value v is
// healthy when v < Healthy, warning when Healthy <= v <= Critical and critical
// when v > Critical. When Healthy > Critical (higher is better, e.g. the share
// of alive nodes) v is healthy when v >= Healthy, warning when
// Critical <= v < Healthy and critical when v < Critical.
//
// The dimension score is 100 up to the healthy bound, falls linearly to 50 at
// the critical bound and linearly to 0 at Zero, and stays 0 beyond.
type Threshold struct {
	Healthy  float64
	Critical float64
	// Zero is where the score reaches 0. The zero value means twice Critical,
	// as the model says; higher-is-better rows must set it (usually 0).
	Zero float64
}

func (t Threshold) higherIsBetter() bool { return t.Healthy > t.Critical }

func (t Threshold) zero() float64 {
	if t.Zero == 0 && !t.higherIsBetter() {
		return 2 * t.Critical
	}
	return t.Zero
}

// Validate reports whether the row can score values: distinct bounds, and
// Zero beyond Critical on the bad side.
func (t Threshold) Validate() error {
	if math.IsNaN(t.Healthy) || math.IsNaN(t.Critical) || math.IsNaN(t.Zero) {
		return fmt.Errorf("%w: NaN bound", ErrBadThreshold)
	}
	if t.Healthy == t.Critical {
		return fmt.Errorf("%w: healthy bound %g equals critical bound", ErrBadThreshold, t.Healthy)
	}
	z := t.zero()
	if t.higherIsBetter() && !(z < t.Critical) || !t.higherIsBetter() && !(z > t.Critical) {
		return fmt.Errorf("%w: zero point %g is not beyond critical bound %g", ErrBadThreshold, z, t.Critical)
	}
	return nil
}

// Status classifies v by the threshold table.
func (t Threshold) Status(v float64) dataset.DimensionStatus {
	if t.higherIsBetter() {
		switch {
		case v >= t.Healthy:
			return dataset.StatusHealthy
		case v >= t.Critical:
			return dataset.StatusWarning
		default:
			return dataset.StatusCritical
		}
	}
	switch {
	case v < t.Healthy:
		return dataset.StatusHealthy
	case v <= t.Critical:
		return dataset.StatusWarning
	default:
		return dataset.StatusCritical
	}
}

// Score maps v to 0..100: 100 up to Healthy, linear to 50 at Critical, linear
// to 0 at Zero, 0 beyond. The row must be valid (see Validate).
func (t Threshold) Score(v float64) float64 {
	h, c, z := t.Healthy, t.Critical, t.zero()
	if t.higherIsBetter() {
		// Mirror the axis so that the lower-is-better formula applies.
		v, h, c, z = -v, -h, -c, -z
	}
	switch {
	case math.IsNaN(v):
		return 0
	case v <= h:
		return 100
	case v <= c:
		return 100 - 50*(v-h)/(c-h)
	case v <= z:
		return 50 - 50*(v-c)/(z-c)
	default:
		return 0
	}
}

// Dimension is one health dimension of the model.
type Dimension struct {
	// Name is the key in Metrics.Values, e.g. DimCPU.
	Name string
	// Unit is shown in reports ("%", "s", "count", "score").
	Unit string
	// Help says what the value is and where it comes from.
	Help string
	// Threshold is the row of the threshold table.
	Threshold Threshold
}

// DefaultDimensions returns the model's dimensions with their default
// thresholds (healthy / warning / critical); ScorerOptions.Dimensions
// replaces them:
//
//	cpu_util_pct           < 55 / 55-70 / > 70 %
//	fe_heap_used_pct       < 55 / 55-75 / > 75 %
//	disk_used_pct          < 70 / 70-85 / > 85 %
//	compaction_score       < 100 / 100-500 / > 500
//	query_latency_p99_s    < 5 / 5-15 / > 15 s
//	query_error_rate_pct   < 0.1 / 0.1-2 / > 2 %
//	be_alive_pct           >= 100 / 50-100 / < 50 %, score 0 at 0 %
//	fe_alive_pct           >= 100 / 50-100 / < 50 %, score 0 at 0 % (FE quorum is lost below 50 %)
//	query_queue_pending    < 10 / 10-50 / > 50 queries
//	load_failure_rate_pct  < 1 / 1-10 / > 10 %
//	be_mem_used_pct        < 80 / 80-90 / > 90 % of the BE process memory limit
//	tablet_rowset_max      < 500 / 500-700 / > 700 rowsets (StarRocks alerts above 700)
//
// Every lower-is-better row reaches score 0 at twice its critical bound.
func DefaultDimensions() []Dimension {
	return []Dimension{
		{Name: DimCPU, Unit: "%", Threshold: Threshold{Healthy: 55, Critical: 70},
			Help: "BE host CPU utilisation, 100 x (1 - Δidle/Δtotal) of starrocks_be_cpu jiffies, mean over BEs"},
		{Name: DimFEHeap, Unit: "%", Threshold: Threshold{Healthy: 55, Critical: 75},
			Help: "FE JVM heap, jvm_heap_size_bytes{type=used} / {type=max}, max over FEs"},
		{Name: DimDisk, Unit: "%", Threshold: Threshold{Healthy: 70, Critical: 85},
			Help: "BE disk used, (total - avail) / total of starrocks_be_disks_*_capacity, max over BEs and paths"},
		{Name: DimCompaction, Unit: "score", Threshold: Threshold{Healthy: 100, Critical: 500},
			Help: "per BE the max of starrocks_be_tablet_{base,cumulative,update}_max_compaction_score, mean over BEs"},
		{Name: DimLatencyP99, Unit: "s", Threshold: Threshold{Healthy: 5, Critical: 15},
			Help: "starrocks_fe_query_latency_ms{quantile=0.99} / 1000, max over FEs"},
		{Name: DimErrorRate, Unit: "%", Threshold: Threshold{Healthy: 0.1, Critical: 2},
			Help: "100 x Δstarrocks_fe_query_err / Δstarrocks_fe_query_total, summed over FEs"},
		{Name: DimBEAlive, Unit: "%", Threshold: Threshold{Healthy: 100, Critical: 50, Zero: 0},
			Help: "100 x node_info{type=be_node_num,state=alive} / {state=total}, from the FEs"},
		{Name: DimFEAlive, Unit: "%", Threshold: Threshold{Healthy: 100, Critical: 50, Zero: 0},
			Help: "100 x node_info{type=fe_node_num,state=alive} / {state=total}, from the FEs"},
		{Name: DimQueuePending, Unit: "count", Threshold: Threshold{Healthy: 10, Critical: 50},
			Help: "starrocks_fe_query_queue_pending, summed over FEs"},
		{Name: DimLoadFailureRate, Unit: "%", Threshold: Threshold{Healthy: 1, Critical: 10},
			Help: "100 x Δstarrocks_fe_txn_failed / (Δtxn_failed + Δtxn_success), summed over FEs"},
		{Name: DimBEMem, Unit: "%", Threshold: Threshold{Healthy: 80, Critical: 90},
			Help: "100 x starrocks_be_process_mem_bytes / starrocks_be_process_mem_limit_bytes, max over BEs"},
		{Name: DimRowsetNum, Unit: "count", Threshold: Threshold{Healthy: 500, Critical: 700},
			Help: "starrocks_be_max_tablet_rowset_num, max over BEs"},
	}
}
