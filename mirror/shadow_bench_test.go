package mirror

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

// BenchmarkMirrorPointSelect runs point selects on one client connection
// through the proxy mirroring to a second MariaDB (both sides logged to a
// Recorder), text protocol and prepared statements. It reports the shadow's
// drops and errors per operation: at saturation the shadow may fall behind
// and drop, which never slows the client.
//
//	go test -run '^$' -bench MirrorPointSelect -benchtime 5000x ./mirror/
func BenchmarkMirrorPointSelect(b *testing.B) {
	for side := 0; side < 2; side++ {
		benchTable(b, rig.Server(b, side))
	}
	srv := rig.Server(b, 0)
	for _, mode := range []string{"text", "prepared"} {
		b.Run(mode, func(b *testing.B) {
			rec := &sinktest.Recorder{}
			sh, err := NewShadow(rig.Server(b, 1).Addr(), &ShadowOptions{User: mariadb.User, Password: mariadb.Password, Sink: rec})
			if err != nil {
				b.Fatal(err)
			}
			p, err := New(srv.Addr(), &Options{Mirror: sh, Sink: rec})
			if err != nil {
				b.Fatal(err)
			}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- p.Serve(l) }()
			cfg, _ := mysql.ParseDSN(srv.DSN("bench"))
			cfg.Addr = l.Addr().String()
			cfg.InterpolateParams = mode == "text"
			db, err := sql.Open("mysql", cfg.FormatDSN())
			if err != nil {
				b.Fatal(err)
			}
			db.SetMaxOpenConns(1)
			var stmt *sql.Stmt
			if mode == "prepared" {
				if stmt, err = db.Prepare("SELECT c FROM t WHERE id = ?"); err != nil {
					b.Fatal(err)
				}
			}
			var c string
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				id := i%1000 + 1
				if stmt != nil {
					err = stmt.QueryRow(id).Scan(&c)
				} else {
					err = db.QueryRow("SELECT c FROM t WHERE id = ?", id).Scan(&c)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if stmt != nil {
				_ = stmt.Close()
			}
			_ = db.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := p.Shutdown(ctx); err != nil {
				b.Fatal(err)
			}
			<-done
			if err := sh.Shutdown(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(testutil.ToFloat64(sh.metrics.drops)/float64(b.N), "drops/op")
			b.ReportMetric(testutil.ToFloat64(sh.metrics.commands.WithLabelValues("failed"))/float64(b.N), "shadow-failed/op")
		})
	}
}

// benchTable makes bench.t with 1,000 rows on srv (the table of the proxy's
// own benchmark).
func benchTable(b *testing.B, srv *testdb.Server) {
	root, err := srv.Root()
	if err != nil {
		b.Fatal(err)
	}
	_, _ = root.Exec("CREATE DATABASE IF NOT EXISTS bench")
	_, _ = root.Exec("CREATE TABLE IF NOT EXISTS bench.t (id INT PRIMARY KEY, k INT, c CHAR(120), pad CHAR(60))")
	for i := 1; i <= 1000; i += 100 {
		q := "INSERT IGNORE INTO bench.t VALUES "
		for j := i; j < i+100; j++ {
			if j > i {
				q += ","
			}
			q += fmt.Sprintf("(%d, %d, REPEAT('c', 119), REPEAT('p', 59))", j, j)
		}
		if _, err := root.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
}

// countSink is a sink.Sink that only counts records (the benchmark measures
// the proxy and the shadow, not a sink).
type countSink struct{ n atomic.Int64 }

func (s *countSink) Write(context.Context, time.Time, any) error { s.n.Add(1); return nil }
func (s *countSink) Flush(context.Context) error                 { return nil }
func (s *countSink) Close(context.Context) error                 { return nil }

// tcpRelay is the bare relay of the benchmark: bytes copied both ways.
func tcpRelay(b *testing.B, to string) (addr string, stop func()) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				u, err := net.Dial("tcp", to)
				if err != nil {
					_ = c.Close()
					return
				}
				go func() { _, _ = io.Copy(u, c); _ = u.Close() }()
				_, _ = io.Copy(c, u)
				_ = c.Close()
			}()
		}
	}()
	return l.Addr().String(), func() { _ = l.Close(); wg.Wait() }
}

var sysbenchQPS = regexp.MustCompile(`queries:\s+\d+\s+\(([\d.]+) per sec`)

func runSysbench(b *testing.B, bin, addr string, extra ...string) float64 {
	host, port, _ := strings.Cut(addr, ":")
	args := append([]string{"oltp_point_select", "--mysql-host=" + host, "--mysql-port=" + port,
		"--mysql-user=" + mariadb.User, "--mysql-password=" + mariadb.Password, "--mysql-db=sbbench",
		"--tables=1", "--table-size=10000", "--mysql-ssl=off", "--rand-seed=1"}, extra...)
	out, err := exec.Command(bin, append(args, "run")...).CombinedOutput()
	if err != nil {
		b.Fatalf("sysbench: %v\n%s", err, out)
	}
	m := sysbenchQPS.FindSubmatch(out)
	if m == nil {
		b.Fatalf("sysbench: no QPS in\n%s", out)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// BenchmarkMirrorSysbench runs sysbench oltp_point_select (8 threads,
// prepared statements) through a bare TCP relay, the proxy, and the proxy
// mirroring to a second MariaDB, and reports QPS and the mirror/relay
// ratio; then an open-loop run through the mirroring proxy at half the
// relay's QPS, reporting the shadow's drops and failures (both should be 0).
//
//	go test -run '^$' -bench MirrorSysbench -benchtime 1x ./mirror/
func BenchmarkMirrorSysbench(b *testing.B) {
	bin := testdb.RequireBinary(b, "sysbench")
	secs := "5"
	// Prepare once on the primary and copy to the shadow: two prepare runs
	// differ even with the same seed.
	for side := 0; side < 2; side++ {
		root, err := rig.Server(b, side).Root()
		if err != nil {
			b.Fatal(err)
		}
		_, _ = root.Exec("DROP DATABASE IF EXISTS sbbench")
		if _, err := root.Exec("CREATE DATABASE sbbench"); err != nil {
			b.Fatal(err)
		}
	}
	host, port, _ := strings.Cut(rig.Server(b, 0).Addr(), ":")
	out, err := exec.Command(bin, "oltp_point_select", "--mysql-host="+host, "--mysql-port="+port,
		"--mysql-user="+mariadb.User, "--mysql-password="+mariadb.Password, "--mysql-db=sbbench",
		"--tables=1", "--table-size=10000", "--mysql-ssl=off", "prepare").CombinedOutput()
	if err != nil {
		b.Fatalf("sysbench prepare: %v\n%s", err, out)
	}
	copyTable(b, "sbbench", "sbtest1")
	var sums [2]string
	for side := 0; side < 2; side++ {
		root, _ := rig.Server(b, side).Root()
		var tbl string
		if err := root.QueryRow("CHECKSUM TABLE sbbench.sbtest1").Scan(&tbl, &sums[side]); err != nil {
			b.Fatal(err)
		}
	}
	if sums[0] != sums[1] {
		b.Fatalf("the sysbench tables differ: CHECKSUM %s vs %s", sums[0], sums[1])
	}
	primary := rig.Server(b, 0).Addr()
	relay, stopRelay := tcpRelay(b, primary)
	defer stopRelay()

	start := func(mirror bool) (addr string, sh *Shadow, stop func()) {
		sink := &countSink{}
		opts := &Options{Sink: sink}
		if mirror {
			var err error
			sh, err = NewShadow(rig.Server(b, 1).Addr(), &ShadowOptions{User: mariadb.User, Password: mariadb.Password, Sink: sink})
			if err != nil {
				b.Fatal(err)
			}
			opts.Mirror = sh
		}
		p, err := New(primary, opts)
		if err != nil {
			b.Fatal(err)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- p.Serve(l) }()
		return l.Addr().String(), sh, func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_ = p.Shutdown(ctx)
			<-done
			if sh != nil {
				_ = sh.Shutdown(ctx)
			}
		}
	}
	for i := 0; i < b.N; i++ {
		relayQPS := runSysbench(b, bin, relay, "--threads=8", "--time="+secs)
		addr, _, stop := start(false)
		proxyQPS := runSysbench(b, bin, addr, "--threads=8", "--time="+secs)
		stop()
		addr, sh, stop := start(true)
		mirrorQPS := runSysbench(b, bin, addr, "--threads=8", "--time="+secs)
		stop()
		b.ReportMetric(relayQPS, "relay-qps")
		b.ReportMetric(proxyQPS, "proxy-qps")
		b.ReportMetric(mirrorQPS, "mirror-qps")
		b.ReportMetric(mirrorQPS/relayQPS, "mirror/relay")
		b.ReportMetric(testutil.ToFloat64(sh.metrics.drops), "saturated-drops")

		// Open loop at half the relay's QPS: the shadow keeps up.
		root, _ := rig.Server(b, 1).Root()
		var name string
		var before, after int64
		_ = root.QueryRow("SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'").Scan(&name, &before)
		addr, sh, stop = start(true)
		rate := strconv.Itoa(int(relayQPS / 2))
		openQPS := runSysbench(b, bin, addr, "--threads=8", "--time="+secs, "--rate="+rate)
		stop()
		_ = root.QueryRow("SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'").Scan(&name, &after)
		mirrored := testutil.ToFloat64(sh.metrics.commands.WithLabelValues("mirrored"))
		b.ReportMetric(openQPS, "open-loop-qps")
		b.ReportMetric(testutil.ToFloat64(sh.metrics.drops), "open-loop-drops")
		b.ReportMetric(testutil.ToFloat64(sh.metrics.commands.WithLabelValues("failed")), "open-loop-shadow-failed")
		b.ReportMetric(float64(after-before), "shadow-executes")
		b.ReportMetric(mirrored, "mirrored-commands")
	}
}

// copyTable copies db.table from rig server 0 to rig server 1.
func copyTable(b *testing.B, db, table string) {
	src, _ := rig.Server(b, 0).Root()
	dst, _ := rig.Server(b, 1).Root()
	var name, ddl string
	if err := src.QueryRow("SHOW CREATE TABLE "+db+"."+table).Scan(&name, &ddl); err != nil {
		b.Fatal(err)
	}
	conn, err := dst.Conn(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	if _, err := conn.ExecContext(ctx, "USE "+db); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, ddl); err != nil {
		b.Fatal(err)
	}
	rows, err := src.Query("SELECT id, k, c, pad FROM " + db + "." + table)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var batch []string
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO "+table+" VALUES "+strings.Join(batch, ",")); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	for rows.Next() {
		var id, k int64
		var c, pad string
		if err := rows.Scan(&id, &k, &c, &pad); err != nil {
			b.Fatal(err)
		}
		batch = append(batch, fmt.Sprintf("(%d,%d,'%s','%s')", id, k, c, pad))
		if len(batch) == 500 {
			flush()
		}
	}
	flush()
}

// BenchmarkShadowSubmit measures Submit, the only part of the shadow side on
// the client's path. Sessions log in to a black hole, so nothing is consumed:
// each takes 5,000 commands, then the next session is opened.
//
//	go test -run '^$' -bench ShadowSubmit ./mirror/
func BenchmarkShadowSubmit(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	sh, err := NewShadow(l.Addr().String(), &ShadowOptions{BudgetBytes: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	defer sh.Close()
	cmd := Command{QueryID: "q", Payload: []byte("\x03SELECT c FROM t WHERE id = 1"),
		Query: "SELECT c FROM t WHERE id = 1", Primary: Outcome{Success: true}}
	var s Session
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%5000 == 0 {
			b.StopTimer()
			if s != nil {
				_ = s.Close()
			}
			if s, err = sh.Open(context.Background(), SessionInfo{User: "u"}); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		cmd.Seq = uint64(i)
		if !s.Submit(cmd) {
			b.Fatal("dropped")
		}
	}
	b.StopTimer() // Close logs every queued command as dropped
}
