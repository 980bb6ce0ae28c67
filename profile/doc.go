// Package profile collects execution profiles and statistics from the engines
// (StarRocks FEs, MySQL/MariaDB performance_schema) and writes them with the
// same query and template hashes as the query logs.
package profile
