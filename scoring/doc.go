// Package scoring turns cluster metrics and alert counts into health scores,
// and fires prioritised sentinel triggers with cooldowns.
//
// Every exported type is safe for concurrent use unless its comment says
// otherwise (Monitor's Evaluate and Run are not to be called concurrently).
// Nothing in the package starts a goroutine: Monitor.Run runs in the
// caller's.
//
// # The model
//
// Each dimension (DefaultDimensions: BE CPU, FE JVM heap, BE disk, compaction
// score, query latency P99, query error rate, alive BEs and FEs, query queue,
// load failures, BE memory, tablet rowsets) has a row of the threshold table
// (Threshold): healthy / warning / critical, e.g. CPU < 55 / 55-70 / > 70 %.
// Its score is 100 up to the healthy bound, linear to 50 at the critical
// bound, linear to 0 at twice the critical bound. Then, in DefaultScorer:
//
//	metrics   = mean of the available dimension scores
//	confidence = available / expected dimensions
//	alerts    = max(0, 100 - 10 x distinct alerts fired in 7 days)
//	tier      = metrics x tier factor (S 0.8, A 0.9, others 1.0)
//	composite = 0.60 x metrics + 0.25 x alerts + 0.15 x tier
//	class     = Healthy [80, 100], Warning [50, 80), Critical [0, 50)
//
// Every number is an option (ScorerOptions, SentinelOptions, ...) whose
// default is the one above. A missing metric is absent from the snapshot
// (no value, no score), lowers the confidence and is listed with its reason
// in Snapshot.Missing: it is never read as zero. An unknown alert count
// leaves the alerts part out (its weight is shared by the other parts). Each
// DimensionResult explains its contribution to the composite and the points
// it costs, and its change over the trend window (7 days).
//
// # Sources
//
// A Source gives a cluster's dimension values at a time:
//
//   - PrometheusSource: the Prometheus HTTP API (client_golang
//     api/prometheus/v1), one PromQL query per dimension
//     (DefaultPrometheusQueries), at any time, so it also gives the 7-day
//     trend; it counts alerts from ALERTS{alertstate="firing"} too.
//   - ScrapeSource: StarRocks FE and BE /metrics read directly and parsed
//     with prometheus/common expfmt; rates (CPU from jiffies, error and load
//     failure rates from counters) come from two scrapes RateWindow (30 s)
//     apart, counter resets are detected and reported.
//   - StaticSource: fixed values, for tests and the metrics file
//     (MetricsFile).
//   - DatasetHistory: the values of earlier snapshots in the health-scores
//     dataset, the trend source of a direct scrape.
//
// What StarRocks exports directly and what is derived follows the project's
// StarRocks reference, section 3: P99 latency is the maximum over FEs of
// starrocks_fe_query_latency_ms{quantile="0.99"}; CPU, disk, heap, error
// rate and compaction are derived (rates of counters, maxima or means over
// BEs). Alert counts come from an AlertCounter (PrometheusSource, or an
// AlertCounterFunc over the issues package), tiers from a TierSource.
//
// # Sentinel
//
// Sentinel evaluates each snapshot against the previous one: New Critical
// (priority 1), Score Cliff (a drop of more than 15 points, 2), Alert Storm
// (more than 5 alerts firing in the last hour, 2), Tier A/S at Warning or
// Critical (3). It sends at most one Task per cluster per evaluation, the
// highest priority first, to a Notifier (SinkNotifier for the triggers
// dataset, WebhookNotifier, or any NotifierFunc), and then starts that
// trigger's cooldown (4 h) in a CooldownStore (MemoryStore, or SQLStore so
// that cooldowns survive restarts). A higher-priority trigger may fire
// during a lower one's cooldown, not the reverse (unless
// IndependentCooldowns). A failed notification starts no cooldown.
// scoringtest.RunCooldownStoreTests is the stores' conformance suite.
//
// # Monitor
//
// Monitor ties it together for a list of clusters: collect, trend, tier,
// alerts, score, write the Snapshot to a sink.Sink (the `health-scores`
// dataset, field names in Snapshot's tags, "ts" in sink.TimeFormat), export
// gauges (sqlshadow_health_score, _confidence, _metrics_score,
// _dimension_score, _dimension_value, _class, and the counters
// _evaluations_total and _triggers_total) through an injected
// prometheus.Registerer, and hand the snapshot to the sentinel.
//
// # Errors
//
// ErrNoMetrics (nothing to score), ErrNoHistory (a source that cannot look
// back), ErrScrape (no target answered), ErrBadThreshold, ErrBadMetricsFile,
// ErrUnknownCluster, ErrUnknownCount, and *WebhookError for a webhook's
// non-2xx answer; all for errors.Is / errors.As.
//
// # Performance
//
// On the 2-core test machine (go test -run '^$' -bench . -benchmem ./scoring/):
//
//	BenchmarkScore             8.9 µs/op    2.2 KB/op    75 allocs/op   (12 dimensions, trend, alerts, tier)
//	BenchmarkParseExposition   441 µs/op   10.4 MB/s    1587 allocs/op  (one FE and one BE /metrics)
//	BenchmarkDerive            477 µs/op     85 KB/op   758 allocs/op   (12 dimensions from 3 FEs and 10 BEs)
//
// Scoring is negligible next to the 30 s between the two scrapes.
package scoring
