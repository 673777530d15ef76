/* Loading what a search returns for each run: params, tags and latest
 * metrics (optionally only named keys, for wide experiments), dataset
 * inputs and logged-model outputs and inputs. One statement reads every param, tag and metric of
 * the whole page (a UNION ALL of the three tables, each row tagged with the run's position and its
 * kind) and marks the runs that have inputs or model links; only those runs cost the dataset
 * statements or the model statement. Rows are bucketed by run in C and each run's lists sorted
 * there by key (bytewise), so PostgreSQL never sorts text. Metric values stay in PostgreSQL's text
 * form: float8 output is already the shortest decimal that reads back exactly, so the reply copies
 * it instead of parsing and printing every double again. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"
#include "store_search.h"
#include "db/store_util.h"

#define RUNS_OF " FROM unnest($1::bigint[]) WITH ORDINALITY AS r(id, ord)"
/* The page's runs as a materialized CTE: a CTE scan is parallel restricted,
 * so the ~4,000-row statement never pays for starting parallel workers
 * (which made it ten times slower than running it in one process). */
#define PAGE_CTE                                                                                   \
    "WITH r AS MATERIALIZED (SELECT * FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, ord)) "
#define FROM_PAGE " FROM r"

enum child_kind {
    KIND_PARAM = 0,
    KIND_TAG = 1,
    KIND_METRIC = 2,
    KIND_INPUTS = 3, /* one row per run that has dataset inputs */
    KIND_MODELS = 4, /* one row per run linked to logged models */
};

static void array_of(struct sbuf *b, const char *const *items, size_t n)
{
    sbuf_addc(b, '{');
    for (size_t i = 0; i < n; i++)
        su_array_text(b, items[i], i == 0);
    sbuf_addc(b, '}');
}

/* Appends " UNION ALL " unless this is the first part. */
static void next_part(struct sbuf *sql, int *parts)
{
    if ((*parts)++ > 0)
        sbuf_adds(sql, " UNION ALL ");
}

/* Binds a key list as the next parameter and returns its number. */
static int bind_keys(struct sbuf *lists, const char **params, int *nparams, const char *const *keys,
                     size_t n)
{
    sbuf_init(&lists[*nparams]);
    array_of(&lists[*nparams], keys, n);
    params[*nparams] = lists[*nparams].data;
    return ++*nparams;
}

/* The statement: rows (ord, kind, key, value, timestamp, step). Parameter
 * $1 is the run id array; key lists follow as needed. Returns the number of
 * parameters (lists[1..n) then need sbuf_cleanup). */
static int build_children_sql(struct sbuf *sql, const struct key_select *s, struct sbuf *lists,
                              const char **params)
{
    int nparams = 1, parts = 0, p;

    sbuf_adds(sql, PAGE_CTE);

    if (s->all_params || s->nparams > 0) {
        next_part(sql, &parts);
        sbuf_adds(sql, "SELECT r.ord, 0, p.key, p.value, NULL::bigint, NULL::bigint" FROM_PAGE
                       " JOIN params p ON p.run_id = r.id");
        if (!s->all_params) {
            p = bind_keys(lists, params, &nparams, s->params, s->nparams);
            sbuf_addf(sql, " AND p.key = ANY($%d::text[])", p);
        }
    }
    if (s->all_tags || s->ntags > 0) {
        next_part(sql, &parts);
        sbuf_adds(sql, "SELECT r.ord, 1, t.key, t.value, NULL::bigint, NULL::bigint" FROM_PAGE
                       " JOIN tags t ON t.run_id = r.id");
        if (!s->all_tags) {
            p = bind_keys(lists, params, &nparams, s->tags, s->ntags);
            sbuf_addf(sql, " AND t.key = ANY($%d::text[])", p);
        }
    }
    if (s->all_metrics || s->nmetrics > 0) {
        next_part(sql, &parts);
        sbuf_adds(sql, "SELECT r.ord, 2, k.name, l.value::text, l.timestamp, l.step" FROM_PAGE
                       " JOIN latest_metrics l ON l.run_id = r.id");
        if (!s->all_metrics) {
            p = bind_keys(lists, params, &nparams, s->metrics, s->nmetrics);
            sbuf_addf(sql,
                      " AND l.key_id = ANY(ARRAY(SELECT id FROM metric_keys"
                      " WHERE name = ANY($%d::text[])))",
                      p);
        }
        sbuf_adds(sql, " JOIN metric_keys k ON k.id = l.key_id");
    }
    next_part(sql, &parts);
    sbuf_adds(sql, "SELECT r.ord, 3, NULL::text, NULL::text, NULL::bigint, NULL::bigint" FROM_PAGE
                   " WHERE EXISTS (SELECT 1 FROM run_inputs i WHERE i.run_id = r.id)");
    next_part(sql, &parts);
    sbuf_adds(sql, "SELECT r.ord, 4, NULL::text, NULL::text, NULL::bigint, NULL::bigint" FROM_PAGE
                   " WHERE EXISTS (SELECT 1 FROM run_model_outputs o WHERE o.run_id = r.id)"
                   " OR EXISTS (SELECT 1 FROM run_model_inputs i WHERE i.run_id = r.id)");
    return nparams;
}

static int cmp_kv(const void *a, const void *b)
{
    return strcmp(((const struct kv *)a)->key, ((const struct kv *)b)->key);
}

static int cmp_metric(const void *a, const void *b)
{
    return strcmp(((const struct metric_text *)a)->key, ((const struct metric_text *)b)->key);
}

/* Row r's run index (0-based), or -1 when out of range. */
static long row_run(const PGresult *res, int r, size_t n)
{
    int64_t ord = su_int64(res, r, 0);
    return ord >= 1 && (size_t)ord <= n ? (long)(ord - 1) : -1;
}

/* A non-NULL text column: the result's own bytes when the result is kept
 * (store_search_release frees it), else an arena copy. */
static const char *text_of(const PGresult *res, int r, int col, struct arena *arena, int keep)
{
    return keep ? PQgetvalue(res, r, col) : su_str(res, r, col, arena);
}

/* Distributes the rows over the runs: counts, allocates, fills, sorts.
 * *with_inputs gets how many runs have dataset inputs (their ninputs is set
 * to 1 as a mark, see load_inputs), *with_models how many are linked to
 * logged models (nmodel_outputs 1, see load_models). */
static void distribute(const PGresult *res, struct search_run *runs, size_t n, struct arena *arena,
                       int keep, size_t *with_inputs, size_t *with_models)
{
    int rows = PQntuples(res);
    *with_inputs = 0;
    *with_models = 0;
    for (int r = 0; r < rows; r++) {
        long i = row_run(res, r, n);
        if (i < 0)
            continue;
        switch (su_int64(res, r, 1)) {
        case KIND_PARAM:
            runs[i].nparams++;
            break;
        case KIND_TAG:
            runs[i].ntags++;
            break;
        case KIND_METRIC:
            runs[i].nmetrics++;
            break;
        case KIND_MODELS:
            runs[i].nmodel_outputs = 1; /* a mark, see load_models */
            (*with_models)++;
            break;
        default:
            runs[i].ninputs = 1;
            (*with_inputs)++;
            break;
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct search_run *run = &runs[i];
        run->params = run->nparams ? arena_alloc(arena, run->nparams * sizeof *run->params) : NULL;
        run->tags = run->ntags ? arena_alloc(arena, run->ntags * sizeof *run->tags) : NULL;
        run->metrics =
            run->nmetrics ? arena_alloc(arena, run->nmetrics * sizeof *run->metrics) : NULL;
        run->nparams = run->ntags = run->nmetrics = 0;
    }
    for (int r = 0; r < rows; r++) {
        long i = row_run(res, r, n);
        if (i < 0)
            continue;
        struct search_run *run = &runs[i];
        int64_t kind = su_int64(res, r, 1);
        if (kind == KIND_PARAM || kind == KIND_TAG) {
            struct kv *kv =
                kind == KIND_PARAM ? &run->params[run->nparams++] : &run->tags[run->ntags++];
            kv->key = text_of(res, r, 2, arena, keep);
            kv->value = text_of(res, r, 3, arena, keep);
        } else if (kind == KIND_METRIC) {
            struct metric_text *m = &run->metrics[run->nmetrics++];
            m->key = text_of(res, r, 2, arena, keep);
            m->value = text_of(res, r, 3, arena, keep);
            m->timestamp = text_of(res, r, 4, arena, keep);
            m->step = text_of(res, r, 5, arena, keep);
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct search_run *run = &runs[i];
        if (run->nparams > 1)
            qsort(run->params, run->nparams, sizeof *run->params, cmp_kv);
        if (run->ntags > 1)
            qsort(run->tags, run->ntags, sizeof *run->tags, cmp_kv);
        if (run->nmetrics > 1)
            qsort(run->metrics, run->nmetrics, sizeof *run->metrics, cmp_metric);
    }
}

/* Compares (ord, dataset id) of row a of ra with row b of rb. */
static int cmp_pair(const PGresult *ra, int a, const PGresult *rb, int b)
{
    int64_t oa = su_int64(ra, a, 0), ob = su_int64(rb, b, 0);
    if (oa != ob)
        return oa < ob ? -1 : 1;
    int64_t da = su_int64(ra, a, 1), db = su_int64(rb, b, 1);
    return da < db ? -1 : da > db;
}

/* Attaches input tags (rows ord, dataset_id, key, value) to the inputs read
 * from `inputs` (rows ord, dataset_id, ...; both sorted by ord, dataset_id),
 * merging the two lists. subset[ord - 1] is the run of that position. */
static void attach_input_tags(const PGresult *inputs, const PGresult *tags,
                              struct search_run **subset, struct arena *arena)
{
    int t = 0, ntags = PQntuples(tags);
    size_t k = 0;
    for (int i = 0; i < PQntuples(inputs); i++) {
        struct search_run *run = subset[su_int64(inputs, i, 0) - 1];
        k = i > 0 && su_int64(inputs, i - 1, 0) == su_int64(inputs, i, 0) ? k + 1 : 0;
        while (t < ntags && cmp_pair(tags, t, inputs, i) < 0)
            t++;
        int first = t;
        while (t < ntags && cmp_pair(tags, t, inputs, i) == 0)
            t++;
        struct dataset_input *in = &run->inputs[k];
        in->ntags = 0;
        in->tags = t > first ? arena_alloc(arena, (size_t)(t - first) * sizeof *in->tags) : NULL;
        for (int r = first; r < t; r++) {
            in->tags[in->ntags].key = su_str(tags, r, 2, arena);
            in->tags[in->ntags++].value = su_str(tags, r, 3, arena);
        }
    }
}

/* Loads the dataset inputs of the runs marked by distribute (ninputs 1). */
static int load_inputs(struct search_run *runs, size_t n, size_t marked, struct arena *arena)
{
    struct search_run **subset = arena_alloc(arena, marked * sizeof *subset);
    struct sbuf ids;
    PGresult *res = NULL, *tags = NULL;
    size_t m = 0;

    sbuf_init(&ids);
    sbuf_addc(&ids, '{');
    for (size_t i = 0; i < n; i++) {
        if (runs[i].ninputs == 0)
            continue;
        runs[i].ninputs = 0;
        su_array_int64(&ids, runs[i].info.internal_id, m == 0);
        subset[m++] = &runs[i];
    }
    sbuf_addc(&ids, '}');
    const char *params[] = {ids.data};
    int rc = db_exec("SELECT r.ord, d.id, d.name, d.digest, d.source_type, d.source, d.schema,"
                     " d.profile" RUNS_OF " JOIN run_inputs ri ON ri.run_id = r.id"
                     " JOIN datasets d ON d.id = ri.dataset_id ORDER BY r.ord, d.id",
                     1, params, &res);
    if (rc != DB_OK)
        goto out;
    rc = db_exec("SELECT r.ord, t.dataset_id, t.key, t.value" RUNS_OF
                 " JOIN input_tags t ON t.run_id = r.id ORDER BY r.ord, t.dataset_id, t.key",
                 1, params, &tags);
    if (rc != DB_OK)
        goto out;
    int rows = PQntuples(res);
    for (int r = 0; r < rows; r++)
        subset[su_int64(res, r, 0) - 1]->ninputs++;
    for (size_t i = 0; i < m; i++) {
        subset[i]->inputs =
            arena_alloc(arena, (subset[i]->ninputs + 1) * sizeof(struct dataset_input));
        subset[i]->ninputs = 0;
    }
    for (int r = 0; r < rows; r++) {
        struct search_run *run = subset[su_int64(res, r, 0) - 1];
        struct dataset *d = &run->inputs[run->ninputs++].dataset;
        d->name = su_str(res, r, 2, arena);
        d->digest = su_str(res, r, 3, arena);
        d->source_type = su_str(res, r, 4, arena);
        d->source = su_str(res, r, 5, arena);
        d->schema = su_str(res, r, 6, arena);
        d->profile = su_str(res, r, 7, arena);
    }
    attach_input_tags(res, tags, subset, arena);
out:
    sbuf_cleanup(&ids);
    PQclear(res);
    PQclear(tags);
    return rc;
}

/* Loads the logged-model outputs (in seq order) and inputs (by model id)
 * of the runs marked by distribute (nmodel_outputs 1), in one statement. */
static int load_models(struct search_run *runs, size_t n, size_t marked, struct arena *arena)
{
    struct search_run **subset = arena_alloc(arena, marked * sizeof *subset);
    struct sbuf ids;
    PGresult *res = NULL;
    size_t m = 0;

    sbuf_init(&ids);
    sbuf_addc(&ids, '{');
    for (size_t i = 0; i < n; i++) {
        if (runs[i].nmodel_outputs == 0)
            continue;
        runs[i].nmodel_outputs = 0;
        su_array_int64(&ids, runs[i].info.internal_id, m == 0);
        subset[m++] = &runs[i];
    }
    sbuf_addc(&ids, '}');
    const char *params[] = {ids.data};
    int rc = db_exec("SELECT r.ord, 0 AS kind, o.model_id, o.step, o.seq" RUNS_OF
                     " JOIN run_model_outputs o ON o.run_id = r.id"
                     " UNION ALL SELECT r.ord, 1, i.model_id, 0, 0" RUNS_OF
                     " JOIN run_model_inputs i ON i.run_id = r.id"
                     " ORDER BY 1, 2, 5, 3",
                     1, params, &res);
    if (rc != DB_OK)
        goto out;
    int rows = PQntuples(res);
    for (int r = 0; r < rows; r++) {
        struct search_run *run = subset[su_int64(res, r, 0) - 1];
        if (su_int64(res, r, 1) == 0)
            run->nmodel_outputs++;
        else
            run->nmodel_inputs++;
    }
    for (size_t i = 0; i < m; i++) {
        struct search_run *run = subset[i];
        run->model_outputs =
            arena_alloc(arena, (run->nmodel_outputs + 1) * sizeof(struct model_link));
        run->model_inputs =
            arena_alloc(arena, (run->nmodel_inputs + 1) * sizeof(struct model_link));
        run->nmodel_outputs = run->nmodel_inputs = 0;
    }
    for (int r = 0; r < rows; r++) {
        struct search_run *run = subset[su_int64(res, r, 0) - 1];
        struct model_link *l = su_int64(res, r, 1) == 0 ? &run->model_outputs[run->nmodel_outputs++]
                                                        : &run->model_inputs[run->nmodel_inputs++];
        l->model_id = su_str(res, r, 2, arena);
        l->step = su_int64(res, r, 3);
    }
out:
    sbuf_cleanup(&ids);
    PQclear(res);
    return rc;
}

int store_search_load_runs(struct search_run *runs, size_t n, const struct key_select *select,
                           struct arena *arena, struct search_hold *hold)
{
    static const struct key_select all = {.all_metrics = 1, .all_params = 1, .all_tags = 1};
    const struct key_select *s = select ? select : &all;
    struct sbuf ids, sql, lists[4];
    const char *params[4];
    PGresult *res = NULL;
    size_t with_inputs = 0, with_models = 0;

    if (n == 0)
        return DB_OK;
    sbuf_init(&ids);
    sbuf_init(&sql);
    sbuf_addc(&ids, '{');
    for (size_t i = 0; i < n; i++)
        su_array_int64(&ids, runs[i].info.internal_id, i == 0);
    sbuf_addc(&ids, '}');
    params[0] = ids.data;
    int nparams = build_children_sql(&sql, s, lists, params);
    /* Every key (searches without the select extension, runs/get) is one
     * fixed statement: prepared, it is planned once per connection instead
     * of on every page (planning cost as much as a third of running it). */
    int rc = s == &all ? db_exec_prepared("search_children_all", sql.data, nparams, params, &res)
                       : db_exec(sql.data, nparams, params, &res);
    for (int i = 1; i < nparams; i++)
        sbuf_cleanup(&lists[i]);
    sbuf_cleanup(&sql);
    sbuf_cleanup(&ids);
    if (rc != DB_OK)
        return rc;
    distribute(res, runs, n, arena, hold != NULL, &with_inputs, &with_models);
    if (hold != NULL)
        hold->res = res;
    else
        PQclear(res);
    rc = with_inputs > 0 ? load_inputs(runs, n, with_inputs, arena) : DB_OK;
    if (rc == DB_OK && with_models > 0)
        rc = load_models(runs, n, with_models, arena);
    return rc;
}

int store_search_load_children(struct run *runs, size_t n, const struct key_select *select,
                               struct arena *arena)
{
    if (n == 0)
        return DB_OK;
    struct search_run *found = arena_alloc(arena, n * sizeof *found);
    memset(found, 0, n * sizeof *found);
    for (size_t i = 0; i < n; i++)
        found[i].info = runs[i].info;
    int rc = store_search_load_runs(found, n, select, arena, NULL);
    if (rc != DB_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        struct run *run = &runs[i];
        const struct search_run *f = &found[i];
        run->params = f->params;
        run->nparams = f->nparams;
        run->tags = f->tags;
        run->ntags = f->ntags;
        run->inputs = f->inputs;
        run->ninputs = f->ninputs;
        run->model_outputs = f->model_outputs;
        run->nmodel_outputs = f->nmodel_outputs;
        run->model_inputs = f->model_inputs;
        run->nmodel_inputs = f->nmodel_inputs;
        run->nmetrics = f->nmetrics;
        run->metrics = f->nmetrics ? arena_alloc(arena, f->nmetrics * sizeof *run->metrics) : NULL;
        for (size_t k = 0; k < f->nmetrics; k++) {
            run->metrics[k].key = f->metrics[k].key;
            run->metrics[k].value = su_parse_double(f->metrics[k].value);
            run->metrics[k].timestamp = strtoll(f->metrics[k].timestamp, NULL, 10);
            run->metrics[k].step = strtoll(f->metrics[k].step, NULL, 10);
        }
    }
    return DB_OK;
}

void store_search_release(struct search_hold *hold)
{
    PQclear(hold->res);
    hold->res = NULL;
}
