/* SQL fragments every statement that writes metric points shares (the
 * per-request path and the group commit in store_metrics.c, the
 * one-statement log-batch in store_batch.c). String literals only. */
#ifndef ET_SERVER_STORE_METRICS_SQL_H
#define ET_SERVER_STORE_METRICS_SQL_H

/* metric_blocks (schema/0009_metric_blocks.sql, 0028_block_points.sql) is
 * raised by every write: a block (256 steps: step >> 8) counts the points
 * inserted into it, and keeps its lowest and highest non-NaN value with the
 * point that carries each (the first by step and timestamp among equal
 * values) and its first and last point by (step, timestamp, value). Rows
 * come sorted by (run, key, block), so concurrent writes lock blocks in one
 * order. BLOCKS_UPSERT is the conflict clause of every such insert (table
 * alias b): a kept point is replaced only by one that comes before it in
 * its order, so the blocks end the same whatever the order and grouping of
 * the writes. BLOCKS_COLUMNS is the insert's column list. BLOCKS_SELECT
 * "FROM src" BLOCKS_GROUP raises the blocks of the points in src, a CTE
 * with the columns run_id, key_id, step, timestamp and value that holds only
 * points really inserted (stored twins are not counted); the extremes are
 * picked as 0028 explains (min and max of exact float8 arrays). */
#define BLOCKS_MIN_BEATS                                                                           \
    " b.vmin IS NULL OR (EXCLUDED.vmin, EXCLUDED.min_step, EXCLUDED.min_ts)"                       \
    "   < (b.vmin, b.min_step, b.min_ts)"
#define BLOCKS_MAX_BEATS                                                                           \
    " b.vmax IS NULL OR (EXCLUDED.vmax, b.max_step, b.max_ts)"                                     \
    "   > (b.vmax, EXCLUDED.max_step, EXCLUDED.max_ts)"
#define BLOCKS_FIRST_BEATS                                                                         \
    " (EXCLUDED.first_step, EXCLUDED.first_ts, EXCLUDED.first_value)"                              \
    "   < (b.first_step, b.first_ts, b.first_value)"
#define BLOCKS_LAST_BEATS                                                                          \
    " (EXCLUDED.last_step, EXCLUDED.last_ts, EXCLUDED.last_value)"                                 \
    "   > (b.last_step, b.last_ts, b.last_value)"
#define BLOCKS_UPSERT                                                                              \
    " ON CONFLICT (run_id, key_id, block) DO UPDATE SET n = b.n + EXCLUDED.n,"                     \
    "  vmin = CASE WHEN" BLOCKS_MIN_BEATS " THEN EXCLUDED.vmin ELSE b.vmin END,"                   \
    "  min_step = CASE WHEN" BLOCKS_MIN_BEATS " THEN EXCLUDED.min_step ELSE b.min_step END,"       \
    "  min_ts = CASE WHEN" BLOCKS_MIN_BEATS " THEN EXCLUDED.min_ts ELSE b.min_ts END,"             \
    "  vmax = CASE WHEN" BLOCKS_MAX_BEATS " THEN EXCLUDED.vmax ELSE b.vmax END,"                   \
    "  max_step = CASE WHEN" BLOCKS_MAX_BEATS " THEN EXCLUDED.max_step ELSE b.max_step END,"       \
    "  max_ts = CASE WHEN" BLOCKS_MAX_BEATS " THEN EXCLUDED.max_ts ELSE b.max_ts END,"             \
    "  first_step = CASE WHEN" BLOCKS_FIRST_BEATS " THEN EXCLUDED.first_step"                      \
    "    ELSE b.first_step END,"                                                                   \
    "  first_ts = CASE WHEN" BLOCKS_FIRST_BEATS " THEN EXCLUDED.first_ts ELSE b.first_ts END,"     \
    "  first_value = CASE WHEN" BLOCKS_FIRST_BEATS " THEN EXCLUDED.first_value"                    \
    "    ELSE b.first_value END,"                                                                  \
    "  last_step = CASE WHEN" BLOCKS_LAST_BEATS " THEN EXCLUDED.last_step ELSE b.last_step END,"   \
    "  last_ts = CASE WHEN" BLOCKS_LAST_BEATS " THEN EXCLUDED.last_ts ELSE b.last_ts END,"         \
    "  last_value = CASE WHEN" BLOCKS_LAST_BEATS " THEN EXCLUDED.last_value"                       \
    "    ELSE b.last_value END"
#define BLOCKS_COLUMNS                                                                             \
    " (run_id, key_id, block, n, vmin, vmax, min_step, min_ts, max_step, max_ts,"                  \
    "  first_step, first_ts, first_value, last_step, last_ts, last_value)"
#define BLOCKS_SELECT                                                                              \
    " INSERT INTO metric_blocks AS b" BLOCKS_COLUMNS                                               \
    " SELECT run_id, key_id, block, n, lo[1], hi[1],"                                              \
    "   (block << 8) + lo[2]::bigint, (lo[3]::bigint << 32) + lo[4]::bigint,"                      \
    "   (block << 8) + (-hi[2])::bigint, ((-hi[3])::bigint << 32) + (-hi[4])::bigint,"             \
    "   (block << 8) + f[1]::bigint, (f[2]::bigint << 32) + f[3]::bigint, f[4],"                   \
    "   (block << 8) + l[1]::bigint, (l[2]::bigint << 32) + l[3]::bigint, l[4]"                    \
    " FROM (SELECT run_id, key_id, step >> 8 AS block, count(*) AS n,"                             \
    "   min(ARRAY[value, (step & 255)::float8, (timestamp >> 32)::float8,"                         \
    "     (timestamp & 4294967295)::float8]) FILTER (WHERE value <> 'NaN') AS lo,"                 \
    "   max(ARRAY[value, -(step & 255)::float8, -(timestamp >> 32)::float8,"                       \
    "     -(timestamp & 4294967295)::float8]) FILTER (WHERE value <> 'NaN') AS hi,"                \
    "   min(ARRAY[(step & 255)::float8, (timestamp >> 32)::float8,"                                \
    "     (timestamp & 4294967295)::float8, value]) AS f,"                                         \
    "   max(ARRAY[(step & 255)::float8, (timestamp >> 32)::float8,"                                \
    "     (timestamp & 4294967295)::float8, value]) AS l"
#define BLOCKS_GROUP " GROUP BY 1, 2, 3) g ORDER BY 1, 2, 3" BLOCKS_UPSERT

/* The conflict clause of an insert into latest_metrics AS l: a point
 * replaces the stored one when it beats it by (step, timestamp, value)
 * with NaN counted as 0, MLflow's rule; ties keep what is there. */
#define LATEST_UPSERT                                                                              \
    " ON CONFLICT (run_id, key_id) DO UPDATE"                                                      \
    "  SET step = EXCLUDED.step, timestamp = EXCLUDED.timestamp, value = EXCLUDED.value"           \
    "  WHERE (EXCLUDED.step, EXCLUDED.timestamp,"                                                  \
    "         CASE WHEN EXCLUDED.value = 'NaN' THEN 0 ELSE EXCLUDED.value END)"                    \
    "      > (l.step, l.timestamp, CASE WHEN l.value = 'NaN' THEN 0 ELSE l.value END)"

#endif
