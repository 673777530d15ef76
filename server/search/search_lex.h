/* The filter language's lexer: splits the source into tokens with offsets.
 * Internal to server/search/; knows nothing of identifiers' meaning. */
#ifndef ET_SERVER_SEARCH_SEARCH_LEX_H
#define ET_SERVER_SEARCH_SEARCH_LEX_H

#include <stddef.h>

#include "search.h"

enum tok_kind {
    TK_EOF,
    TK_WORD,     /* bare word: letters, digits, _ . / : and non-ASCII bytes */
    TK_NUMBER,   /* [+-]digits[.digits][e[+-]digits] or [+-].digits... */
    TK_SQSTRING, /* 'text' */
    TK_DQSTRING, /* "text" */
    TK_BACKTICK, /* `text` */
    TK_OP,       /* = != <> < <= > >= */
    TK_LPAREN,
    TK_RPAREN,
    TK_COMMA,
};

struct token {
    enum tok_kind kind;
    int offset;       /* of the first byte (the opening quote for strings) */
    int len;          /* bytes in the source, quotes included */
    const char *body; /* content: the word, or the text between the quotes */
    int body_len;
    enum search_op op; /* TK_OP */
};

struct token_list {
    struct token *tok;
    int n; /* the last one is TK_EOF */
};

/* Tokenises src[0..len) into arena memory. Returns 0, or -1 with *err set
 * (unterminated string, stray character, malformed number, too long). */
int search_lex(const char *src, size_t len, struct arena *arena, struct token_list *out,
               struct search_error *err) __attribute__((warn_unused_result));

/* Fills *err with a formatted message and " at column N" (N from offset,
 * counted in UTF-8 characters of src). Always returns -1. */
int search_fail(struct search_error *err, const char *src, int offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A short printable rendering of a token for messages ("'metrics.acc'",
 * "end of input"), written into buf. Returns buf. */
const char *search_token_text(const struct token *t, const char *src, char *buf, size_t size);

#endif
