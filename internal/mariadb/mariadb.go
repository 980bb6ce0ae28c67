// Package mariadb starts throwaway MariaDB servers: on 127.0.0.1, on free
// ports, in temporary directories, with real password users. The tests use it
// through internal/testdb; the demo uses it directly for its -mariadb mode.
//
// The data directory is made once per process with mariadb-install-db and
// copied for each server (RemoveTemplate deletes it). Servers run with the
// options the project relies on (DefaultArgs): 64 MiB packets, no name
// resolution, performance_schema with a long statement history. A server
// dies with the process that started it.
package mariadb

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
	"syscall"
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

// ErrUnavailable reports that a real component (MariaDB, or another program
// a test needs) is not installed here.
var ErrUnavailable = errors.New("mariadb: component not installed")

// Available reports whether servers can be started here, and if not, why.
func Available() error {
	for _, bin := range []string{"mariadbd", "mariadb-install-db"} {
		if _, err := LookPath(bin); err != nil {
			return fmt.Errorf("%w: MariaDB: %s not found on PATH or in /usr/sbin (`make test` installs it)", ErrUnavailable, bin)
		}
	}
	return nil
}

// LookPath finds a program on PATH or in the sbin directories, where Debian
// puts mariadbd.
func LookPath(bin string) (string, error) {
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
		return nil, fmt.Errorf("mariadb: %w", err)
	}
	s := &Server{Host: "127.0.0.1", Dir: dir, opts: o}
	if out, err := exec.Command("cp", "-a", tmpl, filepath.Join(dir, "data")).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("mariadb: copy data directory: %v: %s", err, out)
	}
	if o.TLS {
		if err := s.writeCerts(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "init.sql"), []byte(initSQL), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("mariadb: %w", err)
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
	bin, err := LookPath("mariadbd")
	if err != nil {
		return ErrUnavailable
	}
	cmd := exec.Command(bin, s.args()...)
	// The server dies with the test process, whatever happens to it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("mariadb: start mariadbd: %w", err)
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
			return fmt.Errorf("mariadb: mariadbd exited during start: %s\nerror log:\n%s", out.String(), tail(s.ErrorLog(), 2000))
		default:
		}
		if err := s.ping(); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			_ = s.Stop()
			return fmt.Errorf("mariadb: mariadbd on %s not ready after %v: %v\nerror log:\n%s", s.Addr(), s.opts.StartTimeout, err, tail(s.ErrorLog(), 2000))
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
		return errors.New("mariadb: restart: server is still running")
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
		return 0, fmt.Errorf("mariadb: find a free port: %w", err)
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
		bin, err := LookPath("mariadb-install-db")
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
			templateErr = fmt.Errorf("mariadb: mariadb-install-db: %v\n%s", err, tail(string(out), 2000))
			return
		}
		templateDir = data
	})
	return templateDir, templateErr
}

// RemoveTemplate deletes the data directory template this process made, if
// any. Call it once no server will be started any more.
func RemoveTemplate() {
	if templateDir != "" {
		os.RemoveAll(filepath.Dir(templateDir))
	}
}

// Command returns the mariadbd command line of the server (program and
// arguments), for callers that run the server themselves (a process target
// that restarts it, for example).
func (s *Server) Command() ([]string, error) {
	bin, err := LookPath("mariadbd")
	if err != nil {
		return nil, ErrUnavailable
	}
	return append([]string{bin}, s.args()...), nil
}
