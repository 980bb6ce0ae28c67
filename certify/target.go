package certify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Target is a server the chaos steps act on: a local process, a command,
// or a Kubernetes pod (package certify/kube). Start and Stop return once
// the action is done (Start does not wait for readiness: Ready does).
// Implementations are safe for concurrent use.
type Target interface {
	// Start starts the server; it is an error to start a running one.
	Start(ctx context.Context) error
	// Stop stops the server gracefully and returns once it is gone.
	Stop(ctx context.Context) error
	// Kill stops the server at once, as a crash would.
	Kill(ctx context.Context) error
	// Ready blocks until the server answers, or ctx ends.
	Ready(ctx context.Context) error
}

// Restarter is a Target that restarts in one action of its own (a pod is
// deleted and recreated); Restart uses it when a Target has it.
type Restarter interface {
	Restart(ctx context.Context) error
}

// Restart restarts t: with its own Restart when it is a Restarter, else Stop
// then Start; then it waits until t is Ready.
func Restart(ctx context.Context, t Target) error {
	if r, ok := t.(Restarter); ok {
		if err := r.Restart(ctx); err != nil {
			return err
		}
	} else {
		if err := t.Stop(ctx); err != nil {
			return err
		}
		if err := t.Start(ctx); err != nil {
			return err
		}
	}
	return t.Ready(ctx)
}

// ReadyFunc checks once whether a server answers; nil means ready.
type ReadyFunc func(ctx context.Context) error

// MySQLPing returns a ReadyFunc that logs in to the MySQL-protocol server at
// addr and pings it. A server that refuses the login (wrong user or
// password) answers, so it counts as ready.
func MySQLPing(addr, user, password string) ReadyFunc {
	return func(ctx context.Context) error {
		cfg := mysql.NewConfig()
		cfg.Net, cfg.Addr, cfg.User, cfg.Passwd = "tcp", addr, user, password
		cfg.Timeout = 2 * time.Second
		cfg.Logger = &mysql.NopLogger{}
		conn, err := mysql.NewConnector(cfg)
		if err != nil {
			return err
		}
		db := sql.OpenDB(conn)
		defer db.Close()
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		err = db.PingContext(ctx)
		var me *mysql.MySQLError
		if errors.As(err, &me) {
			return nil // it answered
		}
		return err
	}
}

// ProcessOptions configure a Process.
type ProcessOptions struct {
	// Stop is a shell command (sh -c) that stops the server, for a server
	// Start does not own (a daemon). Default "": SIGTERM to the process
	// Start started.
	Stop string
	// Kill is a shell command that kills the server at once. Default "":
	// SIGKILL to the process group Start started, or Stop when Start
	// started nothing that still runs.
	Kill string
	// Ready checks readiness. Default nil: ready once started.
	Ready ReadyFunc
	// ReadyInterval is the pause between readiness checks. Default 100 ms.
	ReadyInterval time.Duration
	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	// Default 30 s.
	StopTimeout time.Duration
	// Dir and Env are the working directory and extra environment
	// ("K=V") of the commands. Default: the current ones.
	Dir string
	Env []string
	// Output receives the commands' standard output and error. Default nil:
	// discarded.
	Output io.Writer
}

// Process is a Target run as a local process: Start runs argv (a server in
// the foreground, such as mariadbd, which Process then owns, or a command
// that starts a daemon and exits); Stop sends SIGTERM to what Start runs
// (or runs Options.Stop); Kill sends SIGKILL to its process group.
// It owns one goroutine per started process, which waits for it; Stop and
// Kill join it. The process it starts is killed if the program that started
// it dies (so that no test leaves a server behind): a server meant to
// outlive the run is started as a daemon (a start command ending with &).
type Process struct {
	argv []string
	o    ProcessOptions

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // of the last exit
}

var _ Target = (*Process)(nil)

// NewProcess returns a Process target that starts argv[0] with argv[1:].
func NewProcess(argv []string, opts *ProcessOptions) (*Process, error) {
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("certify: process: empty command")
	}
	p := &Process{argv: argv}
	if opts != nil {
		p.o = *opts
	}
	if p.o.ReadyInterval <= 0 {
		p.o.ReadyInterval = 100 * time.Millisecond
	}
	if p.o.StopTimeout <= 0 {
		p.o.StopTimeout = 30 * time.Second
	}
	return p, nil
}

// NewCommand returns a Process target made of shell commands (sh -c): start
// starts the server (in the foreground, or as a daemon), and opts.Stop,
// when set, stops it.
func NewCommand(start string, opts *ProcessOptions) (*Process, error) {
	if start == "" {
		return nil, errors.New("certify: command: empty start command")
	}
	return NewProcess([]string{"sh", "-c", start}, opts)
}

// Running reports whether the process Start started is alive.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.runningLocked()
}

func (p *Process) runningLocked() bool {
	if p.exited == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Start starts the process. A command that exits with an error within
// the first moment (a daemon's launcher failing) is reported by Ready.
func (p *Process) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.runningLocked() {
		return errors.New("certify: process: already running")
	}
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Dir = p.o.Dir
	cmd.Env = append(os.Environ(), p.o.Env...)
	cmd.Stdout, cmd.Stderr = p.o.Output, p.o.Output
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("certify: start %s: %w", p.argv[0], err)
	}
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(exited)
	}()
	p.cmd, p.exited, p.err = cmd, exited, nil
	return nil
}

// Stop stops the server: Options.Stop when set, else SIGTERM, then SIGKILL
// after StopTimeout. It returns once the process Start started has exited.
func (p *Process) Stop(ctx context.Context) error {
	if p.o.Stop != "" {
		if err := p.shell(ctx, p.o.Stop); err != nil {
			return err
		}
	}
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	if p.o.Stop == "" {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
	t := time.NewTimer(p.o.StopTimeout)
	defer t.Stop()
	select {
	case <-exited:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-exited
	return ctx.Err()
}

// Kill kills the server at once: Options.Kill when set, else SIGKILL to the
// process group Start started, else Options.Stop. It returns once the
// process is gone.
func (p *Process) Kill(ctx context.Context) error {
	if p.o.Kill != "" {
		if err := p.shell(ctx, p.o.Kill); err != nil {
			return err
		}
	}
	p.mu.Lock()
	cmd, exited, running := p.cmd, p.exited, p.runningLocked()
	p.mu.Unlock()
	if running {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if cmd != nil {
		<-exited
		return nil
	}
	if p.o.Kill == "" && p.o.Stop != "" {
		return p.shell(ctx, p.o.Stop)
	}
	return nil
}

// Ready polls Options.Ready until it succeeds or ctx ends. A foreground
// process that exited with an error fails it at once.
func (p *Process) Ready(ctx context.Context) error {
	for {
		p.mu.Lock()
		exitErr, owned := p.err, p.exited != nil && !p.runningLocked()
		p.mu.Unlock()
		if owned && exitErr != nil {
			return fmt.Errorf("certify: %s exited: %w", p.argv[0], exitErr)
		}
		var err error
		if p.o.Ready != nil {
			err = p.o.Ready(ctx)
		}
		if err == nil {
			return nil
		}
		t := time.NewTimer(p.o.ReadyInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("certify: %s not ready: %w (last check: %v)", p.argv[0], ctx.Err(), err)
		case <-t.C:
		}
	}
}

// Pid returns the process id of the process Start started (0 if none).
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

func (p *Process) shell(ctx context.Context, command string) error {
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Dir = p.o.Dir
	cmd.Env = append(os.Environ(), p.o.Env...)
	cmd.Stdout, cmd.Stderr = p.o.Output, p.o.Output
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("certify: %q: %w", command, err)
	}
	return nil
}
