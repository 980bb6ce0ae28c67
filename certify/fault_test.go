package certify_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/certify"
)

// echoServer echoes every connection until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); _, _ = io.Copy(c, c) }()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().String()
}

func faultProxy(t *testing.T) (*certify.FaultProxy, string) {
	t.Helper()
	fp := certify.NewFaultProxy(echoServer(t), &certify.FaultProxyOptions{Name: "echo"})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- fp.Serve(l) }()
	t.Cleanup(func() {
		require.NoError(t, fp.Close())
		require.ErrorIs(t, <-done, certify.ErrFaultProxyClosed)
	})
	return fp, l.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip writes msg and reads it back within d.
func roundTrip(c net.Conn, msg []byte, d time.Duration) ([]byte, error) {
	_ = c.SetDeadline(time.Now().Add(d))
	if _, err := c.Write(msg); err != nil {
		return nil, err
	}
	got := make([]byte, len(msg))
	n, err := io.ReadFull(c, got)
	return got[:n], err
}

func TestFaultProxyLatencyAndBandwidth(t *testing.T) {
	fp, addr := faultProxy(t)
	c := dial(t, addr)
	got, err := roundTrip(c, []byte("hello"), 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, "hello", string(got))

	require.NoError(t, fp.Set(certify.Fault{Latency: 100 * time.Millisecond, Jitter: 20 * time.Millisecond}))
	start := time.Now()
	_, err = roundTrip(c, []byte("slow"), 5*time.Second)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 160*time.Millisecond, "80 ms at least each way")

	require.NoError(t, fp.Set(certify.Fault{Bandwidth: 100_000}))
	msg := bytes.Repeat([]byte("x"), 40_000)
	start = time.Now()
	got, err = roundTrip(c, msg, 10*time.Second)
	require.NoError(t, err)
	assert.Equal(t, msg, got)
	assert.GreaterOrEqual(t, time.Since(start), 380*time.Millisecond, "40 kB at 100 kB/s takes 0.4 s (the two directions overlap)")

	ev := fp.Events()
	require.Len(t, ev, 2)
	assert.Equal(t, "echo", ev[0].Link)
	assert.Equal(t, 100*time.Millisecond, ev[0].Fault.Latency)
	assert.True(t, ev[1].Time.After(ev[0].Time))
}

func TestFaultProxyCloseAfter(t *testing.T) {
	fp, addr := faultProxy(t)
	require.NoError(t, fp.Set(certify.Fault{CloseAfter: 10}))
	c := dial(t, addr)
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Write(bytes.Repeat([]byte("y"), 100))
	require.NoError(t, err)
	got, err := io.ReadAll(c)
	if err != nil {
		require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "the connection must be closed, not left open")
	}
	assert.LessOrEqual(t, len(got), 10)
}

func TestFaultProxyReset(t *testing.T) {
	fp, addr := faultProxy(t)
	c := dial(t, addr)
	_, err := roundTrip(c, []byte("a"), 5*time.Second)
	require.NoError(t, err)
	require.NoError(t, fp.Set(certify.Fault{Mode: certify.ModeReset}))
	_, err = roundTrip(c, []byte("b"), 5*time.Second)
	require.Error(t, err)
	require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "reset at once: %v", err)

	require.NoError(t, fp.Set(certify.Fault{}))
	c2 := dial(t, addr)
	_, err = roundTrip(c2, []byte("c"), 5*time.Second)
	require.NoError(t, err)
}

func TestFaultProxyBlackHoleHoldsData(t *testing.T) {
	fp, addr := faultProxy(t)
	c := dial(t, addr)
	require.NoError(t, fp.Set(certify.Fault{Mode: certify.ModeBlackHole}))
	_, err := roundTrip(c, []byte("held"), 300*time.Millisecond)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded, "nothing comes back from a black hole")
	// A new connection is accepted, and answered only after the black hole.
	c2 := dial(t, addr)
	_, err = roundTrip(c2, []byte("new"), 300*time.Millisecond)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)

	require.NoError(t, fp.Set(certify.Fault{}))
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, 4)
	_, err = io.ReadFull(c, got)
	require.NoError(t, err)
	assert.Equal(t, "held", string(got), "data is held, not lost")
	_ = c2.SetDeadline(time.Now().Add(5 * time.Second))
	got = make([]byte, 3)
	_, err = io.ReadFull(c2, got)
	require.NoError(t, err)
	assert.Equal(t, "new", string(got))
}

func TestFaultProxyDownRefuses(t *testing.T) {
	fp, addr := faultProxy(t)
	c := dial(t, addr)
	require.NoError(t, fp.Set(certify.Fault{Mode: certify.ModeDown}))
	_, err := roundTrip(c, []byte("a"), 5*time.Second)
	require.Error(t, err, "open connections are closed")
	_, err = net.DialTimeout("tcp", addr, time.Second)
	require.Error(t, err, "new connections are refused")

	require.NoError(t, fp.Set(certify.Fault{}))
	c2 := dial(t, addr)
	got, err := roundTrip(c2, []byte("up"), 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "up", string(got))
	assert.Equal(t, "down", certify.Fault{Mode: certify.ModeDown}.String())
}
