package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sqlshadow/sqlshadow/certify"
	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
)

var rig = testdb.NewRig(1, nil)

type rigMain struct{ m *testing.M }

func (r rigMain) Run() int { return rig.Run(r.m) }

func TestMain(m *testing.M) {
	if os.Getenv("CERTIFY_HELPER") == "leak" {
		leak()
	}
	goleak.VerifyTestMain(rigMain{m})
}

// leak is a program that grows by 4 MiB and one open file every 100 ms: even
// with half its ticks lost to a loaded machine it outgrows the soak
// recipe's 64 MiB memory bound within the sampled window.
func leak() {
	var hold [][]byte
	var files []*os.File
	for {
		time.Sleep(100 * time.Millisecond)
		b := bytes.Repeat([]byte{1}, 4<<20)
		hold = append(hold, b)
		if f, err := os.Open(os.DevNull); err == nil {
			files = append(files, f)
		}
	}
}

// shellServer prepares a MariaDB server that shell commands start (in the
// background) and stop (waiting until it is gone), as a user's recipe would,
// and returns its address and the two commands. It is started.
func shellServer(t *testing.T, delay time.Duration) (addr, start, stop string) {
	t.Helper()
	if err := mariadb.Available(); err != nil {
		testdb.SkipOrFail(t, err)
	}
	srv, err := testdb.Start(nil)
	require.NoError(t, err)
	require.NoError(t, srv.Stop())
	pidFile := filepath.Join(srv.Dir, "mysqld.pid")
	args, err := srv.Command()
	require.NoError(t, err)
	start = strings.Join(args, " ") + " >/dev/null 2>&1 &"
	if delay > 0 {
		start = fmt.Sprintf("(sleep %.1f; exec %s >/dev/null 2>&1) &", delay.Seconds(), strings.Join(args, " "))
	}
	stop = fmt.Sprintf("pid=$(cat %s) && kill $pid && while kill -0 $pid 2>/dev/null; do sleep 0.1; done", pidFile)
	require.NoError(t, exec.Command("sh", "-c", start).Run())
	t.Cleanup(func() {
		_ = exec.Command("sh", "-c", stop).Run()
		_ = srv.Remove()
	})
	require.Eventually(t, func() bool {
		return certify.MySQLPing(srv.Addr(), mariadb.User, mariadb.Password)(t.Context()) == nil
	}, time.Minute, 100*time.Millisecond, "error log:\n%s", srv.ErrorLog())
	return srv.Addr(), start, stop
}

func certifyRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "password")
	require.NoError(t, os.WriteFile(pw, []byte(mariadb.Password+"\n"), 0o600))
	var out, errOut bytes.Buffer
	code := run(append([]string{"run", "-password-file", pw}, args...), &out, &errOut)
	t.Log(out.String(), errOut.String())
	return code, out.String(), errOut.String()
}

func readReport(t *testing.T, dir string) *certify.Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	var rep certify.Report
	require.NoError(t, json.Unmarshal(b, &rep))
	for _, f := range []string{"report.md", "report.html"} {
		_, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
	}
	return &rep
}

// TestRestartShadowRecipe is the one command of the issue: the shipped
// recipe restarts the shadow in the middle of a mirrored workload and the
// report says, with figures, that clients saw nothing, how fast the proxy
// recovered, and that no record outside the window was lost.
func TestRestartShadowRecipe(t *testing.T) {
	t.Parallel() // each has its own servers
	primary := rig.Server(t, 0)
	shadow, start, stop := shellServer(t, 0)
	dir := t.TempDir()
	code, out, _ := certifyRun(t, "-recipe", "recipes/restart-shadow.yaml", "-out", dir, "-seed", "3",
		"-set", "primary="+primary.Addr(), "-set", "shadow="+shadow, "-set", "user="+mariadb.User,
		"-set", "shadow_start="+start, "-set", "shadow_stop="+stop, "-set", "duration=30s")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "PASS")
	rep := readReport(t, dir)
	assert.Equal(t, 0, rep.ExitCode)
	assert.Zero(t, rep.Clients.ErrorsInside+rep.Clients.ErrorsOutside)
	require.Len(t, rep.Events, 1)
	assert.True(t, rep.Events[0].Recovered)
	assert.Zero(t, rep.Logs.LostOutside+rep.Logs.UnpairedOutside)
	assert.Greater(t, rep.Logs.ShadowFailedInside, 0)
	assert.Regexp(t, `restart the shadow: recovered \d+\.\d\ds after ready`, rep.Summary())
}

// TestSoakRecipeFailsLeak: the soak recipe sampling a leaking program
// fails (exit 1).
func TestSoakRecipeFailsLeak(t *testing.T) {
	t.Parallel() // each has its own servers
	primary := rig.Server(t, 0)
	dir := t.TempDir()
	code, out, _ := certifyRun(t, "-recipe", "recipes/soak.yaml", "-out", dir,
		"-set", "primary="+primary.Addr(), "-set", "shadow="+primary.Addr(), "-set", "user="+mariadb.User,
		"-set", "duration=8s", "-set", "interval=200ms", "-set", "program=env CERTIFY_HELPER=leak "+os.Args[0])
	require.Equal(t, 1, code, out)
	rep := readReport(t, dir)
	var failed []string
	for _, s := range rep.Soak.Series {
		if s.Status == certify.StatusFail {
			failed = append(failed, s.Metric)
		}
	}
	assert.ElementsMatch(t, []string{"memory", "open_files"}, failed)
}

// TestStartupRecipe: a version that takes 2 s longer to start fails the
// start-up comparison (exit 1).
func TestStartupRecipe(t *testing.T) {
	t.Parallel() // each has its own servers
	oldAddr, oldStart, oldStop := shellServer(t, 0)
	newAddr, newStart, newStop := shellServer(t, 2*time.Second)
	// The recipe starts them itself.
	for _, stop := range []string{oldStop, newStop} {
		require.NoError(t, exec.Command("sh", "-c", stop).Run())
	}
	dir := t.TempDir()
	code, out, _ := certifyRun(t, "-recipe", "recipes/startup.yaml", "-out", dir, "-set", "runs=4", "-set", "user="+mariadb.User,
		"-set", "primary="+oldAddr, "-set", "primary_start="+oldStart, "-set", "primary_stop="+oldStop,
		"-set", "shadow="+newAddr, "-set", "shadow_start="+newStart, "-set", "shadow_stop="+newStop)
	require.Equal(t, 1, code, out)
	rep := readReport(t, dir)
	require.Len(t, rep.Startup.Versions, 2)
	v := rep.Startup.Versions[1]
	assert.Len(t, v.Seconds, 4)
	assert.Greater(t, v.Median-rep.Startup.Versions[0].Median, 1.0, "2 s of sleep before the start")
	assert.Equal(t, certify.StatusFail, v.Status, v.Message)
}

// TestRecipeMistake: a recipe with a mistake exits 2 and names the line and
// the field.
func TestRecipeMistake(t *testing.T) {
	f := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(f, []byte("name: x\nprimary: h:1\nsteps:\n  - at: soon\n    sql: {statements: [SELECT 1]}\n"), 0o600))
	code, _, errOut := certifyRun(t, "-recipe", f)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "bad.yaml:4: steps[0].at:")

	code, _, errOut = certifyRun(t, "-recipe", "recipes/restart-shadow.yaml")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "${primary} is not set")
}

// TestShippedRecipesParse: every shipped recipe parses with the shared keys.
func TestShippedRecipesParse(t *testing.T) {
	keys := map[string]string{"primary": "127.0.0.1:1", "shadow": "127.0.0.1:2", "user": "u",
		"primary_start": "a", "primary_stop": "b", "shadow_start": "c", "shadow_stop": "d"}
	files, err := filepath.Glob("recipes/*.yaml")
	require.NoError(t, err)
	assert.Len(t, files, 4)
	for _, f := range files {
		_, err := certify.LoadRecipe(f, keys)
		assert.NoError(t, err, f)
	}
}

// TestBlackholePrimaryRecipe: the primary black-holed for 5 s under the
// workload: clients wait (their statements take 5 s longer) but see no
// error, and the logs are complete.
func TestBlackholePrimaryRecipe(t *testing.T) {
	t.Parallel() // each has its own servers
	srv := rig.Server(t, 0)
	dir := t.TempDir()
	code, out, _ := certifyRun(t, "-recipe", "recipes/blackhole-primary.yaml", "-out", dir,
		"-set", "primary="+srv.Addr(), "-set", "shadow="+srv.Addr(), "-set", "user="+mariadb.User, "-set", "duration=24s")
	require.Equal(t, 0, code, out)
	rep := readReport(t, dir)
	assert.Zero(t, rep.Clients.ErrorsInside+rep.Clients.ErrorsOutside)
	require.Len(t, rep.Events, 1)
	assert.Equal(t, "primary", rep.Events[0].Side)
	var slowest float64
	for _, b := range rep.Timeline {
		slowest = max(slowest, b.P99MS)
	}
	assert.Greater(t, slowest, 3000.0, "statements held by the black hole")
	assert.Zero(t, rep.Logs.LostOutside+rep.Logs.UnpairedOutside)
}
