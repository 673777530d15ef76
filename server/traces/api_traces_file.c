/* The spans of an uploaded traces.json (mlflow-models-api.md 3.3): the 3.x
 * clients' OTLP-style shape (base64 ids, attributes as JSON-encoded
 * strings) and the 2.x one (context.span_id "0x..", parent_id,
 * start_time, status_code) are both rewritten into an OTLP/JSON request
 * and decoded by the OTLP path (api_traces_spans.c), so both forms of a
 * span end up the same rows. The spans get the upload's trace id (the file
 * carries the OpenTelemetry one, which differs for V2 traces). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_traces_spans.h"
#include "core/log.h"

/* An attribute value of the file as an OTLP AnyValue. */
static json_t *any_value(const json_t *v)
{
    if (json_is_string(v))
        return json_pack("{s:O}", "stringValue", v);
    if (json_is_integer(v))
        return json_pack("{s:O}", "intValue", v);
    if (json_is_real(v))
        return json_pack("{s:O}", "doubleValue", v);
    if (json_is_boolean(v))
        return json_pack("{s:O}", "boolValue", v);
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *out = json_pack("{s:s}", "stringValue", text ? text : "null");
    free(text);
    return out;
}

/* {k: v} -> [{key, value}] (anything else: an empty list). */
static json_t *key_values(const json_t *obj)
{
    json_t *list = json_array();
    const char *k;
    json_t *v;
    if (!json_is_object(obj))
        return list;
    json_object_foreach((json_t *)obj, k, v)
    {
        json_array_append_new(list, json_pack("{s:s,s:o}", "key", k, "value", any_value(v)));
    }
    return list;
}

/* An id of the file: "0x" + hex (2.x), base64 or hex (3.x); NULL/"" stay. */
static json_t *file_id(const json_t *v)
{
    if (json_is_string(v) && strncmp(json_string_value(v), "0x", 2) == 0)
        return json_string(json_string_value(v) + 2);
    return v ? json_incref((json_t *)v) : json_null();
}

/* Sets key of o to a new reference of v when v is present. */
static void copy(json_t *o, const char *key, const json_t *v)
{
    if (v != NULL && !json_is_null(v))
        json_object_set(o, key, (json_t *)v);
}

static json_t *otlp_span(const json_t *s)
{
    const json_t *ctx = json_object_get(s, "context");
    int old = json_is_object(ctx); /* the 2.x shape */
    json_t *o = json_object();
    json_object_set_new(
        o, "traceId",
        file_id(old ? json_object_get(ctx, "trace_id") : json_object_get(s, "trace_id")));
    json_object_set_new(
        o, "spanId",
        file_id(old ? json_object_get(ctx, "span_id") : json_object_get(s, "span_id")));
    json_t *parent = file_id(json_object_get(s, old ? "parent_id" : "parent_span_id"));
    if (json_is_null(parent))
        json_decref(parent);
    else
        json_object_set_new(o, "parentSpanId", parent);
    copy(o, "name", json_object_get(s, "name"));
    copy(o, "traceState", json_object_get(s, "trace_state"));
    copy(o, "startTimeUnixNano", json_object_get(s, old ? "start_time" : "start_time_unix_nano"));
    copy(o, "endTimeUnixNano", json_object_get(s, old ? "end_time" : "end_time_unix_nano"));
    json_t *status = json_object();
    if (old) {
        copy(status, "code", json_object_get(s, "status_code"));
        copy(status, "message", json_object_get(s, "status_message"));
    } else if (json_is_object(json_object_get(s, "status"))) {
        copy(status, "code", json_object_get(json_object_get(s, "status"), "code"));
        copy(status, "message", json_object_get(json_object_get(s, "status"), "message"));
    }
    json_object_set_new(o, "status", status);
    json_object_set_new(o, "attributes", key_values(json_object_get(s, "attributes")));
    const json_t *events = json_object_get(s, "events");
    json_t *ev = json_array();
    for (size_t i = 0; i < json_array_size(events); i++) {
        const json_t *e = json_array_get(events, i);
        json_t *x = json_object();
        copy(x, "name", json_object_get(e, "name"));
        copy(x, "timeUnixNano", json_object_get(e, old ? "timestamp" : "time_unix_nano"));
        json_object_set_new(x, "attributes", key_values(json_object_get(e, "attributes")));
        json_array_append_new(ev, x);
    }
    json_object_set_new(o, "events", ev);
    return o;
}

void api_traces_span_file(const char *trace_id, const char *text, size_t len)
{
    struct arena arena;
    struct span_batch batch;
    char err[600];
    json_t *otlp = NULL;

    arena_init(&arena);
    json_t *doc = json_loadb(text, len, 0, NULL);
    const json_t *spans = json_object_get(doc, "spans");
    if (!json_is_array(spans)) {
        log_info(
            "traces.json of trace %s: not a {\"spans\": [...]} document; stored as a file only",
            trace_id);
        goto out;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < json_array_size(spans); i++)
        if (json_is_object(json_array_get(spans, i)))
            json_array_append_new(list, otlp_span(json_array_get(spans, i)));
    otlp = json_pack("{s:[{s:[{s:o}]}]}", "resourceSpans", "scopeSpans", "spans", list);
    if (json_array_size(list) > 0 &&
        span_batch_decode(otlp, &arena, &batch, err, sizeof err) != 0) {
        log_info("traces.json of trace %s: spans not stored: %s", trace_id, err);
        goto out;
    }
    /* the file replaces the trace's spans: all of them or none */
    if (json_array_size(list) > 0 && batch.nrejected > 0) {
        log_info("traces.json of trace %s: spans not stored: %s", trace_id, batch.reject_reason);
        goto out;
    }
    if (json_array_size(list) > 0 && batch.ntraces != 1) {
        log_info("traces.json of trace %s: spans of %zu traces; not stored", trace_id,
                 batch.ntraces);
        goto out;
    }
    size_t n = json_array_size(list) > 0 ? batch.nspans : 0;
    for (size_t i = 0; i < n; i++)
        batch.spans[i].trace_id = trace_id;
    int rc = store_spans_replace(trace_id, n ? batch.spans : NULL, n);
    if (rc != DB_OK)
        log_info("traces.json of trace %s: spans not stored (store status %d)", trace_id, rc);
out:
    json_decref(otlp);
    json_decref(doc);
    arena_cleanup(&arena);
}
