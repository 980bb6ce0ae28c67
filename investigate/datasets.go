package investigate

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

// Key identifies a task across runs: its subject, trigger and time. A
// Finding has the Key of the task it investigated (FindingKey), so a
// runner can skip tasks already investigated.
func Key(t Task) string {
	s, ts, err := t.subject()
	if err != nil {
		return ""
	}
	trigger := ""
	if t.Sentinel != nil {
		trigger = string(t.Sentinel.Trigger)
	} else {
		trigger = t.Shadow.Finding.Kind
	}
	return taskKey(s, trigger, ts)
}

// FindingKey returns the Key of the task f investigated.
func FindingKey(f *dataset.Finding) string { return taskKey(f.Subject, f.Trigger, time.Time(f.TaskTS)) }

func taskKey(s dataset.Subject, trigger string, ts time.Time) string {
	return s.String() + "|" + trigger + "|" + ts.UTC().Format(sink.TimeFormat)
}

// ReadSentinelTasks reads the SentinelTasks dataset of bucket over [from,
// to).
func ReadSentinelTasks(ctx context.Context, bucket *blob.Bucket, from, to time.Time) ([]dataset.SentinelTask, error) {
	var out []dataset.SentinelTask
	err := readAll(ctx, bucket, dataset.SentinelTasks, from, to, func(raw json.RawMessage) error {
		var t dataset.SentinelTask
		if err := json.Unmarshal(raw, &t); err != nil {
			return err
		}
		if t.Cluster != "" && !time.Time(t.TS).Before(from) && (to.IsZero() || time.Time(t.TS).Before(to)) {
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// ReadFindings reads the Findings dataset of bucket over [from, to).
func ReadFindings(ctx context.Context, bucket *blob.Bucket, from, to time.Time) ([]dataset.Finding, error) {
	var out []dataset.Finding
	err := readAll(ctx, bucket, dataset.Findings, from, to, func(raw json.RawMessage) error {
		var f dataset.Finding
		if err := json.Unmarshal(raw, &f); err != nil {
			return err
		}
		out = append(out, f)
		return nil
	})
	return out, err
}

func readAll(ctx context.Context, bucket *blob.Bucket, name string, from, to time.Time, fn func(json.RawMessage) error) error {
	r := sink.NewReader(bucket, name, from, to, nil)
	defer r.Close()
	for {
		raw, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("investigate: read %s: %w", name, err)
		}
		if err := fn(raw); err != nil {
			return fmt.Errorf("investigate: read %s: %w", name, err)
		}
	}
}
