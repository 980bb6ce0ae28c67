// Package replay provides a net.Conn that replays fixed bytes, for
// benchmarks of the proxy's protocol code without a network.
package replay

import (
	"bytes"
	"io"
	"net"
	"time"
)

// Conn is a net.Conn whose reads return the same bytes over and over and
// whose writes are discarded.
type Conn struct {
	data []byte
	r    bytes.Reader
}

// NewConn returns a Conn replaying data.
func NewConn(data []byte) *Conn {
	c := &Conn{data: data}
	c.r.Reset(data)
	return c
}

// Read reads the next bytes of data, starting again at its end.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		c.r.Reset(c.data)
		if n == 0 {
			return c.r.Read(p)
		}
		err = nil
	}
	return n, err
}

// Write discards p.
func (c *Conn) Write(p []byte) (int, error) { return len(p), nil }

// Close does nothing.
func (c *Conn) Close() error { return nil }

// LocalAddr returns an empty TCP address.
func (c *Conn) LocalAddr() net.Addr { return &net.TCPAddr{} }

// RemoteAddr returns 127.0.0.1:40000.
func (c *Conn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000} }

// SetDeadline does nothing.
func (c *Conn) SetDeadline(time.Time) error { return nil }

// SetReadDeadline does nothing.
func (c *Conn) SetReadDeadline(time.Time) error { return nil }

// SetWriteDeadline does nothing.
func (c *Conn) SetWriteDeadline(time.Time) error { return nil }
