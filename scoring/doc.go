// Package scoring turns cluster metrics and alert counts into health scores
// (dataset.HealthScore records), and fires prioritised sentinel triggers with
// cooldowns (dataset.SentinelTask records).
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
// default is the one above. A missing metric is absent from the score (no
// value, no score), lowers the confidence and is listed with its reason in
// HealthScore.Missing: it is never read as zero. An unknown alert count
// leaves the alerts part out (its weight is shared by the other parts). Each
// dataset.HealthDimension explains its contribution to the composite and
// the points it costs, and its change over the trend window (7 days).
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
//   - DatasetHistory: the values of earlier scores in the health-scores
//     dataset, the trend source of a direct scrape.
//
// StarRocks exports P99 latency directly (the maximum over FEs of
// starrocks_fe_query_latency_ms{quantile="0.99"}); CPU, disk, heap, error
// rate and compaction are derived (rates of counters, maxima or means over
// BEs), as each Dimension's Help says. Alert counts come from an AlertCounter (PrometheusSource, or an
// AlertCounterFunc over the issues package), tiers from a TierSource.
//
// # Sentinel
//
// Sentinel evaluates each score against the cluster's previous one, with
// the triggers of package dataset and these default priorities (1 is the
// highest): New Critical (the cluster entered Critical: it was not Critical
// in the previous score, or there was none; priority 1), Score Cliff (a
// drop of more than 15 points from the previous score, 2), Alert Storm
// (more than 5 alerts firing in the last hour, 2), Tier At Risk (a tier A
// or S cluster at Warning or Critical, 3). It sends at most one
// dataset.SentinelTask per cluster per evaluation, the highest priority
// first, to a Notifier (SinkNotifier for the dataset.SentinelTasks dataset,
// WebhookNotifier, LogNotifier, or any NotifierFunc), and then starts that
// trigger's cooldown (4 h) in a CooldownStore (MemoryStore, or SQLStore so
// that cooldowns survive restarts). A higher-priority trigger may fire
// during a lower one's cooldown, not the reverse (unless
// IndependentCooldowns). A failed notification starts no cooldown.
// scoringtest.TestCooldownStore is the stores' conformance suite.
//
// # Monitor
//
// Monitor ties it together for a list of clusters: collect, trend, tier,
// alerts, score, write the dataset.HealthScore to a sink.Sink (the
// dataset.HealthScores dataset), export gauges (sqlshadow_health_score,
// _confidence, _metrics_score, _dimension_score, _dimension_value, _class,
// and the counters _evaluations_total and _triggers_total) through an
// injected prometheus.Registerer, and hand the score to the sentinel.
//
// # Lifecycle
//
//	mon, err := scoring.NewMonitor(src, clusters, &scoring.MonitorOptions{Sink: w, Sentinel: s})
//	err = mon.Run(ctx)                             // every Interval until ctx ends
//	code := scoring.EvaluateOnce(ctx, mon, stdout) // or once, for a program's exit code
//
// Run evaluates now and then every Interval in the caller's goroutine and
// returns nil when ctx ends; Evaluate evaluates once. Neither may run
// concurrently with the other. The monitor holds nothing to close: the
// caller owns and closes the sinks, stores and databases it was given.
// EvaluateOnce maps the results to ExitHealthy, ExitUnhealthy,
// ExitInconclusive or ExitError (ExitCode).
//
// # Errors
//
// ErrNoMetrics (nothing to score), ErrNoHistory (a source that cannot look
// back), ErrScrape (no target answered), ErrBadThreshold, ErrBadMetricsFile,
// ErrUnknownCluster, ErrUnknownCount, and *WebhookError for a webhook's
// non-2xx answer; all for errors.Is / errors.As.
//
// Performance figures, with the commands that reproduce them, are in
// docs/performance.md.
package scoring
