//go:build linux

package mirror

import (
	"net"
	"runtime"
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
// connection, with 4,000 idle connections already watched. Idle
// connections cost nothing more: no goroutine, no wake-up.
func BenchmarkCloseWatch(b *testing.B) {
	w, err := newCloseWatch()
	if err != nil {
		b.Fatal(err)
	}
	defer w.stop()
	g0 := runtime.NumGoroutine()
	idle := socketConns(b, 4000, 2)
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
	b.ReportMetric(float64(runtime.NumGoroutine()-g0), "goroutines/4000conns")
	for _, c := range idle {
		w.remove(c)
	}
}
