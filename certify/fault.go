package certify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// FaultMode is what a FaultProxy does with connections.
type FaultMode string

// Fault modes.
const (
	// ModeNone forwards data (after Latency, Jitter and Bandwidth).
	ModeNone FaultMode = ""
	// ModeReset resets every open connection at once (TCP RST) and resets
	// new ones as soon as they are accepted.
	ModeReset FaultMode = "reset"
	// ModeBlackHole accepts connections and forwards nothing, in either
	// direction, until the mode changes: data is held, not lost, as TCP
	// holds it across a network that drops packets; new connections are
	// accepted and connected upstream only when it ends.
	ModeBlackHole FaultMode = "blackhole"
	// ModeDown closes the listener (new connections are refused) and every
	// open connection; leaving it listens again on the same address.
	ModeDown FaultMode = "down"
)

// Fault is the state of a FaultProxy: a mode plus the degradations applied
// to the data it forwards. The zero value forwards data untouched.
type Fault struct {
	// Mode is what happens to connections. Default ModeNone.
	Mode FaultMode `json:"mode,omitempty" yaml:"mode"`
	// Latency delays every chunk of data, in each direction, by Latency
	// plus a uniform random amount in [-Jitter, +Jitter] (never below 0).
	Latency time.Duration `json:"latency,omitempty" yaml:"latency"`
	Jitter  time.Duration `json:"jitter,omitempty" yaml:"jitter"`
	// Bandwidth limits each direction of each connection to this many bytes
	// per second. 0: no limit.
	Bandwidth int64 `json:"bandwidth,omitempty" yaml:"bandwidth"`
	// CloseAfter closes each connection once it has forwarded this many
	// bytes (both directions together). 0: never.
	CloseAfter int64 `json:"close_after,omitempty" yaml:"close_after"`
}

// String describes f for reports: "blackhole", "latency 100ms±20ms", ...
func (f Fault) String() string {
	s := string(f.Mode)
	add := func(part string) {
		if s != "" {
			s += ", "
		}
		s += part
	}
	if f.Latency > 0 || f.Jitter > 0 {
		add(fmt.Sprintf("latency %v±%v", f.Latency, f.Jitter))
	}
	if f.Bandwidth > 0 {
		add(fmt.Sprintf("bandwidth %d B/s", f.Bandwidth))
	}
	if f.CloseAfter > 0 {
		add(fmt.Sprintf("close after %d B", f.CloseAfter))
	}
	if s == "" {
		return "none"
	}
	return s
}

// FaultEvent is one change of a FaultProxy's fault, as the report shows it.
type FaultEvent struct {
	Time  time.Time `json:"time"`  // when Set was called
	Link  string    `json:"link"`  // FaultProxyOptions.Name
	Fault Fault     `json:"fault"` // the fault from then on
}

// FaultProxyOptions configure a FaultProxy.
type FaultProxyOptions struct {
	// Name labels the proxy's events (FaultEvent.Link). Default: the
	// upstream address.
	Name string
	// DialTimeout bounds dialing the upstream. Default 10 s.
	DialTimeout time.Duration
	// Logger receives connection errors. Default nil: discard.
	Logger *slog.Logger
}

// ErrFaultProxyClosed is returned by FaultProxy.Serve after Close.
var ErrFaultProxyClosed = errors.New("certify: fault proxy closed")

// FaultProxy is a TCP proxy in front of one server that injects network
// faults, changed at run time with Set: latency with jitter, a bandwidth
// limit, connections reset, a black hole, connections closed after N bytes,
// and down (refused). Its model is Toxiproxy's toxics, built on net.
//
// Serve accepts on a listener until Close; each connection owns two
// goroutines (one per direction), all joined by Close. Set and Events are
// safe for concurrent use.
type FaultProxy struct {
	upstream string
	name     string
	dialTO   time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	fault   Fault
	changed chan struct{} // closed and replaced by every Set
	events  []FaultEvent
	l       net.Listener
	addr    string
	conns   map[*faultConn]struct{}
	closed  bool
	done    chan struct{} // closed by Close
	wg      sync.WaitGroup
}

// NewFaultProxy returns a FaultProxy that forwards to upstream (host:port).
// It starts nothing: call Serve.
func NewFaultProxy(upstream string, opts *FaultProxyOptions) *FaultProxy {
	var o FaultProxyOptions
	if opts != nil {
		o = *opts
	}
	if o.Name == "" {
		o.Name = upstream
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &FaultProxy{
		upstream: upstream, name: o.Name, dialTO: o.DialTimeout, log: o.Logger,
		changed: make(chan struct{}), conns: make(map[*faultConn]struct{}), done: make(chan struct{}),
	}
}

// Addr returns the address Serve listens on ("" until Serve has started:
// callers that need it at once use their listener's address).
func (p *FaultProxy) Addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

// Fault returns the current fault.
func (p *FaultProxy) Fault() Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fault
}

// Events returns every change made by Set, in order.
func (p *FaultProxy) Events() []FaultEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]FaultEvent(nil), p.events...)
}

// Set changes the fault at once, for open connections and new ones, and
// records the change with its time. ModeReset and ModeDown close the open
// connections; leaving ModeDown listens again on the same address, and
// fails when the address is taken meanwhile.
func (p *FaultProxy) Set(f Fault) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrFaultProxyClosed
	}
	prev := p.fault
	p.fault = f
	p.events = append(p.events, FaultEvent{Time: time.Now(), Link: p.name, Fault: f})
	close(p.changed)
	p.changed = make(chan struct{})
	var kill []*faultConn
	if f.Mode == ModeReset || f.Mode == ModeDown {
		for c := range p.conns {
			kill = append(kill, c)
		}
	}
	var err error
	if f.Mode == ModeDown && prev.Mode != ModeDown && p.l != nil {
		err = p.l.Close()
		p.l = nil
	}
	if f.Mode != ModeDown && prev.Mode == ModeDown && p.addr != "" {
		var l net.Listener
		if l, err = net.Listen("tcp", p.addr); err == nil {
			p.l = l
			p.wg.Add(1)
			go p.acceptLoop(l)
		} else {
			err = fmt.Errorf("certify: fault proxy %s: listen again: %w", p.name, err)
		}
	}
	p.mu.Unlock()
	for _, c := range kill {
		c.reset()
	}
	return err
}

// Serve accepts connections on l and forwards them upstream with the current
// fault, until Close. It returns ErrFaultProxyClosed after Close. The proxy
// owns l from then on: ModeDown closes it and listens again on its address.
func (p *FaultProxy) Serve(l net.Listener) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		l.Close()
		return ErrFaultProxyClosed
	}
	p.addr = l.Addr().String()
	if p.fault.Mode == ModeDown {
		l.Close()
	} else {
		p.l = l
		p.wg.Add(1)
		go p.acceptLoop(l)
	}
	p.mu.Unlock()
	<-p.done
	return ErrFaultProxyClosed
}

// Close closes the listener and every connection, and returns once every
// goroutine of the proxy has ended.
func (p *FaultProxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.wg.Wait()
		return nil
	}
	p.closed = true
	close(p.done)
	if p.l != nil {
		p.l.Close()
		p.l = nil
	}
	var kill []*faultConn
	for c := range p.conns {
		kill = append(kill, c)
	}
	p.mu.Unlock()
	for _, c := range kill {
		c.close()
	}
	p.wg.Wait()
	return nil
}

func (p *FaultProxy) acceptLoop(l net.Listener) {
	defer p.wg.Done()
	for {
		c, err := l.Accept()
		if errors.Is(err, net.ErrClosed) {
			return // closed by Close or ModeDown
		}
		if err != nil { // out of file descriptors, a connection aborted...
			p.log.Debug("certify: fault proxy accept", "link", p.name, "err", err)
			select {
			case <-p.done:
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		fc := &faultConn{p: p, client: c, stop: ctx.Done(), ctx: ctx, cancel: cancel}
		p.conns[fc] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go fc.run()
	}
}

// state returns the current fault and the channel closed at its next change.
func (p *FaultProxy) state() (Fault, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fault, p.changed
}

// faultConn is one client connection and its upstream connection.
type faultConn struct {
	p        *FaultProxy
	client   net.Conn
	mu       sync.Mutex
	upstream net.Conn
	bytes    int64
	ctx      context.Context // ends when the connection is closed
	cancel   context.CancelFunc
	stop     <-chan struct{} // ctx.Done()
	once     sync.Once
}

// run waits out a black hole, dials upstream and forwards both ways.
func (c *faultConn) run() {
	defer func() {
		c.close()
		c.p.mu.Lock()
		delete(c.p.conns, c)
		c.p.mu.Unlock()
		c.p.wg.Done()
	}()
	for {
		f, changed := c.p.state()
		if f.Mode == ModeReset || f.Mode == ModeDown {
			c.reset()
			return
		}
		if f.Mode != ModeBlackHole {
			break
		}
		select {
		case <-changed:
		case <-c.stop:
			return
		}
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.p.dialTO)
	up, err := (&net.Dialer{}).DialContext(ctx, "tcp", c.p.upstream)
	cancel()
	if err != nil {
		c.p.log.Debug("certify: fault proxy dial", "link", c.p.name, "err", err)
		c.reset()
		return
	}
	c.mu.Lock()
	c.upstream = up
	c.mu.Unlock()
	select {
	case <-c.stop: // closed while dialing
		up.Close()
		return
	default:
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.pump(up, c.client)
	}()
	c.pump(c.client, up)
	wg.Wait()
}

// pump copies src to dst through the fault, until either side ends.
func (c *faultConn) pump(dst, src net.Conn) {
	defer c.close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !c.forward(dst, buf[:n]) {
			return
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.p.log.Debug("certify: fault proxy read", "link", c.p.name, "err", err)
			}
			return
		}
	}
}

// forward writes one chunk to dst with the current fault applied; false
// ends the connection.
func (c *faultConn) forward(dst net.Conn, b []byte) bool {
	for len(b) > 0 {
		f, changed := c.p.state()
		switch f.Mode {
		case ModeReset, ModeDown:
			c.reset()
			return false
		case ModeBlackHole:
			select {
			case <-changed:
				continue
			case <-c.stop:
				return false
			}
		}
		delay := f.Latency
		if f.Jitter > 0 {
			delay += time.Duration(rand.Int64N(int64(2*f.Jitter)+1)) - f.Jitter
		}
		chunk := b
		if f.Bandwidth > 0 {
			max := max(f.Bandwidth/20, 1) // about 50 ms of data at a time
			if int64(len(chunk)) > max {
				chunk = chunk[:max]
			}
			delay += time.Duration(float64(len(chunk)) / float64(f.Bandwidth) * float64(time.Second))
		}
		if delay > 0 && !c.sleep(delay) {
			return false
		}
		last := false
		if f.CloseAfter > 0 {
			c.mu.Lock()
			room := f.CloseAfter - c.bytes
			if int64(len(chunk)) >= room {
				chunk, last = chunk[:max(room, 0)], true
			}
			c.bytes += int64(len(chunk))
			c.mu.Unlock()
		}
		if _, err := dst.Write(chunk); err != nil || last {
			return false
		}
		b = b[len(chunk):]
	}
	return true
}

func (c *faultConn) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.stop:
		return false
	}
}

// reset closes both sides with a TCP RST.
func (c *faultConn) reset() {
	for _, nc := range c.conns() {
		if tc, ok := nc.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
	}
	c.close()
}

func (c *faultConn) conns() []net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.upstream != nil {
		return []net.Conn{c.client, c.upstream}
	}
	return []net.Conn{c.client}
}

func (c *faultConn) close() {
	c.once.Do(func() {
		c.cancel()
		for _, nc := range c.conns() {
			nc.Close()
		}
	})
}
