//go:build !linux

package mirror

import (
	"net"
	"syscall"
)

// closeWatch is Linux-only (epoll): elsewhere the primary closing an idle
// connection is noticed at the client's next command, which then ends the
// client's connection.
type closeWatch struct{}

func newCloseWatch() (*closeWatch, error)                 { return nil, nil }
func (w *closeWatch) add(*clientConn, net.Conn)           {}
func (w *closeWatch) remove(*clientConn, syscall.RawConn) {}
func (w *closeWatch) stop()                               {}
