package sinktest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/sqlshadow/sqlshadow/sink"
)

// Recorder is an in-memory sink.Sink for tests: it keeps every record as its
// JSON line, in the order written.
type Recorder struct {
	mu     sync.Mutex
	lines  []Line
	closed bool
}

// Line is one record a Recorder accepted.
type Line struct {
	TS   time.Time
	JSON []byte
}

var _ sink.Sink = (*Recorder)(nil)

// Write implements sink.Sink.
func (r *Recorder) Write(_ context.Context, ts time.Time, record any) error {
	var b []byte
	switch v := record.(type) {
	case json.RawMessage:
		b = append([]byte(nil), v...)
	default:
		var err error
		if b, err = json.Marshal(record); err != nil {
			return fmt.Errorf("sinktest: encode record: %w", err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return sink.ErrClosed
	}
	r.lines = append(r.lines, Line{TS: ts, JSON: b})
	return nil
}

// Flush implements sink.Sink; it does nothing.
func (r *Recorder) Flush(context.Context) error { return nil }

// Close implements sink.Sink.
func (r *Recorder) Close(context.Context) error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	return nil
}

// Lines returns a copy of what was written so far.
func (r *Recorder) Lines() []Line {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Line(nil), r.lines...)
}

// Maps decodes every record into a map, for assertions on field names.
func (r *Recorder) Maps() []map[string]any {
	var out []map[string]any
	for _, l := range r.Lines() {
		var m map[string]any
		if err := json.Unmarshal(l.JSON, &m); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// Decode decodes every record into a new T.
func Decode[T any](r *Recorder) ([]T, error) {
	var out []T
	for i, l := range r.Lines() {
		var v T
		if err := json.Unmarshal(l.JSON, &v); err != nil {
			return nil, fmt.Errorf("sinktest: record %d: %w", i, err)
		}
		out = append(out, v)
	}
	return out, nil
}
