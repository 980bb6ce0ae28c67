package replay

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"
)

// BenchmarkAuditLogParse parses a generated fe.audit.log of 20,000 records
// (a sixth of them multi-line statements) and reports MB/s.
func BenchmarkAuditLogParse(b *testing.B) {
	var buf bytes.Buffer
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 20000; i++ {
		ts := t0.Add(time.Duration(i) * time.Millisecond)
		stmt := fmt.Sprintf("SELECT o.id, o.total, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = %d AND c.region = 'r|%d'", i, i%7)
		if i%6 == 0 {
			stmt = fmt.Sprintf("SELECT id,\n  name -- comment %d\nFROM t WHERE x = %d", i, i)
		}
		fmt.Fprintf(&buf, "%s [query] |Timestamp=%d|Client=10.0.%d.%d:%d|User=app|AuthorizedUser='app'@'%%'|ResourceGroup=default_wg|Catalog=default_catalog|Db=shop|State=EOF|ErrorCode=|Time=%d|ScanBytes=2847|ScanRows=243|ReturnRows=1|CpuCostNs=2263034|MemCostBytes=523520|StmtId=%d|QueryId=72e6b625-7f8e-11ee-8d3f-%012d|IsQuery=true|feIp=10.1.2.4|Stmt=%s|Digest=|PlanCpuCost=4999.5|PlanMemCost=978.5|Warehouse=default_warehouse|IsForwardToLeader=false\n",
			ts.Format("2006-01-02 15:04:05.000Z07:00"), ts.UnixMilli(), i%200, i%250, 40000+i%1000, i%50, i, i, stmt)
	}
	benchmarkParse(b, buf.Bytes(), 20000, func(r io.Reader) Source { return NewAuditLogReader(r, "bench", nil) })
}

// BenchmarkSlowLogParse parses a MariaDB slow log of the same 20,000
// statements (the file pt-query-digest is timed on in docs/performance.md).
func BenchmarkSlowLogParse(b *testing.B) {
	var buf bytes.Buffer
	for i := 0; i < 20000; i++ {
		stmt := fmt.Sprintf("SELECT o.id, o.total, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = %d AND c.region = 'r|%d'", i, i%7)
		if i%6 == 0 {
			stmt = fmt.Sprintf("SELECT id,\n  name -- comment %d\nFROM t WHERE x = %d", i, i)
		}
		fmt.Fprintf(&buf, "# User@Host: app[app] @  [10.0.0.1]\n# Thread_id: %d  Schema: shop  QC_hit: No\n# Query_time: 0.000339  Lock_time: 0.000112  Rows_sent: 1  Rows_examined: 2\n# Rows_affected: 0  Bytes_sent: 112\nSET timestamp=%d;\n%s;\n",
			i%50, 1796594231+i/1000, stmt)
	}
	benchmarkParse(b, buf.Bytes(), 20000, func(r io.Reader) Source { return NewSlowLogReader(r, "bench", nil) })
}

// benchmarkParse reads data through the source open returns, once per
// iteration, checking it yields want statements, and reports MB/s.
func benchmarkParse(b *testing.B, data []byte, want int, open func(io.Reader) Source) {
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		src := open(bytes.NewReader(data))
		n := 0
		for {
			_, err := src.Next(context.Background())
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != want {
			b.Fatalf("%d statements, want %d", n, want)
		}
	}
}
