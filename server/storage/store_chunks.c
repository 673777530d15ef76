/* Metric compaction's SQL (store_chunks.h): the runs that are due and the
 * one statement that moves a run's narrow rows into chunks. The layout of a
 * chunk and how readers see both forms are in schema/0027_metric_chunks.sql;
 * nothing here decides when to compact (compact.c does). */
#include "store_chunks.h"

#include "db/db.h"
#include "db/store_util.h"

/* The next $2 runs above id $3 that still have narrow rows, in id order,
 * each with whether it is due: ended (FINISHED, FAILED or KILLED) at least
 * $1 seconds ago. The walk is a skip scan of the metrics key: each step is
 * one descent of every partition's index to the next run id, so a batch
 * costs what its $2 runs cost, however many runs the database holds. (Asking
 * runs first, with an EXISTS probe each, read every finished run ever on
 * every pass: seconds a pass at a million runs.) A metrics row whose run is
 * gone has no runs row: not due. */
static const char due_sql[] =
    "WITH RECURSIVE walk(run_id, n) AS ("
    "  SELECT (SELECT m.run_id FROM metrics m WHERE m.run_id > $3::bigint"
    "          ORDER BY m.run_id LIMIT 1), 1"
    "  UNION ALL"
    "  SELECT (SELECT m.run_id FROM metrics m WHERE m.run_id > w.run_id"
    "          ORDER BY m.run_id LIMIT 1), w.n + 1"
    "  FROM walk w WHERE w.run_id IS NOT NULL AND w.n < $2::bigint)"
    " SELECT w.run_id, coalesce(r.status >= 3 AND r.end_time IS NOT NULL"
    "   AND r.end_time <= (extract(epoch FROM clock_timestamp()) * 1000)::bigint"
    "                     - $1::bigint * 1000, false)"
    " FROM walk w LEFT JOIN runs r ON r.id = w.run_id"
    " WHERE w.run_id IS NOT NULL ORDER BY w.run_id";

/* Takes the run for compaction: a key-share lock on its row (a purge, which
 * locks it for update, waits for the compaction or makes it skip the run)
 * and an advisory lock that keeps a second compactor off it. */
static const char lock_sql[] =
    "SELECT pg_try_advisory_xact_lock(20027, (r.id % 2147483647)::integer)"
    " FROM runs r WHERE r.id = $1::bigint FOR KEY SHARE";

/* One statement, so one snapshot: the rows it deletes are exactly the rows
 * it packs, and a point committed by another transaction meanwhile is not
 * deleted (it stays narrow for the next pass). Existing chunks of the
 * series that have new rows are unpacked and rebuilt with them; a new row
 * equal (by float8 equality, as the primary key of metrics: -0 = 0) to a
 * chunk's point is dropped, the chunk's copy kept, and its block's count
 * (metric_blocks, which counted it when it was inserted) lowered. Points
 * are numbered in (step, timestamp, value) order and cut every 4,096
 * (CHUNK_POINTS, which readers rely on); each
 * chunk stores its steps not at all (one point at each step from first to
 * last), as int4 offsets, or raw, and its timestamps as int4 offsets from
 * its lowest or raw (the CASE inside each array_agg keeps the offsets that
 * are not used from overflowing). Columns: rows moved, points packed. */
static const char compact_sql[] =
    "WITH moved AS (DELETE FROM metrics WHERE run_id = $1::bigint RETURNING key_id, step, "
    "timestamp, value), "
    " keys AS (SELECT DISTINCT key_id FROM moved), "
    " old AS (DELETE FROM metric_chunks c WHERE c.run_id = $1 AND c.key_id IN (SELECT key_id FROM "
    "keys) "
    "   RETURNING c.*), "
    " pts AS (SELECT key_id, step, timestamp, value, 1 AS src FROM moved "
    "   UNION ALL "
    "   SELECT o.key_id, coalesce(u.sr, o.first_step + coalesce(u.so, u.j - 1)), "
    "     coalesce(u.tr, o.t0 + u.tof), u.v, 0 "
    "   FROM old o CROSS JOIN LATERAL unnest(o.soff, o.sraw, o.toff, o.traw, o.vals) "
    "     WITH ORDINALITY AS u(so, sr, tof, tr, v, j)), "
    " ranked AS (SELECT p.*, row_number() OVER (PARTITION BY key_id, step, timestamp, value "
    "     ORDER BY src) AS dup FROM pts p), "
    " fix AS (UPDATE metric_blocks b SET n = b.n - d.cnt "
    "   FROM (SELECT key_id, step >> 8 AS block, count(*) AS cnt FROM ranked WHERE dup > 1 "
    "         GROUP BY 1, 2) d "
    "   WHERE b.run_id = $1 AND b.key_id = d.key_id AND b.block = d.block), "
    " numbered AS (SELECT key_id, step, timestamp, value, "
    "     ((row_number() OVER (PARTITION BY key_id ORDER BY step, timestamp, value)) - 1) / 4096 "
    "       AS chunk "
    "   FROM ranked WHERE dup = 1), "
    " spans AS (SELECT numbered.*, "
    "     min(step) OVER c AS s0, max(step) OVER c AS s1, "
    "     min(timestamp) OVER c AS t0, max(timestamp) OVER c AS t1 "
    "   FROM numbered WINDOW c AS (PARTITION BY key_id, chunk)), "
    " ins AS (INSERT INTO metric_chunks "
    "   (run_id, key_id, chunk, first_step, last_step, n, t0, soff, sraw, toff, traw, vals) "
    "   SELECT $1, key_id, chunk::integer, min(s0), min(s1), count(*)::integer, min(t0), "
    "     CASE WHEN count(DISTINCT step) = count(*) AND min(s1)::numeric - min(s0) + 1 = count(*) "
    "          THEN NULL "
    "          WHEN min(s1)::numeric - min(s0) < 2147483648 "
    "          THEN array_agg(CASE WHEN s1::numeric - s0 < 2147483648 THEN (step - s0)::integer "
    "END ORDER BY step, timestamp, value) END, "
    "     CASE WHEN min(s1)::numeric - min(s0) >= 2147483648 "
    "          THEN array_agg(step ORDER BY step, timestamp, value) END, "
    "     CASE WHEN min(t1)::numeric - min(t0) < 2147483648 "
    "          THEN array_agg(CASE WHEN t1::numeric - t0 < 2147483648 THEN (timestamp - "
    "t0)::integer END ORDER BY step, timestamp, value) END, "
    "     CASE WHEN min(t1)::numeric - min(t0) >= 2147483648 "
    "          THEN array_agg(timestamp ORDER BY step, timestamp, value) END, "
    "     array_agg(value ORDER BY step, timestamp, value) "
    "   FROM spans GROUP BY key_id, chunk "
    "   RETURNING n) "
    "SELECT (SELECT count(*) FROM moved), (SELECT coalesce(sum(n), 0) FROM ins)";

int store_chunks_due(int64_t delay_s, int64_t after, size_t cap, int64_t *due, size_t *n_due,
                     size_t *walked, int64_t *last)
{
    char d[24], c[24], a[24];
    const char *params[] = {su_i64(d, delay_s), su_i64(c, (int64_t)cap), su_i64(a, after)};
    PGresult *res = NULL;

    *n_due = 0;
    *walked = 0;
    *last = after;
    int rc = db_exec_prepared("chunks_due", due_sql, 3, params, &res);
    if (rc != DB_OK)
        return rc;
    int rows = PQntuples(res);
    for (int i = 0; i < rows && *walked < cap; i++) {
        int64_t id = su_int64(res, i, 0);
        if (PQgetvalue(res, i, 1)[0] == 't')
            due[(*n_due)++] = id;
        *last = id;
        (*walked)++;
    }
    PQclear(res);
    return DB_OK;
}

int store_chunks_compact_run(int64_t id, int64_t *moved, int64_t *packed)
{
    char idb[24];
    const char *params[] = {su_i64(idb, id)};
    PGresult *res = NULL;
    int taken = 0;

    if (moved != NULL)
        *moved = 0;
    if (packed != NULL)
        *packed = 0;
    int rc = db_begin();
    if (rc != DB_OK)
        return rc;
    rc = db_exec(lock_sql, 1, params, &res);
    if (rc != DB_OK)
        goto out;
    taken = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    res = NULL;
    if (!taken) /* purged, or another compactor has it */
        goto out;
    rc = db_exec(compact_sql, 1, params, &res);
    if (rc != DB_OK)
        goto out;
    if (moved != NULL)
        *moved = su_int64(res, 0, 0);
    if (packed != NULL)
        *packed = su_int64(res, 0, 1);
    PQclear(res);
    res = NULL;
    rc = db_commit();
out:
    PQclear(res);
    if (rc != DB_OK || !taken)
        db_rollback();
    return rc;
}
