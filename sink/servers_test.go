package sink_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"

	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/sink/drivers"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

const (
	s3Access = "sinktestaccess"
	s3Secret = "sinktestsecret0123456789"
)

// versity is a versitygw S3 gateway with a posix backend, on loopback.
type versity struct {
	bin, dir string
	port     int

	mu     sync.Mutex
	cmd    *exec.Cmd
	out    bytes.Buffer
	exited chan struct{}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// startVersity starts versitygw for the test and stops it when the test ends.
func startVersity(t *testing.T) *versity {
	t.Helper()
	v := &versity{bin: testdb.RequireBinary(t, "versitygw"), dir: t.TempDir(), port: freePort(t)}
	require.NoError(t, v.start())
	t.Cleanup(v.stop)
	return v
}

func (v *versity) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(v.port)) }

func (v *versity) start() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	cmd := exec.Command(v.bin, "--access", s3Access, "--secret", s3Secret, "--region", "us-east-1",
		"--port", v.addr(), "--quiet", "posix", v.dir)
	cmd.Stdout, cmd.Stderr = &lockedWriter{mu: &v.mu, w: &v.out}, &lockedWriter{mu: &v.mu, w: &v.out}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start versitygw: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	v.cmd, v.exited = cmd, exited
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", v.addr(), time.Second)
		if err == nil {
			_ = c.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("versitygw exited: %s", v.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("versitygw did not listen on %s: %s", v.addr(), v.out.String())
}

func (v *versity) stop() {
	v.mu.Lock()
	cmd, exited := v.cmd, v.exited
	v.cmd = nil
	v.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

var bucketSeq atomic.Int64

// newS3Bucket creates a bucket through the S3 API and opens it with a
// path-style URL, as a binary would.
func (v *versity) newBucket(t *testing.T) *blob.Bucket {
	t.Helper()
	name := fmt.Sprintf("sinktest-%d", bucketSeq.Add(1))
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://" + v.addr()),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s3Access, s3Secret, ""),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	require.NoError(t, err)
	return openURL(t, "s3://"+name+"?endpoint=http://"+v.addr()+"&use_path_style=true&region=us-east-1")
}

// s3Env makes the AWS SDK use explicit credentials and never look for cloud
// metadata or the user's configuration.
func s3Env(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", s3Access)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3Secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
}

func TestConformanceS3(t *testing.T) {
	s3Env(t)
	v := startVersity(t)
	sinktest.TestBucket(t, sinktest.Harness{
		Open: v.newBucket,
		Outage: func(t *testing.T) func() {
			v.stop()
			return func() { require.NoError(t, v.start()) }
		},
	})
}

// fakeGCS is fake-gcs-server in process, listening on loopback, with its
// objects on disk so that it can be stopped and started again.
type fakeGCS struct {
	opts fakestorage.Options

	mu  sync.Mutex
	srv *fakestorage.Server
}

// startGCS starts fake-gcs-server for the test and points gcsblob at it with
// STORAGE_EMULATOR_HOST.
func startGCS(t *testing.T) *fakeGCS {
	t.Helper()
	g := &fakeGCS{opts: fakestorage.Options{
		Scheme:      "http",
		Host:        "127.0.0.1",
		Port:        uint16(freePort(t)),
		PublicHost:  "127.0.0.1",
		StorageRoot: t.TempDir(),
	}}
	require.NoError(t, g.start())
	t.Cleanup(g.stop)
	t.Setenv("STORAGE_EMULATOR_HOST", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(g.opts.Port))))
	return g
}

func (g *fakeGCS) start() error {
	srv, err := fakestorage.NewServerWithOptions(g.opts)
	if err != nil {
		return err
	}
	g.mu.Lock()
	g.srv = srv
	g.mu.Unlock()
	return nil
}

func (g *fakeGCS) stop() {
	g.mu.Lock()
	srv := g.srv
	g.srv = nil
	g.mu.Unlock()
	if srv != nil {
		srv.Stop()
	}
}

func (g *fakeGCS) newBucket(t *testing.T) *blob.Bucket {
	t.Helper()
	name := fmt.Sprintf("sinktest-%d", bucketSeq.Add(1))
	g.mu.Lock()
	g.srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: name})
	g.mu.Unlock()
	return openURL(t, "gs://"+name)
}

func TestConformanceGCS(t *testing.T) {
	g := startGCS(t)
	sinktest.TestBucket(t, sinktest.Harness{
		Open:    g.newBucket,
		Aborter: drivers.AbortGCS,
		Outage: func(t *testing.T) func() {
			g.stop()
			return func() { require.NoError(t, g.start()) }
		},
	})
}
