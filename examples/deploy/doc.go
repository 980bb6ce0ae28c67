// Package deploy holds no code: it is the deployment material of sqlshadow
// (Kubernetes manifests, Prometheus alert rules, an Alertmanager example, a
// Grafana dashboard, and external-table DDL for DuckDB, Trino, BigQuery and
// StarRocks). Its tests check that material: manifests decode strictly into
// Kubernetes API types, rules pass promtool, the Alertmanager example passes
// amtool, and every metric the rules and dashboard name exists in the
// binaries' registries.
package deploy
