//go:build linux

package mirror

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
)

// closeWatch notices either side of a connection hanging up, without a
// goroutine per connection: the primary closing its side while the client is
// idle, the client closing its side while a command runs (a GET_LOCK that
// waits reads and writes nothing). One goroutine waits in epoll_wait on
// both sockets of every connection for a hang-up (EPOLLRDHUP: the peer's
// FIN; EPOLLHUP or EPOLLERR: a reset), once per socket (EPOLLONESHOT), and
// tells the connection. A socket's data does not wake it: only a hang-up is
// asked for, so a command costs nothing.
type closeWatch struct {
	epfd int
	wake [2]int // a pipe: a byte written to wake[1] ends the goroutine
	done chan struct{}
	once sync.Once

	mu    sync.Mutex
	conns map[uint64]*clientConn // by connection id (the events' data is key)
}

// The events' data: the wake-up pipe's is 0 (connection ids start at 1), a
// socket's is key(id, side).
const (
	wakeID      = 0
	sidePrimary = 0
	sideClient  = 1
)

func key(id uint64, side uint64) uint64 { return id<<1 | side }

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

// add watches c's sockets, the TCP connections under TLS: c.rawPrimary
// and c.rawClient. A socket that is not a file descriptor (a custom
// Options.Dial or listener) is not watched: its end is noticed when the
// proxy next reads or writes it.
func (w *closeWatch) add(c *clientConn) {
	if w == nil {
		return
	}
	c.watched[sidePrimary] = w.addSocket(c, sidePrimary, c.rawPrimary)
	c.watched[sideClient] = w.addSocket(c, sideClient, c.rawClient)
}

func (w *closeWatch) addSocket(c *clientConn, side uint64, nc net.Conn) syscall.RawConn {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	k := key(c.id, side)
	w.mu.Lock()
	w.conns[k] = c
	w.mu.Unlock()
	ev := syscall.EpollEvent{Events: syscall.EPOLLRDHUP | syscall.EPOLLONESHOT, Fd: int32(k), Pad: int32(k >> 32)}
	cerr := rc.Control(func(fd uintptr) {
		err = syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
	})
	if cerr != nil || err != nil {
		w.mu.Lock()
		delete(w.conns, k)
		w.mu.Unlock()
		return nil
	}
	return rc
}

// remove stops watching c, before its sockets are closed (a closed
// descriptor leaves the epoll set by itself; removing it first keeps a
// reused descriptor number from being taken for c's).
func (w *closeWatch) remove(c *clientConn) {
	if w == nil {
		return
	}
	w.mu.Lock()
	delete(w.conns, key(c.id, sidePrimary))
	delete(w.conns, key(c.id, sideClient))
	w.mu.Unlock()
	for _, rc := range c.watched {
		if rc != nil {
			_ = rc.Control(func(fd uintptr) {
				_ = syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
			})
		}
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
			k := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if k == wakeID {
				return
			}
			w.mu.Lock()
			c := w.conns[k]
			delete(w.conns, k)
			w.mu.Unlock()
			switch {
			case c == nil:
			case k&1 == sidePrimary:
				c.primaryHungUp()
			default:
				c.clientHungUp()
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
