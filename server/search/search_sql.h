/* The filter AST as SQL: a WHERE fragment and ORDER BY expressions with $n
 * placeholders. Every user value (keys, strings, numbers) becomes a bound
 * parameter; only fixed SQL text from this file is ever spliced. Used by
 * store_search.c, which owns the rest of the statement. */
#ifndef ET_SERVER_SEARCH_SEARCH_SQL_H
#define ET_SERVER_SEARCH_SEARCH_SQL_H

#include "core/arena.h"
#include "common/sbuf.h"
#include "search.h"

/* Characters of a param or tag value the (key, left(value, 200)) indexes
 * of schema/0002_search.sql hold. */
#define SEARCH_VALUE_PREFIX 200

/* A statement being built: its text and its text parameters. */
struct sql_query {
    struct sbuf text;
    const char **params; /* NULL entries are SQL NULL */
    int nparams;
    int cap;
    struct arena *arena; /* parameters are copied here */
};

/* Initialises an empty query whose parameters live in arena. */
void sq_init(struct sql_query *q, struct arena *arena);

/* Frees the text buffer and the parameter vector (not the arena). */
void sq_cleanup(struct sql_query *q);

/* Adds a parameter and appends "$n" (and "::cast" when cast is non-NULL)
 * to out (q->text when out is NULL). */
void sq_bind(struct sql_query *q, struct sbuf *out, const char *value, const char *cast);

/* Appends the SQL condition of a filter to q->text: a boolean expression
 * over the row alias "r" (runs) or "e" (experiments). node NULL appends
 * "true". */
void search_sql_filter(struct sql_query *q, enum search_dialect dialect,
                       const struct search_node *node);

/* One ordering key as SQL. Rows sort by (klass ASC, value ASC|DESC): klass
 * is 0 for a value, 1 for NaN, 2 for a missing key, so missing keys go last
 * in both directions and NaN sits between. A search may also run one class
 * at a time (store_search.c): cond[c] selects the rows of class c, and in
 * class 0 the plain column raw orders them, which an index can deliver. */
struct search_sort_key {
    const char *klass;   /* int expression; NULL when the value is never missing */
    const char *value;   /* expression; SQL NULL whenever klass != 0 */
    const char *raw;     /* the column itself, equal to value in class 0 */
    const char *cond[3]; /* rows of class 0, 1, 2; NULL: the class never occurs */
    const char *cast;    /* SQL type to bind cursor values with ("float8", "text", ...) */
    int desc;
};

/* Compiles order key i: any LEFT JOIN it needs is appended to joins, its
 * expressions (arena strings) go to *out. */
void search_sql_sort_key(struct sql_query *q, struct sbuf *joins, enum search_dialect dialect,
                         const struct search_order *order, int i, struct search_sort_key *out);

#endif
