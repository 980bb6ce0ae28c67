package profiletest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/hashing"
	"github.com/sqlshadow/sqlshadow/profile"
)

// SourceHarness is what TestProfileSource needs from an implementation of
// profile.ProfileSource.
type SourceHarness struct {
	// Source is the source under test, fresh (no cursor).
	Source profile.ProfileSource
	// Exec runs one successful statement on the engine the source reads.
	Exec func(ctx context.Context, sql string) error
	// Settle, when not nil, is called after Exec and before each Collect
	// (for example to move a manual clock).
	Settle func()
}

// TestProfileSource checks the contract every profile.ProfileSource keeps:
// each finished statement is returned once across Collect calls, with its
// exact text, hashes and identity; an idle source returns no statements; a
// cancelled ctx fails Collect. newHarness is called once per subtest.
func TestProfileSource(t *testing.T, newHarness func(t *testing.T) SourceHarness) {
	t.Run("StatementsOnce", func(t *testing.T) {
		h := newHarness(t)
		ctx := context.Background()
		if _, err := h.Source.Collect(ctx); err != nil { // baseline
			t.Fatalf("first Collect: %v", err)
		}
		sqls := []string{
			fmt.Sprintf("SELECT %d AS conformance_a", time.Now().UnixNano()%1000),
			"SELECT 'x < y & z = \\'q\\'' AS conformance_b",
			"SELECT 2 AS conformance_c",
		}
		for _, s := range sqls {
			if err := h.Exec(ctx, s); err != nil {
				t.Fatalf("exec %q: %v", s, err)
			}
		}
		got := map[string][]dataset.Profile{}
		for range 3 {
			if h.Settle != nil {
				h.Settle()
			}
			recs, err := h.Source.Collect(ctx)
			if err != nil {
				t.Fatalf("Collect: %v", err)
			}
			for _, r := range recs {
				if r.Kind == dataset.ProfileStatement {
					got[r.SQLText] = append(got[r.SQLText], r)
				}
			}
		}
		for _, s := range sqls {
			rs := got[s]
			if len(rs) != 1 {
				t.Errorf("statement %q returned %d times, want once", s, len(rs))
				continue
			}
			r := rs[0]
			if r.QueryHash != hashing.QueryHash(s) || r.TemplateHash != hashing.TemplateHash(s) {
				t.Errorf("%q: hashes %s/%s, want %s/%s", s, r.QueryHash, r.TemplateHash, hashing.QueryHash(s), hashing.TemplateHash(s))
			}
			if r.State != dataset.StateFinished {
				t.Errorf("%q: state %q", s, r.State)
			}
			if r.Source == "" || r.FEHost == "" || r.SRQueryID == "" || time.Time(r.TS).IsZero() {
				t.Errorf("%q: missing identity: source %q fe_host %q id %q ts %v", s, r.Source, r.FEHost, r.SRQueryID, time.Time(r.TS))
			}
		}
	})
	t.Run("IdleReturnsNoStatements", func(t *testing.T) {
		h := newHarness(t)
		ctx := context.Background()
		if err := h.Exec(ctx, "SELECT 'idle' AS conformance_idle"); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if h.Settle != nil {
				h.Settle()
			}
			if _, err := h.Source.Collect(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if h.Settle != nil {
			h.Settle()
		}
		recs, err := h.Source.Collect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Kind == dataset.ProfileStatement && r.SQLText == "SELECT 'idle' AS conformance_idle" {
				t.Errorf("statement returned again by an idle Collect")
			}
		}
	})
	t.Run("CancelledContext", func(t *testing.T) {
		h := newHarness(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := h.Source.Collect(ctx)
		if err == nil {
			t.Fatal("Collect with a cancelled ctx succeeded")
		}
		if !errors.Is(err, context.Canceled) {
			t.Logf("note: error does not wrap context.Canceled: %v", err)
		}
	})
}
