// Package testdb gives tests throwaway MariaDB servers (started by
// internal/mariadb) and stops them when the package's tests end; it also
// decides, for every real component a test needs, whether a missing one skips
// the test or fails it.
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
package testdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sqlshadow/sqlshadow/internal/mariadb"
)

// RequireEnv is the environment variable that turns a missing MariaDB into a
// test failure instead of a skip.
const RequireEnv = "SQLSHADOW_REQUIRE_DB"

// Server is a running MariaDB server of a test, with helpers that tie
// databases and connections to the test's lifetime.
type Server struct {
	*mariadb.Server
	dbSeq atomic.Int64
}

// Start starts a new server in a fresh temporary directory (see
// mariadb.Start). Stop it with Stop, or Remove it.
func Start(opts *mariadb.Options) (*Server, error) {
	s, err := mariadb.Start(opts)
	if err != nil {
		return nil, err
	}
	return &Server{Server: s}, nil
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

// Rig gives a package's tests a fixed number of servers, started on first use
// and stopped when the tests end (see the package example).
type Rig struct {
	n    int
	opts *mariadb.Options

	once    sync.Once
	servers []*Server
	err     error
}

// NewRig returns a rig of n servers with opts (nil for defaults). It starts
// nothing until a test asks for a server.
func NewRig(n int, opts *mariadb.Options) *Rig { return &Rig{n: n, opts: opts} }

// Run runs the package's tests and then stops the servers; its result is the
// exit code for os.Exit.
func (r *Rig) Run(m *testing.M) int {
	code := m.Run()
	r.Close()
	mariadb.RemoveTemplate()
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
		if err := mariadb.Available(); err != nil {
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
	if errors.Is(err, mariadb.ErrUnavailable) && !Required() {
		t.Skipf("%v (set %s=1 to make this a failure)", err, RequireEnv)
	}
	if !errors.Is(err, mariadb.ErrUnavailable) {
		t.Fatalf("%v", err)
	}
	t.Fatalf("%v, and %s=1 requires it", err, RequireEnv)
}

// RequireBinary returns the path of a program the test needs, skipping or
// failing (SQLSHADOW_REQUIRE_DB=1) with a clear message when it is missing.
func RequireBinary(t testing.TB, name string) string {
	t.Helper()
	p, err := mariadb.LookPath(name)
	if err != nil {
		SkipOrFail(t, fmt.Errorf("%w: %s not found on PATH (`make test` installs it)", mariadb.ErrUnavailable, name))
	}
	return p
}
