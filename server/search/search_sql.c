/* Filter AST -> SQL. The only dynamic SQL in the server: fixed fragments
 * from this file joined around $n placeholders. Semantics (mlflow-api.md
 * §8.1): comparisons use the latest metric value; a run lacking the key
 * never matches (also not for !=); NaN only satisfies != (IEEE: it is not
 * equal to, less or greater than anything); dataset clauses match when any
 * dataset input of the run matches. */
#include "search_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mlflow_tags.h"
#include "core/validate.h"
#include "common/xalloc.h"

#define RUN_STATUS_NAME "(ARRAY['RUNNING','SCHEDULED','FINISHED','FAILED','KILLED'])[r.status]"

void sq_init(struct sql_query *q, struct arena *arena)
{
    memset(q, 0, sizeof *q);
    sbuf_init(&q->text);
    q->arena = arena;
}

void sq_cleanup(struct sql_query *q)
{
    sbuf_cleanup(&q->text);
    free(q->params);
    q->params = NULL;
    q->nparams = q->cap = 0;
}

/* Adds a parameter (copied; NULL = SQL NULL) and returns its number n for
 * "$n". Appends nothing to the text. */
static int sq_param(struct sql_query *q, const char *value)
{
    if (q->nparams == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 16;
        q->params = xrealloc(q->params, (size_t)q->cap * sizeof *q->params);
    }
    q->params[q->nparams++] = value ? arena_strdup(q->arena, value) : NULL;
    return q->nparams;
}

void sq_bind(struct sql_query *q, struct sbuf *out, const char *value, const char *cast)
{
    int n = sq_param(q, value);
    out = out ? out : &q->text;
    if (cast)
        sbuf_addf(out, "$%d::%s", n, cast);
    else
        sbuf_addf(out, "$%d", n);
}

static const char *sql_op(enum search_op op)
{
    switch (op) {
    case SO_EQ:
        return " = ";
    case SO_NE:
        return " <> ";
    case SO_LT:
        return " < ";
    case SO_LE:
        return " <= ";
    case SO_GT:
        return " > ";
    case SO_GE:
        return " >= ";
    case SO_LIKE:
        return " LIKE ";
    case SO_ILIKE:
        return " ILIKE ";
    default:
        return " = ";
    }
}

/* "<expr> <op> $n" for a scalar value, "<expr> [NOT] IN ($a, $b)" for lists. */
static void compare(struct sql_query *q, const char *expr, const struct search_node *n,
                    const char *cast)
{
    sbuf_adds(&q->text, expr);
    if (n->value_kind == SV_LIST) {
        sbuf_adds(&q->text, n->op == SO_NOT_IN ? " NOT IN (" : " IN (");
        for (size_t i = 0; i < n->nlist; i++) {
            if (i)
                sbuf_adds(&q->text, ", ");
            sq_bind(q, NULL, n->list[i], cast);
        }
        sbuf_addc(&q->text, ')');
        return;
    }
    sbuf_adds(&q->text, sql_op(n->op));
    sq_bind(q, NULL, n->text, cast);
}

static void metric_cmp(struct sql_query *q, const struct search_node *n)
{
    int is_null = n->op == SO_IS_NULL, presence = is_null || n->op == SO_IS_NOT_NULL;
    sbuf_adds(&q->text, is_null ? "NOT EXISTS (" : "EXISTS (");
    sbuf_adds(&q->text, "SELECT 1 FROM latest_metrics f WHERE f.run_id = r.id AND f.key_id = "
                        "(SELECT id FROM metric_keys WHERE name = ");
    sq_bind(q, NULL, n->ident.key, NULL);
    sbuf_addc(&q->text, ')');
    if (!presence) {
        sbuf_adds(&q->text, " AND ");
        compare(q, "f.value", n, "float8");
        if (n->op != SO_NE)
            sbuf_adds(&q->text, " AND f.value <> 'NaN'");
    }
    sbuf_addc(&q->text, ')');
}

/* Characters of a UTF-8 string (bytes that do not continue a sequence). */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* True when every value of an = or IN comparison is shorter than the
 * prefix the (key, left(value, 200)) indexes of 0002 hold. For such a
 * value v, left(value, 200) = v holds exactly when value = v (a longer
 * value's prefix has 200 characters), so the condition can be written on
 * the indexed expression alone: the index finds the rows and the planner
 * estimates the match from that expression's statistics. Written as both
 * value = v AND left(value, 200) = left(v, 200), it multiplied two
 * selectivities of one fact and guessed 20 times too few rows. */
static int short_values(const struct search_node *n)
{
    if (n->value_kind == SV_STRING)
        return utf8_chars(n->text) < SEARCH_VALUE_PREFIX;
    for (size_t i = 0; i < n->nlist; i++)
        if (utf8_chars(n->list[i]) >= SEARCH_VALUE_PREFIX)
            return 0;
    return n->value_kind == SV_LIST;
}

/* params and run tags: (run_id, key, value) tables with the prefix index. */
static void run_kv_value(struct sql_query *q, const struct search_node *n)
{
    if ((n->op == SO_EQ || n->op == SO_IN) && short_values(n)) {
        compare(q, "left(f.value, 200)", n, NULL);
        return;
    }
    compare(q, "f.value", n, NULL);
    if (n->op == SO_EQ) { /* a long value: the prefix finds candidates */
        sbuf_adds(&q->text, " AND left(f.value, 200) = left(");
        sq_bind(q, NULL, n->text, "text");
        sbuf_adds(&q->text, ", 200)");
    }
}

/* params, run tags and experiment tags: (owner, key, value) tables. */
static void kv_cmp(struct sql_query *q, const struct search_node *n, const char *table,
                   const char *owner, int prefix_index)
{
    int is_null = n->op == SO_IS_NULL, presence = is_null || n->op == SO_IS_NOT_NULL;
    sbuf_addf(&q->text, "%sEXISTS (SELECT 1 FROM %s f WHERE %s AND f.key = ", is_null ? "NOT " : "",
              table, owner);
    sq_bind(q, NULL, n->ident.key, NULL);
    if (!presence) {
        sbuf_adds(&q->text, " AND ");
        if (prefix_index)
            run_kv_value(q, n);
        else
            compare(q, "f.value", n, NULL);
    }
    sbuf_addc(&q->text, ')');
}

/* run_id = / != / IN / NOT IN on the uuid column. Values that are not
 * lowercase 32-hex ids cannot match (MLflow drops uppercase ones too). */
static void run_id_cmp(struct sql_query *q, const struct search_node *n)
{
    if (n->op == SO_LIKE || n->op == SO_ILIKE) {
        compare(q, "replace(r.run_uuid::text, '-', '')", n, NULL);
        return;
    }
    int negate = n->op == SO_NE || n->op == SO_NOT_IN, valid = 0;
    if (n->value_kind == SV_STRING) {
        valid = validate_is_run_id(n->text);
    } else {
        for (size_t i = 0; i < n->nlist; i++)
            valid += validate_is_run_id(n->list[i]);
    }
    if (valid == 0) {
        sbuf_adds(&q->text, negate ? "true" : "false");
        return;
    }
    sbuf_adds(&q->text, negate ? "NOT (r.run_uuid IN (" : "(r.run_uuid IN (");
    if (n->value_kind == SV_STRING) {
        sq_bind(q, NULL, n->text, "uuid");
    } else {
        int first = 1;
        for (size_t i = 0; i < n->nlist; i++) {
            if (!validate_is_run_id(n->list[i]))
                continue;
            if (!first)
                sbuf_adds(&q->text, ", ");
            sq_bind(q, NULL, n->list[i], "uuid");
            first = 0;
        }
    }
    sbuf_adds(&q->text, "))");
}

static void dataset_cmp(struct sql_query *q, const struct search_node *n)
{
    if (n->ident.attr == SA_DS_CONTEXT) {
        sbuf_adds(&q->text, "EXISTS (SELECT 1 FROM input_tags it WHERE it.run_id = r.id"
                            " AND it.key = '" MLFLOW_TAG_DATA_CONTEXT "' AND ");
        compare(q, "it.value", n, NULL);
    } else {
        sbuf_adds(&q->text, "EXISTS (SELECT 1 FROM run_inputs ri JOIN datasets d"
                            " ON d.id = ri.dataset_id WHERE ri.run_id = r.id AND ");
        compare(q, n->ident.attr == SA_DS_NAME ? "d.name" : "d.digest", n, NULL);
    }
    sbuf_addc(&q->text, ')');
}

/* The column (expression) of an attribute. */
static const char *attr_expr(enum search_attr a)
{
    switch (a) {
    case SA_RUN_ID:
        return "r.run_uuid";
    case SA_RUN_NAME:
        return "r.name";
    case SA_STATUS:
        return RUN_STATUS_NAME;
    case SA_USER_ID:
        return "r.user_id";
    case SA_ARTIFACT_URI:
        return "r.artifact_uri";
    case SA_START_TIME:
        return "r.start_time";
    case SA_END_TIME:
        return "r.end_time";
    case SA_EXP_ID:
        return "e.experiment_id";
    case SA_EXP_NAME:
        return "e.name";
    case SA_EXP_CREATION_TIME:
        return "e.creation_time";
    case SA_EXP_LAST_UPDATE_TIME:
        return "e.last_update_time";
    default:
        return "NULL";
    }
}

/* The RunStatus number (1..5) of a status name, or 0. Case-sensitive, as
 * the comparison of the name is. */
static int status_number(const char *name)
{
    static const char *const names[] = {"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"};
    for (int i = 0; i < 5; i++)
        if (strcmp(name, names[i]) == 0)
            return i + 1;
    return 0;
}

/* status =, !=, IN, NOT IN on the smallint column itself, so that its
 * statistics and indexes serve the filter; a name that is no status
 * matches no run. Other operators (LIKE, ...) compare the name. */
static int status_cmp(struct sql_query *q, const struct search_node *n)
{
    int negate = n->op == SO_NE || n->op == SO_NOT_IN, valid = 0, first = 1;
    char num[8];

    if (n->op == SO_EQ || n->op == SO_NE)
        valid = status_number(n->text) != 0;
    else if (n->op == SO_IN || n->op == SO_NOT_IN)
        for (size_t i = 0; i < n->nlist; i++)
            valid += status_number(n->list[i]) != 0;
    else
        return 0;
    if (valid == 0) {
        sbuf_adds(&q->text, negate ? "true" : "false");
        return 1;
    }
    if (n->value_kind == SV_STRING) {
        snprintf(num, sizeof num, "%d", status_number(n->text));
        sbuf_adds(&q->text, negate ? "r.status <> " : "r.status = ");
        sq_bind(q, NULL, num, "smallint");
        return 1;
    }
    sbuf_adds(&q->text, negate ? "r.status NOT IN (" : "r.status IN (");
    size_t count = n->nlist;
    for (size_t i = 0; i < count; i++) {
        int v = status_number(n->list[i]);
        if (v == 0)
            continue;
        if (!first)
            sbuf_adds(&q->text, ", ");
        snprintf(num, sizeof num, "%d", v);
        sq_bind(q, NULL, num, "smallint");
        first = 0;
    }
    sbuf_addc(&q->text, ')');
    return 1;
}

static void attr_cmp(struct sql_query *q, const struct search_node *n)
{
    const char *expr = attr_expr(n->ident.attr);
    if (n->ident.attr == SA_RUN_ID) {
        run_id_cmp(q, n);
    } else if (n->ident.attr == SA_STATUS && n->value_kind != SV_NUMBER && status_cmp(q, n)) {
        return;
    } else if (n->op == SO_IS_NULL || n->op == SO_IS_NOT_NULL) {
        sbuf_addf(&q->text, "%s %s", expr, n->op == SO_IS_NULL ? "IS NULL" : "IS NOT NULL");
    } else if (n->value_kind == SV_NUMBER) {
        /* integral literals keep the bigint index usable */
        compare(q, expr, n, n->is_integer ? "bigint" : "numeric");
    } else {
        compare(q, expr, n, NULL);
    }
}

static void comparison(struct sql_query *q, enum search_dialect dialect,
                       const struct search_node *n)
{
    switch (n->ident.entity) {
    case SE_METRIC:
        metric_cmp(q, n);
        break;
    case SE_PARAM:
        kv_cmp(q, n, "params", "f.run_id = r.id", 1);
        break;
    case SE_TAG:
        if (dialect == SEARCH_EXPERIMENTS)
            kv_cmp(q, n, "experiment_tags", "f.experiment_id = e.experiment_id", 0);
        else
            kv_cmp(q, n, "tags", "f.run_id = r.id", 1);
        break;
    case SE_DATASET:
        dataset_cmp(q, n);
        break;
    case SE_ATTR:
        attr_cmp(q, n);
        break;
    }
}

void search_sql_filter(struct sql_query *q, enum search_dialect dialect,
                       const struct search_node *node)
{
    if (node == NULL) {
        sbuf_adds(&q->text, "true");
        return;
    }
    if (node->kind == SN_CMP) {
        comparison(q, dialect, node);
        return;
    }
    sbuf_addc(&q->text, '(');
    search_sql_filter(q, dialect, node->left);
    sbuf_adds(&q->text, node->kind == SN_AND ? " AND " : " OR ");
    search_sql_filter(q, dialect, node->right);
    sbuf_addc(&q->text, ')');
}

static const char *attr_cast(enum search_attr a)
{
    switch (a) {
    case SA_RUN_ID:
        return "uuid";
    case SA_START_TIME:
    case SA_END_TIME:
    case SA_EXP_ID:
    case SA_EXP_CREATION_TIME:
    case SA_EXP_LAST_UPDATE_TIME:
        return "bigint";
    default:
        return "text";
    }
}

/* An arena copy of a fragment naming join alias o<i> (as o%1$d). */
#define fmt_alias(q, fmt, i)                                                                       \
    (snprintf(alias_buf, sizeof alias_buf, fmt, i), arena_strdup((q)->arena, alias_buf))

void search_sql_sort_key(struct sql_query *q, struct sbuf *joins, enum search_dialect dialect,
                         const struct search_order *order, int i, struct search_sort_key *out)
{
    const struct search_ident *id = &order->ident;
    char alias_buf[160];

    memset(out, 0, sizeof *out);
    out->desc = order->desc;
    if (id->entity == SE_ATTR) {
        out->value = out->raw = attr_expr(id->attr);
        out->cast = attr_cast(id->attr);
        if (id->attr == SA_END_TIME) {
            out->klass = "CASE WHEN r.end_time IS NULL THEN 2 ELSE 0 END";
            out->cond[0] = "r.end_time IS NOT NULL";
            out->cond[2] = "r.end_time IS NULL";
        }
        return;
    }
    if (id->entity == SE_METRIC) {
        sbuf_addf(joins,
                  " LEFT JOIN latest_metrics o%d ON o%d.run_id = r.id AND o%d.key_id ="
                  " (SELECT id FROM metric_keys WHERE name = ",
                  i, i, i);
        sq_bind(q, joins, id->key, NULL);
        sbuf_addc(joins, ')');
        out->klass = fmt_alias(
            q, "CASE WHEN o%1$d.value IS NULL THEN 2 WHEN o%1$d.value = 'NaN' THEN 1 ELSE 0 END",
            i);
        out->value =
            fmt_alias(q, "CASE WHEN o%1$d.value = 'NaN' THEN NULL ELSE o%1$d.value END", i);
        out->raw = fmt_alias(q, "o%1$d.value", i);
        /* strict on the joined row, so the planner makes the join an inner one */
        out->cond[0] = fmt_alias(q, "o%1$d.value <> 'NaN'", i);
        out->cond[1] = fmt_alias(q, "o%1$d.value = 'NaN'", i);
        out->cond[2] = fmt_alias(q, "o%1$d.run_id IS NULL", i);
        out->cast = "float8";
        return;
    }
    const char *table = id->entity == SE_PARAM ? "params" : "tags";
    (void)dialect; /* experiments cannot order by tags: the parser refused it */
    sbuf_addf(joins, " LEFT JOIN %s o%d ON o%d.run_id = r.id AND o%d.key = ", table, i, i, i);
    sq_bind(q, joins, id->key, NULL);
    out->klass = fmt_alias(q, "CASE WHEN o%1$d.run_id IS NULL THEN 2 ELSE 0 END", i);
    out->value = out->raw = fmt_alias(q, "o%1$d.value", i);
    out->cond[0] = fmt_alias(q, "o%1$d.run_id IS NOT NULL", i);
    out->cond[2] = fmt_alias(q, "o%1$d.run_id IS NULL", i);
    out->cast = "text";
}
