// Package testdb starts throwaway MariaDB servers for tests: on 127.0.0.1, on
// free ports, in temporary directories, with real password users, and stops
// them when the package's tests end.
//
// A package that needs servers declares a Rig in its TestMain:
//
//	var rig = testdb.NewRig(2, nil) // two servers, default options
//
//	func TestMain(m *testing.M) { os.Exit(rig.Run(m)) }
//
//	func TestSomething(t *testing.T) {
//		srv := rig.Server(t, 0)   // started on first use; skips when MariaDB is missing
//		dsn := srv.NewDatabase(t) // a fresh database, dropped when the test ends
//		...
//	}
//
// When mariadbd or mariadb-install-db is missing, Server skips the test with a
// clear message, or fails it when SQLSHADOW_REQUIRE_DB=1 (as `make test` sets).
//
// The data directory is made once per process with mariadb-install-db and
// copied for each server. Servers run with the options the project's tests rely
// on (DefaultArgs): 64 MiB packets, no name resolution, performance_schema with
// a long statement history.
package testdb

import (
	"bytes"
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Credentials of the users every server has. The root user can only log in
// from 127.0.0.1; User can log in from anywhere (the server listens only on
// loopback anyway).
const (
	RootUser     = "root"
	RootPassword = "sqlshadow-root-pw"
	User         = "sqlshadow"
	Password     = "sqlshadow-pw"
)

// RequireEnv is the environment variable that turns a missing MariaDB into a
// test failure instead of a skip.
const RequireEnv = "SQLSHADOW_REQUIRE_DB"

// DefaultArgs are the mariadbd options every server gets, beyond the ones that
// place it (datadir, port, socket). MariaDB's own defaults break tests: 16 MiB
// packets are too small for the 17 MiB statement tests, and the statement
// history keeps too little SQL text for the profile source.
var DefaultArgs = []string{
	"--max-allowed-packet=64M",
	"--skip-name-resolve",
	"--performance-schema=ON",
	"--performance-schema-consumer-events-statements-current=ON",
	"--performance-schema-consumer-events-statements-history-long=ON",
	"--performance_schema_max_sql_text_length=65536",
	"--performance-schema-max-digest-length=4096",
	"--max-digest-length=4096",
	"--innodb-buffer-pool-size=64M",
	"--innodb-log-file-size=16M",
	"--innodb-flush-log-at-trx-commit=2",
	"--skip-log-bin",
	"--character-set-server=utf8mb4",
	"--collation-server=utf8mb4_general_ci",
	"--max-connections=2000",
}

// Options configures a server. The zero value (or nil) gives a plain server
// with DefaultArgs.
type Options struct {
	// TLS makes a CA and a server certificate for 127.0.0.1 and localhost,
	// and starts the server with them. Server.ClientTLS then verifies it.
	TLS bool
	// ExtraArgs are appended to DefaultArgs (a later option wins in mariadbd).
	ExtraArgs []string
	// StartTimeout bounds the start of the server. Default 60 s.
	StartTimeout time.Duration
}

// ErrUnavailable reports that a real component a test needs (MariaDB, or a
// program given to RequireBinary) is not installed here.
var ErrUnavailable = errors.New("testdb: component not installed")

// Available reports whether servers can be started here, and if not, why.
func Available() error {
	for _, bin := range []string{"mariadbd", "mariadb-install-db"} {
		if _, err := lookPath(bin); err != nil {
			return fmt.Errorf("%w: MariaDB: %s not found on PATH or in /usr/sbin (`make test` installs it)", ErrUnavailable, bin)
		}
	}
	return nil
}

func lookPath(bin string) (string, error) {
	if p, err := exec.LookPath(bin); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/usr/bin"} {
		p := filepath.Join(dir, bin)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// Server is one running mariadbd.
type Server struct {
	// Host and Port are where the server listens (Host is always 127.0.0.1).
	Host string
	Port int
	// Dir holds the data directory, socket, logs and certificates.
	Dir string
	// CA is the PEM of the CA that signed the server certificate (TLS only).
	CA []byte

	opts   Options
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	dbSeq  atomic.Int64
	rootDB *sql.DB
}

// Addr is host:port of the server.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// ErrorLog returns the server's error log, for failure messages.
func (s *Server) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "error.log"))
	return string(b)
}

// DSN returns a go-sql-driver/mysql DSN for User on database db ("" for none).
func (s *Server) DSN(db string) string { return s.dsnFor(User, Password, db) }

// RootDSN returns a DSN for the root user on database db.
func (s *Server) RootDSN(db string) string { return s.dsnFor(RootUser, RootPassword, db) }

func (s *Server) dsnFor(user, pass, db string) string {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, pass, "tcp", s.Addr(), db
	cfg.ParseTime = false
	cfg.Timeout = 10 * time.Second
	cfg.MultiStatements = true
	cfg.InterpolateParams = false
	return cfg.FormatDSN()
}

// ClientTLS returns a tls.Config that verifies the server's certificate with
// its test CA (nil when the server has no TLS).
func (s *Server) ClientTLS() *tls.Config {
	if len(s.CA) == 0 {
		return nil
	}
	return clientTLS(s.CA, "127.0.0.1")
}

// Root returns a pooled connection as root, opened on first use and closed
// when the server stops.
func (s *Server) Root() (*sql.DB, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rootDB == nil {
		db, err := sql.Open("mysql", s.RootDSN(""))
		if err != nil {
			return nil, err
		}
		db.SetMaxIdleConns(2)
		s.rootDB = db
	}
	return s.rootDB, nil
}

// NewDatabase creates a fresh, empty database for the test, grants User all
// privileges on it, drops it when the test ends, and returns its name.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%s", s.dbSeq.Add(1), sanitize(t.Name()))
	if len(name) > 64 {
		name = name[:64]
	}
	db, err := s.Root()
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE `"+name+"`"); err != nil {
		t.Fatalf("testdb: create database %s on %s: %v", name, s.Addr(), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if s.Running() {
			_, _ = db.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`")
		}
	})
	return name
}

// Open opens a *sql.DB as User on database dbName, closed when the test ends.
func (s *Server) Open(t testing.TB, dbName string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", s.DSN(dbName))
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Running reports whether the server process is alive.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exited == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// Start starts a new server in a fresh temporary directory. Stop it with Stop.
func Start(opts *Options) (*Server, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 60 * time.Second
	}
	tmpl, err := template()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sqlshadow-mariadb-")
	if err != nil {
		return nil, fmt.Errorf("testdb: %w", err)
	}
	s := &Server{Host: "127.0.0.1", Dir: dir, opts: o}
	if out, err := exec.Command("cp", "-a", tmpl, filepath.Join(dir, "data")).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("testdb: copy data directory: %v: %s", err, out)
	}
	if o.TLS {
		if err := s.writeCerts(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "init.sql"), []byte(initSQL), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("testdb: %w", err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s.Port = port
		if lastErr = s.start(); lastErr == nil {
			return s, nil
		}
		if !strings.Contains(s.ErrorLog(), "Address already in use") {
			break
		}
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

// initSQL runs at every start (mariadbd --init-file), so a restarted server
// keeps its users without a separate bootstrap step.
const initSQL = `CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '` + RootPassword + `';
ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '` + RootPassword + `';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS '` + User + `'@'%' IDENTIFIED BY '` + Password + `';
GRANT ALL PRIVILEGES ON *.* TO '` + User + `'@'%';
`

func (s *Server) args() []string {
	args := []string{
		"--no-defaults",
		"--datadir=" + filepath.Join(s.Dir, "data"),
		"--port=" + strconv.Itoa(s.Port),
		"--bind-address=127.0.0.1",
		"--socket=" + filepath.Join(s.Dir, "mysqld.sock"),
		"--pid-file=" + filepath.Join(s.Dir, "mysqld.pid"),
		"--log-error=" + filepath.Join(s.Dir, "error.log"),
		"--init-file=" + filepath.Join(s.Dir, "init.sql"),
		"--tmpdir=" + s.Dir,
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	args = append(args, DefaultArgs...)
	if len(s.CA) > 0 {
		args = append(args,
			"--ssl-ca="+filepath.Join(s.Dir, "ca.pem"),
			"--ssl-cert="+filepath.Join(s.Dir, "server-cert.pem"),
			"--ssl-key="+filepath.Join(s.Dir, "server-key.pem"),
		)
	}
	return append(args, s.opts.ExtraArgs...)
}

func (s *Server) start() error {
	bin, err := lookPath("mariadbd")
	if err != nil {
		return ErrUnavailable
	}
	cmd := exec.Command(bin, s.args()...)
	// The server dies with the test process, whatever happens to it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("testdb: start mariadbd: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()

	deadline := time.Now().Add(s.opts.StartTimeout)
	for {
		select {
		case <-exited:
			return fmt.Errorf("testdb: mariadbd exited during start: %s\nerror log:\n%s", out.String(), tail(s.ErrorLog(), 2000))
		default:
		}
		if err := s.ping(); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			_ = s.Stop()
			return fmt.Errorf("testdb: mariadbd on %s not ready after %v: %v\nerror log:\n%s", s.Addr(), s.opts.StartTimeout, err, tail(s.ErrorLog(), 2000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) ping() error {
	cfg, err := mysql.ParseDSN(s.DSN(""))
	if err != nil {
		return err
	}
	cfg.Timeout = time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// Stop shuts the server down (SIGTERM, then SIGKILL after 20 s). The data
// directory stays until Remove, so Restart can bring the same data back.
func (s *Server) Stop() error {
	s.mu.Lock()
	cmd, exited, rootDB := s.cmd, s.exited, s.rootDB
	s.rootDB = nil
	s.mu.Unlock()
	if rootDB != nil {
		_ = rootDB.Close()
	}
	if cmd == nil {
		return nil
	}
	select {
	case <-exited:
		return nil
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	return nil
}

// Kill kills the server with SIGKILL, as a crash would, and waits for it to
// be gone.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-exited
}

// Restart starts a stopped or killed server again on the same port with the
// same data.
func (s *Server) Restart() error {
	if s.Running() {
		return errors.New("testdb: restart: server is still running")
	}
	return s.start()
}

// Remove stops the server and deletes its directory.
func (s *Server) Remove() error {
	err := s.Stop()
	if rmErr := os.RemoveAll(s.Dir); err == nil {
		err = rmErr
	}
	return err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("testdb: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var (
	templateOnce sync.Once
	templateDir  string
	templateErr  error
)

// template makes the data directory once per process: mariadb-install-db
// costs about a second, a copy a fraction of that.
func template() (string, error) {
	templateOnce.Do(func() {
		bin, err := lookPath("mariadb-install-db")
		if err != nil {
			templateErr = ErrUnavailable
			return
		}
		dir, err := os.MkdirTemp("", "sqlshadow-mariadb-template-")
		if err != nil {
			templateErr = err
			return
		}
		data := filepath.Join(dir, "data")
		args := []string{"--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=normal", "--skip-test-db"}
		if os.Geteuid() == 0 {
			args = append(args, "--user=root")
		}
		// A private TMPDIR: concurrent bootstraps (one per test package)
		// otherwise collide on temporary tables in /tmp.
		tmp := filepath.Join(dir, "tmp")
		if err := os.MkdirAll(tmp, 0o700); err != nil {
			templateErr = err
			return
		}
		args = append(args, "--tmpdir="+tmp)
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
		if out, err := cmd.CombinedOutput(); err != nil {
			templateErr = fmt.Errorf("testdb: mariadb-install-db: %v\n%s", err, tail(string(out), 2000))
			return
		}
		templateDir = data
	})
	return templateDir, templateErr
}

// Rig gives a package's tests a fixed number of servers, started on first use
// and stopped when the tests end (see the package example).
type Rig struct {
	n    int
	opts *Options

	once    sync.Once
	servers []*Server
	err     error
}

// NewRig returns a rig of n servers with opts (nil for defaults). It starts
// nothing until a test asks for a server.
func NewRig(n int, opts *Options) *Rig { return &Rig{n: n, opts: opts} }

// Run runs the package's tests and then stops the servers; its result is the
// exit code for os.Exit.
func (r *Rig) Run(m *testing.M) int {
	code := m.Run()
	r.Close()
	if templateDir != "" {
		os.RemoveAll(filepath.Dir(templateDir))
	}
	return code
}

// Close stops and removes the servers the rig started.
func (r *Rig) Close() {
	for _, s := range r.servers {
		_ = s.Remove()
	}
	r.servers = nil
}

// Server returns the rig's server i (0-based), starting all of them on the
// first call. When MariaDB is missing, it skips the test, or fails it when
// SQLSHADOW_REQUIRE_DB=1.
func (r *Rig) Server(t testing.TB, i int) *Server {
	t.Helper()
	r.once.Do(func() {
		if err := Available(); err != nil {
			r.err = err
			return
		}
		for k := 0; k < r.n; k++ {
			s, err := Start(r.opts)
			if err != nil {
				r.err = err
				return
			}
			r.servers = append(r.servers, s)
		}
	})
	if r.err != nil {
		SkipOrFail(t, r.err)
	}
	if i < 0 || i >= len(r.servers) {
		t.Fatalf("testdb: rig has %d servers, asked for server %d", len(r.servers), i)
	}
	return r.servers[i]
}

// Required reports whether SQLSHADOW_REQUIRE_DB asks for real components.
func Required() bool {
	v := os.Getenv(RequireEnv)
	return v != "" && v != "0" && v != "false"
}

// SkipOrFail skips the test because of err (a missing component), or fails it
// when SQLSHADOW_REQUIRE_DB=1. Other packages use it for their own real
// components (Prometheus, Alertmanager, versitygw, sysbench, Chromium).
func SkipOrFail(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrUnavailable) && !Required() {
		t.Skipf("%v (set %s=1 to make this a failure)", err, RequireEnv)
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("%v", err)
	}
	t.Fatalf("%v, and %s=1 requires it", err, RequireEnv)
}

// RequireBinary returns the path of a program the test needs, skipping or
// failing (SQLSHADOW_REQUIRE_DB=1) with a clear message when it is missing.
func RequireBinary(t testing.TB, name string) string {
	t.Helper()
	p, err := lookPath(name)
	if err != nil {
		SkipOrFail(t, fmt.Errorf("%w: %s not found on PATH (`make test` installs it)", ErrUnavailable, name))
	}
	return p
}
