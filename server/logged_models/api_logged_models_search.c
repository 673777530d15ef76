/* logged-models/search (mlflow-models-api.md 2.5): experiment ids, filter,
 * datasets, order_by objects and an offset page token bound to the query.
 * Models of experiments the caller cannot read are left out before the
 * query runs, so pages stay full. Decode -> store -> encode; no SQL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_logged_models_common.h"
#include "auth/auth.h"
#include "core/b64.h"
#include "filter.h"

#define LM_SEARCH_DEFAULT 50
#define LM_SEARCH_ZERO 100
#define LM_SEARCH_MAX 1000
#define LM_SEARCH_MAX_EXPERIMENTS 1000
#define LM_SEARCH_MAX_ORDER 10
#define LM_SEARCH_MAX_DATASETS 100

struct search_in {
    int64_t *ids;
    size_t nids;
    const char *filter;
    struct lm_dataset *datasets;
    size_t ndatasets;
    struct lm_order *order;
    size_t norder;
    int64_t max_results;
    json_t *bound; /* what a page token must repeat: ids, filter, order_by, datasets */
};

static int read_ids(const struct input *in, struct arena *arena, struct search_in *s,
                    struct reply *r)
{
    const json_t *arr;
    char buf[32];
    int rc = jx_array(in, "experiment_ids", &arr, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_ABSENT) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Missing value for required parameter 'experiment_ids'. See the API docs for "
                    "more information about request parameters.");
        return JX_BAD;
    }
    if (json_array_size(arr) > LM_SEARCH_MAX_EXPERIMENTS) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'experiment_ids' may hold at most %d ids",
                    LM_SEARCH_MAX_EXPERIMENTS);
        return JX_BAD;
    }
    s->ids = arena_alloc(arena, (json_array_size(arr) + 1) * sizeof *s->ids);
    json_t *shown = json_array();
    json_object_set_new(s->bound, "experiment_ids", shown);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *text;
        int64_t id;
        if (jx_array_id(arr, i, "experiment_ids", buf, &text, r) != JX_OK)
            return JX_BAD;
        if (text[0] < '0' || text[0] > '9' || jx_parse_int64_text(text, &id) != 0) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "Invalid experiment id in 'experiment_ids': expected a non-negative "
                        "integer");
            return JX_BAD;
        }
        s->ids[s->nids++] = id;
        json_array_append_new(shown, json_integer(id));
    }
    return JX_OK;
}

static int read_datasets(const struct input *in, struct arena *arena, struct search_in *s,
                         struct reply *r)
{
    const json_t *arr;
    char where[80];
    int rc = jx_array(in, "datasets", &arr, r);
    if (rc != JX_OK)
        return rc == JX_ABSENT ? JX_OK : JX_BAD;
    if (json_array_size(arr) > LM_SEARCH_MAX_DATASETS) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'datasets' may hold at most %d entries",
                    LM_SEARCH_MAX_DATASETS);
        return JX_BAD;
    }
    s->datasets = arena_alloc(arena, (json_array_size(arr) + 1) * sizeof *s->datasets);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        struct input item;
        const char *name = NULL, *digest = NULL;
        if (jx_item(arr, i, "datasets", where, sizeof where, &item, r) != JX_OK ||
            jx_string(&item, "dataset_name", &name, r) == JX_BAD ||
            jx_string(&item, "dataset_digest", &digest, r) == JX_BAD)
            return JX_BAD;
        if (name == NULL || name[0] == '\0') {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "`dataset_name` in the `datasets` clause must be specified.");
            return JX_BAD;
        }
        s->datasets[s->ndatasets].name = name;
        s->datasets[s->ndatasets].digest = digest;
        s->ndatasets++;
    }
    json_object_set(s->bound, "datasets", (json_t *)arr);
    return JX_OK;
}

static int read_order(const struct input *in, struct arena *arena, struct search_in *s,
                      struct reply *r)
{
    const json_t *arr;
    char where[80], err[300];
    int rc = jx_array(in, "order_by", &arr, r);
    if (rc != JX_OK)
        return rc == JX_ABSENT ? JX_OK : JX_BAD;
    if (json_array_size(arr) > LM_SEARCH_MAX_ORDER) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'order_by' may hold at most %d entries",
                    LM_SEARCH_MAX_ORDER);
        return JX_BAD;
    }
    s->order = arena_alloc(arena, (json_array_size(arr) + 1) * sizeof *s->order);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        struct input item;
        struct lm_order *o = &s->order[s->norder];
        const char *field;
        o->ascending = 1;
        if (jx_item(arr, i, "order_by", where, sizeof where, &item, r) != JX_OK ||
            jx_required_string(&item, "field_name", &field, r) != JX_OK ||
            jx_bool(&item, "ascending", &o->ascending, r) == JX_BAD ||
            jx_string(&item, "dataset_name", &o->dataset_name, r) == JX_BAD ||
            jx_string(&item, "dataset_digest", &o->dataset_digest, r) == JX_BAD)
            return JX_BAD;
        if (lm_order_field_parse(field, &o->field, err, sizeof err) < 0) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE, "%s", err);
            return JX_BAD;
        }
        s->norder++;
    }
    json_object_set(s->bound, "order_by", (json_t *)arr);
    return JX_OK;
}

static int read_max_results(const struct input *in, struct search_in *s, struct reply *r)
{
    int rc = jx_int64(in, "max_results", &s->max_results, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_ABSENT)
        s->max_results = LM_SEARCH_DEFAULT;
    else if (s->max_results == 0)
        s->max_results = LM_SEARCH_ZERO;
    if (s->max_results < 0 || s->max_results > LM_SEARCH_MAX) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'max_results': it must be at most %d and not "
                    "negative",
                    LM_SEARCH_MAX);
        return JX_BAD;
    }
    return JX_OK;
}

/* The page token: base64 of the bound query plus the offset. */
static char *token_encode(const json_t *bound, int64_t offset)
{
    json_t *t = json_deep_copy(bound);
    json_object_set_new(t, "offset", json_integer(offset));
    char *text = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS);
    char *token = b64_encode_new(text, strlen(text));
    free(text);
    json_decref(t);
    return token;
}

/* Reads the token and checks it repeats the query. */
static int token_decode(const char *token, const json_t *bound, int64_t *offset, struct reply *r)
{
    static const struct {
        const char *field;
        const char *what;
    } parts[] = {{"experiment_ids", "Experiment IDs"},
                 {"filter", "Filter string"},
                 {"order_by", "Order by"},
                 {"datasets", "Datasets"}};
    size_t len = strlen(token), n = 0;
    char *buf = malloc(B64_DECODED_MAX(len) + 1);
    json_t *t = NULL;
    int rc = JX_BAD;

    if (len > 0 && b64_decode(token, len, buf, B64_DECODED_MAX(len), &n) == 0)
        t = json_loadb(buf, n, 0, NULL);
    json_t *off = json_object_get(t, "offset");
    /* offsets past 2^50 are no page this server made (and keep offset + limit in range) */
    if (!json_is_object(t) || !json_is_integer(off) || json_integer_value(off) < 0 ||
        json_integer_value(off) > ((json_int_t)1 << 50)) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Invalid page token");
        goto out;
    }
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        json_t *want = json_object_get(bound, parts[i].field);
        json_t *have = json_object_get(t, parts[i].field);
        if (!(want == NULL && have == NULL) && !(want && have && json_equal(want, have))) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "%s in the page token do not match the requested %s.", parts[i].what,
                        parts[i].what);
            goto out;
        }
    }
    *offset = json_integer_value(off);
    rc = JX_OK;
out:
    json_decref(t);
    free(buf);
    return rc;
}

void api_logged_models_search(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct search_in s = {0};
    struct lm_filter filter;
    struct logged_model *models;
    const char *token = NULL;
    char err[600];
    int64_t offset = 0;
    size_t n;
    int more;

    arena_init(&arena);
    s.bound = json_object();
    if (read_ids(&in, &arena, &s, r) != JX_OK || jx_string(&in, "filter", &s.filter, r) == JX_BAD ||
        read_datasets(&in, &arena, &s, r) != JX_OK || read_order(&in, &arena, &s, r) != JX_OK ||
        read_max_results(&in, &s, r) != JX_OK || jx_string(&in, "page_token", &token, r) == JX_BAD)
        goto out;
    if (s.filter != NULL && s.filter[0] != '\0')
        json_object_set_new(s.bound, "filter", json_string(s.filter));
    if (lm_filter_parse(s.filter, &arena, &filter, err, sizeof err) < 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "%s", err);
        goto out;
    }
    if (token != NULL && token[0] != '\0' && token_decode(token, s.bound, &offset, r) != JX_OK)
        goto out;
    /* only experiments the caller may read */
    unsigned char *readable = arena_alloc(&arena, s.nids + 1);
    auth_can_read_many(req, s.ids, s.nids, readable);
    size_t kept = 0;
    for (size_t i = 0; i < s.nids; i++)
        if (readable[i])
            s.ids[kept++] = s.ids[i];
    struct lm_search q = {.experiment_ids = s.ids,
                          .nexperiments = kept,
                          .filter = &filter,
                          .datasets = s.datasets,
                          .ndatasets = s.ndatasets,
                          .order = s.order,
                          .norder = s.norder,
                          .offset = offset,
                          .limit = s.max_results};
    int rc = kept == 0 ? (n = 0, more = 0, DB_OK) : store_lm_search(&q, &arena, &models, &n, &more);
    if (rc != DB_OK) {
        reply_store_error(r, rc, "");
        goto out;
    }
    json_t *obj = json_object();
    if (n > 0) {
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, lm_model_json(&models[i]));
        json_object_set_new(obj, "models", list);
    }
    if (more) {
        char *next = token_encode(s.bound, offset + (int64_t)n);
        json_object_set_new(obj, "next_page_token", json_string(next));
        free(next);
    }
    reply_json(r, obj);
out:
    json_decref(s.bound);
    arena_cleanup(&arena);
}
