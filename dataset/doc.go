// Package dataset defines the public datasets sqlshadow writes: their names,
// their record types and the JSON encoding of each record. It is the one
// place the data contract lives; docs/datasets.md describes it for people and
// docs/schema holds one JSON Schema per dataset, generated from these types.
//
// Every dataset is written by package sink as JSON Lines under a Hive-style
// layout, one record per line, partitioned by the record's own timestamp:
//
//	<root>/<dataset>/year=YYYY/month=MM/day=DD/hour=HH/YYYYMMDD_HHMMSS_<8 hex>.jsonl[.gz]
//
// A writer may choose Parquet instead (package sink/parquet), with a schema
// built from the same types: one definition, two encodings.
//
// The datasets and their producers:
//
//	QueryLogs     QueryLog      package mirror: one record per command per target
//	Profiles      Profile       package profile: statements, gaps and digests of each engine
//	HealthScores  HealthScore   package scoring: one health score per cluster per evaluation
//	SentinelTasks SentinelTask  package scoring: one record per sentinel trigger that fired
//	Issues        Issue         package issues: an issue's state after each change
//
// Readers (package compare, and other engines) read the same types. A
// QueryLog is encoded without reflection by AppendJSON and decoded by a
// QueryLogDecoder, which reads every field of the type and skips fields it
// does not know, so logs of other producers with the same field names (such
// as the open-source StarRocks shadow proxy's) decode too. The other records
// use encoding/json.
//
// Compatibility: a field keeps its name, type and meaning once released;
// new fields may be added, and readers ignore fields they do not know.
// Optional fields are omitted when unknown, never written as zero.
package dataset
