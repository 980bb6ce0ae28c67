package replay

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"github.com/sqlshadow/sqlshadow/hashing"
)

// Filter selects the statements to replay. The zero value keeps every
// read-only statement.
type Filter struct {
	// From and To bound the statements' start time, [From, To); zero
	// leaves that end open.
	From, To time.Time
	// Users, Databases and Routes keep only statements whose user,
	// database or sqlcommenter route (/*route='...'*/) is listed (empty:
	// any); the Exclude lists drop statements whose value is listed.
	Users, ExcludeUsers         []string
	Databases, ExcludeDatabases []string
	Routes, ExcludeRoutes       []string
	// Classes keeps only statements of these classes (empty: any), except
	// that USE and SET statements are always kept unless ExcludeClasses
	// lists them: later statements of their session depend on them.
	Classes, ExcludeClasses []hashing.Class
	// Writes keeps statements that are not read-only (writes, locks, side
	// effects, server-wide changes; see hashing.Statement.ReadOnly). By
	// default only read-only statements are kept; the runner then sends a
	// write only to targets marked Writable.
	Writes bool
}

// Match reports whether f keeps st.
func (f *Filter) Match(st *Statement) bool {
	if !f.From.IsZero() && st.Time.Before(f.From) || !f.To.IsZero() && !st.Time.Before(f.To) {
		return false
	}
	if !keep(st.User, f.Users, f.ExcludeUsers) || !keep(st.Database, f.Databases, f.ExcludeDatabases) {
		return false
	}
	if len(f.Routes) > 0 || len(f.ExcludeRoutes) > 0 {
		if !keep(hashing.Tags(st.Text)["route"], f.Routes, f.ExcludeRoutes) {
			return false
		}
	}
	sts := hashing.ClassifyAll(st.Text)
	if len(sts) == 0 {
		return false
	}
	for _, s := range sts {
		if slices.Contains(f.ExcludeClasses, s.Class) {
			return false
		}
		if len(f.Classes) > 0 && !slices.Contains(f.Classes, s.Class) && s.Class != hashing.ClassUse && s.Class != hashing.ClassSet {
			return false
		}
		if !f.Writes && !s.ReadOnly() {
			return false
		}
	}
	return true
}

func keep(v string, include, exclude []string) bool {
	if len(include) > 0 && !slices.Contains(include, v) {
		return false
	}
	return !slices.Contains(exclude, v)
}

// Select returns a Source that yields the statements of src that f keeps.
// Its Stats are src's, with the statements f dropped counted as Skipped.
// Closing it closes src.
func Select(src Source, f Filter) Source { return &selected{src: src, f: f} }

type selected struct {
	src     Source
	f       Filter
	dropped atomic.Int64
	kept    atomic.Int64
}

func (s *selected) Next(ctx context.Context) (Statement, error) {
	for {
		st, err := s.src.Next(ctx)
		if err != nil {
			return st, err
		}
		if s.f.Match(&st) {
			s.kept.Add(1)
			return st, nil
		}
		s.dropped.Add(1)
	}
}

func (s *selected) Stats() SourceStats {
	st := s.src.Stats()
	st.Skipped += s.dropped.Load()
	st.Statements = s.kept.Load()
	return st
}

func (s *selected) Close() error { return s.src.Close() }
