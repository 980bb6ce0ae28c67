// Package scoringtest helps test code built on scoring: a simulated
// StarRocks cluster serving FE and BE /metrics in StarRocks' exposition
// format, and a conformance suite for scoring.CooldownStore
// implementations.
package scoringtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// FE is the state of one simulated frontend. Counters are cumulative.
type FE struct {
	QueryTotal, QueryErr     float64  // starrocks_fe_query_total, starrocks_fe_query_err
	TxnSuccess, TxnFailed    float64  // starrocks_fe_txn_success, starrocks_fe_txn_failed
	LatencyP99Ms             float64  // starrocks_fe_query_latency_ms{quantile="0.99"}
	HeapUsed, HeapMax        float64  // jvm_heap_size_bytes{type="used"|"max"}
	QueuePending             float64  // starrocks_fe_query_queue_pending
	FEAlive, FETotal         int      // node_info{type="fe_node_num"}
	BEAlive, BETotal         int      // node_info{type="be_node_num"}
	Leader                   bool     // node_info{type="is_master"} 1
	QPS, ErrPct              float64  // Advance: queries per second and the % that fail
	LoadsPerSec, LoadFailPct float64  // Advance: load transactions per second and the % that fail
	Omit                     []string // metric family names left out of the exposition
}

// Disk is one storage path of a simulated backend, in bytes.
type Disk struct {
	Path                   string
	Total, Avail, DataUsed float64
}

// BE is the state of one simulated backend.
type BE struct {
	CPU                                     map[string]float64 // starrocks_be_cpu{mode} cumulative jiffies
	Cores                                   int                // Advance: jiffies per second = 100 x Cores
	BusyPct                                 float64            // Advance: % of jiffies not idle
	Disks                                   []Disk
	BaseScore, CumulativeScore, UpdateScore float64 // starrocks_be_tablet_*_max_compaction_score
	ProcessMem, MemLimit                    float64 // starrocks_be_process_mem_bytes, _limit_bytes
	MaxRowsetNum                            float64 // starrocks_be_max_tablet_rowset_num
	Omit                                    []string
}

// CPUModes are the modes of starrocks_be_cpu, in StarRocks' order.
var CPUModes = []string{"user", "nice", "system", "idle", "iowait", "irq", "soft_irq", "steal", "guest", "guest_nice"}

// StarRocks is a simulated cluster. Its state is changed with Do and
// Advance; it is safe for concurrent use.
type StarRocks struct {
	mu       sync.Mutex
	fes      []FE
	bes      []BE
	realTime bool
	last     time.Time
}

// NewStarRocks returns a healthy cluster of fes frontends and bes backends:
// 40 % CPU, 50 % heap, 50 % disk, compaction score 10, P99 200 ms, 0.05 %
// query errors at 100 QPS, no queue, all nodes alive, 60 % BE memory, 100
// rowsets.
func NewStarRocks(fes, bes int) *StarRocks {
	s := &StarRocks{}
	for i := range fes {
		s.fes = append(s.fes, FE{
			QueryTotal: 100000, QueryErr: 50, TxnSuccess: 5000, TxnFailed: 5,
			LatencyP99Ms: 200, HeapUsed: 4 << 30, HeapMax: 8 << 30,
			FEAlive: fes, FETotal: fes, BEAlive: bes, BETotal: bes, Leader: i == 0,
			QPS: 100, ErrPct: 0.05, LoadsPerSec: 10, LoadFailPct: 0.5,
		})
	}
	for range bes {
		cpu := map[string]float64{}
		for _, m := range CPUModes {
			cpu[m] = 1000
		}
		s.bes = append(s.bes, BE{
			CPU: cpu, Cores: 8, BusyPct: 40,
			Disks: []Disk{{Path: "/data1/storage", Total: 1 << 40, Avail: 1 << 39, DataUsed: 1 << 38},
				{Path: "/data2/storage", Total: 1 << 40, Avail: 3 << 38, DataUsed: 1 << 38}},
			BaseScore: 5, CumulativeScore: 10, UpdateScore: 0,
			ProcessMem: 60 << 30, MemLimit: 100 << 30, MaxRowsetNum: 100,
		})
	}
	return s
}

// SetRealTime makes every scrape first Advance the cluster by the wall
// time since the previous scrape, so that a real Prometheus sees counters
// move at the configured rates.
func (s *StarRocks) SetRealTime(on bool) {
	s.mu.Lock()
	s.realTime, s.last = on, time.Now()
	s.mu.Unlock()
}

// Do runs f with the state locked; f may change any field.
func (s *StarRocks) Do(f func(fes []FE, bes []BE)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.fes, s.bes)
}

// Advance moves the counters forward by d at the configured rates.
func (s *StarRocks) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(d)
}

func (s *StarRocks) advance(d time.Duration) {
	sec := d.Seconds()
	for i := range s.fes {
		f := &s.fes[i]
		q := f.QPS * sec
		f.QueryTotal += q
		f.QueryErr += q * f.ErrPct / 100
		l := f.LoadsPerSec * sec
		f.TxnFailed += l * f.LoadFailPct / 100
		f.TxnSuccess += l * (1 - f.LoadFailPct/100)
	}
	for i := range s.bes {
		b := &s.bes[i]
		total := 100 * float64(b.Cores) * sec
		b.CPU["idle"] += total * (1 - b.BusyPct/100)
		b.CPU["user"] += total * b.BusyPct / 100 * 0.75
		b.CPU["system"] += total * b.BusyPct / 100 * 0.25
	}
}

func omitted(omit []string, name string) bool {
	for _, o := range omit {
		if o == name {
			return true
		}
	}
	return false
}

type writer struct {
	b    strings.Builder
	omit []string
}

// family writes # HELP / # TYPE and the samples of one family, the way the
// StarRocks FE's PrometheusMetricVisitor does.
func (w *writer) family(name, typ, help string, samples ...string) {
	if omitted(w.omit, name) {
		return
	}
	fmt.Fprintf(&w.b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	for _, s := range samples {
		w.b.WriteString(s)
		w.b.WriteByte('\n')
	}
}

func num(v float64) string { return fmt.Sprintf("%.0f", v) }

func flt(v float64) string { return fmt.Sprintf("%.1f", v) }

// FEExposition returns frontend i's /metrics body.
func (s *StarRocks) FEExposition(i int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.feExposition(i)
}

func (s *StarRocks) feExposition(i int) string {
	f := s.fes[i]
	w := &writer{omit: f.Omit}
	w.family("jvm_heap_size_bytes", "gauge", "jvm heap stat",
		`jvm_heap_size_bytes{type="max"} `+num(f.HeapMax),
		`jvm_heap_size_bytes{type="committed"} `+num(f.HeapMax),
		`jvm_heap_size_bytes{type="used"} `+num(f.HeapUsed))
	w.family("jvm_non_heap_size_bytes", "gauge", "jvm non heap stat",
		`jvm_non_heap_size_bytes{type="committed"} 268435456`,
		`jvm_non_heap_size_bytes{type="used"} 201326592`)
	w.family("jvm_young_gc", "gauge", "jvm young gc stat",
		`jvm_young_gc{type="count"} 1042`, `jvm_young_gc{type="time"} 9123`)
	nodes := []string{
		fmt.Sprintf(`node_info{type="fe_node_num", state="total"} %d`, f.FETotal),
		fmt.Sprintf(`node_info{type="fe_node_num", state="alive"} %d`, f.FEAlive),
		fmt.Sprintf(`node_info{type="be_node_num", state="total"} %d`, f.BETotal),
		fmt.Sprintf(`node_info{type="be_node_num", state="alive"} %d`, f.BEAlive),
		`node_info{type="broker_node_num", state="dead"} 0`,
	}
	if f.Leader {
		nodes = append(nodes, `node_info{type="is_master"} 1`)
	}
	w.family("node_info", "gauge", "node info", nodes...)
	w.family("starrocks_fe_connection_total", "gauge", "total connections", `starrocks_fe_connection_total 12`)
	w.family("starrocks_fe_qps", "gauge", "query per second", `starrocks_fe_qps `+flt(f.QPS))
	w.family("starrocks_fe_query_err_rate", "gauge", "query error rate", `starrocks_fe_query_err_rate `+fmt.Sprintf("%g", f.QPS*f.ErrPct/100))
	w.family("starrocks_fe_max_tablet_compaction_score", "gauge", "max tablet compaction score of all backends", `starrocks_fe_max_tablet_compaction_score 0`)
	w.family("starrocks_fe_request_total", "counter", "total request", `starrocks_fe_request_total `+num(f.QueryTotal*1.2))
	w.family("starrocks_fe_query_total", "counter", "total query", `starrocks_fe_query_total `+num(f.QueryTotal))
	w.family("starrocks_fe_query_err", "counter", "total error query", `starrocks_fe_query_err `+num(f.QueryErr))
	w.family("starrocks_fe_query_success", "counter", "total success query", `starrocks_fe_query_success `+num(f.QueryTotal-f.QueryErr))
	w.family("starrocks_fe_query_queue_pending", "counter", "total pending query", `starrocks_fe_query_queue_pending `+num(f.QueuePending))
	w.family("starrocks_fe_txn_success", "counter", "counter of success transactions", `starrocks_fe_txn_success `+num(f.TxnSuccess))
	w.family("starrocks_fe_txn_failed", "counter", "counter of failed transactions", `starrocks_fe_txn_failed `+num(f.TxnFailed))
	p := f.LatencyP99Ms
	w.family("starrocks_fe_query_latency_ms", "summary", "",
		`starrocks_fe_query_latency_ms{quantile="0.75"} `+flt(p/10),
		`starrocks_fe_query_latency_ms{quantile="0.95"} `+flt(p/3),
		`starrocks_fe_query_latency_ms{quantile="0.98"} `+flt(p/2),
		`starrocks_fe_query_latency_ms{quantile="0.99"} `+flt(p),
		`starrocks_fe_query_latency_ms{quantile="0.999"} `+flt(p*4),
		`starrocks_fe_query_latency_ms_sum `+flt(f.QueryTotal*p/20),
		`starrocks_fe_query_latency_ms_count `+num(f.QueryTotal-f.QueryErr))
	return w.b.String()
}

// BEExposition returns backend i's /metrics body (the BE writes only
// # TYPE lines, and integer values).
func (s *StarRocks) BEExposition(i int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.beExposition(i)
}

func (s *StarRocks) beExposition(i int) string {
	b := s.bes[i]
	var sb strings.Builder
	fam := func(name, typ string, samples ...string) {
		if omitted(b.Omit, name) {
			return
		}
		fmt.Fprintf(&sb, "# TYPE %s %s\n", name, typ)
		for _, s := range samples {
			sb.WriteString(s)
			sb.WriteByte('\n')
		}
	}
	var cpu []string
	for _, m := range CPUModes {
		cpu = append(cpu, fmt.Sprintf(`starrocks_be_cpu{mode="%s"} %s`, m, num(b.CPU[m])))
	}
	fam("starrocks_be_cpu", "counter", cpu...)
	disk := func(name string, v func(Disk) float64) {
		var ss []string
		for _, d := range b.Disks {
			ss = append(ss, fmt.Sprintf(`%s{path="%s"} %s`, name, d.Path, num(v(d))))
		}
		fam(name, "gauge", ss...)
	}
	disk("starrocks_be_disks_total_capacity", func(d Disk) float64 { return d.Total })
	disk("starrocks_be_disks_avail_capacity", func(d Disk) float64 { return d.Avail })
	disk("starrocks_be_disks_data_used_capacity", func(d Disk) float64 { return d.DataUsed })
	disk("starrocks_be_disks_state", func(Disk) float64 { return 1 })
	fam("starrocks_be_tablet_base_max_compaction_score", "gauge", "starrocks_be_tablet_base_max_compaction_score "+num(b.BaseScore))
	fam("starrocks_be_tablet_cumulative_max_compaction_score", "gauge", "starrocks_be_tablet_cumulative_max_compaction_score "+num(b.CumulativeScore))
	fam("starrocks_be_tablet_update_max_compaction_score", "gauge", "starrocks_be_tablet_update_max_compaction_score "+num(b.UpdateScore))
	fam("starrocks_be_max_tablet_rowset_num", "gauge", "starrocks_be_max_tablet_rowset_num "+num(b.MaxRowsetNum))
	fam("starrocks_be_process_mem_bytes", "gauge", "starrocks_be_process_mem_bytes "+num(b.ProcessMem))
	fam("starrocks_be_process_mem_limit_bytes", "gauge", "starrocks_be_process_mem_limit_bytes "+num(b.MemLimit))
	fam("starrocks_be_query_mem_bytes", "gauge", "starrocks_be_query_mem_bytes 1073741824")
	fam("starrocks_be_fragment_endpoint_count", "gauge", "starrocks_be_fragment_endpoint_count 0")
	return sb.String()
}

// Handler returns the /metrics handler of frontend i (fe true) or backend
// i. Other paths are 404.
func (s *StarRocks) Handler(fe bool, i int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		if s.realTime {
			now := time.Now()
			s.advance(now.Sub(s.last))
			s.last = now
		}
		var body string
		if fe {
			body = s.feExposition(i)
		} else {
			body = s.beExposition(i)
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte(body))
	})
}

// Serve starts one HTTP server per node on 127.0.0.1, stopped when the test
// ends, and returns the /metrics URLs of the FEs and of the BEs.
func (s *StarRocks) Serve(tb testing.TB) (fes, bes []string) {
	tb.Helper()
	s.mu.Lock()
	nf, nb := len(s.fes), len(s.bes)
	s.mu.Unlock()
	for i := range nf {
		srv := httptest.NewServer(s.Handler(true, i))
		tb.Cleanup(srv.Close)
		fes = append(fes, srv.URL+"/metrics")
	}
	for i := range nb {
		srv := httptest.NewServer(s.Handler(false, i))
		tb.Cleanup(srv.Close)
		bes = append(bes, srv.URL+"/metrics")
	}
	return fes, bes
}
