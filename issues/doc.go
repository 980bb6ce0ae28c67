// Package issues turns alerts from many clusters into a few actionable
// issues: it ingests alerts idempotently (Alertmanager webhooks, or any
// source through Tracker.Ingest), groups them into issues, escalates, and
// tracks each issue's lifecycle. A Tracker is safe for concurrent use; it
// serialises the ingestion of each cluster within the process, and its
// Store serialises it across processes (or has a single writer).
//
// # Wiring
//
//	store, err := issues.NewSQLStore(ctx, db, nil)    // or issues.NewMemStore()
//	tr := issues.New(store, &issues.Options{Registerer: reg, Logger: log})
//	mux.Handle("/webhook/alertmanager", issues.NewHandler(tr, &issues.HandlerOptions{Token: tok}))
//	mux.Handle("/api/", issues.NewAPIHandler(tr, tok))
//	go tr.Run(ctx)                                    // resolves quiet issues every minute
//
// examples/alert-tracker is this wiring as a program.
//
// # Idempotent ingestion
//
// Alertmanager delivers at least once. HA peers each wait their position
// times the peer timeout, then send unless the gossiped notification log
// says a peer already did; during a partition, or when gossip is slow, both
// send. Every group is also re-sent whole on each group_interval that
// changes it and every repeat_interval, and a failed POST (5xx, network
// error) is retried. So the same alert arrives many times, in different
// payloads, from different peers.
//
// Each alert therefore gets a deterministic message id: its Source ("wh"
// for webhooks), "_", and the hex SHA-256 of length-prefixed fields: its
// identity (Alertmanager's fingerprint, or the label set sorted by name),
// its status and its startsAt. A re-delivery has the same id and is a no-op;
// two instances of one rule on one cluster have different labels and stay
// two alerts; the resolution of an alert is a second message that finds its
// firing (the "twin" id with the other status). IDLabels ignores
// fingerprints; IDLegacy is the formula of the tables this package replaces
// (alertname + cluster + status + startsAt). The cluster comes from the
// first of Options.ClusterLabels present (default cluster_id, then
// cluster).
//
// Note that Alertmanager sets startsAt to the time of receipt when the
// sender leaves it out: HA peers that receive such an alert at different
// instants send different startsAt, hence different ids. Prometheus always
// sets it.
//
// # Grouping and escalation
//
// The Grouper interface decides where an alert goes; RuleGrouper is the
// default (see its doc for the rules): anomalies (ongoing conditions) on a
// cluster merge into one open issue; failures (discrete events) join by
// name within 30 min of the issue's last firing, else by correlation group
// within 4 h of its first firing; a failure on a cluster with an open
// anomaly issue linked to its correlation group joins that issue and raises
// its severity one step. A failure issue resolves 30 min after its last
// firing or when all its alerts are resolved; an anomaly issue when all its
// anomaly alerts are. Windows are measured on the alerts' startsAt, and
// expiry on the tracker's clock (Options.Now), both at ingestion and in
// Tracker.Sweep.
//
// # Lifecycle
//
// An Issue has three statuses: Status (Ongoing, Resolved) follows its
// alerts; Triage (New -> Acknowledged -> Investigating -> Mitigating ->
// Closed, one step forward or straight to Closed) and Disposition (No
// Action Needed or Ticket Created, set once, only when Closed) are set by
// people through Tracker.Triage, which rejects anything else with a
// *TransitionError. A new firing that joins a Closed issue reopens it as
// Investigating (and its disposition back to New).
//
// # Stores
//
// Store is a two-method interface: Update (load a cluster's state, apply a
// function, write its Change atomically) and Issues. MemStore keeps
// everything in memory. SQLStore uses database/sql with
// github.com/go-sql-driver/mysql and creates its three tables. On MySQL and
// MariaDB (tested on real MariaDB) every Update is one READ COMMITTED
// transaction (the server's binlog_format must be ROW or MIXED, the
// defaults, for READ COMMITTED) that first locks the cluster's row (SELECT
// ... FOR UPDATE) in
// issue_locks, and message ids are primary keys: several tracker replicas
// may share the tables and still create each issue once (issues are
// upserted with ON DUPLICATE KEY UPDATE col = VALUES(col), which MySQL 8
// accepts with a deprecation warning). On StarRocks
// (primary-key tables; INSERT replaces by key; no row locks, no
// multi-statement transactions) the tracker must be a SINGLE WRITER: run one
// tracker process against the tables; it serialises per cluster in memory,
// and any number of readers may query the tables. The issuestest package
// is the conformance suite every Store passes.
//
// # Errors
//
// ErrInvalidAlert (with *AlertError) for alerts that cannot be ingested,
// ErrBadPayload for webhook bodies, ErrNotFound for unknown issues,
// ErrInvalidTransition (with *TransitionError) for rejected lifecycle
// changes. The webhook answers 4xx to what a retry cannot fix (Alertmanager
// does not retry those) and 503 when the store fails (it retries those).
//
// # Metrics
//
// On Options.Registerer (nil: none): sqlshadow_issues_alerts_received_total,
// _alerts_duplicate_total, _alerts_new_total{status}, _opened_total{kind},
// _resolved_total, _escalations_total, _reopened_total,
// _triage_changes_total{triage_status}, _errors_total, _sink_errors_total,
// _http_requests_total{code}, _webhook_truncated_alerts_total and the
// _ingest_duration_seconds histogram.
//
// # Dataset
//
// With Options.Sink (a sink.Sink of the "issues" dataset), every stored
// change of an issue is written as an IssueRecord, after the store commits.
//
// # Performance
//
// BenchmarkWebhookSQL posts webhooks of 10 new alerts each (one
// Alertmanager group: one of 20 clusters, one rule) from 4 concurrent HTTP
// senders into a Tracker on the SQL store on a real MariaDB 10.11, then
// checks that every alert was stored exactly once and that re-posting
// everything adds nothing. BenchmarkWebhookSQLPaced paces the senders to the
// target, 100 posts/s (1,000 alerts/s) in all. On a 2-core VM shared with
// other builds (load average above 20), figures vary by 2x from run to run:
//
//	go test -run '^$' -bench Webhook -benchtime 1000x ./issues/
//	BenchmarkWebhookSQL-2        1000  190-650 posts/s  1,900-6,500 alerts/s  p50 5-6 ms  p99 21-116 ms
//	BenchmarkWebhookSQLPaced-2   1000  98.8 posts/s     988 alerts/s          p50 6-8 ms  p99 19-67 ms
//	BenchmarkWebhookMem-2        5000  150-1,400 posts/s, p50 0.3 ms (about 120 kB and 1,270
//	                                   allocations per SQL post, 75 kB and 735 in memory)
//
// with no loss and no duplicate in every run.
package issues
