-- DuckDB: read the query-logs and profiles datasets in place (executed in CI
-- by examples/demo's tests against the demo's output).
-- Replace {{ROOT}} with the bucket root: a directory, or s3://bucket/prefix
-- (after INSTALL httpfs; LOAD httpfs; and CREATE SECRET for S3).

CREATE OR REPLACE VIEW query_logs AS
SELECT * FROM read_json('{{ROOT}}/query-logs/*/*/*/*/*.jsonl*',
  format = 'newline_delimited',
  hive_partitioning = true,
  columns = {
    ts: 'TIMESTAMP', query_id: 'VARCHAR', target: 'VARCHAR', command: 'VARCHAR',
    query_text: 'VARCHAR', query_hash: 'VARCHAR', template_hash: 'VARCHAR', route: 'VARCHAR',
    database: 'VARCHAR', "user": 'VARCHAR', client_addr: 'VARCHAR',
    conn_id: 'UBIGINT', seq: 'UBIGINT', duration_ms: 'DOUBLE', ttfb_ms: 'DOUBLE',
    client_wait_ms: 'DOUBLE', server_conn_id: 'UBIGINT', queue_ms: 'DOUBLE',
    success: 'BOOLEAN', error_code: 'INTEGER', sql_state: 'VARCHAR', error: 'VARCHAR',
    "rows": 'BIGINT', result_hash: 'VARCHAR', columns_hash: 'VARCHAR', float_cols: 'BOOLEAN',
    primary_duration_ms: 'DOUBLE', primary_success: 'BOOLEAN', primary_error_code: 'INTEGER',
    primary_rows: 'BIGINT', primary_result_hash: 'VARCHAR',
    primary_client_wait_ms: 'DOUBLE', primary_columns_hash: 'VARCHAR',
    bytes_sent: 'BIGINT', bytes_recv: 'BIGINT',
    filtered: 'BOOLEAN', filter_reason: 'VARCHAR', dropped: 'BOOLEAN', diverged: 'BOOLEAN'
  });

-- The primary-vs-shadow comparison per route (or query template): shadow
-- records carry the primary's outcome of the same command, so no join is
-- needed. Filtered, dropped and diverged records are left out of verdicts.
SELECT
  coalesce(route, template_hash, command)                            AS grp,
  count(*)                                                  AS pairs,
  round(quantile_cont(primary_duration_ms, 0.50), 3)        AS primary_p50_ms,
  round(quantile_cont(duration_ms, 0.50), 3)                AS shadow_p50_ms,
  round(quantile_cont(primary_duration_ms, 0.99), 3)        AS primary_p99_ms,
  round(quantile_cont(duration_ms, 0.99), 3)                AS shadow_p99_ms,
  round(quantile_cont(duration_ms, 0.50)
        / nullif(quantile_cont(primary_duration_ms, 0.50), 0), 2) AS p50_ratio,
  count(*) FILTER (WHERE primary_success AND NOT success)  AS shadow_only_failures,
  count(*) FILTER (WHERE primary_success AND success
                   AND result_hash IS DISTINCT FROM primary_result_hash) AS result_mismatches
FROM query_logs
WHERE target = 'shadow'
  AND NOT coalesce(filtered, false)
  AND NOT coalesce(dropped, false)
  AND NOT coalesce(diverged, false)
GROUP BY grp
ORDER BY p50_ratio DESC NULLS LAST;

CREATE OR REPLACE VIEW profiles AS
SELECT * FROM read_json('{{ROOT}}/profiles/*/*/*/*/*.jsonl*',
  format = 'newline_delimited', hive_partitioning = true, union_by_name = true);
