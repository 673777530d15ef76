/* The trace filter parser (filter.h): the shared filter lexer
 * (search/filter_lex.h) and a loop over "comparison (AND comparison)*". Values stay text or an
 * int64; the store binds each one as a parameter. No SQL here. */
#include "filter.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
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

static int fail_grammar(struct parser *p)
{
    return fail(p,
                "Invalid filter string '%.300s': expected comparisons joined by AND, e.g. "
                "\"tag.k = 'v' AND timestamp_ms > 0\"",
                p->src);
}

/* The next token, with the lexer's refusals worded for traces. */
static int next(struct parser *p, struct flt_token *t)
{
    if (flt_next(&p->flt, t) == 0)
        return 0;
    if (p->flt.error == FLT_UNTERMINATED)
        return fail(p, "Invalid filter string '%.300s': unterminated %c", p->src, p->flt.bad);
    if (p->flt.error == FLT_BAD_BACKTICK)
        return fail_grammar(p);
    return fail(p, "Invalid filter string '%.300s': unexpected character at offset %zu", p->src,
                p->flt.pos);
}

static const struct {
    const char *name;
    enum trace_attr attr;
} attrs[] = {
    {"request_id", TA_TRACE_ID},
    {"trace_id", TA_TRACE_ID},
    {"status", TA_STATUS},
    {"state", TA_STATUS},
    {"timestamp", TA_TIMESTAMP},
    {"timestamp_ms", TA_TIMESTAMP},
    {"request_time", TA_TIMESTAMP},
    {"execution_time", TA_EXECUTION_TIME},
    {"execution_time_ms", TA_EXECUTION_TIME},
    {"execution_duration", TA_EXECUTION_TIME},
    {"end_time", TA_END_TIME},
    {"end_time_ms", TA_END_TIME},
    {"name", TA_NAME},
    {"run_id", TA_RUN_ID},
    {"client_request_id", TA_CLIENT_REQUEST_ID},
    {"experiment_id", TA_EXPERIMENT_ID},
};

static int attr_lookup(const char *name, enum trace_attr *out)
{
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
        if (strcmp(name, attrs[i].name) == 0) {
            *out = attrs[i].attr;
            return 0;
        }
    return -1;
}

static const char *const state_names[] = {"STATE_UNSPECIFIED", "OK", "ERROR", "IN_PROGRESS"};
static const char *const status_names[] = {"TRACE_STATUS_UNSPECIFIED", "OK", "ERROR",
                                           "IN_PROGRESS"};

int trace_state_parse(const char *text)
{
    for (int i = 0; i < 4; i++)
        if (strcasecmp(text, state_names[i]) == 0 || strcasecmp(text, status_names[i]) == 0)
            return i;
    if (text[0] >= '0' && text[0] <= '3' && text[1] == '\0')
        return text[0] - '0';
    return -1;
}

const char *trace_state_name(int s)
{
    return s >= 0 && s < 4 ? state_names[s] : state_names[0];
}

const char *trace_status_name(int s)
{
    return s >= 0 && s < 4 ? status_names[s] : status_names[0];
}

static int prefix_is(const char *text, size_t plen, const char *s)
{
    return plen == strlen(s) && strncmp(text, s, plen) == 0;
}

/* Splits "entity.key", "`key`" or "attr" into entity and attribute/key.
 */
static int identifier(struct parser *p, const struct flt_token *t, enum trace_entity *entity,
                      enum trace_attr *attr, const char **key)
{
    const char *dot = strchr(t->text, '.');
    *key = NULL;
    if (dot == NULL) {
        if (t->key != NULL || attr_lookup(t->text, attr) < 0)
            return fail(p, "Invalid attribute key '%.100s' in '%.300s'", t->key ? t->key : t->text,
                        p->src);
        *entity = TE_ATTR;
        return 0;
    }
    size_t plen = (size_t)(dot - t->text);
    const char *k = t->key ? t->key : dot + 1;
    if (t->key != NULL && dot[1] != '\0')
        return fail_grammar(p);
    if (prefix_is(t->text, plen, "attribute") || prefix_is(t->text, plen, "attributes") ||
        prefix_is(t->text, plen, "trace"))
        *entity = TE_ATTR;
    else if (prefix_is(t->text, plen, "tag") || prefix_is(t->text, plen, "tags"))
        *entity = TE_TAG;
    else if (prefix_is(t->text, plen, "metadata") || prefix_is(t->text, plen, "request_metadata"))
        *entity = TE_META;
    else
        return fail(p,
                    "Invalid entity '%.*s' in '%.300s': exptrack searches traces by "
                    "'attributes', 'tags' and 'metadata' (span, feedback, expectation and issue "
                    "filters are not supported)",
                    (int)(plen > 100 ? 100 : plen), t->text, p->src);
    if (k[0] == '\0')
        return fail(p, "Invalid '%.300s': a key must follow '%.*s.'", p->src, (int)plen, t->text);
    if (*entity == TE_ATTR) {
        if (attr_lookup(k, attr) < 0)
            return fail(p, "Invalid attribute key '%.100s' in '%.300s'", k, p->src);
        return 0;
    }
    *key = k;
    return 0;
}

static int operator(struct parser *p, const struct flt_token *t, struct trace_cond *c)
{
    static const struct {
        const char *text;
        enum trace_op op;
    } ops[] = {{"=", TO_EQ},      {"!=", TO_NE},       {"<>", TO_NE}, {"<", TO_LT},
               {"<=", TO_LE},     {">", TO_GT},        {">=", TO_GE}, {"==", TO_EQ},
               {"LIKE", TO_LIKE}, {"ILIKE", TO_ILIKE}, {"IN", TO_IN}, {"IS", TO_IS_NULL}};
    if (t->kind == FLT_WORD && strcasecmp(t->text, "NOT") == 0) {
        struct flt_token in;
        if (next(p, &in) < 0)
            return -1;
        if (in.kind == FLT_WORD && strcasecmp(in.text, "IN") == 0) {
            c->op = TO_NOT_IN;
            return 0;
        }
        return fail(p, "Invalid comparison operator 'NOT %.50s' in '%.300s'", in.text, p->src);
    }
    if (t->kind == FLT_OP || t->kind == FLT_WORD)
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
            if (strcasecmp(t->text, ops[i].text) == 0) {
                c->op = ops[i].op;
                return 0;
            }
    if (t->kind == FLT_END)
        return fail_grammar(p);
    return fail(p, "Invalid comparison operator '%.50s' in '%.300s'", t->text, p->src);
}

/* "IS NULL" / "IS NOT NULL" after IS. */
static int null_test(struct parser *p, struct trace_cond *c)
{
    struct flt_token t;
    if (next(p, &t) < 0)
        return -1;
    if (t.kind == FLT_WORD && strcasecmp(t.text, "NOT") == 0) {
        c->op = TO_IS_NOT_NULL;
        if (next(p, &t) < 0)
            return -1;
    }
    if (t.kind != FLT_WORD || strcasecmp(t.text, "NULL") != 0)
        return fail(p, "Invalid filter string '%.300s': IS must be followed by NULL or NOT NULL",
                    p->src);
    if (c->entity == TE_ATTR)
        return fail(p,
                    "Invalid filter string '%.300s': IS NULL / IS NOT NULL apply to tags and "
                    "metadata only",
                    p->src);
    return 0;
}

static int status_value(struct parser *p, const char *text, const char **out)
{
    static const char *const numbers[] = {"0", "1", "2", "3"};
    int s = trace_state_parse(text);
    if (s < 0)
        return fail(p,
                    "Invalid status '%.100s' in '%.300s': expected one of OK, ERROR, IN_PROGRESS, "
                    "STATE_UNSPECIFIED",
                    text, p->src);
    *out = numbers[s];
    return 0;
}

/* IN takes a list only for these attributes (and tags/metadata). */
static int in_allowed(const struct trace_cond *c)
{
    return c->entity != TE_ATTR || c->attr == TA_NAME || c->attr == TA_STATUS ||
           c->attr == TA_TRACE_ID || c->attr == TA_RUN_ID || c->attr == TA_CLIENT_REQUEST_ID;
}

static int value_list(struct parser *p, struct trace_cond *c)
{
    struct flt_token t;
    size_t cap = 8;

    if (!in_allowed(c))
        return fail(p, "Invalid filter string '%.300s': IN / NOT IN are not supported for this key",
                    p->src);
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
        if (c->entity == TE_ATTR && c->attr == TA_STATUS && status_value(p, t.text, &v) < 0)
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

static int comparison(struct parser *p, const struct flt_token *ident, struct trace_cond *c)
{
    struct flt_token t;

    memset(c, 0, sizeof *c);
    if (identifier(p, ident, &c->entity, &c->attr, &c->key) < 0)
        return -1;
    if (c->entity == TE_ATTR && c->attr == TA_EXPERIMENT_ID)
        return fail(p,
                    "Invalid attribute key 'experiment_id' in '%.300s': use the request's "
                    "experiment ids",
                    p->src);
    if (next(p, &t) < 0 || operator(p, &t, c) < 0)
        return -1;
    if (c->op == TO_IS_NULL)
        return null_test(p, c);
    c->numeric = c->entity == TE_ATTR && (c->attr == TA_TIMESTAMP || c->attr == TA_EXECUTION_TIME ||
                                          c->attr == TA_END_TIME);
    if (c->numeric) {
        if (c->op >= TO_LIKE)
            return fail(p,
                        "Invalid comparison operator for a numeric attribute in '%.300s': "
                        "expected one of =, !=, <, <=, >, >=",
                        p->src);
        if (next(p, &t) < 0)
            return -1;
        if ((t.kind != FLT_NUMBER && t.kind != FLT_STRING) ||
            jx_parse_int64_text(t.text, &c->number) != 0)
            return fail(p, "Invalid numeric value '%.100s' in '%.300s' (an integer is expected)",
                        t.text, p->src);
        return 0;
    }
    if (c->op == TO_LT || c->op == TO_LE || c->op == TO_GT || c->op == TO_GE)
        return fail(p,
                    "Invalid comparison operator for a string key in '%.300s': expected one "
                    "of =, !=, LIKE, ILIKE, IN, NOT IN",
                    p->src);
    if (c->op == TO_IN || c->op == TO_NOT_IN)
        return value_list(p, c);
    if (next(p, &t) < 0)
        return -1;
    if (t.kind != FLT_STRING && t.kind != FLT_NUMBER)
        return fail_grammar(p);
    c->value = t.text;
    if (c->entity == TE_ATTR && c->attr == TA_STATUS) {
        if (c->op == TO_LIKE || c->op == TO_ILIKE)
            return fail(p, "Invalid filter string '%.300s': status compares with =, !=, IN, NOT IN",
                        p->src);
        return status_value(p, t.text, &c->value);
    }
    return 0;
}

int trace_filter_parse(const char *src, struct arena *arena, struct trace_filter *out, char *err,
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
        if (out->n == 64)
            return fail(&p, "Invalid filter string '%.300s': more than 64 comparisons", p.src);
        if (out->n == cap) {
            struct trace_cond *grown = arena_alloc(arena, 2 * cap * sizeof *grown);
            memcpy(grown, out->conds, cap * sizeof *grown);
            out->conds = grown;
            cap *= 2;
        }
        if (comparison(&p, &t, &out->conds[out->n]) < 0)
            return -1;
        out->n++;
        if (next(&p, &t) < 0)
            return -1;
        if (t.kind == FLT_END)
            return 0;
        if (t.kind != FLT_WORD || strcasecmp(t.text, "AND") != 0)
            return fail_grammar(&p);
        if (next(&p, &t) < 0)
            return -1;
    }
}

int trace_order_parse(const char *src, struct arena *arena, struct trace_order *out, char *err,
                      size_t errlen)
{
    struct parser p = {.src = src ? src : "", .arena = arena, .err = err, .errlen = errlen};
    flt_init(&p.flt, p.src, arena);
    struct flt_token t, dir;

    memset(out, 0, sizeof *out);
    out->ascending = 1;
    if (next(&p, &t) < 0)
        return -1;
    if (t.kind != FLT_WORD)
        return fail(&p, "Invalid order_by clause '%.300s'", p.src);
    if (identifier(&p, &t, &out->entity, &out->attr, &out->key) < 0)
        return -1;
    if (out->entity == TE_ATTR && out->attr == TA_CLIENT_REQUEST_ID)
        return fail(&p, "Invalid order_by clause '%.300s': cannot order by client_request_id",
                    p.src);
    if (next(&p, &dir) < 0)
        return -1;
    if (dir.kind == FLT_WORD && strcasecmp(dir.text, "DESC") == 0)
        out->ascending = 0;
    else if (!(dir.kind == FLT_END || (dir.kind == FLT_WORD && strcasecmp(dir.text, "ASC") == 0)))
        return fail(&p, "Invalid order_by clause '%.300s': expected ASC or DESC after the key",
                    p.src);
    if (dir.kind != FLT_END && (next(&p, &t) < 0 || t.kind != FLT_END))
        return fail(&p, "Invalid order_by clause '%.300s'", p.src);
    return 0;
}

int trace_order_same(const struct trace_order *a, const struct trace_order *b)
{
    if (a->entity != b->entity)
        return 0;
    if (a->entity == TE_ATTR)
        return a->attr == b->attr;
    return strcmp(a->key, b->key) == 0;
}
