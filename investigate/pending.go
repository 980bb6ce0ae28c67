package investigate

import (
	"context"
	"time"

	"gocloud.dev/blob"

	"github.com/sqlshadow/sqlshadow/dataset"
)

// Pending returns the tasks to investigate: those of bucket's
// SentinelTasks dataset since from, then extra (the tasks of a shadow
// report, say), in that order, less those investigated already (a Finding
// with their Key in bucket's Findings dataset since from) and less
// repeats. A runner that writes every Finding to the Findings dataset
// investigates each task once across runs.
func Pending(ctx context.Context, bucket *blob.Bucket, from time.Time, extra ...Task) ([]Task, error) {
	done, err := ReadFindings(ctx, bucket, from, time.Time{})
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(done))
	for i := range done {
		seen[FindingKey(&done[i])] = true
	}
	sentinel, err := ReadSentinelTasks(ctx, bucket, from, time.Time{})
	if err != nil {
		return nil, err
	}
	tasks := make([]Task, 0, len(sentinel)+len(extra))
	for i := range sentinel {
		tasks = append(tasks, Task{Sentinel: &sentinel[i]})
	}
	tasks = append(tasks, extra...)
	out := tasks[:0]
	for _, t := range tasks {
		if k := Key(t); !seen[k] {
			seen[k] = true
			out = append(out, t)
		}
	}
	return out, nil
}

// LinkIssue sets f.IssueID to the first issue alerts lists as open on f's
// cluster at the time of f's task. It leaves f as it is when f has no
// cluster, alerts lists none, or alerts fails (its error is returned).
func LinkIssue(ctx context.Context, alerts Alerts, f *dataset.Finding) error {
	if f.Subject.Cluster == "" {
		return nil
	}
	ts := time.Time(f.TaskTS)
	list, err := alerts.Alerts(ctx, f.Subject.Cluster, ts, ts)
	if err != nil {
		return err
	}
	if len(list) > 0 {
		f.IssueID = list[0].ID
	}
	return nil
}
