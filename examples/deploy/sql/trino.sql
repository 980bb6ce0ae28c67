-- Trino (Hive connector): external tables over the datasets in place.
-- NOT EXECUTED IN CI (no Trino here); checked by hand against Trino 4xx.
-- Replace s3://sqlshadow-logs with your bucket root.

CREATE SCHEMA IF NOT EXISTS hive.sqlshadow WITH (location = 's3://sqlshadow-logs/');

CREATE TABLE IF NOT EXISTS hive.sqlshadow.query_logs (
  ts VARCHAR, query_id VARCHAR, target VARCHAR, command VARCHAR,
  query_text VARCHAR, query_hash VARCHAR, template_hash VARCHAR, route VARCHAR,
  database VARCHAR, "user" VARCHAR, client_addr VARCHAR,
  conn_id BIGINT, seq BIGINT, duration_ms DOUBLE, ttfb_ms DOUBLE, client_wait_ms DOUBLE,
  server_conn_id BIGINT, queue_ms DOUBLE, success BOOLEAN, error_code INTEGER,
  sql_state VARCHAR, error VARCHAR, "rows" BIGINT, result_hash VARCHAR,
  columns_hash VARCHAR, float_cols BOOLEAN,
  primary_duration_ms DOUBLE, primary_success BOOLEAN, primary_error_code INTEGER,
  primary_rows BIGINT, primary_result_hash VARCHAR,
  primary_client_wait_ms DOUBLE, primary_columns_hash VARCHAR,
  bytes_sent BIGINT, bytes_recv BIGINT,
  filtered BOOLEAN, filter_reason VARCHAR, dropped BOOLEAN, diverged BOOLEAN,
  year VARCHAR, month VARCHAR, day VARCHAR, hour VARCHAR
) WITH (
  external_location = 's3://sqlshadow-logs/query-logs/',
  format = 'JSON',
  partitioned_by = ARRAY['year', 'month', 'day', 'hour']
);

-- New partitions appear every hour: register them (or schedule this).
CALL hive.system.sync_partition_metadata('sqlshadow', 'query_logs', 'ADD');

-- The primary-vs-shadow comparison (ts parses with from_iso8601_timestamp).
SELECT
  coalesce(route, template_hash, command) AS grp,
  count(*) AS pairs,
  approx_percentile(primary_duration_ms, 0.5) AS primary_p50_ms,
  approx_percentile(duration_ms, 0.5) AS shadow_p50_ms,
  approx_percentile(primary_duration_ms, 0.99) AS primary_p99_ms,
  approx_percentile(duration_ms, 0.99) AS shadow_p99_ms,
  count_if(primary_success AND NOT success) AS shadow_only_failures,
  count_if(primary_success AND success AND result_hash IS DISTINCT FROM primary_result_hash) AS result_mismatches
FROM hive.sqlshadow.query_logs
WHERE target = 'shadow'
  AND NOT coalesce(filtered, false) AND NOT coalesce(dropped, false) AND NOT coalesce(diverged, false)
  AND year = '2026' AND month = '11'
GROUP BY 1
ORDER BY 4 / nullif(3, 0) DESC;

-- Parquet variant (-log-format parquet): the same layout, read in place
-- with the types of the Parquet schema (ts: TIMESTAMP MICROS, UTC).
CREATE TABLE IF NOT EXISTS hive.sqlshadow.query_logs_parquet (
  ts TIMESTAMP(6) WITH TIME ZONE, query_id VARCHAR, target VARCHAR, command VARCHAR,
  query_text VARCHAR, query_hash VARCHAR, template_hash VARCHAR, route VARCHAR,
  database VARCHAR, "user" VARCHAR, client_addr VARCHAR,
  conn_id BIGINT, seq BIGINT, duration_ms DOUBLE, ttfb_ms DOUBLE, client_wait_ms DOUBLE,
  server_conn_id BIGINT, queue_ms DOUBLE, success BOOLEAN, error_code BIGINT,
  sql_state VARCHAR, error VARCHAR, "rows" BIGINT, result_hash VARCHAR,
  columns_hash VARCHAR, float_cols BOOLEAN,
  primary_duration_ms DOUBLE, primary_success BOOLEAN, primary_error_code BIGINT,
  primary_rows BIGINT, primary_result_hash VARCHAR,
  primary_client_wait_ms DOUBLE, primary_columns_hash VARCHAR,
  bytes_sent BIGINT, bytes_recv BIGINT,
  filtered BOOLEAN, filter_reason VARCHAR, dropped BOOLEAN, diverged BOOLEAN,
  year VARCHAR, month VARCHAR, day VARCHAR, hour VARCHAR
) WITH (
  external_location = 's3://sqlshadow-logs/query-logs/',
  format = 'PARQUET',
  partitioned_by = ARRAY['year', 'month', 'day', 'hour']
);

CALL hive.system.sync_partition_metadata('sqlshadow', 'query_logs_parquet', 'ADD');
