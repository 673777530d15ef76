/* The search filter language of runs/search and experiments/search
 * (mlflow-api.md §8): a hand-written lexer and recursive-descent parser into
 * an AST with source offsets. Pure: no SQL, no I/O, no JSON. search_sql.h
 * turns the AST into parameterised SQL. */
#ifndef ET_SERVER_SEARCH_SEARCH_H
#define ET_SERVER_SEARCH_SEARCH_H

#include <stddef.h>

#include "core/arena.h"

/* Bounds that keep parsing linear and the generated SQL reasonable. */
#define SEARCH_MAX_FILTER_BYTES 65536
#define SEARCH_MAX_DEPTH 64
#define SEARCH_MAX_TOKENS 8192
#define SEARCH_MAX_ORDER_KEYS 16

/* Which table the language talks about. */
enum search_dialect {
    SEARCH_RUNS,
    SEARCH_EXPERIMENTS,
};

/* What an identifier names. */
enum search_entity {
    SE_METRIC,
    SE_PARAM,
    SE_TAG,
    SE_ATTR,    /* a column of the run (or experiment) */
    SE_DATASET, /* a field of any dataset input of the run */
};

/* Canonical attribute names after alias resolution. */
enum search_attr {
    SA_NONE,
    SA_RUN_ID,
    SA_RUN_NAME,
    SA_STATUS,
    SA_USER_ID,
    SA_ARTIFACT_URI,
    SA_START_TIME,
    SA_END_TIME,
    SA_DS_NAME,
    SA_DS_DIGEST,
    SA_DS_CONTEXT,
    SA_EXP_ID,
    SA_EXP_NAME,
    SA_EXP_CREATION_TIME,
    SA_EXP_LAST_UPDATE_TIME,
};

enum search_op {
    SO_EQ,
    SO_NE,
    SO_LT,
    SO_LE,
    SO_GT,
    SO_GE,
    SO_LIKE,
    SO_ILIKE,
    SO_IN,
    SO_NOT_IN,
    SO_IS_NULL,
    SO_IS_NOT_NULL,
};

enum search_value_kind {
    SV_NONE,   /* IS [NOT] NULL */
    SV_NUMBER, /* text holds a validated numeric literal */
    SV_STRING, /* text holds the characters between the quotes, unprocessed */
    SV_LIST,   /* list[0..nlist) of strings */
};

struct search_ident {
    enum search_entity entity;
    enum search_attr attr; /* SE_ATTR and SE_DATASET; SA_NONE otherwise */
    const char *key;       /* metric/param/tag key, or the attribute as written */
    int offset;            /* byte offset of the identifier in the source */
};

enum search_node_kind {
    SN_AND,
    SN_OR,
    SN_CMP,
};

struct search_node {
    enum search_node_kind kind;
    int offset;
    struct search_node *left, *right; /* SN_AND, SN_OR */
    struct search_ident ident;        /* SN_CMP */
    enum search_op op;
    enum search_value_kind value_kind;
    const char *text;  /* SV_NUMBER, SV_STRING */
    int is_integer;    /* SV_NUMBER written without fraction or exponent */
    const char **list; /* SV_LIST */
    size_t nlist;
};

/* One order_by entry: identifier and direction. */
struct search_order {
    struct search_ident ident;
    int desc;
};

/* A parse failure: where (byte offset, and 1-based column in characters)
 * and a message in the server's style, ending "at column N". */
struct search_error {
    int offset;
    int column;
    char message[320];
};

/* Parses a filter. An empty or all-blank filter yields *out = NULL (no
 * condition). Nodes and strings live in the arena. Returns 0, or -1 with
 * *err filled. Never reads past len bytes; text need not be NUL-terminated. */
int search_parse_filter(enum search_dialect dialect, const char *text, size_t len,
                        struct arena *arena, struct search_node **out, struct search_error *err)
    __attribute__((warn_unused_result));

/* Parses one order_by entry ("metrics.acc DESC"). Returns 0, or -1 with *err
 * filled (unknown key, extra tokens, a type that cannot be ordered). */
int search_parse_order(enum search_dialect dialect, const char *text, size_t len,
                       struct arena *arena, struct search_order *out, struct search_error *err)
    __attribute__((warn_unused_result));

/* True when two order keys name the same field (duplicates are refused). */
int search_order_same(const struct search_order *a, const struct search_order *b);

/* The spelling of an operator ("=", "NOT IN", ...), for messages and tests. */
const char *search_op_name(enum search_op op);

/* Writes a canonical, fully parenthesised rendering of a filter AST into
 * buf (for data-driven tests). Returns the length it needed. */
size_t search_render(const struct search_node *node, char *buf, size_t size);

#endif
