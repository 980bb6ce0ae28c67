package lark_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/issues/lark"
	"github.com/sqlshadow/sqlshadow/issues/lark/larktest"
)

// t0 is the simulated present: histories end before it.
var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// clock is a settable clock for tokens and runs.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// chatMessages adds n text messages to chat, one every step from start,
// and returns their ids.
func chatMessages(srv *larktest.Server, chat string, n int, start time.Time, step time.Duration) []string {
	var ids []string
	for i := range n {
		id := fmt.Sprintf("om_%s_%05d", chat, i)
		srv.Add(larktest.Message{ID: id, ChatID: chat, Type: "text", Created: start.Add(time.Duration(i) * step),
			Content: larktest.TextContent("hello")})
		ids = append(ids, id)
	}
	return ids
}

// walk lists chat from start to end and returns the ids and pages seen.
func walk(t *testing.T, c *lark.Client, chat string, start, end time.Time) ([]string, int) {
	t.Helper()
	var ids []string
	pages := 0
	err := c.Messages(context.Background(), chat, start, end, func(page []lark.Message) error {
		pages++
		for _, m := range page {
			require.False(t, m.Created.IsZero())
			ids = append(ids, m.ID)
		}
		return nil
	})
	require.NoError(t, err)
	return ids, pages
}

func TestClientWalksPagesWithOneToken(t *testing.T) {
	srv := larktest.NewServer(nil)
	defer srv.Close()
	want := chatMessages(srv, "oc_a", 120, t0.Add(-2*time.Hour), time.Minute)
	c := lark.NewClient(larktest.AppID, larktest.AppSecret, &lark.ClientOptions{BaseURL: srv.URL})

	ids, pages := walk(t, c, "oc_a", t0.Add(-3*time.Hour), t0)
	require.Equal(t, want, ids)
	require.Equal(t, 3, pages, "50 per page")
	// The bounds are seconds: the window's last second holds message 60.
	ids, _ = walk(t, c, "oc_a", t0.Add(-2*time.Hour), t0.Add(-time.Hour))
	require.Equal(t, want[:61], ids)

	n := srv.Counts()
	require.Equal(t, 1, n.TokenRequests, "the token is cached")
	require.Equal(t, 0, n.TokenErrors)
}

func TestClientTokenExpiryAndRejection(t *testing.T) {
	clk := &clock{t: t0}
	srv := larktest.NewServer(&larktest.Options{TokenTTL: 2 * time.Hour, Now: clk.Now})
	defer srv.Close()
	want := chatMessages(srv, "oc_a", 10, t0.Add(-time.Hour), time.Minute)
	c := lark.NewClient(larktest.AppID, larktest.AppSecret, &lark.ClientOptions{BaseURL: srv.URL, Now: clk.Now})

	ids, _ := walk(t, c, "oc_a", t0.Add(-2*time.Hour), t0)
	require.Equal(t, want, ids)
	// Within 3 minutes of its expiry the token is renewed before use: no
	// request is rejected. The server hands out a new one (under 30 min
	// left).
	clk.Add(2*time.Hour - 2*time.Minute)
	ids, _ = walk(t, c, "oc_a", t0.Add(-2*time.Hour), t0)
	require.Equal(t, want, ids)
	n := srv.Counts()
	require.Equal(t, 2, n.TokensIssued)
	require.Equal(t, 0, n.TokenErrors)

	// A token rejected before its expiry (99991663 with HTTP 200) is
	// dropped, a new one fetched, and the request repeated once.
	srv.RejectTokens()
	ids, _ = walk(t, c, "oc_a", t0.Add(-2*time.Hour), t0)
	require.Equal(t, want, ids)
	n = srv.Counts()
	require.Equal(t, 1, n.TokenErrors)
	require.Equal(t, 3, n.TokensIssued)
}

func TestClientErrors(t *testing.T) {
	srv := larktest.NewServer(nil)
	defer srv.Close()
	chatMessages(srv, "oc_a", 1, t0.Add(-time.Hour), time.Minute)
	ctx := context.Background()
	none := func([]lark.Message) error { return nil }

	c := lark.NewClient(larktest.AppID, "wrong", &lark.ClientOptions{BaseURL: srv.URL})
	err := c.Messages(ctx, "oc_a", t0.Add(-time.Hour), t0, none)
	var ae *lark.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, 10014, ae.Code)
	require.Equal(t, "token", ae.Op)

	c = lark.NewClient(larktest.AppID, larktest.AppSecret, &lark.ClientOptions{BaseURL: srv.URL})
	err = c.Messages(ctx, "oc_unknown", t0.Add(-time.Hour), t0, none)
	require.ErrorAs(t, err, &ae)
	require.Equal(t, 230002, ae.Code, "the bot is not in the group")
	require.Equal(t, 400, ae.HTTPStatus)
	require.NotEmpty(t, ae.LogID)

	// Server errors are retried with back-off.
	srv.FailNext(2)
	ids, _ := walk(t, c, "oc_a", t0.Add(-time.Hour), t0)
	require.Len(t, ids, 1)
	require.Equal(t, 2, srv.Counts().ServerErrors)

	// ... up to Retries times.
	c = lark.NewClient(larktest.AppID, larktest.AppSecret, &lark.ClientOptions{BaseURL: srv.URL, Retries: 1, MaxBackoff: time.Millisecond})
	srv.FailNext(2)
	err = c.Messages(ctx, "oc_a", t0.Add(-time.Hour), t0, none)
	require.ErrorContains(t, err, "gave up after 2 attempts")
	require.ErrorAs(t, err, &ae)
	require.Equal(t, 500, ae.HTTPStatus)

	// The caller's error stops the walk.
	stop := fmt.Errorf("stop")
	require.ErrorIs(t, c.Messages(ctx, "oc_a", t0.Add(-time.Hour), t0, func([]lark.Message) error { return stop }), stop)

	// Cancellation during a back-off returns at once.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	srv.FailNext(1)
	c = lark.NewClient(larktest.AppID, larktest.AppSecret, &lark.ClientOptions{BaseURL: srv.URL, MaxBackoff: time.Hour})
	start := time.Now()
	err = c.Messages(cctx, "oc_a", t0.Add(-time.Hour), t0, none)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 500*time.Millisecond, "the first back-off is 500-750 ms")
}

// The simulator's rate-limit answers (429, 99991400, x-ogw-ratelimit-reset)
// slow the client down without losing or repeating a page.
func TestClientRateLimited(t *testing.T) {
	srv := larktest.NewServer(&larktest.Options{PerSecond: 4})
	defer srv.Close()
	want := chatMessages(srv, "oc_a", 500, t0.Add(-10*time.Hour), time.Minute)
	// The client's own limit is above the server's, so the server limits.
	c := lark.NewClient(larktest.AppID, larktest.AppSecret, &lark.ClientOptions{BaseURL: srv.URL, PerSecond: 1000, PerMinute: 100000})
	start := time.Now()
	ids, pages := walk(t, c, "oc_a", t0.Add(-11*time.Hour), t0)
	took := time.Since(start)
	require.Equal(t, want, ids)
	require.Equal(t, 10, pages)
	n := srv.Counts()
	require.Positive(t, n.RateLimited)
	require.Equal(t, 10, n.Pages)
	// 10 pages at 4 per fixed second take at least 2 window changes.
	require.Greater(t, took, time.Second)
	t.Logf("%d pages, %d rate-limit answers, %s", pages, n.RateLimited, took)
}

// The client-side limiter keeps a walk under the API's limit: the server
// (limited to 5 per second) never has to say no to a client limited to 5.
func TestClientLimiter(t *testing.T) {
	srv := larktest.NewServer(&larktest.Options{PerSecond: 5})
	defer srv.Close()
	want := chatMessages(srv, "oc_a", 400, t0.Add(-10*time.Hour), time.Minute)
	c := lark.NewClient(larktest.AppID, larktest.AppSecret, &lark.ClientOptions{BaseURL: srv.URL, PerSecond: 4})
	start := time.Now()
	ids, pages := walk(t, c, "oc_a", t0.Add(-11*time.Hour), t0)
	require.Equal(t, want, ids)
	require.Equal(t, 8, pages)
	require.Zero(t, srv.Counts().RateLimited)
	require.GreaterOrEqual(t, time.Since(start), time.Second, "8 requests at 4/s: the 5th waits a second")
}
