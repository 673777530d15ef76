/* registered-models/search and model-versions/search: filter, order_by,
 * max_results and offset page tokens as 1.4 says. Decode -> store ->
 * encode; the filter is parsed by filter.c, rendered by the store. With
 * --auth, models the user cannot read are left out (mlflow-models-api.md
 * 6.1): a model page is refilled from the rows after it, a version page is
 * not. */
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "api_registry_common.h"
#include "auth/auth.h"
#include "filter.h"

struct search {
    struct reg_filter filter;
    struct reg_order order;
    int64_t max_results;
    int64_t offset;
};

/* Reads filter, order_by, max_results (default def, at most max) and
 * page_token. */
static int decode(const struct input *in, enum reg_kind kind, int64_t def, int64_t max,
                  struct arena *arena, struct search *s, struct reply *r)
{
    const char *filter = "", *token = NULL;
    const json_t *order_by;
    char err[512];

    *s = (struct search){.max_results = def};
    int rc = jx_int64(in, "max_results", &s->max_results, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (s->max_results < 1) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for max_results. It must be a positive integer, but got %lld",
                    (long long)s->max_results);
        return JX_BAD;
    }
    if (s->max_results > max) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for max_results. It must be at most %lld, but got %lld",
                    (long long)max, (long long)s->max_results);
        return JX_BAD;
    }
    if (jx_string(in, "filter", &filter, r) == JX_BAD)
        return JX_BAD;
    if (filter_parse(kind, filter, arena, &s->filter, err, sizeof err) != 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "%s", err);
        return JX_BAD;
    }
    rc = jx_array(in, "order_by", &order_by, r);
    if (rc == JX_BAD)
        return JX_BAD;
    for (size_t i = 0; rc == JX_OK && i < json_array_size(order_by); i++) {
        const char *clause;
        if (jx_array_string(order_by, i, "order_by", &clause, r) != JX_OK)
            return JX_BAD;
        if (filter_order_add(kind, clause, &s->order, err, sizeof err) != 0) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE, "%s", err);
            return JX_BAD;
        }
    }
    filter_order_finish(kind, &s->order);
    rc = jx_string(in, "page_token", &token, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_OK && token[0] != '\0' &&
        (input_page_token_decode(token, &s->offset) != 0 || s->offset > INT64_MAX / 2)) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid page token: it was not made by this server");
        return JX_BAD;
    }
    return JX_OK;
}

/* Adds next_page_token when a row beyond the page was found. */
static void page_token(json_t *o, const struct search *s, size_t found)
{
    if ((int64_t)found <= s->max_results)
        return;
    char *token = input_page_token_encode(s->offset + s->max_results);
    json_object_set_new(o, "next_page_token", json_string(token));
    free(token);
}

void api_registry_models_search(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct search s;
    json_t *list = json_array();
    int64_t pos, more = -1; /* more: offset of the first readable row not shown */

    arena_init(&arena);
    if (decode(&in, REG_MODELS, 100, 1000, &arena, &s, r) != JX_OK)
        goto out;
    /* Unreadable models are dropped and the page refilled from the rows
     * after it, a chunk at a time; the token is the offset of the first
     * row not looked at, so the next page neither skips nor repeats one. */
    for (pos = s.offset; more < 0;) {
        struct registered_model *models;
        size_t n, want = (size_t)s.max_results + 1;
        int rc = store_rm_search(&s.filter, &s.order, (int64_t)want, pos, &arena, &models, &n);
        if (rc != DB_OK) {
            reply_store_error(r, rc, "no such model");
            goto out;
        }
        const char **names = arena_alloc(&arena, (n + 1) * sizeof *names);
        unsigned char *readable = arena_alloc(&arena, n + 1);
        for (size_t i = 0; i < n; i++)
            names[i] = models[i].name;
        auth_can_read_models(req, names, n, readable);
        for (size_t i = 0; i < n && more < 0; i++) {
            if (!readable[i])
                continue;
            if ((int64_t)json_array_size(list) == s.max_results)
                more = pos + (int64_t)i;
            else
                json_array_append_new(list, reg_model_json(&models[i]));
        }
        if (n < want)
            break; /* the last rows were read */
        pos += (int64_t)n;
    }
    json_t *o = json_object();
    if (json_array_size(list) > 0)
        json_object_set(o, "registered_models", list);
    if (more >= 0) {
        char *token = input_page_token_encode(more);
        json_object_set_new(o, "next_page_token", json_string(token));
        free(token);
    }
    reply_json(r, o);
out:
    json_decref(list);
    arena_cleanup(&arena);
}

void api_registry_versions_search(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct search s;
    struct model_version *versions;
    size_t n;

    arena_init(&arena);
    if (decode(&in, REG_VERSIONS, 200000, 200000, &arena, &s, r) != JX_OK)
        goto out;
    int rc =
        store_mv_search(&s.filter, &s.order, s.max_results + 1, s.offset, &arena, &versions, &n);
    if (rc != DB_OK) {
        reply_store_error(r, rc, "no such version");
        goto out;
    }
    json_t *o = json_object();
    size_t shown = (int64_t)n > s.max_results ? (size_t)s.max_results : n;
    if (shown > 0) {
        /* versions of unreadable models are dropped; the page is not refilled */
        const char **names = arena_alloc(&arena, shown * sizeof *names);
        unsigned char *readable = arena_alloc(&arena, shown);
        for (size_t i = 0; i < shown; i++)
            names[i] = versions[i].name;
        auth_can_read_models(req, names, shown, readable);
        json_t *list = json_array();
        for (size_t i = 0; i < shown; i++)
            if (readable[i])
                json_array_append_new(list, reg_version_json(&versions[i], 0));
        if (json_array_size(list) > 0)
            json_object_set_new(o, "model_versions", list);
        else
            json_decref(list);
    }
    page_token(o, &s, n);
    reply_json(r, o);
out:
    arena_cleanup(&arena);
}
