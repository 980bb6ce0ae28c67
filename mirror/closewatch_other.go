//go:build !linux

package mirror

// closeWatch is Linux-only (epoll): elsewhere the primary closing an idle
// connection is noticed at the client's next command, and a client gone
// mid-command when the answer is written to it.
type closeWatch struct{}

func newCloseWatch() (*closeWatch, error) { return nil, nil }
func (w *closeWatch) add(*clientConn)     {}
func (w *closeWatch) remove(*clientConn)  {}
func (w *closeWatch) stop()               {}
