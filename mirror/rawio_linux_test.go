//go:build linux

package mirror

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestRawIO checks that a rawTCP behaves as the net.Conn it wraps: data
// larger than the socket buffers both ways (writes and reads that must
// wait), a peer's close as io.EOF, deadlines as timeouts, and use after
// Close as net.ErrClosed.
func TestRawIO(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dialed, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	accepted, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	a, b := rawIO(dialed), rawIO(accepted)
	if _, ok := a.(*rawTCP); !ok {
		t.Fatalf("rawIO(%T) = %T, want *rawTCP", dialed, a)
	}
	defer a.Close()
	defer b.Close()

	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	werr := make(chan error, 1)
	go func() {
		n, err := a.Write(want)
		if err == nil && n != len(want) {
			err = io.ErrShortWrite
		}
		if err == nil {
			err = a.(*rawTCP).CloseWrite()
		}
		werr <- err
	}()
	got, err := io.ReadAll(b) // ends with the io.EOF of CloseWrite
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if err := <-werr; err != nil {
		t.Fatalf("write: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, want the %d written", len(got), len(want))
	}

	if err := b.SetReadDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	var ne net.Error
	if _, err := b.Read(make([]byte, 1)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past the deadline: %v, want a timeout", err)
	}

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after Close: %v, want net.ErrClosed", err)
	}
	if _, err := b.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after Close: %v, want net.ErrClosed", err)
	}

	p1, p2 := net.Pipe()
	defer p1.Close()
	defer p2.Close()
	if c := rawIO(p1); c != p1 {
		t.Fatalf("rawIO(net.Pipe) = %T, want the conn itself", c)
	}
}
