/* registered-models/search and model-versions/search: a parsed filter
 * (filter.h) rendered as SQL with every user value a bound parameter, the
 * order, and an offset page. The only dynamic SQL of the registry. */
#include "store_registry.h"

#include <stdio.h>

#include "core/mlflow_tags.h"
#include "common/sbuf.h"
#include "db/store_util.h"
#include "store_registry_rows.h"

#define PROMPT_TAG "'" MLFLOW_TAG_IS_PROMPT "'"

struct query {
    struct sbuf sql;
    const char **params;
    int n;
    struct arena *arena;
};

/* Binds value and appends its placeholder "$n" (with a cast when given). */
static void bind(struct query *q, const char *value, const char *cast)
{
    q->params[q->n++] = value;
    sbuf_addf(&q->sql, "$%d%s", q->n, cast);
}

static const char *op_text(enum reg_op op)
{
    switch (op) {
    case RO_EQ:
        return " = ";
    case RO_NE:
        return " <> ";
    case RO_LT:
        return " < ";
    case RO_LE:
        return " <= ";
    case RO_GT:
        return " > ";
    case RO_GE:
        return " >= ";
    case RO_LIKE:
        return " LIKE ";
    case RO_ILIKE:
        return " ILIKE ";
    case RO_IN:
        break;
    }
    return " = ";
}

static void condition(struct query *q, enum reg_kind kind, const struct reg_cond *c)
{
    const char *column = "name";
    sbuf_adds(&q->sql, " AND ");
    if (c->field == RF_TAG) {
        sbuf_adds(&q->sql, kind == REG_MODELS
                               ? "EXISTS (SELECT 1 FROM registered_model_tags t"
                                 " WHERE t.name = x.name AND t.key = "
                               : "EXISTS (SELECT 1 FROM model_version_tags t WHERE t.name = x.name"
                                 " AND t.version = x.version AND t.key = ");
        bind(q, c->tag_key, "");
        sbuf_adds(&q->sql, " AND t.value");
        sbuf_adds(&q->sql, op_text(c->op));
        bind(q, c->value, "");
        sbuf_addc(&q->sql, ')');
        return;
    }
    if (c->field == RF_SOURCE)
        column = "source";
    else if (c->field == RF_RUN_ID)
        column = "run_id";
    else if (c->field == RF_VERSION)
        column = "version";
    sbuf_addf(&q->sql, "x.%s", column);
    if (c->op == RO_IN) {
        struct sbuf list;
        sbuf_init(&list);
        sbuf_addc(&list, '{');
        for (size_t i = 0; i < c->nvalues; i++)
            su_array_text(&list, c->values[i], i == 0);
        sbuf_addc(&list, '}');
        sbuf_adds(&q->sql, " = ANY (");
        bind(q, arena_strdup(q->arena, list.data), "::text[]");
        sbuf_addc(&q->sql, ')');
        sbuf_cleanup(&list);
        return;
    }
    sbuf_adds(&q->sql, op_text(c->op));
    bind(q, c->value, c->field == RF_VERSION ? "::numeric" : "");
}

static void order_by(struct query *q, const struct reg_order *order)
{
    static const char *const columns[] = {"x.name", "x.version", "x.creation_time",
                                          "x.last_updated_time"};
    sbuf_adds(&q->sql, " ORDER BY ");
    for (size_t i = 0; i < order->n; i++)
        sbuf_addf(&q->sql, "%s%s %s", i ? ", " : "", columns[order->key[i]],
                  order->desc[i] ? "DESC NULLS LAST" : "ASC NULLS FIRST");
}

static void order_and_page(struct query *q, const struct reg_order *order, int64_t limit,
                           int64_t offset, char *lim, char *off)
{
    order_by(q, order);
    sbuf_adds(&q->sql, " LIMIT ");
    bind(q, su_i64(lim, limit), "::bigint");
    sbuf_adds(&q->sql, " OFFSET ");
    bind(q, su_i64(off, offset), "::bigint");
}

static void query_init(struct query *q, const struct reg_filter *f, struct arena *arena)
{
    sbuf_init(&q->sql);
    q->params = arena_alloc(arena, (2 * f->n + 4) * sizeof *q->params);
    q->n = 0;
    q->arena = arena;
}

/* Appends to q, whose SELECT ... WHERE is written: the filter's conditions
 * for kind, unless the filter asks for prompts the exclusion of names
 * tagged as prompts in tags_table, the order and page. */
static void search_where(struct query *q, const struct reg_filter *f, enum reg_kind kind,
                         const char *tags_table, const struct reg_order *order, int64_t limit,
                         int64_t offset, char *lim, char *off)
{
    for (size_t i = 0; i < f->n; i++)
        condition(q, kind, &f->conds[i]);
    if (!f->with_prompts) {
        /* NOT IN: the few prompt names hashed once, not a probe per row */
        sbuf_adds(&q->sql, " AND x.name NOT IN (SELECT p.name FROM ");
        sbuf_adds(&q->sql, tags_table);
        sbuf_adds(&q->sql, " p WHERE p.key = " PROMPT_TAG " AND p.value = 'true')");
    }
    order_and_page(q, order, limit, offset, lim, off);
}

/* Runs q into *res and frees its text. */
static int search_exec(struct query *q, PGresult **res)
{
    int rc = db_exec(q->sql.data, q->n, q->params, res);
    sbuf_cleanup(&q->sql);
    return rc;
}

int store_rm_search(const struct reg_filter *f, const struct reg_order *order, int64_t limit,
                    int64_t offset, struct arena *arena, struct registered_model **out, size_t *n)
{
    struct query q;
    PGresult *res = NULL;

    query_init(&q, f, arena);
    sbuf_adds(&q.sql, "SELECT x.name, x.creation_time, x.last_updated_time, x.description"
                      " FROM registered_models x WHERE true");
    char lim[24], off[24];
    search_where(&q, f, REG_MODELS, "registered_model_tags", order, limit, offset, lim, off);
    int rc = search_exec(&q, &res);
    *out = NULL;
    *n = 0;
    if (rc != DB_OK)
        return rc;
    *n = (size_t)PQntuples(res);
    *out = arena_alloc(arena, (*n + 1) * sizeof **out);
    for (size_t i = 0; i < *n; i++)
        rr_registered_model(res, (int)i, arena, &(*out)[i]);
    PQclear(res);
    return store_rm_load_children(*out, *n, arena);
}

int store_mv_search(const struct reg_filter *f, const struct reg_order *order, int64_t limit,
                    int64_t offset, struct arena *arena, struct model_version **out, size_t *n)
{
    struct query q;
    PGresult *res = NULL;

    query_init(&q, f, arena);
    /* The page's keys first (for the default order an index-only scan
     * that skips the offset in the index), then their rows. */
    char lim[24], off[24];
    sbuf_adds(&q.sql, "SELECT x.name, x.version, x.creation_time, x.last_updated_time,"
                      " x.current_stage, x.description, x.source, x.run_id, x.run_link,"
                      " x.status, x.status_message"
                      " FROM (SELECT x.name, x.version"
                      " FROM model_versions x WHERE x.current_stage <> '" STAGE_DELETED "'");
    search_where(&q, f, REG_VERSIONS, "model_version_tags", order, limit, offset, lim, off);
    /* LATERAL: one primary-key probe per row of the page */
    sbuf_adds(&q.sql, ") k CROSS JOIN LATERAL (SELECT * FROM model_versions v"
                      " WHERE v.name = k.name AND v.version = k.version) x");
    order_by(&q, order);
    int rc = search_exec(&q, &res);
    *out = NULL;
    *n = 0;
    if (rc != DB_OK)
        return rc;
    *n = (size_t)PQntuples(res);
    *out = arena_alloc(arena, (*n + 1) * sizeof **out);
    for (size_t i = 0; i < *n; i++)
        rr_model_version(res, (int)i, 0, arena, &(*out)[i]);
    PQclear(res);
    return store_mv_load_tags(*out, *n, arena);
}
