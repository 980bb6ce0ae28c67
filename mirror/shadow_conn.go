package mirror

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gmysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/charset"

	"github.com/sqlshadow/sqlshadow/mirror/internal/wire"
)

// shadowConn is one logged-in connection to the shadow, driven with raw
// command payloads after go-mysql's client did the login.
type shadowConn struct {
	raw      net.Conn // the TCP connection (deadlines, interrupts)
	wc       *wire.Conn
	connID   uint32
	caps     uint32 // capabilities this side asked for (DEPRECATE_EOF is never asked)
	writeBuf []byte
}

// errUnknownDatabase is MySQL's ER_BAD_DB_ERROR.
const errUnknownDatabase = 1049

// dial logs in to the shadow for one session. The whole login is bounded by
// DialTimeout; track registers the raw connection so that it can be closed
// from another goroutine while the login runs.
func (s *Shadow) dial(ctx context.Context, info *SessionInfo, user, db string, track func(net.Conn)) (*shadowConn, error) {
	cred := s.credentials(user)
	ctx, cancel := context.WithTimeout(ctx, s.opts.DialTimeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	var raw net.Conn
	dialer := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		var err error
		if s.opts.Dial != nil {
			c, err = s.opts.Dial(ctx, network, addr)
		} else {
			var d net.Dialer
			c, err = d.DialContext(ctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		_ = c.SetDeadline(deadline)
		raw = c
		if track != nil {
			track(c)
		}
		return c, nil
	}
	caps := wire.ClientMultiResults | wire.ClientPSMultiResults
	if info.Capabilities&wire.ClientMultiStatements != 0 {
		caps |= wire.ClientMultiStatements
	}
	caps |= info.Capabilities & (wire.ClientFoundRows | wire.ClientIgnoreSpace)
	option := func(c *client.Conn) error {
		c.BufferSize = 4 << 10 // the login's buffer only: commands use wire.Conn
		c.UnsetCapability(gmysql.CLIENT_QUERY_ATTRIBUTES)
		c.UnsetCapability(gmysql.CLIENT_DEPRECATE_EOF)
		c.UnsetCapability(gmysql.CLIENT_COMPRESS)
		c.UnsetCapability(gmysql.CLIENT_ZSTD_COMPRESSION_ALGORITHM)
		for _, f := range []uint32{wire.ClientMultiResults, wire.ClientPSMultiResults,
			wire.ClientMultiStatements, wire.ClientFoundRows, wire.ClientIgnoreSpace} {
			if caps&f != 0 {
				if err := c.SetCapability(f); err != nil {
					return err
				}
			} else {
				c.UnsetCapability(f)
			}
		}
		if s.opts.TLS != nil {
			c.SetTLSConfig(s.opts.TLS)
		}
		if info.Collation != 0 {
			if co, err := charset.GetCollationByID(int(info.Collation)); err == nil {
				if err := c.SetCollation(co.Name); err != nil {
					return err
				}
			}
		}
		c.SetAttributes(map[string]string{"program_name": "sqlshadow"})
		return nil
	}
	lc, err := client.ConnectWithDialer(ctx, "tcp", s.addr, cred.User, cred.Password, db, dialer, option)
	if err != nil {
		if raw != nil {
			_ = raw.Close()
		}
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(ctxErr, context.DeadlineExceeded) {
			return nil, fmt.Errorf("mirror: shadow login to %s: timed out after %v: %w", s.addr, s.opts.DialTimeout, err)
		}
		return nil, fmt.Errorf("mirror: shadow login to %s: %w", s.addr, err)
	}
	nc := lc.Conn.Conn // the TLS connection when TLS is on
	_ = raw.SetDeadline(time.Time{})
	// go-mysql's Conn is done with: commands go through wire.Conn on the
	// same connection (its read buffer is empty after the login's OK).
	return &shadowConn{raw: raw, wc: wire.NewConn(nc), connID: lc.GetConnectionID(), caps: caps}, nil
}

// loginErrorCode returns the MySQL error code of a login error, or 0.
func loginErrorCode(err error) uint16 {
	var me *gmysql.MyError
	if errors.As(err, &me) {
		return me.Code
	}
	return 0
}

// send writes one command payload (command byte first) and flushes.
func (c *shadowConn) send(payload []byte, deadline time.Time) error {
	_ = c.raw.SetDeadline(deadline)
	if _, err := c.wc.WritePacket(0, payload); err != nil {
		return err
	}
	return c.wc.Flush()
}

// close sends COM_QUIT when quit is true, then closes the connection.
func (c *shadowConn) close(quit bool) {
	if quit {
		_ = c.raw.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.wc.WritePacket(0, []byte{wire.ComQuit}); err == nil {
			_ = c.wc.Flush()
		}
	}
	_ = c.wc.NetConn().Close() // the TLS connection, or raw
	_ = c.raw.Close()
}

// response is what the shadow answered to one command.
type response struct {
	out Outcome
	// stmtID and numParams come from a COM_STMT_PREPARE's OK.
	stmtID    uint32
	numParams uint16
	// cursor is true when a COM_STMT_EXECUTE opened a cursor, whose
	// columns are kept for the fetches.
	cursor  bool
	columns []wire.Column
}

// readResponseFunc reads the whole response to one command (req.Cmd). An
// error means the connection is unusable (I/O or framing); an ERR packet is
// an outcome, not an error. req.Columns are the open cursor's, for
// COM_STMT_FETCH.
type readResponseFunc func(c *wire.Conn, req wire.Request, res *wire.Result) (response, error)

// errLocalInfile is the error of a response asking for a LOCAL INFILE: the
// shadow sessions never offer CLIENT_LOCAL_FILES, so it breaks the protocol.
var errLocalInfile = errors.New("mirror: shadow asked for a LOCAL INFILE")

// readResponse reads one response with the wire package's command-aware
// reader, which also computes the canonical result hash. The shadow leg
// never negotiates CLIENT_DEPRECATE_EOF.
func readResponse(c *wire.Conn, req wire.Request, res *wire.Result) (response, error) {
	res.Reset()
	var r response
	err := c.ReadResponse(req, nil, res)
	if err != nil {
		return r, err
	}
	if res.LocalInfile {
		return r, errLocalInfile
	}
	r.out = Outcome{
		Success:     res.Success,
		Rows:        res.Rows(),
		ResultHash:  res.ResultHash(),
		ColumnsHash: res.ColumnsHash(),
		FloatCols:   res.FloatCols,
		NumParams:   res.NumParams,
	}
	if res.Err != nil {
		r.out.ErrorCode, r.out.SQLState, r.out.Error = res.Err.Code, res.Err.SQLState, res.Err.Message
	} else if !res.Success {
		r.out.Error = "mirror: shadow: unexpected response"
	}
	r.stmtID, r.numParams = res.StmtID, res.NumParams
	if res.Cursor {
		r.cursor = true
		r.columns = append([]wire.Column(nil), res.Columns...)
	}
	return r, nil
}

// connHolder lets another goroutine close a session's current connection
// (shutdown deadline) while the session's goroutine uses it.
type connHolder struct {
	mu      sync.Mutex
	raw     net.Conn
	stopped bool
}

func (h *connHolder) set(c net.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped && c != nil {
		_ = c.Close()
	}
	h.raw = c
}

func (h *connHolder) interrupt() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopped = true
	if h.raw != nil {
		_ = h.raw.Close()
	}
}
