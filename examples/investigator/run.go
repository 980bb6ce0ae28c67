package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"time"

	"gocloud.dev/blob"

	"github.com/sqlshadow/sqlshadow/compare/shadow"
	"github.com/sqlshadow/sqlshadow/investigate"
	"github.com/sqlshadow/sqlshadow/sink"
)

// runner is one pass of the loop: every task not yet investigated.
type runner struct {
	inv    *investigate.Investigator
	tools  investigate.Tools
	stores []investigate.FindingStore
	bucket *blob.Bucket
	out    *sink.Writer
	enc    *json.Encoder
	since  time.Duration
	report string
	log    *slog.Logger
}

// once investigates the tasks of the last r.since (the triggers dataset
// and the report's findings) that have no finding yet, and writes each
// finding to the stores, the findings dataset and stdout.
func (r *runner) once(ctx context.Context) error {
	var extra []investigate.Task
	if r.report != "" {
		f, err := os.Open(r.report)
		if err != nil {
			return err
		}
		rep, err := shadow.ReadReport(f)
		f.Close()
		if err != nil {
			return err
		}
		extra = investigate.ShadowTasks(rep, "")
	}
	tasks, err := investigate.Pending(ctx, r.bucket, time.Now().Add(-r.since), extra...)
	if err != nil {
		return err
	}
	for _, t := range tasks {
		f, err := r.inv.Investigate(ctx, t)
		if f == nil {
			return err
		}
		if err != nil { // the model failed: the rules' finding is kept
			r.log.Warn("model reasoner failed, the rules' finding is kept", "subject", f.Subject.String(), "err", err)
		}
		if r.tools.Alerts != nil { // link to the issue firing at the task's time
			_ = investigate.LinkIssue(ctx, r.tools.Alerts, f)
		}
		for _, s := range r.stores {
			if err := s.Put(ctx, f); err != nil {
				return err
			}
		}
		if err := r.out.Write(ctx, time.Time(f.TS), f); err != nil {
			return err
		}
		if err := r.enc.Encode(f); err != nil {
			return err
		}
	}
	return r.out.Flush(ctx)
}
