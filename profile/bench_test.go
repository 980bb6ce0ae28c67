package profile_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/sqlshadow/sqlshadow/profile"
	"github.com/sqlshadow/sqlshadow/profile/profiletest"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPoll measures one Collector poll of an FE whose queue holds new
// records (RUNNING + FINISHED per statement), decoded, deduplicated, hashed
// and written to an in-memory sink. cpu-ms/poll is the process CPU time (user
// + system, all goroutines, the simulated FE's HTTP serving included) per
// poll; docs/performance.md states the budget (under 1,000 for 10,000
// records).
func BenchmarkPoll(b *testing.B) {
	for _, bc := range []struct {
		statements int
		profiles   bool
	}{{5000, false}, {10000, false}, {400, true}} {
		name := fmt.Sprintf("records=%d", 2*bc.statements)
		if bc.profiles {
			name += "/profiles"
		}
		b.Run(name, func(b *testing.B) {
			fe := profiletest.NewFE(&profiletest.Options{Retention: time.Hour})
			defer fe.Close()
			rec := &sinktest.Recorder{}
			c, err := profile.NewCollector(rec, profile.StaticDiscovery(fe.Addr()), &profile.Options{
				Cluster: "bench", FE: &profile.FEOptions{NoProfiles: !bc.profiles, Retention: time.Hour, ProfileConcurrency: 8}})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			sql := "SELECT o_orderpriority, count(*) AS order_count FROM orders WHERE o_orderdate >= date '1993-07-01' " +
				"AND o_orderdate < date '1993-07-01' + interval '3' month AND exists (SELECT * FROM lineitem " +
				"WHERE l_orderkey = o_orderkey AND l_commitdate < l_receiptdate) GROUP BY o_orderpriority ORDER BY 1 /* q%d */"
			var cpu time.Duration
			n := 0
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				for i := range bc.statements {
					q := profiletest.Query{SQL: fmt.Sprintf(sql, n), User: "analyst", Database: "tpch",
						ScanRows: 1000, ScanBytes: 1 << 20, ReturnRows: 5, CPUCostNs: 1e6, MemCostBytes: 1 << 20}
					if bc.profiles {
						q.ID = profiletest.NewQueryID()
						q.Profile = profiletest.SampleProfile(q.ID, q.SQL)
					}
					fe.Run(q)
					n++
					_ = i
				}
				start := cpuTime()
				b.StartTimer()
				if err := c.Poll(ctx); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				cpu += cpuTime() - start
				b.StartTimer()
			}
			b.StopTimer()
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/poll")
			if got := len(rec.Lines()); got != n {
				b.Fatalf("wrote %d records, want %d", got, n)
			}
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			_ = c.Run(cctx)
		})
	}
}
