/* Loading what a search returns for each run: params, tags and latest
 * metrics (optionally only named keys, for wide experiments) and dataset
 * inputs. One statement per kind for the whole page, rows ordered by the
 * run's position so each run's slice is contiguous. */
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"
#include "store_search.h"
#include "store_util.h"

#define RUNS_CTE " FROM unnest($1::bigint[]) WITH ORDINALITY AS r(id, ord)"

/* Row range [*begin, *end) of result rows with ord == run + 1 (column 0),
 * continuing from *end of the previous run. */
static void run_rows(const PGresult *res, size_t run, int *begin, int *end)
{
    int rows = PQntuples(res);
    *begin = *end;
    while (*end < rows && (size_t)su_int64(res, *end, 0) == run + 1)
        (*end)++;
}

static void array_of(struct sbuf *b, const char *const *items, size_t n)
{
    sbuf_addc(b, '{');
    for (size_t i = 0; i < n; i++)
        su_array_text(b, items[i], i == 0);
    sbuf_addc(b, '}');
}

/* Runs sql ($1 run ids, $2 key list or NULL) and returns the result. */
static int query(const char *sql, const char *ids, const char *const *keys, size_t nkeys, int all,
                 PGresult **res)
{
    struct sbuf list;
    sbuf_init(&list);
    if (!all)
        array_of(&list, keys, nkeys);
    const char *params[] = {ids, all ? NULL : list.data};
    int rc = db_exec(sql, 2, params, res);
    sbuf_cleanup(&list);
    return rc;
}

static int load_kv(const char *table, const char *ids, struct run *runs, size_t n,
                   const char *const *keys, size_t nkeys, int all, int tags, struct arena *arena)
{
    char sql[320];
    PGresult *res = NULL;

    if (!all && nkeys == 0)
        return DB_OK;
    snprintf(sql, sizeof sql,
             "SELECT r.ord, p.key, p.value" RUNS_CTE " JOIN %s p ON p.run_id = r.id"
             " WHERE $2::text[] IS NULL OR p.key = ANY($2::text[]) ORDER BY r.ord, p.key",
             table);
    int rc = query(sql, ids, keys, nkeys, all, &res);
    if (rc != DB_OK)
        return rc;
    int begin, end = 0;
    for (size_t i = 0; i < n; i++) {
        run_rows(res, i, &begin, &end);
        if (end == begin)
            continue;
        struct kv *kv = arena_alloc(arena, (size_t)(end - begin) * sizeof *kv);
        for (int r = begin; r < end; r++) {
            kv[r - begin].key = su_str(res, r, 1, arena);
            kv[r - begin].value = su_str(res, r, 2, arena);
        }
        if (tags) {
            runs[i].tags = kv;
            runs[i].ntags = (size_t)(end - begin);
        } else {
            runs[i].params = kv;
            runs[i].nparams = (size_t)(end - begin);
        }
    }
    PQclear(res);
    return DB_OK;
}

static int load_metrics(const char *ids, struct run *runs, size_t n, const char *const *keys,
                        size_t nkeys, int all, struct arena *arena)
{
    PGresult *res = NULL;

    if (!all && nkeys == 0)
        return DB_OK;
    int rc = query("SELECT r.ord, k.name, l.value, l.timestamp, l.step" RUNS_CTE
                   " JOIN latest_metrics l ON l.run_id = r.id JOIN metric_keys k ON k.id = l.key_id"
                   " WHERE $2::text[] IS NULL OR k.name = ANY($2::text[]) ORDER BY r.ord, k.name",
                   ids, keys, nkeys, all, &res);
    if (rc != DB_OK)
        return rc;
    int begin, end = 0;
    for (size_t i = 0; i < n; i++) {
        run_rows(res, i, &begin, &end);
        if (end == begin)
            continue;
        struct metric *m = arena_alloc(arena, (size_t)(end - begin) * sizeof *m);
        for (int r = begin; r < end; r++) {
            m[r - begin].key = su_str(res, r, 1, arena);
            m[r - begin].value = su_double(res, r, 2);
            m[r - begin].timestamp = su_int64(res, r, 3);
            m[r - begin].step = su_int64(res, r, 4);
        }
        runs[i].metrics = m;
        runs[i].nmetrics = (size_t)(end - begin);
    }
    PQclear(res);
    return DB_OK;
}

/* Compares (ord, dataset id) of row a in res_a with row b in res_b. */
static int cmp_pair(const PGresult *ra, int a, const PGresult *rb, int b)
{
    int64_t oa = su_int64(ra, a, 0), ob = su_int64(rb, b, 0);
    if (oa != ob)
        return oa < ob ? -1 : 1;
    int64_t da = su_int64(ra, a, 1), db = su_int64(rb, b, 1);
    return da < db ? -1 : da > db;
}

/* Attaches input tags (rows ord, dataset_id, key, value) to the inputs read
 * from `inputs` (rows ord, dataset_id, ...), merging the two sorted lists. */
static void attach_input_tags(const PGresult *inputs, const PGresult *tags, struct run *runs,
                              struct arena *arena)
{
    int t = 0, ntags = PQntuples(tags);
    for (int i = 0; i < PQntuples(inputs); i++) {
        struct run *run = &runs[su_int64(inputs, i, 0) - 1];
        /* inputs of a run arrive in order, so the k-th row of the run is input k */
        size_t k = 0;
        while (k < run->ninputs && run->inputs[k].tags != NULL)
            k++;
        while (t < ntags && cmp_pair(tags, t, inputs, i) < 0)
            t++;
        int first = t;
        while (t < ntags && cmp_pair(tags, t, inputs, i) == 0)
            t++;
        struct dataset_input *in = &run->inputs[k];
        in->tags = arena_alloc(arena, (size_t)(t - first + 1) * sizeof *in->tags);
        for (int r = first; r < t; r++) {
            in->tags[in->ntags].key = su_str(tags, r, 2, arena);
            in->tags[in->ntags++].value = su_str(tags, r, 3, arena);
        }
    }
    for (int i = 0; i < PQntuples(inputs); i++) {
        struct run *run = &runs[su_int64(inputs, i, 0) - 1];
        for (size_t k = 0; k < run->ninputs; k++)
            if (run->inputs[k].ntags == 0)
                run->inputs[k].tags = NULL;
    }
}

static int load_inputs(const char *ids, struct run *runs, size_t n, struct arena *arena)
{
    const char *params[] = {ids};
    PGresult *res = NULL, *tags = NULL;
    int rc = db_exec("SELECT r.ord, d.id, d.name, d.digest, d.source_type, d.source, d.schema,"
                     " d.profile" RUNS_CTE " JOIN run_inputs ri ON ri.run_id = r.id"
                     " JOIN datasets d ON d.id = ri.dataset_id ORDER BY r.ord, d.id",
                     1, params, &res);
    if (rc != DB_OK || PQntuples(res) == 0)
        goto out;
    rc = db_exec("SELECT r.ord, t.dataset_id, t.key, t.value" RUNS_CTE
                 " JOIN input_tags t ON t.run_id = r.id ORDER BY r.ord, t.dataset_id, t.key",
                 1, params, &tags);
    if (rc != DB_OK)
        goto out;
    int begin, end = 0;
    for (size_t i = 0; i < n; i++) {
        run_rows(res, i, &begin, &end);
        if (end == begin)
            continue;
        runs[i].inputs = arena_alloc(arena, (size_t)(end - begin) * sizeof *runs[i].inputs);
        runs[i].ninputs = (size_t)(end - begin);
        for (int r = begin; r < end; r++) {
            struct dataset *d = &runs[i].inputs[r - begin].dataset;
            d->name = su_str(res, r, 2, arena);
            d->digest = su_str(res, r, 3, arena);
            d->source_type = su_str(res, r, 4, arena);
            d->source = su_str(res, r, 5, arena);
            d->schema = su_str(res, r, 6, arena);
            d->profile = su_str(res, r, 7, arena);
        }
    }
    attach_input_tags(res, tags, runs, arena);
out:
    PQclear(res);
    PQclear(tags);
    return rc;
}

int store_search_load_children(struct run *runs, size_t n, const struct key_select *select,
                               struct arena *arena)
{
    struct sbuf ids;
    int rc;
    const struct key_select all = {.all_metrics = 1, .all_params = 1, .all_tags = 1};
    const struct key_select *s = select ? select : &all;

    if (n == 0)
        return DB_OK;
    sbuf_init(&ids);
    sbuf_addc(&ids, '{');
    for (size_t i = 0; i < n; i++)
        su_array_int64(&ids, runs[i].info.internal_id, i == 0);
    sbuf_addc(&ids, '}');
    rc = load_kv("params", ids.data, runs, n, s->params, s->nparams, s->all_params, 0, arena);
    if (rc == DB_OK)
        rc = load_kv("tags", ids.data, runs, n, s->tags, s->ntags, s->all_tags, 1, arena);
    if (rc == DB_OK)
        rc = load_metrics(ids.data, runs, n, s->metrics, s->nmetrics, s->all_metrics, arena);
    if (rc == DB_OK)
        rc = load_inputs(ids.data, runs, n, arena);
    sbuf_cleanup(&ids);
    return rc;
}
