// Package investigate turns a sentinel task (package scoring's triggers)
// or one finding of a shadow report (package compare/shadow) into a
// Finding: a typed, evidenced root cause with hypotheses, evidence items,
// recommendations and the log of every tool call made.
//
// Evidence is gathered deterministically first, by tools behind small
// interfaces, one per step: Clusters (cluster info and sibling clusters;
// Inventory), Alerts (the issues store; StoreAlerts), Metrics (Prometheus'
// HTTP API; Prometheus, with the same PromQL as package scoring),
// Operations (START, STOP and UPDATE events; SQLOperations,
// MemoryOperations), Knowledge (runbooks and known bugs; package
// investigate/knowledge), FindingStore (past investigations;
// SQLFindingStore, MemoryFindingStore), Querier (ad-hoc read-only SQL;
// SQLQuerier) and ShadowSide (EXPLAIN of both sides and their variable
// drift; SQLShadowSide). A Reasoner then writes the Finding: Rules, the
// deterministic reasoner, always runs; a model reasoner (Options.Model)
// may write it instead, from the same evidence and the same tools
// (Toolbox), and its answer must pass Finding.Validate.
//
// Use:
//
//	inv := investigate.New(investigate.Tools{Alerts: ..., Metrics: ..., Knowledge: ...}, nil)
//	f, err := inv.Investigate(ctx, investigate.Task{Sentinel: &task})
//
// A root cause says "Possible root cause: " unless it is confirmed; the
// rules never confirm one on their own. Everything that leaves the process
// through a Toolbox (to a model, an MCP client) is masked (MaskText,
// MaskSQL): quoted literals, e-mail addresses, credentials and long
// numbers. Findings repeat under the same Fingerprint (subject and
// category), so a store groups them. The Findings dataset holds Finding
// records as JSON Lines, like the datasets of docs/datasets.md.
//
// # Lifecycle
//
// An Investigator holds no goroutine and nothing to close; it is safe for
// concurrent use. Each investigation runs within Options.Budget: steps
// still to run when it is spent are skipped and noted, and the finding is
// written from what was gathered. The SQL tools use a *sql.DB the caller
// owns and closes.
//
// # Errors
//
// A tool that fails does not fail the investigation: the call's error is
// in the tool-call log and in Finding.Notes. Investigate fails only for an
// invalid Task, or when the model reasoner fails: it then returns the
// deterministic Finding together with the error (a *ModelError matching
// ErrBadModelAnswer when the answer is not a valid Finding). Other errors:
// ErrNotFound (an unknown cluster), ErrNotReadOnly (ad-hoc SQL that could
// change something), ErrNoTool (a tool not configured), *SchemaError (an
// invalid Finding).
package investigate
