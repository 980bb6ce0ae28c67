package mirror

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/mirror/internal/replay"
	"github.com/sqlshadow/sqlshadow/mirror/internal/wire"
	"github.com/sqlshadow/sqlshadow/sink"
	_ "github.com/sqlshadow/sqlshadow/sink/drivers"
)

// The two halves of the proxy's per-command CPU, without a network: what
// the connection goroutine does for a command (BenchmarkCommandPath) and what
// the log goroutine does for its record (BenchmarkQueryLogRecord). The
// end-to-end figures come from scripts/bench-proxy.sh.
//
//	go test -run '^$' -bench 'CommandPath|QueryLogRecord' ./mirror/

// packets frames payloads with sequence ids 1, 2, ...
func packets(payloads ...[]byte) []byte {
	var b []byte
	for i, p := range payloads {
		b = append(b, byte(len(p)), byte(len(p)>>8), byte(len(p)>>16), byte(i+1))
		b = append(b, p...)
	}
	return b
}

// BenchmarkCommandPath relays sysbench's text point select (one CHAR(120)
// column, one row, classic EOFs) through a connection's command path: read
// and forward the command, read, hash and relay the response, count it and
// hand its record to the log (nolog: no Sink).
func BenchmarkCommandPath(b *testing.B) {
	var col []byte
	for _, s := range []string{"def", "sbtest", "sbtest1", "sbtest1", "c", "c"} {
		col = wire.AppendLenEncString(col, []byte(s))
	}
	col = append(col, 0x0c, 33, 0, 0xe0, 1, 0, 0, wire.TypeString, 0, 0, 0, 0, 0)
	eof := []byte{wire.HeaderEOF, 0, 0, 2, 0}
	row := wire.AppendLenEncString(nil, bytes.Repeat([]byte("c"), 119))
	resp := packets([]byte{1}, col, eof, row, eof)
	q := []byte("\x03SELECT c FROM sbtest1 WHERE id=5000")
	cmd := append([]byte{byte(len(q)), 0, 0, 0}, q...)
	for _, logged := range []bool{false, true} {
		name := "nolog"
		var s sink.Sink
		if logged {
			name, s = "log", &countSink{}
		}
		b.Run(name, func(b *testing.B) {
			p, err := New("127.0.0.1:1", &Options{Sink: s})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			c := p.newClientConn(replay.NewConn(cmd))
			c.primary = wire.NewConn(replay.NewConn(resp))
			c.primNet = c.primary.NetConn()
			c.caps = wire.Supported &^ wire.ClientDeprecateEOF
			c.user, c.db = "sbtest", "sbtest"
			b.ReportAllocs()
			for b.Loop() {
				c.firstIn, c.refused = true, false
				_, payload, err := c.client.ReadPacket(c.fwdCmdFn)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.command(payload[0], payload, time.Now(), 0, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkQueryLogRecord is the log goroutine's work for one primary
// record into a file:// sink: hashes, JSON, the sink's buffering and its
// uploads (on another goroutine). text: every statement text is new (its
// template is fingerprinted); prepared: the text repeats (cached).
func BenchmarkQueryLogRecord(b *testing.B) {
	for _, mode := range []string{"text", "prepared"} {
		b.Run(mode, func(b *testing.B) {
			bk, err := sink.OpenBucket(context.Background(), "file://"+b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer bk.Close()
			w, err := sink.NewWriter(bk, dataset.QueryLogs, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close(context.Background())
			p, err := New("127.0.0.1:1", &Options{Sink: w})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			rb := newRecordBuilder(p)
			texts := make([]string, 1000)
			for i := range texts {
				texts[i] = fmt.Sprintf("SELECT c FROM sbtest1 WHERE id=%d", i*7+1)
				if mode == "prepared" {
					texts[i] = "SELECT c FROM sbtest1 WHERE id=?"
				}
			}
			batch := make([]logItem, 1)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				batch[0] = logItem{
					received: time.Now(), cmd: wire.ComQuery, db: "sbtest", user: "sbtest",
					clientAddr: "127.0.0.1:45678", connID: 3, seq: uint64(i), serverConnID: 17,
					out:       Outcome{Duration: 123 * time.Microsecond, Success: true, Rows: 1},
					bytesSent: 40, bytesRecv: 200,
					query: texts[i%len(texts)], cache: mode == "prepared", hasSum: true, hasCols: true,
					ttfb: 100 * time.Microsecond,
				}
				p.writeRecord(context.Background(), rb.primaryRecord(&batch[0]))
			}
		})
	}
}
