// Package cli holds the conventions every sqlshadow binary shares: flags that
// can also be set from the environment, secrets read from the environment or
// a file, the /metrics, /healthz and /readyz endpoints, graceful shutdown on
// SIGTERM, and the exit codes.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sqlshadow/sqlshadow/sink"
	"github.com/sqlshadow/sqlshadow/sink/drivers"
)

// Exit codes shared by every binary.
const (
	ExitOK           = 0 // ok, or the verdict is pass
	ExitFindings     = 1 // findings, or the verdict is fail
	ExitError        = 2 // an error, or bad usage
	ExitInconclusive = 3 // the verdict is inconclusive
)

// EnvName returns the environment variable that sets flag name:
// SQLSHADOW_ followed by the name in upper snake case ("bucket-url" ->
// "SQLSHADOW_BUCKET_URL").
func EnvName(name string) string {
	return "SQLSHADOW_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name))
}

// Parse parses args into fs, after setting every flag not given on the
// command line from its environment variable (EnvName). A flag given on the
// command line wins over the environment.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(EnvName(f.Name)); ok {
			if setErr := fs.Set(f.Name, v); setErr != nil {
				err = fmt.Errorf("%s=%q: %w", EnvName(f.Name), v, setErr)
			}
		}
	})
	return err
}

// Secret returns a password: the value of the environment variable env if
// set, else the trimmed content of file if file is not empty, else "". It
// never logs the value.
func Secret(env, file string) (string, error) {
	if v, ok := os.LookupEnv(env); ok {
		return v, nil
	}
	if file == "" {
		return "", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// SignalContext returns a context cancelled on SIGTERM or SIGINT.
func SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
}

// Logger returns the binaries' logger: text on stderr at level (debug, info,
// warn, error).
func Logger(level string) *slog.Logger { return NewLogger(os.Stderr, level) }

// NewLogger returns the binaries' logger writing text to w at level (debug,
// info, warn, error; anything else is info).
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// List splits a comma-separated flag value, trimming spaces and dropping
// empty items; "" is nil.
func List(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// CloseSink closes s, giving it 30 s to flush, and logs a failure: for a
// binary's deferred cleanup.
func CloseSink(s sink.Sink, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		log.Warn("closing sink", "err", err)
	}
}

// OpenWriter opens the bucket at bucketURL and a sink.Writer of dataset
// in it; closeAll closes both (CloseSink, then the bucket): for a
// binary's deferred cleanup.
func OpenWriter(ctx context.Context, bucketURL, dataset string, reg prometheus.Registerer, log *slog.Logger) (w *sink.Writer, closeAll func(), err error) {
	bucket, err := sink.OpenBucket(ctx, bucketURL)
	if err != nil {
		return nil, nil, err
	}
	if w, err = sink.NewWriter(bucket, dataset, &sink.WriterOptions{Registerer: reg, Logger: log, Aborter: drivers.AbortGCS}); err != nil {
		bucket.Close()
		return nil, nil, err
	}
	return w, func() { CloseSink(w, log); bucket.Close() }, nil
}

// Registry returns a new registry with the Go and process collectors.
func Registry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Ops serves /metrics, /healthz and /readyz for a long-running binary.
type Ops struct {
	ready atomic.Bool
	when  atomic.Pointer[func() bool] // set by ReadyWhen; wins over ready
	srv   *http.Server
	ln    net.Listener
	done  chan error
}

// Route is an extra handler ServeOps serves beside its own endpoints.
type Route struct {
	Pattern string
	Handler http.Handler
}

// ServeOps starts the endpoints on addr ("" serves nothing and returns a
// usable Ops). /healthz answers 200 while the process runs; /readyz answers
// 200 once SetReady(true) was called, or while the ReadyWhen function
// returns true. Extra routes (e.g. pprof) are served
// on the same address.
func ServeOps(addr string, gatherer prometheus.Gatherer, log *slog.Logger, extra ...Route) (*Ops, error) {
	o := &Ops{done: make(chan error, 1)}
	if addr == "" {
		close(o.done)
		return o, nil
	}
	mux := http.NewServeMux()
	for _, r := range extra {
		mux.Handle(r.Pattern, r.Handler)
	}
	mux.Handle("/metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !o.Ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listen %s: %w", addr, err)
	}
	o.ln = ln
	o.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		err := o.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		if err != nil && log != nil {
			log.Error("metrics server", "err", err)
		}
		o.done <- err
		close(o.done)
	}()
	return o, nil
}

// Addr is the address the endpoints listen on ("" when not serving).
func (o *Ops) Addr() string {
	if o.ln == nil {
		return ""
	}
	return o.ln.Addr().String()
}

// SetReady sets what /readyz answers, replacing a ReadyWhen function.
func (o *Ops) SetReady(ready bool) {
	o.when.Store(nil)
	o.ready.Store(ready)
}

// ReadyWhen makes /readyz answer ready() at each request (for a component
// with a Ready method), until SetReady or Shutdown. ready must be safe for
// concurrent use.
func (o *Ops) ReadyWhen(ready func() bool) { o.when.Store(&ready) }

// Ready is what /readyz answers now.
func (o *Ops) Ready() bool {
	if f := o.when.Load(); f != nil {
		return (*f)()
	}
	return o.ready.Load()
}

// Shutdown stops the endpoints.
func (o *Ops) Shutdown(ctx context.Context) error {
	o.SetReady(false)
	if o.srv == nil {
		return nil
	}
	err := o.srv.Shutdown(ctx)
	<-o.done
	return err
}

// Given returns how many of values are not empty: for flags of which
// exactly one must be given.
func Given(values ...string) int {
	n := 0
	for _, v := range values {
		if v != "" {
			n++
		}
	}
	return n
}
