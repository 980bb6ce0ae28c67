package scoringtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/scoring"
)

// TestCooldownStore is the conformance suite of scoring.CooldownStore:
// every implementation must pass it. newStore returns a new, empty store,
// which the test cleans up. Times must survive with microsecond precision,
// in UTC.
func TestCooldownStore(t *testing.T, newStore func(t *testing.T) scoring.CooldownStore) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)

	t.Run("NeverFired", func(t *testing.T) {
		s := newStore(t)
		_, ok, err := s.LastFired(ctx, "c1", dataset.TriggerNewCritical)
		require.NoError(t, err)
		require.False(t, ok)
	})
	t.Run("RoundTrip", func(t *testing.T) {
		s := newStore(t)
		local := t0.In(time.FixedZone("X", 5*3600+1800))
		require.NoError(t, s.RecordFired(ctx, "c1", dataset.TriggerScoreCliff, local))
		got, ok, err := s.LastFired(ctx, "c1", dataset.TriggerScoreCliff)
		require.NoError(t, err)
		require.True(t, ok)
		require.True(t, got.Equal(t0), "got %s want %s", got, t0)
	})
	t.Run("Overwrite", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.RecordFired(ctx, "c1", dataset.TriggerAlertStorm, t0))
		later := t0.Add(4*time.Hour + time.Microsecond)
		require.NoError(t, s.RecordFired(ctx, "c1", dataset.TriggerAlertStorm, later))
		got, ok, err := s.LastFired(ctx, "c1", dataset.TriggerAlertStorm)
		require.NoError(t, err)
		require.True(t, ok)
		require.True(t, got.Equal(later), "got %s want %s", got, later)
	})
	t.Run("KeysAreIndependent", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.RecordFired(ctx, "c1", dataset.TriggerNewCritical, t0))
		_, ok, err := s.LastFired(ctx, "c2", dataset.TriggerNewCritical)
		require.NoError(t, err)
		require.False(t, ok, "other cluster")
		_, ok, err = s.LastFired(ctx, "c1", dataset.TriggerTierAtRisk)
		require.NoError(t, err)
		require.False(t, ok, "other trigger")
	})
	t.Run("OddClusterNames", func(t *testing.T) {
		s := newStore(t)
		for i, name := range []string{"prod-eu/west 1", "クラスタ", `quote'"\`, ""} {
			at := t0.Add(time.Duration(i) * time.Minute)
			require.NoError(t, s.RecordFired(ctx, name, dataset.TriggerNewCritical, at))
			got, ok, err := s.LastFired(ctx, name, dataset.TriggerNewCritical)
			require.NoError(t, err)
			require.True(t, ok, name)
			require.True(t, got.Equal(at), "%q: got %s want %s", name, got, at)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		s := newStore(t)
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := fmt.Sprintf("c%d", i)
				if err := s.RecordFired(ctx, c, dataset.TriggerNewCritical, t0); err != nil {
					errs <- err
					return
				}
				if _, ok, err := s.LastFired(ctx, c, dataset.TriggerNewCritical); err != nil || !ok {
					errs <- fmt.Errorf("%s: ok=%v err=%v", c, ok, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	})
}
