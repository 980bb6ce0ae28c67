package issues

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Store keeps issues and the ids of the alert messages already ingested.
// Implementations are safe for concurrent use. The Tracker serialises
// Updates per cluster within one process; a Store shared by several
// processes serialises them per cluster itself (SQLStore does on
// MySQL/MariaDB) or must have a single writer.
type Store interface {
	// Update loads the cluster's state for q, calls fn once with it and
	// writes fn's Change atomically (all of it or none), unless fn returns
	// an error, which Update then returns. It may call fn again after a
	// conflict (a deadlock, a lost race), each time with fresh state, so fn
	// must not have side effects of its own.
	Update(ctx context.Context, q Query, fn func(State) (Change, error)) error
	// Issues returns the issues matching f, newest (Opened) first, then by
	// ID.
	Issues(ctx context.Context, f Filter) ([]Issue, error)
}

// Query says what Store.Update loads.
type Query struct {
	// Cluster whose state is loaded and locked.
	Cluster string
	// MessageIDs to look up.
	MessageIDs []string
	// IssueIDs to load whatever their status (they belong to Cluster).
	IssueIDs []string
}

// State is what Store.Update loads for a Query.
type State struct {
	// Seen maps each id of Query.MessageIDs already stored to the id of its
	// issue.
	Seen map[string]string
	// Issues holds every Ongoing issue of the cluster, every issue named by
	// Query.IssueIDs and every issue Seen maps to; each once, in any order.
	Issues []Issue
}

// Change is what Store.Update writes.
type Change struct {
	// Issues are inserted, or replace the stored issue with the same ID.
	Issues []Issue
	// Messages are inserted; their ids are not stored yet.
	Messages []Message
}

// FiringCounter is a Store that also counts a cluster's firing alerts, as
// MemoryStore and SQLStore do: the health score's alert part reads it
// (scoring.AlertCounterFunc(store.CountFiring) is a scoring.AlertCounter),
// whatever the alerts' source.
type FiringCounter interface {
	// CountFiring returns the number of firing alert messages of cluster
	// whose StartsAt is in [from, to): each occurrence once, however often
	// it was delivered. An alert that began firing before from is not
	// counted, even if it still fires.
	CountFiring(ctx context.Context, cluster string, from, to time.Time) (int, error)
}

var (
	_ FiringCounter = (*MemoryStore)(nil)
	_ FiringCounter = (*SQLStore)(nil)
)

// Filter selects issues for Store.Issues. Zero fields match everything.
type Filter struct {
	// IDs, if any, are the only issue ids that match.
	IDs []string
	// Cluster, Status and Triage must equal the issue's.
	Cluster string
	Status  IssueStatus
	Triage  TriageStatus
	// Limit caps the number of issues returned; 0 means no limit.
	Limit int
}

func (f *Filter) match(is *Issue) bool {
	return (len(f.IDs) == 0 || slices.Contains(f.IDs, is.ID)) &&
		(f.Cluster == "" || f.Cluster == is.Cluster) &&
		(f.Status == "" || f.Status == is.Status) &&
		(f.Triage == "" || f.Triage == is.Triage)
}

func sortIssues(list []Issue) {
	slices.SortFunc(list, func(a, b Issue) int {
		if c := b.Opened.Compare(a.Opened); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// MemoryStore is an in-memory Store, for tests and single-process trackers
// that may forget everything on restart.
type MemoryStore struct {
	mu       sync.Mutex
	issues   map[string]*Issue
	messages map[string]Message
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{issues: map[string]*Issue{}, messages: map[string]Message{}}
}

var _ Store = (*MemoryStore)(nil)

// Update implements Store. It holds one lock for the whole call.
func (m *MemoryStore) Update(ctx context.Context, q Query, fn func(State) (Change, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	st := State{Seen: map[string]string{}}
	want := map[string]bool{}
	for _, id := range q.IssueIDs {
		want[id] = true
	}
	for _, id := range q.MessageIDs {
		if msg, ok := m.messages[id]; ok {
			st.Seen[id] = msg.IssueID
			want[msg.IssueID] = true
		}
	}
	for _, is := range m.issues {
		if is.Cluster == q.Cluster && (is.Status == Ongoing || want[is.ID]) {
			st.Issues = append(st.Issues, *is.clone())
		}
	}
	ch, err := fn(st)
	if err != nil {
		return err
	}
	for _, msg := range ch.Messages {
		if _, dup := m.messages[msg.ID]; dup {
			return fmt.Errorf("issues: memory store: message %s stored twice", msg.ID)
		}
	}
	for i := range ch.Issues {
		m.issues[ch.Issues[i].ID] = ch.Issues[i].clone()
	}
	for _, msg := range ch.Messages {
		m.messages[msg.ID] = msg
	}
	return nil
}

// Issues implements Store.
func (m *MemoryStore) Issues(ctx context.Context, f Filter) ([]Issue, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	var out []Issue
	for _, is := range m.issues {
		if f.match(is) {
			out = append(out, *is.clone())
		}
	}
	m.mu.Unlock()
	sortIssues(out)
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// Messages implements MessageLister.
func (m *MemoryStore) Messages(ctx context.Context, issueID string) ([]Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	var out []Message
	for _, msg := range m.messages {
		if msg.IssueID == issueID {
			out = append(out, msg)
		}
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Message) int {
		if c := a.Alert.StartsAt.Compare(b.Alert.StartsAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// CountFiring implements FiringCounter. It scans every message.
func (m *MemoryStore) CountFiring(ctx context.Context, cluster string, from, to time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, msg := range m.messages {
		a := &msg.Alert
		if msg.Cluster == cluster && a.Status == StatusFiring && !a.StartsAt.Before(from) && a.StartsAt.Before(to) {
			n++
		}
	}
	return n, nil
}
