package mirror

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sqlshadow/sqlshadow/mirror/internal/wire"
)

// Error codes the proxy sends on its own.
const (
	errCodeConnect   = 1105 // cannot reach the primary (ER_UNKNOWN_ERROR, SQLSTATE 08S01: clients reject a server's error in their own 2000-2999 range as malformed)
	errCodeHandshake = 1043 // bad handshake
	errCodeAccess    = 1045 // refused login
	errCodeUnknown   = 1047 // unsupported command
)

// errClientLeft is the error of a command whose client closed its connection
// before the answer: the proxy closed the primary's.
var errClientLeft = errors.New("mirror: the client closed its connection mid-command")

type stmtInfo struct {
	query     string
	numParams uint16
	cols      []wire.Column // of the open cursor, for COM_STMT_FETCH
}

// clientConn is one client connection and its primary leg.
type clientConn struct {
	p    *Proxy
	id   uint64
	addr string

	mu          sync.Mutex
	idle        bool
	dead        bool
	primaryGone bool     // the primary closed its side (closeWatch)
	clientNet   net.Conn // the client's connection (TLS when terminated)
	rawClient   net.Conn
	primNet     net.Conn // the primary's connection (TLS when asked)
	rawPrimary  net.Conn // the primary's TCP connection
	// watched are the sockets closeWatch watches, primary and client.
	watched [2]syscall.RawConn
	// clientGone: the client closed its side (closeWatch).
	clientGone atomic.Bool

	client  *wire.Conn
	primary *wire.Conn
	// primaryZ is the primary leg's compression (nil: not compressed); the
	// proxy starts each command's compressed packets at sequence 0.
	primaryZ *wire.CompressedConn

	caps         uint32
	user, db     string
	charset      uint8
	serverConnID uint32
	clientTLS    bool
	primaryTLS   bool
	extMetadata  bool // MariaDB extended metadata negotiated (column definitions carry it)

	stmts    map[uint32]*stmtInfo
	lastStmt uint32
	seq      uint64
	sess     Session

	// Per command.
	res        wire.Result
	received   time.Time     // when the command was read (wall and monotonic)
	start      time.Duration // when it was sent, after received
	gotFirst   bool
	ttfb       time.Duration
	clientWait time.Duration
	clientErr  error
	refused    bool
	firstIn    bool
	authErr    *wire.Err // the ERR that ended the last authentication exchange
	toClientFn func([]byte) error
	fwdCmdFn   func([]byte) error
	buf        []byte
}

func (p *Proxy) newClientConn(nc net.Conn) *clientConn {
	c := &clientConn{
		p:         p,
		id:        p.nextConn.Add(1),
		addr:      nc.RemoteAddr().String(),
		clientNet: nc,
		rawClient: nc,
		client:    wire.NewConn(nc),
		stmts:     map[uint32]*stmtInfo{},
	}
	c.toClientFn = c.toClient
	c.fwdCmdFn = c.forwardCommand
	return c
}

// poke closes the connection if it waits for a command (Shutdown); a
// command in flight finishes first.
func (c *clientConn) poke() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idle {
		_ = c.clientNet.SetReadDeadline(time.Now())
	}
}

func (c *clientConn) closeNow() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dead = true
	_ = c.rawClient.Close()
	if c.rawPrimary != nil {
		_ = c.rawPrimary.Close()
	}
}

func (c *clientConn) setIdle(idle bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idle = idle
	if idle {
		return !c.dead && !c.primaryGone && !c.p.stopping()
	}
	return true
}

// primaryHungUp is called by the proxy's closeWatch when the primary closed
// its side of the connection (wait_timeout, KILL, a restart). An idle
// client's connection is closed at once, as the server's own would be, so
// that a pool's liveness check sees it; a command in flight meets the end
// on the primary leg, and the connection ends after it.
func (c *clientConn) primaryHungUp() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.primaryGone = true
	if c.idle {
		c.dead = true
		_ = c.rawClient.Close()
		_ = c.rawPrimary.Close()
	}
}

// clientHungUp is called by the proxy's closeWatch when the client closed
// its side. During a command the primary's connection is closed at once,
// as the client's own would be directly: the server ends what waits (a
// GET_LOCK) and releases the session's locks. An idle client's end is read
// by the connection's goroutine; a command it sent before hanging up gets
// its primary connection closed once sent (command). The TCP socket is
// closed, not the TLS connection over it: a TLS close sends a close_notify
// first, and MariaDB, finding bytes to read, takes the session for alive and
// keeps waiting.
func (c *clientConn) clientHungUp() {
	c.clientGone.Store(true)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.idle {
		c.dead = true
		_ = c.rawClient.Close()
		_ = c.rawPrimary.Close()
	}
}

func (c *clientConn) hasPrimaryGone() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.primaryGone
}

func (c *clientConn) serve() {
	p := c.p
	p.m.connsTotal.Inc()
	p.m.connsActive.Inc()
	defer p.m.connsActive.Dec()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer func() {
		p.watch.remove(c)
		c.mu.Lock()
		_ = c.clientNet.Close()
		if c.primNet != nil {
			_ = c.primNet.Close()
		}
		c.mu.Unlock()
	}()
	if err := c.handshake(ctx); err != nil {
		p.log.Info("mirror: client login failed", "conn_id", c.id, "client_addr", c.addr, "err", err)
		return
	}
	p.watch.add(c)
	if p.opts.Mirror != nil {
		sess, err := p.opts.Mirror.Open(ctx, SessionInfo{
			ConnID: c.id, User: c.user, Database: c.db, Collation: c.charset,
			Capabilities: c.caps, ClientAddr: c.addr, PrimaryConnID: c.serverConnID,
		})
		if err != nil {
			p.log.Warn("mirror: open shadow session", "conn_id", c.id, "err", err)
		} else {
			c.sess = sess
			defer func() {
				if err := sess.Close(); err != nil {
					p.log.Warn("mirror: close shadow session", "conn_id", c.id, "err", err)
				}
			}()
		}
	}
	if err := c.loop(); err != nil {
		p.m.connErrors.WithLabelValues("relay").Inc()
		p.log.Info("mirror: connection ended", "conn_id", c.id, "err", err)
	} else if c.hasPrimaryGone() {
		p.log.Info("mirror: the primary closed the connection: closed the client's", "conn_id", c.id)
	}
}

// sendErr writes an ERR packet to the client and flushes.
func (c *clientConn) sendErr(seq uint8, code uint16, state, msg string) {
	c.buf = wire.AppendErr(c.buf[:0], code, state, msg)
	_, _ = c.client.WritePacket(seq, c.buf)
	_ = c.client.Flush()
}

type prefixConn struct {
	net.Conn
	r io.Reader
}

func (pc *prefixConn) Read(b []byte) (int, error) { return pc.r.Read(b) }

func isCleartextPlugin(name string) bool {
	return name == "mysql_clear_password" || name == "dialog"
}

func (c *clientConn) handshake(ctx context.Context) error {
	p := c.p
	timeout := p.opts.ConnectTimeout
	deadline := time.Now().Add(timeout)
	_ = c.rawClient.SetDeadline(deadline)
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	pnc, err := p.opts.Dial(dctx, "tcp", p.primary)
	if err != nil {
		p.m.connErrors.WithLabelValues("primary_dial").Inc()
		c.sendErr(0, errCodeConnect, "08S01", fmt.Sprintf("sqlshadow proxy: cannot connect to the primary %s: %v", p.primary, err))
		return fmt.Errorf("mirror: dial primary: %w", err)
	}
	_ = pnc.SetDeadline(deadline)
	c.mu.Lock()
	c.primNet, c.rawPrimary = pnc, pnc
	dead := c.dead
	c.mu.Unlock()
	if dead {
		return ErrProxyClosed
	}
	c.primary = wire.NewConn(pnc)

	fail := func(stage string, seq uint8, code uint16, msg string, err error) error {
		p.m.connErrors.WithLabelValues(stage).Inc()
		c.sendErr(seq, code, "08S01", "sqlshadow proxy: "+msg)
		return err
	}
	_, gp, err := c.primary.ReadPacket(nil)
	if err != nil {
		return fail("handshake", 0, errCodeConnect, "no greeting from the primary", fmt.Errorf("mirror: read greeting: %w", err))
	}
	if len(gp) > 0 && gp[0] == wire.HeaderErr {
		// The primary refuses the connection (too many connections...).
		_, _ = c.client.WritePacket(0, gp)
		_ = c.client.Flush()
		e, _ := wire.ParseErr(gp)
		p.m.connErrors.WithLabelValues("handshake").Inc()
		return fmt.Errorf("mirror: primary refused the connection: %w", e)
	}
	g, err := wire.ParseGreeting(gp)
	if err != nil {
		return fail("handshake", 0, errCodeConnect, "bad greeting from the primary", err)
	}
	c.serverConnID = g.ConnID
	if p.opts.PrimaryTLS != nil && g.Capabilities&wire.ClientSSL == 0 {
		return fail("handshake", 0, errCodeConnect, "the primary does not offer TLS", errors.New("mirror: primary does not offer TLS"))
	}
	if g.Capabilities&wire.ClientProtocol41 == 0 {
		return fail("handshake", 0, errCodeConnect, "the primary does not speak protocol 4.1", errors.New("mirror: primary too old"))
	}
	primaryCaps := g.Capabilities
	// Compression is the proxy's own on each leg: zlib and zstd are offered
	// to every client.
	g.Capabilities = g.Capabilities&wire.Supported | wire.ClientCompress | wire.ClientZstdCompression
	if p.opts.ClientTLS != nil {
		g.Capabilities |= wire.ClientSSL
	}
	g.MariaDBCapabilities &= wire.MariaDBSupported
	c.buf = g.Append(c.buf[:0])
	if _, err := c.client.WritePacket(0, c.buf); err != nil {
		return err
	}
	if err := c.client.Flush(); err != nil {
		return err
	}

	rseq, rp, err := c.client.ReadPacket(nil)
	if err != nil {
		return fmt.Errorf("mirror: read handshake response: %w", err)
	}
	resp, err := wire.ParseHandshakeResponse(rp)
	if err != nil {
		return fail("handshake", rseq+1, errCodeHandshake, "bad handshake", err)
	}
	if resp.SSLRequest {
		if p.opts.ClientTLS == nil {
			return fail("handshake", rseq+1, errCodeHandshake, "TLS is not offered", errors.New("mirror: client asked TLS, not configured"))
		}
		pre := c.client.Buffered()
		tc := tls.Server(&prefixConn{Conn: c.rawClient, r: io.MultiReader(strings.NewReader(string(pre)), c.rawClient)}, p.opts.ClientTLS)
		if err := tc.HandshakeContext(dctx); err != nil {
			p.m.connErrors.WithLabelValues("handshake").Inc()
			return fmt.Errorf("mirror: client TLS: %w", err)
		}
		c.mu.Lock()
		c.clientNet = tc
		c.mu.Unlock()
		c.client.Reset(tc)
		c.clientTLS = true
		rseq, rp, err = c.client.ReadPacket(nil)
		if err != nil {
			return fmt.Errorf("mirror: read handshake response: %w", err)
		}
		if resp, err = wire.ParseHandshakeResponse(rp); err != nil || resp.SSLRequest {
			if err == nil {
				err = errors.New("mirror: second SSLRequest")
			}
			return fail("handshake", rseq+1, errCodeHandshake, "bad handshake", err)
		}
	}
	// A compressing client gets a compressed primary leg when the primary
	// offers compression, an uncompressed one otherwise.
	clientZ := compressionOf(resp.Capabilities)
	primaryZ := primaryCompression(clientZ, primaryCaps)
	// TLS to the primary as the client chose, so that the server's own
	// checks (require_secure_transport, REQUIRE SSL) see the client's choice.
	c.primaryTLS = p.opts.PrimaryTLS != nil && (c.clientTLS || p.opts.PrimaryTLSAlways)
	if isCleartextPlugin(resp.AuthPlugin) && !c.primaryTLS && !p.opts.AllowCleartextAuth {
		return fail("auth", rseq+1, errCodeAccess, ErrCleartextRefused.Error(), ErrCleartextRefused)
	}
	out := *resp
	out.Capabilities = resp.Capabilities & (g.Capabilities &^ (wire.ClientSSL | compressionCaps))
	out.Capabilities |= primaryZ.capability()
	if primaryZ == zstdCompression && clientZ != zstdCompression {
		out.ZstdLevel = 3 // zstd's default level (servers refuse 0)
	}
	// The primary's leg gets what the client chose of what the primary
	// offers, so both legs frame the responses the same way.
	out.MariaDBCapabilities = resp.MariaDBCapabilities & g.MariaDBCapabilities
	if out.Capabilities&wire.ClientLongPassword != 0 {
		out.MariaDBCapabilities = 0 // a MySQL client: no extended capabilities
	}
	pseq := uint8(1)
	if c.primaryTLS {
		ssl := out
		ssl.Capabilities |= wire.ClientSSL
		ssl.SSLRequest = true
		c.buf = ssl.Append(c.buf[:0])
		if _, err := c.primary.WritePacket(1, c.buf); err != nil {
			return err
		}
		if err := c.primary.Flush(); err != nil {
			return fail("handshake", rseq+1, errCodeConnect, "primary connection lost", err)
		}
		cfg := p.opts.PrimaryTLS.Clone()
		if cfg.ServerName == "" {
			host, _, _ := net.SplitHostPort(p.primary)
			cfg.ServerName = host
		}
		tc := tls.Client(pnc, cfg)
		if err := tc.HandshakeContext(dctx); err != nil {
			return fail("handshake", rseq+1, errCodeConnect, "TLS to the primary failed: "+err.Error(), fmt.Errorf("mirror: primary TLS: %w", err))
		}
		c.mu.Lock()
		c.primNet = tc
		c.mu.Unlock()
		c.primary.Reset(tc)
		out.Capabilities |= wire.ClientSSL
		pseq = 2
	}
	c.buf = out.Append(c.buf[:0])
	if _, err := c.primary.WritePacket(pseq, c.buf); err != nil {
		return err
	}
	if err := c.primary.Flush(); err != nil {
		return fail("handshake", rseq+1, errCodeConnect, "primary connection lost", err)
	}
	ok, err := c.relayAuth(int(rseq) - int(pseq))
	if err != nil {
		p.m.connErrors.WithLabelValues("auth").Inc()
		return err
	}
	if !ok {
		p.m.connErrors.WithLabelValues("auth").Inc()
		return errors.New("mirror: primary refused the login")
	}
	c.caps = out.Capabilities &^ (wire.ClientSSL | compressionCaps)
	// Both legs compress what follows the login's OK.
	if clientZ != noCompression {
		var nc net.Conn = c.clientNet
		if pre := c.client.Buffered(); len(pre) > 0 {
			nc = &prefixConn{Conn: nc, r: io.MultiReader(strings.NewReader(string(pre)), nc)}
		}
		c.client.Reset(p.compressed(nc, clientZ, resp.ZstdLevel))
	}
	if primaryZ != noCompression {
		c.primaryZ = p.compressed(c.primNet, primaryZ, out.ZstdLevel)
		c.primary.Reset(c.primaryZ)
	}
	c.extMetadata = out.MariaDBCapabilities&wire.MariaDBClientExtendedMetadata != 0
	c.user = resp.User
	if resp.Capabilities&wire.ClientConnectWithDB != 0 {
		c.db = resp.Database
	}
	c.charset = resp.Charset
	_ = c.rawClient.SetDeadline(time.Time{})
	_ = c.clientNet.SetDeadline(time.Time{})
	_ = c.primNet.SetDeadline(time.Time{})
	return nil
}

// relayAuth relays an authentication exchange, starting with a packet from
// the primary, until the primary's OK or ERR. Primary packets go to the
// client with their sequence id plus off, client packets to the primary with
// theirs minus off.
func (c *clientConn) relayAuth(off int) (bool, error) {
	c.authErr = nil
	refuse := func(seq uint8) (bool, error) {
		c.sendErr(seq, errCodeAccess, "28000", "sqlshadow proxy: "+ErrCleartextRefused.Error())
		return false, ErrCleartextRefused
	}
	for {
		seq, p, err := c.primary.ReadPacket(nil)
		if err != nil {
			return false, fmt.Errorf("mirror: authentication with the primary: %w", err)
		}
		cseq := uint8(int(seq) + off)
		if len(p) == 0 {
			return false, errors.New("mirror: empty authentication packet")
		}
		expectClient := true
		switch p[0] {
		case wire.HeaderOK, wire.HeaderErr:
			expectClient = false
		case wire.HeaderEOF: // auth switch request
			name := p[1:]
			if i := strings.IndexByte(string(name), 0); i >= 0 {
				name = name[:i]
			}
			if isCleartextPlugin(string(name)) && !c.primaryTLS && !c.p.opts.AllowCleartextAuth {
				return refuse(cseq)
			}
		case wire.HeaderAuthMore:
			if len(p) == 2 && p[1] == 3 { // caching_sha2: fast auth success, OK follows
				expectClient = false
			}
			if len(p) == 2 && p[1] == 4 && c.clientTLS && !c.primaryTLS && !c.p.opts.AllowCleartextAuth {
				// The client would send its password in clear, and the
				// proxy would relay it over the plain primary leg.
				return refuse(cseq)
			}
		}
		if _, err := c.client.WritePacket(cseq, p); err != nil {
			return false, err
		}
		if err := c.client.Flush(); err != nil {
			return false, err
		}
		switch p[0] {
		case wire.HeaderOK:
			return true, nil
		case wire.HeaderErr:
			c.authErr, _ = wire.ParseErr(p)
			return false, nil
		}
		if !expectClient {
			continue
		}
		cs, cp, err := c.client.ReadPacket(nil)
		if err != nil {
			return false, fmt.Errorf("mirror: authentication with the client: %w", err)
		}
		if _, err := c.primary.WritePacket(uint8(int(cs)-off), cp); err != nil {
			return false, err
		}
		if err := c.primary.Flush(); err != nil {
			return false, err
		}
	}
}

// toClient forwards one response packet to the client, timing what the
// client makes the proxy wait.
func (c *clientConn) toClient(raw []byte) error {
	if !c.gotFirst {
		c.gotFirst = true
		c.ttfb = time.Since(c.received) - c.start
	}
	if len(raw) > c.client.Available() {
		// Only monotonic readings here: time.Now also reads the wall clock.
		t := time.Since(c.received)
		err := c.client.WriteRaw(raw)
		c.clientWait += time.Since(c.received) - t
		if err != nil {
			c.clientErr = err
		}
		return err
	}
	if err := c.client.WriteRaw(raw); err != nil {
		c.clientErr = err
		return err
	}
	return nil
}

// forwardCommand forwards one physical command packet to the primary unless
// the command is refused.
func (c *clientConn) forwardCommand(raw []byte) error {
	if c.firstIn {
		c.firstIn = false
		if len(raw) > wire.HeaderSize {
			switch raw[wire.HeaderSize] {
			case wire.ComBinlogDump, wire.ComBinlogDumpGTID, wire.ComRegisterSlave, wire.ComTableDump:
				c.refused = true
			}
		}
	}
	if c.refused {
		return nil
	}
	// A write error (the primary is gone) sticks in the buffered writer:
	// the command is read to its end, and the flush that follows reports
	// the error to the client.
	_ = c.primary.WriteRaw(raw)
	return nil
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (c *clientConn) loop() error {
	p := c.p
	for {
		if !c.setIdle(true) {
			c.quitPrimary()
			return nil
		}
		if p.opts.IdleTimeout > 0 {
			_ = c.clientNet.SetReadDeadline(time.Now().Add(p.opts.IdleTimeout))
		}
		c.firstIn, c.refused = true, false
		if c.primaryZ != nil {
			c.primaryZ.ResetSequence()
		}
		up0, down0 := c.primary.BytesWritten, c.primary.BytesRead
		_, payload, err := c.client.ReadPacket(c.fwdCmdFn)
		c.setIdle(false)
		if err != nil {
			c.quitPrimary()
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isTimeout(err) {
				return nil
			}
			return fmt.Errorf("mirror: read command: %w", err)
		}
		if c.p.stopping() || p.opts.IdleTimeout > 0 {
			_ = c.clientNet.SetReadDeadline(time.Time{})
		}
		received := time.Now()
		if len(payload) == 0 {
			return errors.New("mirror: empty command packet")
		}
		c.seq++
		cmd := payload[0]
		p.m.cmdByByte[cmd].Inc()
		if err := c.command(cmd, payload, received, up0, down0); err != nil {
			return err
		}
		if cmd == wire.ComQuit {
			return nil
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// quitPrimary says goodbye to the primary when the client left without.
func (c *clientConn) quitPrimary() {
	if c.primary == nil {
		return
	}
	_ = c.primNet.SetWriteDeadline(time.Now().Add(time.Second))
	if c.primaryZ != nil {
		c.primaryZ.ResetSequence()
	}
	_, _ = c.primary.WritePacket(0, []byte{wire.ComQuit})
	_ = c.primary.Flush()
}

// command relays one command whose packets were read (and forwarded) and
// logs it.
func (c *clientConn) command(cmd byte, payload []byte, received time.Time, up0, down0 int64) error {
	p := c.p
	var (
		query  string
		stmtID uint32
		st     *stmtInfo
		mcopy  []byte
	)
	switch cmd {
	case wire.ComQuery, wire.ComStmtPrepare:
		query = string(payload[1:])
	case wire.ComStmtExecute, wire.ComStmtFetch, wire.ComStmtSendLongData, wire.ComStmtClose, wire.ComStmtReset, wire.ComStmtBulkExecute:
		if len(payload) >= 5 {
			stmtID = binary.LittleEndian.Uint32(payload[1:])
			if stmtID == 0xffffffff {
				stmtID = c.lastStmt
			}
			if st = c.stmts[stmtID]; st != nil {
				query = st.query
			}
		}
	}
	var cu *wire.ChangeUser
	if cmd == wire.ComChangeUser {
		cu, _ = wire.ParseChangeUser(payload, c.caps)
	}
	if c.sess != nil {
		mcopy = append([]byte(nil), payload...)
	}
	dbBefore, userBefore := c.db, c.user
	c.received = received
	res := &c.res
	res.Reset()
	c.gotFirst, c.ttfb, c.clientWait, c.clientErr = false, 0, 0, nil

	var ioErr error // an I/O error with the primary
	if c.refused {
		res.Success = false
		res.Err = &wire.Err{Code: errCodeUnknown, SQLState: "08S01", Message: "sqlshadow proxy: " + wire.CommandName(cmd) + " is not supported through the proxy"}
		c.start = time.Since(received)
		c.sendErr(1, res.Err.Code, res.Err.SQLState, res.Err.Message)
	} else {
		ferr := c.primary.Flush()
		c.start = time.Since(received)
		if c.clientGone.Load() {
			// The client hung up after sending the command: its TCP
			// socket, as in clientHungUp.
			c.mu.Lock()
			c.dead = true
			_ = c.rawPrimary.Close()
			c.mu.Unlock()
		}
		switch {
		case ferr != nil:
			ioErr = ferr
		case cmd == wire.ComChangeUser:
			if cu != nil && isCleartextPlugin(cu.AuthPlugin) && !c.primaryTLS && !p.opts.AllowCleartextAuth {
				// Too late to stop the password: the command is sent. Close.
				return ErrCleartextRefused
			}
			var ok bool
			ok, ioErr = c.relayAuth(0)
			res.Success = ok
			if !ok && ioErr == nil {
				res.Err = c.authErr
				if res.Err == nil {
					res.Err = &wire.Err{Code: errCodeAccess, SQLState: "28000", Message: "change user refused"}
				}
			}
		default:
			req := wire.Request{Cmd: cmd, Caps: c.caps, Columns: stmtCols(st, cmd), CursorAsked: wire.ExecuteAsksCursor(payload),
				ExtendedMetadata: c.extMetadata}
			ioErr = c.primary.ReadResponse(req, c.toClientFn, res)
			for ioErr == nil && res.LocalInfile {
				ioErr = c.relayInfile()
				if ioErr == nil {
					ioErr = c.primary.ReadResponse(wire.Request{Cmd: wire.ComQuery, Caps: c.caps, ExtendedMetadata: c.extMetadata}, c.toClientFn, res)
				}
			}
		}
	}
	end := time.Since(received)
	if ioErr != nil && c.clientGone.Load() {
		ioErr = errClientLeft
	}
	if c.clientErr != nil {
		return fmt.Errorf("mirror: write to client: %w", c.clientErr)
	}
	// When the primary leg fails (ioErr), what was read of the answer is
	// relayed and the connection ends: the client sees its connection lost,
	// as it would directly (an ERR made up here would read as the server's,
	// with an error code reserved for clients).
	if c.client.Buffering() > 0 && !errors.Is(ioErr, errClientLeft) {
		if err := c.client.Flush(); err != nil {
			return fmt.Errorf("mirror: write to client: %w", err)
		}
		c.clientWait += time.Since(received) - end
	}
	up, down := c.primary.BytesWritten-up0, c.primary.BytesRead-down0
	p.m.bytesUp.Add(float64(up))
	p.m.bytesDown.Add(float64(down))
	dur := end - c.start
	p.m.duration.Observe(dur.Seconds())

	out := Outcome{Duration: dur, ClientWait: c.clientWait, Success: res.Success && ioErr == nil, Rows: res.Rows()}
	hashOK := out.Success && res.HashOK()
	if out.Success {
		out.FloatCols = res.FloatCols
	}
	var colSum [16]byte
	var colsOK bool
	if out.Success && (p.logOn || c.sess != nil) {
		colSum, colsOK = res.ColumnsSum()
	}
	var queryID string
	if c.sess != nil {
		// The mirror needs the strings now; the log record reuses them
		// (without a mirror, the log goroutine formats them).
		queryID = p.queryID(c.id, c.seq)
		if hashOK {
			out.ResultHash = res.Sum.String()
		}
		if colsOK {
			out.ColumnsHash = hex.EncodeToString(colSum[:])
		}
	}
	switch {
	case ioErr != nil:
		out.Error = ioErr.Error()
		p.m.commandError(0, true)
	case res.Err != nil:
		out.ErrorCode, out.SQLState, out.Error = res.Err.Code, res.Err.SQLState, res.Err.Message
		p.m.commandError(res.Err.Code, false)
	}

	// Session state, after the primary's answer.
	if out.Success {
		switch cmd {
		case wire.ComStmtPrepare:
			stmtID = res.StmtID
			out.NumParams = res.NumParams
			c.stmts[res.StmtID] = &stmtInfo{query: query, numParams: res.NumParams}
			c.lastStmt = res.StmtID
		case wire.ComStmtExecute:
			if st != nil {
				st.cols = nil
				if res.Cursor {
					st.cols = append([]wire.Column(nil), res.Columns...)
				}
			}
		case wire.ComInitDB:
			c.db = string(payload[1:])
		case wire.ComQuery:
			if db, ok := useDatabase(query); ok {
				c.db = db
			}
		case wire.ComChangeUser:
			if cu != nil {
				c.user, c.db = cu.User, cu.Database
			}
			clear(c.stmts)
		case wire.ComResetConnection:
			clear(c.stmts)
		}
	}
	if cmd == wire.ComStmtClose {
		delete(c.stmts, stmtID)
	}

	if p.logOn {
		p.enqueue(&logItem{
			received: received, queryID: queryID, cmd: cmd, db: dbBefore, user: userBefore,
			clientAddr: c.addr, connID: c.id, seq: c.seq, serverConnID: c.serverConnID,
			out: out, ttfb: c.ttfb, bytesSent: up, bytesRecv: down,
			query: query, cache: st != nil || cmd == wire.ComStmtPrepare,
			sum: res.Sum, hasSum: hashOK && out.ResultHash == "", cols: colSum, hasCols: colsOK && out.ColumnsHash == "",
		})
	}
	if c.sess != nil {
		ok := c.sess.Submit(Command{
			QueryID: queryID, Seq: c.seq, Received: received, Payload: mcopy,
			Query: query, StmtID: stmtID, Primary: out,
		})
		if !ok {
			p.m.mirrorDrops.Inc()
		}
	}
	if ioErr != nil {
		return fmt.Errorf("mirror: primary: %w", ioErr)
	}
	return nil
}

func stmtCols(st *stmtInfo, cmd byte) []wire.Column {
	if st == nil || cmd != wire.ComStmtFetch {
		return nil
	}
	return st.cols
}

// relayInfile relays a LOCAL INFILE upload: the client's packets up to and
// including the empty one that ends the file.
func (c *clientConn) relayInfile() error {
	if err := c.client.Flush(); err != nil {
		c.clientErr = err
		return err
	}
	for {
		_, p, err := c.client.ReadPacket(func(raw []byte) error { return c.primary.WriteRaw(raw) })
		if err != nil {
			c.clientErr = err
			return err
		}
		if len(p) == 0 {
			return c.primary.Flush()
		}
	}
}

// useDatabase recognises "USE db" (the only statement of a COM_QUERY) and
// returns the database.
func useDatabase(q string) (string, bool) {
	q = strings.TrimSpace(q)
	q = strings.TrimSuffix(q, ";")
	if len(q) < 5 || !strings.EqualFold(q[:3], "use") || (q[3] != ' ' && q[3] != '\t' && q[3] != '\n' && q[3] != '`') {
		return "", false
	}
	db := strings.TrimSpace(q[3:])
	if strings.ContainsAny(db, "; \t\n") && !(strings.HasPrefix(db, "`") && strings.HasSuffix(db, "`")) {
		return "", false
	}
	if len(db) >= 2 && db[0] == '`' && db[len(db)-1] == '`' {
		db = strings.ReplaceAll(db[1:len(db)-1], "``", "`")
	}
	return db, db != ""
}

func ptr[T any](v T) *T { return &v }

// compression is a leg's protocol compression.
type compression uint8

const (
	noCompression compression = iota
	zlibCompression
	zstdCompression
)

// compressionCaps are the capabilities that ask for compression.
const compressionCaps = wire.ClientCompress | wire.ClientZstdCompression

// capability returns the capability flag that asks for z.
func (z compression) capability() uint32 {
	switch z {
	case zlibCompression:
		return wire.ClientCompress
	case zstdCompression:
		return wire.ClientZstdCompression
	}
	return 0
}

// compressionOf returns the compression capabilities ask for: zlib when
// they ask for both (the algorithm every MariaDB and MySQL version speaks).
func compressionOf(caps uint32) compression {
	switch {
	case caps&wire.ClientCompress != 0:
		return zlibCompression
	case caps&wire.ClientZstdCompression != 0:
		return zstdCompression
	}
	return noCompression
}

// primaryCompression returns the primary leg's compression for a client
// leg's: none for an uncompressed client, the client's algorithm when the
// primary offers it, else the other one the primary offers, else none.
func primaryCompression(client compression, primaryCaps uint32) compression {
	if client == noCompression {
		return noCompression
	}
	if primaryCaps&client.capability() != 0 {
		return client
	}
	return compressionOf(primaryCaps)
}

// compressed returns nc speaking the compressed protocol with z (zlib or
// zstd at level).
func (p *Proxy) compressed(nc net.Conn, z compression, level byte) *wire.CompressedConn {
	if z == zstdCompression {
		return wire.NewZstdConn(nc, p.zstd, int(level))
	}
	return wire.NewCompressedConn(nc)
}
