package mirror_test

import (
	"context"
	"fmt"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gmysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/server"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/mirror"
	"github.com/sqlshadow/sqlshadow/sink"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

// A custom proxy that does not use mirror.Proxy can still mirror through the
// Mirror seam: it opens a shadow session per client connection and submits
// every command it relayed, with the primary's outcome. Here the "relay" is
// a few lines that run the client's statements on the primary with go-mysql's
// client; the primary and the shadow are two small in-process MySQL-protocol
// servers (any MySQL, MariaDB or StarRocks address works the same way).
func ExampleShadow_customRelay() {
	primary := startToyServer(3)
	defer primary.stop()
	shadowDB := startToyServer(2) // the shadow's data differs
	defer shadowDB.stop()

	logs := &sinktest.Recorder{}
	shadow, err := mirror.NewShadow(shadowDB.addr(), &mirror.ShadowOptions{
		User: "app", Password: "secret", Sink: logs,
	})
	if err != nil {
		panic(err)
	}

	// One client connection of the custom relay.
	ctx := context.Background()
	up, err := client.Connect(primary.addr(), "app", "secret", "shop")
	if err != nil {
		panic(err)
	}
	defer up.Close()
	session, err := shadow.Open(ctx, mirror.SessionInfo{ConnID: 1, User: "app", Database: "shop", Collation: 45})
	if err != nil {
		panic(err)
	}
	for seq, q := range []string{"SELECT id FROM items", "SELECT id FROM items"} {
		cmd := mirror.Command{
			QueryID:  fmt.Sprintf("1-%d", seq+1),
			Seq:      uint64(seq + 1),
			Received: time.Now(),
			Payload:  append([]byte{gmysql.COM_QUERY}, q...),
			Query:    q,
		}
		start := time.Now()
		res, err := up.Execute(q) // the relay's own round trip to the primary
		cmd.Primary = mirror.Outcome{Duration: time.Since(start), Success: err == nil}
		if err == nil {
			cmd.Primary.Rows = int64(res.RowNumber())
			res.Close()
		}
		// The relay logs its side; the shadow logs the other one.
		_ = logs.Write(ctx, cmd.Received, &dataset.QueryLog{
			TS: sink.Time(cmd.Received), QueryID: cmd.QueryID, Target: dataset.TargetPrimary,
			Command: "COM_QUERY", QueryText: q, Success: cmd.Primary.Success, Rows: cmd.Primary.Rows,
		})
		session.Submit(cmd)
	}
	_ = session.Close()
	if err := shadow.Shutdown(ctx); err != nil { // runs what is queued
		panic(err)
	}

	records, _ := sinktest.Decode[dataset.QueryLog](logs)
	sort.SliceStable(records, func(i, j int) bool { return records[i].QueryID < records[j].QueryID })
	for _, r := range records {
		fmt.Println(r.QueryID, r.Target, r.Success, r.Rows)
	}
	// Output:
	// 1-1 primary true 3
	// 1-1 shadow true 2
	// 1-2 primary true 3
	// 1-2 shadow true 2
}

// toyServer is a tiny MySQL-protocol server whose every query returns the
// ids 1..rows.
type toyServer struct {
	l    net.Listener
	rows int
	wg   sync.WaitGroup
	mu   sync.Mutex
	conn []net.Conn
}

func startToyServer(rows int) *toyServer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	s := &toyServer{l: l, rows: rows}
	srv := server.NewDefaultServer()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conn = append(s.conn, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				conn, err := srv.NewConn(c, "app", "secret", toyHandler{rows: s.rows})
				if err != nil {
					return
				}
				for !conn.Closed() {
					if err := conn.HandleCommand(); err != nil {
						return
					}
				}
			}()
		}
	}()
	return s
}

func (s *toyServer) addr() string { return s.l.Addr().String() }

func (s *toyServer) stop() {
	_ = s.l.Close()
	s.mu.Lock()
	for _, c := range s.conn {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

type toyHandler struct {
	server.EmptyHandler
	rows int
}

func (toyHandler) UseDB(string) error { return nil }

func (h toyHandler) HandleQuery(string) (*gmysql.Result, error) {
	values := make([][]any, h.rows)
	for i := range values {
		values[i] = []any{int64(i + 1)}
	}
	rs, err := gmysql.BuildSimpleTextResultset([]string{"id"}, values)
	if err != nil {
		return nil, err
	}
	return gmysql.NewResult(rs), nil
}
