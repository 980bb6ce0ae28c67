package certify_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/certify"
	"github.com/sqlshadow/sqlshadow/compare"
	"github.com/sqlshadow/sqlshadow/internal/mariadb"
)

func compareWrite(dir string, rep *certify.Report) error { return compare.WriteReports(dir, rep) }

// TestRestartShadow restarts the shadow (a mariadbd run by a Process
// target) in the middle of the mixed workload through the real proxy:
// clients see no error, the shadow records in the window are marked, the
// shadow's session state is rebuilt (no wrong answer afterwards), and no
// log record outside the window is lost or unpaired.
func TestRestartShadow(t *testing.T) {
	t.Parallel() // each has its own servers but the primary, which no test restarts
	primary := rig.Server(t, 0)
	shadowSrv, shadow := processServer(t)
	r := &certify.Recipe{
		Name:    "restart-shadow",
		Primary: primary.Addr(), Shadow: shadowSrv.Addr(), User: mariadb.User,
		Proxy:   certify.ProxySpec{ShadowDeadline: 5 * time.Second},
		Targets: map[string]certify.TargetSpec{"shadow": {Target: shadow}},
		Steps: []certify.Step{
			{Name: "mixed workload", Workload: &certify.Workload{Duration: 12 * time.Second, Clients: 3, Rate: 40}},
			{Name: "restart the shadow", At: 3 * time.Second, Window: 2 * time.Second, Chaos: &certify.Chaos{Action: "restart", Target: "shadow"}},
			{Name: "analyze", At: 10 * time.Second, SQL: &certify.SQLStep{Statements: []string{"ANALYZE TABLE certify_mixed"}}},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := certify.Run(ctx, r, &certify.RunOptions{Password: mariadb.Password, Seed: 7})
	require.NoError(t, err)
	t.Log(describe(rep))

	require.Equal(t, compare.VerdictPass, rep.Status, describe(rep))
	assert.Equal(t, 0, rep.ExitCode)
	assert.Greater(t, rep.Clients.Statements, 500)
	assert.Zero(t, rep.Clients.ErrorsInside+rep.Clients.ErrorsOutside, "clients must see no error")
	require.Len(t, rep.Events, 1)
	ev := rep.Events[0]
	assert.True(t, ev.Recovered)
	assert.Equal(t, "shadow", ev.Side)
	assert.False(t, ev.Start.Before(rep.Started.Add(3*time.Second)), "the restart starts in its window")
	assert.Less(t, ev.Recovery, 5*time.Second)
	l := rep.Logs
	require.NotNil(t, l)
	assert.Greater(t, l.ShadowFailedInside, 0, "statements in the window are marked")
	assert.Zero(t, l.LostOutside+l.UnpairedOutside, "no record lost or unpaired outside the window")
	assert.Zero(t, l.MismatchesOutside, "the shadow's session state (div_precision_increment) is rebuilt")
	assert.Zero(t, l.ShadowFailedOutside)
	assert.Zero(t, l.DivergedOutside, "the rebuild was exact: nothing left marked after the window")
	assert.GreaterOrEqual(t, l.PrimaryRecords, rep.Clients.Statements)

	// The shadow server ran mirrored statements after its restart.
	db := shadowSrv.Open(t, "certify")
	var n int
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM certify_mixed").Scan(&n))
	assert.Equal(t, 1000, n)

	dir := writeReports(t, rep)
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	require.NoError(t, err)
	assert.Contains(t, string(html), `class="band"`, "the fault window is shaded")
	assert.Contains(t, string(html), "<polyline")
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "**Verdict: PASS**")
	_, err = os.Stat(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	assert.False(t, strings.Contains(string(html), "http://") || strings.Contains(string(html), "https://"), "self-contained")
}

// TestRestartPrimary restarts the primary under the workload: clients see
// errors only inside the fault window, new sessions work after it, and the
// proxy stays up.
func TestRestartPrimary(t *testing.T) {
	t.Parallel() // each has its own servers but the primary, which no test restarts
	primarySrv, primary := processServer(t)
	shadow := rig.Server(t, 0)
	r := &certify.Recipe{
		Name:    "restart-primary",
		Primary: primarySrv.Addr(), Shadow: shadow.Addr(), User: mariadb.User,
		Targets: map[string]certify.TargetSpec{"primary": {Target: primary}},
		Steps: []certify.Step{
			// 20 s: on a loaded machine the primary takes 6 s or more to
			// come back, and the test needs a few seconds of traffic after it.
			{Workload: &certify.Workload{Duration: 20 * time.Second, Clients: 3, Rate: 40}},
			{At: 3 * time.Second, Chaos: &certify.Chaos{Action: "restart", Target: "primary"}},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := certify.Run(ctx, r, &certify.RunOptions{Password: mariadb.Password})
	require.NoError(t, err)
	t.Log(describe(rep))

	require.Equal(t, compare.VerdictPass, rep.Status, describe(rep))
	assert.Greater(t, rep.Clients.ErrorsInside, 0, "clients see the primary's restart")
	assert.Zero(t, rep.Clients.ErrorsOutside, "but only inside the window")
	require.Len(t, rep.Events, 1)
	ev := rep.Events[0]
	assert.Equal(t, "primary", ev.Side)
	assert.True(t, ev.Recovered, "statements succeed after the window")
	assert.True(t, rep.ProxyUp)
	// New sessions worked after the window: the timeline's last bins have
	// statements and no errors.
	var after, afterErrors int
	for _, b := range rep.Timeline {
		if rep.Started.Add(time.Duration(b.Offset * float64(time.Second))).After(ev.WindowEnd) {
			after += b.Statements
			afterErrors += b.Errors
		}
	}
	assert.Greater(t, after, 100)
	assert.Zero(t, afterErrors)
}

// TestBlackHoleShadowThenKill black-holes the link to the shadow for 3 s,
// then kills a random target (the shadow, the only one): clients see
// nothing, the shadow sessions time out or lose their connection and
// reconnect, and the logs are complete outside both windows.
func TestBlackHoleShadowThenKill(t *testing.T) {
	t.Parallel() // each has its own servers but the primary, which no test restarts
	primary := rig.Server(t, 0)
	shadowSrv, shadow := processServer(t)
	r := &certify.Recipe{
		Name:    "blackhole-shadow",
		Primary: primary.Addr(), Shadow: shadowSrv.Addr(), User: mariadb.User,
		Proxy:   certify.ProxySpec{ShadowDeadline: 2 * time.Second},
		Targets: map[string]certify.TargetSpec{"shadow": {Target: shadow}},
		Steps: []certify.Step{
			{Workload: &certify.Workload{Duration: 14 * time.Second, Clients: 3, Rate: 40}},
			{At: 2 * time.Second, Fault: &certify.FaultStep{Link: "shadow", Duration: 3 * time.Second, Fault: certify.Fault{Mode: certify.ModeBlackHole}}},
			{At: 8 * time.Second, Chaos: &certify.Chaos{Action: "kill", Target: "random", Down: 500 * time.Millisecond}},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := certify.Run(ctx, r, &certify.RunOptions{Password: mariadb.Password})
	require.NoError(t, err)
	t.Log(describe(rep))

	require.Equal(t, compare.VerdictPass, rep.Status, describe(rep))
	assert.Zero(t, rep.Clients.ErrorsInside+rep.Clients.ErrorsOutside, "a black-holed or killed shadow never reaches clients")
	require.Len(t, rep.Events, 2)
	assert.Equal(t, "fault", rep.Events[0].Kind)
	assert.Equal(t, "kill", rep.Events[1].Kind)
	assert.Equal(t, "shadow", rep.Events[1].Target, "random picks among the targets")
	for _, ev := range rep.Events {
		assert.True(t, ev.Recovered, ev.Name)
	}
	require.Len(t, rep.Faults, 2, "set and cleared, timestamped")
	assert.Equal(t, certify.ModeBlackHole, rep.Faults[0].Fault.Mode)
	assert.Greater(t, rep.Logs.ShadowFailedInside, 0, "commands stuck in the black hole or hit by the kill are marked")
	assert.Zero(t, rep.Logs.LostOutside+rep.Logs.UnpairedOutside)
	assert.Zero(t, rep.Logs.MismatchesOutside)
}

// TestReplayWorkload replays a captured slow log through the proxy, over
// and over for the workload's duration; every run is a client statement
// and is paired in the logs.
func TestReplayWorkload(t *testing.T) {
	t.Parallel() // each has its own servers but the primary, which no test restarts
	srv := rig.Server(t, 0)
	var log strings.Builder
	for i, q := range []string{"SELECT /*route='replayed'*/ 1", "SELECT COUNT(*) FROM mysql.user", "SELECT 2 + 2"} {
		fmt.Fprintf(&log, "# User@Host: app[app] @  [10.0.0.1]\n# Thread_id: %d  Schema: mysql  QC_hit: No\n"+
			"# Query_time: 0.000339  Lock_time: 0.000112  Rows_sent: 1  Rows_examined: 2\n# Rows_affected: 0  Bytes_sent: 112\n"+
			"SET timestamp=%d;\n%s;\n", 5+i%2, 1700000000+i, q)
	}
	f := filepath.Join(t.TempDir(), "slow.log")
	require.NoError(t, os.WriteFile(f, []byte(log.String()), 0o600))
	r := &certify.Recipe{
		Name:    "replay",
		Primary: srv.Addr(), Shadow: srv.Addr(), User: mariadb.User,
		Steps: []certify.Step{{Workload: &certify.Workload{Duration: 3 * time.Second, Clients: 2,
			Replay: &certify.ReplaySpec{Format: "slowlog", Paths: []string{f}}}}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := certify.Run(ctx, r, &certify.RunOptions{Password: mariadb.Password})
	require.NoError(t, err)
	t.Log(describe(rep))
	require.Equal(t, compare.VerdictPass, rep.Status, describe(rep))
	assert.Greater(t, rep.Clients.Statements, 30, "the log is replayed again until the duration ends")
	assert.Zero(t, rep.Clients.ErrorsOutside)
	assert.GreaterOrEqual(t, rep.Logs.ShadowRecords, rep.Clients.Statements)
	assert.Zero(t, rep.Logs.UnpairedOutside)
}

// TestWrongAnswersFail is the control of the mismatch assertion: a shadow
// whose rows differ gives different answers, and the run fails.
func TestWrongAnswersFail(t *testing.T) {
	t.Parallel() // each has its own servers but the primary, which no test restarts
	primary := rig.Server(t, 0)
	shadowSrv, _ := processServer(t)
	r := &certify.Recipe{
		Name:    "planted difference",
		Primary: primary.Addr(), Shadow: shadowSrv.Addr(), User: mariadb.User,
		Steps: []certify.Step{
			{Workload: &certify.Workload{Duration: 4 * time.Second, Clients: 2, Rate: 40}},
			{SQL: &certify.SQLStep{On: "shadow", Statements: []string{"UPDATE certify_mixed SET v = v + 1"}}},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := certify.Run(ctx, r, &certify.RunOptions{Password: mariadb.Password})
	require.NoError(t, err)
	t.Log(describe(rep))
	assert.Equal(t, compare.VerdictFail, rep.Status)
	assert.Equal(t, 1, rep.ExitCode)
	assert.Greater(t, rep.Logs.MismatchesOutside, 10)
	assert.Zero(t, rep.Clients.ErrorsOutside)
}
