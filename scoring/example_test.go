package scoring_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/scoring"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

// Score one cluster and read the explanation of each dimension. Memory is
// missing: it lowers the confidence instead of counting as zero.
func ExampleDefaultScorer_Score() {
	s, _ := scoring.NewScorer(nil) // the default model
	alerts := 3
	snap, err := s.Score(context.Background(), scoring.Input{
		Cluster: "prod-a", Tier: "A", At: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		Metrics: scoring.Metrics{Values: map[string]float64{
			scoring.DimCPU: 62.5, scoring.DimFEHeap: 40, scoring.DimDisk: 88, scoring.DimCompaction: 80,
			scoring.DimLatencyP99: 2, scoring.DimErrorRate: 0.05, scoring.DimBEAlive: 100, scoring.DimFEAlive: 100,
			scoring.DimQueuePending: 0, scoring.DimLoadFailureRate: 0, scoring.DimRowsetNum: 120,
		}},
		Alerts7d: &alerts,
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("score %.2f %s, confidence %.2f, missing %v\n", snap.Score, snap.Class, snap.Confidence, snap.Missing)
	for _, d := range snap.Dimensions[:3] {
		fmt.Printf("%s = %g%s: %s, score %.1f, -%.2f points\n", d.Name, *d.Value, d.Unit, d.Status, *d.Score, *d.PointsLost)
	}
	// Output:
	// score 85.87 healthy, confidence 0.92, missing [be_mem_used_pct]
	// cpu_util_pct = 62.5%: warning, score 75.0, -1.67 points
	// fe_heap_used_pct = 40%: healthy, score 100.0, -0.00 points
	// disk_used_pct = 88%: critical, score 48.2, -3.46 points
}

// The sentinel sends at most one task per cluster per evaluation, and each
// trigger at most once per cooldown.
func ExampleSentinel_Evaluate() {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	rec := &sinktest.Recorder{} // the `triggers` dataset in production
	sentinel, _ := scoring.NewSentinel(scoring.NewMemoryStore(), scoring.NewSinkNotifier(rec),
		&scoring.SentinelOptions{Now: func() time.Time { return now }})
	prev := &dataset.HealthScore{Cluster: "prod-a", Tier: "A", Score: 72, Class: dataset.ClassWarning}
	cur := &dataset.HealthScore{Cluster: "prod-a", Tier: "A", Score: 41, Class: dataset.ClassCritical}
	for range 2 {
		task, _ := sentinel.Evaluate(context.Background(), cur, prev)
		if task == nil {
			fmt.Println("nothing: cooling down")
			continue
		}
		fmt.Printf("%s (priority %d): %s; also %v\n", task.Trigger, task.Priority, task.Reason, task.Others)
	}
	// Output:
	// new_critical (priority 1): score 41.0 is critical (was warning); also [score_cliff tier_at_risk]
	// nothing: cooling down
}
