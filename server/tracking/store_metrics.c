/* Metric points: batch writes by binary COPY (with an INSERT ... ON CONFLICT
 * fallback when a batch repeats stored points), the step blocks the
 * downsampled history reads and the latest-metrics upsert once per key per
 * batch, and history reads. A per-thread cache maps metric
 * names to their interned ids; metric_keys is append-only, so an id, once
 * committed, never changes. */
#include "store_metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "common/sbuf.h"
#include "db/store_util.h"
#include "store_idempotency.h"
#include "store_metrics_sql.h"
#include "common/xalloc.h"

/* Keys seen for the first time are interned. Only names not yet present are
 * inserted, so the identity sequence is not burned on every batch. Sorted
 * so concurrent batches lock new names in one order. RETURNING names the
 * rows this transaction made: those are not cached until seen committed. */
static const char intern_sql[] =
    "INSERT INTO metric_keys (name)"
    " SELECT n FROM (SELECT DISTINCT unnest($1::text[]) AS n) s"
    " WHERE NOT EXISTS (SELECT 1 FROM metric_keys k WHERE k.name = s.n)"
    " ORDER BY n ON CONFLICT (name) DO NOTHING RETURNING name";

static const char lookup_sql[] = "SELECT name, id FROM metric_keys WHERE name = ANY($1::text[])";

#define BLOCK_SHIFT 8 /* 256 steps a block (step >> 8 in store_metrics_sql.h) */

/* Points in when COPY met a stored twin (MLflow's idempotency: an identical
 * point is a no-op), with the blocks of those really inserted. */
static const char insert_sql[] =
    "WITH ins AS (INSERT INTO metrics (run_id, key_id, step, timestamp, value)"
    "  SELECT r, k, s, t, v"
    "  FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::bigint[], $5::float8[])"
    "    AS u(r, k, s, t, v)"
    "  ON CONFLICT DO NOTHING RETURNING run_id, key_id, step, timestamp, value)" BLOCKS_SELECT
    " FROM ins" BLOCKS_GROUP;

/* The closing statement of a batch, one round trip: the best point per key
 * of this batch (computed by the caller, $1..$5) raises latest_metrics when
 * it beats the stored one, and the blocks of the points COPY inserted
 * ($6..$21, aggregated by the caller as BLOCKS_SELECT does; empty after the
 * INSERT path, which raised its own) are raised. "Beats" compares (step,
 * timestamp, value) with NaN counted as 0, MLflow's rule; ties keep what is
 * there. A block's NaN lowest or highest value means its points were all
 * NaN (its points at them are then NULL too). Sorted by key so concurrent
 * batches lock rows in one order. */
static const char latest_sql[] =
    "WITH blk AS (INSERT INTO metric_blocks AS b" BLOCKS_COLUMNS
    "  SELECT r, k, blk, n, nullif(lo, 'NaN'), nullif(hi, 'NaN'),"
    "    CASE WHEN lo <> 'NaN' THEN los END, CASE WHEN lo <> 'NaN' THEN lot END,"
    "    CASE WHEN hi <> 'NaN' THEN his END, CASE WHEN hi <> 'NaN' THEN hit END,"
    "    fs, ft, fv, ls, lt, lv"
    "  FROM unnest($6::bigint[], $7::int[], $8::bigint[], $9::bigint[], $10::float8[],"
    "    $11::float8[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[],"
    "    $16::bigint[], $17::bigint[], $18::float8[], $19::bigint[], $20::bigint[],"
    "    $21::float8[])"
    "    AS u(r, k, blk, n, lo, hi, los, lot, his, hit, fs, ft, fv, ls, lt, lv)"
    "  ORDER BY r, k, blk" BLOCKS_UPSERT ")"
    " INSERT INTO latest_metrics AS l (run_id, key_id, step, timestamp, value)"
    " SELECT r, k, s, t, v"
    " FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::bigint[], $5::float8[])"
    "   AS u(r, k, s, t, v) ORDER BY r, k" LATEST_UPSERT;

/* COPY has no ON CONFLICT: the savepoint lets a batch that repeats a stored
 * point fall back to the statement that skips it. One query, one round trip
 * (no user value in it: the rows go as COPY data). */
static const char copy_sql[] =
    "SAVEPOINT metrics_copy;"
    " COPY metrics (run_id, key_id, step, timestamp, value) FROM STDIN (FORMAT binary)";

/* Points that carry a model id are written a second time, for the logged
 * model (mlflow-models-api.md 2.4): with the run's 32-hex id and its
 * experiment, identical points skipped. Sorted so concurrent writes lock
 * rows in one order. Only runs when some point has a model id. */
static const char model_points_sql[] =
    "INSERT INTO logged_model_metrics (model_id, key, timestamp, step, run_id, value,"
    "   experiment_id, dataset_name, dataset_digest)"
    " SELECT u.m, u.k, u.t, u.s, replace(r.run_uuid::text, '-', ''), u.v, r.experiment_id,"
    "   u.dn, u.dd"
    " FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[],"
    "   $6::float8[], $7::text[], $8::text[]) AS u(run, m, k, t, s, v, dn, dd)"
    " JOIN runs r ON r.id = u.run"
    " ORDER BY 1, 2, 3, 4, 5, 8, 9 ON CONFLICT DO NOTHING";

/* --- per-thread name -> key id cache ------------------------------------ */

#define KEY_CACHE_MAX 65536 /* entries; past it the cache starts over */

struct key_slot {
    char *name; /* NULL: empty */
    uint64_t hash;
    int32_t id;
};

struct key_cache {
    struct key_slot *slots;
    size_t cap; /* power of two */
    size_t used;
};

static __thread struct key_cache kcache;

static void cache_clear(struct key_cache *c);

/* A thread that filled its cache frees it when it exits (the HTTP pool's and
 * the group-commit writers' threads at shutdown), through this key's
 * destructor, as db.c closes a thread's connection. */
static pthread_key_t kcache_key;
static pthread_once_t kcache_key_once = PTHREAD_ONCE_INIT;

static void kcache_free_at_exit(void *cache)
{
    cache_clear(cache);
}

static void make_kcache_key(void)
{
    pthread_key_create(&kcache_key, kcache_free_at_exit);
}

/* Registers this thread's cache for freeing at thread exit (once). */
static void kcache_register(void)
{
    pthread_once(&kcache_key_once, make_kcache_key);
    if (pthread_getspecific(kcache_key) == NULL)
        pthread_setspecific(kcache_key, &kcache);
}

static void cache_clear(struct key_cache *c)
{
    for (size_t i = 0; i < c->cap; i++)
        free(c->slots[i].name);
    free(c->slots);
    memset(c, 0, sizeof *c);
}

/* The cached id of name, or -1. */
static int32_t cache_get(const struct key_cache *c, const char *name, uint64_t h)
{
    if (c->cap == 0)
        return -1;
    for (size_t i = h & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
        const struct key_slot *s = &c->slots[i];
        if (s->name == NULL)
            return -1;
        if (s->hash == h && strcmp(s->name, name) == 0)
            return s->id;
    }
}

static void cache_put_slot(struct key_cache *c, char *name, uint64_t h, int32_t id)
{
    size_t i = h & (c->cap - 1);
    while (c->slots[i].name != NULL)
        i = (i + 1) & (c->cap - 1);
    c->slots[i] = (struct key_slot){name, h, id};
    c->used++;
}

static void cache_put(struct key_cache *c, const char *name, int32_t id)
{
    uint64_t h = hash_fnv1a_str(name);
    if (cache_get(c, name, h) >= 0)
        return;
    if (c->used >= KEY_CACHE_MAX)
        cache_clear(c);
    if ((c->used + 1) * 2 > c->cap) {
        struct key_cache grown = {xcalloc(c->cap ? c->cap * 2 : 64, sizeof(struct key_slot)),
                                  c->cap ? c->cap * 2 : 64, 0};
        for (size_t i = 0; i < c->cap; i++)
            if (c->slots[i].name != NULL)
                cache_put_slot(&grown, c->slots[i].name, c->slots[i].hash, c->slots[i].id);
        free(c->slots);
        *c = grown;
    }
    cache_put_slot(c, xstrdup(name), h, id);
}

int store_metrics_key_ids(const struct metric *metrics, size_t n, int32_t *ids)
{
    struct sbuf names;
    PGresult *res = NULL, *mine = NULL;
    size_t missing = 0;
    int rc = DB_OK;

    sbuf_init(&names);
    sbuf_addc(&names, '{');
    for (size_t i = 0; i < n; i++) {
        ids[i] = cache_get(&kcache, metrics[i].key, hash_fnv1a_str(metrics[i].key));
        if (ids[i] < 0)
            su_array_text(&names, metrics[i].key, missing++ == 0);
    }
    sbuf_addc(&names, '}');
    if (missing == 0)
        goto out;
    const char *params[] = {names.data};
    if ((rc = db_exec(intern_sql, 1, params, &mine)) != DB_OK)
        goto out;
    if ((rc = db_exec(lookup_sql, 1, params, &res)) != DB_OK)
        goto out;
    /* a small local map of this batch's misses: name -> id */
    struct key_cache local = {0};
    for (int r = 0; r < PQntuples(res); r++)
        cache_put(&local, PQgetvalue(res, r, 0), (int32_t)su_int64(res, r, 1));
    for (int r = 0; r < PQntuples(res); r++) {
        const char *name = PQgetvalue(res, r, 0);
        int created = 0;
        for (int m = 0; m < PQntuples(mine) && !created; m++)
            created = strcmp(PQgetvalue(mine, m, 0), name) == 0;
        if (!created) {
            kcache_register();
            cache_put(&kcache, name, (int32_t)su_int64(res, r, 1));
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0)
            ids[i] = cache_get(&local, metrics[i].key, hash_fnv1a_str(metrics[i].key));
        if (ids[i] < 0) {
            rc = DB_ERROR; /* interned above: cannot happen */
            break;
        }
    }
    cache_clear(&local);
out:
    PQclear(res);
    PQclear(mine);
    sbuf_cleanup(&names);
    return rc;
}

/* --- binary COPY ---------------------------------------------------------- */

static void put_be(struct sbuf *b, uint64_t v, int bytes)
{
    char out[8];
    for (int i = 0; i < bytes; i++)
        out[i] = (char)(v >> (8 * (bytes - 1 - i)));
    sbuf_add(b, out, (size_t)bytes);
}

static void put_field64(struct sbuf *b, uint64_t v)
{
    put_be(b, 8, 4);
    put_be(b, v, 8);
}

/* Appends the COPY BINARY stream of the points: header, rows, trailer. */
static void copy_rows(struct sbuf *b, const int64_t *runs, const struct metric *metrics,
                      const int32_t *ids, size_t n)
{
    static const char signature[] = "PGCOPY\n\377\r\n";
    sbuf_add(b, signature, sizeof signature); /* 11 bytes with its NUL */
    put_be(b, 0, 4);                          /* flags */
    put_be(b, 0, 4);                          /* header extension length */
    for (size_t i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &metrics[i].value, sizeof bits);
        put_be(b, 5, 2);
        put_field64(b, (uint64_t)runs[i]);
        put_be(b, 4, 4);
        put_be(b, (uint32_t)ids[i], 4);
        put_field64(b, (uint64_t)metrics[i].step);
        put_field64(b, (uint64_t)metrics[i].timestamp);
        put_field64(b, bits);
    }
    put_be(b, 0xffff, 2); /* trailer: -1 */
}

/* Sets the savepoint metrics_copy and runs the COPY of data on conn.
 * DB_EXISTS when a point is stored already. */
static int copy_points(PGconn *conn, const struct sbuf *data)
{
    PGresult *res = PQexec(conn, copy_sql);
    int rc = db_result_status(conn, res, "COPY metrics");
    PQclear(res);
    if (rc != DB_OK)
        return rc;
    if (PQputCopyData(conn, data->data, (int)data->len) != 1 || PQputCopyEnd(conn, NULL) != 1)
        return db_result_status(conn, NULL, "COPY metrics data");
    rc = DB_OK;
    while ((res = PQgetResult(conn)) != NULL) {
        int st = db_result_status(conn, res, "COPY metrics");
        if (rc == DB_OK)
            rc = st;
        PQclear(res);
    }
    return rc;
}

/* --- array columns -------------------------------------------------------- */

/* Statements take their rows as parallel arrays, one PostgreSQL array
 * literal ("{1,2,3}") per column, built in cols[0..n). */
static void cols_open(struct sbuf *cols, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        sbuf_init(&cols[c]);
        sbuf_addc(&cols[c], '{');
    }
}

/* Closes the literals and points params[0..n) at them. */
static void cols_close(struct sbuf *cols, size_t n, const char **params)
{
    for (size_t c = 0; c < n; c++) {
        sbuf_addc(&cols[c], '}');
        params[c] = cols[c].data;
    }
}

static void cols_cleanup(struct sbuf *cols, size_t n)
{
    for (size_t c = 0; c < n; c++)
        sbuf_cleanup(&cols[c]);
}

/* --- step blocks ---------------------------------------------------------- */

struct block_point {
    int64_t run;
    int32_t key;
    int64_t block;
    const struct metric *m;
};

/* The block of a step: floor(step / 256), as step >> 8 in PostgreSQL. */
static int64_t block_of(int64_t step)
{
    return step >= 0 ? step >> BLOCK_SHIFT : -(((-(step + 1)) >> BLOCK_SHIFT) + 1);
}

static int block_point_cmp(const void *pa, const void *pb)
{
    const struct block_point *a = pa, *b = pb;
    if (a->run != b->run)
        return a->run < b->run ? -1 : 1;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->block != b->block)
        return a->block < b->block ? -1 : 1;
    return 0;
}

/* PostgreSQL's order of float8: NaN above every number and equal to
 * itself, -0 equal to 0. */
static int value_cmp(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) - isnan(b);
    return (a > b) - (a < b);
}

static int i64_cmp(int64_t a, int64_t b)
{
    return (a > b) - (a < b);
}

/* The primary key's order of points: step, timestamp, value. */
static int point_cmp(const struct metric *a, const struct metric *b)
{
    int c = i64_cmp(a->step, b->step);
    if (c == 0)
        c = i64_cmp(a->timestamp, b->timestamp);
    return c != 0 ? c : value_cmp(a->value, b->value);
}

/* The order of a block's lowest point (dir 1) or highest (dir -1): by
 * value, then the first by step and timestamp. NaN never compares. */
static int extreme_cmp(const struct metric *a, const struct metric *b, int dir)
{
    int c = dir * value_cmp(a->value, b->value);
    if (c == 0)
        c = i64_cmp(a->step, b->step);
    return c != 0 ? c : i64_cmp(a->timestamp, b->timestamp);
}

/* Appends to cols[0..16) the blocks of points that were all inserted (the
 * COPY path), the columns of latest_sql's $6..$21: run, key, block, count,
 * lowest and highest value (NaN: none) with each one's step and timestamp,
 * first and last point (step, timestamp, value). Picks what BLOCKS_SELECT
 * picks in SQL. */
static void block_rows(const int64_t *runs, const struct metric *metrics, const int32_t *ids,
                       size_t n, struct sbuf *cols)
{
    struct block_point *pts = xmalloc(n * sizeof *pts);
    size_t rows = 0;

    for (size_t i = 0; i < n; i++)
        pts[i] = (struct block_point){runs[i], ids[i], block_of(metrics[i].step), &metrics[i]};
    qsort(pts, n, sizeof *pts, block_point_cmp);
    for (size_t i = 0; i < n;) {
        size_t end = i;
        const struct metric *lo = NULL, *hi = NULL, *first = pts[i].m, *last = pts[i].m;
        for (; end < n && block_point_cmp(&pts[i], &pts[end]) == 0; end++) {
            const struct metric *m = pts[end].m;
            if (point_cmp(m, first) < 0)
                first = m;
            if (point_cmp(m, last) > 0)
                last = m;
            if (isnan(m->value))
                continue;
            if (lo == NULL || extreme_cmp(m, lo, 1) < 0)
                lo = m;
            if (hi == NULL || extreme_cmp(m, hi, -1) < 0)
                hi = m;
        }
        int f = rows == 0;
        su_array_int64(&cols[0], pts[i].run, f);
        su_array_int64(&cols[1], pts[i].key, f);
        su_array_int64(&cols[2], pts[i].block, f);
        su_array_int64(&cols[3], (int64_t)(end - i), f);
        su_array_double(&cols[4], lo != NULL ? lo->value : NAN, f);
        su_array_double(&cols[5], hi != NULL ? hi->value : NAN, f);
        su_array_int64(&cols[6], lo != NULL ? lo->step : 0, f);
        su_array_int64(&cols[7], lo != NULL ? lo->timestamp : 0, f);
        su_array_int64(&cols[8], hi != NULL ? hi->step : 0, f);
        su_array_int64(&cols[9], hi != NULL ? hi->timestamp : 0, f);
        su_array_int64(&cols[10], first->step, f);
        su_array_int64(&cols[11], first->timestamp, f);
        su_array_double(&cols[12], first->value, f);
        su_array_int64(&cols[13], last->step, f);
        su_array_int64(&cols[14], last->timestamp, f);
        su_array_double(&cols[15], last->value, f);
        rows++;
        i = end;
    }
    free(pts);
}

/* --- latest points -------------------------------------------------------- */

/* MLflow's order of points: step, then timestamp, then value (NaN as 0). */
static int point_beats(const struct metric *a, const struct metric *b)
{
    if (a->step != b->step)
        return a->step > b->step;
    if (a->timestamp != b->timestamp)
        return a->timestamp > b->timestamp;
    double av = isnan(a->value) ? 0 : a->value, bv = isnan(b->value) ? 0 : b->value;
    return av > bv;
}

/* Raises latest_metrics with the best point per run and key of the batch
 * (the first of equal points wins) and, when the points came by COPY
 * (copied), their blocks: one statement, and with commit the COMMIT in the
 * same round trip. */
static int write_latest(const int64_t *runs, const struct metric *metrics, const int32_t *ids,
                        size_t n, int copied, int commit)
{
    size_t *best = xmalloc(n * sizeof *best);
    size_t nbest = 0;
    struct sbuf cols[21];
    const char *params[21];

    /* batches carry few keys: a linear scan of the winners so far is enough */
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < nbest && (ids[best[j]] != ids[i] || runs[best[j]] != runs[i]))
            j++;
        if (j == nbest)
            best[nbest++] = i;
        else if (point_beats(&metrics[i], &metrics[best[j]]))
            best[j] = i;
    }
    cols_open(cols, 21);
    for (size_t j = 0; j < nbest; j++) {
        const struct metric *m = &metrics[best[j]];
        su_array_int64(&cols[0], runs[best[j]], j == 0);
        su_array_int64(&cols[1], ids[best[j]], j == 0);
        su_array_int64(&cols[2], m->step, j == 0);
        su_array_int64(&cols[3], m->timestamp, j == 0);
        su_array_double(&cols[4], m->value, j == 0);
    }
    if (copied)
        block_rows(runs, metrics, ids, n, &cols[5]);
    cols_close(cols, 21, params);
    int rc = commit ? db_exec_pair(latest_sql, 21, params, NULL, "COMMIT", 0, NULL, NULL)
                    : db_exec(latest_sql, 21, params, NULL);
    cols_cleanup(cols, 21);
    free(best);
    return rc;
}

/* The slow path: every point through INSERT ... ON CONFLICT DO NOTHING
 * (which raises the blocks of the points it inserted). */
static int insert_points(const int64_t *runs, const struct metric *metrics, const int32_t *ids,
                         size_t n)
{
    struct sbuf cols[5];
    const char *params[5];

    cols_open(cols, 5);
    for (size_t i = 0; i < n; i++) {
        su_array_int64(&cols[0], runs[i], i == 0);
        su_array_int64(&cols[1], ids[i], i == 0);
        su_array_int64(&cols[2], metrics[i].step, i == 0);
        su_array_int64(&cols[3], metrics[i].timestamp, i == 0);
        su_array_double(&cols[4], metrics[i].value, i == 0);
    }
    cols_close(cols, 5, params);
    int rc = db_exec(insert_sql, 5, params, NULL);
    cols_cleanup(cols, 5);
    return rc;
}

/* The model side of the points that carry a model id, in the open
 * transaction; nothing (no statement) when none does. */
static int write_model_points(const int64_t *runs, const struct metric *metrics, size_t n)
{
    struct sbuf cols[8];
    const char *params[8];
    size_t linked = 0;

    for (size_t i = 0; i < n; i++)
        linked += metrics[i].link != NULL;
    if (linked == 0)
        return DB_OK;
    cols_open(cols, 8);
    size_t row = 0;
    for (size_t i = 0; i < n; i++) {
        const struct metric *m = &metrics[i];
        if (m->link == NULL)
            continue;
        su_array_int64(&cols[0], runs[i], row == 0);
        su_array_text(&cols[1], m->link->model_id, row == 0);
        su_array_text(&cols[2], m->key, row == 0);
        su_array_int64(&cols[3], m->timestamp, row == 0);
        su_array_int64(&cols[4], m->step, row == 0);
        su_array_double(&cols[5], m->value, row == 0);
        su_array_text(&cols[6], m->link->dataset_name, row == 0);
        su_array_text(&cols[7], m->link->dataset_digest, row == 0);
        row++;
    }
    cols_close(cols, 8, params);
    int rc = db_exec(model_points_sql, 8, params, NULL);
    cols_cleanup(cols, 8);
    return rc;
}

/* Writes points of one or more runs (runs[i]: point i's run) in the open
 * transaction: binary COPY, or the INSERT that skips stored twins when COPY
 * met one, then the latest-metrics and blocks statement; with commit, the
 * transaction's COMMIT rides with that last statement. */
static int write_points(const int64_t *runs, const struct metric *metrics, size_t n, int commit)
{
    struct sbuf data;
    int rc, copied = 1;

    if (n == 0)
        return DB_OK;
    int32_t *ids = xmalloc(n * sizeof *ids);
    sbuf_init(&data);
    if ((rc = store_metrics_key_ids(metrics, n, ids)) != DB_OK)
        goto out;
    PGconn *conn = db_conn();
    if (conn == NULL) {
        rc = DB_UNAVAILABLE;
        goto out;
    }
    copy_rows(&data, runs, metrics, ids, n);
    rc = copy_points(conn, &data);
    if (rc == DB_EXISTS) {
        if ((rc = db_exec("ROLLBACK TO SAVEPOINT metrics_copy", 0, NULL, NULL)) != DB_OK)
            goto out;
        rc = insert_points(runs, metrics, ids, n);
        copied = 0;
    }
    if (rc != DB_OK)
        goto out;
    if ((rc = write_model_points(runs, metrics, n)) != DB_OK)
        goto out;
    rc = write_latest(runs, metrics, ids, n, copied, commit);
out:
    sbuf_cleanup(&data);
    free(ids);
    return rc;
}

int store_metrics_write_commit(int64_t run_internal_id, const struct metric *metrics, size_t n)
{
    if (n == 0)
        return db_commit();
    int64_t *runs = xmalloc(n * sizeof *runs);
    for (size_t i = 0; i < n; i++)
        runs[i] = run_internal_id;
    int rc = write_points(runs, metrics, n, 1);
    free(runs);
    return rc;
}

/* Marks each item's run: its internal id, or rc DB_NOT_FOUND / DB_STATE. */
static int resolve_group_runs(struct metrics_write *items, size_t n, int64_t *run_ids)
{
    struct sbuf uuids;
    PGresult *res = NULL;

    sbuf_init(&uuids);
    sbuf_addc(&uuids, '{');
    for (size_t i = 0; i < n; i++) {
        su_array_text(&uuids, items[i].run_id, i == 0);
        items[i].rc = DB_NOT_FOUND;
    }
    sbuf_addc(&uuids, '}');
    const char *params[] = {uuids.data};
    int rc = db_exec("SELECT u.ord, r.id, r.lifecycle_stage"
                     " FROM unnest($1::uuid[]) WITH ORDINALITY AS u(id, ord)"
                     " JOIN runs r ON r.run_uuid = u.id",
                     1, params, &res);
    sbuf_cleanup(&uuids);
    if (rc != DB_OK)
        return rc;
    for (int r = 0; r < PQntuples(res); r++) {
        size_t i = (size_t)(su_int64(res, r, 0) - 1);
        run_ids[i] = su_int64(res, r, 1);
        items[i].rc = su_active(res, r, 2) ? DB_OK : DB_STATE;
    }
    PQclear(res);
    return DB_OK;
}

/* All points of the items still DB_OK, in one write. */
static int write_group_points(const struct metrics_write *items, size_t n, const int64_t *run_ids)
{
    size_t total = 0, at = 0;
    for (size_t i = 0; i < n; i++)
        total += items[i].rc == DB_OK ? items[i].n : 0;
    if (total == 0)
        return DB_OK;
    int64_t *runs = xmalloc(total * sizeof *runs);
    struct metric *points = xmalloc(total * sizeof *points);
    for (size_t i = 0; i < n; i++) {
        if (items[i].rc != DB_OK)
            continue;
        for (size_t p = 0; p < items[i].n; p++, at++) {
            runs[at] = run_ids[i];
            points[at] = items[i].metrics[p];
        }
    }
    int rc = write_points(runs, points, total, 0);
    free(runs);
    free(points);
    return rc;
}

/* One attempt of a group: runs, then every point at once; when that fails,
 * item by item under savepoints so that a bad item fails alone. */
static int group_keyed(const struct metrics_write *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (items[i].idem_key != NULL)
            return 1;
    return 0;
}

/* Item by item, each under a savepoint, in the open transaction: a keyed
 * item first claims its key (a replay writes nothing), and a failing item
 * is rolled back with its key. */
static int write_group_items(struct metrics_write *items, size_t n, const int64_t *run_ids)
{
    int rc;
    for (size_t i = 0; i < n; i++) {
        if (items[i].rc != DB_OK)
            continue;
        if ((rc = db_exec("SAVEPOINT metrics_item", 0, NULL, NULL)) != DB_OK)
            return rc;
        if (items[i].idem_key != NULL) {
            if ((rc = store_idempotency_claim(items[i].idem_key, &items[i].replayed)) != DB_OK)
                return rc;
            if (items[i].replayed)
                continue;
        }
        rc = write_group_points(&items[i], 1, &run_ids[i]);
        if (rc == DB_UNAVAILABLE || rc == DB_RETRY || rc == DB_TIMEOUT)
            return rc;
        if (rc != DB_OK) {
            items[i].rc = rc;
            if ((rc = db_exec("ROLLBACK TO SAVEPOINT metrics_item", 0, NULL, NULL)) != DB_OK)
                return rc;
        }
    }
    return DB_OK;
}

static int write_group_once(struct metrics_write *items, size_t n, int64_t *run_ids)
{
    int rc;
    for (size_t i = 0; i < n; i++)
        items[i].replayed = 0;
    if ((rc = db_begin()) != DB_OK)
        return rc;
    if ((rc = resolve_group_runs(items, n, run_ids)) != DB_OK)
        goto fail;
    if (!group_keyed(items, n)) {
        /* all points at once; item by item only when that fails */
        if ((rc = db_exec("SAVEPOINT metrics_group", 0, NULL, NULL)) != DB_OK)
            goto fail;
        rc = write_group_points(items, n, run_ids);
        if (rc == DB_UNAVAILABLE || rc == DB_RETRY || rc == DB_TIMEOUT)
            goto fail;
        if (rc == DB_OK)
            return db_commit();
        if ((rc = db_exec("ROLLBACK TO SAVEPOINT metrics_group", 0, NULL, NULL)) != DB_OK)
            goto fail;
    }
    if ((rc = write_group_items(items, n, run_ids)) != DB_OK)
        goto fail;
    return db_commit();
fail:
    db_rollback();
    return rc;
}

/* A whole group in one statement, outside any explicit transaction (the
 * statement is the transaction: one round trip, one commit): runs resolved
 * by uuid, points of active runs inserted and their blocks raised, the best
 * point per run and key raising latest_metrics. Answers each item's run.
 * The insert has no ON CONFLICT: a point stored already (a client's retry)
 * fails the statement whole, and store_metrics_write_group writes the
 * group again on the path that skips such twins. Skipping them here costs
 * every group a conflict probe and an extra WAL record per point, and the
 * blocks then have to count what RETURNING says was inserted: together
 * about a tenth of the statement. */
static const char group_sql[] =
    "WITH it AS ("
    "  SELECT u.ord, r.id, r.lifecycle_stage"
    "  FROM unnest($1::uuid[]) WITH ORDINALITY AS u(uuid, ord)"
    "  JOIN runs r ON r.run_uuid = u.uuid),"
    " pts AS ("
    "  SELECT it.id AS run_id, p.key_id, p.step, p.timestamp, p.value, p.n"
    "  FROM unnest($2::int[], $3::int[], $4::bigint[], $5::bigint[], $6::float8[])"
    "       WITH ORDINALITY AS p(item, key_id, step, timestamp, value, n)"
    "  JOIN it ON it.ord = p.item AND it.lifecycle_stage = 'active'),"
    " ins AS ("
    "  INSERT INTO metrics (run_id, key_id, step, timestamp, value)"
    "  SELECT run_id, key_id, step, timestamp, value FROM pts),"
    " blk AS (" BLOCKS_SELECT " FROM pts" BLOCKS_GROUP "),"
    " best AS ("
    "  SELECT DISTINCT ON (run_id, key_id) run_id, key_id, step, timestamp, value FROM pts"
    "  ORDER BY run_id, key_id, step DESC, timestamp DESC,"
    "   CASE WHEN value = 'NaN' THEN 0 ELSE value END DESC, n),"
    " up AS ("
    "  INSERT INTO latest_metrics AS l (run_id, key_id, step, timestamp, value)"
    "  SELECT run_id, key_id, step, timestamp, value FROM best"
    "  ORDER BY run_id, key_id" LATEST_UPSERT "),"
    " ik AS ("
    "  INSERT INTO idempotency_keys (key)"
    "  SELECT k.key FROM unnest($7::text[]) WITH ORDINALITY AS k(key, ord)"
    "  JOIN it ON it.ord = k.ord AND it.lifecycle_stage = 'active'"
    "  WHERE k.key IS NOT NULL)"
    " SELECT ord, lifecycle_stage FROM it";

/* The connection (and its backend) on which this thread prepared
 * group_sql: a reconnect gets a new backend, which needs it again. */
static __thread PGconn *group_prepared_conn;
static __thread int group_prepared_pid;

/* Runs group_sql as a prepared statement: a group commit runs it hundreds
 * of times a second, and planning the statement each time costs about as
 * much as executing it. params[0] and params[6] are text, the others binary
 * arrays of lengths[1..6). */
static int exec_group(const char *const *params, const int *lengths, PGresult **res)
{
    PGconn *conn = db_conn();
    *res = NULL;
    if (conn == NULL)
        return DB_UNAVAILABLE;
    if (conn != group_prepared_conn || PQbackendPID(conn) != group_prepared_pid) {
        PGresult *p = PQprepare(conn, "exptrack_group_write", group_sql, 7, NULL);
        int rc = db_result_status(conn, p, group_sql);
        PQclear(p);
        if (rc != DB_OK)
            return rc;
        group_prepared_conn = conn;
        group_prepared_pid = PQbackendPID(conn);
    }
    static const int formats[7] = {0, 1, 1, 1, 1, 1, 0};
    PGresult *r = PQexecPrepared(conn, "exptrack_group_write", 7, params, lengths, formats, 0);
    int rc = db_result_status(conn, r, group_sql);
    if (rc != DB_OK) {
        PQclear(r);
        return rc;
    }
    *res = r;
    return DB_OK;
}

/* The element types of group_sql's binary array parameters $2..$6. */
#define INT4_OID 23
#define INT8_OID 20
#define FLOAT8_OID 701

static int write_group_fast(struct metrics_write *items, size_t n)
{
    size_t total = 0, at = 0;
    /* $1: the run uuids as a text array; $2..$6, per point, binary arrays
     * of item, key, step, timestamp and value, neither printed here nor
     * parsed by the server (an interleaved A/B of single-point log-metric:
     * 30.5 against 31.7 us of exptrackd CPU per request, and 19,400
     * against 19,100 req/s) */
    struct sbuf uuids, keys, cols[5];
    const char *params[7];
    int lengths[7] = {0};
    PGresult *res = NULL;
    int rc;

    for (size_t i = 0; i < n; i++)
        total += items[i].n;
    struct metric *points = xmalloc((total + 1) * sizeof *points);
    int32_t *ids = xmalloc((total + 1) * sizeof *ids);
    sbuf_init(&uuids);
    sbuf_init(&keys);
    for (int c = 0; c < 5; c++)
        sbuf_init(&cols[c]);
    sbuf_addc(&uuids, '{');
    sbuf_addc(&keys, '{');
    for (size_t i = 0; i < n; i++) {
        su_array_text(&uuids, items[i].run_id, i == 0);
        if (items[i].idem_key != NULL)
            su_array_text(&keys, items[i].idem_key, i == 0);
        else
            sbuf_adds(&keys, i == 0 ? "NULL" : ",NULL");
        items[i].rc = DB_NOT_FOUND;
        items[i].replayed = 0;
        for (size_t p = 0; p < items[i].n; p++)
            points[at++] = items[i].metrics[p];
    }
    sbuf_addc(&uuids, '}');
    sbuf_addc(&keys, '}');
    if ((rc = store_metrics_key_ids(points, total, ids)) != DB_OK)
        goto out;
    su_barray_begin(&cols[0], INT4_OID, total);
    su_barray_begin(&cols[1], INT4_OID, total);
    su_barray_begin(&cols[2], INT8_OID, total);
    su_barray_begin(&cols[3], INT8_OID, total);
    su_barray_begin(&cols[4], FLOAT8_OID, total);
    at = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t p = 0; p < items[i].n; p++, at++) {
            su_barray_int4(&cols[0], (int32_t)i + 1);
            su_barray_int4(&cols[1], ids[at]);
            su_barray_int8(&cols[2], points[at].step);
            su_barray_int8(&cols[3], points[at].timestamp);
            su_barray_float8(&cols[4], points[at].value);
        }
    }
    params[0] = uuids.data;
    for (int c = 0; c < 5; c++) {
        params[c + 1] = cols[c].data;
        lengths[c + 1] = (int)cols[c].len;
    }
    params[6] = keys.data;
    if ((rc = exec_group(params, lengths, &res)) != DB_OK)
        goto out;
    for (int r = 0; r < PQntuples(res); r++) {
        size_t i = (size_t)(su_int64(res, r, 0) - 1);
        items[i].rc = su_active(res, r, 1) ? DB_OK : DB_STATE;
    }
    PQclear(res);
out:
    sbuf_cleanup(&uuids);
    sbuf_cleanup(&keys);
    cols_cleanup(cols, 5);
    free(points);
    free(ids);
    return rc;
}

/* Items without a point for a logged model: one statement when it can. */
static int write_group_plain(struct metrics_write *items, size_t n)
{
    int rc;
    if (n == 0)
        return DB_OK;
    /* the common case: one statement, one round trip, one commit */
    rc = write_group_fast(items, n);
    if (rc == DB_OK)
        return DB_OK;
    for (size_t i = 0; i < n; i++) /* the statement failed whole: no item's outcome is known */
        items[i].rc = DB_OK;
    if (rc != DB_UNAVAILABLE && rc != DB_TIMEOUT && rc != DB_DISK_FULL) {
        /* a point stored already, an item that broke the statement, or a
         * deadlock: again, skipping stored points, item by item if need be */
        rc = DB_RETRY;
        int64_t *run_ids = xcalloc(n, sizeof *run_ids);
        for (int attempt = 0; attempt < 3 && rc == DB_RETRY; attempt++)
            rc = write_group_once(items, n, run_ids);
        free(run_ids);
    }
    if (rc != DB_OK) {
        for (size_t i = 0; i < n; i++)
            if (items[i].rc == DB_OK)
                items[i].rc = rc;
    }
    return rc;
}

/* Items with a point for a logged model: the transaction path, which writes
 * the model side in the same commit. */
static int write_group_linked(struct metrics_write *items, size_t n)
{
    int rc = DB_RETRY;
    if (n == 0)
        return DB_OK;
    for (size_t i = 0; i < n; i++)
        items[i].rc = DB_OK;
    int64_t *run_ids = xcalloc(n, sizeof *run_ids);
    for (int attempt = 0; attempt < 3 && rc == DB_RETRY; attempt++)
        rc = write_group_once(items, n, run_ids);
    free(run_ids);
    if (rc != DB_OK) {
        for (size_t i = 0; i < n; i++)
            if (items[i].rc == DB_OK)
                items[i].rc = rc;
    }
    return rc;
}

static int item_linked(const struct metrics_write *item)
{
    for (size_t p = 0; p < item->n; p++)
        if (item->metrics[p].link != NULL)
            return 1;
    return 0;
}

/* Counts the keys the group stored, for their cleanup. */
static void expire_group_keys(const struct metrics_write *items, size_t n)
{
    size_t stored = 0;
    for (size_t i = 0; i < n; i++)
        stored += items[i].idem_key != NULL && items[i].rc == DB_OK && !items[i].replayed;
    store_idempotency_expire_tick(stored);
}

int store_metrics_write_group(struct metrics_write *items, size_t n)
{
    size_t linked = 0;
    for (size_t i = 0; i < n; i++)
        linked += item_linked(&items[i]);
    if (linked == 0) {
        int rc = write_group_plain(items, n); /* the hot path */
        expire_group_keys(items, n);
        return rc;
    }
    /* split: plain items keep their one-statement write, linked ones go
     * through a transaction of their own; each item is acknowledged only
     * after the commit that holds it */
    struct metrics_write *split = xmalloc(n * sizeof *split);
    size_t *from = xmalloc(n * sizeof *from);
    size_t nplain = 0, nlinked = 0;
    for (size_t i = 0; i < n; i++) {
        if (!item_linked(&items[i])) {
            from[nplain] = i;
            split[nplain++] = items[i];
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (item_linked(&items[i])) {
            from[nplain + nlinked] = i;
            split[nplain + nlinked++] = items[i];
        }
    }
    int rc_plain = write_group_plain(split, nplain);
    int rc_linked = write_group_linked(split + nplain, nlinked);
    for (size_t k = 0; k < n; k++)
        items[from[k]].rc = split[k].rc;
    for (size_t k = 0; k < n; k++)
        items[from[k]].replayed = split[k].replayed;
    free(split);
    free(from);
    expire_group_keys(items, n);
    return rc_plain != DB_OK ? rc_plain : rc_linked;
}
