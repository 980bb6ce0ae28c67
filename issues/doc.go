// Package issues turns alerts from many clusters into a few actionable
// issues: it ingests alerts idempotently (Alertmanager webhooks, or any
// source through Tracker.Ingest), groups them into issues, escalates, and
// tracks each issue's lifecycle. A Tracker is safe for concurrent use; it
// serialises the ingestion of each cluster within the process, and its
// Store serialises it across processes (or has a single writer).
//
// # Wiring
//
//	store, err := issues.NewSQLStore(ctx, db, nil)    // or issues.NewMemoryStore()
//	tr := issues.NewTracker(store, &issues.TrackerOptions{Registerer: reg, Logger: log})
//	mux.Handle("/webhook/alertmanager", issues.NewWebhookHandler(tr, &issues.WebhookHandlerOptions{Token: tok}))
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
// first of TrackerOptions.ClusterLabels present (default cluster_id, then
// cluster).
//
// A source with ids of its own (a chat message and the alert's place in
// it) sets Alert.ID instead: the firing is stored under that id as-is, its
// resolution under the id + "/resolved" (ResolvedSuffix), and the rest
// behaves the same.
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
// expiry on the tracker's clock (TrackerOptions.Now), both at ingestion and in
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
// function, write its Change atomically) and Issues. MemoryStore keeps
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
// and any number of readers may query the tables. issuestest.TestStore is
// the conformance suite every Store passes. NewSQLStore adds what later
// versions need to tables an earlier one created (the messages'
// alert_source column and (cluster, starts_at) index).
//
// MemoryStore and SQLStore are also a MessageLister (the API's alerts of
// an issue) and a FiringCounter: the number of a cluster's firing alerts
// in a time window, whatever their source, for the health score's alert
// part (scoring.AlertCounterFunc(store.CountFiring)).
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
// On TrackerOptions.Registerer (nil: none): sqlshadow_issues_alerts_received_total,
// _alerts_duplicate_total, _alerts_new_total{status}, _opened_total{kind},
// _resolved_total, _escalations_total, _reopened_total,
// _triage_changes_total{triage_status}, _errors_total, _sink_errors_total,
// _http_requests_total{code}, _webhook_truncated_alerts_total and the
// _ingest_duration_seconds histogram.
//
// # Dataset
//
// With TrackerOptions.Sink (a sink.Sink of the dataset.Issues dataset),
// every stored change of an issue is written as a dataset.Issue record,
// after the store commits.
//
// Performance figures, with the commands that reproduce them, are in
// docs/performance.md.
package issues
