/* The small filter languages' lexer (filter_lex.h). */
#include "filter_lex.h"

#include <ctype.h>
#include <string.h>

void flt_init(struct flt_lexer *lx, const char *src, struct arena *arena)
{
    *lx = (struct flt_lexer){.src = src ? src : "", .arena = arena};
}

static int refuse(struct flt_lexer *lx, enum flt_error error, char bad)
{
    lx->error = error;
    lx->bad = bad;
    return -1;
}

static int is_word_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '.' || c == '-' || c >= 0x80;
}

static int starts_number(const char *s)
{
    unsigned char c = (unsigned char)s[0];
    if (isdigit(c))
        return 1;
    return (c == '-' || c == '+' || c == '.') && (isdigit((unsigned char)s[1]) || s[1] == '.');
}

/* Reads the text between the quote at src[pos] and the next one. */
static int quoted(struct flt_lexer *lx, const char **out)
{
    char q = lx->src[lx->pos];
    const char *start = lx->src + lx->pos + 1;
    const char *end = strchr(start, q);
    if (end == NULL)
        return refuse(lx, FLT_UNTERMINATED, q);
    *out = arena_strndup(lx->arena, start, (size_t)(end - start));
    lx->pos = (size_t)(end - lx->src) + 1;
    return 0;
}

static void number(struct flt_lexer *lx, struct flt_token *t)
{
    const char *s = lx->src;
    size_t start = lx->pos++;
    while (isalnum((unsigned char)s[lx->pos]) || s[lx->pos] == '.' ||
           ((s[lx->pos] == '-' || s[lx->pos] == '+') &&
            (s[lx->pos - 1] == 'e' || s[lx->pos - 1] == 'E')))
        lx->pos++;
    t->kind = FLT_NUMBER;
    t->text = arena_strndup(lx->arena, s + start, lx->pos - start);
}

/* A word, with its quoted key: "tags.`a b`", "tags.\"a b\"" or "`name`". */
static int word(struct flt_lexer *lx, struct flt_token *t)
{
    const char *s = lx->src;
    size_t start = lx->pos;
    while (is_word_char((unsigned char)s[lx->pos]))
        lx->pos++;
    t->kind = FLT_WORD;
    t->text = arena_strndup(lx->arena, s + start, lx->pos - start);
    int after_dot = lx->pos > start && s[lx->pos - 1] == '.';
    if (s[lx->pos] == '`') {
        if (lx->pos > start && !after_dot)
            return refuse(lx, FLT_BAD_BACKTICK, '`');
        return quoted(lx, &t->key);
    }
    if (s[lx->pos] == '"' && after_dot)
        return quoted(lx, &t->key);
    return 0;
}

int flt_next(struct flt_lexer *lx, struct flt_token *t)
{
    const char *s = lx->src;
    while (s[lx->pos] == ' ' || s[lx->pos] == '\t' || s[lx->pos] == '\n' || s[lx->pos] == '\r')
        lx->pos++;
    *t = (struct flt_token){FLT_END, "", NULL, 0};
    unsigned char c = (unsigned char)s[lx->pos];
    if (c == '\0')
        return 0;
    if (c == '\'' || c == '"') {
        t->kind = FLT_STRING;
        t->quote = (char)c;
        return quoted(lx, &t->text);
    }
    if (c == '(' || c == ')' || c == ',') {
        t->kind = c == '(' ? FLT_LPAREN : c == ')' ? FLT_RPAREN : FLT_COMMA;
        t->text = c == '(' ? "(" : c == ')' ? ")" : ",";
        lx->pos++;
        return 0;
    }
    if (c == '=' || c == '!' || c == '<' || c == '>') {
        size_t n = (s[lx->pos + 1] == '=' || (c == '<' && s[lx->pos + 1] == '>')) ? 2 : 1;
        if (c == '!' && n == 1)
            return refuse(lx, FLT_BAD_CHAR, '!');
        t->kind = FLT_OP;
        t->text = arena_strndup(lx->arena, s + lx->pos, n);
        lx->pos += n;
        return 0;
    }
    if (starts_number(s + lx->pos)) {
        number(lx, t);
        return 0;
    }
    if (c == '`' || is_word_char(c))
        return word(lx, t);
    return refuse(lx, FLT_BAD_CHAR, (char)c);
}
