//go:build linux

package mirror

import (
	"fmt"
	"net"
	"runtime"
	"syscall"
	"testing"
)

// socketConns returns n connections whose primary and client sockets are
// the two ends of one loopback TCP connection, closed when b ends.
func socketConns(b *testing.B, n int, firstID uint64) []*clientConn {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	conns := make([]*clientConn, n)
	for i := range conns {
		d, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		a, err := l.Accept()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = d.Close(); _ = a.Close() })
		conns[i] = &clientConn{id: firstID + uint64(i), rawPrimary: d, rawClient: a}
	}
	return conns
}

// BenchmarkCloseWatch is what watching a connection's two sockets for a
// hang-up costs: one add (at login) and one remove (at the end) per
// connection, with 10,000 idle connections already watched (fewer when the
// process may not open the 20,000 descriptors they take). Idle connections
// cost nothing more: no goroutine, no wake-up.
func BenchmarkCloseWatch(b *testing.B) {
	w, err := newCloseWatch()
	if err != nil {
		b.Fatal(err)
	}
	defer w.stop()
	g0 := runtime.NumGoroutine()
	n := idleConns(b)
	idle := socketConns(b, n, 2)
	for _, c := range idle {
		w.add(c)
		if c.watched[sidePrimary] == nil || c.watched[sideClient] == nil {
			b.Fatal("a socket is not watched")
		}
	}
	one := socketConns(b, 1, 1)[0]
	b.ReportAllocs()
	for b.Loop() {
		w.add(one)
		w.remove(one)
	}
	b.ReportMetric(float64(runtime.NumGoroutine()-g0), fmt.Sprintf("goroutines/%dconns", n))
	for _, c := range idle {
		w.remove(c)
	}
}

// idleConns returns how many idle connections BenchmarkCloseWatch watches:
// 10,000, raising the descriptor limit for them when it may (until b ends),
// or as many as the limit allows.
func idleConns(b *testing.B) int {
	const want, spare = 10000, 1000 // spare: descriptors for everything else
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	if lim.Cur >= 2*want+spare {
		return want
	}
	raised := syscall.Rlimit{Cur: 2*want + spare, Max: max(lim.Max, 2*want+spare)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
		b.Logf("descriptor limit %d, not raised (%v): fewer idle connections", lim.Cur, err)
		return int(lim.Cur-spare) / 2
	}
	b.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim) })
	return want
}
