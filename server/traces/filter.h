/* The trace search language (mlflow-models-api.md 3.8): comparisons joined
 * by AND over trace attributes, tags and metadata, and the order_by
 * strings. Parsed into plain records; pure: no SQL (store_traces_search.c
 * renders them with bound parameters), no JSON, no I/O. */
#ifndef ET_SERVER_TRACES_FILTER_H
#define ET_SERVER_TRACES_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

enum trace_entity { TE_ATTR, TE_TAG, TE_META };

/* The attributes a filter or order_by may name. */
enum trace_attr {
    TA_TRACE_ID,
    TA_STATUS,
    TA_TIMESTAMP,
    TA_EXECUTION_TIME,
    TA_END_TIME,
    TA_NAME,
    TA_RUN_ID,
    TA_CLIENT_REQUEST_ID,
    TA_EXPERIMENT_ID, /* order_by only */
};

enum trace_op {
    TO_EQ,
    TO_NE,
    TO_LT,
    TO_LE,
    TO_GT,
    TO_GE,
    TO_LIKE,
    TO_ILIKE,
    TO_IN,
    TO_NOT_IN,
    TO_IS_NULL,
    TO_IS_NOT_NULL,
};

struct trace_cond {
    enum trace_entity entity;
    enum trace_attr attr; /* TE_ATTR */
    const char *key;      /* TE_TAG, TE_META */
    enum trace_op op;
    int numeric;         /* timestamp, execution_time, end_time: compare number */
    int64_t number;      /* numeric */
    const char *value;   /* text comparisons; status: its number as text */
    const char **values; /* TO_IN, TO_NOT_IN (status: numbers as text) */
    size_t nvalues;
};

struct trace_filter {
    struct trace_cond *conds;
    size_t n;
};

/* Parses a filter ("" or NULL: everything) into *out (arena memory).
 * Returns 0, or -1 with a message in err naming what is wrong. */
int trace_filter_parse(const char *src, struct arena *arena, struct trace_filter *out, char *err,
                       size_t errlen) __attribute__((warn_unused_result));

struct trace_order {
    enum trace_entity entity;
    enum trace_attr attr; /* TE_ATTR */
    const char *key;      /* TE_TAG, TE_META (arena copy) */
    int ascending;
};

/* Parses one order_by string ("timestamp_ms DESC", "tag.`a.b`"). Returns
 * 0, or -1 with a message in err. */
int trace_order_parse(const char *src, struct arena *arena, struct trace_order *out, char *err,
                      size_t errlen) __attribute__((warn_unused_result));

/* 1 when both name the same column (duplicate order_by keys). */
int trace_order_same(const struct trace_order *a, const struct trace_order *b);

/* The State number of a status name ("OK", "ERROR", "IN_PROGRESS",
 * "STATE_UNSPECIFIED"/"TRACE_STATUS_UNSPECIFIED", any case) or its number
 * text; -1 when unknown. */
int trace_state_parse(const char *text);

/* The V3 State name of a number (0..3). */
const char *trace_state_name(int s);

/* The V2 TraceStatus name of a number (0..3). */
const char *trace_status_name(int s);

#endif
