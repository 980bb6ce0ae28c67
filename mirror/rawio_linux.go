//go:build linux

package mirror

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// rawTCP is a TCP connection read and written with syscall.RawSyscall
// inside the net package's raw-connection hooks (syscall.RawConn). The
// socket stays non-blocking and in the runtime's poller: a read that finds
// no data, or a write that finds no room, parks the goroutine as any
// net.Conn does, and deadlines and Close work the same. What changes is that
// a read or write that does not have to wait is not reported to the
// scheduler as a system call. A non-blocking socket call returns at once, so
// the goroutine may as well keep its P through it; reported (net.Conn's
// own Read and Write), every such call keeps the scheduler's monitor thread
// (sysmon) waking every 20 us to take Ps back from threads in system calls
// and hand them to other threads. With the five socket calls the proxy makes
// per statement, those wake-ups, hand-offs and context switches cost more
// CPU than the proxy's own work.
type rawTCP struct {
	*net.TCPConn
	rc syscall.RawConn
}

// rawIO returns c with raw reads and writes when it is a TCP connection, c
// itself otherwise.
func rawIO(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	return &rawTCP{TCPConn: tc, rc: rc}
}

// Read implements net.Conn.
func (c *rawTCP) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var (
		n     int
		errno syscall.Errno
	)
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
			switch e {
			case 0:
				n = int(r)
				return true
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false
			default:
				errno = e
				return true
			}
		}
	})
	if err == nil && errno != 0 {
		err = os.NewSyscallError("read", errno)
	}
	if err != nil {
		return 0, c.opError("read", err)
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// Write implements net.Conn.
func (c *rawTCP) Write(b []byte) (int, error) {
	var (
		n     int
		errno syscall.Errno
	)
	err := c.rc.Write(func(fd uintptr) bool {
		for n < len(b) {
			r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[n])), uintptr(len(b)-n))
			switch e {
			case 0:
				n += int(r)
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false
			default:
				errno = e
				return true
			}
		}
		return true
	})
	if err == nil && errno != 0 {
		err = os.NewSyscallError("write", errno)
	}
	if err != nil {
		return n, c.opError("write", err)
	}
	return n, nil
}

// opError wraps err as the net package wraps its errors, so that callers'
// errors.Is(err, net.ErrClosed) and net.Error's Timeout keep working.
func (c *rawTCP) opError(op string, err error) error {
	if oe, ok := err.(*net.OpError); ok {
		err = oe.Err // the raw hooks' own wrapping ("raw-read")
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
