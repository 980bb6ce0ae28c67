package lark_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/issues"
	"github.com/sqlshadow/sqlshadow/issues/lark"
	"github.com/sqlshadow/sqlshadow/issues/lark/larktest"
)

const chat = "oc_5ad11d72b830411d72b836c20"

// history is a simulated alert chat and what it should give.
type history struct {
	srv *larktest.Server
	// alerts maps each expected alert id (om_...#N) to its create time.
	alerts map[string]time.Time
	n      int
}

// add appends message i at time at: a mix of alert cards (one section, or
// a firing and a resolved one), chat noise, placeholders and recalled
// cards, as a real alert group has.
func (h *history) add(at time.Time) {
	i := h.n
	h.n++
	id := fmt.Sprintf("om_%032x", i)
	cluster := fmt.Sprintf("c-%02d", i%7)
	sec := larktest.Section{ClusterName: "sr-" + cluster, ClusterID: cluster, Region: "us-west-2", Account: "acct",
		Status: "Firing", AlertName: fmt.Sprintf("Rule%d", i%5), Detail: "detail",
		DashboardURL: "https://grafana.example.com/d/x"}
	m := larktest.Message{ID: id, ChatID: chat, Created: at, Content: larktest.StarRocksCard("StarRocks alert", sec)}
	switch {
	case i%9 == 4:
		m.Type, m.Content = "text", larktest.TextContent("looking into it")
	case i%11 == 5:
		m.Content = larktest.PlaceholderCard()
	case i%13 == 6:
		m.Deleted = true
	case i%4 == 0:
		res := sec
		res.Status, res.AlertName = "Resolved", "Other"+sec.AlertName
		m.Content = larktest.StarRocksCard("StarRocks alerts", sec, res)
		h.alerts[id+"#1"], h.alerts[id+"#2"] = at, at
	default:
		h.alerts[id+"#1"] = at
	}
	h.srv.Add(m)
}

// since returns the expected alert ids created at or after t.
func (h *history) since(t time.Time) []string {
	var out []string
	for id, at := range h.alerts {
		if !at.Before(t) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// storedLark returns the ids (Alert.ID) of the Lark alerts store holds,
// sorted, failing on a duplicate.
func storedLark(t *testing.T, tr *issues.Tracker, store issues.MessageLister) []string {
	t.Helper()
	ctx := context.Background()
	list, err := tr.Issues(ctx, issues.Filter{})
	require.NoError(t, err)
	var ids []string
	for _, is := range list {
		msgs, err := store.Messages(ctx, is.ID)
		require.NoError(t, err)
		for _, m := range msgs {
			if m.Alert.Source == lark.SourceLark {
				ids = append(ids, m.Alert.ID)
			}
		}
	}
	slices.Sort(ids)
	require.Equal(t, slices.Compact(slices.Clone(ids)), ids, "an alert stored twice")
	return ids
}

type rigSetup struct {
	clk     *clock
	h       *history
	tr      *issues.Tracker
	store   issues.MessageLister
	cursors lark.CursorStore
	legacy  lark.LegacyWriter
	client  *lark.Client
	db      *sql.DB
}

func newSetup(t *testing.T, onSQL bool) *rigSetup {
	clk := &clock{t: t0}
	srv := larktest.NewServer(&larktest.Options{Now: clk.Now})
	t.Cleanup(srv.Close)
	s := &rigSetup{clk: clk, h: &history{srv: srv, alerts: map[string]time.Time{}}}
	var store interface {
		issues.Store
		issues.MessageLister
	}
	if onSQL {
		ctx := context.Background()
		srvDB := rig.Server(t, 0)
		db := srvDB.Open(t, srvDB.NewDatabase(t))
		s.db = db
		var err error
		store, err = issues.NewSQLStore(ctx, db, nil)
		require.NoError(t, err)
		s.cursors, err = lark.NewSQLCursorStore(ctx, db, "")
		require.NoError(t, err)
		s.legacy, err = lark.NewSQLLegacyTable(ctx, db, "lark_alert_cards")
		require.NoError(t, err)
	} else {
		store = issues.NewMemoryStore()
		s.cursors = lark.NewMemoryCursorStore()
	}
	s.store = store
	s.tr = issues.NewTracker(store, &issues.TrackerOptions{Now: clk.Now})
	s.client = lark.NewClient(larktest.AppID, larktest.AppSecret, &lark.ClientOptions{BaseURL: srv.URL, Now: clk.Now})
	return s
}

func (s *rigSetup) source(ing lark.Ingester) *lark.Source {
	if ing == nil {
		ing = s.tr
	}
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	return lark.NewSource(s.client, ing, &lark.SourceOptions{
		Cursors: s.cursors, Legacy: s.legacy, Now: s.clk.Now, Location: shanghai,
	})
}

// Backfill, then catch-up, then today over the same history give each
// alert exactly once, and the cursor's boundary second is re-read without
// a duplicate.
func TestModesIngestEachAlertOnce(t *testing.T) {
	for _, onSQL := range []bool{false, true} {
		t.Run(map[bool]string{false: "memory", true: "mariadb"}[onSQL], func(t *testing.T) {
			s := newSetup(t, onSQL)
			ctx := context.Background()
			// 40 days, one message every 30 min.
			for at := t0.Add(-40 * 24 * time.Hour); at.Before(t0); at = at.Add(30 * time.Minute) {
				s.h.add(at)
			}
			src := s.source(nil)

			st, err := src.Run(ctx, chat, lark.Backfill(30))
			require.NoError(t, err)
			want := s.h.since(t0.Add(-30 * 24 * time.Hour))
			require.Equal(t, len(want), st.New)
			require.Equal(t, len(want), st.Alerts)
			require.Zero(t, st.Duplicates)
			require.Positive(t, st.Recalled)
			require.Positive(t, st.NotAlerts)
			require.Positive(t, st.Placeholders)
			require.Equal(t, st.Placeholders, st.Unparseable)
			require.Greater(t, st.Pages, 25)
			require.Equal(t, want, storedLark(t, s.tr, s.store))

			// New messages: two in one second, the second arriving after a
			// catch-up has read the first.
			boundary := t0.Add(10*time.Minute + 100*time.Millisecond)
			s.h.add(t0.Add(time.Minute))
			s.h.add(boundary)
			s.clk.Add(10*time.Minute + 500*time.Millisecond)
			st, err = src.Run(ctx, chat, lark.CatchUp())
			require.NoError(t, err)
			require.Equal(t, 1, st.Skipped, "the last backfilled message, in the cursor's second")
			s.h.add(boundary.Add(700 * time.Millisecond))
			s.clk.Add(10 * time.Minute)
			st, err = src.Run(ctx, chat, lark.CatchUp())
			require.NoError(t, err)
			require.Equal(t, 2, st.Messages, "the boundary second is read again")
			require.Equal(t, 1, st.Skipped)
			require.Equal(t, st.Alerts, st.New)

			// Today (since midnight in Shanghai, UTC+8) reads everything
			// again: nothing new.
			st, err = src.Run(ctx, chat, lark.Today())
			require.NoError(t, err)
			midnight := time.Date(2026, 11, 21, 16, 0, 0, 0, time.UTC) // 2026-11-22 00:00 +08:00
			if s.clk.Now().Before(midnight) {
				midnight = midnight.Add(-24 * time.Hour)
			}
			require.Equal(t, len(s.h.since(midnight)), st.Alerts)
			require.Zero(t, st.New)
			require.Equal(t, st.Alerts, st.Duplicates)

			st, err = src.Run(ctx, chat, lark.Backfill(30))
			require.NoError(t, err)
			require.Zero(t, st.New)
			require.Equal(t, s.h.since(t0.Add(-30*24*time.Hour)), storedLark(t, s.tr, s.store))

			// Two sections of one card are two alerts, with the card's id
			// and their index.
			var two issues.Message
			list, err := s.tr.Issues(ctx, issues.Filter{})
			require.NoError(t, err)
			for _, is := range list {
				msgs, err := s.store.Messages(ctx, is.ID)
				require.NoError(t, err)
				for _, m := range msgs {
					if m.ID == fmt.Sprintf("om_%032x#2", 1000)+issues.ResolvedSuffix {
						two = m
					}
				}
			}
			require.Equal(t, issues.StatusResolved, two.Alert.Status)
			require.Equal(t, "OtherRule0", two.Alert.Name())
			require.Equal(t, "c-06", two.Cluster)
			require.Equal(t, "https://grafana.example.com/d/x", two.Alert.Annotations["dashboard_url"])
		})
	}
}

// failingIngester fails (or cancels the run) on its nth call.
type failingIngester struct {
	tr     *issues.Tracker
	n      int
	cancel context.CancelFunc
	mu     sync.Mutex
	calls  int
}

var errCrash = errors.New("crash")

func (f *failingIngester) Ingest(ctx context.Context, alerts []issues.Alert) (issues.Result, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.mu.Unlock()
	if n == f.n {
		if f.cancel != nil {
			f.cancel()
			return issues.Result{}, ctx.Err()
		}
		return issues.Result{}, errCrash
	}
	return f.tr.Ingest(ctx, alerts)
}

// A run stopped half-way (a failure, or its context cancelled) resumes
// with catch-up from the cursor, and every alert is stored once.
func TestInterruptedRunResumes(t *testing.T) {
	for _, how := range []string{"failure", "cancel"} {
		t.Run(how, func(t *testing.T) {
			s := newSetup(t, false)
			for at := t0.Add(-5 * 24 * time.Hour); at.Before(t0); at = at.Add(20 * time.Minute) {
				s.h.add(at)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f := &failingIngester{tr: s.tr, n: 4}
			if how == "cancel" {
				f.cancel = cancel
			}
			st, err := s.source(f).Run(ctx, chat, lark.Backfill(7))
			if how == "cancel" {
				require.ErrorIs(t, err, context.Canceled)
			} else {
				require.ErrorIs(t, err, errCrash)
			}
			require.Equal(t, 4, st.Pages)
			first := st.New
			require.Positive(t, first)
			want := s.h.since(t0.Add(-7 * 24 * time.Hour))
			require.Less(t, first, len(want))

			st, err = s.source(nil).Run(context.Background(), chat, lark.CatchUp())
			require.NoError(t, err)
			require.Equal(t, len(want), first+st.New)
			require.Equal(t, want, storedLark(t, s.tr, s.store))
		})
	}
}

// A card edited from firing to resolved (same message, new content)
// resolves its own firing: the resolution joins the firing's issue.
func TestEditedCardResolvesItsFiring(t *testing.T) {
	s := newSetup(t, false)
	sec := firingSection
	s.h.srv.Add(larktest.Message{ID: "om_edit", ChatID: chat, Created: t0.Add(-time.Hour), Content: larktest.StarRocksCard("alert", sec)})
	src := s.source(nil)
	ctx := context.Background()
	st, err := src.Run(ctx, chat, lark.Today())
	require.NoError(t, err)
	require.Equal(t, 1, st.New)

	sec.Status = "Resolved"
	s.h.srv.Edit("om_edit", larktest.StarRocksCard("alert", sec), "", t0.Add(-time.Minute))
	st, err = src.Run(ctx, chat, lark.Today())
	require.NoError(t, err)
	require.Equal(t, 1, st.New)
	list, err := s.tr.Issues(ctx, issues.Filter{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	msgs, err := s.store.Messages(ctx, list[0].ID)
	require.NoError(t, err)
	require.Len(t, msgs, 2)
	resolved := slices.IndexFunc(msgs, func(m issues.Message) bool { return m.Alert.Status == issues.StatusResolved })
	require.GreaterOrEqual(t, resolved, 0)
	require.Equal(t, t0.Add(-time.Minute), msgs[resolved].Alert.EndsAt)
	require.Equal(t, "om_edit#1"+issues.ResolvedSuffix, msgs[resolved].ID)
	require.Equal(t, "om_edit#1", msgs[1-resolved].ID)
	require.Equal(t, 0, list[0].Firing, "the resolution released the issue")
}

// CardsAsSent reads the cards as sent (JSON 1.0 and 2.0) where the default
// projection has only a placeholder.
func TestCardsAsSent(t *testing.T) {
	s := newSetup(t, false)
	s.h.srv.Add(larktest.Message{ID: "om_v2", ChatID: chat, Created: t0.Add(-time.Hour),
		Content: larktest.PlaceholderCard(), AsSent: larktest.StarRocksCardAsSent("alert", firingSection, resolvedSection)})
	ctx := context.Background()
	st, err := s.source(nil).Run(ctx, chat, lark.Today())
	require.NoError(t, err)
	require.Equal(t, 1, st.Placeholders)
	require.Zero(t, st.Alerts)
	require.Equal(t, []lark.Problem{{MessageID: "om_v2", Reason: "placeholder card (read cards as sent to see its content)"}}, st.Problems)

	s.client = lark.NewClient(larktest.AppID, larktest.AppSecret, &lark.ClientOptions{BaseURL: s.h.srv.URL, CardsAsSent: true})
	st, err = s.source(nil).Run(ctx, chat, lark.Today())
	require.NoError(t, err)
	require.Zero(t, st.Placeholders)
	require.Equal(t, 2, st.New)
}

func TestSQLCursorStore(t *testing.T) {
	srvDB := rig.Server(t, 0)
	db := srvDB.Open(t, srvDB.NewDatabase(t))
	ctx := context.Background()
	sqlStore, err := lark.NewSQLCursorStore(ctx, db, "x_")
	require.NoError(t, err)
	for name, cs := range map[string]lark.CursorStore{"memory": lark.NewMemoryCursorStore(), "mariadb": sqlStore} {
		t.Run(name, func(t *testing.T) {
			c, err := cs.Cursor(ctx, "oc_1")
			require.NoError(t, err)
			require.Zero(t, c)
			at := time.UnixMilli(1795000000123).UTC()
			require.NoError(t, cs.SetCursor(ctx, "oc_1", lark.Cursor{Time: at, IDs: []string{"om_a"}}))
			require.NoError(t, cs.SetCursor(ctx, "oc_1", lark.Cursor{Time: at.Add(400 * time.Millisecond), IDs: []string{"om_a", "om_b"}}))
			require.NoError(t, cs.SetCursor(ctx, "oc_1", lark.Cursor{Time: at.Add(-time.Hour), IDs: []string{"om_old"}}), "never back")
			c, err = cs.Cursor(ctx, "oc_1")
			require.NoError(t, err)
			require.Equal(t, lark.Cursor{Time: at.Add(400 * time.Millisecond), IDs: []string{"om_a", "om_b"}}, c)
			c, err = cs.Cursor(ctx, "oc_2")
			require.NoError(t, err)
			require.Zero(t, c)
		})
	}
	_, err = lark.NewSQLCursorStore(ctx, db, "bad-prefix")
	require.Error(t, err)
}

// The legacy shape: one row per alert card, fields joined with "|";
// re-reading replaces the rows.
func TestLegacyRows(t *testing.T) {
	s := newSetup(t, true)
	s.h.srv.Add(
		larktest.Message{ID: "om_two", ChatID: chat, Created: t0.Add(-time.Hour), Content: larktest.StarRocksCard("a", firingSection, resolvedSection)},
		larktest.Message{ID: "om_one", ChatID: chat, Created: t0.Add(-time.Minute), Content: larktest.StarRocksCard("a", firingSection)},
		larktest.Message{ID: "om_text", ChatID: chat, Type: "text", Created: t0.Add(-time.Minute), Content: larktest.TextContent("hi")},
	)
	ctx := context.Background()
	for range 2 {
		_, err := s.source(nil).Run(ctx, chat, lark.Backfill(1))
		require.NoError(t, err)
	}
	rows, err := s.db.QueryContext(ctx, "SELECT message_id, alerts, status, alertname, cluster_name, silence_url FROM lark_alert_cards ORDER BY message_id")
	require.NoError(t, err)
	defer rows.Close()
	var got [][]string
	for rows.Next() {
		r := make([]string, 6)
		require.NoError(t, rows.Scan(&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]))
		got = append(got, r)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, [][]string{
		{"om_one", "1", "firing", "BeAliveAbnormal", "sr-dw-analytics", firingSection.SilenceURL},
		{"om_two", "2", "firing|resolved", "BeAliveAbnormal|FeQueryLatencyHigh", "sr-dw-analytics|sr-dw-analytics", firingSection.SilenceURL + "|"},
	}, got)
}

func TestRunAndReadSecret(t *testing.T) {
	s := newSetup(t, false)
	s.h.srv.Add(larktest.Message{ID: "om_one", ChatID: chat, Created: time.Now().Add(-time.Minute), Content: larktest.StarRocksCard("a", firingSection)})
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(file, []byte(larktest.AppSecret+"\n"), 0o600))
	secret, err := lark.ReadSecret(func(string) string { return "from-env" }, file)
	require.NoError(t, err)
	require.Equal(t, larktest.AppSecret, secret)
	env, err := lark.ReadSecret(func(k string) string { return map[string]string{lark.SecretEnv: "from-env"}[k] }, "")
	require.NoError(t, err)
	require.Equal(t, "from-env", env)
	_, err = lark.ReadSecret(func(string) string { return "" }, "")
	require.ErrorContains(t, err, lark.SecretEnv)

	mode, err := lark.ParseMode("backfill=30")
	require.NoError(t, err)
	require.Equal(t, "backfill=30", mode.String())
	for _, bad := range []string{"backfill=0", "backfill", "yesterday", ""} {
		_, err := lark.ParseMode(bad)
		require.Error(t, err, bad)
	}

	st, err := lark.Run(context.Background(), lark.Config{
		AppID: larktest.AppID, AppSecret: secret, BaseURL: s.h.srv.URL, Chats: []string{chat, "oc_missing"}, Mode: lark.Backfill(1),
	}, s.tr, nil, nil)
	require.ErrorContains(t, err, "chat oc_missing")
	require.Equal(t, 1, st.New)
}
