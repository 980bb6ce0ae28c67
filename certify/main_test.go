package certify_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"

	"github.com/sqlshadow/sqlshadow/certify"
	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
)

// rig holds the package's long-lived MariaDB server (a primary that no
// test restarts).
var rig = testdb.NewRig(1, nil)

type rigMain struct{ m *testing.M }

func (r rigMain) Run() int { return rig.Run(r.m) }

func TestMain(m *testing.M) {
	if h := os.Getenv("CERTIFY_HELPER"); h != "" {
		os.Exit(helperProcess(h))
	}
	goleak.VerifyTestMain(rigMain{m})
}

// helperProcess is the program the soak tests sample: "leak" grows its
// memory and open files every 100 ms; "flat" holds a fixed amount.
func helperProcess(mode string) int {
	var hold [][]byte
	var files []*os.File
	fill := func(n int) {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i)
		}
		hold = append(hold, b)
	}
	if mode == "flat" {
		fill(32 << 20)
	}
	for {
		time.Sleep(100 * time.Millisecond)
		if mode == "leak" {
			fill(1 << 20)
			if f, err := os.Open(os.DevNull); err == nil {
				files = append(files, f)
			}
		}
		_ = len(hold) + len(files)
	}
}

// mariadbArgv returns the command line that runs srv (the same data
// directory, port and options), so that a certify.Process can run it.
func mariadbArgv(t *testing.T, srv *testdb.Server) []string {
	t.Helper()
	argv, err := srv.Command()
	require.NoError(t, err)
	return argv
}

// processServer starts a MariaDB server owned by a certify.Process target,
// ready, and stops it when the test ends.
func processServer(t *testing.T) (*testdb.Server, *certify.Process) {
	t.Helper()
	if err := mariadb.Available(); err != nil {
		testdb.SkipOrFail(t, err)
	}
	srv, err := testdb.Start(nil)
	require.NoError(t, err)
	require.NoError(t, srv.Stop())
	p, err := certify.NewProcess(mariadbArgv(t, srv), &certify.ProcessOptions{
		Ready: certify.MySQLPing(srv.Addr(), mariadb.User, mariadb.Password),
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, p.Start(ctx))
	require.NoError(t, p.Ready(ctx), "error log:\n%s", srv.ErrorLog())
	t.Cleanup(func() {
		_ = p.Kill(context.Background())
		_ = srv.Remove()
	})
	return srv, p
}

// must writes the report files and returns their directory.
func writeReports(t *testing.T, rep *certify.Report) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, compareWrite(dir, rep))
	return dir
}

func describe(rep *certify.Report) string {
	s := fmt.Sprintf("verdict %s: %s\n", rep.Status, rep.Summary())
	for _, d := range rep.Details() {
		s += d + "\n"
	}
	return s
}

// fileBucket is a file:// bucket in a temporary directory.
func fileBucket(t *testing.T) *blob.Bucket {
	t.Helper()
	b, err := fileblob.OpenBucket(t.TempDir(), &fileblob.Options{Metadata: fileblob.MetadataDontWrite})
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	return b
}
