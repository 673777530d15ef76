/* logged-models/search: a parsed filter (filter.h), the datasets clause and
 * the order_by objects rendered as one SQL statement with every user value
 * a bound parameter; an offset page. The only dynamic SQL of logged models.
 * The experiment restriction and the default order use the
 * logged_models_experiment index. */
#include "store_logged_models.h"

#include <math.h>
#include <stdio.h>

#include "common/sbuf.h"
#include "db/store_util.h"
#include "store_logged_models_rows.h"

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

static void bind_double(struct query *q, double v)
{
    char buf[40];
    if (isnan(v))
        snprintf(buf, sizeof buf, "NaN");
    else if (isinf(v))
        snprintf(buf, sizeof buf, "%s", v > 0 ? "Infinity" : "-Infinity");
    else
        snprintf(buf, sizeof buf, "%.17g", v);
    bind(q, arena_strdup(q->arena, buf), "::float8");
}

/* Binds a text[] literal of values. */
static void bind_list(struct query *q, const char *const *values, size_t n)
{
    struct sbuf list;
    sbuf_init(&list);
    sbuf_addc(&list, '{');
    for (size_t i = 0; i < n; i++)
        su_array_text(&list, values[i], i == 0);
    sbuf_addc(&list, '}');
    bind(q, arena_strdup(q->arena, list.data), "::text[]");
    sbuf_cleanup(&list);
}

static const char *op_text(enum lm_op op)
{
    switch (op) {
    case LMO_NE:
        return " <> ";
    case LMO_LT:
        return " < ";
    case LMO_LE:
        return " <= ";
    case LMO_GT:
        return " > ";
    case LMO_GE:
        return " >= ";
    case LMO_LIKE:
        return " LIKE ";
    case LMO_ILIKE:
        return " ILIKE ";
    default:
        return " = ";
    }
}

/* "<expr> OP <value>" for a text or number comparison of c. */
static void compare(struct query *q, const char *expr, const struct lm_cond *c, const char *cast)
{
    sbuf_adds(&q->sql, expr);
    if (c->op == LMO_IN || c->op == LMO_NOT_IN) {
        sbuf_adds(&q->sql, c->op == LMO_IN ? " = ANY (" : " <> ALL (");
        bind_list(q, c->values, c->nvalues);
        sbuf_addc(&q->sql, ')');
        return;
    }
    sbuf_adds(&q->sql, op_text(c->op));
    if (c->numeric)
        bind_double(q, c->number);
    else
        bind(q, c->value, cast);
}

static const char *attr_column(enum lm_attr a)
{
    switch (a) {
    case LMA_NAME:
        return "m.name";
    case LMA_MODEL_ID:
        return "m.model_id";
    case LMA_MODEL_TYPE:
        return "m.model_type";
    case LMA_SOURCE_RUN_ID:
        return "m.source_run_id";
    case LMA_STATUS:
        return "m.status";
    case LMA_EXPERIMENT_ID:
        return "m.experiment_id";
    case LMA_ARTIFACT_LOCATION:
        return "m.artifact_location";
    case LMA_LIFECYCLE_STAGE:
        return "m.lifecycle_stage";
    case LMA_STATUS_MESSAGE:
        return "m.status_message";
    case LMA_CREATION_TIME:
        return "m.creation_time";
    case LMA_LAST_UPDATED_TIME:
        return "m.last_updated_time";
    }
    return "m.name";
}

/* " AND (mm.dataset_name, digest) is one of the datasets" for metric rows mm. */
static void dataset_match(struct query *q, const struct lm_search *s)
{
    const char **names, **digests;

    if (s->ndatasets == 0)
        return;
    names = arena_alloc(q->arena, s->ndatasets * sizeof *names);
    digests = arena_alloc(q->arena, s->ndatasets * sizeof *digests);
    for (size_t i = 0; i < s->ndatasets; i++) {
        names[i] = s->datasets[i].name;
        digests[i] = s->datasets[i].digest ? s->datasets[i].digest : "";
    }
    sbuf_adds(&q->sql, " AND EXISTS (SELECT 1 FROM unnest(");
    bind_list(q, names, s->ndatasets);
    sbuf_adds(&q->sql, ", ");
    bind_list(q, digests, s->ndatasets);
    sbuf_adds(&q->sql, ") AS ds(n, d) WHERE ds.n = mm.dataset_name"
                       " AND (ds.d = '' OR ds.d = mm.dataset_digest))");
}

static void condition(struct query *q, const struct lm_search *s, const struct lm_cond *c)
{
    sbuf_adds(&q->sql, " AND ");
    switch (c->entity) {
    case LME_METRIC:
        /* any metric row of that key (any step, run, dataset) */
        sbuf_adds(&q->sql, "EXISTS (SELECT 1 FROM logged_model_metrics mm"
                           " WHERE mm.model_id = m.model_id AND mm.key = ");
        bind(q, c->key, "");
        compare(q, " AND mm.value", c, "");
        dataset_match(q, s);
        sbuf_addc(&q->sql, ')');
        return;
    case LME_PARAM:
    case LME_TAG:
        sbuf_adds(&q->sql, c->entity == LME_PARAM ? "EXISTS (SELECT 1 FROM logged_model_params x"
                                                    " WHERE x.model_id = m.model_id AND x.key = "
                                                  : "EXISTS (SELECT 1 FROM logged_model_tags x"
                                                    " WHERE x.model_id = m.model_id AND x.key = ");
        bind(q, c->key, "");
        compare(q, " AND x.value", c, "");
        sbuf_addc(&q->sql, ')');
        return;
    case LME_ATTR:
        break;
    }
    if (c->attr == LMA_STATUS) {
        compare(q, "m.status::text", c, "");
        return;
    }
    if (c->attr == LMA_EXPERIMENT_ID) {
        compare(q, "m.experiment_id::text", c, "");
        return;
    }
    if (c->numeric) {
        sbuf_addf(&q->sql, "%s", attr_column(c->attr));
        compare(q, "", c, "");
        return;
    }
    /* status_message is NULL until set: compare it as "" */
    compare(q,
            c->attr == LMA_STATUS_MESSAGE ? "coalesce(m.status_message, '')" : attr_column(c->attr),
            c, "");
}

static void order_key(struct query *q, const struct lm_order *o, int first)
{
    sbuf_adds(&q->sql, first ? " ORDER BY " : ", ");
    if (o->field.entity == LME_METRIC) {
        /* the value of the latest (timestamp, step) row of that metric */
        sbuf_adds(&q->sql, "(SELECT mm.value FROM logged_model_metrics mm"
                           " WHERE mm.model_id = m.model_id AND mm.key = ");
        bind(q, o->field.key, "");
        if (o->dataset_name != NULL) {
            sbuf_adds(&q->sql, " AND mm.dataset_name = ");
            bind(q, o->dataset_name, "");
            if (o->dataset_digest != NULL) {
                sbuf_adds(&q->sql, " AND mm.dataset_digest = ");
                bind(q, o->dataset_digest, "");
            }
        }
        sbuf_adds(&q->sql, " ORDER BY mm.timestamp DESC, mm.step DESC LIMIT 1)");
    } else {
        sbuf_adds(&q->sql, attr_column(o->field.attr));
    }
    sbuf_adds(&q->sql, o->ascending ? " ASC NULLS LAST" : " DESC NULLS LAST");
}

int store_lm_search(const struct lm_search *s, struct arena *arena, struct logged_model **out,
                    size_t *n, int *more)
{
    struct query q = {.arena = arena};
    struct sbuf ids;
    char lim[24], off[24];
    PGresult *res = NULL;
    size_t nconds = s->filter ? s->filter->n : 0;
    int has_created = 0;

    *out = NULL;
    *n = 0;
    *more = 0;
    /* per condition: up to 4 (key, value, two dataset lists); per order key 3 */
    q.params = arena_alloc(arena, (4 * nconds + 3 * s->norder + 8) * sizeof *q.params);
    sbuf_init(&q.sql);
    sbuf_init(&ids);
    sbuf_addc(&ids, '{');
    for (size_t i = 0; i < s->nexperiments; i++)
        su_array_int64(&ids, s->experiment_ids[i], i == 0);
    sbuf_addc(&ids, '}');
    /* The default order over several experiments: the first offset + limit
     * + 1 rows of each (an index scan apiece), merged; "= ANY" would read
     * and sort every model of the experiments. */
    int per_experiment = s->nexperiments > 1 && s->norder == 0;
    char top[24];
    if (per_experiment) {
        sbuf_adds(&q.sql, "SELECT " LM_COLUMNS " FROM unnest(");
        bind(&q, ids.data, "::bigint[]");
        sbuf_adds(&q.sql, ") AS e(id) CROSS JOIN LATERAL (SELECT m.* FROM logged_models m"
                          " WHERE m.experiment_id = e.id");
    } else if (s->nexperiments == 1) {
        /* one experiment: "=" lets the index give the default order */
        sbuf_adds(&q.sql, "SELECT " LM_COLUMNS " FROM logged_models m WHERE m.experiment_id = ");
        bind(&q, su_i64(top, s->experiment_ids[0]), "::bigint");
    } else {
        sbuf_adds(&q.sql,
                  "SELECT " LM_COLUMNS " FROM logged_models m WHERE m.experiment_id = ANY (");
        bind(&q, ids.data, "::bigint[])");
    }
    sbuf_adds(&q.sql, " AND m.lifecycle_stage = '" STORE_LIFECYCLE_ACTIVE "'");
    for (size_t i = 0; i < nconds; i++)
        condition(&q, s, &s->filter->conds[i]);
    if (s->ndatasets > 0 && (s->filter == NULL || !s->filter->has_metric)) {
        /* no metric comparison: some metric row on one of the datasets */
        sbuf_adds(&q.sql, " AND EXISTS (SELECT 1 FROM logged_model_metrics mm"
                          " WHERE mm.model_id = m.model_id");
        dataset_match(&q, s);
        sbuf_addc(&q.sql, ')');
    }
    if (per_experiment) {
        sbuf_adds(&q.sql, " ORDER BY m.creation_time DESC, m.model_id ASC LIMIT ");
        bind(&q, arena_strdup(arena, su_i64(top, s->offset + s->limit + 1)), "");
        sbuf_adds(&q.sql, ") m");
    }
    for (size_t i = 0; i < s->norder; i++) {
        order_key(&q, &s->order[i], i == 0);
        has_created |=
            s->order[i].field.entity == LME_ATTR && s->order[i].field.attr == LMA_CREATION_TIME;
    }
    if (!has_created)
        sbuf_adds(&q.sql, s->norder ? ", m.creation_time DESC" : " ORDER BY m.creation_time DESC");
    sbuf_adds(&q.sql, ", m.model_id ASC LIMIT ");
    bind(&q, su_i64(lim, s->limit + 1), "");
    sbuf_adds(&q.sql, " OFFSET ");
    bind(&q, su_i64(off, s->offset), "");
    int rc = db_exec(q.sql.data, q.n, q.params, &res);
    if (rc != DB_OK)
        goto out;
    size_t rows = (size_t)PQntuples(res);
    if (rows > (size_t)s->limit) {
        rows = (size_t)s->limit;
        *more = 1;
    }
    *out = arena_alloc(arena, (rows + 1) * sizeof **out);
    for (size_t i = 0; i < rows; i++)
        lm_row(res, (int)i, arena, &(*out)[i]);
    *n = rows;
    rc = lm_load_children(*out, rows, arena);
out:
    PQclear(res);
    sbuf_cleanup(&ids);
    sbuf_cleanup(&q.sql);
    return rc;
}
