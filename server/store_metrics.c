/* Metric points: batch writes as unnest() arrays in one statement, the
 * latest-metrics upsert beside them, and history reads. */
#include "store_metrics.h"

#include <stdlib.h>
#include <string.h>

#include "sbuf.h"
#include "store_util.h"

/* Keys seen for the first time are interned. Only names not yet present are
 * inserted, so the identity sequence is not burned on every batch. Sorted
 * so concurrent batches lock new names in one order. */
static const char intern_sql[] =
    "INSERT INTO metric_keys (name)"
    " SELECT n FROM (SELECT DISTINCT unnest($1::text[]) AS n) s"
    " WHERE NOT EXISTS (SELECT 1 FROM metric_keys k WHERE k.name = s.n)"
    " ORDER BY n ON CONFLICT (name) DO NOTHING";

/* Points in, then the best point per key of this batch raises latest_metrics
 * when it beats the stored one. "Beats" compares (step, timestamp, value)
 * with NaN counted as 0, MLflow's rule; ties keep what is there. */
static const char write_sql[] =
    "WITH pts AS ("
    "  SELECT k.id AS key_id, u.step, u.ts, u.val, u.ord"
    "  FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::float8[])"
    "       WITH ORDINALITY AS u(name, step, ts, val, ord)"
    "  JOIN metric_keys k ON k.name = u.name),"
    " ins AS ("
    "  INSERT INTO metrics (run_id, key_id, step, timestamp, value)"
    "  SELECT $1, key_id, step, ts, val FROM pts ON CONFLICT DO NOTHING),"
    " best AS ("
    "  SELECT DISTINCT ON (key_id) key_id, step, ts, val FROM pts"
    "  ORDER BY key_id, step DESC, ts DESC,"
    "           CASE WHEN val = 'NaN' THEN 0 ELSE val END DESC, ord ASC)"
    " INSERT INTO latest_metrics AS l (run_id, key_id, step, timestamp, value)"
    " SELECT $1, key_id, step, ts, val FROM best ORDER BY key_id"
    " ON CONFLICT (run_id, key_id) DO UPDATE"
    "  SET step = EXCLUDED.step, timestamp = EXCLUDED.timestamp, value = EXCLUDED.value"
    "  WHERE (EXCLUDED.step, EXCLUDED.timestamp,"
    "         CASE WHEN EXCLUDED.value = 'NaN' THEN 0 ELSE EXCLUDED.value END)"
    "      > (l.step, l.timestamp, CASE WHEN l.value = 'NaN' THEN 0 ELSE l.value END)";

int store_metrics_write(int64_t run_internal_id, const struct metric *metrics, size_t n)
{
    struct sbuf keys, steps, stamps, values;
    char run[24];
    int rc;

    if (n == 0)
        return DB_OK;
    sbuf_init(&keys);
    sbuf_init(&steps);
    sbuf_init(&stamps);
    sbuf_init(&values);
    sbuf_addc(&keys, '{');
    sbuf_addc(&steps, '{');
    sbuf_addc(&stamps, '{');
    sbuf_addc(&values, '{');
    for (size_t i = 0; i < n; i++) {
        su_array_text(&keys, metrics[i].key, i == 0);
        su_array_int64(&steps, metrics[i].step, i == 0);
        su_array_int64(&stamps, metrics[i].timestamp, i == 0);
        su_array_double(&values, metrics[i].value, i == 0);
    }
    sbuf_addc(&keys, '}');
    sbuf_addc(&steps, '}');
    sbuf_addc(&stamps, '}');
    sbuf_addc(&values, '}');

    const char *intern_params[] = {keys.data};
    rc = db_exec(intern_sql, 1, intern_params, NULL);
    if (rc != DB_OK)
        goto out;
    const char *params[] = {su_i64(run, run_internal_id), keys.data, steps.data, stamps.data,
                            values.data};
    rc = db_exec(write_sql, 5, params, NULL);
out:
    sbuf_cleanup(&keys);
    sbuf_cleanup(&steps);
    sbuf_cleanup(&stamps);
    sbuf_cleanup(&values);
    return rc;
}

int store_metrics_latest(const int64_t *run_ids, size_t nruns, struct arena *arena,
                         void (*each)(void *ctx, size_t run_index, const struct metric *m),
                         void *ctx)
{
    struct sbuf ids;
    PGresult *res = NULL;
    int rc;

    if (nruns == 0)
        return DB_OK;
    sbuf_init(&ids);
    sbuf_addc(&ids, '{');
    for (size_t i = 0; i < nruns; i++)
        su_array_int64(&ids, run_ids[i], i == 0);
    sbuf_addc(&ids, '}');
    const char *params[] = {ids.data};
    /* ord maps each row back to the caller's index without a search */
    rc = db_exec("SELECT r.ord, k.name, l.value, l.timestamp, l.step"
                 " FROM unnest($1::bigint[]) WITH ORDINALITY AS r(id, ord)"
                 " JOIN latest_metrics l ON l.run_id = r.id"
                 " JOIN metric_keys k ON k.id = l.key_id"
                 " ORDER BY r.ord, k.name",
                 1, params, &res);
    sbuf_cleanup(&ids);
    if (rc != DB_OK)
        return rc;
    for (int r = 0; r < PQntuples(res); r++) {
        struct metric m = {
            .key = su_str(res, r, 1, arena),
            .value = su_double(res, r, 2),
            .timestamp = su_int64(res, r, 3),
            .step = su_int64(res, r, 4),
        };
        each(ctx, (size_t)(su_int64(res, r, 0) - 1), &m);
    }
    PQclear(res);
    return DB_OK;
}

int store_metric_history(const char *run_id, const char *key, int64_t offset, int64_t limit,
                         struct arena *arena, struct metric **out, size_t *n)
{
    char off[24], lim[24];
    const char *params[] = {run_id, key, su_i64(off, offset),
                            limit < 0 ? NULL : su_i64(lim, limit)};
    PGresult *res = NULL;

    *out = NULL;
    *n = 0;
    int rc = db_exec("SELECT m.value, m.timestamp, m.step FROM metrics m"
                     " WHERE m.run_id = (SELECT id FROM runs WHERE run_uuid = $1::uuid)"
                     "   AND m.key_id = (SELECT id FROM metric_keys WHERE name = $2)"
                     " ORDER BY m.step, m.timestamp, m.value OFFSET $3 LIMIT $4",
                     4, params, &res);
    if (rc != DB_OK)
        return rc;
    int rows = PQntuples(res);
    if (rows > 0) {
        *out = arena_alloc(arena, (size_t)rows * sizeof **out);
        const char *k = arena_strdup(arena, key);
        for (int r = 0; r < rows; r++) {
            (*out)[r].key = k;
            (*out)[r].value = su_double(res, r, 0);
            (*out)[r].timestamp = su_int64(res, r, 1);
            (*out)[r].step = su_int64(res, r, 2);
        }
    }
    *n = (size_t)rows;
    PQclear(res);
    return DB_OK;
}
