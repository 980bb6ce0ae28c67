package profile_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/hashing"
	"github.com/sqlshadow/sqlshadow/profile"
	"github.com/sqlshadow/sqlshadow/profile/profiletest"
	"github.com/sqlshadow/sqlshadow/sink"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

var t0 = time.Date(2025, 9, 5, 3, 46, 53, 0, time.UTC)

type harness struct {
	clock *profiletest.Clock
	fes   []*profiletest.FE
	rec   *sinktest.Recorder
	c     *profile.Collector
	reg   *prometheus.Registry
}

// newHarness starts n simulated FEs sharing a manual clock and a Collector
// polling them. feo and fo are adjusted: shared clock, fast retries.
func newHarness(t *testing.T, n int, feo profiletest.Options, fo profile.FEOptions, o profile.Options) *harness {
	t.Helper()
	h := &harness{clock: profiletest.NewClock(t0), rec: &sinktest.Recorder{}, reg: prometheus.NewRegistry()}
	feo.Now = h.clock.Now
	var addrs []string
	for range n {
		fe := profiletest.NewFE(&feo)
		t.Cleanup(fe.Close)
		h.fes = append(h.fes, fe)
		addrs = append(addrs, fe.Addr())
	}
	fo.Now = h.clock.Now
	if fo.Backoff == 0 {
		fo.Backoff = time.Millisecond
	}
	o.FE = &fo
	if o.Cluster == "" {
		o.Cluster = "prod"
	}
	o.Registerer = h.reg
	c, err := profile.NewCollector(h.rec, profile.StaticDiscovery(addrs...), &o)
	require.NoError(t, err)
	h.c = c
	t.Cleanup(func() { // release idle connections, as Run does at its end
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = c.Run(ctx)
	})
	return h
}

func (h *harness) poll(t *testing.T) error {
	t.Helper()
	return h.c.Poll(context.Background())
}

func records(t *testing.T, rec *sinktest.Recorder, kind string) []dataset.Profile {
	t.Helper()
	all, err := sinktest.Decode[dataset.Profile](rec)
	require.NoError(t, err)
	var out []dataset.Profile
	for _, r := range all {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

func byID(recs []dataset.Profile) map[string][]dataset.Profile {
	m := map[string][]dataset.Profile{}
	for _, r := range recs {
		m[r.SRQueryID] = append(m[r.SRQueryID], r)
	}
	return m
}

func TestCollectorWritesEachFinishedStatementOnce(t *testing.T) {
	h := newHarness(t, 2, profiletest.Options{}, profile.FEOptions{NoProfiles: true}, profile.Options{})
	fe0, fe1 := h.fes[0], h.fes[1]
	sql := "select ss_store_sk, sum(ss_net_paid) from store_sales where ss_quantity >= 10 and s = 'x<y&z' group by 1"
	ok := fe0.Run(profiletest.Query{SQL: sql, User: "analyst", Database: "tpcds", ConnID: 12, RemoteIP: "10.42.3.17",
		Latency: 92 * time.Millisecond, ScanRows: 2880404, ScanBytes: 19652231, ReturnRows: 12, CPUCostNs: 251340117,
		MemCostBytes: 6638592, SpillBytes: 0, ResourceGroup: "default_wg"})
	failed := fe1.Run(profiletest.Query{SQL: "select * from no_such_table", Failed: true,
		ErrorMessage: "Getting analyzing error. Detail message: Unknown table 'tpcds.no_such_table'."})
	fe1.Run(profiletest.Query{SQL: "create table t (a int)", NotQuery: true})
	fe0.Login("analyst", "10.42.3.17", false)
	fe0.Login("intruder", "10.42.3.18", true)
	running := fe0.Begin(profiletest.Query{SQL: "select sleep(10)"})

	require.NoError(t, h.poll(t))
	h.clock.Advance(time.Second)
	require.NoError(t, h.poll(t)) // re-reads the overlap: nothing new
	running.End()
	h.clock.Advance(time.Second)
	require.NoError(t, h.poll(t))

	st := records(t, h.rec, dataset.ProfileStatement)
	require.Len(t, st, 3, "two finished queries and the one that finished later; no RUNNING, DDL or logins")
	ids := byID(st)
	require.Len(t, ids[ok], 1)
	r := ids[ok][0]
	require.Equal(t, "prod", r.Cluster)
	require.Equal(t, fe0.Addr(), r.FEHost)
	require.Equal(t, dataset.SourceStarRocksFE, r.Source)
	require.Equal(t, dataset.StateFinished, r.State)
	require.Equal(t, sql, r.SQLText, "Gson escapes decode back to the original text")
	require.Equal(t, hashing.QueryHash(sql), r.QueryHash)
	require.Equal(t, hashing.TemplateHash(sql), r.TemplateHash)
	require.Equal(t, "analyst", r.User)
	require.Equal(t, "tpcds", r.Database)
	require.Equal(t, "10.42.3.17", r.ClientAddr)
	require.Equal(t, int64(12), *r.ServerConnID)
	require.Equal(t, 92.0, *r.DurationMS)
	require.Equal(t, int64(251340117), *r.CPUCostNs)
	require.Equal(t, int64(2880404), *r.ScanRows)
	require.Equal(t, int64(19652231), *r.ScanBytes)
	require.Equal(t, int64(0), *r.SpillBytes, "a reported zero is kept")
	require.Nil(t, r.CacheMissRatio)
	require.Equal(t, "default_wg", r.ResourceGroup)
	require.Greater(t, r.EventTime, int64(1)<<53, "eventTime kept exactly as an int64")
	require.Equal(t, time.Time(*r.StartTime), time.Time(r.TS))

	f := ids[failed][0]
	require.Equal(t, dataset.StateFailed, f.State)
	require.Contains(t, f.ErrorMessage, "Unknown table")

	// Field names are the public contract.
	m := h.rec.Maps()[0]
	for _, k := range []string{"ts", "cluster", "fe_host", "sr_query_id", "state", "database", "user", "start_time",
		"end_time", "duration_ms", "sql_text", "query_hash", "template_hash", "source", "cpu_cost_ns"} {
		require.Contains(t, m, k)
	}
	require.Equal(t, 3.0, metricValue(t, h.reg, "sqlshadow_profile_records_total", "statement"))
}

func TestIncludeNonQuery(t *testing.T) {
	h := newHarness(t, 1, profiletest.Options{}, profile.FEOptions{NoProfiles: true, IncludeNonQuery: true}, profile.Options{})
	h.fes[0].Run(profiletest.Query{SQL: "insert into t values (1)", NotQuery: true})
	h.fes[0].Login("analyst", "10.0.0.1", false) // no sql: never emitted
	require.NoError(t, h.poll(t))
	st := records(t, h.rec, dataset.ProfileStatement)
	require.Len(t, st, 1)
	require.False(t, *st[0].IsQuery)
}

func TestDuplicatesAcrossFEsAreWrittenOnce(t *testing.T) {
	h := newHarness(t, 2, profiletest.Options{}, profile.FEOptions{}, profile.Options{})
	// A statement forwarded from fe0 to the leader fe1: both record it; fe0
	// coordinated it and has its profile.
	id := profiletest.NewQueryID()
	h.fes[0].Run(profiletest.Query{ID: id, SQL: "select 1", Profile: profiletest.SampleProfile(id, "select 1"),
		AlsoOn: []*profiletest.FE{h.fes[1]}})
	require.NoError(t, h.poll(t))
	h.clock.Advance(20 * time.Second) // fe1's copy gives up waiting for a profile
	require.NoError(t, h.poll(t))

	st := records(t, h.rec, dataset.ProfileStatement)
	require.Len(t, st, 1)
	require.Equal(t, h.fes[0].Addr(), st[0].FEHost)
	require.NotEmpty(t, st[0].ProfileText)
	require.Equal(t, 1.0, metricValue(t, h.reg, "sqlshadow_profile_duplicates_total"))
}

func TestOverlapCatchesOutOfOrderAppends(t *testing.T) {
	h := newHarness(t, 1, profiletest.Options{}, profile.FEOptions{NoProfiles: true}, profile.Options{})
	fe := h.fes[0]
	a := fe.Run(profiletest.Query{SQL: "select 'a'"})
	require.NoError(t, h.poll(t))
	// The FE stamps eventTime before appending, without one lock across
	// both: a record can land after the poll with a smaller eventTime.
	h.clock.Advance(-500 * time.Millisecond)
	b := fe.Run(profiletest.Query{SQL: "select 'b'"})
	h.clock.Advance(time.Second)
	require.NoError(t, h.poll(t))
	require.NoError(t, h.poll(t))
	ids := byID(records(t, h.rec, dataset.ProfileStatement))
	require.Len(t, ids, 2)
	require.Len(t, ids[a], 1)
	require.Len(t, ids[b], 1)
	// The cursor is sent as an int64 pseudo-nanosecond count, never as ms.
	require.Greater(t, fe.Requests("/api/query_detail"), 2)
}

func TestGapWhenPollsStopLongerThanRetention(t *testing.T) {
	h := newHarness(t, 1, profiletest.Options{}, profile.FEOptions{NoProfiles: true}, profile.Options{})
	fe := h.fes[0]
	fe.Run(profiletest.Query{SQL: "select 1"})
	require.NoError(t, h.poll(t))
	h.clock.Advance(5 * time.Second)
	lost := fe.Run(profiletest.Query{SQL: "select 2"})
	h.clock.Advance(40 * time.Second) // no poll: "select 2" expires
	kept := fe.Run(profiletest.Query{SQL: "select 3"})
	require.NoError(t, h.poll(t))

	gaps := records(t, h.rec, dataset.ProfileGap)
	require.Len(t, gaps, 1)
	g := gaps[0]
	require.Equal(t, fe.Addr(), g.FEHost)
	require.Contains(t, g.GapReason, "no successful poll")
	require.True(t, time.Time(*g.GapFrom).Before(time.Time(*g.GapTo)))
	ids := byID(records(t, h.rec, dataset.ProfileStatement))
	require.NotContains(t, ids, lost)
	require.Contains(t, ids, kept)
	require.Equal(t, 1.0, metricValue(t, h.reg, "sqlshadow_profile_gaps_total", fe.Addr()))
}

func TestGapWhenFERestarts(t *testing.T) {
	for _, token := range []string{"", "cluster-token"} {
		t.Run(fmt.Sprintf("token=%q", token), func(t *testing.T) {
			h := newHarness(t, 1, profiletest.Options{Token: token},
				profile.FEOptions{NoProfiles: true, ClusterToken: token}, profile.Options{})
			fe := h.fes[0]
			fe.Run(profiletest.Query{SQL: "select 1"})
			require.NoError(t, h.poll(t))
			h.clock.Advance(time.Second)
			lost := fe.Run(profiletest.Query{SQL: "select 2"})
			fe.Restart() // the queue lived only in memory
			h.clock.Advance(time.Second)
			after := fe.Run(profiletest.Query{SQL: "select 3"})
			require.NoError(t, h.poll(t))

			gaps := records(t, h.rec, dataset.ProfileGap)
			require.Len(t, gaps, 1)
			require.Contains(t, gaps[0].GapReason, "restarted")
			ids := byID(records(t, h.rec, dataset.ProfileStatement))
			require.NotContains(t, ids, lost)
			require.Contains(t, ids, after)

			// A quiet FE is not a restarted one.
			h.clock.Advance(3 * time.Second)
			require.NoError(t, h.poll(t))
			h.clock.Advance(3 * time.Second)
			require.NoError(t, h.poll(t))
			require.Len(t, records(t, h.rec, dataset.ProfileGap), 1)
		})
	}
}

func TestNoGapWhenIdle(t *testing.T) {
	h := newHarness(t, 1, profiletest.Options{}, profile.FEOptions{NoProfiles: true}, profile.Options{})
	h.fes[0].Run(profiletest.Query{SQL: "select 1"})
	for range 20 { // 100 s of 5 s polls with no traffic, then traffic again
		require.NoError(t, h.poll(t))
		h.clock.Advance(5 * time.Second)
	}
	h.fes[0].Run(profiletest.Query{SQL: "select 2"})
	require.NoError(t, h.poll(t))
	require.Empty(t, records(t, h.rec, dataset.ProfileGap))
	require.Len(t, records(t, h.rec, dataset.ProfileStatement), 2)
}

func TestAuthErrors(t *testing.T) {
	users := map[string]string{"collector": "s3cret", "ops": "pw"}
	t.Run("wrong password is 401 with a hint", func(t *testing.T) {
		h := newHarness(t, 1, profiletest.Options{Auth: profiletest.AuthBasic, Users: users},
			profile.FEOptions{User: "collector", Password: "wrong", NoProfiles: true}, profile.Options{})
		h.fes[0].Run(profiletest.Query{SQL: "select 1"})
		err := h.poll(t)
		require.ErrorIs(t, err, profile.ErrUnauthorized)
		var he *profile.HTTPError
		require.ErrorAs(t, err, &he)
		require.Equal(t, 401, he.StatusCode)
		require.Contains(t, he.Body, "Access denied for collector@127.0.0.1")
		require.Contains(t, err.Error(), "OPERATE")
		require.NotContains(t, err.Error(), "wrong", "the password is never echoed")
		require.Equal(t, 1.0, metricValue(t, h.reg, "sqlshadow_profile_poll_errors_total"))
		require.False(t, h.c.Ready())
		require.Empty(t, h.rec.Lines())
		require.Equal(t, 1, h.fes[0].Requests("/api/query_detail"), "a 401 is not retried")
	})
	t.Run("right password", func(t *testing.T) {
		h := newHarness(t, 1, profiletest.Options{Auth: profiletest.AuthBasic, Users: users},
			profile.FEOptions{User: "collector@10.0.0.1", Password: "s3cret", NoProfiles: true}, profile.Options{})
		h.fes[0].Run(profiletest.Query{SQL: "select 1"})
		require.NoError(t, h.poll(t))
		require.Len(t, records(t, h.rec, dataset.ProfileStatement), 1)
		require.True(t, h.c.Ready())
	})
	t.Run("missing OPERATE is 403", func(t *testing.T) {
		h := newHarness(t, 1, profiletest.Options{Auth: profiletest.AuthBasicOperate, Users: users, Operators: []string{"ops"}},
			profile.FEOptions{User: "collector", Password: "s3cret", NoProfiles: true}, profile.Options{})
		err := h.poll(t)
		require.ErrorIs(t, err, profile.ErrForbidden)
		require.Contains(t, err.Error(), "GRANT OPERATE ON SYSTEM")
	})
	t.Run("operator", func(t *testing.T) {
		h := newHarness(t, 1, profiletest.Options{Auth: profiletest.AuthBasicOperate, Users: users, Operators: []string{"ops"}},
			profile.FEOptions{User: "ops", Password: "pw"}, profile.Options{})
		id := profiletest.NewQueryID()
		h.fes[0].Run(profiletest.Query{ID: id, SQL: "select 1", Profile: profiletest.SampleProfile(id, "select 1")})
		require.NoError(t, h.poll(t))
		st := records(t, h.rec, dataset.ProfileStatement)
		require.Len(t, st, 1)
		require.NotEmpty(t, st[0].ProfileText)
	})
	t.Run("credentials are harmless on 3.2", func(t *testing.T) {
		h := newHarness(t, 1, profiletest.Options{V32: true}, profile.FEOptions{User: "x", Password: "y", NoProfiles: true}, profile.Options{})
		h.fes[0].Run(profiletest.Query{SQL: "select 1"})
		require.NoError(t, h.poll(t))
		st := records(t, h.rec, dataset.ProfileStatement)
		require.Len(t, st, 1)
		require.Nil(t, st[0].PendingMS, "3.2 has no pendingTime")
		require.Empty(t, st[0].Warehouse)
	})
}

func TestLateProfiles(t *testing.T) {
	h := newHarness(t, 1, profiletest.Options{}, profile.FEOptions{}, profile.Options{})
	fe := h.fes[0]
	late := profiletest.NewQueryID()
	fe.Run(profiletest.Query{ID: late, SQL: "select 1", Latency: 92 * time.Millisecond,
		Profile: profiletest.SampleProfile(late, "select 1"), ProfileDelay: 3 * time.Second})
	none := fe.Run(profiletest.Query{SQL: "select 2"})

	require.NoError(t, h.poll(t))
	require.Empty(t, h.rec.Lines(), "both wait for their profile")
	h.clock.Advance(time.Second)
	require.NoError(t, h.poll(t))
	require.Empty(t, h.rec.Lines())
	h.clock.Advance(3 * time.Second)
	require.NoError(t, h.poll(t))
	ids := byID(records(t, h.rec, dataset.ProfileStatement))
	require.Len(t, ids, 1)
	r := ids[late][0]
	require.Contains(t, r.ProfileText, "QueryCumulativeCpuTime")
	require.Equal(t, int64(251340*time.Microsecond), *r.ProfileCPUNs)
	require.Equal(t, int64(6638535), *r.ProfilePeakMemBytes) // 6.331 MB
	require.InDelta(t, 903.0/1204.0, *r.ProfileCacheHitRatio, 1e-9)

	h.clock.Advance(15 * time.Second)
	require.NoError(t, h.poll(t))
	ids = byID(records(t, h.rec, dataset.ProfileStatement))
	require.Len(t, ids, 2)
	require.Empty(t, ids[none][0].ProfileText)
	require.Contains(t, ids[none][0].ProfileError, "not found")
	// Retries back off: far fewer profile requests than polls times statements.
	require.LessOrEqual(t, fe.Requests("/api/profile"), 10)
	require.Equal(t, 1.0, metricValue(t, h.reg, "sqlshadow_profile_profiles_total", "attached"))
	require.Equal(t, 1.0, metricValue(t, h.reg, "sqlshadow_profile_profiles_total", "missing"))
}

func TestProfileMinLatency(t *testing.T) {
	h := newHarness(t, 1, profiletest.Options{}, profile.FEOptions{ProfileMinLatency: time.Second}, profile.Options{})
	h.fes[0].Run(profiletest.Query{SQL: "select 1", Latency: 10 * time.Millisecond})
	require.NoError(t, h.poll(t))
	require.Len(t, records(t, h.rec, dataset.ProfileStatement), 1, "fast statement emitted at once")
	require.Zero(t, h.fes[0].Requests("/api/profile"))
}

func TestRetriesServerErrors(t *testing.T) {
	h := newHarness(t, 1, profiletest.Options{}, profile.FEOptions{NoProfiles: true}, profile.Options{})
	h.fes[0].Fail("/api/query_detail", 500, 503, 502)
	h.fes[0].Run(profiletest.Query{SQL: "select 1"})
	require.NoError(t, h.poll(t))
	require.Len(t, records(t, h.rec, dataset.ProfileStatement), 1)
	require.Equal(t, 4, h.fes[0].Requests("/api/query_detail"))

	h.fes[0].Fail("/api/query_detail", 500, 500, 500, 500)
	err := h.poll(t)
	require.Error(t, err)
	var he *profile.HTTPError
	require.ErrorAs(t, err, &he)
	require.Equal(t, 500, he.StatusCode)
}

func TestBodyTooLargeFailsLoudly(t *testing.T) {
	h := newHarness(t, 1, profiletest.Options{}, profile.FEOptions{NoProfiles: true, MaxBodyBytes: 4096}, profile.Options{})
	for range 20 {
		h.fes[0].Run(profiletest.Query{SQL: "select 1"})
	}
	err := h.poll(t)
	require.ErrorIs(t, err, profile.ErrBodyTooLarge)
	require.Empty(t, h.rec.Lines())
}

func TestV2API(t *testing.T) {
	h := newHarness(t, 1, profiletest.Options{V2: true}, profile.FEOptions{API: "v2"}, profile.Options{})
	id := profiletest.NewQueryID()
	h.fes[0].Run(profiletest.Query{ID: id, SQL: "select 1", Profile: profiletest.SampleProfile(id, "select 1")})
	require.NoError(t, h.poll(t))
	st := records(t, h.rec, dataset.ProfileStatement)
	require.Len(t, st, 1)
	require.Contains(t, st[0].ProfileText, id)
	require.Equal(t, 1, h.fes[0].Requests("/api/v2/query_detail"))
	require.Equal(t, 0, h.fes[0].Requests("/api/query_detail"))
}

func TestUnreachableFEDoesNotStopOthers(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := l.Addr().String()
	require.NoError(t, l.Close())

	clock := profiletest.NewClock(t0)
	fe := profiletest.NewFE(&profiletest.Options{Now: clock.Now})
	defer fe.Close()
	fe.Run(profiletest.Query{SQL: "select 1"})
	rec := &sinktest.Recorder{}
	c, err := profile.NewCollector(rec, profile.StaticDiscovery(fe.Addr(), dead),
		&profile.Options{FE: &profile.FEOptions{Now: clock.Now, NoProfiles: true, Backoff: time.Millisecond}})
	require.NoError(t, err)
	err = c.Poll(context.Background())
	require.Error(t, err)
	require.Contains(t, err.Error(), dead)
	require.True(t, c.Ready())
	require.Len(t, records(t, rec, dataset.ProfileStatement), 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, c.Run(ctx))
}

type fakeResolver struct {
	mu      sync.Mutex
	answers [][]string
	calls   int
}

func (r *fakeResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if len(r.answers) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	a := r.answers[0]
	if len(r.answers) > 1 {
		r.answers = r.answers[1:]
	}
	return a, nil
}

func TestDNSDiscovery(t *testing.T) {
	clock := profiletest.NewClock(t0)
	fe := profiletest.NewFE(&profiletest.Options{Now: clock.Now})
	defer fe.Close()
	host, port, _ := net.SplitHostPort(fe.Addr())

	_, err := profile.DNSDiscovery("no-port", nil)
	require.Error(t, err)

	r := &fakeResolver{answers: [][]string{{host, host}, {}, {host}}}
	disc, err := profile.DNSDiscovery("kube-starrocks-fe-search.starrocks.svc.cluster.local:"+port, r)
	require.NoError(t, err)
	rec := &sinktest.Recorder{}
	reg := prometheus.NewRegistry()
	c, err := profile.NewCollector(rec, disc, &profile.Options{Registerer: reg,
		FE: &profile.FEOptions{Now: clock.Now, NoProfiles: true}})
	require.NoError(t, err)
	ctx := context.Background()

	fe.Run(profiletest.Query{SQL: "select 1"})
	require.NoError(t, c.Poll(ctx)) // one endpoint (duplicates collapsed)
	require.Equal(t, 1.0, metricValue(t, reg, "sqlshadow_profile_endpoints"))
	require.NoError(t, c.Poll(ctx)) // the FE is gone from DNS
	require.Equal(t, 0.0, metricValue(t, reg, "sqlshadow_profile_endpoints"))
	fe.Run(profiletest.Query{SQL: "select 2"})
	require.NoError(t, c.Poll(ctx)) // back, with a fresh cursor: re-reads the queue, dedup keeps it exact
	require.Equal(t, 3, r.calls, "re-resolved every cycle")
	require.Len(t, records(t, rec, dataset.ProfileStatement), 2)

	r.mu.Lock()
	r.answers = nil
	r.mu.Unlock()
	err = c.Poll(ctx)
	require.Error(t, err, "discovery failure is reported")
	require.Equal(t, 1.0, metricValue(t, reg, "sqlshadow_profile_discovery_errors_total"))
	require.Equal(t, 1.0, metricValue(t, reg, "sqlshadow_profile_endpoints"), "previous endpoints kept")

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	require.NoError(t, c.Run(cctx))
}

func TestRunFinalFlushAndCheckpoint(t *testing.T) {
	clock := profiletest.NewClock(t0)
	fe := profiletest.NewFE(&profiletest.Options{Now: clock.Now})
	defer fe.Close()
	cp := profile.NewFileCheckpoint(filepath.Join(t.TempDir(), "cursors.json"))
	fo := &profile.FEOptions{Now: clock.Now}
	newCollector := func(rec *sinktest.Recorder) *profile.Collector {
		c, err := profile.NewCollector(rec, profile.StaticDiscovery(fe.Addr()),
			&profile.Options{FE: fo, Checkpoint: cp, Interval: time.Hour})
		require.NoError(t, err)
		return c
	}

	id := fe.Run(profiletest.Query{SQL: "select 1"}) // no profile: held back up to 15 s
	rec := &sinktest.Recorder{}
	c := newCollector(rec)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	require.Eventually(t, c.Ready, 10*time.Second, 5*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	st := records(t, rec, dataset.ProfileStatement)
	require.Len(t, st, 1, "the final flush drains statements waiting for a profile")
	require.Equal(t, id, st[0].SRQueryID)
	require.Contains(t, st[0].ProfileError, "stopped")

	cs, err := cp.Load(context.Background())
	require.NoError(t, err)
	require.Len(t, cs, 1)
	require.Equal(t, fe.Addr(), cs[0].Source)
	require.Positive(t, cs[0].EventTime)

	// A new collector resumes from the checkpoint: nothing is written twice.
	clock.Advance(time.Second)
	id2 := fe.Run(profiletest.Query{SQL: "select 2"})
	rec2 := &sinktest.Recorder{}
	c2 := newCollector(rec2)
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan error, 1)
	go func() { done2 <- c2.Run(ctx2) }()
	require.Eventually(t, c2.Ready, 10*time.Second, 5*time.Millisecond)
	cancel2()
	require.NoError(t, <-done2)
	st2 := records(t, rec2, dataset.ProfileStatement)
	require.Len(t, st2, 1)
	require.Equal(t, id2, st2[0].SRQueryID)

	// Stopped for longer than the retention: a gap.
	clock.Advance(time.Minute)
	rec3 := &sinktest.Recorder{}
	c3 := newCollector(rec3)
	require.NoError(t, c3.Poll(context.Background()))
	require.Len(t, records(t, rec3, dataset.ProfileGap), 1)
	ctx3, cancel3 := context.WithCancel(context.Background())
	cancel3()
	require.NoError(t, c3.Run(ctx3))
}

func TestTenThousandRecordsInOnePoll(t *testing.T) {
	h := newHarness(t, 1, profiletest.Options{}, profile.FEOptions{NoProfiles: true}, profile.Options{})
	for i := range 5000 {
		h.fes[0].Run(profiletest.Query{SQL: fmt.Sprintf("select * from t where id = %d", i), ScanRows: int64(i)})
	}
	require.Equal(t, 10_000, h.fes[0].Len(), "RUNNING and FINISHED records")
	require.NoError(t, h.poll(t))
	require.Len(t, records(t, h.rec, dataset.ProfileStatement), 5000)
	require.NoError(t, h.poll(t))
	require.Len(t, h.rec.Lines(), 5000)
}

func TestBadResponses(t *testing.T) {
	h := newHarness(t, 1, profiletest.Options{}, profile.FEOptions{NoProfiles: true}, profile.Options{})
	h.fes[0].Fail("/api/query_detail", 404)
	err := h.poll(t)
	var he *profile.HTTPError
	require.ErrorAs(t, err, &he)
	require.Equal(t, 404, he.StatusCode)
	require.False(t, errors.Is(err, profile.ErrUnauthorized))
	require.True(t, strings.Contains(err.Error(), "/api/query_detail"))
}

// metricValue sums the series of the metric name whose label values include
// all of values.
func metricValue(t *testing.T, g prometheus.Gatherer, name string, values ...string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for _, v := range values {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue series
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

func TestHTTPS(t *testing.T) {
	clock := profiletest.NewClock(t0)
	fe := profiletest.NewFE(&profiletest.Options{Now: clock.Now, TLS: true})
	defer fe.Close()
	fe.Run(profiletest.Query{SQL: "select 1"})
	rec := &sinktest.Recorder{}
	c, err := profile.NewCollector(rec, profile.StaticDiscovery(fe.Addr()),
		&profile.Options{FE: &profile.FEOptions{Now: clock.Now, NoProfiles: true, TLS: fe.ClientTLS()}})
	require.NoError(t, err)
	require.NoError(t, c.Poll(context.Background()))
	st := records(t, rec, dataset.ProfileStatement)
	require.Len(t, st, 1)

	// Plain HTTP against an HTTPS FE fails clearly.
	plain := profile.NewFESource(fe.Addr(), &profile.FEOptions{Now: clock.Now, NoProfiles: true, Retries: -1})
	defer plain.Close()
	_, err = plain.Collect(context.Background())
	require.Error(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, c.Run(ctx))
}

func TestGapWhenFEClockRunsFarAhead(t *testing.T) {
	ours := profiletest.NewClock(t0)
	theirs := profiletest.NewClock(t0.Add(2 * time.Minute)) // FE clock two minutes ahead
	fe := profiletest.NewFE(&profiletest.Options{Now: theirs.Now})
	defer fe.Close()
	src := profile.NewFESource(fe.Addr(), &profile.FEOptions{Now: ours.Now, NoProfiles: true})
	defer src.Close()
	ctx := context.Background()
	fe.Run(profiletest.Query{SQL: "select 1"})
	_, err := src.Collect(ctx)
	require.NoError(t, err)
	for range 8 { // 40 s of idle polls, every 5 s
		ours.Advance(5 * time.Second)
		theirs.Advance(5 * time.Second)
		recs, err := src.Collect(ctx)
		require.NoError(t, err)
		require.Empty(t, recs)
	}
	fe.Run(profiletest.Query{SQL: "select 2"})
	recs, err := src.Collect(ctx)
	require.NoError(t, err)
	var gaps []dataset.Profile
	for _, r := range recs {
		if r.Kind == dataset.ProfileGap {
			gaps = append(gaps, r)
		}
	}
	require.Len(t, gaps, 1)
	require.Contains(t, gaps[0].GapReason, "FE clock ahead")
}

// sameStatement is a ProfileSource that returns the same finished statement
// at every Collect, as an FE does while it keeps the statement in its history.
type sameStatement struct{ rec dataset.Profile }

func (s sameStatement) Collect(context.Context) ([]dataset.Profile, error) {
	return []dataset.Profile{s.rec}, nil
}

func TestDedupKeyExpiresAfterTTL(t *testing.T) {
	clock := profiletest.NewClock(t0)
	rec := &sinktest.Recorder{}
	reg := prometheus.NewRegistry()
	stmt := dataset.Profile{TS: sink.Time(t0), Kind: dataset.ProfileStatement, SRQueryID: profiletest.NewQueryID(), State: dataset.StateFinished}
	c, err := profile.NewCollector(rec, profile.StaticDiscovery("fe:8030"), &profile.Options{
		Cluster: "prod", DedupTTL: time.Minute, Now: clock.Now, Registerer: reg,
		NewSource: func(string) (profile.ProfileSource, error) { return sameStatement{stmt}, nil },
	})
	require.NoError(t, err)
	ctx := context.Background()
	written := func() int { return len(records(t, rec, dataset.ProfileStatement)) }

	require.NoError(t, c.Poll(ctx))
	require.Equal(t, 1, written())
	clock.Advance(59 * time.Second) // fresh: still a duplicate
	require.NoError(t, c.Poll(ctx))
	require.Equal(t, 1, written(), "a key younger than DedupTTL deduplicates")
	require.Equal(t, 1.0, metricValue(t, reg, "sqlshadow_profile_duplicates_total"))
	clock.Advance(2 * time.Second) // 61 s after it was written: expired
	require.NoError(t, c.Poll(ctx))
	require.Equal(t, 2, written(), "an expired key no longer deduplicates")
	clock.Advance(59 * time.Second) // the second write remembered it afresh
	require.NoError(t, c.Poll(ctx))
	require.Equal(t, 2, written())
	require.Equal(t, 2.0, metricValue(t, reg, "sqlshadow_profile_duplicates_total"))
}
