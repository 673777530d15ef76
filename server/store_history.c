/* Bulk and downsampled metric history: several runs (and keys) in one
 * statement, sampling done in SQL so a million-point series never leaves
 * the database whole. Series are read through the metrics primary key
 * (run_id, key_id, step, timestamp, value), index-only. */
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"
#include "store_search.h"
#include "store_util.h"

/* Steps shared by all runs are sampled evenly (every ceil(n / max)-th, the
 * last always), each run's first and last step added; then every point at a
 * sampled step, at most per_run per run. Columns: ord, step, ts, value. */
static const char bulk_interval_sql[] =
    "WITH rs AS (SELECT u.ord, r.id FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, ord)"
    "   JOIN runs r ON r.run_uuid = u.id),"
    " pts AS (SELECT rs.ord, m.step, m.timestamp, m.value FROM rs JOIN metrics m"
    "   ON m.run_id = rs.id AND m.key_id = (SELECT id FROM metric_keys WHERE name = $2)"
    "   WHERE $3::bigint IS NULL OR m.step BETWEEN $3 AND $4),"
    " numbered AS (SELECT step, row_number() OVER (ORDER BY step) - 1 AS i, count(*) OVER () AS n"
    "   FROM (SELECT DISTINCT step FROM pts) d),"
    " sampled AS ("
    "   SELECT step FROM numbered"
    "   WHERE n <= $5 OR i % ceil(n::float8 / $5)::bigint = 0 OR i = n - 1"
    "   UNION SELECT min(step) FROM pts GROUP BY ord"
    "   UNION SELECT max(step) FROM pts GROUP BY ord),"
    " picked AS (SELECT p.*, row_number() OVER (PARTITION BY p.ord"
    "     ORDER BY p.step, p.timestamp, p.value) AS rn"
    "   FROM pts p WHERE p.step IN (SELECT step FROM sampled))"
    " SELECT ord, step, timestamp, value FROM picked WHERE rn <= $6"
    " ORDER BY ord, step, timestamp, value";

/* Per series: count and step range; series with at most $3 points come
 * whole, the others as first/last/min/max of each of $3/4 step buckets
 * (float8 arrays compare element-wise, so min(ARRAY[step, ts, value]) is
 * the first point and min(ARRAY[value, step, ts]) the lowest). Columns:
 * run ord, key ord, total, step, ts, value. */
static const char downsample_sql[] =
    "WITH s AS (SELECT ru.ord AS ri, ku.ord AS ki, r.id AS run_id, k.id AS key_id"
    "   FROM unnest($1::uuid[]) WITH ORDINALITY AS ru(u, ord)"
    "   JOIN runs r ON r.run_uuid = ru.u"
    "   CROSS JOIN unnest($2::text[]) WITH ORDINALITY AS ku(name, ord)"
    "   JOIN metric_keys k ON k.name = ku.name),"
    " st AS (SELECT s.*, c.n, c.lo, c.hi FROM s CROSS JOIN LATERAL"
    "   (SELECT count(*) AS n, min(step) AS lo, max(step) AS hi FROM metrics m"
    "    WHERE m.run_id = s.run_id AND m.key_id = s.key_id) c WHERE c.n > 0),"
    " whole AS (SELECT st.ri, st.ki, st.n, m.step, m.timestamp AS ts, m.value FROM st"
    "   JOIN metrics m ON m.run_id = st.run_id AND m.key_id = st.key_id WHERE st.n <= $3),"
    " b AS (SELECT st.ri, st.ki, st.n,"
    "     min(ARRAY[m.step, m.timestamp, m.value]::float8[]) AS f,"
    "     max(ARRAY[m.step, m.timestamp, m.value]::float8[]) AS l,"
    "     min(ARRAY[m.value, m.step, m.timestamp]::float8[]) FILTER (WHERE m.value <> 'NaN') AS lo,"
    "     max(ARRAY[m.value, m.step, m.timestamp]::float8[]) FILTER (WHERE m.value <> 'NaN') AS hi"
    "   FROM st JOIN metrics m ON m.run_id = st.run_id AND m.key_id = st.key_id WHERE st.n > $3"
    "   GROUP BY st.ri, st.ki, st.n, width_bucket(m.step::float8, st.lo::float8,"
    "     (st.hi + 1)::float8, greatest($3 / 4, 1)::int)),"
    " sampled AS (SELECT DISTINCT b.ri, b.ki, b.n, p[1]::bigint AS step, p[2]::bigint AS ts,"
    "     p[3] AS value FROM b CROSS JOIN LATERAL (VALUES (b.f), (b.l),"
    "     (ARRAY[b.lo[2], b.lo[3], b.lo[1]]), (ARRAY[b.hi[2], b.hi[3], b.hi[1]])) AS v(p)"
    "   WHERE p[1] IS NOT NULL)"
    " SELECT ri, ki, n, step, ts, value FROM whole UNION ALL SELECT * FROM sampled"
    " ORDER BY 1, 2, 4, 5, 6";

static void text_array(struct sbuf *b, const char *const *items, size_t n)
{
    sbuf_addc(b, '{');
    for (size_t i = 0; i < n; i++)
        su_array_text(b, items[i], i == 0);
    sbuf_addc(b, '}');
}

/* Splits rows into series by the (run, key) ordinals in columns 0 and
 * key_col (-1: one key); point columns start at col. Series are arena. */
static void split_series(const PGresult *res, int key_col, int col, const char *const *keys,
                         struct arena *arena, struct series **out, size_t *n, int64_t **totals)
{
    int rows = PQntuples(res);
    size_t count = 0;
    for (int r = 0; r < rows; r++)
        if (r == 0 || su_int64(res, r, 0) != su_int64(res, r - 1, 0) ||
            (key_col >= 0 && su_int64(res, r, key_col) != su_int64(res, r - 1, key_col)))
            count++;
    *out = count ? arena_alloc(arena, count * sizeof **out) : NULL;
    if (totals)
        *totals = count ? arena_alloc(arena, count * sizeof **totals) : NULL;
    *n = 0;
    for (int r = 0; r < rows;) {
        struct series *s = &(*out)[(*n)++];
        s->run_index = (size_t)su_int64(res, r, 0) - 1;
        s->key_index = key_col >= 0 ? (size_t)su_int64(res, r, key_col) - 1 : 0;
        int end = r;
        while (end < rows && su_int64(res, end, 0) == su_int64(res, r, 0) &&
               (key_col < 0 || su_int64(res, end, key_col) == su_int64(res, r, key_col)))
            end++;
        if (totals)
            (*totals)[*n - 1] = su_int64(res, r, key_col + 1);
        s->points = arena_alloc(arena, (size_t)(end - r) * sizeof *s->points);
        const char *key = arena_strdup(arena, keys[s->key_index]);
        for (int i = r; i < end; i++) {
            struct metric *m = &s->points[s->n++];
            m->key = key;
            m->step = su_int64(res, i, col);
            m->timestamp = su_int64(res, i, col + 1);
            m->value = su_double(res, i, col + 2);
        }
        r = end;
    }
}

/* The uuid array literal of 32-hex run ids (validated by the caller). */
static void uuid_array(struct sbuf *b, const char *const *run_ids, size_t n)
{
    text_array(b, run_ids, n);
}

int store_history_bulk_interval(const char *const *run_ids, size_t nruns, const char *key,
                                int has_range, int64_t start_step, int64_t end_step,
                                int64_t max_steps, int64_t per_run, struct arena *arena,
                                struct series **out, size_t *n)
{
    struct sbuf ids;
    char lo[24], hi[24], mx[24], pr[24];
    PGresult *res = NULL;

    *out = NULL;
    *n = 0;
    sbuf_init(&ids);
    uuid_array(&ids, run_ids, nruns);
    const char *params[] = {ids.data,
                            key,
                            has_range ? su_i64(lo, start_step) : NULL,
                            has_range ? su_i64(hi, end_step) : NULL,
                            su_i64(mx, max_steps),
                            su_i64(pr, per_run)};
    int rc = db_exec(bulk_interval_sql, 6, params, &res);
    sbuf_cleanup(&ids);
    if (rc != DB_OK)
        return rc;
    split_series(res, -1, 1, &key, arena, out, n, NULL);
    PQclear(res);
    return DB_OK;
}

int store_history_downsample(const char *const *run_ids, size_t nruns, const char *const *keys,
                             size_t nkeys, int64_t max_points, struct arena *arena,
                             struct series **out, size_t *n, int64_t **totals)
{
    struct sbuf ids, names;
    char mx[24];
    PGresult *res = NULL;

    *out = NULL;
    *n = 0;
    *totals = NULL;
    sbuf_init(&ids);
    sbuf_init(&names);
    uuid_array(&ids, run_ids, nruns);
    text_array(&names, keys, nkeys);
    const char *params[] = {ids.data, names.data, su_i64(mx, max_points)};
    int rc = db_exec(downsample_sql, 3, params, &res);
    sbuf_cleanup(&ids);
    sbuf_cleanup(&names);
    if (rc != DB_OK)
        return rc;
    split_series(res, 1, 3, keys, arena, out, n, totals);
    PQclear(res);
    return DB_OK;
}

/* Reads one kind's keys ("m", "p", "t") of the experiments, sorted. */
static int keys_of(const char *ids, const char *kind, struct arena *arena, const char ***out,
                   size_t *n)
{
    const char *params[] = {ids, kind};
    PGresult *res = NULL;
    int rc =
        db_exec("SELECT DISTINCT key FROM experiment_keys"
                " WHERE experiment_id = ANY($1::bigint[]) AND kind = $2::\"char\" ORDER BY key",
                2, params, &res);
    if (rc != DB_OK)
        return rc;
    *n = (size_t)PQntuples(res);
    *out = arena_alloc(arena, (*n + 1) * sizeof **out);
    for (int r = 0; r < PQntuples(res); r++)
        (*out)[r] = su_str(res, r, 0, arena);
    PQclear(res);
    return DB_OK;
}

int store_experiment_keys(const int64_t *experiment_ids, size_t nexp, struct arena *arena,
                          const char ***metrics, size_t *nmetrics, const char ***params,
                          size_t *nparams, const char ***tags, size_t *ntags)
{
    struct sbuf ids;
    sbuf_init(&ids);
    sbuf_addc(&ids, '{');
    for (size_t i = 0; i < nexp; i++)
        su_array_int64(&ids, experiment_ids[i], i == 0);
    sbuf_addc(&ids, '}');
    int rc = keys_of(ids.data, "m", arena, metrics, nmetrics);
    if (rc == DB_OK)
        rc = keys_of(ids.data, "p", arena, params, nparams);
    if (rc == DB_OK)
        rc = keys_of(ids.data, "t", arena, tags, ntags);
    sbuf_cleanup(&ids);
    return rc;
}
