/* Trace search, V2 (GET /mlflow/traces) and V3 (POST
 * /api/3.0/mlflow/traces/search), and the rollups of
 * /api/2.0/exptrack/traces/stats. The filter is parsed here (filter.c)
 * and rendered by the store with bound parameters. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_traces_common.h"
#include "core/b64.h"
#include "core/reply_store.h"
#include "filter.h"

#define MAX_SEARCH_RESULTS 500
#define DEFAULT_SEARCH_RESULTS 100
#define MAX_ORDER_KEYS 10
#define MAX_EXPERIMENTS 100

/* Page tokens: base64 of {"offset": N} and, in the default order, the
 * keyset of the page's last row {"offset": N, "time": T, "id": "..."}; the
 * store walks on from the keyset (never past skipped rows) and falls back
 * to the offset when the order is another one. */
static char *token_encode(int64_t offset, const struct trace_info *last)
{
    char text[160];
    int n;
    if (last != NULL)
        n = snprintf(text, sizeof text, "{\"offset\": %lld, \"time\": %lld, \"id\": \"%s\"}",
                     (long long)offset, (long long)last->request_time, last->trace_id);
    else
        n = snprintf(text, sizeof text, "{\"offset\": %lld}", (long long)offset);
    if (n < 0 || (size_t)n >= sizeof text)
        n = snprintf(text, sizeof text, "{\"offset\": %lld}", (long long)offset);
    return b64_encode_new(text, (size_t)n);
}

/* A trace id as the traces table holds them: "tr-" or not, 32 lowercase hex. */
static int trace_id_shape(const char *id)
{
    size_t i = strncmp(id, "tr-", 3) == 0 ? 3 : 0;
    if (strlen(id) != i + 32)
        return 0;
    for (; id[i]; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return 0;
    return 1;
}

/* 0 with q->offset (and the keyset, when present) set; -1 for a token this
 * server did not make. */
static int token_decode(const char *token, struct arena *arena, struct trace_search *q)
{
    int rc = -1;
    json_t *obj = input_page_token_object(token, 240);
    json_t *off = json_object_get(obj, "offset");
    json_t *time = json_object_get(obj, "time");
    json_t *id = json_object_get(obj, "id");
    if (!json_is_integer(off) || json_integer_value(off) <= 0)
        goto out;
    if (time != NULL || id != NULL) {
        if (!json_is_integer(time) || !json_is_string(id) || !trace_id_shape(json_string_value(id)))
            goto out;
        q->after_time = json_integer_value(time);
        q->after_id = arena_strdup(arena, json_string_value(id));
    }
    q->offset = json_integer_value(off);
    rc = 0;
out:
    json_decref(obj);
    return rc;
}

/* filter, order_by, max_results, page_token into q. */
static int read_common(const struct input *in, struct arena *arena, struct trace_filter *filter,
                       struct trace_search *q, struct reply *r)
{
    const char *text = NULL, *token = NULL;
    char err[600];
    int64_t max = DEFAULT_SEARCH_RESULTS;
    const json_t *arr;

    if (jx_string(in, "filter", &text, r) == JX_BAD ||
        jx_int64(in, "max_results", &max, r) == JX_BAD ||
        jx_string(in, "page_token", &token, r) == JX_BAD)
        return JX_BAD;
    if (max < 1 || max > MAX_SEARCH_RESULTS) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value %lld for parameter 'max_results' supplied. It must be between "
                    "1 and %d.",
                    (long long)max, MAX_SEARCH_RESULTS);
        return JX_BAD;
    }
    if (trace_filter_parse(text, arena, filter, err, sizeof err) != 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "%s", err);
        return JX_BAD;
    }
    q->filter = filter;
    q->limit = max;
    q->offset = 0;
    if (token && token[0] && token_decode(token, arena, q) != 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Invalid page token '%.100s'", token);
        return JX_BAD;
    }
    int rc = jx_array(in, "order_by", &arr, r);
    if (rc == JX_BAD)
        return JX_BAD;
    size_t n = rc == JX_OK ? json_array_size(arr) : 0;
    if (n > MAX_ORDER_KEYS) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'order_by' may hold at most %d keys",
                    MAX_ORDER_KEYS);
        return JX_BAD;
    }
    struct trace_order *order = arena_alloc(arena, (n + 1) * sizeof *order);
    for (size_t i = 0; i < n; i++) {
        const char *s;
        if (jx_array_string(arr, i, "order_by", &s, r) != JX_OK)
            return JX_BAD;
        if (trace_order_parse(s, arena, &order[i], err, sizeof err) != 0) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE, "%s", err);
            return JX_BAD;
        }
        for (size_t k = 0; k < i; k++)
            if (trace_order_same(&order[k], &order[i])) {
                reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                            "`order_by` contains duplicate fields: '%.200s'", s);
                return JX_BAD;
            }
    }
    q->order = order;
    q->norder = n;
    return JX_OK;
}

/* The 400 of a filter and order_by that need more bound values than one
 * statement takes (the parser's caps keep them below it today). */
static void reply_too_many_params(struct reply *r)
{
    reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                "Invalid 'filter': the filter and 'order_by' together need more values than one "
                "search takes; split it into fewer comparisons");
}

/* Runs q and replies {traces, next_page_token} with V2 or V3 infos. */
static void run_search(const struct trace_search *q, int v3, struct arena *arena, struct reply *r)
{
    struct trace_info *infos;
    size_t n;
    int more;
    int rc = store_trace_search(q, arena, &infos, &n, &more);
    if (rc == DB_TRACE_TOO_MANY_PARAMS) {
        reply_too_many_params(r);
        return;
    }
    if (rc != DB_OK) {
        reply_store_error(r, rc, "no such experiment");
        return;
    }
    json_t *o = json_object();
    if (n > 0) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, v3 ? trace_info_v3_json(&infos[i])
                                          : trace_info_v2_json(&infos[i]));
        json_object_set_new(o, "traces", arr);
    }
    if (more) {
        int keyset = trace_search_keyset_order(q);
        char *token = token_encode(q->offset + q->limit, keyset ? &infos[n - 1] : NULL);
        json_object_set_new(o, "next_page_token", json_string(token));
        free(token);
    }
    reply_json(r, o);
}

void api_traces_v2_search(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct trace_filter filter;
    struct trace_search q = {0};
    const json_t *arr;

    arena_init(&arena);
    int rc = jx_array(&in, "experiment_ids", &arr, r);
    if (rc == JX_BAD)
        goto out;
    if (rc == JX_ABSENT || json_array_size(arr) == 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Missing value for required parameter 'experiment_ids'.");
        goto out;
    }
    if (json_array_size(arr) > MAX_EXPERIMENTS) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'experiment_ids' may hold at most %d ids",
                    MAX_EXPERIMENTS);
        goto out;
    }
    int64_t *ids = arena_alloc(&arena, json_array_size(arr) * sizeof *ids);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        char buf[32];
        const char *s;
        if (jx_array_id(arr, i, "experiment_ids", buf, &s, r) != JX_OK)
            goto out;
        if (jx_parse_int64_text(s, &ids[i]) != 0 || ids[i] < 0) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "Invalid experiment id '%.40s' in 'experiment_ids'", s);
            goto out;
        }
    }
    q.experiment_ids = ids;
    q.nexperiments = json_array_size(arr);
    if (read_common(&in, &arena, &filter, &q, r) != JX_OK)
        goto out;
    run_search(&q, 0, &arena, r);
out:
    arena_cleanup(&arena);
}

void api_traces_v3_search(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct trace_filter filter;
    struct trace_search q = {0};
    const json_t *arr = json_object_get(req->input, "locations");

    arena_init(&arena);
    if (arr == NULL || json_is_null(arr) || (json_is_array(arr) && json_array_size(arr) == 0)) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Missing value for required parameter 'locations'.");
        goto out;
    }
    if (!json_is_array(arr) || json_array_size(arr) > MAX_EXPERIMENTS) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "'locations' must be a list of at most %d TraceLocation objects",
                    MAX_EXPERIMENTS);
        goto out;
    }
    int64_t *ids = arena_alloc(&arena, json_array_size(arr) * sizeof *ids);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *loc = json_array_get(arr, i);
        const json_t *exp = json_object_get(loc, "mlflow_experiment");
        struct input ein = {exp, 0, "locations[].mlflow_experiment"};
        if (!json_is_object(loc) || !json_is_object(exp)) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "'locations[%zu]' must be {\"type\": \"MLFLOW_EXPERIMENT\", "
                        "\"mlflow_experiment\": {\"experiment_id\": ...}}",
                        i);
            goto out;
        }
        if (input_experiment_id(&ein, "experiment_id", &ids[i], r) != JX_OK)
            goto out;
    }
    q.experiment_ids = ids;
    q.nexperiments = json_array_size(arr);
    if (read_common(&in, &arena, &filter, &q, r) != JX_OK)
        goto out;
    run_search(&q, 1, &arena, r);
out:
    arena_cleanup(&arena);
}

/* A percentile in ms, or null when no trace had a duration. */
static json_t *ms_value(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

void api_traces_stats(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct trace_filter filter;
    const char *text = NULL, *group = NULL, *key = NULL;
    char err[600];
    int64_t exp;
    int kind = 0;

    arena_init(&arena);
    if (input_experiment_id(&in, "experiment_id", &exp, r) != JX_OK ||
        jx_string(&in, "filter", &text, r) == JX_BAD ||
        jx_string(&in, "group_by", &group, r) == JX_BAD)
        goto out;
    if (trace_filter_parse(text, &arena, &filter, err, sizeof err) != 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "%s", err);
        goto out;
    }
    if (group && group[0]) {
        if (strncmp(group, "tag.", 4) == 0 && group[4]) {
            kind = 1;
            key = group + 4;
        } else if (strncmp(group, "metadata.", 9) == 0 && group[9]) {
            kind = 2;
            key = group + 9;
        } else {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "Invalid 'group_by' '%.100s': expected tag.<key> or metadata.<key>", group);
            goto out;
        }
    }
    struct trace_stats_row *rows;
    size_t n;
    int rc = store_trace_stats(exp, &filter, kind, key, &arena, &rows, &n);
    if (rc == DB_TRACE_TOO_MANY_PARAMS) {
        reply_too_many_params(r);
        goto out;
    }
    if (rc != DB_OK) {
        reply_store_experiment_not_found(r, rc, exp);
        goto out;
    }
    json_t *groups = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *g = json_pack(
            "{s:I,s:I,s:I,s:I,s:I,s:{s:o,s:o,s:o}}", "trace_count", (json_int_t)rows[i].traces,
            "error_count", (json_int_t)rows[i].errors, "input_tokens",
            (json_int_t)rows[i].input_tokens, "output_tokens", (json_int_t)rows[i].output_tokens,
            "total_tokens", (json_int_t)rows[i].total_tokens, "latency_ms", "p50",
            ms_value(rows[i].p50), "p90", ms_value(rows[i].p90), "p99", ms_value(rows[i].p99));
        json_object_set_new(g, "input_cost", json_real(rows[i].input_cost));
        json_object_set_new(g, "output_cost", json_real(rows[i].output_cost));
        json_object_set_new(g, "total_cost", json_real(rows[i].total_cost));
        if (kind != 0)
            json_object_set_new(g, "group",
                                rows[i].group ? json_string(rows[i].group) : json_null());
        json_array_append_new(groups, g);
    }
    char e[24];
    snprintf(e, sizeof e, "%lld", (long long)exp);
    json_t *o = json_pack("{s:s,s:o}", "experiment_id", e, "groups", groups);
    if (kind != 0)
        json_object_set_new(o, "group_by", json_string(group));
    reply_json(r, o);
out:
    arena_cleanup(&arena);
}
