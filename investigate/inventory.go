package investigate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/sqlshadow/sqlshadow/issues"
)

// Inventory is a fixed list of clusters: the Clusters tool for a fleet
// described in a file (see ReadInventory). It is safe for concurrent use.
type Inventory struct {
	clusters []Cluster
}

var _ Clusters = (*Inventory)(nil)

// NewInventory returns an Inventory of clusters.
func NewInventory(clusters []Cluster) *Inventory {
	return &Inventory{clusters: slices.Clone(clusters)}
}

// ReadInventory reads a JSON array of Cluster objects.
func ReadInventory(r io.Reader) (*Inventory, error) {
	var cs []Cluster
	if err := json.NewDecoder(r).Decode(&cs); err != nil {
		return nil, fmt.Errorf("investigate: read inventory: %w", err)
	}
	for i, c := range cs {
		if c.Name == "" {
			return nil, fmt.Errorf("investigate: read inventory: cluster %d has no name", i)
		}
	}
	return NewInventory(cs), nil
}

// Cluster implements Clusters.
func (in *Inventory) Cluster(ctx context.Context, name string) (Cluster, error) {
	for _, c := range in.clusters {
		if c.Name == name {
			return c, nil
		}
	}
	return Cluster{}, fmt.Errorf("%w: cluster %q", ErrNotFound, name)
}

// Siblings implements Clusters: the clusters sharing name's account, or its
// version, in inventory order.
func (in *Inventory) Siblings(ctx context.Context, name string) ([]Cluster, error) {
	self, err := in.Cluster(ctx, name)
	if err != nil {
		return nil, err
	}
	var out []Cluster
	for _, c := range in.clusters {
		if c.Name != name && ((self.Account != "" && c.Account == self.Account) || (self.Version != "" && c.Version == self.Version)) {
			out = append(out, c)
		}
	}
	return out, nil
}

// StoreAlerts is the Alerts tool on an issues.Store: the issues of the
// cluster that were firing at some time in the range.
type StoreAlerts struct {
	store issues.Store
}

var _ Alerts = (*StoreAlerts)(nil)

// NewStoreAlerts returns the Alerts tool over store.
func NewStoreAlerts(store issues.Store) *StoreAlerts { return &StoreAlerts{store: store} }

// Alerts implements Alerts: issues whose firing span [FirstFiring,
// ResolvedAt or now] overlaps [from, to], newest first.
func (a *StoreAlerts) Alerts(ctx context.Context, cluster string, from, to time.Time) ([]issues.Issue, error) {
	all, err := a.store.Issues(ctx, issues.Filter{Cluster: cluster})
	if err != nil {
		return nil, err
	}
	var out []issues.Issue
	for _, is := range all {
		end := is.ResolvedAt
		if end.IsZero() {
			end = to
		}
		if !is.FirstFiring.After(to) && !end.Before(from) {
			out = append(out, is)
		}
	}
	return out, nil
}

// alertSummary is one line for an issue.
func alertSummary(is *issues.Issue) string {
	return fmt.Sprintf("issue %s [%s, %s] %s: alerts %s, first firing %s",
		is.ID, is.Severity, is.Status, is.Title, strings.Join(is.AlertNames, ", "), is.FirstFiring.UTC().Format(time.RFC3339))
}
