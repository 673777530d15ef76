/* Loading what a search returns for each run: params, tags and latest
 * metrics (optionally only named keys, for wide experiments), dataset
 * inputs and logged-model outputs and inputs. One statement reads the whole
 * page, one row per run: its params, tags and latest metrics as arrays, in
 * binary form (a 1,000-run page is 41,000 values; one row per value cost
 * PostgreSQL and libpq more than the values themselves), and whether the run
 * has inputs or model links; only those runs cost the dataset statements or
 * the model statement. Each run's lists are sorted by key (bytewise) in C
 * when the index did not already deliver them so. No JSON here. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/sbuf.h"
#include "common/xalloc.h"
#include "store_search.h"
#include "db/store_util.h"

#define RUNS_OF " FROM unnest($1::bigint[]) WITH ORDINALITY AS r(id, ord)"

/* Columns of the page statement, one row per run. */
enum page_col {
    COL_ORD,
    COL_PARAM_KEYS,
    COL_PARAM_VALUES,
    COL_TAG_KEYS,
    COL_TAG_VALUES,
    COL_METRIC_KEYS,
    COL_METRIC_VALUES,
    COL_METRIC_TIMES,
    COL_METRIC_STEPS,
    COL_HAS_INPUTS,
    COL_HAS_MODELS,
};

static void array_of(struct sbuf *b, const char *const *items, size_t n)
{
    sbuf_addc(b, '{');
    for (size_t i = 0; i < n; i++)
        su_array_text(b, items[i], i == 0);
    sbuf_addc(b, '}');
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

/* Appends the lateral subquery of one child table (alias a): its keys and
 * values of the run as arrays, in the table's key order, NULL when the run
 * has none. Without the table (want 0) the arrays are NULL constants. */
static void kv_lateral(struct sbuf *sql, const char *table, const char *alias, int want,
                       int keys_param)
{
    if (!want) {
        sbuf_addf(sql, " CROSS JOIN LATERAL (SELECT NULL::text[] AS k, NULL::text[] AS v) %s",
                  alias);
        return;
    }
    sbuf_addf(sql,
              " CROSS JOIN LATERAL (SELECT array_agg(c.key) AS k, array_agg(c.value) AS v"
              " FROM %s c WHERE c.run_id = r.id",
              table);
    if (keys_param > 0)
        sbuf_addf(sql, " AND c.key = ANY($%d::text[])", keys_param);
    sbuf_addf(sql, ") %s", alias);
}

/* The statement: one row per run of the page (columns: enum page_col), its
 * params, tags and latest metrics as parallel arrays read by binary result
 * (no text of any number, and 1 row per run instead of one per value).
 * Parameter $1 is the run id array; key lists follow as needed. Each child
 * table is read by its lateral subquery through its (run_id, key) index, a
 * plan that does not depend on the page's size. Returns the number of
 * parameters (lists[1..n) then need sbuf_cleanup). */
static int build_children_sql(struct sbuf *sql, const struct key_select *s, struct sbuf *lists,
                              const char **params)
{
    int nparams = 1;
    /* a list is bound only when non-empty: an empty one reads nothing */
    int pk = s->nparams && !s->all_params
                 ? bind_keys(lists, params, &nparams, s->params, s->nparams)
                 : 0;
    int tk = s->ntags && !s->all_tags ? bind_keys(lists, params, &nparams, s->tags, s->ntags) : 0;
    int mk = s->nmetrics && !s->all_metrics
                 ? bind_keys(lists, params, &nparams, s->metrics, s->nmetrics)
                 : 0;

    /* The page's runs as a materialized CTE: a CTE scan is parallel
     * restricted, so the statement never pays for starting workers. Which
     * runs have inputs or model links is one scan of each table for the
     * whole page, hash-joined: as an EXISTS per run it was a rescan per
     * run (when the tables are small, a sequential one, each asking the
     * kernel for the table's size), ~15% of the statement's CPU. */
    sbuf_adds(sql, "WITH r AS MATERIALIZED (SELECT * FROM unnest($1::bigint[])"
                   " WITH ORDINALITY AS u(id, ord))"
                   " SELECT r.ord, p.k, p.v, t.k, t.v, m.k, m.v, m.t, m.s,"
                   " hi.run_id IS NOT NULL, hm.run_id IS NOT NULL"
                   " FROM r LEFT JOIN (SELECT DISTINCT run_id FROM run_inputs"
                   " WHERE run_id = ANY($1::bigint[])) hi ON hi.run_id = r.id"
                   " LEFT JOIN (SELECT run_id FROM run_model_outputs"
                   " WHERE run_id = ANY($1::bigint[]) UNION SELECT run_id"
                   " FROM run_model_inputs WHERE run_id = ANY($1::bigint[])) hm"
                   " ON hm.run_id = r.id");
    kv_lateral(sql, "params", "p", s->all_params || s->nparams > 0, pk);
    kv_lateral(sql, "tags", "t", s->all_tags || s->ntags > 0, tk);
    if (!s->all_metrics && s->nmetrics == 0) {
        sbuf_adds(sql, " CROSS JOIN LATERAL (SELECT NULL::int[] AS k, NULL::float8[] AS v,"
                       " NULL::bigint[] AS t, NULL::bigint[] AS s) m");
        return nparams;
    }
    /* key ids, not names: names come from the process's map (metric_name) */
    sbuf_adds(sql, " CROSS JOIN LATERAL (SELECT array_agg(l.key_id) AS k, array_agg(l.value) AS v,"
                   " array_agg(l.timestamp) AS t, array_agg(l.step) AS s"
                   " FROM latest_metrics l WHERE l.run_id = r.id");
    if (mk > 0)
        sbuf_addf(sql,
                  " AND l.key_id = ANY(ARRAY(SELECT id FROM metric_keys"
                  " WHERE name = ANY($%d::text[])))",
                  mk);
    sbuf_adds(sql, ") m");
    return nparams;
}

static int cmp_kv(const void *a, const void *b)
{
    return strcmp(((const struct kv *)a)->key, ((const struct kv *)b)->key);
}

static int cmp_metric(const void *a, const void *b)
{
    return strcmp(((const struct metric *)a)->key, ((const struct metric *)b)->key);
}

/* Whether list[0..n) of elements of size `size`, each starting with its key,
 * is already in bytewise key order (the usual case: an index on (run_id,
 * key) in a "C" collation delivers it so), which spares the sort. */
static int sorted_by_key(const void *list, size_t n, size_t size)
{
    const char *p = list;
    for (size_t i = 1; i < n; i++)
        if (strcmp(*(const char *const *)(p + (i - 1) * size),
                   *(const char *const *)(p + i * size)) > 0)
            return 0;
    return 1;
}

/* A one-dimensional array in PostgreSQL's binary form (array_send):
 * header, then for each element its length (-1: NULL) and its bytes. */
struct barray {
    const char *p, *end;
    size_t n;
};

/* Opens column col of row r as an array of elements of elem_size bytes (0:
 * any); a NULL column is an empty array. -1 when it is not such an array. */
static int barray_open(const PGresult *res, int r, int col, struct barray *a)
{
    a->n = 0;
    a->p = a->end = NULL;
    if (PQgetisnull(res, r, col))
        return 0;
    const char *v = PQgetvalue(res, r, col);
    size_t len = (size_t)PQgetlength(res, r, col);
    if (len < 12)
        return -1;
    uint32_t ndim = su_get_be32(v);
    if (ndim == 0)
        return 0;
    if (ndim != 1 || len < 20)
        return -1;
    a->n = su_get_be32(v + 12);
    a->p = v + 20;
    a->end = v + len;
    return 0;
}

/* The next element: its bytes and length; -1 when the array is exhausted,
 * malformed or the element is NULL (array_agg of NOT NULL columns has none). */
static int barray_next(struct barray *a, const char **elem, size_t *len)
{
    if (a->end - a->p < 4)
        return -1;
    uint32_t l = su_get_be32(a->p);
    if (l == 0xffffffffu || (size_t)(a->end - a->p - 4) < l)
        return -1;
    *elem = a->p + 4;
    *len = l;
    a->p += 4 + (size_t)l;
    return 0;
}

/* Reads a key array and a value array of the same length into a kv list
 * (arena copies). -1 on a malformed pair. */
static int read_kv(const PGresult *res, int r, int kcol, struct arena *arena, struct kv **out,
                   size_t *n)
{
    struct barray keys, values;
    const char *e;
    size_t len;

    *out = NULL;
    *n = 0;
    if (barray_open(res, r, kcol, &keys) < 0 || barray_open(res, r, kcol + 1, &values) < 0 ||
        keys.n != values.n)
        return -1;
    if (keys.n == 0)
        return 0;
    struct kv *kv = arena_alloc(arena, keys.n * sizeof *kv);
    for (size_t i = 0; i < keys.n; i++) {
        if (barray_next(&keys, &e, &len) < 0)
            return -1;
        kv[i].key = arena_strndup(arena, e, len);
        if (barray_next(&values, &e, &len) < 0)
            return -1;
        kv[i].value = arena_strndup(arena, e, len);
    }
    if (!sorted_by_key(kv, keys.n, sizeof *kv))
        qsort(kv, keys.n, sizeof *kv, cmp_kv);
    *out = kv;
    *n = keys.n;
    return 0;
}

/* ---- metric names ----
 * The page statement returns each latest metric's key id, not its name (a
 * join to metric_keys for each of a page's ~20,000 values, and their text,
 * cost PostgreSQL ~2 ms a page); the names come from this process-wide map
 * of id to name. metric_keys is append-only: a committed id names one key
 * forever (store_metrics.c), so an entry never goes stale and the map needs
 * no invalidation, whatever other servers or replicas do. An id the map
 * lacks (a key this process has not met yet) is read from metric_keys in the
 * page's own transaction: the row was committed with or before the latest
 * value that names it, so it is visible there. Names are never freed, so a
 * page may point at them after the lock is released. At most
 * NAME_MAP_MAX names are kept; past that, a page reads its missing names
 * into its arena each time. */

#define NAME_MAP_MAX (1u << 20)

struct name_slot {
    int32_t id; /* 0: empty (identity ids start at 1) */
    const char *name;
};

static struct {
    pthread_rwlock_t lock;
    struct name_slot *slots;
    size_t cap, n; /* cap: a power of two, or 0 */
} name_map = {.lock = PTHREAD_RWLOCK_INITIALIZER};

/* The slot of id in a table of cap slots: its own, or the empty one where
 * it would go. */
static struct name_slot *name_slot(struct name_slot *slots, size_t cap, int32_t id)
{
    size_t i = ((uint32_t)id * 2654435761u) & (cap - 1);
    while (slots[i].id != 0 && slots[i].id != id)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

/* The name of key id, or NULL. Caller holds name_map.lock (read). */
static const char *name_lookup(int32_t id)
{
    if (name_map.cap == 0 || id <= 0)
        return NULL;
    return name_slot(name_map.slots, name_map.cap, id)->name;
}

/* Adds id -> name (copied) unless present or the map is full; returns the
 * map's copy or NULL. Caller holds name_map.lock (write). */
static const char *name_insert(int32_t id, const char *name)
{
    if (id <= 0)
        return NULL;
    if (2 * (name_map.n + 1) > name_map.cap) {
        if (name_map.n >= NAME_MAP_MAX)
            return NULL;
        size_t cap = name_map.cap ? 2 * name_map.cap : 1024;
        struct name_slot *slots = xcalloc(cap, sizeof *slots);
        for (size_t i = 0; i < name_map.cap; i++)
            if (name_map.slots[i].id != 0)
                *name_slot(slots, cap, name_map.slots[i].id) = name_map.slots[i];
        free(name_map.slots);
        name_map.slots = slots;
        name_map.cap = cap;
    }
    struct name_slot *slot = name_slot(name_map.slots, name_map.cap, id);
    if (slot->id == 0) {
        slot->id = id;
        slot->name = xstrdup(name);
        name_map.n++;
    }
    return slot->name;
}

/* A metric whose key id the map lacked when its row was read. */
struct name_miss {
    struct metric *metric;
    int32_t id;
};

/* Metrics awaiting a name (a list that grows by doubling, freed by the
 * caller). */
struct name_misses {
    struct name_miss *items;
    size_t n, cap;
};

static void miss_add(struct name_misses *m, struct metric *metric, int32_t id)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 64;
        m->items = xrealloc(m->items, m->cap * sizeof *m->items);
    }
    m->items[m->n].metric = metric;
    m->items[m->n++].id = id;
}

static int cmp_miss(const void *a, const void *b)
{
    int32_t x = ((const struct name_miss *)a)->id, y = ((const struct name_miss *)b)->id;
    return (x > y) - (x < y);
}

/* Names the metrics of misses: reads their key ids' names from metric_keys
 * (in the caller's transaction; each id once, in id order), adds them to
 * the map and points each metric at its name, walking the misses sorted by
 * id alongside the rows. DB_ERROR when an id has no row. */
static int resolve_misses(struct name_misses *misses, struct arena *arena)
{
    struct sbuf ids;
    PGresult *res = NULL;

    qsort(misses->items, misses->n, sizeof *misses->items, cmp_miss);
    sbuf_init(&ids);
    sbuf_addc(&ids, '{');
    for (size_t i = 0; i < misses->n; i++)
        if (i == 0 || misses->items[i].id != misses->items[i - 1].id)
            su_array_int64(&ids, misses->items[i].id, i == 0);
    sbuf_addc(&ids, '}');
    const char *params[] = {ids.data};
    int rc = db_exec("SELECT id, name FROM metric_keys WHERE id = ANY($1::int[]) ORDER BY id", 1,
                     params, &res);
    sbuf_cleanup(&ids);
    if (rc != DB_OK)
        return rc;
    int rows = PQntuples(res), r = 0;
    pthread_rwlock_wrlock(&name_map.lock);
    for (size_t i = 0; i < misses->n; i++) {
        const struct name_miss *m = &misses->items[i];
        if (i > 0 && m->id == misses->items[i - 1].id) {
            m->metric->key = misses->items[i - 1].metric->key;
            continue;
        }
        while (r < rows && su_int64(res, r, 0) < m->id)
            r++;
        if (r == rows || su_int64(res, r, 0) != m->id) {
            rc = DB_ERROR;
            break;
        }
        m->metric->key = name_insert(m->id, PQgetvalue(res, r, 1));
        if (m->metric->key == NULL) /* the map is full */
            m->metric->key = su_str(res, r, 1, arena);
    }
    pthread_rwlock_unlock(&name_map.lock);
    PQclear(res);
    return rc;
}

/* Reads the metric arrays (int4 key ids, float8 values, int8 timestamps
 * and steps) into a metric list, names from the map (name_map.lock held
 * for reading); metrics whose id it lacks go to misses with a NULL key.
 * Not sorted yet (sort_metrics). -1 when the arrays are malformed. */
static int read_metrics(const PGresult *res, int r, struct arena *arena, struct metric **out,
                        size_t *n, struct name_misses *misses)
{
    struct barray a[4];
    const char *e;
    size_t len;

    *out = NULL;
    *n = 0;
    for (int i = 0; i < 4; i++)
        if (barray_open(res, r, COL_METRIC_KEYS + i, &a[i]) < 0 || a[i].n != a[0].n)
            return -1;
    if (a[0].n == 0)
        return 0;
    struct metric *m = arena_alloc(arena, a[0].n * sizeof *m);
    for (size_t i = 0; i < a[0].n; i++) {
        if (barray_next(&a[0], &e, &len) < 0 || len != 4)
            return -1;
        int32_t id = (int32_t)su_get_be32(e);
        m[i].key = name_lookup(id);
        if (m[i].key == NULL)
            miss_add(misses, &m[i], id);
        int64_t num[3];
        for (int j = 0; j < 3; j++) {
            if (barray_next(&a[1 + j], &e, &len) < 0 || len != 8)
                return -1;
            num[j] = (int64_t)su_get_be64(e);
        }
        uint64_t bits = (uint64_t)num[0];
        memcpy(&m[i].value, &bits, sizeof m[i].value);
        m[i].timestamp = num[1];
        m[i].step = num[2];
    }
    *out = m;
    *n = a[0].n;
    return 0;
}

/* Puts each run's metrics in bytewise key order (they come in key id order). */
static void sort_metrics(struct search_run *runs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!sorted_by_key(runs[i].metrics, runs[i].nmetrics, sizeof *runs[i].metrics))
            qsort(runs[i].metrics, runs[i].nmetrics, sizeof *runs[i].metrics, cmp_metric);
}

/* A bool column of the binary result. */
static int bool_at(const PGresult *res, int r, int col)
{
    return !PQgetisnull(res, r, col) && PQgetlength(res, r, col) == 1 &&
           PQgetvalue(res, r, col)[0] != 0;
}

/* Fills each run's lists from its row. *with_inputs gets how many runs have
 * dataset inputs (their ninputs is set to 1 as a mark, see load_inputs),
 * *with_models how many are linked to logged models (nmodel_outputs 1, see
 * load_models). Metrics whose key id the name map lacks go to misses
 * (name_map.lock is held for reading). DB_ERROR when a row is not what the
 * statement returns. */
static int distribute(const PGresult *res, struct search_run *runs, size_t n, struct arena *arena,
                      size_t *with_inputs, size_t *with_models, struct name_misses *misses)
{
    *with_inputs = 0;
    *with_models = 0;
    for (int r = 0; r < PQntuples(res); r++) {
        if (PQgetlength(res, r, COL_ORD) != 8)
            return DB_ERROR;
        uint64_t ord = su_get_be64(PQgetvalue(res, r, COL_ORD));
        if (ord < 1 || ord > n)
            return DB_ERROR;
        struct search_run *run = &runs[ord - 1];
        if (read_kv(res, r, COL_PARAM_KEYS, arena, &run->params, &run->nparams) < 0 ||
            read_kv(res, r, COL_TAG_KEYS, arena, &run->tags, &run->ntags) < 0 ||
            read_metrics(res, r, arena, &run->metrics, &run->nmetrics, misses) < 0)
            return DB_ERROR;
        if (bool_at(res, r, COL_HAS_INPUTS)) {
            run->ninputs = 1; /* a mark, see load_inputs */
            (*with_inputs)++;
        }
        if (bool_at(res, r, COL_HAS_MODELS)) {
            run->nmodel_outputs = 1; /* a mark, see load_models */
            (*with_models)++;
        }
    }
    return DB_OK;
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
                           struct arena *arena)
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
     * of on every page. */
    int rc = s == &all
                 ? db_exec_prepared_binary("search_children_all", sql.data, nparams, params, &res)
                 : db_query_binary(sql.data, nparams, params, &res);
    for (int i = 1; i < nparams; i++)
        sbuf_cleanup(&lists[i]);
    sbuf_cleanup(&sql);
    sbuf_cleanup(&ids);
    if (rc != DB_OK)
        return rc;
    struct name_misses misses = {NULL, 0, 0};
    pthread_rwlock_rdlock(&name_map.lock);
    rc = distribute(res, runs, n, arena, &with_inputs, &with_models, &misses);
    pthread_rwlock_unlock(&name_map.lock);
    PQclear(res);
    if (rc == DB_OK && misses.n > 0)
        rc = resolve_misses(&misses, arena);
    free(misses.items);
    if (rc == DB_OK)
        sort_metrics(runs, n);
    if (rc == DB_OK && with_inputs > 0)
        rc = load_inputs(runs, n, with_inputs, arena);
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
    for (size_t i = 0; i < n; i++)
        found[i].info = runs[i].info;
    int rc = store_search_load_runs(found, n, select, arena);
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
        run->metrics = f->metrics;
        run->nmetrics = f->nmetrics;
    }
    return DB_OK;
}
