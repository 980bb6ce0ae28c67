-- StarRocks. NOT EXECUTED IN CI (no StarRocks here).
-- Replace the bucket, region and credentials with yours.
--
-- First option: the writers run with -log-format parquet, and StarRocks
-- reads the Parquet objects in place with FILES(): no load step. The
-- Parquet schema gives the types: ts is DATETIME (TIMESTAMP MICROS, UTC),
-- integers BIGINT, floats DOUBLE, flags BOOLEAN, text STRING; fields the
-- JSON omits are NULL.

CREATE DATABASE IF NOT EXISTS sqlshadow;

CREATE VIEW IF NOT EXISTS sqlshadow.query_logs_parquet AS
SELECT
  ts, query_id, target, command, query_text, query_hash, template_hash, route, `database`, `user`, client_addr, conn_id, seq, duration_ms, ttfb_ms, client_wait_ms, server_conn_id, queue_ms, success, error_code, sql_state, error, `rows`, result_hash, columns_hash, float_cols, primary_duration_ms, primary_client_wait_ms, primary_success, primary_error_code, primary_rows, primary_result_hash, primary_columns_hash, bytes_sent, bytes_recv, filtered, filter_reason, dropped, diverged
FROM FILES(
  "path" = "s3://sqlshadow-logs/query-logs/*/*/*/*/*.parquet",
  "format" = "parquet",
  "aws.s3.region" = "us-east-1",
  "aws.s3.use_instance_profile" = "true"
);

-- One hour, read in place (the comparison below works on either table).
SELECT target, count(*), percentile_approx(duration_ms, 0.5) AS p50_ms
FROM FILES(
  "path" = "s3://sqlshadow-logs/query-logs/year=2026/month=11/day=22/hour=14/*",
  "format" = "parquet",
  "aws.s3.region" = "us-east-1",
  "aws.s3.use_instance_profile" = "true"
)
GROUP BY target;

-- Second option, for JSON Lines logs: FILES() does not read JSON Lines, so
-- they are loaded into a native table with Broker Load (JSON format) per
-- hour partition, or read through a Hive catalog over the table that
-- trino.sql defines.

CREATE TABLE IF NOT EXISTS sqlshadow.query_logs (
  ts DATETIME, query_id VARCHAR(64), target VARCHAR(16), command VARCHAR(32),
  query_hash VARCHAR(32), template_hash VARCHAR(32), route VARCHAR(256),
  query_text STRING, `database` VARCHAR(256), `user` VARCHAR(256), client_addr VARCHAR(64),
  conn_id BIGINT, seq BIGINT, duration_ms DOUBLE, ttfb_ms DOUBLE, client_wait_ms DOUBLE,
  server_conn_id BIGINT, queue_ms DOUBLE, success BOOLEAN, error_code INT,
  sql_state VARCHAR(8), error STRING, `rows` BIGINT, result_hash VARCHAR(64),
  columns_hash VARCHAR(64), float_cols BOOLEAN,
  primary_duration_ms DOUBLE, primary_success BOOLEAN, primary_error_code INT,
  primary_rows BIGINT, primary_result_hash VARCHAR(64),
  primary_client_wait_ms DOUBLE, primary_columns_hash VARCHAR(64),
  bytes_sent BIGINT, bytes_recv BIGINT,
  filtered BOOLEAN, filter_reason VARCHAR(64), dropped BOOLEAN, diverged BOOLEAN
)
DUPLICATE KEY (ts, query_id)
PARTITION BY date_trunc('day', ts)
DISTRIBUTED BY HASH (query_id);

-- One hour of logs (schedule it per hour; the label makes it idempotent).
LOAD LABEL sqlshadow.query_logs_2026112214
(
  DATA INFILE ("s3://sqlshadow-logs/query-logs/year=2026/month=11/day=22/hour=14/*")
  INTO TABLE query_logs
  FORMAT AS "json"
)
WITH BROKER
(
  "aws.s3.region" = "us-east-1",
  "aws.s3.use_instance_profile" = "true"
);

SELECT
  coalesce(route, template_hash, command) AS grp,
  count(*) AS pairs,
  percentile_approx(primary_duration_ms, 0.5) AS primary_p50_ms,
  percentile_approx(duration_ms, 0.5) AS shadow_p50_ms,
  percentile_approx(primary_duration_ms, 0.99) AS primary_p99_ms,
  percentile_approx(duration_ms, 0.99) AS shadow_p99_ms,
  sum(if(primary_success AND NOT success, 1, 0)) AS shadow_only_failures,
  sum(if(primary_success AND success AND result_hash <> primary_result_hash, 1, 0)) AS result_mismatches
FROM sqlshadow.query_logs
WHERE target = 'shadow'
  AND NOT ifnull(filtered, false) AND NOT ifnull(dropped, false) AND NOT ifnull(diverged, false)
GROUP BY 1
ORDER BY shadow_p50_ms / nullif(primary_p50_ms, 0) DESC;
