/* Run and experiment search: the statements around the compiled filter and
 * ordering (server/search/search_sql.c), keyset paging, and loading the
 * selected keys of the runs found. Every user value is a bound parameter. */
#include "store_search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sbuf.h"
#include "search/search_sql.h"
#include "db/store_util.h"

#define SEARCH_COLUMNS                                                                             \
    "s.id, s.run_uuid, s.experiment_id, s.name, s.user_id, s.status, s.start_time,"                \
    " s.end_time, s.lifecycle_stage, s.artifact_uri"
#define SEARCH_NCOLUMNS 10

static const char *stage_of(enum view_type view)
{
    return view == VIEW_ACTIVE_ONLY    ? STORE_LIFECYCLE_ACTIVE
           : view == VIEW_DELETED_ONLY ? STORE_LIFECYCLE_DELETED
                                       : NULL;
}

static int has_attr(const struct search_order *order, size_t n, enum search_attr a)
{
    for (size_t i = 0; i < n; i++)
        if (order[i].ident.entity == SE_ATTR && order[i].ident.attr == a)
            return 1;
    return 0;
}

size_t store_run_search_nkeys(const struct search_order *order, size_t norder)
{
    return norder + !has_attr(order, norder, SA_START_TIME) + !has_attr(order, norder, SA_RUN_ID);
}

/* The caller's keys plus the tie-breaks, into arena memory. */
static struct search_order *full_order(const struct run_search *q, struct arena *arena, size_t *n)
{
    *n = store_run_search_nkeys(q->order, q->norder);
    struct search_order *all = arena_alloc(arena, *n * sizeof *all);
    size_t k = 0;
    for (size_t i = 0; i < q->norder; i++)
        all[k++] = q->order[i];
    if (!has_attr(q->order, q->norder, SA_START_TIME)) {
        all[k].ident.entity = SE_ATTR;
        all[k].ident.attr = SA_START_TIME;
        all[k++].desc = 1;
    }
    if (!has_attr(q->order, q->norder, SA_RUN_ID)) {
        all[k].ident.entity = SE_ATTR;
        all[k++].ident.attr = SA_RUN_ID;
    }
    return all;
}

/* "s.k<i>c = $c AND s.k<i>v = $v": row equal to the cursor on key i. */
static void key_equal(struct sql_query *q, const struct search_sort_key *k, int i,
                      const struct search_cursor *c)
{
    char cls[8];
    snprintf(cls, sizeof cls, "%d", c->klass[i]);
    if (k->klass) {
        sbuf_addf(&q->text, "s.k%dc = ", i);
        sq_bind(q, NULL, cls, "int");
        if (c->klass[i] != 0)
            return;
        sbuf_adds(&q->text, " AND ");
    }
    sbuf_addf(&q->text, "s.k%dv = ", i);
    sq_bind(q, NULL, c->value[i], k->cast);
}

/* Row after the cursor on key i (given equality on the keys before it). */
static void key_after(struct sql_query *q, const struct search_sort_key *k, int i,
                      const struct search_cursor *c)
{
    char cls[8];
    snprintf(cls, sizeof cls, "%d", c->klass[i]);
    sbuf_addc(&q->text, '(');
    if (k->klass) {
        sbuf_addf(&q->text, "s.k%dc > ", i);
        sq_bind(q, NULL, cls, "int");
        if (c->klass[i] != 0) {
            sbuf_addc(&q->text, ')');
            return;
        }
        sbuf_addf(&q->text, " OR (s.k%dc = ", i);
        sq_bind(q, NULL, cls, "int");
        sbuf_adds(&q->text, " AND ");
    }
    sbuf_addf(&q->text, "s.k%dv %s ", i, k->desc ? "<" : ">");
    sq_bind(q, NULL, c->value[i], k->cast);
    sbuf_adds(&q->text, k->klass ? "))" : ")");
}

/* DB_OK when c can be a position in this order: one (class, value) per
 * key, a value exactly for class 0, and only classes the key can have. */
static int cursor_fits(const struct search_sort_key *keys, size_t n, const struct search_cursor *c)
{
    if (c->n != n)
        return DB_INVALID;
    for (size_t i = 0; i < n; i++) {
        int k = c->klass[i];
        if (k < 0 || k > 2 || (k == 0) != (c->value[i] != NULL) ||
            (keys[i].klass == NULL && k != 0) || (keys[i].klass != NULL && keys[i].cond[k] == NULL))
            return DB_INVALID;
    }
    return DB_OK;
}

/* WHERE clause of the outer query: rows strictly after the cursor in the
 * total order, as an OR of "equal on keys < i and after on key i". When the
 * first key's value is a plain column here (no class, or the statement
 * reads class 0 only), a bound on it lets an index range scan start there. */
static void keyset(struct sql_query *q, const struct search_sort_key *keys, size_t n,
                   const struct search_cursor *c, int segment)
{
    sbuf_adds(&q->text, " WHERE (");
    for (size_t i = 0; i < n; i++) {
        sbuf_adds(&q->text, i ? " OR (" : "(");
        for (size_t j = 0; j < i; j++) {
            key_equal(q, &keys[j], (int)j, c);
            sbuf_adds(&q->text, " AND ");
        }
        key_after(q, &keys[i], (int)i, c);
        sbuf_addc(&q->text, ')');
    }
    sbuf_addc(&q->text, ')');
    if (keys[0].klass == NULL || segment == 0) {
        sbuf_addf(&q->text, " AND s.k0v %s ", keys[0].desc ? "<=" : ">=");
        sq_bind(q, NULL, c->value[0], keys[0].cast);
    }
}

/* The inner SELECT: runs of the experiments in view matching the filter,
 * with the sort keys as columns k<i>c (class) and k<i>v (value). With
 * segment >= 0 only rows of that class of the first key, whose k0c is then
 * a constant and k0v the plain column (or NULL). */
static void inner_select(struct sql_query *q, const struct run_search *rs,
                         const struct search_sort_key *keys, size_t nkeys, const char *joins,
                         int segment)
{
    struct sbuf ids;

    sbuf_adds(&q->text, "SELECT r.*");
    for (size_t i = 0; i < nkeys; i++) {
        if (i == 0 && segment >= 0) {
            sbuf_addf(&q->text, ", %d AS k0c, ", segment);
            if (segment == 0)
                sbuf_addf(&q->text, "%s AS k0v", keys[0].raw);
            else
                sbuf_addf(&q->text, "NULL::%s AS k0v", keys[0].cast);
            continue;
        }
        sbuf_addf(&q->text, ", %s AS k%zuc, %s AS k%zuv", keys[i].klass ? keys[i].klass : "0", i,
                  keys[i].value, i);
    }
    sbuf_addf(&q->text, " FROM runs r%s WHERE ", joins);
    if (rs->nexp == 1) {
        char id[24];
        sbuf_adds(&q->text, "r.experiment_id = ");
        sq_bind(q, NULL, su_i64(id, rs->experiment_ids[0]), "bigint");
    } else {
        sbuf_init(&ids);
        sbuf_addc(&ids, '{');
        for (size_t i = 0; i < rs->nexp; i++)
            su_array_int64(&ids, rs->experiment_ids[i], i == 0);
        sbuf_addc(&ids, '}');
        sbuf_adds(&q->text, "r.experiment_id = ANY(");
        sq_bind(q, NULL, ids.data, "bigint[]");
        sbuf_addc(&q->text, ')');
        sbuf_cleanup(&ids);
    }
    if (stage_of(rs->view)) {
        sbuf_adds(&q->text, " AND r.lifecycle_stage = ");
        sq_bind(q, NULL, stage_of(rs->view), NULL);
    }
    if (segment >= 0)
        sbuf_addf(&q->text, " AND %s", keys[0].cond[segment]);
    sbuf_adds(&q->text, " AND ");
    search_sql_filter(q, SEARCH_RUNS, rs->filter);
}

/* The order's keys compiled into q (any joins they need into *joins). */
static struct search_sort_key *compile_keys(struct sql_query *q, const struct run_search *rs,
                                            struct sbuf *joins, size_t *nkeys)
{
    struct search_order *order = full_order(rs, q->arena, nkeys);
    struct search_sort_key *keys = arena_alloc(q->arena, *nkeys * sizeof *keys);
    sbuf_addc(joins, ' ');
    for (size_t i = 0; i < *nkeys; i++)
        search_sql_sort_key(q, joins, SEARCH_RUNS, &order[i], (int)i, &keys[i]);
    return keys;
}

/* Builds the statement for one segment (-1: all rows) into q: at most
 * limit rows after `after` (NULL: from the start of the segment). */
static void build_run_search(struct sql_query *q, const struct run_search *rs, int segment,
                             const struct search_cursor *after, int64_t limit)
{
    struct sbuf joins;
    size_t nkeys;
    char lim[24];

    sbuf_init(&joins);
    struct search_sort_key *keys = compile_keys(q, rs, &joins, &nkeys);
    sbuf_adds(&q->text, "SELECT " SEARCH_COLUMNS);
    for (size_t i = 0; i < nkeys; i++)
        sbuf_addf(&q->text, ", s.k%zuc, s.k%zuv::text", i, i);
    sbuf_adds(&q->text, " FROM (");
    inner_select(q, rs, keys, nkeys, joins.data, segment);
    sbuf_cleanup(&joins);
    sbuf_adds(&q->text, ") s");
    if (after != NULL)
        keyset(q, keys, nkeys, after, segment);
    sbuf_adds(&q->text, " ORDER BY ");
    for (size_t i = 0; i < nkeys; i++) {
        if (i == 0 && segment > 0)
            continue; /* a constant class and a NULL value */
        if (keys[i].klass && !(i == 0 && segment == 0))
            sbuf_addf(&q->text, "s.k%zuc, ", i);
        sbuf_addf(&q->text, "s.k%zuv%s%s", i, keys[i].desc ? " DESC" : "",
                  i + 1 < nkeys ? ", " : "");
    }
    sbuf_adds(&q->text, " LIMIT ");
    sq_bind(q, NULL, su_i64(lim, limit), "bigint");
}

static void read_cursor(const PGresult *res, int row, size_t nkeys, struct arena *arena,
                        struct search_cursor *last)
{
    last->n = nkeys;
    last->klass = arena_alloc(arena, nkeys * sizeof *last->klass);
    last->value = arena_alloc(arena, nkeys * sizeof *last->value);
    for (size_t i = 0; i < nkeys; i++) {
        int col = SEARCH_NCOLUMNS + 2 * (int)i;
        last->klass[i] = (int)su_int64(res, row, col);
        last->value[i] = su_str(res, row, col + 1, arena);
    }
}

/* Runs one statement of the search (segment -1 for all rows). */
static int run_segment(const struct run_search *rs, int segment, const struct search_cursor *after,
                       int64_t limit, struct arena *arena, PGresult **res)
{
    struct sql_query q;
    sq_init(&q, arena);
    build_run_search(&q, rs, segment, after, limit);
    int rc = db_exec(q.text.data, q.nparams, q.params, res);
    sq_cleanup(&q);
    return rc;
}

/* Settings of the search transaction. A page is a small, index-driven read:
 * JIT compilation (tens of ms once a plan's cost passes jit_above_cost) and
 * parallel workers (process start-up and a gather for a hundred rows) only
 * add latency to it. Memoize caches the inner side of a nested loop by
 * run id, but a page visits each run once: every lookup misses, and on a
 * 1,000-run page the cache's upkeep cost ~15% of the statement. */
static int begin_search(void)
{
    int rc = db_begin();
    if (rc == DB_OK)
        rc = db_exec("SELECT set_config('jit', 'off', true),"
                     " set_config('max_parallel_workers_per_gather', '0', true),"
                     " set_config('enable_memoize', 'off', true)",
                     0, NULL, NULL);
    return rc;
}

/* The statements of one search. When the first key can be missing (a
 * metric, param or tag, or end_time), each class of it is read by its own
 * statement, in order, from the cursor's class on, until the page is full:
 * within class 0 the rows are ordered by the plain column, which an index
 * such as latest_metrics_key_value delivers in order, so a page is a short
 * index walk instead of a sort of every run. */
static int run_statements(const struct run_search *rs, struct arena *arena, PGresult **res,
                          int *nres, size_t *nkeys)
{
    struct sql_query probe;
    struct sbuf joins;
    sq_init(&probe, arena);
    sbuf_init(&joins);
    struct search_sort_key *keys = compile_keys(&probe, rs, &joins, nkeys);
    sbuf_cleanup(&joins);
    sq_cleanup(&probe);
    if (rs->after != NULL && cursor_fits(keys, *nkeys, rs->after) != DB_OK)
        return DB_INVALID;
    *nres = 0;
    if (keys[0].klass == NULL)
        return run_segment(rs, -1, rs->after, rs->limit, arena, &res[(*nres)++]);
    int64_t want = rs->limit;
    for (int seg = rs->after ? rs->after->klass[0] : 0; seg <= 2 && want > 0; seg++) {
        if (keys[0].cond[seg] == NULL)
            continue;
        const struct search_cursor *after =
            rs->after && rs->after->klass[0] == seg ? rs->after : NULL;
        int rc = run_segment(rs, seg, after, want, arena, &res[*nres]);
        if (rc != DB_OK)
            return rc;
        want -= PQntuples(res[(*nres)++]);
    }
    return DB_OK;
}

int store_run_search(const struct run_search *rs, struct arena *arena, struct search_run **out,
                     size_t *n, struct search_cursor *last)
{
    PGresult *res[3] = {NULL, NULL, NULL};
    int nres = 0;
    size_t nkeys, rows = 0;

    *out = NULL;
    *n = 0;
    memset(last, 0, sizeof *last);
    if (rs->nexp == 0)
        return DB_OK;
    int rc = begin_search();
    if (rc == DB_OK)
        rc = run_statements(rs, arena, res, &nres, &nkeys);
    for (int i = 0; i < nres && rc == DB_OK; i++)
        rows += (size_t)PQntuples(res[i]);
    if (rc == DB_OK && rows > 0) {
        *out = arena_alloc(arena, rows * sizeof **out);
        for (int i = 0; i < nres; i++) {
            for (int r = 0; r < PQntuples(res[i]); r++)
                su_run_info(res[i], r, arena, &(*out)[(*n)++].info);
            if (PQntuples(res[i]) > 0)
                read_cursor(res[i], PQntuples(res[i]) - 1, nkeys, arena, last);
        }
    }
    for (int i = 0; i < nres; i++)
        PQclear(res[i]);
    if (rc == DB_OK)
        rc = store_search_load_runs(*out, *n, rs->select, arena);
    if (rc == DB_OK)
        rc = db_commit();
    if (rc != DB_OK)
        db_rollback();
    return rc;
}

/* ---- experiments ----
 * Keyset paging like runs: every key is a NOT NULL column, so a cursor is
 * one value per key and the page token stays valid while experiments are
 * created (an offset would repeat or skip rows then). */

#define EXPERIMENT_COLUMNS                                                                         \
    "s.experiment_id, s.name, s.artifact_location, s.lifecycle_stage, s.creation_time,"            \
    " s.last_update_time"
#define EXPERIMENT_NCOLUMNS 6

static int has_exp_attr(const struct search_order *order, size_t n, enum search_attr a)
{
    for (size_t i = 0; i < n; i++)
        if (order[i].ident.attr == a)
            return 1;
    return 0;
}

size_t store_experiment_search_nkeys(const struct search_order *order, size_t norder)
{
    return norder + (norder == 0) + !has_exp_attr(order, norder, SA_EXP_ID);
}

/* The caller's keys, else creation_time DESC, then experiment_id ASC. */
static struct search_order *experiment_order(const struct experiment_search *es,
                                             struct arena *arena, size_t *n)
{
    *n = store_experiment_search_nkeys(es->order, es->norder);
    struct search_order *all = arena_alloc(arena, *n * sizeof *all);
    size_t k = 0;
    for (size_t i = 0; i < es->norder; i++)
        all[k++] = es->order[i];
    if (es->norder == 0) {
        all[k].ident.entity = SE_ATTR;
        all[k].ident.attr = SA_EXP_CREATION_TIME;
        all[k++].desc = 1;
    }
    if (!has_exp_attr(es->order, es->norder, SA_EXP_ID)) {
        all[k].ident.entity = SE_ATTR;
        all[k++].ident.attr = SA_EXP_ID;
    }
    return all;
}

static int build_experiment_search(struct sql_query *q, const struct experiment_search *es,
                                   size_t *nkeys_out)
{
    struct sbuf joins;
    size_t nkeys;
    char lim[24];
    struct search_order *order = experiment_order(es, q->arena, &nkeys);
    struct search_sort_key *keys = arena_alloc(q->arena, nkeys * sizeof *keys);

    sbuf_init(&joins);
    for (size_t i = 0; i < nkeys; i++)
        search_sql_sort_key(q, &joins, SEARCH_EXPERIMENTS, &order[i], (int)i, &keys[i]);
    sbuf_cleanup(&joins); /* attribute keys need no joins */
    if (es->after != NULL && cursor_fits(keys, nkeys, es->after) != DB_OK)
        return DB_INVALID;
    sbuf_adds(&q->text, "SELECT " EXPERIMENT_COLUMNS);
    for (size_t i = 0; i < nkeys; i++)
        sbuf_addf(&q->text, ", s.k%zuv::text", i);
    sbuf_adds(&q->text, " FROM (SELECT e.*");
    for (size_t i = 0; i < nkeys; i++)
        sbuf_addf(&q->text, ", %s AS k%zuv", keys[i].value, i);
    sbuf_adds(&q->text, " FROM experiments e WHERE ");
    if (stage_of(es->view)) {
        sbuf_adds(&q->text, "e.lifecycle_stage = ");
        sq_bind(q, NULL, stage_of(es->view), NULL);
        sbuf_adds(&q->text, " AND ");
    }
    search_sql_filter(q, SEARCH_EXPERIMENTS, es->filter);
    sbuf_adds(&q->text, ") s");
    if (es->after != NULL)
        keyset(q, keys, nkeys, es->after, -1);
    sbuf_adds(&q->text, " ORDER BY ");
    for (size_t i = 0; i < nkeys; i++)
        sbuf_addf(&q->text, "s.k%zuv%s%s", i, keys[i].desc ? " DESC" : "",
                  i + 1 < nkeys ? ", " : "");
    sbuf_adds(&q->text, " LIMIT ");
    sq_bind(q, NULL, su_i64(lim, es->limit), "bigint");
    *nkeys_out = nkeys;
    return DB_OK;
}

int store_experiment_search(const struct experiment_search *es, struct arena *arena,
                            struct experiment **out, struct search_cursor **cursors, size_t *n)
{
    struct sql_query q;
    PGresult *res = NULL;
    size_t nkeys = 0;

    *out = NULL;
    *cursors = NULL;
    *n = 0;
    sq_init(&q, arena);
    int rc = build_experiment_search(&q, es, &nkeys);
    if (rc == DB_OK)
        rc = db_exec(q.text.data, q.nparams, q.params, &res);
    sq_cleanup(&q);
    if (rc != DB_OK)
        return rc;
    int rows = PQntuples(res);
    if (rows > 0) {
        *out = arena_alloc(arena, (size_t)rows * sizeof **out);
        *cursors = arena_alloc(arena, (size_t)rows * sizeof **cursors);
        for (int r = 0; r < rows; r++) {
            struct search_cursor *c = &(*cursors)[r];
            su_experiment(res, r, arena, &(*out)[r]);
            c->n = nkeys;
            c->klass = arena_alloc(arena, nkeys * sizeof *c->klass);
            c->value = arena_alloc(arena, nkeys * sizeof *c->value);
            for (size_t i = 0; i < nkeys; i++)
                c->value[i] = su_str(res, r, EXPERIMENT_NCOLUMNS + (int)i, arena);
        }
    }
    *n = (size_t)rows;
    PQclear(res);
    return su_experiment_tags(*out, *n, arena);
}
