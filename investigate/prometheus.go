package investigate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Names of the metric queries the investigator runs (InvestigatorOptions.
// MetricQueries): the same names, and by default the same PromQL, as
// package scoring's dimensions.
const (
	MetricDisk       = "disk_used_pct"
	MetricCompaction = "compaction_score"
	MetricFEHeap     = "fe_heap_used_pct"
	MetricErrorRate  = "query_error_rate_pct"
	MetricBEAlive    = "be_alive_pct"
)

// Placeholders in metric queries, as in package scoring: QuerySelector
// expands to `cluster="NAME",` (put it first inside the braces) and
// QueryWindow to the rate window.
const (
	QuerySelector = "{{sel}}"
	QueryWindow   = "{{window}}"
)

// DefaultMetricQueries returns the PromQL of each metric the deterministic
// rules read, with the placeholders QuerySelector and QueryWindow. Each is
// the query package scoring uses for the dimension of the same name (a test
// checks it), so a finding's numbers are the ones the health score saw.
func DefaultMetricQueries() map[string]string {
	return map[string]string{
		MetricFEHeap: `max(100 * jvm_heap_size_bytes{{{sel}}type="used"} / ignoring(type) (jvm_heap_size_bytes{{{sel}}type="max"} > 0))`,
		MetricDisk: `max(100 * (starrocks_be_disks_total_capacity{{{sel}}} - starrocks_be_disks_avail_capacity{{{sel}}})` +
			` / (starrocks_be_disks_total_capacity{{{sel}}} > 0))`,
		MetricCompaction: `avg(max by (instance) ({{{sel}}__name__=~"starrocks_be_tablet_(base|cumulative|update)_max_compaction_score"}))`,
		MetricErrorRate: `100 * sum(increase(starrocks_fe_query_err{{{sel}}}[{{window}}]))` +
			` / sum(increase(starrocks_fe_query_total{{{sel}}}[{{window}}]))`,
		MetricBEAlive: `100 * max(node_info{{{sel}}type="be_node_num",state="alive"})` +
			` / max(node_info{{{sel}}type="be_node_num",state="total"} > 0)`,
	}
}

// expandQuery fills the placeholders of q for cluster.
func expandQuery(q, label, cluster string, window time.Duration) string {
	sel := ""
	if cluster != "" {
		sel = label + "=" + strconv.Quote(cluster) + ","
	}
	return strings.NewReplacer(QuerySelector, sel, QueryWindow, promDuration(window)).Replace(q)
}

func promDuration(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

// PrometheusOptions configures a Prometheus tool.
type PrometheusOptions struct {
	// Client sends the requests; nil means http.DefaultClient.
	Client *http.Client
	// Timeout bounds each query. Default 30 s.
	Timeout time.Duration
	// MaxPoints caps the points of one series. Default 2000.
	MaxPoints int
}

// Prometheus is the Metrics tool over a Prometheus server's HTTP API
// (/api/v1/query_range). It is safe for concurrent use.
type Prometheus struct {
	base *url.URL
	opts PrometheusOptions
}

var _ Metrics = (*Prometheus)(nil)

// NewPrometheus returns the tool for the server at address
// ("http://127.0.0.1:9090").
func NewPrometheus(address string, opts *PrometheusOptions) (*Prometheus, error) {
	u, err := url.Parse(address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("investigate: prometheus address %q: want http(s)://host:port", address)
	}
	p := &Prometheus{base: u}
	if opts != nil {
		p.opts = *opts
	}
	if p.opts.Client == nil {
		p.opts.Client = http.DefaultClient
	}
	if p.opts.Timeout <= 0 {
		p.opts.Timeout = 30 * time.Second
	}
	if p.opts.MaxPoints <= 0 {
		p.opts.MaxPoints = 2000
	}
	return p, nil
}

// Range implements Metrics. NaN and infinite samples are dropped.
func (p *Prometheus) Range(ctx context.Context, query string, from, to time.Time, step time.Duration) ([]Series, error) {
	if step <= 0 {
		step = time.Minute
	}
	if n := int(to.Sub(from)/step) + 1; n > p.opts.MaxPoints {
		step = to.Sub(from) / time.Duration(p.opts.MaxPoints-1)
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	form := url.Values{
		"query": {query},
		"start": {strconv.FormatFloat(float64(from.UnixMilli())/1000, 'f', 3, 64)},
		"end":   {strconv.FormatFloat(float64(to.UnixMilli())/1000, 'f', 3, 64)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	}
	u := p.base.JoinPath("/api/v1/query_range")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("investigate: prometheus: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.opts.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("investigate: prometheus query %q: %w", query, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("investigate: prometheus query %q: %w", query, err)
	}
	var out struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("investigate: prometheus query %q: HTTP %d: %w", query, resp.StatusCode, err)
	}
	if out.Status != "success" {
		return nil, fmt.Errorf("investigate: prometheus query %q: %s", query, out.Error)
	}
	series := make([]Series, 0, len(out.Data.Result))
	for _, r := range out.Data.Result {
		s := Series{Labels: r.Metric}
		for _, v := range r.Values {
			ts, ok1 := v[0].(float64)
			str, ok2 := v[1].(string)
			f, err := strconv.ParseFloat(str, 64)
			if !ok1 || !ok2 || err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				continue
			}
			s.Points = append(s.Points, Point{T: time.UnixMilli(int64(math.Round(ts * 1000))).UTC(), V: f})
		}
		series = append(series, s)
	}
	return series, nil
}
