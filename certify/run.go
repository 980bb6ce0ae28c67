package certify

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/mirror"
	"github.com/sqlshadow/sqlshadow/sink"
)

// RunOptions configure Run.
type RunOptions struct {
	// Password of the recipe's User.
	Password string
	// Bucket receives the proxy's query logs (dataset.QueryLogs), which the
	// run reads back to check them: nothing else should write query logs
	// there during the run. Default: a memory bucket, discarded.
	Bucket *blob.Bucket
	// Seed makes the random choices (times in windows, random targets)
	// reproducible. Default 0: random.
	Seed uint64
	// Progress receives one line per step started and ended. Default nil:
	// discarded.
	Progress io.Writer
	// Logger receives the proxy's and the sink's logs. Default nil:
	// discard.
	Logger *slog.Logger
}

// Run runs a recipe and judges it. It starts the project's proxy in front of
// the recipe's servers (each behind a FaultProxy), plays the timeline
// (every step in its own goroutine, at its time), samples the soak series,
// times start-ups, then shuts the proxy down, reads back the query logs it
// wrote, and evaluates the assertions. Every goroutine it starts has ended
// when it returns.
//
// It returns an error only when the run could not happen (a recipe that
// does not validate, a listener or a server that cannot be reached for
// set-up) or ctx ended; what went wrong during the run (a failed step, a
// broken assertion) is in the Report, whose Verdict says pass, fail or
// inconclusive.
func Run(ctx context.Context, r *Recipe, opts *RunOptions) (*Report, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	var o RunOptions
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	seed := o.Seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	rn := &run{r: r, o: o, rng: rand.New(rand.NewPCG(seed, seed>>1|1)), links: map[string]*FaultProxy{}, linkAddr: map[string]string{},
		runID: fmt.Sprintf("%08x", uint32(seed))}
	rn.rep = &Report{Recipe: r.Name, Description: r.Description, Assertions: []AssertionResult{}}
	return rn.run(ctx)
}

// run is the state of one Run.
type run struct {
	r     *Recipe
	o     RunOptions
	rng   *rand.Rand // used by the timeline's goroutine only
	runID string
	rep   *Report

	t0        time.Time
	proxyAddr string
	metrics   string // the proxy's /metrics URL
	links     map[string]*FaultProxy
	linkAddr  map[string]string // where each FaultProxy listens
	targets   map[string]Target

	mu     sync.Mutex
	events []*Event
	obs    []observation
	steps  []StepResult
}

// observation is one client statement of a workload.
type observation struct {
	start time.Time
	dur   time.Duration
	ok    bool
	id    string // the statement's certify id ("" for prepared statements)
}

func (rn *run) printf(format string, args ...any) {
	fmt.Fprintf(rn.o.Progress, "[%6.1fs] "+format+"\n", append([]any{time.Since(rn.t0).Seconds()}, args...)...)
}

func (rn *run) run(ctx context.Context) (*Report, error) {
	r := rn.r
	rn.t0 = time.Now()
	rn.rep.Started = rn.t0
	var bg sync.WaitGroup // the servers' goroutines
	defer bg.Wait()

	var (
		proxy  *mirror.Proxy
		writer *sink.Writer
		bucket = rn.o.Bucket
	)
	if r.Primary != "" {
		if bucket == nil {
			bucket = memblob.OpenBucket(nil)
			defer bucket.Close()
		}
		for _, link := range []string{"primary", "shadow"} {
			if r.serverAddr(link) == "" {
				continue
			}
			fp := NewFaultProxy(r.serverAddr(link), &FaultProxyOptions{Name: link, Logger: rn.o.Logger})
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return nil, fmt.Errorf("certify: %w", err)
			}
			bg.Add(1)
			go func() { defer bg.Done(); _ = fp.Serve(l) }()
			defer fp.Close()
			rn.links[link], rn.linkAddr[link] = fp, l.Addr().String()
		}
		if err := rn.setup(ctx); err != nil {
			return nil, err
		}
		var err error
		writer, err = sink.NewWriter(bucket, dataset.QueryLogs, &sink.WriterOptions{DropWhenFull: true, MaxObjectAge: 10 * time.Second, Logger: rn.o.Logger})
		if err != nil {
			return nil, fmt.Errorf("certify: %w", err)
		}
		defer writer.Close(context.Background())
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		popts := &mirror.Options{Sink: writer, Registerer: reg, Logger: rn.o.Logger}
		if rn.links["shadow"] != nil {
			sh, err := mirror.NewShadow(rn.linkAddr["shadow"], &mirror.ShadowOptions{
				User: r.User, Password: rn.o.Password, Sink: writer, Registerer: reg, Logger: rn.o.Logger,
				MinDeadline: r.Proxy.ShadowDeadline, MirrorWrites: r.Proxy.MirrorWrites,
			})
			if err != nil {
				return nil, fmt.Errorf("certify: %w", err)
			}
			popts.Mirror = sh
		}
		proxy, err = mirror.New(rn.linkAddr["primary"], popts)
		if err != nil {
			return nil, fmt.Errorf("certify: %w", err)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("certify: %w", err)
		}
		rn.proxyAddr = l.Addr().String()
		bg.Add(1)
		go func() { defer bg.Done(); _ = proxy.Serve(l) }()
		defer proxy.Close()

		ml, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("certify: %w", err)
		}
		srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
		rn.metrics = "http://" + ml.Addr().String() + "/metrics"
		bg.Add(1)
		go func() { defer bg.Done(); _ = srv.Serve(ml) }()
		defer srv.Close()
		rn.printf("proxy on %s: primary %s, shadow %s", rn.proxyAddr, r.Primary, r.Shadow)
	}
	if err := rn.buildTargets(); err != nil {
		return nil, err
	}

	// The soak sampler runs along the timeline.
	var soak *soakRun
	soakCtx, stopSoak := context.WithCancel(ctx)
	defer stopSoak()
	var soakWG sync.WaitGroup
	if r.Soak != nil {
		var err error
		if soak, err = rn.newSoak(soakCtx); err != nil {
			return nil, err
		}
		soakWG.Add(1)
		go func() { defer soakWG.Done(); soak.sample(soakCtx) }()
	}
	rn.timeline(ctx)
	if r.Soak != nil && r.Soak.Duration > 0 {
		t := time.NewTimer(time.Until(rn.t0.Add(r.Soak.Duration)))
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	stopSoak()
	soakWG.Wait()
	if soak != nil {
		rn.rep.Soak = soak.result(rn.t0)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	if proxy != nil {
		// The proxy must still take new sessions.
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := MySQLPing(rn.proxyAddr, r.User, rn.o.Password)(pctx)
		cancel()
		rn.rep.ProxyUp = err == nil
		if err != nil {
			rn.rep.ProxyError = err.Error()
		}
		sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		err = proxy.Shutdown(sctx)
		if err == nil {
			err = writer.Close(sctx)
		}
		cancel()
		if err != nil {
			rn.rep.Findings = append(rn.rep.Findings, "shutting the proxy down: "+err.Error())
		}
		for _, fp := range rn.links {
			rn.rep.Faults = append(rn.rep.Faults, fp.Events()...)
		}
		sort.Slice(rn.rep.Faults, func(i, j int) bool { return rn.rep.Faults[i].Time.Before(rn.rep.Faults[j].Time) })
	}
	if r.Startup != nil {
		rn.rep.Startup = rn.startup(ctx)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rn.rep.Ended = time.Now()
	var logs *logIndex
	if proxy != nil {
		var err error
		if logs, err = readLogs(ctx, bucket, rn.t0.Add(-time.Minute), rn.rep.Ended.Add(time.Minute)); err != nil {
			return nil, err
		}
	}
	rn.judge(logs)
	return rn.rep, nil
}

// setup prepares the built-in workload's table on both servers directly,
// when a workload step uses it.
func (rn *run) setup(ctx context.Context) error {
	needed := false
	for _, s := range rn.r.Steps {
		if s.Workload != nil && s.Workload.Replay == nil {
			needed = true
		}
	}
	if !needed {
		return nil
	}
	for _, side := range []string{"primary", "shadow"} {
		addr := rn.r.serverAddr(side)
		if addr == "" {
			continue
		}
		db := rn.open(addr, "")
		err := mixedSetup(ctx, db, rn.database())
		db.Close()
		if err != nil {
			return fmt.Errorf("certify: set up the workload's table on the %s (%s): %w", side, addr, err)
		}
	}
	return nil
}

func (rn *run) database() string {
	if rn.r.Database != "" {
		return rn.r.Database
	}
	return "certify"
}

// open returns a *sql.DB of one connection at most to addr.
func (rn *run) open(addr, db string) *sql.DB {
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.User, cfg.Passwd, cfg.DBName = "tcp", addr, rn.r.User, rn.o.Password, db
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = 5*time.Second, 60*time.Second, 60*time.Second
	cfg.Logger = &mysql.NopLogger{} // broken connections are the point of the run
	// A session variable the mixed workload's answers depend on: the
	// shadow must carry it across reconnects.
	cfg.Params = map[string]string{"div_precision_increment": "6"}
	conn, _ := mysql.NewConnector(cfg) // a Config built here is valid
	d := sql.OpenDB(conn)
	d.SetMaxOpenConns(1)
	d.SetMaxIdleConns(1)
	return d
}

func (rn *run) buildTargets() error {
	rn.targets = map[string]Target{}
	for name, spec := range rn.r.Targets {
		if spec.Target != nil {
			rn.targets[name] = spec.Target
			continue
		}
		addr := spec.Addr
		if addr == "" {
			addr = rn.r.serverAddr(name)
		}
		p, err := NewCommand(spec.Start, &ProcessOptions{Stop: spec.Stop, Kill: spec.Kill, Ready: MySQLPing(addr, rn.r.User, rn.o.Password)})
		if err != nil {
			return err
		}
		rn.targets[name] = p
	}
	return nil
}

// timeline runs every step at its time, each in its own goroutine, and
// returns when all have ended.
func (rn *run) timeline(ctx context.Context) {
	var wg sync.WaitGroup
	for i, s := range rn.r.Steps {
		at := s.At
		if s.Window > 0 {
			at += time.Duration(rn.rng.Int64N(int64(s.Window)))
		}
		target := ""
		if s.Chaos != nil {
			target = s.Chaos.Target
			if target == "random" {
				names := make([]string, 0, len(rn.targets))
				for n := range rn.targets {
					names = append(names, n)
				}
				slices.Sort(names)
				target = names[rn.rng.IntN(len(names))]
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTimer(time.Until(rn.t0.Add(at)))
			defer t.Stop()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			res := rn.step(ctx, i, s, target)
			rn.mu.Lock()
			rn.steps = append(rn.steps, res)
			rn.mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Slice(rn.steps, func(i, j int) bool { return rn.steps[i].Index < rn.steps[j].Index })
	rn.rep.Steps = rn.steps
}

// step runs one step and returns its result.
func (rn *run) step(ctx context.Context, i int, s Step, target string) StepResult {
	res := StepResult{Index: i, Name: s.Name, Start: time.Now()}
	switch {
	case s.Workload != nil:
		res.Kind = "workload"
	case s.SQL != nil:
		res.Kind = "sql"
	case s.Chaos != nil:
		res.Kind = s.Chaos.Action
	case s.Fault != nil:
		res.Kind = "fault"
	}
	if res.Name == "" {
		res.Name = res.Kind
		if target != "" {
			res.Name += " " + target
		} else if s.Fault != nil {
			res.Name += " " + s.Fault.Link
		}
	}
	var err error
	var msg string
	switch {
	case s.Workload != nil:
		msg, err = rn.workload(ctx, s.Workload)
	case s.SQL != nil:
		msg, err = rn.sqlStep(ctx, s.SQL)
	case s.Chaos != nil:
		msg, err = rn.chaos(ctx, res.Name, s.Chaos, target)
	case s.Fault != nil:
		msg, err = rn.fault(ctx, res.Name, s.Fault)
	}
	res.End = time.Now()
	res.Status, res.Message = StatusPass, msg
	if err != nil {
		res.Status, res.Message = StatusFail, err.Error()
	}
	rn.printf("%s: %s: %s", res.Name, res.Status, res.Message)
	return res
}

func (rn *run) sqlStep(ctx context.Context, s *SQLStep) (string, error) {
	addr := rn.proxyAddr
	if s.On == "primary" || s.On == "shadow" {
		addr = rn.r.serverAddr(s.On)
	}
	db := rn.open(addr, rn.database())
	defer db.Close()
	start := time.Now()
	for _, st := range s.Statements {
		rows, err := db.QueryContext(ctx, st)
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
			rows.Close()
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", st, err)
		}
	}
	return fmt.Sprintf("%d statement(s) in %v", len(s.Statements), time.Since(start).Round(time.Millisecond)), nil
}

// Event is a chaos event or a network fault: when it started, when its
// target was ready again (or the fault cleared), and the window of failures
// it caused on its side.
type Event struct {
	Name   string    `json:"name"`           // the step's name
	Kind   string    `json:"kind"`           // restart, kill, fault
	Target string    `json:"target"`         // the target or link
	Side   string    `json:"side,omitempty"` // primary, shadow, or "" (neither)
	Start  time.Time `json:"start"`          // when the action began
	// Ready is when the target answered again, or the fault was cleared.
	Ready time.Time `json:"ready"`
	// WindowStart and WindowEnd bound the fault window: from the first
	// statement the event made fail on its side (received before Start
	// when it was in flight or queued then) to the last (at least Ready).
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	// Recovery is WindowEnd - Ready.
	Recovery time.Duration `json:"recovery_ns"`
	// Recovered is false when failures went on past the recovery bound, or
	// nothing succeeded on its side after it.
	Recovered bool `json:"recovered"`
	// Error is why the action failed ("" when it did not).
	Error string `json:"error,omitempty"`
}

func (rn *run) addEvent(ev *Event) {
	rn.mu.Lock()
	rn.events = append(rn.events, ev)
	rn.mu.Unlock()
}

func (rn *run) chaos(ctx context.Context, name string, c *Chaos, target string) (string, error) {
	t := rn.targets[target]
	ev := &Event{Name: name, Kind: c.Action, Target: target, Start: time.Now()}
	if target == "primary" || target == "shadow" {
		ev.Side = target
	}
	defer rn.addEvent(ev)
	var err error
	if c.Action == "kill" {
		err = t.Kill(ctx)
	} else {
		err = t.Stop(ctx)
	}
	down := time.Now()
	if err == nil && c.Down > 0 {
		timer := time.NewTimer(c.Down)
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-timer.C:
		}
		timer.Stop()
	}
	if err == nil {
		err = t.Start(ctx)
	}
	if err == nil {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err = t.Ready(rctx)
		cancel()
	}
	ev.Ready = time.Now()
	if err != nil {
		ev.Error = err.Error()
		return "", fmt.Errorf("%s %s: %w", c.Action, target, err)
	}
	return fmt.Sprintf("%s %s: down after %v, ready again after %v", c.Action, target,
		down.Sub(ev.Start).Round(time.Millisecond), ev.Ready.Sub(ev.Start).Round(time.Millisecond)), nil
}

func (rn *run) fault(ctx context.Context, name string, f *FaultStep) (string, error) {
	fp := rn.links[f.Link]
	d := f.Duration
	if d == 0 {
		d = 5 * time.Second
	}
	ev := &Event{Name: name, Kind: "fault", Target: f.Link, Side: f.Link, Start: time.Now()}
	defer rn.addEvent(ev)
	if err := fp.Set(f.Fault); err != nil {
		ev.Ready, ev.Error = time.Now(), err.Error()
		return "", err
	}
	timer := time.NewTimer(d)
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
	timer.Stop()
	err := fp.Set(Fault{})
	ev.Ready = time.Now()
	if err != nil {
		ev.Error = err.Error()
		return "", err
	}
	return fmt.Sprintf("%s on the %s link for %v", f.Fault, f.Link, ev.Ready.Sub(ev.Start).Round(time.Millisecond)), nil
}
