/* SQL fragments every statement that writes metric points shares (the
 * per-request path and the group commit in store_metrics.c, the
 * one-statement log-batch in store_batch.c). String literals only. */
#ifndef ET_SERVER_STORE_METRICS_SQL_H
#define ET_SERVER_STORE_METRICS_SQL_H

/* metric_blocks (schema/0009_metric_blocks.sql) is raised by every write:
 * a block (256 steps: step >> 8) counts the points inserted into it, its
 * lowest and highest non-NaN value widen. Rows come sorted by (run, key,
 * block), so concurrent writes lock blocks in one order. BLOCKS_UPSERT is
 * the conflict clause of every such insert. BLOCKS_SELECT "FROM src"
 * BLOCKS_GROUP raises the blocks of the points in src, a CTE with the
 * columns run_id, key_id, step and value that holds only points really
 * inserted (stored twins are not counted). */
#define BLOCKS_UPSERT                                                                              \
    " ON CONFLICT (run_id, key_id, block) DO UPDATE"                                               \
    "  SET n = b.n + EXCLUDED.n, vmin = least(b.vmin, EXCLUDED.vmin),"                             \
    "      vmax = greatest(b.vmax, EXCLUDED.vmax)"
#define BLOCKS_SELECT                                                                              \
    " INSERT INTO metric_blocks AS b (run_id, key_id, block, n, vmin, vmax)"                       \
    " SELECT run_id, key_id, step >> 8, count(*), min(value) FILTER (WHERE value <> 'NaN'),"       \
    "   max(value) FILTER (WHERE value <> 'NaN')"
#define BLOCKS_GROUP " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3" BLOCKS_UPSERT

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
