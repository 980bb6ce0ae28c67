package mirror

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
)

// stuckSink is a sink on a dead bucket: Write and Flush block until their
// ctx ends. It reports the first Write of each target.
type stuckSink struct {
	mu      sync.Mutex
	entered map[string]chan struct{}
}

func newStuckSink() *stuckSink {
	return &stuckSink{entered: map[string]chan struct{}{
		dataset.TargetPrimary: make(chan struct{}), dataset.TargetShadow: make(chan struct{}),
	}}
}

func (s *stuckSink) Write(ctx context.Context, _ time.Time, record any) error {
	if r, ok := record.(*dataset.QueryLog); ok {
		s.mu.Lock()
		if ch := s.entered[r.Target]; ch != nil {
			close(ch)
			delete(s.entered, r.Target)
		}
		s.mu.Unlock()
	}
	<-ctx.Done()
	return ctx.Err()
}

func (s *stuckSink) Flush(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
func (s *stuckSink) Close(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }

// wait returns the channel closed by the first Write of target.
func (s *stuckSink) wait(target string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := s.entered[target]; ch != nil {
		return ch
	}
	done := make(chan struct{})
	close(done)
	return done
}

// proxyDSN returns srv's DSN pointed at the proxy listening on addr.
func proxyDSN(t *testing.T, srv *testdb.Server, addr string) string {
	t.Helper()
	cfg, err := mysql.ParseDSN(srv.DSN(""))
	require.NoError(t, err)
	cfg.Addr = addr
	return cfg.FormatDSN()
}

// TestStopJoinsWritersBlockedOnTheSink: with both the proxy's log goroutine
// and a shadow session blocked in Sink.Write, Close and a Shutdown whose ctx
// ends return, and no goroutine is left (leakCheck).
func TestStopJoinsWritersBlockedOnTheSink(t *testing.T) {
	for _, how := range []string{"Close", "Shutdown"} {
		t.Run(how, func(t *testing.T) {
			leakCheck(t)
			primary := rig.Server(t, 0)
			logs := newStuckSink()
			sh, err := NewShadow(rig.Server(t, 1).Addr(), &ShadowOptions{User: mariadb.User, Password: mariadb.Password, Sink: logs})
			require.NoError(t, err)
			p, err := New(primary.Addr(), &Options{Sink: logs, Mirror: sh, ConnectTimeout: 200 * time.Millisecond})
			require.NoError(t, err)
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			served := make(chan error, 1)
			go func() { served <- p.Serve(l) }()

			db := openDB(t, proxyDSN(t, primary, l.Addr().String()))
			for range 3 {
				_, err := db.Exec("SELECT 1")
				require.NoError(t, err)
			}
			require.NoError(t, db.Close())
			<-logs.wait(dataset.TargetPrimary)
			<-logs.wait(dataset.TargetShadow)

			stopped := make(chan error, 1)
			go func() {
				if how == "Close" {
					stopped <- p.Close() // its final flush is bounded by ConnectTimeout
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				defer cancel()
				stopped <- p.Shutdown(ctx)
			}()
			select {
			case err := <-stopped:
				require.ErrorIs(t, err, context.DeadlineExceeded)
			case <-time.After(time.Minute):
				t.Fatalf("%s did not return with the sink blocked", how)
			}
			require.ErrorIs(t, <-served, ErrProxyClosed)
			require.Positive(t, testutil.ToFloat64(p.m.logDropped), "the blocked primary record counts as dropped")
			require.Positive(t, testutil.ToFloat64(sh.metrics.logDrops), "so does the blocked shadow record")
			// The shadow was shut down with the proxy: it takes no session.
			_, err = sh.Open(context.Background(), SessionInfo{})
			require.ErrorIs(t, err, ErrShadowClosed)
		})
	}
}

// TestFlushDrainsTheShadow: Shadow.Flush returns once every submitted
// command has its record, and Proxy.Flush once both sides' records of every
// completed command are written; both keep serving.
func TestFlushDrainsTheShadow(t *testing.T) {
	leakCheck(t)
	srv := rig.Server(t, 1)
	name := srv.NewDatabase(t)
	sh, rec := newTestShadow(t, srv.Addr(), nil)
	s := openSession(t, sh, name)
	var ids []string
	for _, q := range []string{"SELECT 1", "SELECT SLEEP(0.2)", "SELECT 2"} {
		c := queryCmd(q)
		require.True(t, s.Submit(c))
		ids = append(ids, c.QueryID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, sh.Flush(ctx))
	recs := byQueryID(t, rec)
	for _, id := range ids {
		require.Contains(t, recs, id)
		require.True(t, recs[id].Success, recs[id].Error)
	}
	require.NoError(t, sh.Flush(ctx), "nothing queued: returns at once")

	// An ended ctx: Flush does not wait.
	c := queryCmd("SELECT SLEEP(0.2)")
	require.True(t, s.Submit(c))
	ended, cancelEnded := context.WithCancel(context.Background())
	cancelEnded()
	require.ErrorIs(t, sh.Flush(ended), context.Canceled)
	require.NoError(t, sh.Flush(ctx))
	require.Contains(t, byQueryID(t, rec), c.QueryID)
	require.NoError(t, s.Close())

	// Through the proxy.
	mr := startMirror(t, srv.Addr(), nil)
	db := openDB(t, mr.dsn(t, rig.Server(t, 0), "", nil))
	_, err := db.Exec("SELECT SLEEP(0.2)")
	require.NoError(t, err)
	require.NoError(t, mr.Flush(ctx))
	targets := map[string]int{}
	for _, m := range mr.rec.Maps() {
		if m["command"] == "COM_QUERY" && m["query_text"] == "SELECT SLEEP(0.2)" {
			targets[m["target"].(string)]++
		}
	}
	require.Equal(t, map[string]int{dataset.TargetPrimary: 1, dataset.TargetShadow: 1}, targets)
	_, err = db.Exec("SELECT 1")
	require.NoError(t, err, "the proxy keeps serving after Flush")
}
