/* The logged-model filter parser (filter.h): the shared filter lexer
 * (search/filter_lex.h) and a loop over "comparison (AND comparison)*". Values stay text or a
 * double; the store binds each one as a parameter. No SQL here. */
#include "filter.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/jsonx.h"
#include "search/filter_lex.h"

struct parser {
    struct flt_lexer flt;
    const char *src;
    struct arena *arena;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int fail(struct parser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, p->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* The generic grammar error, naming the whole filter. */
static int fail_grammar(struct parser *p)
{
    return fail(p,
                "Invalid filter string: '%.300s'. Expected a list of comparisons separated by "
                "'AND' (e.g. 'metrics.loss > 0.1 AND params.lr = 0.01').",
                p->src);
}

/* The next token. A double-quoted string keeps its quotes: only single
 * quotes make a string value here, "x" compares as the text "x" with them. */
static int next(struct parser *p, struct flt_token *t)
{
    if (flt_next(&p->flt, t) < 0)
        return fail_grammar(p);
    if (t->kind == FLT_STRING && t->quote == '"') {
        size_t n = strlen(t->text);
        char *kept = arena_alloc(p->arena, n + 3);
        kept[0] = '"';
        memcpy(kept + 1, t->text, n);
        kept[n + 1] = '"';
        kept[n + 2] = '\0';
        t->text = kept;
    }
    return 0;
}

struct attr_name {
    const char *name;
    enum lm_attr attr;
};

static const struct attr_name attrs[] = {
    {"name", LMA_NAME},
    {"model_id", LMA_MODEL_ID},
    {"model_type", LMA_MODEL_TYPE},
    {"source_run_id", LMA_SOURCE_RUN_ID},
    {"status", LMA_STATUS},
    {"experiment_id", LMA_EXPERIMENT_ID},
    {"artifact_location", LMA_ARTIFACT_LOCATION},
    {"lifecycle_stage", LMA_LIFECYCLE_STAGE},
    {"status_message", LMA_STATUS_MESSAGE},
    {"creation_timestamp_ms", LMA_CREATION_TIME},
    {"last_updated_timestamp_ms", LMA_LAST_UPDATED_TIME},
    /* MLflow's aliases (bare only there; exptrack also after "attributes.") */
    {"creation_time", LMA_CREATION_TIME},
    {"creation_timestamp", LMA_CREATION_TIME},
    {"last_updated_timestamp", LMA_LAST_UPDATED_TIME},
};

static int attr_lookup(const char *name, enum lm_attr *out)
{
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
        if (strcmp(name, attrs[i].name) == 0) {
            *out = attrs[i].attr;
            return 0;
        }
    return -1;
}

static const char *const status_names[] = {"LOGGED_MODEL_STATUS_UNSPECIFIED",
                                           "LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY",
                                           "LOGGED_MODEL_UPLOAD_FAILED"};
static const char *const status_short[] = {"UNSPECIFIED", "PENDING", "READY", "UPLOAD_FAILED"};

int lm_status_parse(const char *text)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(text, status_names[i]) == 0 || strcasecmp(text, status_short[i]) == 0)
            return i;
    if (text[0] >= '0' && text[0] <= '3' && text[1] == '\0')
        return text[0] - '0';
    return -1;
}

const char *lm_status_name(int s)
{
    return s >= 0 && s < 4 ? status_names[s] : status_names[0];
}

/* Splits an identifier into entity, attribute or key. */
static int identifier(struct parser *p, const struct flt_token *t, struct lm_cond *c)
{
    const char *dot = strchr(t->text, '.');
    if (dot == NULL) {
        if (t->key != NULL || attr_lookup(t->text, &c->attr) < 0)
            return fail(p, "Invalid attribute name '%.100s' in filter string '%.300s'",
                        t->key ? t->key : t->text, p->src);
        c->entity = LME_ATTR;
        return 0;
    }
    size_t plen = (size_t)(dot - t->text);
    const char *key = t->key ? t->key : dot + 1;
    if (t->key != NULL && dot[1] != '\0')
        return fail_grammar(p);
    if (plen == 7 && strncmp(t->text, "metrics", plen) == 0)
        c->entity = LME_METRIC;
    else if (plen == 6 && strncmp(t->text, "params", plen) == 0)
        c->entity = LME_PARAM;
    else if (plen == 4 && strncmp(t->text, "tags", plen) == 0)
        c->entity = LME_TAG;
    else if (plen == 10 && strncmp(t->text, "attributes", plen) == 0)
        c->entity = LME_ATTR;
    else
        return fail(p,
                    "Invalid entity type '%.*s' in filter string '%.300s'. Valid types are "
                    "'metrics', 'params', 'tags' and 'attributes'.",
                    (int)(plen > 100 ? 100 : plen), t->text, p->src);
    if (key[0] == '\0')
        return fail(p, "Invalid filter string '%.300s': a key must follow '%.*s.'", p->src,
                    (int)plen, t->text);
    if (c->entity == LME_ATTR) {
        if (attr_lookup(key, &c->attr) < 0)
            return fail(p, "Invalid attribute name '%.100s' in filter string '%.300s'", key,
                        p->src);
        return 0;
    }
    c->key = key;
    return 0;
}

/* Reads the operator starting with t. */
static int operator(struct parser *p, const struct flt_token *t, struct lm_cond *c)
{
    static const struct {
        const char *text;
        enum lm_op op;
    } ops[] = {{"=", LMO_EQ},  {"!=", LMO_NE}, {"<", LMO_LT},      {"<=", LMO_LE},
               {">", LMO_GT},  {">=", LMO_GE}, {"LIKE", LMO_LIKE}, {"ILIKE", LMO_ILIKE},
               {"IN", LMO_IN}, {"<>", LMO_NE}};
    if (t->kind == FLT_WORD && strcmp(t->text, "NOT") == 0) {
        struct flt_token in;
        if (next(p, &in) < 0)
            return -1;
        if (in.kind == FLT_WORD && strcmp(in.text, "IN") == 0) {
            c->op = LMO_NOT_IN;
            return 0;
        }
        return fail(p, "Invalid comparison operator 'NOT %.50s' in filter string '%.300s'", in.text,
                    p->src);
    }
    if (t->kind == FLT_OP || t->kind == FLT_WORD)
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
            if (strcmp(t->text, ops[i].text) == 0) {
                c->op = ops[i].op;
                return 0;
            }
    if (t->kind == FLT_END)
        return fail_grammar(p);
    return fail(p, "Invalid comparison operator '%.50s' in filter string '%.300s'", t->text,
                p->src);
}

static int is_numeric(const struct lm_cond *c)
{
    return c->entity == LME_METRIC || (c->entity == LME_ATTR && (c->attr == LMA_CREATION_TIME ||
                                                                 c->attr == LMA_LAST_UPDATED_TIME));
}

/* A status value as its number's text; -1 with the error for an unknown one. */
static int status_value(struct parser *p, const char *text, const char **out)
{
    static const char *const numbers[] = {"0", "1", "2", "3"};
    int s = lm_status_parse(text);
    if (s < 0)
        return fail(p,
                    "Invalid status '%.100s' in filter string '%.300s': expected one of "
                    "LOGGED_MODEL_STATUS_UNSPECIFIED, LOGGED_MODEL_PENDING, LOGGED_MODEL_READY, "
                    "LOGGED_MODEL_UPLOAD_FAILED (or their numbers 0-3)",
                    text, p->src);
    *out = numbers[s];
    return 0;
}

/* Reads "('a', 'b', ...)" after IN / NOT IN. */
static int value_list(struct parser *p, struct lm_cond *c)
{
    struct flt_token t;
    size_t cap = 8;

    if (next(p, &t) < 0)
        return -1;
    if (t.kind != FLT_LPAREN)
        return fail(p, "Invalid filter string '%.300s': IN expects a list like ('a', 'b')", p->src);
    c->values = arena_alloc(p->arena, cap * sizeof *c->values);
    for (;;) {
        if (next(p, &t) < 0)
            return -1;
        if (t.kind != FLT_STRING && t.kind != FLT_NUMBER)
            return fail(p, "Invalid filter string '%.300s': IN expects a list like ('a', 'b')",
                        p->src);
        if (c->nvalues == cap) {
            const char **grown = arena_alloc(p->arena, 2 * cap * sizeof *grown);
            memcpy(grown, c->values, cap * sizeof *grown);
            c->values = grown;
            cap *= 2;
        }
        const char *v = t.text;
        if (c->entity == LME_ATTR && c->attr == LMA_STATUS && status_value(p, t.text, &v) < 0)
            return -1;
        c->values[c->nvalues++] = v;
        if (next(p, &t) < 0)
            return -1;
        if (t.kind == FLT_RPAREN)
            return 0;
        if (t.kind != FLT_COMMA)
            return fail(p, "Invalid filter string '%.300s': IN expects a list like ('a', 'b')",
                        p->src);
    }
}

static int comparison(struct parser *p, const struct flt_token *ident, struct lm_cond *c)
{
    struct flt_token t;

    memset(c, 0, sizeof *c);
    if (identifier(p, ident, c) < 0 || next(p, &t) < 0 || operator(p, &t, c) < 0)
        return -1;
    c->numeric = is_numeric(c);
    if (c->numeric) {
        if (c->op == LMO_LIKE || c->op == LMO_ILIKE || c->op == LMO_IN || c->op == LMO_NOT_IN)
            return fail(p,
                        "Invalid comparison operator for numeric field in filter string "
                        "'%.300s': expected one of <, <=, >, >=, =, !=",
                        p->src);
        if (next(p, &t) < 0)
            return -1;
        if ((t.kind != FLT_NUMBER && t.kind != FLT_STRING) ||
            jx_parse_double_text(t.text, &c->number) != 0)
            return fail(p, "Invalid numeric value '%.100s' in filter string '%.300s'", t.text,
                        p->src);
        return 0;
    }
    if (c->op == LMO_LT || c->op == LMO_LE || c->op == LMO_GT || c->op == LMO_GE)
        return fail(p,
                    "Invalid comparison operator for string field in filter string '%.300s': "
                    "expected one of =, !=, LIKE, ILIKE, IN, NOT IN",
                    p->src);
    if (c->op == LMO_IN || c->op == LMO_NOT_IN)
        return value_list(p, c);
    if (next(p, &t) < 0)
        return -1;
    if (t.kind != FLT_STRING && t.kind != FLT_NUMBER)
        return fail_grammar(p);
    c->value = t.text;
    if (c->entity == LME_ATTR && c->attr == LMA_STATUS) {
        if (c->op == LMO_LIKE || c->op == LMO_ILIKE)
            return fail(p, "Invalid filter string '%.300s': status compares with =, !=, IN, NOT IN",
                        p->src);
        return status_value(p, t.text, &c->value);
    }
    return 0;
}

int lm_filter_parse(const char *src, struct arena *arena, struct lm_filter *out, char *err,
                    size_t errlen)
{
    struct parser p = {.src = src ? src : "", .arena = arena, .err = err, .errlen = errlen};
    flt_init(&p.flt, p.src, arena);
    struct flt_token t;
    size_t cap = 4;

    memset(out, 0, sizeof *out);
    out->conds = arena_alloc(arena, cap * sizeof *out->conds);
    if (next(&p, &t) < 0)
        return -1;
    if (t.kind == FLT_END)
        return 0;
    for (;;) {
        if (t.kind != FLT_WORD)
            return fail_grammar(&p);
        if (out->n == cap) {
            struct lm_cond *grown = arena_alloc(arena, 2 * cap * sizeof *grown);
            memcpy(grown, out->conds, cap * sizeof *grown);
            out->conds = grown;
            cap *= 2;
        }
        struct lm_cond *c = &out->conds[out->n];
        if (comparison(&p, &t, c) < 0)
            return -1;
        out->n++;
        out->has_metric |= c->entity == LME_METRIC;
        if (next(&p, &t) < 0)
            return -1;
        if (t.kind == FLT_END)
            return 0;
        if (t.kind != FLT_WORD || strcasecmp(t.text, "AND") != 0 || next(&p, &t) < 0)
            return t.kind == FLT_WORD && strcasecmp(t.text, "AND") == 0 ? -1 : fail_grammar(&p);
    }
}

int lm_order_field_parse(const char *field_name, struct lm_order_field *out, char *err,
                         size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *dot = strchr(field_name, '.');
    if (dot == NULL) {
        out->entity = LME_ATTR;
        if (attr_lookup(field_name, &out->attr) == 0)
            return 0;
        snprintf(err, errlen, "Invalid order by field name: %.200s", field_name);
        return -1;
    }
    if (strncmp(field_name, "metrics.", 8) != 0 || field_name[8] == '\0') {
        snprintf(err, errlen, "Invalid order by field name: %.200s. Only metrics are supported.",
                 field_name);
        return -1;
    }
    out->entity = LME_METRIC;
    out->key = field_name + 8;
    return 0;
}
