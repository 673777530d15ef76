/* Recursive-descent parser of the filter language (mlflow-api.md §8):
 *   filter  := [ or ] EOF            (a trailing AND is tolerated)
 *   or      := and { OR and }        (OR and parentheses: exptrack extension)
 *   and     := primary { AND primary }
 *   primary := '(' or ')' | ident comparator value | ident [NOT] IN list
 *            | ident IS [NOT] NULL   (extension)
 * Identifier meaning and type rules are in search_ident.c. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "search_ident.h"
#include "search_lex.h"

#define MAX_LIST_ITEMS 1000

struct parser {
    const char *src;
    struct token_list toks;
    int pos;
    int depth;
    enum search_dialect dialect;
    struct arena *arena;
    struct search_error *err;
};

static const struct token *peek(const struct parser *p)
{
    return &p->toks.tok[p->pos];
}

static const struct token *take(struct parser *p)
{
    const struct token *t = &p->toks.tok[p->pos];
    if (t->kind != TK_EOF)
        p->pos++;
    return t;
}

static int is_keyword(const struct token *t, const char *word)
{
    return t->kind == TK_WORD && (size_t)t->body_len == strlen(word) &&
           strncasecmp(t->body, word, (size_t)t->body_len) == 0;
}

/* The text of the comparison so far ("metrics.acc", "metrics.acc >"), for
 * messages: from the identifier's start to the end of token `last`. */
static int span_len(const struct parser *p, int start_offset, const struct token *last)
{
    int n = last->offset + last->len - start_offset;
    return n > 80 ? 80 : n;
}

static int expected(struct parser *p, const char *what, int start, const struct token *last)
{
    char found[64];
    const struct token *t = peek(p);
    search_token_text(t, p->src, found, sizeof found);
    if (last == NULL)
        return search_fail(p->err, p->src, t->offset, "expected %s, found %s", what, found);
    return search_fail(p->err, p->src, t->offset, "expected %s after '%.*s', found %s", what,
                       span_len(p, start, last), p->src + start, found);
}

/* Reads a string value token (single or double quotes). */
static int string_value(const struct token *t, struct parser *p, const char **out)
{
    if (t->kind != TK_SQSTRING && t->kind != TK_DQSTRING)
        return -1;
    *out = arena_strndup(p->arena, t->body, (size_t)t->body_len);
    return 0;
}

/* Reads "( 'a', 'b', ... )" after IN / NOT IN. */
static int parse_list(struct parser *p, struct search_node *n, const struct token *last)
{
    if (peek(p)->kind != TK_LPAREN)
        return expected(p, "a parenthesised list of quoted strings", n->offset, last);
    last = take(p);
    size_t cap = 4;
    n->list = arena_alloc(p->arena, cap * sizeof *n->list);
    for (;;) {
        const struct token *t = peek(p);
        if (string_value(t, p, &n->list[n->nlist]) < 0)
            return expected(p, "a quoted string in the list", n->offset, last);
        last = take(p);
        if (++n->nlist >= MAX_LIST_ITEMS)
            return search_fail(p->err, p->src, t->offset, "a list may hold at most %d values",
                               MAX_LIST_ITEMS);
        if (n->nlist == cap) {
            const char **grown = arena_alloc(p->arena, cap * 2 * sizeof *grown);
            memcpy(grown, n->list, cap * sizeof *grown);
            n->list = grown;
            cap *= 2;
        }
        if (peek(p)->kind == TK_RPAREN) {
            take(p);
            break;
        }
        if (peek(p)->kind != TK_COMMA)
            return expected(p, "',' or ')' in the list", n->offset, last);
        last = take(p);
    }
    n->value_kind = SV_LIST;
    return 0;
}

/* Reads the comparator: an operator, LIKE, ILIKE, IN, NOT IN, IS [NOT] NULL. */
static int parse_comparator(struct parser *p, struct search_node *n, const struct token **last)
{
    const struct token *t = peek(p);
    if (t->kind == TK_OP) {
        n->op = t->op;
    } else if (is_keyword(t, "LIKE")) {
        n->op = SO_LIKE;
    } else if (is_keyword(t, "ILIKE")) {
        n->op = SO_ILIKE;
    } else if (is_keyword(t, "IN")) {
        n->op = SO_IN;
    } else if (is_keyword(t, "NOT")) {
        *last = take(p);
        if (!is_keyword(peek(p), "IN"))
            return expected(p, "IN (NOT is only allowed in NOT IN)", n->offset, *last);
        n->op = SO_NOT_IN;
    } else if (is_keyword(t, "IS")) {
        *last = take(p);
        n->op = SO_IS_NULL;
        if (is_keyword(peek(p), "NOT")) {
            *last = take(p);
            n->op = SO_IS_NOT_NULL;
        }
        if (!is_keyword(peek(p), "NULL"))
            return expected(p, "NULL", n->offset, *last);
    } else {
        return expected(p, "a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN)", n->offset,
                        *last);
    }
    *last = take(p);
    return 0;
}

/* Reads a numeric literal, refusing values a float8 cannot hold. */
static int number_value(struct parser *p, struct search_node *n, const struct token *t)
{
    char buf[128];
    if (t->len >= (int)sizeof buf)
        return search_fail(p->err, p->src, t->offset, "numeric literal too long");
    memcpy(buf, t->body, (size_t)t->len);
    buf[t->len] = '\0';
    errno = 0;
    double v = strtod(buf, NULL);
    if (errno == ERANGE && (isinf(v) || v != 0))
        return search_fail(p->err, p->src, t->offset, "numeric value %s is out of range", buf);
    n->text = arena_strdup(p->arena, buf);
    n->is_integer = strpbrk(buf, ".eE") == NULL;
    if (n->is_integer) {
        errno = 0;
        (void)strtoll(buf, NULL, 10);
        if (errno == ERANGE)
            n->is_integer = 0;
    }
    n->value_kind = SV_NUMBER;
    return 0;
}

/* Reads the value after the comparator, checked against the identifier's
 * kind (numbers for metrics and times, strings for the rest). */
static int parse_value(struct parser *p, struct search_node *n, const struct token *last)
{
    enum ident_value want = ident_value_kind(&n->ident);
    const struct token *t = peek(p);

    if (n->op == SO_IS_NULL || n->op == SO_IS_NOT_NULL) {
        n->value_kind = SV_NONE;
        return 0;
    }
    if (n->op == SO_IN || n->op == SO_NOT_IN)
        return parse_list(p, n, last);
    if (want == IV_NUMBER) {
        if (t->kind != TK_NUMBER)
            return expected(p,
                            t->kind == TK_SQSTRING || t->kind == TK_DQSTRING
                                ? "a number, not a quoted string,"
                                : "a number",
                            n->offset, last);
        take(p);
        return number_value(p, n, t);
    }
    if (string_value(t, p, &n->text) < 0)
        return expected(p,
                        t->kind == TK_NUMBER ? "a quoted string, not a number,"
                                             : "a quoted string ('value' or \"value\")",
                        n->offset, last);
    take(p);
    n->value_kind = SV_STRING;
    return 0;
}

static int parse_comparison(struct parser *p, struct search_node **out)
{
    struct search_node *n = arena_alloc(p->arena, sizeof *n);
    const struct token *last = NULL;

    n->kind = SN_CMP;
    n->offset = peek(p)->offset;
    if (ident_parse(p->src, &p->toks, &p->pos, p->dialect, IDENT_FILTER, p->arena, &n->ident,
                    p->err) < 0)
        return -1;
    last = &p->toks.tok[p->pos - 1];
    int op_offset = peek(p)->offset;
    if (parse_comparator(p, n, &last) < 0)
        return -1;
    if (ident_check_op(p->src, op_offset, &n->ident, n->op, p->err) < 0)
        return -1;
    if (parse_value(p, n, last) < 0)
        return -1;
    *out = n;
    return 0;
}

static int parse_or(struct parser *p, struct search_node **out);

static int parse_primary(struct parser *p, struct search_node **out)
{
    if (peek(p)->kind != TK_LPAREN)
        return parse_comparison(p, out);
    const struct token *open = take(p);
    if (++p->depth > SEARCH_MAX_DEPTH)
        return search_fail(p->err, p->src, open->offset, "parentheses nested deeper than %d",
                           SEARCH_MAX_DEPTH);
    if (parse_or(p, out) < 0)
        return -1;
    if (peek(p)->kind != TK_RPAREN)
        return expected(p, "')' or AND/OR", open->offset, &p->toks.tok[p->pos - 1]);
    take(p);
    p->depth--;
    return 0;
}

static struct search_node *join(struct parser *p, enum search_node_kind kind, struct search_node *l,
                                struct search_node *r, int offset)
{
    struct search_node *n = arena_alloc(p->arena, sizeof *n);
    n->kind = kind;
    n->left = l;
    n->right = r;
    n->offset = offset;
    return n;
}

static int parse_and(struct parser *p, struct search_node **out)
{
    struct search_node *left, *right;
    if (parse_primary(p, &left) < 0)
        return -1;
    while (is_keyword(peek(p), "AND")) {
        const struct token *kw = take(p);
        /* MLflow tolerates a trailing AND at the very end */
        if (peek(p)->kind == TK_EOF && p->depth == 0)
            break;
        if (parse_primary(p, &right) < 0)
            return -1;
        left = join(p, SN_AND, left, right, kw->offset);
    }
    *out = left;
    return 0;
}

static int parse_or(struct parser *p, struct search_node **out)
{
    struct search_node *left, *right;
    if (parse_and(p, &left) < 0)
        return -1;
    while (is_keyword(peek(p), "OR")) {
        const struct token *kw = take(p);
        if (parse_and(p, &right) < 0)
            return -1;
        left = join(p, SN_OR, left, right, kw->offset);
    }
    *out = left;
    return 0;
}

int search_parse_filter(enum search_dialect dialect, const char *text, size_t len,
                        struct arena *arena, struct search_node **out, struct search_error *err)
{
    struct parser p = {.src = text, .dialect = dialect, .arena = arena, .err = err};

    *out = NULL;
    if (search_lex(text, len, arena, &p.toks, err) < 0)
        return -1;
    if (peek(&p)->kind == TK_EOF)
        return 0;
    if (parse_or(&p, out) < 0)
        return -1;
    if (peek(&p)->kind != TK_EOF) {
        *out = NULL;
        return expected(&p, "AND, OR or the end of the filter", 0, NULL);
    }
    return 0;
}

int search_parse_order(enum search_dialect dialect, const char *text, size_t len,
                       struct arena *arena, struct search_order *out, struct search_error *err)
{
    struct parser p = {.src = text, .dialect = dialect, .arena = arena, .err = err};

    memset(out, 0, sizeof *out);
    if (search_lex(text, len, arena, &p.toks, err) < 0)
        return -1;
    if (peek(&p)->kind == TK_EOF)
        return search_fail(err, text, 0, "expected a field to order by, found end of input");
    if (ident_parse(text, &p.toks, &p.pos, dialect, IDENT_ORDER, arena, &out->ident, err) < 0)
        return -1;
    if (is_keyword(peek(&p), "DESC")) {
        out->desc = 1;
        take(&p);
    } else if (is_keyword(peek(&p), "ASC")) {
        take(&p);
    }
    if (peek(&p)->kind != TK_EOF)
        return expected(&p, "ASC, DESC or the end of the order_by entry", out->ident.offset,
                        &p.toks.tok[p.pos - 1]);
    return 0;
}

int search_order_same(const struct search_order *a, const struct search_order *b)
{
    if (a->ident.entity != b->ident.entity)
        return 0;
    if (a->ident.entity == SE_ATTR)
        return a->ident.attr == b->ident.attr;
    return strcmp(a->ident.key, b->ident.key) == 0;
}
