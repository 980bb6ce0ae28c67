package scoring

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Placeholders in PrometheusSourceOptions.Queries.
const (
	// QuerySelector expands to the cluster's label matcher followed by a
	// comma (`cluster="prod",`), or to nothing when the cluster is "". Put
	// it first inside the braces: `up{{{sel}}job="fe"}`.
	QuerySelector = "{{sel}}"
	// QueryWindow expands to the rate window, e.g. `5m`.
	QueryWindow = "{{window}}"
)

// DefaultPrometheusQueries returns the PromQL of each default dimension,
// with the placeholders QuerySelector and QueryWindow. They derive each
// dimension as DefaultDimensions describes it: rates of counters, maxima and
// means over the FEs and BEs of the cluster.
func DefaultPrometheusQueries() map[string]string {
	return map[string]string{
		DimCPU: `avg(100 * (1 - sum by (instance) (rate(starrocks_be_cpu{{{sel}}mode="idle"}[{{window}}]))` +
			` / sum by (instance) (rate(starrocks_be_cpu{{{sel}}}[{{window}}]))))`,
		DimFEHeap: `max(100 * jvm_heap_size_bytes{{{sel}}type="used"} / ignoring(type) (jvm_heap_size_bytes{{{sel}}type="max"} > 0))`,
		DimDisk: `max(100 * (starrocks_be_disks_total_capacity{{{sel}}} - starrocks_be_disks_avail_capacity{{{sel}}})` +
			` / (starrocks_be_disks_total_capacity{{{sel}}} > 0))`,
		DimCompaction: `avg(max by (instance) ({{{sel}}__name__=~"starrocks_be_tablet_(base|cumulative|update)_max_compaction_score"}))`,
		DimLatencyP99: `max(starrocks_fe_query_latency_ms{{{sel}}quantile="0.99"}) / 1000`,
		DimErrorRate: `100 * sum(increase(starrocks_fe_query_err{{{sel}}}[{{window}}]))` +
			` / sum(increase(starrocks_fe_query_total{{{sel}}}[{{window}}]))`,
		DimBEAlive: `100 * max(node_info{{{sel}}type="be_node_num",state="alive"})` +
			` / max(node_info{{{sel}}type="be_node_num",state="total"} > 0)`,
		DimFEAlive: `100 * max(node_info{{{sel}}type="fe_node_num",state="alive"})` +
			` / max(node_info{{{sel}}type="fe_node_num",state="total"} > 0)`,
		DimQueuePending: `sum(starrocks_fe_query_queue_pending{{{sel}}})`,
		DimLoadFailureRate: `100 * sum(increase(starrocks_fe_txn_failed{{{sel}}}[{{window}}]))` +
			` / (sum(increase(starrocks_fe_txn_failed{{{sel}}}[{{window}}])) + sum(increase(starrocks_fe_txn_success{{{sel}}}[{{window}}])))`,
		DimBEMem: `max(100 * starrocks_be_process_mem_bytes{{{sel}}}` +
			` / (starrocks_be_process_mem_limit_bytes{{{sel}}} > 0))`,
		DimRowsetNum: `max(starrocks_be_max_tablet_rowset_num{{{sel}}})`,
	}
}

// Dimensions whose query is a ratio of counter increases: 0/0 (nothing
// happened in the window) means a rate of 0, not a missing metric.
var ratioDims = map[string]bool{DimErrorRate: true, DimLoadFailureRate: true}

// PrometheusSourceOptions configures a PrometheusSource.
type PrometheusSourceOptions struct {
	// ClusterLabel is the label that tells clusters apart. Default "cluster".
	ClusterLabel string
	// Queries replace or add dimension queries by name (merged over
	// DefaultPrometheusQueries; an empty query removes a dimension).
	Queries map[string]string
	// RateWindow is the range of rate() and increase(). Default 5m.
	RateWindow time.Duration
	// Timeout bounds each query. Default 30 s.
	Timeout time.Duration
}

// PrometheusSource reads the dimensions from a Prometheus server through the
// HTTP API (client_golang api/prometheus/v1), one instant query per
// dimension at the requested time, so it also answers the trend question
// "what was it 7 days ago". It also counts alerts from the ALERTS series
// (see CountAlerts). It is safe for concurrent use.
type PrometheusSource struct {
	api     promv1.API
	label   string
	queries map[string]string
	window  string
	timeout time.Duration
}

var (
	_ Source       = (*PrometheusSource)(nil)
	_ AlertCounter = (*PrometheusSource)(nil)
)

// NewPrometheusSource returns a source over the Prometheus server at address
// (e.g. "http://127.0.0.1:9090"). client may be nil (http.DefaultClient's
// round tripper).
func NewPrometheusSource(address string, client api.Client, opts *PrometheusSourceOptions) (*PrometheusSource, error) {
	var o PrometheusSourceOptions
	if opts != nil {
		o = *opts
	}
	if client == nil {
		c, err := api.NewClient(api.Config{Address: address})
		if err != nil {
			return nil, fmt.Errorf("scoring: prometheus client: %w", err)
		}
		client = c
	}
	if o.ClusterLabel == "" {
		o.ClusterLabel = "cluster"
	}
	if !model.LabelName(o.ClusterLabel).IsValid() {
		return nil, fmt.Errorf("scoring: bad cluster label %q", o.ClusterLabel)
	}
	if o.RateWindow <= 0 {
		o.RateWindow = 5 * time.Minute
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	q := DefaultPrometheusQueries()
	for k, v := range o.Queries {
		if v == "" {
			delete(q, k)
		} else {
			q[k] = v
		}
	}
	return &PrometheusSource{
		api: promv1.NewAPI(client), label: o.ClusterLabel, queries: q,
		window: model.Duration(o.RateWindow).String(), timeout: o.Timeout,
	}, nil
}

func (p *PrometheusSource) expand(q, cluster string) string {
	sel := ""
	if cluster != "" {
		sel = p.label + "=" + strconv.Quote(cluster) + ","
	}
	return strings.NewReplacer(QuerySelector, sel, QueryWindow, p.window).Replace(q)
}

// Collect implements Source: one instant query per dimension at time at.
// A dimension whose query returns no series is missing; a failed query
// makes its dimension missing with the error as reason; when every query
// fails, Collect returns the first error.
func (p *PrometheusSource) Collect(ctx context.Context, cluster string, at time.Time) (Metrics, error) {
	m := Metrics{At: at, Source: "prometheus"}
	names := slices.Sorted(maps.Keys(p.queries))
	var firstErr error
	failed := 0
	for _, name := range names {
		v, ok, reason, err := p.scalar(ctx, p.expand(p.queries[name], cluster), at)
		if err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
			m.set(name, 0, false, "query failed: "+err.Error())
			continue
		}
		if ok && math.IsNaN(v) && ratioDims[name] {
			m.Notes = append(m.Notes, name+": nothing happened in the window, rate taken as 0")
			v = 0
		}
		m.set(name, v, ok, reason)
	}
	if failed == len(names) && firstErr != nil {
		return Metrics{}, firstErr
	}
	return m, nil
}

// scalar runs an instant query expected to give one number.
func (p *PrometheusSource) scalar(ctx context.Context, q string, at time.Time) (float64, bool, string, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	val, _, _, err := p.api.Query(ctx, q, at)
	if err != nil {
		return 0, false, "", fmt.Errorf("scoring: prometheus query %q: %w", q, err)
	}
	switch v := val.(type) {
	case model.Vector:
		if len(v) == 0 {
			return 0, false, "no series (metric not exported or not scraped)", nil
		}
		if len(v) > 1 {
			return 0, false, fmt.Sprintf("query gave %d series, want 1", len(v)), nil
		}
		return float64(v[0].Value), true, "", nil
	case *model.Scalar:
		return float64(v.Value), true, "", nil
	default:
		return 0, false, fmt.Sprintf("query gave a %s, want a vector", val.Type()), nil
	}
}

// CountAlerts implements AlertCounter from the ALERTS series: the number of
// distinct firing alerts (distinct label sets of
// ALERTS{alertstate="firing"}) for the cluster at any time in [from, to].
func (p *PrometheusSource) CountAlerts(ctx context.Context, cluster string, from, to time.Time) (int, error) {
	rng := to.Sub(from).Round(time.Second)
	if rng < time.Second {
		rng = time.Second
	}
	q := p.expand(`count(max_over_time(ALERTS{{{sel}}alertstate="firing"}[`+model.Duration(rng).String()+`]))`, cluster)
	v, ok, _, err := p.scalar(ctx, q, to)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, nil // count() of nothing is an empty vector: no alerts
	}
	return int(v), nil
}
