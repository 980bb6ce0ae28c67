// Package replica builds an obfuscated, self-contained copy of a workload
// that can be handed to someone else: the "customer query replica". From a
// list of statements and a connection to the source, Build writes a
// directory holding
//
//   - schema.sql: CREATE DATABASE and CREATE TABLE of every table the
//     statements read (SHOW CREATE TABLE on the source, AUTO_INCREMENT
//     counters removed), obfuscated;
//   - data/<database>.<table>.sql: synthetic rows, one INSERT per line;
//   - statements.jsonl: the statements, obfuscated, one JSON object
//     {"sql", "database"} per line;
//   - summary.json: the coverage (Summary);
//   - mapping.json, only when Options.Mapping is set: every replacement and
//     its original (Mapping).
//
// Load creates the schema in a target and inserts the rows in one call;
// ReadStatements reads the statements back for a replay.
//
//	sum, err := replica.Build(ctx, src, key, stmts, "out/", nil)
//	...
//	err = replica.Load(ctx, target, "out/")
//
// # Obfuscation
//
// Identifiers (schemas, tables, columns, aliases, index and constraint
// names) and literals are replaced by hashing.Obfuscator under the user's
// key: an HMAC-SHA256 of the lower-case name, written as "o" and nine
// base-32 characters, so the same key gives the same names across runs and
// across the schema and every statement, and nobody without the key can
// reverse them. Literals keep their type and shape (strings their length,
// dates stay valid dates of the same year, integers their digit count),
// and equal literals get equal replacements, so joins and ENUM values keep
// matching. Numbers in the schema are kept (they are type lengths,
// defaults, CHECK and partition bounds); its strings (ENUM members,
// defaults, comments) are replaced. Numbers and dates are not replaced in order, so the bounds of a
// range can come out inverted; Build swaps such bounds back (counted in
// Summary.RangesReordered), which reveals only that the range was not
// empty.
//
// # Synthetic data
//
// Build parses every obfuscated statement (with the TiDB parser) and plans
// one row per table it names (per alias), each column's value chosen to
// satisfy the statement's filters: equality and the first IN value, ranges
// (BETWEEN, <, <=, >, >=) matched within the column's type, LIKE patterns,
// IS NULL, and join and IN-subquery columns given one shared value, through
// CTEs, derived tables and correlated subqueries. Of a disjunction, the
// first branch is satisfied. Options.Copies rows are made per statement (or
// OFFSET+1 with LIMIT ... OFFSET), most constrained statements first, then
// Options.Rows filler rows per table. Every row honours the column types,
// NOT NULL, and the primary and unique keys; generated columns are left to
// the server. Rows come from a random generator seeded by the key, so the
// same key and input give the same replica. Predicates on expressions
// (DATE(col) = ..., JSON_EXTRACT(...)), HAVING thresholds and NOT predicates
// are not planned: such a statement runs, and returns rows when the filler
// happens to match.
//
// # What is left out
//
// Only queries (SELECT, UNION, WITH) are replicated. A statement the parser
// rejects, one that reads a view, one whose table is missing or whose
// definition is not understood, and one with an unqualified table and no
// default database are left out and listed in Summary.Skipped with their
// input position; that is never fatal. Tables of the system schemas
// (information_schema, mysql, ...) are not copied.
//
// # Errors and concurrency
//
// Build fails on I/O errors, when ctx ends, when the source fails for a
// reason other than a missing table, and with ErrNotEmpty when the output
// directory is not empty. Load fails on the first statement the target
// rejects, naming the file and line. The functions keep no state between
// calls and start no goroutines; calls may run concurrently on different
// directories.
package replica
