//go:build !linux

package mirror

import "net"

// rawIO returns c: raw socket system calls are used on Linux only.
func rawIO(c net.Conn) net.Conn { return c }
