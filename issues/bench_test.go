package issues_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/issues"
)

// benchPayload is webhook post i: 10 new alerts of one Alertmanager group
// (one cluster of 20, one rule).
func benchPayload(i int, start time.Time) []byte {
	names := []string{"OperationAbnormal", "BeAliveAbnormal", "HeapUsageTooHigh", "OperationDurationGT"}
	cluster := fmt.Sprintf("bench-%02d", i%20)
	name := names[(i/20)%len(names)]
	p := issues.Payload{Version: "4", Status: issues.StatusFiring, Receiver: "tracker",
		GroupKey: fmt.Sprintf("{}:{alertname=%q, cluster_id=%q}", name, cluster)}
	for k := range 10 {
		p.Alerts = append(p.Alerts, issues.WebhookAlert{
			Status:   issues.StatusFiring,
			Labels:   map[string]string{"alertname": name, "cluster_id": cluster, "instance": fmt.Sprintf("node-%d-%d", i, k), "severity": "warning"},
			StartsAt: start.Add(time.Duration(i) * time.Millisecond),
			EndsAt:   time.Time{},
		})
	}
	b, _ := json.Marshal(p)
	return b
}

// BenchmarkWebhookSQL posts webhook payloads of 10 new alerts each from 4
// concurrent senders over HTTP into a Tracker on the SQL store on a real
// MariaDB, then checks that every alert was stored exactly once and that
// re-posting everything adds nothing. It reports posts/s and alerts/s (the
// target is 100 posts/s, i.e. 1,000 alerts/s).
//
//	go test -run '^$' -bench WebhookSQL -benchtime 2000x ./issues/
func BenchmarkWebhookSQL(b *testing.B) {
	store, _ := newSQLStore(b)
	benchWebhook(b, store, 0)
}

// BenchmarkWebhookSQLPaced is BenchmarkWebhookSQL with the senders paced to
// 100 posts/s in all (25/s each), as the target load: it reports the
// achieved rate and the p50/p99 latency of a post.
//
//	go test -run '^$' -bench WebhookSQLPaced -benchtime 1000x ./issues/
func BenchmarkWebhookSQLPaced(b *testing.B) {
	store, _ := newSQLStore(b)
	benchWebhook(b, store, 100)
}

// BenchmarkWebhookMem is BenchmarkWebhookSQL on the in-memory store.
func BenchmarkWebhookMem(b *testing.B) {
	benchWebhook(b, issues.NewMemoryStore(), 0)
}

// benchWebhook posts b.N payloads from 4 senders, at rate posts/s in all
// (0: as fast as possible).
func benchWebhook(b *testing.B, store issues.Store, rate int) {
	tr := issues.NewTracker(store, nil)
	srv := httptest.NewServer(issues.NewWebhookHandler(tr, nil))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()
	start := time.Now().Add(-time.Minute).UTC()
	payloads := make([][]byte, b.N)
	for i := range payloads {
		payloads[i] = benchPayload(i, start)
	}
	send := func(body []byte) (issues.Result, error) {
		resp, err := client.Post(srv.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			return issues.Result{}, err
		}
		defer resp.Body.Close()
		var r issues.Result
		if resp.StatusCode != http.StatusOK {
			return r, fmt.Errorf("status %d", resp.StatusCode)
		}
		return r, json.NewDecoder(resp.Body).Decode(&r)
	}
	var latencies []time.Duration
	run := func(rate int) (newAlerts, dups int, err error) {
		const senders = 4
		next := make(chan []byte)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var tick <-chan time.Time
				if rate > 0 {
					tk := time.NewTicker(time.Second * senders / time.Duration(rate))
					defer tk.Stop()
					tick = tk.C
				}
				for body := range next {
					if tick != nil {
						<-tick
					}
					t0 := time.Now()
					r, e := send(body)
					mu.Lock()
					latencies = append(latencies, time.Since(t0))
					newAlerts += r.New
					dups += r.Duplicates
					if e != nil && err == nil {
						err = e
					}
					mu.Unlock()
				}
			}()
		}
		for _, p := range payloads {
			next <- p
		}
		close(next)
		wg.Wait()
		return newAlerts, dups, err
	}

	b.ResetTimer()
	t0 := time.Now()
	got, dups, err := run(rate)
	elapsed := time.Since(t0)
	b.StopTimer()
	require.NoError(b, err)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "posts/s")
	b.ReportMetric(float64(b.N*10)/elapsed.Seconds(), "alerts/s")
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	require.Equal(b, b.N*10, got, "every alert stored once: no loss")
	require.Zero(b, dups)

	// Redeliver everything: nothing new.
	again, dups, err := run(0)
	require.NoError(b, err)
	require.Zero(b, again, "no duplicate")
	require.Equal(b, b.N*10, dups)
	list, err := tr.Issues(context.Background(), issues.Filter{})
	require.NoError(b, err)
	total := 0
	for _, is := range list {
		total += is.Alerts
	}
	require.Equal(b, b.N*10, total, "the issues hold every alert once")
}
