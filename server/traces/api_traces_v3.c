/* The V3 trace protocol (mlflow-models-api.md 3.5, 3.11): create (merge),
 * get info, get with spans, batchGet, and the path routes that reach
 * assessments. Decode -> store -> encode; no SQL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "api_traces_assess.h"
#include "api_traces_common.h"
#include "events/change_feed.h"
#include "core/ids.h"
#include "core/reply_store.h"
#include "core/validate.h"
#include "filter.h"
#include "span_stream.h"

#define MAX_BATCH_GET 100
#define MAX_INLINE_ASSESSMENTS 100

static void no_endpoint(const struct request *req, struct reply *r)
{
    reply_error(r, ERR_ENDPOINT_NOT_FOUND, "No API endpoint for %s %s", req->method, req->path);
}

/* The experiment of a TraceLocation object. */
static int location_experiment(const json_t *loc, const char *where, int64_t *out, struct reply *r)
{
    const json_t *type = json_object_get(loc, "type");
    if (!json_is_object(loc)) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'%s' must be a TraceLocation object", where);
        return JX_BAD;
    }
    if (type != NULL &&
        !(json_is_string(type) && strcmp(json_string_value(type), "MLFLOW_EXPERIMENT") == 0) &&
        !(json_is_integer(type) && json_integer_value(type) == 1)) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "'%s.type' must be MLFLOW_EXPERIMENT (the only location exptrack stores)",
                    where);
        return JX_BAD;
    }
    const json_t *exp = json_object_get(loc, "mlflow_experiment");
    if (!json_is_object(exp)) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Missing value for required parameter '%s.mlflow_experiment.experiment_id'.",
                    where);
        return JX_BAD;
    }
    struct input in = {exp, 0, where};
    return input_experiment_id(&in, "experiment_id", out, r);
}

/* Reads a Timestamp (RFC 3339 text, or ms as a number) field. */
static int read_time(const struct input *in, const char *key, int64_t *out, struct reply *r)
{
    const json_t *v = json_object_get(in->obj, key);
    if (v == NULL || json_is_null(v))
        return JX_ABSENT;
    if (json_is_string(v) && trace_parse_time(json_string_value(v), out) == 0 && *out >= 0)
        return JX_OK;
    reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                "Invalid value for '%s': expected an RFC 3339 timestamp such as "
                "\"2025-06-01T12:00:00.250Z\"",
                key);
    return JX_BAD;
}

static int read_duration(const struct input *in, const char *key, int64_t *out, struct reply *r)
{
    const json_t *v = json_object_get(in->obj, key);
    if (v == NULL || json_is_null(v))
        return JX_ABSENT;
    if (json_is_string(v) && trace_parse_duration(json_string_value(v), out) == 0)
        return JX_OK;
    reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                "Invalid value for '%s': expected a Duration such as \"1.5s\"", key);
    return JX_BAD;
}

static int read_preview(const struct input *in, const char *key, struct arena *arena,
                        const char **out, struct reply *r)
{
    *out = NULL;
    if (jx_string(in, key, out, r) == JX_BAD)
        return JX_BAD;
    if (*out)
        *out = trace_cut(*out, TRACE_MAX_PREVIEW, arena);
    return JX_OK;
}

/* Inline assessments of a create: only a few fields are kept here (the
 * full create path is api_traces_assess.c); refused when malformed. */
static int read_inline_assessments(const struct input *ti, const char *trace_id,
                                   struct arena *arena, struct trace_write *w, struct reply *r)
{
    const json_t *arr = json_object_get(ti->obj, "assessments");
    if (arr == NULL || json_is_null(arr) || json_array_size(arr) == 0)
        return JX_OK;
    if (!json_is_array(arr) || json_array_size(arr) > MAX_INLINE_ASSESSMENTS) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "'trace_info.assessments' must be a list of at most %d assessments",
                    MAX_INLINE_ASSESSMENTS);
        return JX_BAD;
    }
    struct trace_assessment *as = arena_alloc(arena, json_array_size(arr) * sizeof *as);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *a = json_array_get(arr, i);
        struct input in = {a, 0, "trace_info.assessments"};
        struct trace_assessment *x = &as[i];
        char hex[33], *id = arena_alloc(arena, 35);
        memset(x, 0, sizeof *x);
        if (!json_is_object(a) ||
            jx_required_string(&in, "assessment_name", &x->name, r) != JX_OK) {
            if (!r->is_error)
                reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                            "'trace_info.assessments[%zu]' must be an object", i);
            return JX_BAD;
        }
        if (validate_utf8_length(x->name) > 250) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "'assessment_name' exceeds the maximum length of 250 characters");
            return JX_BAD;
        }
        const json_t *fb = json_object_get(a, "feedback");
        const json_t *ex = json_object_get(a, "expectation");
        const json_t *body = json_is_object(fb) ? fb : ex;
        if (!json_is_object(body)) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "'trace_info.assessments[%zu]' needs 'feedback' or 'expectation'", i);
            return JX_BAD;
        }
        x->kind = body == fb ? 1 : 2;
        char *v = json_dumps(json_object_get(body, "value") ? json_object_get(body, "value")
                                                            : json_null(),
                             JSON_COMPACT | JSON_ENCODE_ANY);
        x->value = arena_strdup(arena, v ? v : "null");
        free(v);
        ids_new_run_id(hex);
        snprintf(id, 35, "a-%s", hex);
        x->assessment_id = id;
        x->trace_id = trace_id;
        x->valid = 1;
        jx_string(&in, "rationale", &x->rationale, r);
        if (r->is_error)
            return JX_BAD;
    }
    w->assessments = as;
    w->nassessments = json_array_size(arr);
    return JX_OK;
}

static void reply_info(struct reply *r, const char *trace_id)
{
    struct arena arena;
    struct trace_info t;
    arena_init(&arena);
    int rc = store_trace_get(trace_id, &arena, &t);
    if (rc != DB_OK)
        trace_not_found(r, rc, trace_id);
    else
        reply_json(r, json_pack("{s:{s:o}}", "trace", "trace_info", trace_info_v3_json(&t)));
    arena_cleanup(&arena);
}

void api_traces_v3_create(const struct request *req, struct reply *r)
{
    struct arena arena;
    struct trace_write w = {0};
    const json_t *trace = json_object_get(req->input, "trace");
    const json_t *info = json_object_get(trace, "trace_info");
    struct kv *meta, *tags;

    arena_init(&arena);
    if (!json_is_object(trace) || !json_is_object(info)) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Missing value for required parameter 'trace.trace_info'.");
        goto out;
    }
    struct input ti = {info, 0, "trace_info"};
    if (jx_required_string(&ti, "trace_id", &w.trace_id, r) != JX_OK)
        goto out;
    if (strncmp(w.trace_id, "tr-", 3) != 0 || !trace_id_valid(w.trace_id)) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid trace_id '%.100s': expected 'tr-' followed by 32 lowercase hex "
                    "digits",
                    w.trace_id);
        goto out;
    }
    if (location_experiment(json_object_get(info, "trace_location"), "trace_location",
                            &w.experiment_id, r) != JX_OK)
        goto out;
    w.request_time = store_now_ms();
    w.execution_duration = -1;
    w.state = TRACE_STATE_UNSPECIFIED;
    int st;
    const json_t *state = json_object_get(info, "state");
    if (state != NULL && !json_is_null(state)) {
        st = json_is_string(state)    ? trace_state_parse(json_string_value(state))
             : json_is_integer(state) ? (int)json_integer_value(state)
                                      : -1;
        if (st < 0 || st > 3) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "Invalid value for 'state': expected OK, ERROR, IN_PROGRESS or "
                        "STATE_UNSPECIFIED");
            goto out;
        }
        w.state = st;
    }
    if (read_time(&ti, "request_time", &w.request_time, r) == JX_BAD ||
        read_duration(&ti, "execution_duration", &w.execution_duration, r) == JX_BAD ||
        jx_string(&ti, "client_request_id", &w.client_request_id, r) == JX_BAD ||
        read_preview(&ti, "request_preview", &arena, &w.request_preview, r) != JX_OK ||
        read_preview(&ti, "response_preview", &arena, &w.response_preview, r) != JX_OK ||
        trace_read_kv_map(&ti, "trace_metadata", &arena, &meta, &w.nmetadata, r) != JX_OK ||
        trace_read_kv_map(&ti, "tags", &arena, &tags, &w.ntags, r) != JX_OK ||
        read_inline_assessments(&ti, w.trace_id, &arena, &w, r) != JX_OK)
        goto out;
    if (w.client_request_id && validate_utf8_length(w.client_request_id) > 1000) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "'client_request_id' exceeds the maximum length of 1000 characters");
        goto out;
    }
    for (size_t i = 0; i < w.ntags; i++)
        if (strcmp(tags[i].key, "mlflow.artifactLocation") == 0) {
            tags[i] = tags[--w.ntags];
            i--;
        }
    w.metadata = meta;
    w.tags = tags;
    if (w.state == TRACE_STATE_UNSPECIFIED)
        w.state = TRACE_STATE_OK;
    int rc = store_trace_write(&w, 1);
    if (rc != DB_OK) {
        trace_write_error(r, rc, w.experiment_id, w.trace_id);
    } else {
        change_feed_traces(w.experiment_id);
        reply_info(r, w.trace_id);
    }
out:
    arena_cleanup(&arena);
}

void api_traces_v3_get_path(const struct request *req, struct reply *r)
{
    char id[64];
    const char *after;
    trace_path_split(trace_path_rest(req), id, &after);
    if (strncmp(after, "assessments/", 12) == 0) {
        api_traces_assessment_get(req, id, after + 12, r);
        return;
    }
    if (after[0] != '\0') {
        no_endpoint(req, r);
        return;
    }
    if (!trace_id_valid(id)) {
        trace_not_found(r, DB_NOT_FOUND, id);
        return;
    }
    reply_info(r, id);
}

void api_traces_v3_post_path(const struct request *req, struct reply *r)
{
    char id[64];
    const char *after;
    trace_path_split(trace_path_rest(req), id, &after);
    if (strcmp(after, "assessments") == 0)
        api_traces_assessment_create(req, id, r);
    else
        no_endpoint(req, r);
}

/* The expected span count of mlflow.trace.sizeStats (num_spans), or -1. */
static int64_t expected_spans(const struct trace_info *t)
{
    for (size_t i = 0; i < t->nmetadata; i++)
        if (strcmp(t->metadata[i].key, "mlflow.trace.sizeStats") == 0) {
            json_t *o = json_loads(t->metadata[i].value, 0, NULL);
            json_t *n = json_object_get(o, "num_spans");
            int64_t v = json_is_integer(n) ? json_integer_value(n) : -1;
            json_decref(o);
            return v;
        }
    return -1;
}

/* Appends the Trace object {"trace_info":..., "spans":[...]} of id to st
 * (after a comma when comma is set), its spans to be rendered as the reply
 * is sent (span_stream.h). Returns DB_OK with *partial 0; DB_OK with
 * *partial 1 and st unchanged when complete is set and fewer spans than
 * mlflow.trace.sizeStats.num_spans are stored; or the store's status (st
 * unchanged). */
static int add_trace(struct span_stream *st, const char *id, int complete, int comma,
                     struct arena *arena, int *partial)
{
    struct trace_info t;
    struct span_cursor *spans = NULL;
    int rc;

    *partial = 0;
    if ((rc = store_trace_get(id, arena, &t)) != DB_OK ||
        (rc = store_spans_open(id, &spans)) != DB_OK)
        return rc;
    int64_t want = expected_spans(&t);
    if (complete && want >= 0 && (int64_t)store_spans_count(spans) < want) {
        *partial = 1;
        store_spans_close(spans);
        return DB_OK;
    }
    json_t *info = trace_info_v3_json(&t);
    char *text = json_dumps(info, JSON_COMPACT);
    json_decref(info);
    if (comma)
        span_stream_text(st, ",");
    span_stream_text(st, "{\"trace_info\":");
    span_stream_text(st, text ? text : "{}");
    free(text);
    span_stream_text(st, ",\"spans\":[");
    span_stream_spans(st, spans, 1);
    span_stream_text(st, "]}");
    return DB_OK;
}

/* allow_partial: true/false in any case, 1/0 (a JSON body may carry a
 * boolean). */
static int read_partial(const struct input *in, int *out, struct reply *r)
{
    const json_t *v = json_object_get(in->obj, "allow_partial");
    const char *s;
    *out = 0;
    if (!in->from_query && json_is_boolean(v)) {
        *out = json_is_true(v);
        return JX_OK;
    }
    int rc = jx_string(in, "allow_partial", &s, r);
    if (rc == JX_ABSENT)
        return JX_OK;
    if (rc == JX_BAD)
        return JX_BAD;
    if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0) {
        *out = 1;
        return JX_OK;
    }
    if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0)
        return JX_OK;
    reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                "Invalid value for 'allow_partial': expected true or false");
    return JX_BAD;
}

void api_traces_v3_get_trace(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct span_stream *st = NULL;
    const char *id;
    int allow_partial, rc, partial;

    arena_init(&arena);
    if (jx_required_string(&in, "trace_id", &id, r) != JX_OK ||
        read_partial(&in, &allow_partial, r) != JX_OK)
        goto out;
    if (!trace_id_valid(id)) {
        trace_not_found(r, DB_NOT_FOUND, id);
        goto out;
    }
    st = span_stream_new();
    span_stream_text(st, "{\"trace\":");
    rc = add_trace(st, id, !allow_partial, 0, &arena, &partial);
    if (partial)
        reply_error(r, ERR_RESOURCE_DOES_NOT_EXIST,
                    "Trace with ID %s is not fully exported yet, please try again later.", id);
    else if (rc != DB_OK)
        trace_not_found(r, rc, id);
    else {
        span_stream_text(st, "}");
        reply_stream(r, "application/json", -1, span_stream_read, span_stream_free, st);
        st = NULL; /* the reply owns it */
    }
out:
    span_stream_free(st);
    arena_cleanup(&arena);
}

void api_traces_v3_batch_get(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct span_stream *st = NULL;
    const json_t *arr;
    size_t written = 0;

    arena_init(&arena);
    int rc = jx_array(&in, "trace_ids", &arr, r);
    if (rc == JX_BAD)
        goto out;
    if (rc == JX_ABSENT || json_array_size(arr) == 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Missing value for required parameter 'trace_ids'.");
        goto out;
    }
    if (json_array_size(arr) > MAX_BATCH_GET) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "'trace_ids' may hold at most %d ids",
                    MAX_BATCH_GET);
        goto out;
    }
    st = span_stream_new();
    span_stream_text(st, "{\"traces\":[");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *id;
        int partial;
        if (jx_array_string(arr, i, "trace_ids", &id, r) != JX_OK)
            goto out;
        if (!trace_id_valid(id))
            continue;
        rc = add_trace(st, id, 1, written > 0, &arena, &partial);
        if (rc == DB_OK && !partial) {
            written++;
            continue;
        }
        if (rc != DB_OK && rc != DB_NOT_FOUND) { /* absent or not complete: left out */
            trace_not_found(r, rc, id);
            goto out;
        }
    }
    span_stream_text(st, "]}");
    reply_stream(r, "application/json", -1, span_stream_read, span_stream_free, st);
    st = NULL; /* the reply owns it */
out:
    span_stream_free(st);
    arena_cleanup(&arena);
}
