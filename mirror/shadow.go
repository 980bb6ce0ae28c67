package mirror

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sqlshadow/sqlshadow/sink"
)

// Defaults of ShadowOptions.
const (
	// DefaultShadowQueueCommands bounds each session's queue in commands.
	DefaultShadowQueueCommands = 10_000
	// DefaultShadowQueueBytes bounds each session's queue in bytes.
	DefaultShadowQueueBytes = 16 << 20
	// DefaultShadowBudgetBytes bounds the bytes queued by all sessions.
	DefaultShadowBudgetBytes = 256 << 20
	// DefaultShadowDialTimeout bounds dialing, TLS and login.
	DefaultShadowDialTimeout = 10 * time.Second
	// DefaultShadowMinDeadline is the least per-command deadline.
	DefaultShadowMinDeadline = 30 * time.Second
	// DefaultShadowDeadlineScale multiplies the primary's duration into
	// the per-command deadline.
	DefaultShadowDeadlineScale = 10
	// DefaultShadowDrainTimeout is how long a closed session runs its queue.
	DefaultShadowDrainTimeout = 30 * time.Second
)

// Errors of the shadow side.
var (
	// ErrShadowClosed is returned by Shadow.Open after Shutdown or Close.
	ErrShadowClosed = errors.New("mirror: shadow closed")
	// ErrShadowDeadline is the error of a shadow command that ran past its
	// deadline (the record's error text).
	ErrShadowDeadline = errors.New("mirror: shadow deadline exceeded")
	// ErrShadowUnavailable is the error of a command that could not run
	// because the shadow session is not logged in.
	ErrShadowUnavailable = errors.New("mirror: shadow unavailable")
)

// Credentials are a user name and password for the shadow.
type Credentials struct {
	User     string
	Password string
}

// ShadowOptions configure a Shadow. The zero value is usable; every default is
// documented on its field.
type ShadowOptions struct {
	// User and Password are the identity the shadow sessions log in with,
	// unless Users maps the client's user to another one. Default (User
	// empty): the client's own user name, with Password.
	User     string
	Password string
	// Users maps a client user (as authenticated on the primary) to the
	// shadow identity its sessions use, so that the shadow's resource groups
	// classify by user. Users not in the map use User and Password.
	Users map[string]Credentials
	// TLS, when set, makes every shadow session use TLS with this
	// configuration (certificates are verified unless it says otherwise).
	// When ServerName is empty it is set from the shadow address's host.
	// Default: no TLS.
	TLS *tls.Config
	// DialTimeout bounds dialing, TLS and the login of a shadow session.
	// Default: DefaultShadowDialTimeout (10 s).
	DialTimeout time.Duration
	// Dial, when set, replaces net.Dialer.DialContext (tests, proxies). The
	// TCP connections it returns are read and written with raw system calls
	// on Linux, as the proxy's are.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// MirrorWrites mirrors statements that are not read-only (writes, locks,
	// side effects). Default: false, read-only mirroring: those statements
	// are logged as filtered with the reason "write".
	MirrorWrites bool
	// Include, when set, mirrors only statements whose text it matches
	// (others are filtered with the reason "include"). State-changing
	// statements are never filtered.
	Include *regexp.Regexp
	// Exclude filters statements whose text it matches (reason "exclude").
	Exclude *regexp.Regexp
	// Filter, when set, is asked about every command that the other filters
	// let through; a non-empty result filters it with that reason. It runs
	// on the session's shadow goroutine, never on the client's path, and
	// never sees state-changing commands.
	Filter func(info *SessionInfo, cmd *Command) (reason string)
	// SampleRate is the fraction of mirrorable commands (each prepared
	// statement execute decided on its own) that are sent to the shadow,
	// in (0, 1]; the rest are logged as filtered with the reason "sample".
	// The decision is a hash of the query id, so it is reproducible.
	// Default (0): 1, everything.
	SampleRate float64

	// QueueCommands bounds each session's queue in commands.
	// Default: DefaultShadowQueueCommands (10,000).
	QueueCommands int
	// QueueBytes bounds each session's queue in bytes (payload and text).
	// Default: DefaultShadowQueueBytes (16 MiB).
	QueueBytes int64
	// BudgetBytes bounds the bytes queued by all sessions together.
	// Default: DefaultShadowBudgetBytes (256 MiB).
	BudgetBytes int64

	// MinDeadline and DeadlineScale give each shadow command its deadline:
	// max(DeadlineScale x the primary's duration, MinDeadline). Past it the
	// shadow connection is dropped, then reconnected and its state rebuilt,
	// and the records are marked diverged. Defaults: 30 s and 10.
	MinDeadline   time.Duration
	DeadlineScale float64
	// DrainTimeout is how long a closed session keeps running its queued
	// commands before logging the rest as dropped.
	// Default: DefaultShadowDrainTimeout (30 s).
	DrainTimeout time.Duration

	// Sink receives the shadow record of every command, a *dataset.QueryLog
	// (for the dataset.QueryLogs dataset). It should be in drop mode: the
	// records of dropped commands are written from Session.Submit, on the
	// client's path. Writes that wait for room are cut short by Close or the
	// end of Shutdown's ctx. Default: none, no records.
	Sink sink.Sink
	// OmitQueryText leaves query_text out of the records (the hashes stay).
	// Default false.
	OmitQueryText bool
	// OmitFiltered writes no record for filtered commands (they are still
	// counted). Default: false, every command gets its shadow record.
	OmitFiltered bool
	// Registerer registers the shadow metrics. Default: nil, not registered.
	Registerer prometheus.Registerer
	// Logger receives the shadow side's logs. Default: discard.
	Logger *slog.Logger
}

// Shadow is the default Mirror: it replays each client connection on its own
// session on a shadow server and logs one shadow record per command.
//
// # Sessions and queues
//
// Open returns at once; the session logs in on its own goroutine (with
// ShadowOptions' identity or the client user's entry in Users, TLS when
// configured, the client's database, collation, multi-statements and
// found-rows flags). Submit appends to the session's queue, bounded in
// commands and bytes, inside a byte budget shared by every session; it never
// blocks: a command that does not fit is dropped, counted and logged with
// dropped=true. State-changing commands that find the queue full use a
// small per-session reserve, so that the shadow's state stays right. A
// prepared statement's COM_STMT_SEND_LONG_DATA parts and its execute are
// mirrored together or not at all: once a part is dropped, the statement's
// other parts and its execute are dropped too (logged with the reason), and
// parts that reached the shadow for an execute that did not are discarded
// there (COM_STMT_RESET) before the statement's next command.
// Session.Close returns at once: the session runs what is queued (within
// DrainTimeout), logs out and ends; Shutdown waits for every session.
//
// # Session fidelity
//
// The session tracks the primary's session state from the commands and their
// outcomes: database (USE, COM_INIT_DB), session SET (NAMES, variables, ROLE,
// CATALOG), SELECT ... INTO @v, temporary tables, prepared statements
// (primary id -> shadow id, parameter count and last bound types, re-sent on
// every execute; MariaDB's 0xFFFFFFFF is the last prepared) and
// transactions. Filters and sampling never drop state-changing commands;
// when a filtered multi-statement holds some, they run on their own. After a
// lost connection or a command past its deadline
// (max(DeadlineScale x primary duration, MinDeadline)), the next command logs
// in again and replays the state; records are marked diverged when the
// shadow's state is known to differ from the primary's: the command that
// failed, a transaction reopened by the rebuild (until it ends), temporary
// tables (their rows are not rebuilt), a state change the shadow refused or
// that was dropped (until COM_RESET_CONNECTION, COM_CHANGE_USER or a rebuild
// that is exact). A PREPARE that fails on the shadow only makes its executes
// fail with that error without being sent.
//
// By default only read-only statements are mirrored (hashing's
// classification: no write, lock, side effect or global flag); MirrorWrites
// adds the others. SET GLOBAL/PERSIST, SET PASSWORD, KILL and LOAD DATA LOCAL
// are never mirrored. A multi-statement is mirrored only if each of its
// statements is.
//
// # Records and metrics
//
// Shadow records (dataset.QueryLog with Target dataset.TargetShadow; the
// fields are described in docs/datasets.md) carry the canonical result_hash,
// columns_hash and float_cols of the shadow's answer, its error code,
// queue_ms, the primary_* fields of the same command, and filtered,
// dropped and diverged. Metrics (prefix sqlshadow_shadow_): sessions,
// commands_total{outcome}, lag_seconds, drops_total, mismatches_total{kind},
// divergences_total{reason}, errors_total{code}, logins_total{result},
// log_drops_total and queued_bytes.
//
// It is safe for concurrent use. Each open session owns one goroutine, which
// Shutdown and Close join; Flush waits until the queues hold nothing that
// was submitted before it. Proxy calls these itself when Shadow is its
// Mirror.
type Shadow struct {
	addr    string
	opts    ShadowOptions
	log     *slog.Logger
	metrics *shadowMetrics
	budget  budget
	readFn  readResponseFunc

	mu       sync.Mutex
	closed   bool
	sessions map[*shadowSession]struct{}
	wg       sync.WaitGroup
	abort    chan struct{} // closed when queued work must stop at once
	abortOne sync.Once
	// runCtx bounds the sessions' logins and their writes to the sink:
	// cancelled by Close, when Shutdown's ctx ends (with abort), or once
	// Shutdown has joined every session. It is stored because the sessions'
	// goroutines outlive the Open call that starts them.
	runCtx    context.Context
	cancelRun context.CancelFunc
	nextID    atomic.Uint64
}

var (
	_ Mirror     = (*Shadow)(nil)
	_ Shutdowner = (*Shadow)(nil)
	_ Flusher    = (*Shadow)(nil)
)

// NewShadow returns a Shadow that mirrors to the MySQL-protocol server at
// addr (host:port). It starts nothing: sessions start with Open.
func NewShadow(addr string, opts *ShadowOptions) (*Shadow, error) {
	if addr == "" {
		return nil, errors.New("mirror: shadow address required")
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, errors.New("mirror: shadow address: " + err.Error())
	}
	s := &Shadow{addr: addr, sessions: map[*shadowSession]struct{}{}, abort: make(chan struct{})}
	if opts != nil {
		s.opts = *opts
	}
	o := &s.opts
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultShadowDialTimeout
	}
	if o.Dial == nil {
		var d net.Dialer
		o.Dial = d.DialContext
	}
	o.Dial = rawDial(o.Dial)
	if o.QueueCommands <= 0 {
		o.QueueCommands = DefaultShadowQueueCommands
	}
	if o.QueueBytes <= 0 {
		o.QueueBytes = DefaultShadowQueueBytes
	}
	if o.BudgetBytes <= 0 {
		o.BudgetBytes = DefaultShadowBudgetBytes
	}
	if o.MinDeadline <= 0 {
		o.MinDeadline = DefaultShadowMinDeadline
	}
	if o.DeadlineScale <= 0 {
		o.DeadlineScale = DefaultShadowDeadlineScale
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = DefaultShadowDrainTimeout
	}
	if o.SampleRate <= 0 || o.SampleRate > 1 {
		if o.SampleRate > 1 || o.SampleRate < 0 {
			return nil, errors.New("mirror: shadow sample rate must be in (0, 1]")
		}
		o.SampleRate = 1
	}
	if o.TLS != nil && o.TLS.ServerName == "" && !o.TLS.InsecureSkipVerify {
		host, _, _ := net.SplitHostPort(addr)
		o.TLS = o.TLS.Clone()
		o.TLS.ServerName = host
	}
	s.log = o.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.budget.limit = o.BudgetBytes
	s.readFn = readResponse
	s.runCtx, s.cancelRun = context.WithCancel(context.Background())
	m, err := newShadowMetrics(o.Registerer, &s.budget)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	return s, nil
}

// Open starts the shadow session of one client connection and returns at
// once: the session logs in on its own goroutine. ctx is not used after Open
// returns.
func (s *Shadow) Open(ctx context.Context, info SessionInfo) (Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrShadowClosed
	}
	ss := newShadowSession(s, info)
	s.sessions[ss] = struct{}{}
	s.wg.Add(1)
	s.metrics.sessions.Inc()
	go func() {
		defer s.wg.Done()
		ss.run()
		s.mu.Lock()
		delete(s.sessions, ss)
		s.mu.Unlock()
		s.metrics.sessions.Dec()
	}()
	return ss, nil
}

// Shutdown stops accepting sessions, closes the open ones and waits until
// each has run its queued commands and logged out, or until ctx ends: then
// what is still queued is logged as dropped and the connections are closed.
// It returns ctx.Err() in that case. The sink is not closed: its owner
// flushes and closes it after Shutdown.
func (s *Shadow) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	open := make([]*shadowSession, 0, len(s.sessions))
	for ss := range s.sessions {
		open = append(open, ss)
	}
	s.mu.Unlock()
	for _, ss := range open {
		ss.closeQueue(false)
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancelRun()
		return nil
	case <-ctx.Done():
	}
	s.abortOne.Do(func() { close(s.abort); s.cancelRun() })
	s.mu.Lock()
	open = open[:0]
	for ss := range s.sessions {
		open = append(open, ss)
	}
	s.mu.Unlock()
	for _, ss := range open {
		ss.interrupt()
	}
	<-done
	return ctx.Err()
}

// Flush returns once every command submitted before the call (to any
// session) has been run on the shadow or dropped, and its record handed to
// the sink; it does not flush the sink. It returns ctx.Err() when ctx ends
// first. Sessions keep running.
func (s *Shadow) Flush(ctx context.Context) error {
	s.mu.Lock()
	var waits []<-chan struct{}
	for ss := range s.sessions {
		if w := ss.flushWait(); w != nil {
			waits = append(waits, w)
		}
	}
	s.mu.Unlock()
	for _, w := range waits {
		select {
		case <-w:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Close stops at once: queued commands are logged as dropped, connections are
// closed, and every goroutine is joined before it returns.
func (s *Shadow) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// credentials returns the shadow identity for a client user.
func (s *Shadow) credentials(user string) Credentials {
	if c, ok := s.opts.Users[user]; ok {
		return c
	}
	if s.opts.User == "" {
		return Credentials{User: user, Password: s.opts.Password}
	}
	return Credentials{User: s.opts.User, Password: s.opts.Password}
}

// budget is the process-wide byte budget shared by all session queues.
type budget struct {
	limit int64
	used  atomic.Int64
}

// take reserves n bytes, or reports false when they do not fit.
func (b *budget) take(n int64) bool {
	for {
		u := b.used.Load()
		if u+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (b *budget) give(n int64) { b.used.Add(-n) }
