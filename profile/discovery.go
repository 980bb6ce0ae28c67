package profile

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
)

// Discovery lists the endpoints (FE host:port) to poll. The Collector calls
// it once per cycle, so the list can change (pods restart with new IPs).
type Discovery interface {
	Discover(ctx context.Context) ([]string, error)
}

// DiscoveryFunc adapts a function to Discovery.
type DiscoveryFunc func(ctx context.Context) ([]string, error)

// Discover calls f.
func (f DiscoveryFunc) Discover(ctx context.Context) ([]string, error) { return f(ctx) }

// StaticDiscovery always returns addrs (host:port of each FE's HTTP port).
func StaticDiscovery(addrs ...string) Discovery {
	list := slices.Clone(addrs)
	return DiscoveryFunc(func(context.Context) ([]string, error) { return slices.Clone(list), nil })
}

// Resolver looks up the addresses of a host; *net.Resolver implements it.
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// DNSDiscovery returns one endpoint per address of a DNS name, with port
// appended: the A/AAAA records of a Kubernetes headless service list every
// FE pod ("<cluster>-fe-search.<ns>.svc.cluster.local", port 8030; there is
// no SRV record for the HTTP port). The headless service also lists pods
// that are not ready: expect their polls to fail until they are. hostport is
// "name:port"; r nil means net.DefaultResolver. Do not use the
// "<cluster>-fe-service" ClusterIP: it load-balances across FEs, whose queues
// differ.
func DNSDiscovery(hostport string, r Resolver) (Discovery, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("profile: DNS discovery: %q is not name:port", hostport)
	}
	if r == nil {
		r = net.DefaultResolver
	}
	return DiscoveryFunc(func(ctx context.Context) ([]string, error) {
		ips, err := r.LookupHost(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("profile: resolve %s: %w", host, err)
		}
		out := make([]string, 0, len(ips))
		for _, ip := range ips {
			out = append(out, net.JoinHostPort(ip, port))
		}
		slices.Sort(out)
		return slices.Compact(out), nil
	}), nil
}

// CheckpointStore saves and loads the sources' cursors, so a restarted
// collector resumes where it stopped (and reports a gap when it stopped for
// longer than the FE retention).
type CheckpointStore interface {
	Load(ctx context.Context) ([]Cursor, error)
	Save(ctx context.Context, cursors []Cursor) error
}

// FileCheckpoint is a CheckpointStore in a local JSON file, replaced
// atomically on each save.
type FileCheckpoint struct {
	path string
}

// NewFileCheckpoint returns a store at path. A missing file loads as empty.
func NewFileCheckpoint(path string) *FileCheckpoint { return &FileCheckpoint{path: path} }

// Load implements CheckpointStore.
func (f *FileCheckpoint) Load(context.Context) ([]Cursor, error) {
	b, err := os.ReadFile(f.path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("profile: load checkpoint: %w", err)
	}
	var cs []Cursor
	if err := json.Unmarshal(b, &cs); err != nil {
		return nil, fmt.Errorf("profile: load checkpoint %s: %w", f.path, err)
	}
	return cs, nil
}

// Save implements CheckpointStore.
func (f *FileCheckpoint) Save(_ context.Context, cs []Cursor) error {
	b, err := json.MarshalIndent(cs, "", "  ")
	if err != nil {
		return fmt.Errorf("profile: save checkpoint: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), "."+filepath.Base(f.path)+".*")
	if err != nil {
		return fmt.Errorf("profile: save checkpoint: %w", err)
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), f.path)
	}
	if werr != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("profile: save checkpoint: %w", werr)
	}
	return nil
}
