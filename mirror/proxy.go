package mirror

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/hashing"
	"github.com/sqlshadow/sqlshadow/internal/canon"
	"github.com/sqlshadow/sqlshadow/mirror/internal/wire"
	"github.com/sqlshadow/sqlshadow/sink"
)

// Errors of the proxy.
var (
	// ErrProxyClosed is returned by Serve after Shutdown or Close.
	ErrProxyClosed = errors.New("mirror: proxy closed")
	// ErrCleartextRefused is the error of a login that would send a
	// cleartext password over a primary leg without TLS.
	ErrCleartextRefused = errors.New("mirror: cleartext authentication refused over a non-TLS primary connection")
)

// DefaultConnectTimeout bounds dialing, TLS and the handshake on every leg.
const DefaultConnectTimeout = 10 * time.Second

// DefaultLogQueue is the default number of query-log records buffered
// between connections and the sink.
const DefaultLogQueue = 16384

// Options configures a Proxy. The zero value (or nil) gives the defaults
// documented on each field.
type Options struct {
	// PrimaryTLS, when not nil, makes the proxy speak TLS to the primary
	// for the clients that connected with TLS (the primary must offer it),
	// so that the server's require_secure_transport and REQUIRE SSL see
	// the client's choice. Certificates are verified as the config says;
	// when ServerName is empty it is set to the primary's host. Default
	// nil: plain TCP.
	PrimaryTLS *tls.Config
	// PrimaryTLSAlways speaks TLS to the primary (PrimaryTLS) for every
	// client, also those that connected without TLS: the primary leg is
	// encrypted, but the server's require_secure_transport and REQUIRE
	// SSL no longer refuse a client without TLS. Default false.
	PrimaryTLSAlways bool
	// ClientTLS, when not nil, makes the proxy offer TLS to clients and
	// terminate it. Default nil: TLS is not offered to clients.
	ClientTLS *tls.Config
	// AllowCleartextAuth lets clients use cleartext authentication plugins
	// (mysql_clear_password, dialog, caching_sha2 full authentication over
	// client TLS) when the primary leg is not TLS. Default false: refused.
	AllowCleartextAuth bool
	// ConnectTimeout bounds dialing the primary, each TLS handshake and the
	// whole login, on both legs. Default DefaultConnectTimeout (10 s).
	ConnectTimeout time.Duration
	// IdleTimeout closes a client connection idle this long between
	// commands. Default 0: no idle timeout.
	IdleTimeout time.Duration
	// Sink receives the primary record of every command, a
	// *dataset.QueryLog (for the dataset.QueryLogs dataset). Records reach
	// it through a bounded queue served by one goroutine, so a slow sink
	// never blocks a client: records that do not fit are dropped and
	// counted. Shutdown, Close and Flush flush it; its owner closes it.
	// Default nil: no query log.
	Sink sink.Sink
	// LogQueue is the capacity of that queue in records. Default
	// DefaultLogQueue.
	LogQueue int
	// OmitQueryText leaves query_text out of the records (the hashes stay).
	// Default false.
	OmitQueryText bool
	// Mirror receives every command with the primary's outcome, after the
	// client has it. When it is a Shutdowner (Shadow is), the proxy's
	// Shutdown and Close shut it down; when it is a Flusher, Flush drains
	// it. Default nil: pass-through proxy.
	Mirror Mirror
	// Dial dials the primary. Default: a net.Dialer. On Linux the TCP
	// connections it returns, like the clients', are read and written with
	// raw system calls (syscall.RawConn): a call that need not wait is not
	// reported to the Go scheduler, which saves its monitor thread's
	// wake-ups and hand-offs of Ps, about a tenth of the proxy's CPU.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Registerer registers the proxy's metrics. Default nil: not registered.
	Registerer prometheus.Registerer
	// Logger receives connection errors and drops. Default nil: discard.
	Logger *slog.Logger
}

// Proxy is a MySQL-protocol proxy in front of one primary: clients connect
// to it as to the primary, authenticate with the primary through it, and get
// the primary's answers unchanged; every command is logged (Options.Sink) and
// handed to the Mirror (Options.Mirror).
type Proxy struct {
	primary string
	opts    Options
	log     *slog.Logger
	m       *metrics
	inst    string

	nextConn atomic.Uint64
	stop     atomic.Bool // set by Shutdown and Close

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*clientConn]struct{}
	watch     *closeWatch // nil when not available (not Linux)
	// zstd is the zstd compression state the connections share.
	zstd     *wire.ZstdCodec
	shutting bool
	closed   bool
	connWG   sync.WaitGroup
	serveWG  sync.WaitGroup

	// The query-log queue: connections append under logMu, the log
	// goroutine takes the whole batch at once (one lock per batch rather
	// than a channel operation per record on both sides).
	logOn     bool
	logMu     sync.Mutex
	logQ      []logItem
	logClosed bool
	logDone   chan struct{}
	logOnce   sync.Once
	// logCtx is the log goroutine's context for Sink.Write: cancelled by
	// Close, or when Shutdown's ctx ends, so that a sink that blocks (a
	// dead bucket) cannot keep the goroutine from being joined.
	logCtx    context.Context
	cancelLog context.CancelFunc
}

// New returns a Proxy in front of the primary at addr (host:port). Call
// Serve to accept clients, and Shutdown or Close to stop.
func New(primary string, opts *Options) (*Proxy, error) {
	if _, _, err := net.SplitHostPort(primary); err != nil {
		return nil, fmt.Errorf("mirror: primary address %q: %w", primary, err)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.LogQueue <= 0 {
		o.LogQueue = DefaultLogQueue
	}
	if o.Dial == nil {
		d := &net.Dialer{KeepAlive: 30 * time.Second}
		o.Dial = d.DialContext
	}
	o.Dial = rawDial(o.Dial)
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	var id [4]byte
	_, _ = rand.Read(id[:])
	p := &Proxy{
		primary:   primary,
		opts:      o,
		log:       log,
		m:         m,
		inst:      hex.EncodeToString(id[:]),
		listeners: map[net.Listener]struct{}{},
		conns:     map[*clientConn]struct{}{},
		logDone:   make(chan struct{}),
		zstd:      wire.NewZstdCodec(),
	}
	p.watch, err = newCloseWatch()
	if err != nil {
		// Without it, a primary's close is noticed at the next command.
		log.Warn("mirror: watching primary connections for their close", "err", err)
	}
	p.logCtx, p.cancelLog = context.WithCancel(context.Background())
	if o.Sink != nil {
		p.logOn = true
		go p.runLog()
	} else {
		close(p.logDone)
	}
	return p, nil
}

// Serve accepts client connections on l until Shutdown or Close, serving
// each in its own goroutine. It always returns a non-nil error:
// ErrProxyClosed after Shutdown or Close.
func (p *Proxy) Serve(l net.Listener) error {
	p.mu.Lock()
	if p.shutting || p.closed {
		p.mu.Unlock()
		_ = l.Close()
		return ErrProxyClosed
	}
	p.listeners[l] = struct{}{}
	p.serveWG.Add(1)
	p.mu.Unlock()
	defer p.serveWG.Done()
	defer func() {
		p.mu.Lock()
		delete(p.listeners, l)
		p.mu.Unlock()
	}()
	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			p.mu.Lock()
			stopping := p.shutting || p.closed
			p.mu.Unlock()
			if stopping {
				return ErrProxyClosed
			}
			if t, ok := err.(temporary); ok && t.Temporary() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				p.log.Warn("mirror: accept", "err", err, "retry_in", backoff)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("mirror: accept: %w", err)
		}
		backoff = 0
		p.mu.Lock()
		if p.shutting || p.closed {
			p.mu.Unlock()
			_ = nc.Close()
			return ErrProxyClosed
		}
		c := p.newClientConn(rawIO(nc))
		p.conns[c] = struct{}{}
		p.connWG.Add(1)
		p.mu.Unlock()
		go func() {
			defer p.connWG.Done()
			c.serve()
			p.mu.Lock()
			delete(p.conns, c)
			p.mu.Unlock()
		}()
	}
}

// Shutdown stops the proxy and what it owns, in order: it stops accepting
// clients, closes client connections as soon as they are between commands
// (a command in flight finishes and its answer reaches the client) and
// waits for every connection to end; then it shuts down Options.Mirror when
// it is a Shutdowner (Shadow drains its queues); then it hands the last
// records to Options.Sink and flushes it. The sink is not closed: its owner
// closes it after Shutdown.
//
// When ctx ends first, the remaining connections are closed at once, the
// mirror and the log stop waiting (what they still hold is dropped and
// counted), and ctx's error is returned. Shutdown returns only after every
// goroutine of the proxy has ended.
func (p *Proxy) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.shutting = true
	p.stop.Store(true)
	for l := range p.listeners {
		_ = l.Close()
	}
	for c := range p.conns {
		c.poke()
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() {
		p.connWG.Wait()
		p.serveWG.Wait()
		p.watch.stop()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		p.closeConns()
		<-done
	}
	if m, ok := p.opts.Mirror.(Shutdowner); ok {
		if merr := m.Shutdown(ctx); err == nil {
			err = merr
		}
	}
	if ferr := p.stopLog(ctx); err == nil {
		err = ferr
	}
	return err
}

// Close closes the listeners and every connection at once, shuts down
// Options.Mirror at once when it is a Shutdowner (its queued commands are
// logged as dropped), hands what the query log holds to the sink without
// waiting for room, and flushes the sink, bounded by ConnectTimeout. Every
// goroutine of the proxy has ended when it returns.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.stop.Store(true)
	for l := range p.listeners {
		_ = l.Close()
	}
	p.mu.Unlock()
	p.closeConns()
	p.connWG.Wait()
	p.serveWG.Wait()
	p.watch.stop()
	p.cancelLog()
	var err error
	if m, ok := p.opts.Mirror.(Shutdowner); ok {
		now, cancel := context.WithCancel(context.Background())
		cancel()
		if merr := m.Shutdown(now); merr != nil && !errors.Is(merr, context.Canceled) {
			err = merr
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.ConnectTimeout)
	defer cancel()
	if ferr := p.stopLog(ctx); err == nil {
		err = ferr
	}
	return err
}

// Flush returns once every command that completed before the call has its
// records handed to the sinks and Options.Sink is flushed: the primary
// records are written, Options.Mirror's queues are drained when it is a
// Flusher (Shadow is), then the sink is flushed. The proxy keeps serving.
// It returns ctx's error when ctx ends first.
func (p *Proxy) Flush(ctx context.Context) error {
	if p.logOn {
		written := make(chan struct{})
		p.logMu.Lock()
		closed := p.logClosed
		if !closed {
			p.logQ = append(p.logQ, logItem{written: written})
		}
		p.logMu.Unlock()
		if closed {
			written = p.logDone
		}
		select {
		case <-written:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if m, ok := p.opts.Mirror.(Flusher); ok {
		if err := m.Flush(ctx); err != nil {
			return err
		}
	}
	if p.opts.Sink != nil {
		if err := p.opts.Sink.Flush(ctx); err != nil {
			return fmt.Errorf("mirror: flush query log: %w", err)
		}
	}
	return nil
}

// temporary is implemented by the errors of Accept that a retry may cure
// (net.Error's deprecated Temporary, which net/http's Server uses the same
// way).
type temporary interface{ Temporary() bool }

var _ temporary = (*net.OpError)(nil)

func (p *Proxy) closeConns() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.stop.Store(true)
	for c := range p.conns {
		c.closeNow()
	}
}

func (p *Proxy) stopping() bool { return p.stop.Load() }

// logItem is what a connection knows of one command when the client has
// its answer: primaryRecord turns it into the record on the log goroutine,
// off the client's path (the hashes and their hex forms are computed there).
type logItem struct {
	received     time.Time
	queryID      string // "" when the connection did not need it (no mirror)
	cmd          byte
	db, user     string // before the command
	clientAddr   string
	connID, seq  uint64
	serverConnID uint32
	out          Outcome // ResultHash and ColumnsHash are set when the mirror needed them
	ttfb         time.Duration
	bytesSent    int64
	bytesRecv    int64
	query        string
	cache        bool // the text repeats (prepared statement): cache its template
	// The hashes for the log goroutine to format, when out does not hold
	// them already.
	sum     canon.RowSum
	hasSum  bool
	cols    [16]byte
	hasCols bool
	// written, when not nil, makes the item a marker of Flush, closed when
	// the log goroutine reaches it: it has no record.
	written chan struct{}
}

// enqueue hands a record to the log goroutine without ever blocking: it is
// dropped (and counted) when the queue holds LogQueue records, or after the
// log was stopped (a record racing Close).
func (p *Proxy) enqueue(it *logItem) {
	if !p.logOn {
		return
	}
	p.logMu.Lock()
	if p.logClosed || len(p.logQ) >= p.opts.LogQueue {
		p.logMu.Unlock()
		p.m.logDropped.Inc()
		return
	}
	p.logQ = append(p.logQ, *it)
	p.logMu.Unlock()
}

// logPollInterval is how often the log goroutine looks for records when it
// found none: polling, rather than a wake-up per record, keeps the cost of
// logging off the clients' path.
const logPollInterval = 5 * time.Millisecond

func (p *Proxy) runLog() {
	defer close(p.logDone)
	b := newRecordBuilder(p)
	var batch []logItem
	for {
		p.logMu.Lock()
		batch, p.logQ = p.logQ, batch[:0]
		closed := p.logClosed
		p.logMu.Unlock()
		for i := range batch {
			if batch[i].written != nil {
				close(batch[i].written)
			} else {
				p.writeRecord(p.logCtx, b.primaryRecord(&batch[i]))
			}
			batch[i] = logItem{} // let the batch's strings go
		}
		if len(batch) == 0 {
			if closed {
				return
			}
			time.Sleep(logPollInterval)
		}
	}
}

func (p *Proxy) writeRecord(ctx context.Context, rec *dataset.QueryLog) {
	if err := p.opts.Sink.Write(ctx, time.Time(rec.TS), rec); err != nil {
		// A write cut short by the end of the run context is a drop too.
		if errors.Is(err, sink.ErrDropped) || ctx.Err() != nil {
			p.m.logDropped.Inc()
		} else {
			p.m.logErrors.Inc()
			p.log.Warn("mirror: query log write", "err", err)
		}
	}
}

// recordBuilder builds the primary records, one at a time, on the log
// goroutine: it reuses one record (the sink encodes a record before Write
// returns) and caches what repeats across records.
type recordBuilder struct {
	p              *Proxy
	tc             *templateCache
	rec            dataset.QueryLog
	ttfbMS, waitMS float64 // rec.TTFBMS and rec.ClientWaitMS point here
}

func newRecordBuilder(p *Proxy) *recordBuilder {
	return &recordBuilder{p: p, tc: newTemplateCache(4096)}
}

// primaryRecord returns the primary record of it, valid until the next call.
func (b *recordBuilder) primaryRecord(it *logItem) *dataset.QueryLog {
	o := &it.out
	b.ttfbMS, b.waitMS = millis(it.ttfb), millis(o.ClientWait)
	b.rec = dataset.QueryLog{
		TS:           sink.Time(it.received),
		QueryID:      it.queryID,
		Target:       dataset.TargetPrimary,
		Command:      wire.CommandName(it.cmd),
		Database:     it.db,
		User:         it.user,
		ClientAddr:   it.clientAddr,
		ConnID:       it.connID,
		Seq:          it.seq,
		DurationMS:   millis(o.Duration),
		TTFBMS:       &b.ttfbMS,
		ClientWaitMS: &b.waitMS,
		ServerConnID: it.serverConnID,
		Success:      o.Success,
		ErrorCode:    o.ErrorCode,
		SQLState:     o.SQLState,
		Error:        o.Error,
		Rows:         o.Rows,
		ResultHash:   o.ResultHash,
		ColumnsHash:  o.ColumnsHash,
		FloatCols:    o.FloatCols,
		BytesSent:    it.bytesSent,
		BytesRecv:    it.bytesRecv,
	}
	r := &b.rec
	if r.QueryID == "" {
		r.QueryID = b.p.queryID(it.connID, it.seq)
	}
	if it.hasSum {
		r.ResultHash = it.sum.String()
	}
	if it.hasCols {
		r.ColumnsHash = b.tc.columnsHash(it.cols)
	}
	if it.query != "" {
		if !b.p.opts.OmitQueryText {
			r.QueryText = it.query
		}
		h := b.tc.get(it.query, it.cache)
		r.QueryHash, r.TemplateHash, r.Route = h.query, h.template, h.route
	}
	return r
}

// templateCache remembers the hashes and route of statement texts that
// repeat (prepared statements), the template hashes of statement shapes
// (texts that differ only in literal values), and the hex form of column
// hashes (a workload has few result shapes), bounded in entries. Only the
// log goroutine uses it.
type templateCache struct {
	max       int
	m         map[string]textHashes
	cols      map[[16]byte]string
	templates *hashing.TemplateCache // texts that do not repeat may share a shape
}

// textHashes are what a record derives from its statement text.
type textHashes struct{ query, template, route string }

func newTemplateCache(max int) *templateCache {
	return &templateCache{max: max, m: make(map[string]textHashes), cols: make(map[[16]byte]string),
		templates: hashing.NewTemplateCache(max)}
}

func (tc *templateCache) columnsHash(sum [16]byte) string {
	if h, ok := tc.cols[sum]; ok {
		return h
	}
	h := hex.EncodeToString(sum[:])
	if len(tc.cols) >= tc.max {
		clear(tc.cols)
	}
	tc.cols[sum] = h
	return h
}

// get returns the hashes and route of q, from the cache when cache says
// that q repeats.
func (tc *templateCache) get(q string, cache bool) textHashes {
	if cache {
		if h, ok := tc.m[q]; ok {
			return h
		}
	}
	h := textHashes{query: hashing.QueryHash(q), template: tc.templates.TemplateHash(q)}
	if strings.Contains(q, "/*") { // tags live in block comments only
		if tags := hashing.Tags(q); tags != nil {
			h.route = tags["route"]
		}
	}
	if cache && len(q) <= 4096 {
		if len(tc.m) >= tc.max {
			clear(tc.m)
		}
		tc.m[q] = h
	}
	return h
}

// stopLog ends the log goroutine once it has handed every queued record to
// the sink (when ctx ends first, the sink's writes stop waiting for room),
// then flushes the sink.
func (p *Proxy) stopLog(ctx context.Context) error {
	p.logOnce.Do(func() {
		p.logMu.Lock()
		p.logClosed = true
		p.logMu.Unlock()
	})
	var err error
	select {
	case <-p.logDone:
	case <-ctx.Done():
		err = ctx.Err()
		p.cancelLog()
		<-p.logDone
	}
	p.cancelLog()
	if err != nil {
		return err
	}
	if p.opts.Sink != nil {
		if err := p.opts.Sink.Flush(ctx); err != nil {
			return fmt.Errorf("mirror: flush query log: %w", err)
		}
	}
	return nil
}

// queryID returns the query_id of command seq of connection connID: unique
// per proxy instance, connection and command.
func (p *Proxy) queryID(connID, seq uint64) string {
	b := make([]byte, 0, 40)
	b = append(b, p.inst...)
	b = append(b, '-')
	b = strconv.AppendUint(b, connID, 10)
	b = append(b, '-')
	b = strconv.AppendUint(b, seq, 10)
	return string(b)
}
