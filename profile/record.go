package profile

import (
	"context"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/sink"
)

// dedupKey is what the collector deduplicates statements on: (cluster, query
// id, state). Records of other kinds are never deduplicated.
func dedupKeyOf(r *dataset.Profile) (dedupKey, bool) {
	if r.Kind != dataset.ProfileStatement || r.SRQueryID == "" {
		return dedupKey{}, false
	}
	return dedupKey{r.Cluster, r.SRQueryID, r.State}, true
}

type dedupKey struct{ cluster, queryID, state string }

// ProfileSource yields finished statements with their statistics and, where
// the engine keeps one, their profile text.
//
// Collect returns the records that became available since the previous call
// (the source keeps its own cursor). Records may repeat across calls and
// across sources (the Collector deduplicates statements); Collect must not be
// called concurrently with itself. When ctx ends, Collect returns ctx.Err().
//
// A source may also implement the optional interfaces Drainer (records held
// back, for the final flush) and Checkpointer (cursor save and restore).
type ProfileSource interface {
	Collect(ctx context.Context) ([]dataset.Profile, error)
}

// Drainer is implemented by sources that hold records back (StarRocks
// statements waiting for a late profile). Drain returns them at once, as they
// are; the Collector calls it on its final flush.
type Drainer interface {
	Drain() []dataset.Profile
}

// Checkpointer is implemented by sources with a cursor that can be saved and
// restored, so that a restarted collector resumes where it stopped (and
// reports a gap if it stopped too long).
type Checkpointer interface {
	// Cursor returns the source's position.
	Cursor() Cursor
	// SetCursor restores a position saved by Cursor. Call it before the first
	// Collect.
	SetCursor(Cursor)
}

// Cursor is a source's saved position.
type Cursor struct {
	// Source is the endpoint the cursor belongs to (the FE's host:port).
	Source string `json:"source"`
	// EventTime is the largest FE eventTime read (pseudo nanoseconds).
	EventTime int64 `json:"event_time"`
	// LastSuccess is the time of the last successful poll.
	LastSuccess sink.Time `json:"last_success"`
}

func ptr[T any](v T) *T { return &v }
