// Package certify certifies a shadow deployment under stress: it runs a
// recipe (a timeline of workloads, operations, chaos events and network
// faults) through the project's own proxy in front of a primary and a
// shadow, and judges the run with assertions into one report and a verdict.
//
// # Recipes
//
// A Recipe is built in Go or read from YAML or JSON (LoadRecipe,
// ParseRecipe). Files are parameterised: ${KEY} is replaced by the value
// given for KEY (${KEY:-default} has a default), and a mistake is a
// *RecipeError naming the line and the field:
//
//	name: restart-shadow
//	primary: ${primary}
//	shadow: ${shadow}
//	user: ${user}
//	targets:
//	  shadow: {start: "${shadow_start}", stop: "${shadow_stop}"}
//	steps:
//	  - workload: {duration: 60s, clients: 4, rate: 50}
//	  - {at: 15s, window: 20s, chaos: {action: restart, target: shadow}}
//	  - {at: 45s, sql: {statements: ["ANALYZE TABLE certify_mixed"]}}
//	assert: {client_errors: 0, lost_records: 0, recovery: 30s}
//
// Steps: a workload (the built-in mixed workload of point selects, range
// aggregates, a session-dependent division and prepared statements, or a
// captured log replayed with package replay), an operation (SQL run through
// the proxy or on a server), a chaos event on a Target (restart or kill,
// at a random time in a window; "random" picks the target), or a network
// fault on the link between the proxy and a server (FaultProxy). A Soak
// samples a process along the run; a Startup times server versions.
//
// # Running and judging
//
// Run starts the proxy (mirror.Proxy with a mirror.Shadow, each server
// behind a FaultProxy), plays the timeline, then reads back the query logs
// the proxy wrote. Each chaos event or fault gets a fault window: from the
// first statement it made fail on its side (the clients' statements for the
// primary, the shadow's records for the shadow) to the last one, within
// Assertions.Recovery after the target was ready again. The assertions:
// client errors outside the windows; query-log records lost (a client
// statement without its primary record) or unpaired (a primary record
// without its shadow record, or the reverse) outside them, with the ones
// inside counted; shadow answers that differ outside them (lost session
// state); each event's recovery under the bound; the proxy still taking
// sessions; each soak series free of growth (FitTrend: the slope and its
// confidence interval, with the bound as the minimum effect); each
// start-up no slower than the first version's (Mann-Whitney U from package
// compare/stats, with a minimum effect). The Report is a compare.Result: its
// verdict maps to the exit codes 0 certified, 1 failed, 3 inconclusive (2:
// the run could not happen), and compare.WriteReports writes it as
// report.json, report.md and a self-contained report.html whose timeline
// shades the fault windows over latency and error rate.
//
// # Lifecycle and errors
//
// Run returns once every goroutine it started (proxy, fault proxies, steps,
// sampler) has ended; it returns an error only when the run could not happen
// or ctx ended. A FaultProxy serves until Close, which joins its
// goroutines. A Process owns one goroutine per process it started, joined by
// Stop and Kill. Errors are *RecipeError for recipes, ErrFaultProxyClosed,
// ErrTooFewPoints, and wrapped errors prefixed "certify:".
package certify
