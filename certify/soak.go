package certify

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sqlshadow/sqlshadow/compare"
)

// SoakResult is the soak's series and their trend tests.
type SoakResult struct {
	// Source is what was sampled: a /metrics URL or /proc/PID.
	Source   string        `json:"source"`
	Interval time.Duration `json:"interval_ns"`
	Warmup   time.Duration `json:"warmup_ns"`
	// Errors counts samples that could not be taken.
	Errors int          `json:"errors"`
	Series []SoakSeries `json:"series"`
}

// SoakSeries is one sampled metric and its trend.
type SoakSeries struct {
	Metric  string       `json:"metric"`
	Samples []SoakSample `json:"samples"`
	// First and Last are the first and last values after the warm-up.
	First float64 `json:"first"`
	Last  float64 `json:"last"`
	// Slope per second with its 95% interval; Growth* are the slope and
	// its interval times the span of the tested samples.
	Slope      float64         `json:"slope_per_s"`
	Growth     float64         `json:"growth"`
	GrowthLow  float64         `json:"growth_low"`
	GrowthHigh float64         `json:"growth_high"`
	Bound      float64         `json:"bound"`
	Status     compare.Verdict `json:"status"`
	Message    string          `json:"message"`
}

// SoakSample is one sample: seconds from the start of the run, and value.
type SoakSample struct {
	Offset float64 `json:"t"`
	Value  float64 `json:"v"`
}

// soakRun samples one source during a run.
type soakRun struct {
	spec    *Soak
	source  string
	sample1 func(ctx context.Context) (map[string]float64, error)
	proc    *Process // started for the soak (Soak.Command)
	times   []time.Time
	values  []map[string]float64
	errors  int
}

// metricNames maps Prometheus metric names to the soak's.
var metricNames = map[string]string{
	"process_resident_memory_bytes":      "memory",
	"go_goroutines":                      "goroutines",
	"process_open_fds":                   "open_files",
	"sqlshadow_proxy_connections_active": "connections",
}

func (rn *run) newSoak(ctx context.Context) (*soakRun, error) {
	s := rn.r.Soak
	sr := &soakRun{spec: s}
	switch {
	case s.PID != 0:
		sr.source, sr.sample1 = fmt.Sprintf("/proc/%d", s.PID), procSampler(s.PID)
	case s.Command != "":
		p, err := NewProcess([]string{"sh", "-c", "exec " + s.Command}, nil)
		if err != nil {
			return nil, err
		}
		if err := p.Start(ctx); err != nil {
			return nil, err
		}
		sr.proc = p
		sr.source, sr.sample1 = fmt.Sprintf("%q (/proc/%d)", s.Command, p.Pid()), procSampler(p.Pid())
	default:
		url := s.MetricsURL
		if url == "" {
			url = rn.metrics
		}
		sr.source, sr.sample1 = url, metricsSampler(url)
	}
	return sr, nil
}

// sample takes a sample every interval until ctx ends, then stops the
// process it started.
func (sr *soakRun) sample(ctx context.Context) {
	defer func() {
		if sr.proc != nil {
			_ = sr.proc.Kill(context.Background())
		}
	}()
	interval := sr.spec.Interval
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		v, err := sr.sample1(ctx)
		if err != nil {
			sr.errors++
		} else {
			sr.times = append(sr.times, time.Now())
			sr.values = append(sr.values, v)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// result tests each series for growth.
func (sr *soakRun) result(t0 time.Time) *SoakResult {
	s := sr.spec
	res := &SoakResult{Source: sr.source, Interval: s.Interval, Errors: sr.errors}
	if res.Interval <= 0 {
		res.Interval = time.Second
	}
	var span time.Duration
	if len(sr.times) > 0 {
		span = sr.times[len(sr.times)-1].Sub(sr.times[0])
	}
	res.Warmup = s.Warmup
	if res.Warmup == 0 {
		res.Warmup = span / 5
	}
	names := map[string]bool{}
	for _, v := range sr.values {
		for k := range v {
			names[k] = true
		}
	}
	var sorted []string
	for k := range names {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, m := range sorted {
		bound, ok := s.MaxGrowth[m]
		if !ok {
			bound = defaultGrowth[m]
		}
		ser := SoakSeries{Metric: m, Bound: bound}
		var x, y []float64
		for i, v := range sr.values {
			val, ok := v[m]
			if !ok {
				continue
			}
			off := sr.times[i].Sub(t0).Seconds()
			ser.Samples = append(ser.Samples, SoakSample{Offset: off, Value: val})
			if sr.times[i].Sub(sr.times[0]) >= res.Warmup {
				x, y = append(x, off), append(y, val)
			}
		}
		ser.Status, ser.Message = judgeGrowth(&ser, x, y)
		res.Series = append(res.Series, ser)
	}
	if len(sorted) == 0 {
		res.Series = append(res.Series, SoakSeries{Metric: "any", Status: StatusInconclusive,
			Message: fmt.Sprintf("no sample could be taken from %s (%d errors)", sr.source, sr.errors)})
	}
	return res
}

// judgeGrowth decides a series: fail when the growth over the tested span
// is significant and its estimate exceeds the bound, pass when the
// interval's upper end is within the bound, else inconclusive.
func judgeGrowth(ser *SoakSeries, x, y []float64) (compare.Verdict, string) {
	tr, err := FitTrend(x, y, 0.95)
	if err != nil {
		return StatusInconclusive, fmt.Sprintf("%d samples after the warm-up: too few for a trend", len(x))
	}
	span := x[len(x)-1] - x[0]
	ser.First, ser.Last = y[0], y[len(y)-1]
	ser.Slope, ser.Growth, ser.GrowthLow, ser.GrowthHigh = tr.Slope, tr.Slope*span, tr.Low*span, tr.High*span
	desc := fmt.Sprintf("%s grew %.4g over %.0fs (95%% interval %.4g .. %.4g; %d samples), bound %.4g",
		ser.Metric, ser.Growth, span, ser.GrowthLow, ser.GrowthHigh, len(x), ser.Bound)
	switch {
	case tr.Low > 0 && ser.Growth > ser.Bound:
		return StatusFail, desc + ": it leaks"
	case ser.GrowthHigh <= ser.Bound:
		return StatusPass, desc + ": flat within the bound"
	default:
		return StatusInconclusive, desc + ": too noisy to tell"
	}
}

// metricsSampler scrapes a Prometheus text page.
func metricsSampler(url string) func(ctx context.Context) (map[string]float64, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	return func(ctx context.Context) (map[string]float64, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("certify: %s: %s", url, resp.Status)
		}
		return parseMetrics(resp.Body)
	}
}

// parseMetrics reads the soak's metrics from the Prometheus text format,
// adding up the series of one name.
func parseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name := line
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
		}
		m, ok := metricNames[name]
		if !ok {
			continue
		}
		rest := line[len(name):]
		if i := strings.LastIndexByte(rest, '}'); i >= 0 {
			rest = rest[i+1:]
		}
		fields := strings.Fields(rest) // value [timestamp]
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		out[m] += v
	}
	return out, sc.Err()
}

// procSampler reads /proc/PID: resident memory, threads, open files and
// sockets.
func procSampler(pid int) func(ctx context.Context) (map[string]float64, error) {
	dir := fmt.Sprintf("/proc/%d", pid)
	return func(context.Context) (map[string]float64, error) {
		status, err := os.ReadFile(dir + "/status")
		if err != nil {
			return nil, err
		}
		out := map[string]float64{}
		for _, line := range strings.Split(string(status), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			f := strings.Fields(v)
			if len(f) == 0 {
				continue
			}
			n, err := strconv.ParseFloat(f[0], 64)
			if err != nil {
				continue
			}
			switch k {
			case "VmRSS":
				out["memory"] = n * 1024
			case "Threads":
				out["threads"] = n
			}
		}
		fds, err := os.ReadDir(dir + "/fd")
		if err != nil {
			return nil, err
		}
		sockets := 0
		for _, fd := range fds {
			if l, err := os.Readlink(dir + "/fd/" + fd.Name()); err == nil && strings.HasPrefix(l, "socket:") {
				sockets++
			}
		}
		out["open_files"], out["connections"] = float64(len(fds)), float64(sockets)
		return out, nil
	}
}
