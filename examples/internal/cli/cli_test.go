package cli

import (
	"context"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEnvName(t *testing.T) {
	require.Equal(t, "SQLSHADOW_BUCKET_URL", EnvName("bucket-url"))
	require.Equal(t, "SQLSHADOW_LISTEN", EnvName("listen"))
}

func TestParseEnvironmentAndCommandLine(t *testing.T) {
	t.Setenv("SQLSHADOW_BUCKET_URL", "file:///env")
	t.Setenv("SQLSHADOW_LISTEN", "127.0.0.1:1")
	t.Setenv("SQLSHADOW_RUNS", "not-a-number")
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	bucket := fs.String("bucket-url", "", "")
	listen := fs.String("listen", "", "")
	require.NoError(t, Parse(fs, []string{"-listen", "127.0.0.1:2"}))
	require.Equal(t, "file:///env", *bucket, "unset flag comes from the environment")
	require.Equal(t, "127.0.0.1:2", *listen, "the command line wins")

	fs2 := flag.NewFlagSet("y", flag.ContinueOnError)
	fs2.Int("runs", 10, "")
	err := Parse(fs2, nil)
	require.ErrorContains(t, err, "SQLSHADOW_RUNS")
}

func TestSecret(t *testing.T) {
	f := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(f, []byte("s3cret\n"), 0o600))
	v, err := Secret("SQLSHADOW_TEST_PW_UNSET", f)
	require.NoError(t, err)
	require.Equal(t, "s3cret", v)
	t.Setenv("SQLSHADOW_TEST_PW", "fromenv")
	v, err = Secret("SQLSHADOW_TEST_PW", f)
	require.NoError(t, err)
	require.Equal(t, "fromenv", v)
	_, err = Secret("SQLSHADOW_TEST_PW_UNSET", filepath.Join(t.TempDir(), "missing"))
	require.Error(t, err)
}

func TestOpsEndpoints(t *testing.T) {
	reg := Registry()
	ops, err := ServeOps("127.0.0.1:0", reg, nil)
	require.NoError(t, err)
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + ops.Addr() + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, _ := get("/healthz")
	require.Equal(t, 200, code)
	code, _ = get("/readyz")
	require.Equal(t, 503, code)
	ops.SetReady(true)
	code, _ = get("/readyz")
	require.Equal(t, 200, code)
	code, body := get("/metrics")
	require.Equal(t, 200, code)
	require.Contains(t, body, "go_goroutines")
	require.NoError(t, ops.Shutdown(context.Background()))
}

func TestList(t *testing.T) {
	require.Nil(t, List(""))
	require.Nil(t, List(" , ,"))
	require.Equal(t, []string{"a", "b c", "d"}, List(" a,b c ,,d"))
}

func TestNewLoggerLevel(t *testing.T) {
	var b strings.Builder
	log := NewLogger(&b, "warn")
	log.Info("hidden")
	log.Warn("shown", "k", "v")
	require.NotContains(t, b.String(), "hidden")
	require.Contains(t, b.String(), "msg=shown k=v")
	b.Reset()
	NewLogger(&b, "nonsense").Info("info is the default")
	require.Contains(t, b.String(), "info is the default")
}

func TestOpsReadyWhen(t *testing.T) {
	ops, err := ServeOps("127.0.0.1:0", Registry(), nil)
	require.NoError(t, err)
	defer ops.Shutdown(context.Background())
	readyz := func() int {
		resp, err := http.Get("http://" + ops.Addr() + "/readyz")
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	var ready atomic.Bool
	ops.ReadyWhen(ready.Load)
	require.Equal(t, 503, readyz())
	ready.Store(true)
	require.Equal(t, 200, readyz(), "asked at each request")
	ops.SetReady(false)
	require.Equal(t, 503, readyz(), "SetReady replaces the function")
}

func TestGiven(t *testing.T) {
	require.Equal(t, 0, Given())
	require.Equal(t, 0, Given("", ""))
	require.Equal(t, 2, Given("a", "", "b"))
}
