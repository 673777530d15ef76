/* ExportTraceServiceRequest (protobuf) -> OTLP/JSON (otlp.h): the scan of
 * scan.c first, then protobuf-c's unpack under an allocation budget, then
 * a walk of the unpacked messages that builds the JSON. */
#include "otlp.h"

#include <math.h>
#include <stdalign.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/trace/v1/trace_service.pb-c.h"
#include "core/b64.h"
#include "scan.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest pb_request;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans pb_resource_spans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans pb_scope_spans;
typedef Opentelemetry__Proto__Trace__V1__Span pb_span;
typedef Opentelemetry__Proto__Trace__V1__Span__Event pb_event;
typedef Opentelemetry__Proto__Trace__V1__Span__Link pb_link;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_key_value;
typedef Opentelemetry__Proto__Common__V1__AnyValue pb_any_value;

/* Bytes protobuf-c may ask for per field occurrence the scan counted: the
 * message struct or unknown-field record it makes, its slot in a repeated
 * array, and the scratch records of the parse, which an arena does not
 * give back (the largest struct, Span, is about 200 bytes but needs at
 * least two fields). Strings and bytes are copied, so the body's length
 * counts twice. tests/unit/test_otlp.c decodes the densest shapes. */
#define BUDGET_PER_FIELD 192
#define BUDGET_SLACK (1u << 20)

/* protobuf-c's allocations for one unpack: bump allocation from blocks
 * malloc'ed as the unpack needs them (the first 256 KiB, each next one
 * twice the last, at most 8 MiB, or the one allocation when it is bigger),
 * all freed at the end instead of once per message. What is reserved
 * follows what the request really needs; the limit (the estimate from the
 * scan, never more than OTLP_MAX_DECODE) bounds the blocks' total. */
#define BLOCK_FIRST (256u << 10)
#define BLOCK_MAX (8u << 20)

struct block {
    struct block *prev;
    size_t size; /* usable bytes after the header */
    size_t used;
    max_align_t data[];
};

struct budget {
    struct block *top;
    size_t limit;    /* the most the blocks may hold in all */
    size_t reserved; /* what they hold */
    int over;        /* an allocation was refused: past the limit, or out of memory */
};

static void *budget_alloc(void *data, size_t size)
{
    struct budget *b = data;
    const size_t align = alignof(max_align_t);
    if (size > b->limit) {
        b->over = 1;
        return NULL;
    }
    size = (size + align - 1) & ~(align - 1);
    struct block *t = b->top;
    if (t == NULL || size > t->size - t->used) {
        size_t want = t == NULL ? BLOCK_FIRST : (t->size < BLOCK_MAX ? 2 * t->size : BLOCK_MAX);
        if (want < size)
            want = size;
        if (want > b->limit - b->reserved)
            want = b->limit - b->reserved;
        struct block *n = want < size ? NULL : malloc(sizeof *n + want);
        if (n == NULL) {
            b->over = 1;
            return NULL;
        }
        n->prev = t;
        n->size = want;
        n->used = 0;
        b->top = t = n;
        b->reserved += want;
    }
    void *p = (unsigned char *)t->data + t->used;
    t->used += size;
    return p;
}

static void budget_free(void *data, void *ptr)
{
    (void)data;
    (void)ptr; /* everything goes with the blocks */
}

static void budget_release(struct budget *b)
{
    while (b->top != NULL) {
        struct block *prev = b->top->prev;
        free(b->top);
        b->top = prev;
    }
    b->reserved = 0;
}

static json_t *hex_string(const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char buf[2 * 16 + 1];
    if (n > 16)
        n = 16; /* ids only; the scan checked their length */
    for (size_t i = 0; i < n; i++) {
        buf[2 * i] = digits[p[i] >> 4];
        buf[2 * i + 1] = digits[p[i] & 15];
    }
    return json_stringn(buf, 2 * n);
}

static json_t *u64_string(uint64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%" PRIu64, v);
    return json_stringn(buf, (size_t)n);
}

static json_t *i64_string(int64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%" PRId64, v);
    return json_stringn(buf, (size_t)n);
}

/* A string field the scan found to be UTF-8 without NUL. */
static json_t *text(const char *s)
{
    return json_string_nocheck(s != NULL ? s : "");
}

static json_t *key_values(size_t n, pb_key_value **kvs);

static json_t *any_value(const pb_any_value *v)
{
    json_t *o = json_object();
    if (v == NULL)
        return o;
    switch (v->value_case) {
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
        json_object_set_new_nocheck(o, "stringValue", text(v->string_value));
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
        json_object_set_new_nocheck(o, "boolValue", json_boolean(v->bool_value));
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
        json_object_set_new_nocheck(o, "intValue", i64_string(v->int_value));
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
        if (isnan(v->double_value))
            json_object_set_new_nocheck(o, "doubleValue", json_string("NaN"));
        else if (isinf(v->double_value))
            json_object_set_new_nocheck(
                o, "doubleValue", json_string(v->double_value > 0 ? "Infinity" : "-Infinity"));
        else
            json_object_set_new_nocheck(o, "doubleValue", json_real(v->double_value));
        break;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE: {
        json_t *values = json_array();
        const Opentelemetry__Proto__Common__V1__ArrayValue *a = v->array_value;
        for (size_t i = 0; a != NULL && i < a->n_values; i++)
            json_array_append_new(values, any_value(a->values[i]));
        json_t *wrap = json_object();
        json_object_set_new_nocheck(wrap, "values", values);
        json_object_set_new_nocheck(o, "arrayValue", wrap);
        break;
    }
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE: {
        const Opentelemetry__Proto__Common__V1__KeyValueList *l = v->kvlist_value;
        json_t *wrap = json_object();
        json_object_set_new_nocheck(wrap, "values",
                                    l != NULL ? key_values(l->n_values, l->values) : json_array());
        json_object_set_new_nocheck(o, "kvlistValue", wrap);
        break;
    }
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE: {
        char *s = b64_encode_new(v->bytes_value.data, v->bytes_value.len);
        json_object_set_new_nocheck(o, "bytesValue", json_string_nocheck(s));
        free(s);
        break;
    }
    default:
        break;
    }
    return o;
}

static json_t *key_values(size_t n, pb_key_value **kvs)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *kv = json_object();
        json_object_set_new_nocheck(kv, "key", text(kvs[i]->key));
        json_object_set_new_nocheck(kv, "value", any_value(kvs[i]->value));
        json_array_append_new(a, kv);
    }
    return a;
}

static json_t *event(const pb_event *e)
{
    json_t *o = json_object();
    json_object_set_new_nocheck(o, "timeUnixNano", u64_string(e->time_unix_nano));
    json_object_set_new_nocheck(o, "name", text(e->name));
    json_object_set_new_nocheck(o, "attributes", key_values(e->n_attributes, e->attributes));
    if (e->dropped_attributes_count > 0)
        json_object_set_new_nocheck(o, "droppedAttributesCount",
                                    json_integer(e->dropped_attributes_count));
    return o;
}

static json_t *link(const pb_link *l)
{
    json_t *o = json_object();
    json_object_set_new_nocheck(o, "traceId", hex_string(l->trace_id.data, l->trace_id.len));
    json_object_set_new_nocheck(o, "spanId", hex_string(l->span_id.data, l->span_id.len));
    if (l->trace_state != NULL && l->trace_state[0] != '\0')
        json_object_set_new_nocheck(o, "traceState", text(l->trace_state));
    json_object_set_new_nocheck(o, "attributes", key_values(l->n_attributes, l->attributes));
    if (l->flags != 0)
        json_object_set_new_nocheck(o, "flags", json_integer(l->flags));
    return o;
}

static json_t *span(const pb_span *s)
{
    json_t *o = json_object();
    json_object_set_new_nocheck(o, "traceId", hex_string(s->trace_id.data, s->trace_id.len));
    json_object_set_new_nocheck(o, "spanId", hex_string(s->span_id.data, s->span_id.len));
    if (s->parent_span_id.len > 0)
        json_object_set_new_nocheck(o, "parentSpanId",
                                    hex_string(s->parent_span_id.data, s->parent_span_id.len));
    if (s->trace_state != NULL && s->trace_state[0] != '\0')
        json_object_set_new_nocheck(o, "traceState", text(s->trace_state));
    if (s->flags != 0)
        json_object_set_new_nocheck(o, "flags", json_integer(s->flags));
    json_object_set_new_nocheck(o, "name", text(s->name));
    json_object_set_new_nocheck(o, "kind", json_integer((json_int_t)s->kind));
    json_object_set_new_nocheck(o, "startTimeUnixNano", u64_string(s->start_time_unix_nano));
    json_object_set_new_nocheck(o, "endTimeUnixNano", u64_string(s->end_time_unix_nano));
    json_object_set_new_nocheck(o, "attributes", key_values(s->n_attributes, s->attributes));
    json_t *events = json_array();
    for (size_t i = 0; i < s->n_events; i++)
        json_array_append_new(events, event(s->events[i]));
    json_object_set_new_nocheck(o, "events", events);
    json_t *links = json_array();
    for (size_t i = 0; i < s->n_links; i++)
        json_array_append_new(links, link(s->links[i]));
    json_object_set_new_nocheck(o, "links", links);
    json_t *status = json_object();
    json_object_set_new_nocheck(status, "code",
                                json_integer(s->status != NULL ? (json_int_t)s->status->code : 0));
    if (s->status != NULL && s->status->message != NULL && s->status->message[0] != '\0')
        json_object_set_new_nocheck(status, "message", text(s->status->message));
    json_object_set_new_nocheck(o, "status", status);
    return o;
}

static json_t *scope_spans(const pb_scope_spans *ss)
{
    json_t *o = json_object();
    json_t *scope = json_object();
    json_object_set_new_nocheck(scope, "name", text(ss->scope != NULL ? ss->scope->name : ""));
    json_object_set_new_nocheck(scope, "version",
                                text(ss->scope != NULL ? ss->scope->version : ""));
    if (ss->scope != NULL && ss->scope->n_attributes > 0)
        json_object_set_new_nocheck(scope, "attributes",
                                    key_values(ss->scope->n_attributes, ss->scope->attributes));
    json_object_set_new_nocheck(o, "scope", scope);
    json_t *spans = json_array();
    for (size_t i = 0; i < ss->n_spans; i++)
        json_array_append_new(spans, span(ss->spans[i]));
    json_object_set_new_nocheck(o, "spans", spans);
    if (ss->schema_url != NULL && ss->schema_url[0] != '\0')
        json_object_set_new_nocheck(o, "schemaUrl", text(ss->schema_url));
    return o;
}

static json_t *resource_spans(const pb_resource_spans *rs)
{
    json_t *o = json_object();
    json_t *resource = json_object();
    json_object_set_new_nocheck(
        resource, "attributes",
        rs->resource != NULL ? key_values(rs->resource->n_attributes, rs->resource->attributes)
                             : json_array());
    json_object_set_new_nocheck(o, "resource", resource);
    json_t *list = json_array();
    for (size_t i = 0; i < rs->n_scope_spans; i++)
        json_array_append_new(list, scope_spans(rs->scope_spans[i]));
    json_object_set_new_nocheck(o, "scopeSpans", list);
    if (rs->schema_url != NULL && rs->schema_url[0] != '\0')
        json_object_set_new_nocheck(o, "schemaUrl", text(rs->schema_url));
    return o;
}

int otlp_protobuf_to_json(const uint8_t *body, size_t len, json_t **out, char *err, size_t errlen)
{
    struct otlp_scan counts;
    *out = NULL;
    if (otlp_scan_request(body, len, &counts, err, errlen) < 0)
        return -1;

    struct budget budget = {
        .limit = BUDGET_SLACK + 2 * len + BUDGET_PER_FIELD * counts.fields,
    };
    if (budget.limit > OTLP_MAX_DECODE)
        budget.limit = OTLP_MAX_DECODE;
    ProtobufCAllocator allocator = {
        .alloc = budget_alloc,
        .free = budget_free,
        .allocator_data = &budget,
    };
    static const uint8_t empty[1] = {0};
    pb_request *req =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
            &allocator, len, len > 0 ? body : empty);
    if (req == NULL) {
        budget_release(&budget);
        if (budget.over)
            snprintf(err, errlen,
                     "the request needs more than %zu bytes of memory to decode (too many "
                     "small fields for its size; the most is %d MiB)",
                     budget.limit, OTLP_MAX_DECODE >> 20);
        else
            snprintf(err, errlen, "malformed protobuf: not an ExportTraceServiceRequest");
        return -1;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < req->n_resource_spans; i++)
        json_array_append_new(list, resource_spans(req->resource_spans[i]));
    budget_release(&budget); /* the unpacked request, whole */
    *out = json_object();
    json_object_set_new_nocheck(*out, "resourceSpans", list);
    return 0;
}
