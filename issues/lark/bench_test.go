package lark_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/issues"
	"github.com/sqlshadow/sqlshadow/issues/lark"
	"github.com/sqlshadow/sqlshadow/issues/lark/larktest"
)

// BenchmarkParseCard parses alert cards as the history API returns them:
// a two-section StarRocks card and a two-alert Grafana card, alternately.
func BenchmarkParseCard(b *testing.B) {
	p := parser(b)
	cards := []string{
		larktest.StarRocksCard("StarRocks alerts", firingSection, resolvedSection),
		larktest.GrafanaCard("BeAliveAbnormal c-91d0e3aa42", []larktest.GrafanaAlert{
			{Labels: map[string]string{"alertname": "BeAliveAbnormal", "cluster_id": "c-1", "cluster_name": "sr-1", "region": "r", "account": "a", "severity": "critical", "instance": "10.0.0.1"},
				Annotations: map[string]string{"description": "BE down", "summary": "BE down on sr-1"}, Value: "B=1",
				SourceURL: "https://g/x", SilenceURL: "https://g/s", DashboardURL: "https://g/d"},
		}, []larktest.GrafanaAlert{
			{Labels: map[string]string{"alertname": "BeAliveAbnormal", "cluster_id": "c-1", "instance": "10.0.0.2"}, Value: "B=0",
				SourceURL: "https://g/x", SilenceURL: "https://g/s"},
		}),
	}
	bytes := 0
	for _, c := range cards {
		bytes += len(c)
	}
	b.SetBytes(int64(bytes / len(cards)))
	b.ReportAllocs()
	i := 0
	start := time.Now()
	for b.Loop() {
		card, err := p.ParseCard("interactive", cards[i%2])
		if err != nil || len(card.Alerts) != 2 {
			b.Fatalf("card %d: %d alerts, %v", i%2, len(card.Alerts), err)
		}
		i++
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "msgs/s")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBackfill10k backfills 10,000 messages (one alert card each,
// every 4 minutes over 28 days) from the simulator, which enforces the
// list API's 50/s and 1000/min, into a Tracker on a MemoryStore, with the
// client's default limiter. Wall time is the rate limit's: 200 pages at 50
// per second. cpu-µs/msg is the whole process's CPU time (client, parser,
// tracker and the simulator) per message.
func BenchmarkBackfill10k(b *testing.B) {
	const n = 10000
	srv := larktest.NewServer(&larktest.Options{PerSecond: 50, PerMinute: 1000})
	defer srv.Close()
	start := t0.Add(-n * 4 * time.Minute)
	for i := range n {
		sec := firingSection
		sec.ClusterID = fmt.Sprintf("c-%03d", i%50)
		sec.AlertName = fmt.Sprintf("Rule%d", i%20)
		srv.Add(larktest.Message{ID: fmt.Sprintf("om_%032x", i), ChatID: chat, Created: start.Add(time.Duration(i) * 4 * time.Minute),
			Content: larktest.StarRocksCard("StarRocks alert", sec)})
	}
	ctx := context.Background()
	var wall, cpu time.Duration
	for b.Loop() {
		tr := issues.NewTracker(issues.NewMemoryStore(), &issues.TrackerOptions{Now: func() time.Time { return t0 }})
		c := lark.NewClient(larktest.AppID, larktest.AppSecret, &lark.ClientOptions{BaseURL: srv.URL})
		src := lark.NewSource(c, tr, &lark.SourceOptions{Now: func() time.Time { return t0 }})
		w0, c0 := time.Now(), cpuTime(b)
		st, err := src.Run(ctx, chat, lark.Backfill(30))
		wall += time.Since(w0)
		cpu += cpuTime(b) - c0
		if err != nil || st.Messages != n || st.New != n {
			b.Fatalf("%d messages, %d new: %v", st.Messages, st.New, err)
		}
	}
	runs := float64(b.N)
	b.ReportMetric(wall.Seconds()/runs, "s/backfill")
	b.ReportMetric(n*runs/wall.Seconds(), "msgs/s")
	b.ReportMetric(float64(cpu.Microseconds())/(n*runs), "cpu-µs/msg")
	b.ReportMetric(float64(srv.Counts().RateLimited)/runs, "429s/backfill")
}
