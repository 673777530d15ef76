/* The registry's filter and order_by parser (filter.h): the shared filter
 * lexer (search/filter_lex.h) and a loop over "comparison (AND comparison)*". Values stay text; the
 * store binds each one as a parameter. No SQL here. */
#include "filter.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mlflow_tags.h"
#include "search/filter_lex.h"

struct lexer {
    struct flt_lexer flt;
    struct arena *arena;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int fail(struct lexer *lx, const char *fmt, ...)
{
    char detail[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    snprintf(lx->err, lx->errlen, "Invalid clause(s) in filter string: %s", detail);
    return -1;
}

/* The next token, with the lexer's refusals and malformed numbers worded
 * in the registry's style. */
static int next(struct lexer *lx, struct flt_token *t)
{
    if (flt_next(&lx->flt, t) < 0) {
        if (lx->flt.error == FLT_UNTERMINATED)
            return fail(lx, "unterminated %s", lx->flt.bad == '`' ? "backtick" : "string");
        char bad[2] = {lx->flt.bad, '\0'};
        return fail(lx, "unexpected character '%s'", bad);
    }
    if (t->kind == FLT_NUMBER) {
        char *end;
        (void)strtod(t->text, &end);
        if (*end != '\0')
            return fail(lx, "malformed number near '%.40s'", t->text);
    }
    return 0;
}

__attribute__((format(printf, 3, 4))) static int set_err(char *err, size_t errlen, const char *fmt,
                                                         ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Resolves an identifier into field and tag key. */
static int identifier(enum reg_kind kind, const struct flt_token *t, struct reg_cond *c, char *err,
                      size_t errlen)
{
    const char *dot = strchr(t->text, '.');
    char entity[32] = "attribute";
    const char *key = t->text;

    if (dot != NULL) {
        size_t n = (size_t)(dot - t->text);
        if (n >= sizeof entity)
            return set_err(err, errlen,
                           "Invalid entity type in '%.100s'. Valid values are ['attribute', "
                           "'tag', 'tags']",
                           t->text);
        memcpy(entity, t->text, n);
        entity[n] = '\0';
        key = t->key ? t->key : dot + 1;
    } else if (t->key != NULL) {
        key = t->key;
    }
    if (strcmp(entity, "tag") == 0 || strcmp(entity, "tags") == 0) {
        if (key[0] == '\0')
            return set_err(err, errlen, "Invalid clause(s) in filter string: empty tag key%s", "");
        c->field = RF_TAG;
        c->tag_key = key;
        return 0;
    }
    if (strcmp(entity, "attribute") != 0)
        return set_err(err, errlen,
                       "Invalid entity type '%.100s'. Valid values are ['attribute', 'tag', "
                       "'tags']",
                       entity);
    if (strcmp(key, "name") == 0)
        c->field = RF_NAME;
    else if (kind == REG_VERSIONS && strcmp(key, "source_path") == 0)
        c->field = RF_SOURCE;
    else if (kind == REG_VERSIONS && strcmp(key, "run_id") == 0)
        c->field = RF_RUN_ID;
    else if (kind == REG_VERSIONS && strcmp(key, "version_number") == 0)
        c->field = RF_VERSION;
    else
        return set_err(err, errlen,
                       kind == REG_MODELS
                           ? "Invalid attribute key '%.100s' specified. Valid keys are '{'name'}'"
                           : "Invalid attribute key '%.100s' specified. Valid keys are "
                             "'{'name', 'run_id', 'source_path', 'version_number'}'",
                       key);
    return 0;
}

static int comparator(const struct flt_token *t, struct lexer *lx, enum reg_op *op)
{
    static const struct {
        const char *text;
        enum reg_op op;
    } ops[] = {{"=", RO_EQ}, {"!=", RO_NE}, {"<>", RO_NE},     {"<", RO_LT},        {"<=", RO_LE},
               {">", RO_GT}, {">=", RO_GE}, {"LIKE", RO_LIKE}, {"ILIKE", RO_ILIKE}, {"IN", RO_IN}};
    if (t->kind == FLT_OP || t->kind == FLT_WORD)
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
            if (strcasecmp(t->text, ops[i].text) == 0) {
                *op = ops[i].op;
                return 0;
            }
    return fail(lx, "expected a comparison operator, got '%.60s'",
                t->kind == FLT_END ? "end of input" : t->text);
}

static int op_allowed(enum reg_field f, enum reg_op op)
{
    if (f == RF_VERSION)
        return op <= RO_GE;
    if (op == RO_IN)
        return f == RF_RUN_ID;
    return op == RO_EQ || op == RO_NE || op == RO_LIKE || op == RO_ILIKE;
}

static int has_upper(const char *s)
{
    for (; *s; s++)
        if (isupper((unsigned char)*s))
            return 1;
    return 0;
}

/* Reads the value of c after its comparator. */
static int value(struct lexer *lx, struct reg_cond *c)
{
    struct flt_token t;
    if (next(lx, &t) != 0)
        return -1;
    if (c->op == RO_IN) {
        if (t.kind != FLT_LPAREN)
            return fail(lx, "expected '(' after IN, got '%.60s'", t.text);
        size_t cap = 8;
        c->values = arena_alloc(lx->arena, cap * sizeof *c->values);
        for (int first = 1;; first = 0) {
            if (next(lx, &t) != 0)
                return -1;
            if (first && t.kind == FLT_RPAREN)
                return fail(lx, "an IN list must not be empty%s", "");
            if (t.kind != FLT_STRING)
                return fail(lx, "expected a quoted string in the IN list, got '%.60s'", t.text);
            /* MLflow drops run ids with uppercase letters silently */
            if (!has_upper(t.text)) {
                if (c->nvalues == cap) {
                    const char **grown = arena_alloc(lx->arena, 2 * cap * sizeof *grown);
                    memcpy(grown, c->values, cap * sizeof *grown);
                    c->values = grown;
                    cap *= 2;
                }
                c->values[c->nvalues++] = t.text;
            }
            if (next(lx, &t) != 0)
                return -1;
            if (t.kind == FLT_RPAREN)
                return 0;
            if (t.kind != FLT_COMMA)
                return fail(lx, "expected ',' or ')' in the IN list, got '%.60s'", t.text);
        }
    }
    if (c->field == RF_VERSION) {
        char *end;
        if (t.kind != FLT_NUMBER && t.kind != FLT_STRING)
            return fail(lx, "expected a number for version_number, got '%.60s'", t.text);
        errno = 0;
        double d = strtod(t.text, &end);
        /* finite decimal numbers only: no inf, nan, hex, or out of range */
        if (t.text[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(d) ||
            strpbrk(t.text, "xXnN") != NULL)
            return fail(lx, "expected a number for version_number, got '%.60s'", t.text);
        c->value = t.text;
        return 0;
    }
    if (t.kind != FLT_STRING) {
        snprintf(lx->err, lx->errlen,
                 "Expected a quoted string value for attributes. Got value '%.60s'",
                 t.kind == FLT_END ? "end of input" : t.text);
        return -1;
    }
    c->value = t.text;
    return 0;
}

/* Drops comparisons on the prompt tag that ask for non-prompts, and notes
 * those that ask for prompts ([3.x] prompt exclusion, 1.4.1). */
static void prompt_rule(struct reg_filter *f)
{
    size_t kept = 0;
    for (size_t i = 0; i < f->n; i++) {
        struct reg_cond *c = &f->conds[i];
        if (c->field == RF_TAG && strcmp(c->tag_key, MLFLOW_TAG_IS_PROMPT) == 0 &&
            (c->op == RO_EQ || c->op == RO_NE)) {
            int is_true = strcasecmp(c->value, "true") == 0;
            int is_false = strcasecmp(c->value, "false") == 0;
            if ((c->op == RO_EQ && is_true) || (c->op == RO_NE && is_false))
                f->with_prompts = 1;
            else if ((c->op == RO_EQ && is_false) || (c->op == RO_NE && is_true))
                continue;
        }
        f->conds[kept++] = *c;
    }
    f->n = kept;
}

int filter_parse(enum reg_kind kind, const char *src, struct arena *arena, struct reg_filter *out,
                 char *err, size_t errlen)
{
    struct lexer lx = {.arena = arena, .err = err, .errlen = errlen};
    flt_init(&lx.flt, src, arena);
    size_t cap = 4;
    struct flt_token t;

    *out = (struct reg_filter){0};
    out->conds = arena_alloc(arena, cap * sizeof *out->conds);
    if (next(&lx, &t) != 0)
        return -1;
    if (t.kind == FLT_END)
        return 0;
    for (;;) {
        struct reg_cond c = {0};
        if (t.kind != FLT_WORD)
            return fail(&lx, "expected an identifier, got '%.60s'", t.text);
        if (identifier(kind, &t, &c, err, errlen) != 0)
            return -1;
        if (next(&lx, &t) != 0)
            return -1;
        if (t.kind == FLT_WORD && strcasecmp(t.text, "NOT") == 0)
            return fail(&lx, "the NOT %s comparator is not supported", "IN");
        if (comparator(&t, &lx, &c.op) != 0)
            return -1;
        if (!op_allowed(c.field, c.op))
            return fail(&lx, "comparator '%.20s' is not supported for this key", t.text);
        if (value(&lx, &c) != 0)
            return -1;
        if (out->n == cap) {
            struct reg_cond *grown = arena_alloc(arena, 2 * cap * sizeof *grown);
            memcpy(grown, out->conds, cap * sizeof *grown);
            out->conds = grown;
            cap *= 2;
        }
        out->conds[out->n++] = c;
        if (next(&lx, &t) != 0)
            return -1;
        if (t.kind == FLT_END)
            break;
        if (t.kind != FLT_WORD || strcasecmp(t.text, "AND") != 0)
            return fail(&lx, "expected AND, got '%.60s'", t.text);
        if (next(&lx, &t) != 0)
            return -1;
    }
    prompt_rule(out);
    return 0;
}

int filter_order_add(enum reg_kind kind, const char *clause, struct reg_order *order, char *err,
                     size_t errlen)
{
    char key[64] = "", dir[16] = "", extra[8] = "";
    const char *p = clause;
    size_t n = 0;

    while (*p == ' ')
        p++;
    /* the key, maybe in backticks, maybe after "attribute." */
    if (strncmp(p, "attribute.", 10) == 0)
        p += 10;
    int tick = *p == '`';
    if (tick)
        p++;
    while (*p && (tick ? *p != '`' : *p != ' ') && n + 1 < sizeof key)
        key[n++] = *p++;
    key[n] = '\0';
    if (tick && *p == '`')
        p++;
    if (sscanf(p, "%15s %7s", dir, extra) == 2 || key[0] == '\0')
        return set_err(err, errlen, "Invalid order_by clause '%.200s'", clause);
    int desc = 0;
    if (dir[0] != '\0' && strcasecmp(dir, "DESC") == 0)
        desc = 1;
    else if (dir[0] != '\0' && strcasecmp(dir, "ASC") != 0)
        return set_err(err, errlen,
                       "Invalid order_by clause '%.200s': the direction must be ASC or DESC",
                       clause);
    enum reg_order_key k;
    if (strcmp(key, "name") == 0)
        k = RK_NAME;
    else if (strcmp(key, "last_updated_timestamp") == 0 ||
             (kind == REG_MODELS && strcmp(key, "timestamp") == 0))
        k = RK_UPDATED;
    else if (kind == REG_VERSIONS && strcmp(key, "creation_timestamp") == 0)
        k = RK_CREATED;
    else if (kind == REG_VERSIONS && strcmp(key, "version_number") == 0)
        k = RK_VERSION;
    else
        return set_err(err, errlen,
                       kind == REG_MODELS
                           ? "Invalid order by key '%.100s' specified. Valid keys are 'name', "
                             "'timestamp', 'last_updated_timestamp'"
                           : "Invalid order by key '%.100s' specified. Valid keys are 'name', "
                             "'version_number', 'creation_timestamp', 'last_updated_timestamp'",
                       key);
    for (size_t i = 0; i < order->n; i++)
        if (order->key[i] == k)
            return set_err(err, errlen, "order_by contains the key '%.100s' more than once", key);
    if (order->n >= sizeof order->key / sizeof order->key[0])
        return set_err(err, errlen, "too many order_by clauses at '%.200s'", clause);
    order->key[order->n] = k;
    order->desc[order->n] = desc;
    order->n++;
    return 0;
}

static void add_unless_present(struct reg_order *order, enum reg_order_key k, int desc)
{
    for (size_t i = 0; i < order->n; i++)
        if (order->key[i] == k)
            return;
    order->key[order->n] = k;
    order->desc[order->n] = desc;
    order->n++;
}

void filter_order_finish(enum reg_kind kind, struct reg_order *order)
{
    if (kind == REG_VERSIONS && order->n == 0)
        add_unless_present(order, RK_UPDATED, 1);
    add_unless_present(order, RK_NAME, 0);
    if (kind == REG_VERSIONS)
        add_unless_present(order, RK_VERSION, 1);
}
