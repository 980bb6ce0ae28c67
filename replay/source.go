package replay

import (
	"container/heap"
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// Statement is one statement of a captured workload, as a Source yields it.
type Statement struct {
	// Time is when the statement started (UTC), as precise as the log
	// records it (milliseconds for the StarRocks audit log, seconds for the
	// MariaDB logs).
	Time time.Time
	// Session identifies the client connection that sent the statement:
	// the client's ip:port in the StarRocks audit log, the connection id in
	// the MariaDB and MySQL logs, client address and connection id in query
	// logs. Statements of one session are replayed in order on one
	// connection.
	Session string
	// Database is the session's current database when the statement
	// started ("" when none or unknown); User is the login user.
	Database string
	User     string
	// Text is the statement as the log holds it.
	Text string
	// Duration is the recorded execution time, or -1 when the log does not
	// record it (the general log).
	Duration time.Duration
	// Rows is the recorded number of rows returned or affected, or -1 when
	// unknown.
	Rows int64
	// Failed is true when the log says the statement failed; ErrorCode is
	// the recorded error: a MySQL error number in decimal, or the StarRocks
	// error name (ANALYSIS_ERR, MEM_LIMIT_EXCEEDED, ...). Logs without
	// outcomes (the MariaDB slow and general logs) leave both empty.
	Failed    bool
	ErrorCode string
	// Pos is where the statement was read, for messages.
	Pos Position
}

// Position is a place in a source: a file and line, a table row, or a
// record number.
type Position struct {
	// Source is the file name, table name or bucket URL.
	Source string
	// Line is the 1-based line (files) or row/record number.
	Line int64
}

// String returns "source:line".
func (p Position) String() string { return fmt.Sprintf("%s:%d", p.Source, p.Line) }

// Malformed is one part of a source that could not be read as a statement.
type Malformed struct {
	Pos    Position
	Reason string
}

// SourceStats are a source's counters.
type SourceStats struct {
	// Statements were yielded.
	Statements int64
	// Skipped records are well formed but are not statements to replay:
	// connection records, duplicate slow_query records, prepare and close
	// commands, administrative commands, records of another target.
	Skipped int64
	// Malformed counts what could not be read; FirstMalformed holds the
	// first MaxMalformedKept of them with their positions.
	Malformed      int64
	FirstMalformed []Malformed
}

// MaxMalformedKept bounds SourceStats.FirstMalformed.
const MaxMalformedKept = 100

// Source yields the statements of a captured workload in time order (by
// start time; see each source for how exact the order is). Next returns
// io.EOF after the last statement. A Source is not safe for concurrent use.
//
// Malformed input is never fatal and never dropped silently: Next skips it,
// and Stats counts it with its position. Next returns an error only when
// the input cannot be read at all (a file that cannot be opened, a query
// that fails) or ctx ends.
type Source interface {
	Next(ctx context.Context) (Statement, error)
	Stats() SourceStats
	Close() error
}

// counter is the SourceStats bookkeeping every source embeds.
type counter struct {
	mu sync.Mutex
	s  SourceStats
}

func (c *counter) malformed(pos Position, format string, a ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.Malformed++
	if len(c.s.FirstMalformed) < MaxMalformedKept {
		c.s.FirstMalformed = append(c.s.FirstMalformed, Malformed{Pos: pos, Reason: fmt.Sprintf(format, a...)})
	}
}

func (c *counter) skipped() {
	c.mu.Lock()
	c.s.Skipped++
	c.mu.Unlock()
}

func (c *counter) yielded() {
	c.mu.Lock()
	c.s.Statements++
	c.mu.Unlock()
}

func (c *counter) stats() SourceStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	s.FirstMalformed = append([]Malformed(nil), c.s.FirstMalformed...)
	return s
}

// merge yields the statements of several sources in time order: each source
// must be in time order itself; merge holds one statement per source.
type merge struct {
	srcs []Source
	h    mergeHeap
	init bool
}

// Merge returns a Source that yields the statements of srcs in start-time
// order (ties in the order of srcs), holding one statement per source. Each
// of srcs must be in time order itself. Its Stats add up theirs; Close closes
// them all.
func Merge(srcs ...Source) Source {
	if len(srcs) == 1 {
		return srcs[0]
	}
	return &merge{srcs: srcs}
}

type mergeItem struct {
	st  Statement
	src int
}

type mergeHeap []mergeItem

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	if !h[i].st.Time.Equal(h[j].st.Time) {
		return h[i].st.Time.Before(h[j].st.Time)
	}
	return h[i].src < h[j].src
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(mergeItem)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (m *merge) Next(ctx context.Context) (Statement, error) {
	if !m.init {
		for i, s := range m.srcs {
			st, err := s.Next(ctx)
			if err == io.EOF {
				continue
			}
			if err != nil {
				return Statement{}, err
			}
			m.h = append(m.h, mergeItem{st, i})
		}
		heap.Init(&m.h)
		m.init = true
	}
	if len(m.h) == 0 {
		return Statement{}, io.EOF
	}
	top := m.h[0]
	st, err := m.srcs[top.src].Next(ctx)
	switch {
	case err == io.EOF:
		heap.Pop(&m.h)
	case err != nil:
		return Statement{}, err
	default:
		m.h[0].st = st
		heap.Fix(&m.h, 0)
	}
	return top.st, nil
}

func (m *merge) Stats() SourceStats {
	var t SourceStats
	for _, s := range m.srcs {
		st := s.Stats()
		t.Statements += st.Statements
		t.Skipped += st.Skipped
		t.Malformed += st.Malformed
		for _, x := range st.FirstMalformed {
			if len(t.FirstMalformed) < MaxMalformedKept {
				t.FirstMalformed = append(t.FirstMalformed, x)
			}
		}
	}
	return t
}

func (m *merge) Close() error {
	var first error
	for _, s := range m.srcs {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// sliceSource yields statements held in memory.
type sliceSource struct {
	sts []Statement
	i   int
	c   counter
}

// Statements returns a Source over statements held in memory (such as a
// Sample's), yielded in the order given.
func Statements(sts []Statement) Source { return &sliceSource{sts: sts} }

func (s *sliceSource) Next(ctx context.Context) (Statement, error) {
	if err := ctx.Err(); err != nil {
		return Statement{}, err
	}
	if s.i >= len(s.sts) {
		return Statement{}, io.EOF
	}
	s.i++
	s.c.yielded()
	return s.sts[s.i-1], nil
}

func (s *sliceSource) Stats() SourceStats { return s.c.stats() }
func (s *sliceSource) Close() error       { return nil }
