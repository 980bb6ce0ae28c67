-- DuckDB: the query-logs dataset written as Parquet (-log-format parquet),
-- read in place (executed in CI by examples/deploy's tests against objects
-- the sink wrote). duckdb.sql reads the JSON Lines objects; a bucket holding
-- both reads whole with the two views' UNION ALL BY NAME.
-- Replace {{ROOT}} with the bucket root: a directory, or s3://bucket/prefix
-- (after INSTALL httpfs; LOAD httpfs; and CREATE SECRET for S3).

-- The Parquet files carry their schema: ts is TIMESTAMP WITH TIME ZONE,
-- integers BIGINT, fields the JSON omits are NULL.
CREATE OR REPLACE VIEW query_logs AS
SELECT * FROM read_parquet('{{ROOT}}/query-logs/*/*/*/*/*.parquet',
  hive_partitioning = true, union_by_name = true);

-- The primary-vs-shadow comparison, as in duckdb.sql.
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
