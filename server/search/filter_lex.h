/* The lexer shared by the small filter languages of the registry, the
 * logged models and the traces (`name = 'x' AND tags.k != 'y'`). The runs
 * search has its own, richer lexer (search_lex.h).
 *
 * Tokens:
 *   word    letters, digits, _ . - and non-ASCII bytes; may end in a quoted
 *           key after its last '.' (tags.`a b`, tags."a b"), or be only a
 *           backticked key (`name`): then text is "" and key the content
 *   string  '...' or "..." (no escapes: the text runs to the next quote)
 *   number  a digit, or one of + - . followed by a digit (or '.'), then
 *           letters, digits, '.', and + - right after an e/E: the text is
 *           kept as written; callers convert and refuse what is malformed
 *   op      = != <> < <= > >=
 *   ( ) ,
 * Whitespace (space, tab, CR, LF) separates tokens. */
#ifndef ET_SERVER_SEARCH_FILTER_LEX_H
#define ET_SERVER_SEARCH_FILTER_LEX_H

#include <stddef.h>

#include "core/arena.h"

enum flt_kind {
    FLT_END,
    FLT_WORD,
    FLT_STRING,
    FLT_NUMBER,
    FLT_OP,
    FLT_LPAREN,
    FLT_RPAREN,
    FLT_COMMA
};

/* Why flt_next refused the input at lexer.pos. */
enum flt_error {
    FLT_OK,
    FLT_UNTERMINATED, /* a quote without its closing twin; bad holds the quote */
    FLT_BAD_CHAR,     /* a character no token starts with; bad holds it */
    FLT_BAD_BACKTICK  /* a backtick right after a word that does not end in '.' */
};

struct flt_token {
    enum flt_kind kind;
    const char *text; /* arena copy: the word, string content, number or operator */
    const char *key;  /* FLT_WORD: the quoted key part, else NULL */
    char quote;       /* FLT_STRING: the quote character used */
};

struct flt_lexer {
    const char *src;
    size_t pos; /* next byte to read; on error, where the bad token starts */
    struct arena *arena;
    enum flt_error error;
    char bad; /* FLT_UNTERMINATED: the quote; FLT_BAD_CHAR: the character */
};

/* Starts lexing src (NULL reads as ""), copying token texts into arena. */
void flt_init(struct flt_lexer *lx, const char *src, struct arena *arena);

/* Reads the next token into *t (FLT_END at the end of the source, again on
 * every later call). Returns 0, or -1 with lx->error and lx->bad set; the
 * caller words the message in its language's style. */
int flt_next(struct flt_lexer *lx, struct flt_token *t) __attribute__((warn_unused_result));

#endif
