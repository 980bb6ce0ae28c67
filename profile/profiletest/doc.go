// Package profiletest simulates StarRocks frontends (FEs) in process, for the
// tests of profile collectors, ours and yours.
//
// An FE serves, on 127.0.0.1, what a real one serves to a collector, as
// described in the project's reference notes on the FE HTTP API:
//
//   - GET /api/query_detail?event_time=N: a bare JSON array (Content-Type
//     text/html) of the records of this FE's queue whose eventTime is greater
//     than N, Gson-style (Java field order, nulls omitted, < > & = ' escaped
//     as \u003c ...). eventTime is wall-clock milliseconds times 10^6 plus a
//     per-millisecond counter: above 2^53 (a client decoding it into a
//     float64 corrupts it). A missing event_time is a 400 "not
//     valid parameter", a non-numeric one a 500.
//   - Every statement appears twice: RUNNING when it begins, then FINISHED or
//     FAILED with a new eventTime and its statistics. Records expire after
//     Options.Retention (30 s) by a task that runs every 5 s. Connection
//     events (Login) have no sql and isQuery=false. A statement can also be
//     recorded by a second FE (Query.AlsoOn), as forwarded statements are.
//   - GET /api/profile?query_id=ID: the profile text, 404 "query id ID not
//     found." when there is none or it is not yet visible
//     (Query.ProfileDelay, as with enable_async_profile); FIFO-capped at 500.
//   - With Options.V2, /api/v2/query_detail and /api/v2/profile with their
//     {"code","message","result"} wrapper.
//   - Three authentication modes (AuthNone as 3.2, AuthBasic as 3.3+,
//     AuthBasicOperate as enable_http_auth=true), with the FE's 401 body and
//     WWW-Authenticate header.
//   - /api/bootstrap (with the FE start time when given the cluster token),
//     /api/health and a minimal /metrics.
//   - Failure injection (Fail), restarts that lose the queue (Restart), and
//     a manual Clock, HTTPS (Options.TLS), and SampleProfile, a profile in
//     the real 3.5 text format.
//
// TestProfileSource is the conformance suite of profile.ProfileSource: every
// implementation (the StarRocks FE source, the performance_schema source,
// yours) runs it.
//
// FEs are safe for concurrent use. Each starts one HTTP server; Close stops it.
package profiletest
