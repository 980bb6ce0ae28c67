//go:build linux

package mirror

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
)

// closeWatch notices the primary closing its side of a connection while the
// client is idle, without a goroutine per connection: one goroutine waits in
// epoll_wait on every primary socket for a hang-up (EPOLLRDHUP: the
// server's FIN; EPOLLHUP or EPOLLERR: a reset), once per socket
// (EPOLLONESHOT), and tells the connection. A socket's data (responses)
// does not wake it: only a hang-up is asked for, so a command costs nothing.
type closeWatch struct {
	epfd int
	wake [2]int // a pipe: a byte written to wake[1] ends the goroutine
	done chan struct{}
	once sync.Once

	mu    sync.Mutex
	conns map[uint64]*clientConn // by connection id (the events' data)
}

// wakeID is the event data of the wake-up pipe (connection ids start at 1).
const wakeID = 0

func newCloseWatch() (*closeWatch, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("mirror: epoll_create1: %w", err)
	}
	w := &closeWatch{epfd: epfd, done: make(chan struct{}), conns: map[uint64]*clientConn{}}
	if err := syscall.Pipe2(w.wake[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		_ = syscall.Close(epfd)
		return nil, fmt.Errorf("mirror: pipe2: %w", err)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, w.wake[0], &ev); err != nil {
		w.closeFDs()
		return nil, fmt.Errorf("mirror: epoll_ctl: %w", err)
	}
	go w.run()
	return w, nil
}

func (w *closeWatch) closeFDs() {
	_ = syscall.Close(w.wake[0])
	_ = syscall.Close(w.wake[1])
	_ = syscall.Close(w.epfd)
}

// add watches c's primary socket nc (the TCP connection under TLS). A
// socket that is not a file descriptor (a custom Options.Dial) is not
// watched: its end is noticed at the next command.
func (w *closeWatch) add(c *clientConn, nc net.Conn) {
	if w == nil {
		return
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	w.mu.Lock()
	w.conns[c.id] = c
	w.mu.Unlock()
	ev := syscall.EpollEvent{Events: syscall.EPOLLRDHUP | syscall.EPOLLONESHOT, Fd: int32(c.id), Pad: int32(c.id >> 32)}
	cerr := rc.Control(func(fd uintptr) {
		err = syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
	})
	if cerr != nil || err != nil {
		w.remove(c, nil)
		return
	}
	c.primRaw = rc
}

// remove stops watching c, before its sockets are closed (a closed
// descriptor leaves the epoll set by itself; removing it first keeps a
// reused descriptor number from being taken for c's).
func (w *closeWatch) remove(c *clientConn, rc syscall.RawConn) {
	if w == nil {
		return
	}
	w.mu.Lock()
	delete(w.conns, c.id)
	w.mu.Unlock()
	if rc != nil {
		_ = rc.Control(func(fd uintptr) {
			_ = syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
		})
	}
}

func (w *closeWatch) run() {
	defer close(w.done)
	events := make([]syscall.EpollEvent, 128)
	for {
		n, err := syscall.EpollWait(w.epfd, events, -1)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return
		}
		for _, ev := range events[:n] {
			id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if id == wakeID {
				return
			}
			w.mu.Lock()
			c := w.conns[id]
			delete(w.conns, id)
			w.mu.Unlock()
			if c != nil {
				c.primaryHungUp()
			}
		}
	}
}

// stop ends the goroutine and waits for it; every connection has ended.
func (w *closeWatch) stop() {
	if w == nil {
		return
	}
	w.once.Do(func() {
		_, _ = syscall.Write(w.wake[1], []byte{1})
		<-w.done
		w.closeFDs()
	})
}
