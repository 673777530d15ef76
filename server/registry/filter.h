/* The registry's search language (mlflow-models-api.md 1.4): filters of
 * comparisons joined by AND, and order_by clauses, parsed into plain
 * records. Pure: no SQL (store_registry_search.c renders these with bound
 * parameters), no JSON, no I/O. */
#ifndef ET_SERVER_REGISTRY_FILTER_H
#define ET_SERVER_REGISTRY_FILTER_H

#include <stddef.h>

#include "core/arena.h"

enum reg_kind { REG_MODELS, REG_VERSIONS };

enum reg_field { RF_NAME, RF_SOURCE, RF_RUN_ID, RF_VERSION, RF_TAG };

enum reg_op { RO_EQ, RO_NE, RO_LT, RO_LE, RO_GT, RO_GE, RO_LIKE, RO_ILIKE, RO_IN };

struct reg_cond {
    enum reg_field field;
    enum reg_op op;
    const char *tag_key; /* RF_TAG */
    const char *value;   /* a string, or RF_VERSION's number as text */
    const char **values; /* RO_IN (uppercase values already dropped) */
    size_t nvalues;
};

struct reg_filter {
    struct reg_cond *conds;
    size_t n;
    int with_prompts; /* the filter asked for prompts: do not hide them */
};

enum reg_order_key { RK_NAME, RK_VERSION, RK_CREATED, RK_UPDATED };

struct reg_order {
    enum reg_order_key key[4];
    int desc[4];
    size_t n;
};

/* Parses a filter ("" or NULL: everything) for the given search into *out
 * (arena memory). Returns 0, or -1 with a message in err. */
int filter_parse(enum reg_kind kind, const char *src, struct arena *arena, struct reg_filter *out,
                 char *err, size_t errlen) __attribute__((warn_unused_result));

/* Adds one order_by clause ("name DESC") to *order. Returns 0, or -1 with
 * a message in err (unknown key, bad direction, duplicate). */
int filter_order_add(enum reg_kind kind, const char *clause, struct reg_order *order, char *err,
                     size_t errlen) __attribute__((warn_unused_result));

/* Appends the search's tiebreak keys unless present, or its default order
 * when order is empty. */
void filter_order_finish(enum reg_kind kind, struct reg_order *order);

#endif
