package scoring_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sqlshadow/sqlshadow/scoring"
	"github.com/sqlshadow/sqlshadow/scoring/scoringtest"
)

func BenchmarkScore(b *testing.B) {
	s, _ := scoring.NewScorer(nil)
	in := scoring.Input{Cluster: "c", Tier: "A", At: t0, Metrics: scoring.Metrics{Values: sixty()},
		Previous: perfect(), Alerts7d: intp(3)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Score(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// One FE and one BE exposition as StarRocks serves them.
func BenchmarkParseExposition(b *testing.B) {
	sr := scoringtest.NewStarRocks(1, 1)
	body := sr.FEExposition(0) + sr.BEExposition(0)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := scoring.ParseExposition(strings.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
}

// Deriving every dimension from two scrapes of 3 FEs and 10 BEs.
func BenchmarkDerive(b *testing.B) {
	sr := scoringtest.NewStarRocks(3, 10)
	scrape := func() map[string][]scoring.Sample {
		out := map[string][]scoring.Sample{}
		for i := range 3 {
			out["fe"+string(rune('0'+i))], _ = scoring.ParseExposition(strings.NewReader(sr.FEExposition(i)))
		}
		for i := range 10 {
			out["be"+string(rune('0'+i))], _ = scoring.ParseExposition(strings.NewReader(sr.BEExposition(i)))
		}
		return out
	}
	first := scrape()
	sr.Advance(30 * time.Second)
	second := scrape()
	var targets []string
	for t := range second {
		targets = append(targets, t)
	}
	b.ReportAllocs()
	for b.Loop() {
		m := scoring.Derive(targets, first, second, 30*time.Second)
		if len(m.Values) != 12 {
			b.Fatal(m.Missing)
		}
	}
}
