/* The V2 trace protocol (mlflow-models-api.md 3.2) and the routes both
 * versions share: tags, delete-traces, link-to-run, link-prompts, the UI's
 * get-trace-artifact. Decode -> store -> encode; no SQL. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "api_traces_assess.h"
#include "api_traces_common.h"
#include "api_traces_spans.h"
#include "events/change_feed.h"
#include "core/ids.h"
#include "core/reply_store.h"
#include "core/validate.h"
#include "filter.h"
#include "span_stream.h"

#define MAX_DELETE_IDS 10000
#define MAX_LINK_IDS 100
#define MAX_PROMPTS 100

static void missing(struct reply *r, const char *key)
{
    reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                "Missing value for required parameter '%s'. See the API docs for more "
                "information about request parameters.",
                key);
}

/* Reads a TraceStatus/State given by name or number. */
static int read_state(const struct input *in, const char *key, int *out, struct reply *r)
{
    const json_t *v = json_object_get(in->obj, key);
    if (in->from_query && json_is_array(v))
        v = json_array_get(v, 0);
    if (v == NULL || json_is_null(v))
        return JX_ABSENT;
    int s = -1;
    if (json_is_string(v))
        s = trace_state_parse(json_string_value(v));
    else if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 3)
        s = (int)json_integer_value(v);
    if (s < 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter '%s': expected one of OK, ERROR, IN_PROGRESS, "
                    "TRACE_STATUS_UNSPECIFIED (or 0-3)",
                    key);
        return JX_BAD;
    }
    *out = s;
    return JX_OK;
}

static void reply_v2(struct reply *r, const char *trace_id)
{
    struct arena arena;
    struct trace_info t;
    arena_init(&arena);
    int rc = store_trace_get(trace_id, &arena, &t);
    if (rc != DB_OK)
        trace_not_found(r, rc, trace_id);
    else
        reply_json(r, json_pack("{s:o}", "trace_info", trace_info_v2_json(&t)));
    arena_cleanup(&arena);
}

void api_traces_v2_start(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct trace_write w = {0};
    char id[33];
    struct kv *meta, *tags;

    arena_init(&arena);
    if (input_experiment_id(&in, "experiment_id", &w.experiment_id, r) != JX_OK)
        goto out;
    w.request_time = store_now_ms();
    if (jx_int64(&in, "timestamp_ms", &w.request_time, r) == JX_BAD)
        goto out;
    if (w.request_time < 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'timestamp_ms' must not be negative");
        goto out;
    }
    if (trace_read_kv_list(&in, "request_metadata", &arena, &meta, &w.nmetadata, r) != JX_OK ||
        trace_read_kv_list(&in, "tags", &arena, &tags, &w.ntags, r) != JX_OK)
        goto out;
    w.metadata = meta;
    w.tags = tags;
    ids_new_run_id(id);
    w.trace_id = id;
    w.execution_duration = -1;
    w.state = TRACE_STATE_IN_PROGRESS;
    int rc = store_trace_write(&w, 0);
    if (rc != DB_OK) {
        trace_write_error(r, rc, w.experiment_id, id);
    } else {
        change_feed_traces(w.experiment_id);
        reply_v2(r, id);
    }
out:
    arena_cleanup(&arena);
}

static void no_endpoint(const struct request *req, struct reply *r)
{
    reply_error(r, ERR_ENDPOINT_NOT_FOUND, "No API endpoint for %s %s", req->method, req->path);
}

void api_traces_v2_get_path(const struct request *req, struct reply *r)
{
    char id[64];
    const char *after;
    trace_path_split(trace_path_rest(req), id, &after);
    if (strcmp(after, "info") != 0) {
        no_endpoint(req, r);
        return;
    }
    if (!trace_id_valid(id)) {
        trace_not_found(r, DB_NOT_FOUND, id);
        return;
    }
    reply_v2(r, id);
}

static void end_trace(const struct request *req, const char *id, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct kv *meta, *tags;
    size_t nmeta, ntags;
    int64_t end_ms;
    int state = TRACE_STATE_OK;

    arena_init(&arena);
    int rc = jx_int64(&in, "timestamp_ms", &end_ms, r);
    if (rc == JX_BAD)
        goto out;
    if (rc == JX_ABSENT) {
        missing(r, "timestamp_ms");
        goto out;
    }
    if (read_state(&in, "status", &state, r) == JX_BAD ||
        trace_read_kv_list(&in, "request_metadata", &arena, &meta, &nmeta, r) != JX_OK ||
        trace_read_kv_list(&in, "tags", &arena, &tags, &ntags, r) != JX_OK)
        goto out;
    for (size_t i = 0; i < ntags; i++)
        if (strcmp(tags[i].key, "mlflow.artifactLocation") == 0) {
            /* the client echoes the server's tag back: drop it */
            tags[i] = tags[--ntags];
            i--;
        }
    if (!trace_id_valid(id)) {
        trace_not_found(r, DB_NOT_FOUND, id);
        goto out;
    }
    int64_t exp;
    rc = store_trace_end(id, end_ms, state, meta, nmeta, tags, ntags, &exp);
    if (rc != DB_OK) {
        trace_not_found(r, rc, id);
    } else {
        change_feed_traces(exp);
        reply_v2(r, id);
    }
out:
    arena_cleanup(&arena);
}

static void set_tag(const struct request *req, const char *id, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    const char *key, *value = "";

    arena_init(&arena);
    if (jx_required_string(&in, "key", &key, r) != JX_OK ||
        jx_string(&in, "value", &value, r) == JX_BAD ||
        trace_check_tag(key, &value, &arena, r) != JX_OK)
        goto out;
    if (!trace_id_valid(id)) {
        trace_not_found(r, DB_NOT_FOUND, id);
        goto out;
    }
    int rc = store_trace_set_tag(id, key, value);
    if (rc != DB_OK)
        trace_not_found(r, rc, id);
    else
        reply_json(r, json_object());
out:
    arena_cleanup(&arena);
}

static void delete_tag(const struct request *req, const char *id, struct reply *r)
{
    struct input in = input_from(req);
    const char *key;

    if (jx_required_string(&in, "key", &key, r) != JX_OK)
        return;
    if (!trace_id_valid(id)) {
        trace_not_found(r, DB_NOT_FOUND, id);
        return;
    }
    int rc = store_trace_delete_tag(id, key);
    if (rc == DB_TRACE_NO_TAG)
        reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST,
                    "No trace tag with key '%.250s' for trace with request_id '%s'", key, id);
    else if (rc != DB_OK)
        trace_not_found(r, rc, id);
    else
        reply_json(r, json_object());
}

void api_traces_patch_path(const struct request *req, struct reply *r)
{
    char id[64];
    const char *after;
    int v3 = strstr(req->path, "/3.0/") != NULL;
    trace_path_split(trace_path_rest(req), id, &after);
    if (after[0] == '\0' && !v3)
        end_trace(req, id, r);
    else if (strcmp(after, "tags") == 0)
        set_tag(req, id, r);
    else if (v3 && strncmp(after, "assessments/", 12) == 0)
        api_traces_assessment_update(req, id, after + 12, r);
    else
        no_endpoint(req, r);
}

void api_traces_delete_path(const struct request *req, struct reply *r)
{
    char id[64];
    const char *after;
    int v3 = strstr(req->path, "/3.0/") != NULL;
    trace_path_split(trace_path_rest(req), id, &after);
    if (strcmp(after, "tags") == 0)
        delete_tag(req, id, r);
    else if (v3 && strncmp(after, "assessments/", 12) == 0)
        api_traces_assessment_delete(req, id, after + 12, r);
    else
        no_endpoint(req, r);
}

/* Reads a list of trace ids (strings) of at most max. */
static int read_ids(const struct input *in, const char *key, size_t max, struct arena *arena,
                    const char ***out, size_t *n, struct reply *r)
{
    const json_t *arr;
    *out = NULL;
    *n = 0;
    int rc = jx_array(in, key, &arr, r);
    if (rc != JX_OK)
        return rc;
    if (json_array_size(arr) > max) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'%s' may hold at most %zu ids", key, max);
        return JX_BAD;
    }
    *out = arena_alloc(arena, (json_array_size(arr) + 1) * sizeof **out);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *s;
        if (jx_array_string(arr, i, key, &s, r) != JX_OK)
            return JX_BAD;
        (*out)[(*n)++] = s;
    }
    return JX_OK;
}

void api_traces_delete_traces(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    int64_t exp, max_ms = 0, max_traces = 0, deleted = 0;
    const char **ids = NULL;
    size_t nids = 0;

    arena_init(&arena);
    if (input_experiment_id(&in, "experiment_id", &exp, r) != JX_OK)
        goto out;
    int has_ms = jx_int64(&in, "max_timestamp_millis", &max_ms, r);
    int has_max = jx_int64(&in, "max_traces", &max_traces, r);
    int has_ids = read_ids(&in, "request_ids", MAX_DELETE_IDS, &arena, &ids, &nids, r);
    if (has_ms == JX_BAD || has_max == JX_BAD || has_ids == JX_BAD)
        goto out;
    if (has_ms != JX_OK && has_ids != JX_OK) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Either `max_timestamp_millis` or `request_ids` must be specified.");
        goto out;
    }
    if (has_ms == JX_OK && has_ids == JX_OK) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Only one of `max_timestamp_millis` and `request_ids` can be specified.");
        goto out;
    }
    if (has_max == JX_OK && has_ids == JX_OK) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "`request_ids` can't be specified in conjunction with `max_traces`.");
        goto out;
    }
    if (has_max == JX_OK && max_traces <= 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "`max_traces` must be a positive integer, received %lld.",
                    (long long)max_traces);
        goto out;
    }
    int rc = store_trace_delete(exp, max_ms, has_max == JX_OK ? max_traces : 0,
                                has_ids == JX_OK ? ids : NULL, nids, &deleted);
    if (rc != DB_OK)
        reply_store_experiment_not_found(r, rc, exp);
    else
        reply_json(r, json_pack("{s:I}", "traces_deleted", (json_int_t)deleted));
out:
    arena_cleanup(&arena);
}

void api_traces_link_to_run(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    const char **ids = NULL, *run_id;
    size_t nids = 0;

    arena_init(&arena);
    int rc = read_ids(&in, "trace_ids", MAX_LINK_IDS, &arena, &ids, &nids, r);
    if (rc == JX_BAD)
        goto out;
    if (rc == JX_ABSENT) {
        missing(r, "trace_ids");
        goto out;
    }
    if (jx_required_string(&in, "run_id", &run_id, r) != JX_OK)
        goto out;
    if (!validate_is_run_id(run_id)) {
        reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST, "Run with id=%.40s not found", run_id);
        goto out;
    }
    for (size_t i = 0; i < nids; i++)
        if (!trace_id_valid(ids[i])) {
            trace_not_found(r, DB_NOT_FOUND, ids[i]);
            goto out;
        }
    if (nids == 0) {
        reply_json(r, json_object());
        goto out;
    }
    rc = store_trace_link_runs(ids, nids, run_id);
    if (rc == DB_TRACE_NO_RUN)
        reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST, "Run with id=%s not found", run_id);
    else if (rc == DB_NOT_FOUND)
        reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST, "Some of the traces were not found");
    else if (rc != DB_OK)
        trace_not_found(r, rc, "");
    else
        reply_json(r, json_object());
out:
    arena_cleanup(&arena);
}

void api_traces_link_prompts(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    const char *trace_id;
    const json_t *arr;
    char where[80];

    arena_init(&arena);
    if (jx_required_string(&in, "trace_id", &trace_id, r) != JX_OK)
        goto out;
    int rc = jx_array(&in, "prompt_versions", &arr, r);
    if (rc == JX_BAD)
        goto out;
    if (rc == JX_ABSENT) {
        missing(r, "prompt_versions");
        goto out;
    }
    if (json_array_size(arr) > MAX_PROMPTS) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'prompt_versions' may hold at most %d entries",
                    MAX_PROMPTS);
        goto out;
    }
    size_t n = json_array_size(arr);
    const char **names = arena_alloc(&arena, (n + 1) * sizeof *names);
    const char **versions = arena_alloc(&arena, (n + 1) * sizeof *versions);
    for (size_t i = 0; i < n; i++) {
        struct input item;
        char vbuf[32];
        if (jx_item(arr, i, "prompt_versions", where, sizeof where, &item, r) != JX_OK ||
            jx_required_string(&item, "name", &names[i], r) != JX_OK)
            goto out;
        const json_t *v = json_object_get(item.obj, "version");
        if (json_is_integer(v)) {
            snprintf(vbuf, sizeof vbuf, "%lld", (long long)json_integer_value(v));
            versions[i] = arena_strdup(&arena, vbuf);
        } else if (jx_required_string(&item, "version", &versions[i], r) != JX_OK) {
            goto out;
        }
        if (input_check_length(names[i], "name", 256, r) != JX_OK ||
            input_check_length(versions[i], "version", 32, r) != JX_OK)
            goto out;
    }
    if (!trace_id_valid(trace_id)) {
        trace_not_found(r, DB_NOT_FOUND, trace_id);
        goto out;
    }
    rc = store_trace_link_prompts(trace_id, names, versions, n);
    if (rc != DB_OK)
        trace_not_found(r, rc, trace_id);
    else
        reply_json(r, json_object());
out:
    arena_cleanup(&arena);
}

void api_traces_get_artifact(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct span_cursor *spans = NULL;
    const char *id;

    if (jx_string(&in, "request_id", &id, r) != JX_OK) {
        if (!r->is_error)
            reply_error(r, ERR_BAD_REQUEST, "Missing value for required parameter 'request_id'");
        return;
    }
    if (!trace_id_valid(id)) {
        trace_not_found(r, DB_NOT_FOUND, id);
        return;
    }
    int64_t exp;
    int rc = store_trace_experiment(id, &exp);
    if (rc == DB_OK)
        rc = store_spans_open(id, &spans);
    if (rc != DB_OK) {
        trace_not_found(r, rc, id);
        return;
    }
    struct span_stream *st = span_stream_new();
    span_stream_text(st, "{\"spans\":[");
    span_stream_spans(st, spans, 0);
    span_stream_text(st, "]}");
    reply_stream(r, "application/json", -1, span_stream_read, span_stream_free, st);
    reply_header(r, "Content-Disposition", "attachment; filename=traces.json");
}

void api_traces_runs(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct trace_run_row *rows;
    const char *id;
    size_t n;

    arena_init(&arena);
    if (jx_required_string(&in, "trace_id", &id, r) != JX_OK)
        goto out;
    if (!trace_id_valid(id)) { /* an extension: a malformed id is the caller's error */
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'trace_id': expected \"tr-\" and 32 lowercase "
                    "hex digits, or 32 hex digits");
        goto out;
    }
    int rc = store_trace_runs(id, &arena, &rows, &n);
    if (rc != DB_OK) {
        trace_not_found(r, rc, id);
        goto out;
    }
    json_t *runs = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{s:s,s:b,s:b}", "run_id", rows[i].run_id, "source", rows[i].source,
                              "linked", rows[i].linked);
        if (rows[i].experiment_id >= 0) {
            char e[24];
            snprintf(e, sizeof e, "%lld", (long long)rows[i].experiment_id);
            json_object_set_new(o, "experiment_id", json_string(e));
            json_object_set_new(o, "lifecycle_stage", json_string(rows[i].lifecycle_stage));
        }
        if (rows[i].name)
            json_object_set_new(o, "run_name", json_string(rows[i].name));
        json_array_append_new(runs, o);
    }
    reply_json(r, json_pack("{s:s,s:o}", "trace_id", id, "runs", runs));
out:
    arena_cleanup(&arena);
}
