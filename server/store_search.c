/* Run and experiment search: the statements around the compiled filter and
 * ordering (server/search/search_sql.c), keyset paging, and loading the
 * selected keys of the runs found. Every user value is a bound parameter. */
#include "store_search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"
#include "search/search_sql.h"
#include "store_util.h"

#define SEARCH_COLUMNS                                                                             \
    "s.id, s.run_uuid, s.experiment_id, s.name, s.user_id, s.status, s.start_time,"                \
    " s.end_time, s.lifecycle_stage, s.artifact_uri"
#define SEARCH_NCOLUMNS 10

static const char *stage_of(enum view_type view)
{
    return view == VIEW_ACTIVE_ONLY ? "active" : view == VIEW_DELETED_ONLY ? "deleted" : NULL;
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

/* WHERE clause of the outer query: rows strictly after the cursor in the
 * total order, as an OR of "equal on keys < i and after on key i". */
static int keyset(struct sql_query *q, const struct search_sort_key *keys, size_t n,
                  const struct search_cursor *c)
{
    if (c->n != n)
        return DB_INVALID;
    for (size_t i = 0; i < n; i++)
        if (c->klass[i] < 0 || c->klass[i] > 2 || (c->klass[i] == 0) != (c->value[i] != NULL) ||
            (keys[i].klass == NULL && c->klass[i] != 0))
            return DB_INVALID;
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
    /* a plain bound on the first key lets an index range scan start there */
    if (keys[0].klass == NULL) {
        sbuf_addf(&q->text, " AND s.k0v %s ", keys[0].desc ? "<=" : ">=");
        sq_bind(q, NULL, c->value[0], keys[0].cast);
    }
    return DB_OK;
}

/* The inner SELECT: runs of the experiments in view matching the filter,
 * with the sort keys as columns k<i>c (class) and k<i>v (value). */
static void inner_select(struct sql_query *q, const struct run_search *rs,
                         const struct search_sort_key *keys, size_t nkeys, const char *joins)
{
    struct sbuf ids;

    sbuf_adds(&q->text, "SELECT r.*");
    for (size_t i = 0; i < nkeys; i++)
        sbuf_addf(&q->text, ", %s AS k%zuc, %s AS k%zuv", keys[i].klass ? keys[i].klass : "0", i,
                  keys[i].value, i);
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
    sbuf_adds(&q->text, " AND ");
    search_sql_filter(q, SEARCH_RUNS, rs->filter);
}

/* Builds the whole statement into q. */
static int build_run_search(struct sql_query *q, const struct run_search *rs,
                            struct search_sort_key **keys_out, size_t *nkeys_out)
{
    size_t nkeys;
    struct search_order *order = full_order(rs, q->arena, &nkeys);
    struct search_sort_key *keys = arena_alloc(q->arena, nkeys * sizeof *keys);
    struct sbuf joins;
    char lim[24];

    sbuf_init(&joins);
    sbuf_addc(&joins, ' ');
    for (size_t i = 0; i < nkeys; i++)
        search_sql_sort_key(q, &joins, SEARCH_RUNS, &order[i], (int)i, &keys[i]);
    sbuf_adds(&q->text, "SELECT " SEARCH_COLUMNS);
    for (size_t i = 0; i < nkeys; i++)
        sbuf_addf(&q->text, ", s.k%zuc, s.k%zuv::text", i, i);
    sbuf_adds(&q->text, " FROM (");
    inner_select(q, rs, keys, nkeys, joins.data);
    sbuf_cleanup(&joins);
    sbuf_adds(&q->text, ") s");
    if (rs->after != NULL && keyset(q, keys, nkeys, rs->after) != DB_OK)
        return DB_INVALID;
    sbuf_adds(&q->text, " ORDER BY ");
    for (size_t i = 0; i < nkeys; i++) {
        if (keys[i].klass)
            sbuf_addf(&q->text, "s.k%zuc, ", i);
        sbuf_addf(&q->text, "s.k%zuv%s%s", i, keys[i].desc ? " DESC" : "",
                  i + 1 < nkeys ? ", " : "");
    }
    sbuf_adds(&q->text, " LIMIT ");
    sq_bind(q, NULL, su_i64(lim, rs->limit), "bigint");
    *keys_out = keys;
    *nkeys_out = nkeys;
    return DB_OK;
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

int store_run_search(const struct run_search *rs, struct arena *arena, struct run **out, size_t *n,
                     struct search_cursor *last)
{
    struct sql_query q;
    struct search_sort_key *keys;
    size_t nkeys;
    PGresult *res = NULL;

    *out = NULL;
    *n = 0;
    memset(last, 0, sizeof *last);
    if (rs->nexp == 0)
        return DB_OK;
    sq_init(&q, arena);
    int rc = build_run_search(&q, rs, &keys, &nkeys);
    if (rc == DB_OK)
        rc = db_exec(q.text.data, q.nparams, q.params, &res);
    sq_cleanup(&q);
    if (rc != DB_OK)
        return rc;
    int rows = PQntuples(res);
    if (rows > 0) {
        *out = arena_alloc(arena, (size_t)rows * sizeof **out);
        for (int r = 0; r < rows; r++)
            su_run_info(res, r, arena, &(*out)[r].info);
        read_cursor(res, rows - 1, nkeys, arena, last);
    }
    *n = (size_t)rows;
    PQclear(res);
    return store_search_load_children(*out, *n, rs->select, arena);
}

/* ---- experiments ---- */

#define EXPERIMENT_COLUMNS                                                                         \
    "e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time,"            \
    " e.last_update_time"

static void experiment_order(struct sql_query *q, const struct experiment_search *es)
{
    struct search_sort_key key;
    struct sbuf joins;

    sbuf_init(&joins);
    sbuf_adds(&q->text, " ORDER BY ");
    for (size_t i = 0; i < es->norder; i++) {
        search_sql_sort_key(q, &joins, SEARCH_EXPERIMENTS, &es->order[i], (int)i, &key);
        sbuf_addf(&q->text, "%s%s, ", key.value, key.desc ? " DESC" : "");
    }
    if (es->norder == 0)
        sbuf_adds(&q->text, "e.creation_time DESC, ");
    /* the tie-break; harmless when the caller already ordered by it */
    sbuf_adds(&q->text, "e.experiment_id");
    sbuf_cleanup(&joins);
}

int store_experiment_search(const struct experiment_search *es, struct arena *arena,
                            struct experiment **out, size_t *n)
{
    struct sql_query q;
    PGresult *res = NULL;
    char off[24], lim[24];

    *out = NULL;
    *n = 0;
    sq_init(&q, arena);
    sbuf_adds(&q.text, "SELECT " EXPERIMENT_COLUMNS " FROM experiments e WHERE ");
    if (stage_of(es->view)) {
        sbuf_adds(&q.text, "e.lifecycle_stage = ");
        sq_bind(&q, NULL, stage_of(es->view), NULL);
        sbuf_adds(&q.text, " AND ");
    }
    search_sql_filter(&q, SEARCH_EXPERIMENTS, es->filter);
    experiment_order(&q, es);
    sbuf_adds(&q.text, " OFFSET ");
    sq_bind(&q, NULL, su_i64(off, es->offset), "bigint");
    sbuf_adds(&q.text, " LIMIT ");
    sq_bind(&q, NULL, su_i64(lim, es->limit), "bigint");
    int rc = db_exec(q.text.data, q.nparams, q.params, &res);
    sq_cleanup(&q);
    if (rc != DB_OK)
        return rc;
    int rows = PQntuples(res);
    if (rows > 0) {
        *out = arena_alloc(arena, (size_t)rows * sizeof **out);
        for (int r = 0; r < rows; r++)
            su_experiment(res, r, arena, &(*out)[r]);
    }
    *n = (size_t)rows;
    PQclear(res);
    return su_experiment_tags(*out, *n, arena);
}
