/* Trace search and rollups: the filter (filter.h) rendered as one
 * statement with every value a bound parameter. */
#include "store_traces.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "db/store_util.h"
#include "store_traces_rows.h"

/* Bound parameters of one statement. The parser's caps (64 comparisons,
 * 10 order keys) need at most 144: two per comparison, one per order key,
 * the experiments, the keyset pair, two limits and the offset. */
#define MAX_PARAMS 200

struct q {
    struct sbuf sql;
    const char *params[MAX_PARAMS];
    int n;
    int overflow; /* a bind past MAX_PARAMS: the statement is not run */
    struct arena *arena;
};

/* Binds value and returns its "$n" text (valid until the next call). Past
 * MAX_PARAMS nothing is bound: q->overflow is set and "NULL" returned, and
 * the caller answers DB_TRACE_TOO_MANY_PARAMS instead of running the
 * statement. */
static const char *bind(struct q *q, const char *value)
{
    static _Thread_local char ref[16];
    if (q->n >= MAX_PARAMS) {
        q->overflow = 1;
        return "NULL";
    }
    q->params[q->n++] = value;
    snprintf(ref, sizeof ref, "$%d", q->n);
    return ref;
}

static const char *bind_i64(struct q *q, int64_t v)
{
    char buf[24];
    return bind(q, arena_strdup(q->arena, su_i64(buf, v)));
}

static const char *bind_list(struct q *q, const char *const *values, size_t n)
{
    struct sbuf b;
    sbuf_init(&b);
    sbuf_addc(&b, '{');
    for (size_t i = 0; i < n; i++)
        su_array_text(&b, values[i], i == 0);
    sbuf_addc(&b, '}');
    const char *ref = bind(q, arena_strdup(q->arena, b.data));
    sbuf_cleanup(&b);
    return ref;
}

/* " <op> $n" for a text comparison of c (not IS NULL). cast: "" or a
 * "::type" for the scalar parameter. */
static void text_op(struct q *q, const struct trace_cond *c, const char *cast)
{
    switch (c->op) {
    case TO_IN:
        sbuf_addf(&q->sql, " = ANY(%s::text[]%s)", bind_list(q, c->values, c->nvalues),
                  cast[0] ? "::smallint[]" : "");
        return;
    case TO_NOT_IN:
        sbuf_addf(&q->sql, " <> ALL(%s::text[]%s)", bind_list(q, c->values, c->nvalues),
                  cast[0] ? "::smallint[]" : "");
        return;
    case TO_NE:
        sbuf_addf(&q->sql, " <> %s%s", bind(q, c->value), cast);
        return;
    case TO_LIKE:
        sbuf_addf(&q->sql, " LIKE %s", bind(q, c->value));
        return;
    case TO_ILIKE:
        sbuf_addf(&q->sql, " ILIKE %s", bind(q, c->value));
        return;
    default:
        sbuf_addf(&q->sql, " = %s%s", bind(q, c->value), cast);
        return;
    }
}

static const char *num_op(enum trace_op op)
{
    switch (op) {
    case TO_NE:
        return "<>";
    case TO_LT:
        return "<";
    case TO_LE:
        return "<=";
    case TO_GT:
        return ">";
    case TO_GE:
        return ">=";
    default:
        return "=";
    }
}

/* A key/value child row test: EXISTS (or NOT EXISTS for IS NULL). */
static void kv_cond(struct q *q, const char *table, const struct trace_cond *c)
{
    sbuf_addf(&q->sql, " AND %sEXISTS (SELECT 1 FROM %s x WHERE x.trace_id = t.trace_id",
              c->op == TO_IS_NULL ? "NOT " : "", table);
    sbuf_addf(&q->sql, " AND x.key = %s", bind(q, c->key));
    if (c->op != TO_IS_NULL && c->op != TO_IS_NOT_NULL) {
        sbuf_adds(&q->sql, " AND x.value");
        text_op(q, c, "");
    }
    sbuf_addc(&q->sql, ')');
}

static void run_id_cond(struct q *q, const struct trace_cond *c)
{
    /* the sourceRun metadata, or a link-to-run row; != and NOT IN negate */
    int negate = c->op == TO_NE || c->op == TO_NOT_IN;
    struct trace_cond pos = *c;
    if (c->op == TO_NE)
        pos.op = TO_EQ;
    else if (c->op == TO_NOT_IN)
        pos.op = TO_IN;
    sbuf_addf(&q->sql,
              " AND %s(EXISTS (SELECT 1 FROM trace_metadata x"
              " WHERE x.trace_id = t.trace_id AND x.key = 'mlflow.sourceRun'"
              " AND x.value",
              negate ? "NOT " : "");
    text_op(q, &pos, "");
    sbuf_adds(&q->sql, ") OR EXISTS (SELECT 1 FROM trace_run_links x"
                       " WHERE x.trace_id = t.trace_id AND x.run_id");
    text_op(q, &pos, "");
    sbuf_adds(&q->sql, "))");
}

static void render_filter(struct q *q, const struct trace_filter *f)
{
    for (size_t i = 0; f != NULL && i < f->n; i++) {
        const struct trace_cond *c = &f->conds[i];
        if (c->entity == TE_TAG) {
            kv_cond(q, "trace_tags", c);
            continue;
        }
        if (c->entity == TE_META) {
            kv_cond(q, "trace_metadata", c);
            continue;
        }
        switch (c->attr) {
        case TA_TIMESTAMP:
        case TA_EXECUTION_TIME:
        case TA_END_TIME: {
            const char *col = c->attr == TA_TIMESTAMP ? "t.request_time"
                              : c->attr == TA_EXECUTION_TIME
                                  ? "t.execution_duration"
                                  : "(t.request_time + t.execution_duration)";
            sbuf_addf(&q->sql, " AND %s %s ", col, num_op(c->op));
            sbuf_addf(&q->sql, "%s::bigint", bind_i64(q, c->number));
            break;
        }
        case TA_STATUS:
            sbuf_adds(&q->sql, " AND t.state");
            text_op(q, c, "::smallint");
            break;
        case TA_TRACE_ID:
            sbuf_adds(&q->sql, " AND t.trace_id");
            text_op(q, c, "");
            break;
        case TA_CLIENT_REQUEST_ID:
            sbuf_adds(&q->sql, " AND t.client_request_id");
            text_op(q, c, "");
            break;
        case TA_NAME:
            sbuf_adds(&q->sql, " AND EXISTS (SELECT 1 FROM trace_tags x WHERE x.trace_id ="
                               " t.trace_id AND x.key = 'mlflow.traceName' AND x.value");
            text_op(q, c, "");
            sbuf_addc(&q->sql, ')');
            break;
        case TA_RUN_ID:
            run_id_cond(q, c);
            break;
        case TA_EXPERIMENT_ID:
            break;
        }
    }
}

/* The ORDER BY expression of one key. */
static void order_expr(struct q *q, const struct trace_order *o)
{
    if (o->entity != TE_ATTR) {
        sbuf_addf(&q->sql, "(SELECT value FROM %s x WHERE x.trace_id = t.trace_id AND x.key = ",
                  o->entity == TE_TAG ? "trace_tags" : "trace_metadata");
        sbuf_addf(&q->sql, "%s)", bind(q, o->key));
        return;
    }
    switch (o->attr) {
    case TA_TRACE_ID:
        sbuf_adds(&q->sql, "t.trace_id");
        break;
    case TA_STATUS:
        sbuf_adds(&q->sql, "t.state");
        break;
    case TA_TIMESTAMP:
        sbuf_adds(&q->sql, "t.request_time");
        break;
    case TA_EXECUTION_TIME:
        sbuf_adds(&q->sql, "t.execution_duration");
        break;
    case TA_END_TIME:
        sbuf_adds(&q->sql, "(t.request_time + t.execution_duration)");
        break;
    case TA_EXPERIMENT_ID:
        sbuf_adds(&q->sql, "t.experiment_id");
        break;
    case TA_NAME:
        sbuf_adds(&q->sql, "(SELECT value FROM trace_tags x WHERE x.trace_id = t.trace_id"
                           " AND x.key = 'mlflow.traceName')");
        break;
    case TA_RUN_ID:
        sbuf_adds(&q->sql, "(SELECT value FROM trace_metadata x WHERE x.trace_id = t.trace_id"
                           " AND x.key = 'mlflow.sourceRun')");
        break;
    case TA_CLIENT_REQUEST_ID:
        sbuf_adds(&q->sql, "t.client_request_id");
        break;
    }
}

static const char *experiment_list(struct q *q, const int64_t *ids, size_t n)
{
    struct sbuf b;
    sbuf_init(&b);
    sbuf_addc(&b, '{');
    for (size_t i = 0; i < n; i++)
        su_array_int64(&b, ids[i], i == 0);
    sbuf_addc(&b, '}');
    const char *ref = bind(q, arena_strdup(q->arena, b.data));
    sbuf_cleanup(&b);
    return ref;
}

int trace_search_keyset_order(const struct trace_search *q)
{
    if (q->norder == 0)
        return 1;
    const struct trace_order *o = &q->order[0];
    return q->norder == 1 && o->entity == TE_ATTR && o->attr == TA_TIMESTAMP && !o->ascending;
}

/* The filter and, with keyset, the condition "after the previous page's
 * last row" in the default order (request_time DESC, trace_id ASC); the
 * first conjunct lets the index scan start there. */
static void render_where(struct q *q, const struct trace_search *s, int keyset)
{
    render_filter(q, s->filter);
    if (!keyset)
        return;
    const char *ts = arena_strdup(q->arena, bind_i64(q, s->after_time));
    sbuf_addf(&q->sql, " AND t.request_time <= %s::bigint AND (t.request_time < %s::bigint", ts,
              ts);
    sbuf_addf(&q->sql, " OR t.trace_id > %s)", bind(q, s->after_id));
}

/* " ORDER BY <keys>, request_time DESC, trace_id LIMIT limit". */
static void render_order(struct q *q, const struct trace_search *s, int64_t limit)
{
    int has_time = 0, has_id = 0;
    sbuf_adds(&q->sql, " ORDER BY ");
    for (size_t i = 0; i < s->norder; i++) {
        const struct trace_order *o = &s->order[i];
        order_expr(q, o);
        sbuf_addf(&q->sql, " %s NULLS LAST, ", o->ascending ? "ASC" : "DESC");
        has_time |= o->entity == TE_ATTR && o->attr == TA_TIMESTAMP;
        has_id |= o->entity == TE_ATTR && o->attr == TA_TRACE_ID;
    }
    if (!has_time)
        sbuf_adds(&q->sql, "t.request_time DESC, ");
    sbuf_adds(&q->sql, has_id ? "t.trace_id" : "t.trace_id ASC");
    sbuf_addf(&q->sql, " LIMIT %s::bigint", bind_i64(q, limit));
}

int store_trace_search(const struct trace_search *s, struct arena *arena, struct trace_info **out,
                       size_t *n, int *more)
{
    struct q q = {.n = 0, .arena = arena};
    PGresult *res = NULL;
    int keyset = s->after_id != NULL && trace_search_keyset_order(s);
    int64_t offset = keyset ? 0 : s->offset;

    *out = NULL;
    *n = 0;
    *more = 0;
    sbuf_init(&q.sql);
    if (s->nexperiments == 1) {
        /* An equality, so that the index (experiment_id, request_time
         * DESC, trace_id) yields the default order and the scan stops at
         * the page's last row. */
        sbuf_addf(&q.sql, "SELECT " TRACE_COLUMNS " FROM traces t WHERE t.experiment_id = %s",
                  bind_i64(&q, s->experiment_ids[0]));
        render_where(&q, s, keyset);
    } else {
        /* Each experiment's first rows in index order, then merged: never
         * a sort of every matching trace. */
        sbuf_addf(&q.sql,
                  "SELECT " TRACE_COLUMNS " FROM (SELECT DISTINCT unnest(%s::bigint[]) AS id) e"
                  " CROSS JOIN LATERAL (SELECT t.* FROM traces t WHERE t.experiment_id = e.id",
                  experiment_list(&q, s->experiment_ids, s->nexperiments));
        render_where(&q, s, keyset);
        render_order(&q, s, offset + s->limit + 1);
        sbuf_adds(&q.sql, ") t");
    }
    render_order(&q, s, s->limit + 1);
    if (offset > 0)
        sbuf_addf(&q.sql, " OFFSET %s::bigint", bind_i64(&q, offset));
    if (q.overflow) {
        sbuf_cleanup(&q.sql);
        return DB_TRACE_TOO_MANY_PARAMS;
    }
    int rc = db_exec(q.sql.data, q.n, q.params, &res);
    sbuf_cleanup(&q.sql);
    if (rc != DB_OK)
        return rc;
    int rows = PQntuples(res);
    if (rows > s->limit) {
        *more = 1;
        rows = (int)s->limit;
    }
    struct trace_info *infos = arena_alloc(arena, ((size_t)rows + 1) * sizeof *infos);
    for (int r = 0; r < rows; r++)
        trace_row(res, r, arena, &infos[r]);
    PQclear(res);
    *out = infos;
    *n = (size_t)rows;
    return trace_load_children(infos, (size_t)rows, arena);
}

int store_trace_stats(int64_t experiment_id, const struct trace_filter *filter, int group_kind,
                      const char *group_key, struct arena *arena, struct trace_stats_row **out,
                      size_t *n)
{
    struct q q = {.n = 0, .arena = arena};
    PGresult *res = NULL;

    *out = NULL;
    *n = 0;
    sbuf_init(&q.sql);
    bind_i64(&q, experiment_id); /* $1, used twice below */
    sbuf_adds(&q.sql, "SELECT ");
    if (group_kind != 0) {
        sbuf_addf(&q.sql, "(SELECT value FROM %s x WHERE x.trace_id = t.trace_id AND x.key = ",
                  group_kind == 1 ? "trace_tags" : "trace_metadata");
        sbuf_addf(&q.sql, "%s) AS g,", bind(&q, group_key));
    } else {
        sbuf_adds(&q.sql, "NULL::text AS g,");
    }
    sbuf_adds(&q.sql,
              " count(*), count(*) FILTER (WHERE t.state = 2),"
              " coalesce(sum(t.input_tokens), 0), coalesce(sum(t.output_tokens), 0),"
              " coalesce(sum(t.total_tokens), 0),"
              " percentile_cont(0.5) WITHIN GROUP (ORDER BY t.execution_duration),"
              " percentile_cont(0.9) WITHIN GROUP (ORDER BY t.execution_duration),"
              " percentile_cont(0.99) WITHIN GROUP (ORDER BY t.execution_duration),"
              " sum(CASE WHEN mc.trace_id IS NULL THEN sc.input_cost ELSE mc.input_cost END),"
              " sum(CASE WHEN mc.trace_id IS NULL THEN sc.output_cost ELSE mc.output_cost END),"
              " sum(CASE WHEN mc.trace_id IS NULL THEN sc.total_cost ELSE mc.total_cost END)"
              " FROM traces t"
              /* A trace's cost: its metadata mlflow.trace.cost when
               * the client rolled it up, else the sum of its spans'
               * mlflow.llm.cost (never both). Both sides read this
               * experiment's rows only: the metadata by one primary
               * key probe per trace of the experiment (the LIMIT keeps
               * the planner from flattening it into a join that would
               * read every experiment's cost rows), the spans through
               * the partial index trace_spans_cost, whose predicate
               * the strpos repeats (only those spans' text is cast to
               * jsonb), hash-joined. */
              " LEFT JOIN LATERAL (SELECT x.trace_id, c.input_cost, c.output_cost, c.total_cost"
              "   FROM trace_metadata x, trace_costs(to_jsonb(x.value)) c"
              "   WHERE x.trace_id = t.trace_id AND x.key = 'mlflow.trace.cost' LIMIT 1) mc"
              "   ON true"
              " LEFT JOIN (SELECT s.trace_id, sum(c.input_cost) AS input_cost,"
              "   sum(c.output_cost) AS output_cost, sum(c.total_cost) AS total_cost"
              "   FROM trace_spans s, trace_costs(s.attributes::jsonb -> 'mlflow.llm.cost') c"
              "   WHERE s.experiment_id = $1::bigint"
              "   AND strpos(s.attributes, '\"mlflow.llm.cost\"') > 0"
              "   GROUP BY s.trace_id) sc ON sc.trace_id = t.trace_id"
              " WHERE t.experiment_id = $1::bigint");
    render_filter(&q, filter);
    sbuf_adds(&q.sql, " GROUP BY g ORDER BY g NULLS LAST LIMIT 1000");
    if (q.overflow) {
        sbuf_cleanup(&q.sql);
        return DB_TRACE_TOO_MANY_PARAMS;
    }
    int rc = db_exec(q.sql.data, q.n, q.params, &res);
    sbuf_cleanup(&q.sql);
    if (rc != DB_OK)
        return rc;
    int rows = PQntuples(res);
    struct trace_stats_row *s = arena_alloc(arena, ((size_t)rows + 1) * sizeof *s);
    for (int r = 0; r < rows; r++) {
        s[r].group = su_str(res, r, 0, arena);
        s[r].traces = su_int64(res, r, 1);
        s[r].errors = su_int64(res, r, 2);
        s[r].input_tokens = su_int64(res, r, 3);
        s[r].output_tokens = su_int64(res, r, 4);
        s[r].total_tokens = su_int64(res, r, 5);
        s[r].p50 = PQgetisnull(res, r, 6) ? NAN : su_double(res, r, 6);
        s[r].p90 = PQgetisnull(res, r, 7) ? NAN : su_double(res, r, 7);
        s[r].p99 = PQgetisnull(res, r, 8) ? NAN : su_double(res, r, 8);
        s[r].input_cost = PQgetisnull(res, r, 9) ? 0 : su_double(res, r, 9);
        s[r].output_cost = PQgetisnull(res, r, 10) ? 0 : su_double(res, r, 10);
        s[r].total_cost = PQgetisnull(res, r, 11) ? 0 : su_double(res, r, 11);
    }
    PQclear(res);
    *out = s;
    *n = (size_t)rows;
    return DB_OK;
}
