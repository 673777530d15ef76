/* Lexer of the filter language. Strings keep their text exactly as written
 * between the quotes (the contract: no escape processing; a doubled quote or
 * a backslash-quote does not end the string). No allocation per byte: tokens
 * point into the source. */
#include "search_lex.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
           c == '.' || c == '/' || c == ':' || c >= 0x80;
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static int utf8_seq(const unsigned char *s)
{
    int n = s[0] < 0x80             ? 1
            : (s[0] & 0xE0) == 0xC0 ? 2
            : (s[0] & 0xF0) == 0xE0 ? 3
            : (s[0] & 0xF8) == 0xF0 ? 4
                                    : 0;
    if (n == 2 && s[0] < 0xC2)
        return 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* Replaces bytes that are not valid UTF-8 (user text cut mid-character by
 * a "%.Ns", or raw bytes) with '?', so the message stays valid JSON text. */
static void utf8_repair(char *s)
{
    for (unsigned char *p = (unsigned char *)s; *p;) {
        int n = utf8_seq(p);
        if (n == 0) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}

int search_fail(struct search_error *err, const char *src, int offset, const char *fmt, ...)
{
    va_list ap;
    char suffix[32];
    int column = 1;

    /* columns count characters, not bytes: skip UTF-8 continuation bytes */
    for (int i = 0; src != NULL && i < offset; i++)
        if (((unsigned char)src[i] & 0xC0) != 0x80)
            column++;
    err->offset = offset;
    err->column = column;
    int slen = snprintf(suffix, sizeof suffix, " at column %d", column);
    /* the position always fits: the text before it is cut instead */
    size_t room = sizeof err->message - (size_t)slen;
    va_start(ap, fmt);
    int n = vsnprintf(err->message, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        err->message[0] = '\0';
    utf8_repair(err->message);
    memcpy(err->message + strlen(err->message), suffix, (size_t)slen + 1);
    return -1;
}

const char *search_token_text(const struct token *t, const char *src, char *buf, size_t size)
{
    if (t->kind == TK_EOF) {
        snprintf(buf, size, "end of input");
        return buf;
    }
    int len = t->len > 40 ? 40 : t->len;
    snprintf(buf, size, "'%.*s%s'", len, src + t->offset, t->len > 40 ? "..." : "");
    return buf;
}

/* Scans a quoted string starting at src[i] (the quote). Returns the index
 * after the closing quote, or -1 when it is not closed. */
static long scan_string(const char *src, size_t len, size_t i)
{
    char q = src[i];
    for (size_t j = i + 1; j < len; j++) {
        if (src[j] == '\\' && j + 1 < len) {
            j++;
        } else if (src[j] == q) {
            if (j + 1 < len && src[j + 1] == q) {
                j++;
                continue;
            }
            return (long)(j + 1);
        }
    }
    return -1;
}

/* Scans a number at src[i]. Returns its end, or -1 when malformed. */
static long scan_number(const char *src, size_t len, size_t i)
{
    size_t j = i, digits = 0;
    if (j < len && (src[j] == '+' || src[j] == '-'))
        j++;
    while (j < len && is_digit((unsigned char)src[j]))
        j++, digits++;
    if (j < len && src[j] == '.') {
        j++;
        while (j < len && is_digit((unsigned char)src[j]))
            j++, digits++;
    }
    if (digits == 0)
        return -1;
    if (j < len && (src[j] == 'e' || src[j] == 'E')) {
        size_t k = j + 1, exp_digits = 0;
        if (k < len && (src[k] == '+' || src[k] == '-'))
            k++;
        while (k < len && is_digit((unsigned char)src[k]))
            k++, exp_digits++;
        if (exp_digits == 0)
            return -1;
        j = k;
    }
    /* "5abc" or "1.2.3" is neither a number nor a word */
    if (j < len && is_word_char((unsigned char)src[j]))
        return -1;
    return (long)j;
}

/* Reads an operator at src[i]; returns its length or 0. */
static int scan_op(const char *src, size_t len, size_t i, enum search_op *op)
{
    char c = src[i], d = i + 1 < len ? src[i + 1] : '\0';
    if (c == '=') {
        *op = SO_EQ;
        return d == '=' ? 2 : 1;
    }
    if (c == '!' && d == '=') {
        *op = SO_NE;
        return 2;
    }
    if (c == '<') {
        *op = d == '=' ? SO_LE : d == '>' ? SO_NE : SO_LT;
        return d == '=' || d == '>' ? 2 : 1;
    }
    if (c == '>') {
        *op = d == '=' ? SO_GE : SO_GT;
        return d == '=' ? 2 : 1;
    }
    return 0;
}

/* Reads the token at src[*pos] into *t; advances *pos. */
static int next_token(const char *src, size_t len, size_t *pos, struct token *t,
                      struct search_error *err)
{
    size_t i = *pos;
    unsigned char c = (unsigned char)src[i];
    long end;

    memset(t, 0, sizeof *t);
    t->offset = (int)i;
    if (c == '\'' || c == '"' || c == '`') {
        end = scan_string(src, len, i);
        if (end < 0)
            return search_fail(err, src, (int)i, "unterminated %s starting",
                               c == '`' ? "backquoted name" : "quoted string");
        t->kind = c == '\'' ? TK_SQSTRING : c == '"' ? TK_DQSTRING : TK_BACKTICK;
        t->body = src + i + 1;
        t->body_len = (int)(end - (long)i - 2);
    } else if (is_digit(c) ||
               ((c == '-' || c == '+' || c == '.') && i + 1 < len &&
                (is_digit((unsigned char)src[i + 1]) || (src[i + 1] == '.' && c != '.')))) {
        end = scan_number(src, len, i);
        if (end < 0)
            return search_fail(err, src, (int)i, "malformed number");
        t->kind = TK_NUMBER;
    } else if (is_word_char(c)) {
        end = (long)i;
        while ((size_t)end < len && is_word_char((unsigned char)src[end]))
            end++;
        t->kind = TK_WORD;
    } else if (c == '(' || c == ')' || c == ',') {
        end = (long)i + 1;
        t->kind = c == '(' ? TK_LPAREN : c == ')' ? TK_RPAREN : TK_COMMA;
    } else {
        int n = scan_op(src, len, i, &t->op);
        if (n == 0)
            return search_fail(err, src, (int)i, "unexpected character '%c'",
                               c >= 0x20 && c < 0x7f ? c : '?');
        end = (long)i + n;
        t->kind = TK_OP;
    }
    t->len = (int)(end - (long)i);
    if (t->body == NULL) {
        t->body = src + i;
        t->body_len = t->len;
    }
    *pos = (size_t)end;
    return 0;
}

int search_lex(const char *src, size_t len, struct arena *arena, struct token_list *out,
               struct search_error *err)
{
    size_t pos = 0, cap = 16;

    out->n = 0;
    if (len > SEARCH_MAX_FILTER_BYTES)
        return search_fail(err, NULL, 0, "the filter is longer than %d bytes",
                           SEARCH_MAX_FILTER_BYTES);
    out->tok = arena_alloc(arena, cap * sizeof *out->tok);
    for (;;) {
        while (pos < len && is_space((unsigned char)src[pos]))
            pos++;
        if ((size_t)out->n + 1 >= cap) {
            if (cap >= SEARCH_MAX_TOKENS)
                return search_fail(err, src, (int)pos, "the filter has more than %d tokens",
                                   SEARCH_MAX_TOKENS);
            struct token *grown = arena_alloc(arena, cap * 2 * sizeof *grown);
            memcpy(grown, out->tok, cap * sizeof *grown);
            out->tok = grown;
            cap *= 2;
        }
        struct token *t = &out->tok[out->n];
        if (pos >= len) {
            memset(t, 0, sizeof *t);
            t->kind = TK_EOF;
            t->offset = (int)len;
            out->n++;
            return 0;
        }
        if (src[pos] == '\0')
            return search_fail(err, src, (int)pos, "unexpected NUL byte");
        if (next_token(src, len, &pos, t, err) < 0)
            return -1;
        out->n++;
    }
}
