/* The logged-model search language (mlflow-models-api.md 2.5): a filter of
 * comparisons joined by AND over metrics.<k>, params.<k>, tags.<k> and the
 * model's attribute columns, and the field names of order_by objects.
 * Parsed into plain records; pure: no SQL (store_logged_models_search.c
 * renders them with bound parameters), no JSON, no I/O. */
#ifndef ET_SERVER_LOGGED_MODELS_FILTER_H
#define ET_SERVER_LOGGED_MODELS_FILTER_H

#include <stddef.h>

#include "core/arena.h"

enum lm_entity { LME_ATTR, LME_METRIC, LME_PARAM, LME_TAG };

/* The attribute columns a filter or order_by may name. */
enum lm_attr {
    LMA_NAME,
    LMA_MODEL_ID,
    LMA_MODEL_TYPE,
    LMA_SOURCE_RUN_ID,
    LMA_STATUS,
    LMA_EXPERIMENT_ID,
    LMA_ARTIFACT_LOCATION,
    LMA_LIFECYCLE_STAGE,
    LMA_STATUS_MESSAGE,
    LMA_CREATION_TIME,
    LMA_LAST_UPDATED_TIME,
};

enum lm_op {
    LMO_EQ,
    LMO_NE,
    LMO_LT,
    LMO_LE,
    LMO_GT,
    LMO_GE,
    LMO_LIKE,
    LMO_ILIKE,
    LMO_IN,
    LMO_NOT_IN
};

struct lm_cond {
    enum lm_entity entity;
    enum lm_attr attr; /* LME_ATTR */
    const char *key;   /* LME_METRIC, LME_PARAM, LME_TAG */
    enum lm_op op;
    int numeric;         /* metrics and the two timestamps: compare number */
    double number;       /* numeric */
    const char *value;   /* not numeric and not IN; status: its number as text */
    const char **values; /* LMO_IN, LMO_NOT_IN (status: numbers as text) */
    size_t nvalues;
};

struct lm_filter {
    struct lm_cond *conds;
    size_t n;
    int has_metric; /* some condition is on a metric */
};

/* Parses a filter ("" or NULL: everything) into *out (arena memory).
 * Returns 0, or -1 with a message in err. */
int lm_filter_parse(const char *src, struct arena *arena, struct lm_filter *out, char *err,
                    size_t errlen) __attribute__((warn_unused_result));

/* What an order_by object's field_name names: an attribute, or a metric. */
struct lm_order_field {
    enum lm_entity entity; /* LME_ATTR or LME_METRIC */
    enum lm_attr attr;     /* LME_ATTR */
    const char *key;       /* LME_METRIC: points into field_name */
};

/* Reads an order_by field_name. Returns 0, or -1 with the contract's
 * message in err ("Invalid order by field name: x"). */
int lm_order_field_parse(const char *field_name, struct lm_order_field *out, char *err,
                         size_t errlen) __attribute__((warn_unused_result));

/* LoggedModelStatus by name ("LOGGED_MODEL_READY"), short name ("READY",
 * any case) or number text ("2"): its number 0..3, or -1. */
int lm_status_parse(const char *text);

/* The enum name of status number s (0..3; anything else: the UNSPECIFIED name). */
const char *lm_status_name(int s);

#endif
