package scoring

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrUnknownCount is returned by an AlertCounter that has no count for the
// cluster and window: the alerts part is then left out, never read as zero.
var ErrUnknownCount = errors.New("scoring: alert count unknown")

// AlertCounter counts a cluster's alerts. Implementations are safe for
// concurrent use.
type AlertCounter interface {
	// CountAlerts returns the number of distinct alerts that were firing for
	// cluster at any time in [from, to].
	CountAlerts(ctx context.Context, cluster string, from, to time.Time) (int, error)
}

// AlertCounterFunc adapts a function to the AlertCounter interface (for
// instance over the issues package's store).
type AlertCounterFunc func(ctx context.Context, cluster string, from, to time.Time) (int, error)

// CountAlerts implements AlertCounter.
func (f AlertCounterFunc) CountAlerts(ctx context.Context, cluster string, from, to time.Time) (int, error) {
	return f(ctx, cluster, from, to)
}

// TierSource returns a cluster's service tier ("S", "A", "B", ...).
type TierSource interface {
	Tier(ctx context.Context, cluster string) (string, error)
}

// StaticTiers is a TierSource over a fixed map; clusters not in it have tier
// "" (factor 1.0).
type StaticTiers map[string]string

// Tier implements TierSource.
func (t StaticTiers) Tier(_ context.Context, cluster string) (string, error) {
	return strings.ToUpper(t[cluster]), nil
}

// UniformTier is a TierSource that gives every cluster the same tier.
type UniformTier string

// Tier implements TierSource.
func (t UniformTier) Tier(context.Context, string) (string, error) {
	return strings.ToUpper(string(t)), nil
}

// ParseTier checks a tier name: one or more letters or digits, upper-cased.
func ParseTier(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	for _, r := range s {
		if !('A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return "", fmt.Errorf("scoring: bad tier %q", s)
		}
	}
	return s, nil
}
