package issues_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/issues"
)

// naiveStore is a Store with no serialisation of its own: Update loads,
// waits a little, calls fn and writes, with other Updates free to run in
// between. Only the Tracker's per-cluster lock keeps it correct.
type naiveStore struct {
	mu     sync.Mutex
	issues map[string]issues.Issue
	msgs   map[string]string
}

func (s *naiveStore) Update(ctx context.Context, q issues.Query, fn func(issues.State) (issues.Change, error)) error {
	s.mu.Lock()
	st := issues.State{Seen: map[string]string{}}
	for _, id := range q.MessageIDs {
		if is, ok := s.msgs[id]; ok {
			st.Seen[id] = is
		}
	}
	for _, is := range s.issues {
		if is.Cluster == q.Cluster {
			is.AlertNames = append([]string(nil), is.AlertNames...)
			st.Issues = append(st.Issues, is)
		}
	}
	s.mu.Unlock()
	time.Sleep(time.Millisecond) // let others load the same state
	ch, err := fn(st)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, is := range ch.Issues {
		s.issues[is.ID] = is
	}
	for _, m := range ch.Messages {
		s.msgs[m.ID] = m.IssueID
	}
	return nil
}

func (s *naiveStore) Issues(_ context.Context, f issues.Filter) ([]issues.Issue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []issues.Issue
	for _, is := range s.issues {
		if f.Cluster == "" || is.Cluster == f.Cluster {
			out = append(out, is)
		}
	}
	return out, nil
}

// Within one process, the Tracker serialises each cluster whatever the
// store: many goroutines delivering the same alerts create each alert and
// each issue once.
func TestTrackerSerialisesClusters(t *testing.T) {
	store := &naiveStore{issues: map[string]issues.Issue{}, msgs: map[string]string{}}
	tr := issues.NewTracker(store, &issues.TrackerOptions{Now: func() time.Time { return base.Add(time.Minute) }})
	var batch []issues.Alert
	for i := range 4 {
		for _, c := range []string{"c1", "c2", "c3"} {
			a := alert("OperationAbnormal", fmt.Sprintf("fe%d", i), time.Duration(i)*time.Second, "")
			a.Labels["cluster_id"] = c
			batch = append(batch, a)
		}
	}
	const senders = 32
	var wg sync.WaitGroup
	var mu sync.Mutex
	newTotal := 0
	errs := make(chan error, senders)
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each sender delivers the batch in its own order.
			r, err := tr.Ingest(context.Background(), append([]issues.Alert(nil), batch...))
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			newTotal += r.New
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, len(batch), newTotal)
	list, err := store.Issues(context.Background(), issues.Filter{})
	require.NoError(t, err)
	require.Len(t, list, 3, "one issue per cluster")
	for _, is := range list {
		require.Equal(t, 4, is.Alerts, is.Cluster)
	}
}
