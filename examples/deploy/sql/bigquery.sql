-- BigQuery: an external table with Hive partitioning over GCS.
-- NOT EXECUTED IN CI (no BigQuery here).
-- Replace my_project.sqlshadow and gs://sqlshadow-logs with yours.

CREATE OR REPLACE EXTERNAL TABLE `my_project.sqlshadow.query_logs` (
  ts TIMESTAMP, query_id STRING, target STRING, command STRING,
  query_text STRING, query_hash STRING, template_hash STRING, route STRING,
  database STRING, user STRING, client_addr STRING,
  conn_id INT64, seq INT64, duration_ms FLOAT64, ttfb_ms FLOAT64, client_wait_ms FLOAT64,
  server_conn_id INT64, queue_ms FLOAT64, success BOOL, error_code INT64,
  sql_state STRING, error STRING, rows INT64, result_hash STRING,
  columns_hash STRING, float_cols BOOL,
  primary_duration_ms FLOAT64, primary_success BOOL, primary_error_code INT64,
  primary_rows INT64, primary_result_hash STRING,
  primary_client_wait_ms FLOAT64, primary_columns_hash STRING,
  bytes_sent INT64, bytes_recv INT64,
  filtered BOOL, filter_reason STRING, dropped BOOL, diverged BOOL
)
WITH PARTITION COLUMNS (year INT64, month INT64, day INT64, hour INT64)
OPTIONS (
  format = 'NEWLINE_DELIMITED_JSON',
  uris = ['gs://sqlshadow-logs/query-logs/*'],
  hive_partition_uri_prefix = 'gs://sqlshadow-logs/query-logs',
  require_hive_partition_filter = true,
  ignore_unknown_values = true
);

SELECT
  COALESCE(route, template_hash, command) AS grp,
  COUNT(*) AS pairs,
  APPROX_QUANTILES(primary_duration_ms, 100)[OFFSET(50)] AS primary_p50_ms,
  APPROX_QUANTILES(duration_ms, 100)[OFFSET(50)] AS shadow_p50_ms,
  APPROX_QUANTILES(primary_duration_ms, 100)[OFFSET(99)] AS primary_p99_ms,
  APPROX_QUANTILES(duration_ms, 100)[OFFSET(99)] AS shadow_p99_ms,
  COUNTIF(primary_success AND NOT success) AS shadow_only_failures,
  COUNTIF(primary_success AND success AND result_hash IS DISTINCT FROM primary_result_hash) AS result_mismatches
FROM `my_project.sqlshadow.query_logs`
WHERE target = 'shadow'
  AND NOT IFNULL(filtered, FALSE) AND NOT IFNULL(dropped, FALSE) AND NOT IFNULL(diverged, FALSE)
  AND year = 2026 AND month = 11
GROUP BY grp
ORDER BY SAFE_DIVIDE(shadow_p50_ms, primary_p50_ms) DESC;

-- Parquet variant (-log-format parquet): the same layout, read in place
-- with the types of the Parquet schema.
CREATE OR REPLACE EXTERNAL TABLE `my_project.sqlshadow.query_logs_parquet` (
  ts TIMESTAMP, query_id STRING, target STRING, command STRING,
  query_text STRING, query_hash STRING, template_hash STRING, route STRING,
  database STRING, user STRING, client_addr STRING,
  conn_id INT64, seq INT64, duration_ms FLOAT64, ttfb_ms FLOAT64, client_wait_ms FLOAT64,
  server_conn_id INT64, queue_ms FLOAT64, success BOOL, error_code INT64,
  sql_state STRING, error STRING, rows INT64, result_hash STRING,
  columns_hash STRING, float_cols BOOL,
  primary_duration_ms FLOAT64, primary_success BOOL, primary_error_code INT64,
  primary_rows INT64, primary_result_hash STRING,
  primary_client_wait_ms FLOAT64, primary_columns_hash STRING,
  bytes_sent INT64, bytes_recv INT64,
  filtered BOOL, filter_reason STRING, dropped BOOL, diverged BOOL
)
WITH PARTITION COLUMNS (year INT64, month INT64, day INT64, hour INT64)
OPTIONS (
  format = 'PARQUET',
  uris = ['gs://sqlshadow-logs/query-logs/*.parquet'],
  hive_partition_uri_prefix = 'gs://sqlshadow-logs/query-logs',
  require_hive_partition_filter = true
);
