/* Unit tests for server/traces/otlp: requests packed with protobuf-c's
 * generated code decoded back into OTLP/JSON (every AnyValue kind, nested
 * kvlists, events, links, a root span, proto3 defaults), malformed and
 * hostile bodies refused with their reason, the response encoding, and
 * Content-Encoding (gzip, zlib and raw deflate, corrupt data, a zip bomb). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "collector/trace/v1/trace_service.pb-c.h"
#include "traces/json_text.h"
#include "traces/otlp/otlp.h"
#include "traces/span_writer.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest pb_request;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans pb_resource_spans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans pb_scope_spans;
typedef Opentelemetry__Proto__Resource__V1__Resource pb_resource;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope pb_scope;
typedef Opentelemetry__Proto__Trace__V1__Span pb_span;
typedef Opentelemetry__Proto__Trace__V1__Span__Event pb_event;
typedef Opentelemetry__Proto__Trace__V1__Span__Link pb_link;
typedef Opentelemetry__Proto__Trace__V1__Status pb_status;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_kv;
typedef Opentelemetry__Proto__Common__V1__AnyValue pb_any;
typedef Opentelemetry__Proto__Common__V1__ArrayValue pb_array;
typedef Opentelemetry__Proto__Common__V1__KeyValueList pb_kvlist;

#define ANY_INIT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT
#define KV_INIT OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT
#define SPAN_INIT OPENTELEMETRY__PROTO__TRACE__V1__SPAN__INIT
#define VALUE(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x

static uint8_t trace_id[16] = {0x5b, 0x8e, 0xfa, 0xff, 0x79, 0x8d, 0x00, 0x01,
                               0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
static uint8_t span_a[8] = {0xeb, 0xf7, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60};
static uint8_t span_b[8] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0xff};

/* A span with the fixed ids, the given name and parent (NULL: a root). */
static void span_init(pb_span *s, const uint8_t *id, const uint8_t *parent, const char *name)
{
    pb_span init = SPAN_INIT;
    *s = init;
    s->trace_id.data = trace_id;
    s->trace_id.len = sizeof trace_id;
    s->span_id.data = (uint8_t *)id;
    s->span_id.len = 8;
    if (parent != NULL) {
        s->parent_span_id.data = (uint8_t *)parent;
        s->parent_span_id.len = 8;
    }
    s->name = (char *)name;
}

/* Packs the n spans into one request (one resource with service.name, one
 * scope). Returns a new buffer (free()), its length in *len. */
static uint8_t *pack_spans(pb_span **spans, size_t n, size_t *len)
{
    pb_any svc = ANY_INIT;
    svc.value_case = VALUE(STRING_VALUE);
    svc.string_value = "checkout";
    pb_kv svc_kv = KV_INIT;
    svc_kv.key = "service.name";
    svc_kv.value = &svc;
    pb_kv *res_attrs[] = {&svc_kv};
    pb_resource resource = OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
    resource.n_attributes = 1;
    resource.attributes = res_attrs;
    pb_scope scope = OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
    scope.name = "unit";
    scope.version = "1.2.3";
    pb_scope_spans ss = OPENTELEMETRY__PROTO__TRACE__V1__SCOPE_SPANS__INIT;
    ss.scope = &scope;
    ss.n_spans = n;
    ss.spans = spans;
    pb_scope_spans *ss_list[] = {&ss};
    pb_resource_spans rs = OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
    rs.resource = &resource;
    rs.n_scope_spans = 1;
    rs.scope_spans = ss_list;
    pb_resource_spans *rs_list[] = {&rs};
    pb_request req = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    req.n_resource_spans = 1;
    req.resource_spans = rs_list;
    *len =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(
            &req);
    uint8_t *buf = malloc(*len + 1);
    assert_non_null(buf);
    size_t n_packed =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(&req, buf);
    assert_int_equal(n_packed, *len);
    return buf;
}

/* Decodes and expects success; returns the JSON. */
static json_t *decode_ok(const uint8_t *buf, size_t len)
{
    json_t *out = NULL;
    char err[512] = "";
    int rc = otlp_protobuf_to_json(buf, len, &out, err, sizeof err);
    if (rc != 0)
        fail_msg("decode failed: %s", err);
    assert_non_null(out);
    return out;
}

/* Decodes, expects -1 and an error containing want. */
static void decode_fails(const uint8_t *buf, size_t len, const char *want)
{
    json_t *out = (json_t *)1;
    char err[512] = "";
    assert_int_equal(otlp_protobuf_to_json(buf, len, &out, err, sizeof err), -1);
    assert_null(out);
    if (strstr(err, want) == NULL)
        fail_msg("error \"%s\" does not contain \"%s\"", err, want);
}

/* Span i of the first scope of the first resource. */
static json_t *first_span(json_t *doc, size_t i)
{
    json_t *rs = json_array_get(json_object_get(doc, "resourceSpans"), 0);
    json_t *ss = json_array_get(json_object_get(rs, "scopeSpans"), 0);
    return json_array_get(json_object_get(ss, "spans"), i);
}

/* The value of attribute key in a JSON attribute list. */
static json_t *attr(json_t *list, const char *key)
{
    size_t i;
    json_t *kv;
    json_array_foreach(list, i, kv)
    {
        if (strcmp(json_string_value(json_object_get(kv, "key")), key) == 0)
            return json_object_get(kv, "value");
    }
    fail_msg("no attribute %s", key);
    return NULL;
}

static void every_value_kind(void **state)
{
    (void)state;
    pb_any v_str = ANY_INIT, v_bool = ANY_INIT, v_int = ANY_INIT, v_dbl = ANY_INIT,
           v_nan = ANY_INIT, v_arr = ANY_INIT, v_kvl = ANY_INIT, v_bytes = ANY_INIT,
           v_empty = ANY_INIT, v_inner = ANY_INIT, v_deep = ANY_INIT, a0 = ANY_INIT, a1 = ANY_INIT;
    v_str.value_case = VALUE(STRING_VALUE);
    v_str.string_value = "h\xc3\xa9llo \xf0\x9f\x98\x80";
    v_bool.value_case = VALUE(BOOL_VALUE);
    v_bool.bool_value = 1;
    v_int.value_case = VALUE(INT_VALUE);
    v_int.int_value = INT64_MIN;
    v_dbl.value_case = VALUE(DOUBLE_VALUE);
    v_dbl.double_value = 0.25;
    v_nan.value_case = VALUE(DOUBLE_VALUE);
    v_nan.double_value = -INFINITY;
    a0.value_case = VALUE(STRING_VALUE);
    a0.string_value = "x";
    a1.value_case = VALUE(INT_VALUE);
    a1.int_value = 9007199254740993LL; /* not exact as a double */
    pb_any *arr_items[] = {&a0, &a1};
    pb_array arr = OPENTELEMETRY__PROTO__COMMON__V1__ARRAY_VALUE__INIT;
    arr.n_values = 2;
    arr.values = arr_items;
    v_arr.value_case = VALUE(ARRAY_VALUE);
    v_arr.array_value = &arr;
    /* kvlist {outer: {inner: true}, plain: "p"} */
    v_deep.value_case = VALUE(BOOL_VALUE);
    v_deep.bool_value = 1;
    pb_kv deep_kv = KV_INIT;
    deep_kv.key = "inner";
    deep_kv.value = &v_deep;
    pb_kv *inner_items[] = {&deep_kv};
    pb_kvlist inner = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE_LIST__INIT;
    inner.n_values = 1;
    inner.values = inner_items;
    v_inner.value_case = VALUE(KVLIST_VALUE);
    v_inner.kvlist_value = &inner;
    pb_kv outer_kv = KV_INIT, plain_kv = KV_INIT;
    outer_kv.key = "outer";
    outer_kv.value = &v_inner;
    plain_kv.key = "plain";
    plain_kv.value = &a0;
    pb_kv *outer_items[] = {&outer_kv, &plain_kv};
    pb_kvlist outer = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE_LIST__INIT;
    outer.n_values = 2;
    outer.values = outer_items;
    v_kvl.value_case = VALUE(KVLIST_VALUE);
    v_kvl.kvlist_value = &outer;
    v_bytes.value_case = VALUE(BYTES_VALUE);
    v_bytes.bytes_value.data = (uint8_t *)"foobar";
    v_bytes.bytes_value.len = 6;

    pb_kv kvs[9];
    const char *keys[] = {"s", "b", "i", "d", "inf", "arr", "kvl", "bytes", "empty"};
    pb_any *vals[] = {&v_str, &v_bool, &v_int, &v_dbl, &v_nan, &v_arr, &v_kvl, &v_bytes, &v_empty};
    pb_kv *kv_ptrs[9];
    for (int i = 0; i < 9; i++) {
        pb_kv init = KV_INIT;
        kvs[i] = init;
        kvs[i].key = (char *)keys[i];
        kvs[i].value = vals[i];
        kv_ptrs[i] = &kvs[i];
    }

    pb_event ev = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__EVENT__INIT;
    ev.time_unix_nano = 1700000000123456789ULL;
    ev.name = "exception";
    ev.n_attributes = 1;
    ev.attributes = kv_ptrs;
    pb_event *events[] = {&ev};
    pb_link ln = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__LINK__INIT;
    ln.trace_id.data = trace_id;
    ln.trace_id.len = 16;
    ln.span_id.data = span_b;
    ln.span_id.len = 8;
    ln.trace_state = "k=v";
    pb_link *links[] = {&ln};
    pb_status st = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__INIT;
    st.code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
    st.message = "boom";

    pb_span child, root;
    span_init(&child, span_a, span_b, "llm call");
    child.kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT;
    child.start_time_unix_nano = 18446744073709551615ULL;
    child.end_time_unix_nano = 1700000000999999999ULL;
    child.n_attributes = 9;
    child.attributes = kv_ptrs;
    child.n_events = 1;
    child.events = events;
    child.n_links = 1;
    child.links = links;
    child.status = &st;
    child.trace_state = "vendor=1";
    span_init(&root, span_b, NULL, ""); /* every other field at its proto3 default */
    pb_span *spans[] = {&child, &root};

    size_t len;
    uint8_t *buf = pack_spans(spans, 2, &len);
    json_t *doc = decode_ok(buf, len);
    free(buf);

    json_t *rs = json_array_get(json_object_get(doc, "resourceSpans"), 0);
    assert_string_equal(
        json_string_value(json_object_get(
            attr(json_object_get(json_object_get(rs, "resource"), "attributes"), "service.name"),
            "stringValue")),
        "checkout");
    json_t *scope = json_object_get(json_array_get(json_object_get(rs, "scopeSpans"), 0), "scope");
    assert_string_equal(json_string_value(json_object_get(scope, "name")), "unit");
    assert_string_equal(json_string_value(json_object_get(scope, "version")), "1.2.3");

    json_t *s = first_span(doc, 0);
    assert_string_equal(json_string_value(json_object_get(s, "traceId")),
                        "5b8efaff798d00010203040506070809");
    assert_string_equal(json_string_value(json_object_get(s, "spanId")), "ebf7102030405060");
    assert_string_equal(json_string_value(json_object_get(s, "parentSpanId")), "01020304050607ff");
    assert_string_equal(json_string_value(json_object_get(s, "traceState")), "vendor=1");
    assert_string_equal(json_string_value(json_object_get(s, "name")), "llm call");
    assert_int_equal(json_integer_value(json_object_get(s, "kind")), 3);
    assert_string_equal(json_string_value(json_object_get(s, "startTimeUnixNano")),
                        "18446744073709551615");
    assert_string_equal(json_string_value(json_object_get(s, "endTimeUnixNano")),
                        "1700000000999999999");
    json_t *attrs = json_object_get(s, "attributes");
    assert_int_equal(json_array_size(attrs), 9);
    assert_string_equal(json_string_value(json_object_get(attr(attrs, "s"), "stringValue")),
                        "h\xc3\xa9llo \xf0\x9f\x98\x80");
    assert_true(json_is_true(json_object_get(attr(attrs, "b"), "boolValue")));
    assert_string_equal(json_string_value(json_object_get(attr(attrs, "i"), "intValue")),
                        "-9223372036854775808");
    assert_true(json_real_value(json_object_get(attr(attrs, "d"), "doubleValue")) == 0.25);
    assert_string_equal(json_string_value(json_object_get(attr(attrs, "inf"), "doubleValue")),
                        "-Infinity");
    json_t *items = json_object_get(json_object_get(attr(attrs, "arr"), "arrayValue"), "values");
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "stringValue")),
                        "x");
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 1), "intValue")),
                        "9007199254740993");
    json_t *kvl = json_object_get(json_object_get(attr(attrs, "kvl"), "kvlistValue"), "values");
    json_t *outer_v = attr(kvl, "outer");
    json_t *inner_l = json_object_get(json_object_get(outer_v, "kvlistValue"), "values");
    assert_true(json_is_true(json_object_get(attr(inner_l, "inner"), "boolValue")));
    assert_string_equal(json_string_value(json_object_get(attr(kvl, "plain"), "stringValue")), "x");
    assert_string_equal(json_string_value(json_object_get(attr(attrs, "bytes"), "bytesValue")),
                        "Zm9vYmFy");
    assert_int_equal(json_object_size(attr(attrs, "empty")), 0);

    json_t *e = json_array_get(json_object_get(s, "events"), 0);
    assert_string_equal(json_string_value(json_object_get(e, "timeUnixNano")),
                        "1700000000123456789");
    assert_string_equal(json_string_value(json_object_get(e, "name")), "exception");
    assert_int_equal(json_array_size(json_object_get(e, "attributes")), 1);
    json_t *l = json_array_get(json_object_get(s, "links"), 0);
    assert_string_equal(json_string_value(json_object_get(l, "traceId")),
                        "5b8efaff798d00010203040506070809");
    assert_string_equal(json_string_value(json_object_get(l, "spanId")), "01020304050607ff");
    assert_string_equal(json_string_value(json_object_get(l, "traceState")), "k=v");
    json_t *status = json_object_get(s, "status");
    assert_int_equal(json_integer_value(json_object_get(status, "code")), 2);
    assert_string_equal(json_string_value(json_object_get(status, "message")), "boom");

    /* the root: no parent, proto3 defaults as zero values, optional members absent */
    json_t *r = first_span(doc, 1);
    assert_null(json_object_get(r, "parentSpanId"));
    assert_null(json_object_get(r, "traceState"));
    assert_null(json_object_get(r, "flags"));
    assert_string_equal(json_string_value(json_object_get(r, "name")), "");
    assert_int_equal(json_integer_value(json_object_get(r, "kind")), 0);
    assert_string_equal(json_string_value(json_object_get(r, "startTimeUnixNano")), "0");
    assert_int_equal(json_array_size(json_object_get(r, "attributes")), 0);
    assert_int_equal(json_array_size(json_object_get(r, "events")), 0);
    assert_int_equal(json_array_size(json_object_get(r, "links")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "status"), "code")), 0);
    assert_null(json_object_get(json_object_get(r, "status"), "message"));
    json_decref(doc);
}

static void empty_request(void **state)
{
    (void)state;
    json_t *doc = decode_ok((const uint8_t *)"", 0);
    assert_int_equal(json_array_size(json_object_get(doc, "resourceSpans")), 0);
    json_decref(doc);
    /* an unknown field (number 9, varint) is skipped */
    static const uint8_t unknown[] = {0x48, 0x01};
    doc = decode_ok(unknown, sizeof unknown);
    assert_int_equal(json_array_size(json_object_get(doc, "resourceSpans")), 0);
    json_decref(doc);
}

/* A packed one-span request whose span is modified by edit. */
static uint8_t *one_span(void (*edit)(pb_span *), size_t *len)
{
    pb_span s;
    span_init(&s, span_a, NULL, "span-name-xyz");
    if (edit != NULL)
        edit(&s);
    pb_span *spans[] = {&s};
    return pack_spans(spans, 1, len);
}

static void short_trace_id(pb_span *s)
{
    s->trace_id.len = 15;
}
static void short_span_id(pb_span *s)
{
    s->span_id.len = 7;
}
static void no_span_id(pb_span *s)
{
    s->span_id.len = 0;
}
static void long_parent(pb_span *s)
{
    s->parent_span_id.data = trace_id;
    s->parent_span_id.len = 9;
}
static void zero_trace_id(pb_span *s)
{
    static uint8_t zeros[16];
    s->trace_id.data = zeros;
}
static void bad_utf8_name(pb_span *s)
{
    s->name = "caf\xc3"; /* truncated sequence */
}
static void surrogate_name(pb_span *s)
{
    s->name = "\xed\xa0\x80"; /* U+D800 encoded */
}
static void overlong_name(pb_span *s)
{
    s->name = "\xc0\xaf";
}

static uint8_t *find_bytes(uint8_t *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return hay + i;
    return NULL;
}

static void malformed(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf;

    /* truncated varint: a tag whose continuation bit promises more */
    static const uint8_t trunc_tag[] = {0x8a};
    decode_fails(trunc_tag, sizeof trunc_tag, "truncated");
    /* resourceSpans with a length varint cut short */
    static const uint8_t trunc_len[] = {0x0a, 0xff};
    decode_fails(trunc_len, sizeof trunc_len, "truncated");
    /* a length past the end */
    static const uint8_t past_end[] = {0x0a, 0x05, 0x00};
    decode_fails(past_end, sizeof past_end, "runs past its end");
    /* an eleven-byte varint */
    static const uint8_t overlong[] = {0x48, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    decode_fails(overlong, sizeof overlong, "varint");
    /* resourceSpans as a varint: wrong wire type */
    static const uint8_t wrong_wire[] = {0x08, 0x01};
    decode_fails(wrong_wire, sizeof wrong_wire, "wire type 0, expected 2");
    /* a group (wire type 3) */
    static const uint8_t group[] = {0x4b, 0x4c};
    decode_fails(group, sizeof group, "wire type 3");
    /* field number 0 */
    static const uint8_t zero_field[] = {0x02, 0x00};
    decode_fails(zero_field, sizeof zero_field, "field number 0");
    /* a 64-bit field cut short */
    static const uint8_t trunc64[] = {0x49, 0x00, 0x00};
    decode_fails(trunc64, sizeof trunc64, "truncated 64-bit");

    /* a truncated real request */
    buf = one_span(NULL, &len);
    decode_fails(buf, len - 3, "malformed protobuf");
    free(buf);

    buf = one_span(short_trace_id, &len);
    decode_fails(buf, len,
                 "id of 15 bytes, expected 16 at resourceSpans.scopeSpans.spans[0].traceId");
    free(buf);
    buf = one_span(short_span_id, &len);
    decode_fails(buf, len, "id of 7 bytes, expected 8");
    free(buf);
    buf = one_span(no_span_id, &len);
    decode_fails(buf, len, "Span has no spanId");
    free(buf);
    buf = one_span(long_parent, &len);
    decode_fails(buf, len, "id of 9 bytes, expected 8 or none");
    free(buf);
    buf = one_span(zero_trace_id, &len);
    decode_fails(buf, len, "all zeros");
    free(buf);
    buf = one_span(bad_utf8_name, &len);
    decode_fails(buf, len, "not valid UTF-8");
    free(buf);
    buf = one_span(surrogate_name, &len);
    decode_fails(buf, len, "not valid UTF-8");
    free(buf);
    buf = one_span(overlong_name, &len);
    decode_fails(buf, len, "not valid UTF-8");
    free(buf);

    /* a NUL inside a string (protobuf-c would cut the string there) */
    buf = one_span(NULL, &len);
    uint8_t *at = find_bytes(buf, len, "xyz");
    assert_non_null(at);
    at[1] = 0;
    decode_fails(buf, len, "contains NUL");
    free(buf);
}

/* An attribute whose value is arrays nested depth levels deep. */
static uint8_t *nested(int depth, size_t *len)
{
    pb_any *vals = calloc((size_t)depth, sizeof *vals);
    pb_array *arrs = calloc((size_t)depth, sizeof *arrs);
    pb_any **slots = calloc((size_t)depth, sizeof *slots);
    assert_non_null(vals);
    for (int i = 0; i < depth; i++) {
        pb_any a = ANY_INIT;
        pb_array ar = OPENTELEMETRY__PROTO__COMMON__V1__ARRAY_VALUE__INIT;
        vals[i] = a;
        arrs[i] = ar;
        if (i + 1 < depth) {
            vals[i].value_case = VALUE(ARRAY_VALUE);
            vals[i].array_value = &arrs[i];
            slots[i] = &vals[i + 1];
            arrs[i].n_values = 1;
            arrs[i].values = &slots[i];
        } else {
            vals[i].value_case = VALUE(BOOL_VALUE);
            vals[i].bool_value = 1;
        }
    }
    pb_kv kv = KV_INIT;
    kv.key = "deep";
    kv.value = &vals[0];
    pb_kv *kvp[] = {&kv};
    pb_span s;
    span_init(&s, span_a, NULL, "n");
    s.n_attributes = 1;
    s.attributes = kvp;
    pb_span *spans[] = {&s};
    uint8_t *buf = pack_spans(spans, 1, len);
    free(vals);
    free(arrs);
    free(slots);
    return buf;
}

static void limits(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = nested(OTLP_MAX_DEPTH, &len);
    json_t *doc = decode_ok(buf, len);
    json_t *v = attr(json_object_get(first_span(doc, 0), "attributes"), "deep");
    for (int i = 1; i < OTLP_MAX_DEPTH; i++)
        v = json_array_get(json_object_get(json_object_get(v, "arrayValue"), "values"), 0);
    assert_true(json_is_true(json_object_get(v, "boolValue")));
    json_decref(doc);
    free(buf);
    buf = nested(OTLP_MAX_DEPTH + 1, &len);
    decode_fails(buf, len, "nested deeper than 32 levels");
    free(buf);
    buf = nested(5000, &len);
    decode_fails(buf, len, "nested deeper");
    free(buf);

    /* one span more than the cap */
    size_t n = OTLP_MAX_SPANS + 1;
    pb_span *spans = calloc(n, sizeof *spans);
    pb_span **ptrs = calloc(n, sizeof *ptrs);
    for (size_t i = 0; i < n; i++) {
        span_init(&spans[i], span_a, span_b, "s");
        ptrs[i] = &spans[i];
    }
    buf = pack_spans(ptrs, n, &len);
    decode_fails(buf, len, "more than 100000 spans");
    free(buf);
    buf = pack_spans(ptrs, n - 1, &len);
    doc = decode_ok(buf, len);
    json_t *rs = json_array_get(json_object_get(doc, "resourceSpans"), 0);
    json_t *ss = json_array_get(json_object_get(rs, "scopeSpans"), 0);
    assert_int_equal(json_array_size(json_object_get(ss, "spans")), OTLP_MAX_SPANS);
    json_decref(doc);
    free(buf);
    free(spans);
    free(ptrs);
}

/* The allocation budget must hold the worst legitimate shape: a span full
 * of empty attributes (two bytes each on the wire, a struct each unpacked). */
static void budget_fits_dense_input(void **state)
{
    (void)state;
    size_t n = 120000;
    pb_kv *kvs = calloc(n, sizeof *kvs);
    pb_kv **ptrs = calloc(n, sizeof *ptrs);
    for (size_t i = 0; i < n; i++) {
        pb_kv init = KV_INIT;
        kvs[i] = init;
        ptrs[i] = &kvs[i];
    }
    pb_span s;
    span_init(&s, span_a, NULL, "dense");
    s.n_attributes = n;
    s.attributes = ptrs;
    pb_span *spans[] = {&s};
    size_t len;
    uint8_t *buf = pack_spans(spans, 1, &len);
    json_t *doc = decode_ok(buf, len);
    assert_int_equal(json_array_size(json_object_get(first_span(doc, 0), "attributes")), n);
    json_decref(doc);
    free(buf);

    /* an array of empty values, and a span of empty events */
    n = 100000;
    pb_any *vals = calloc(n, sizeof *vals);
    pb_any **val_ptrs = calloc(n, sizeof *val_ptrs);
    pb_event *evs = calloc(n, sizeof *evs);
    pb_event **ev_ptrs = calloc(n, sizeof *ev_ptrs);
    for (size_t i = 0; i < n; i++) {
        pb_any a = ANY_INIT;
        pb_event e = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__EVENT__INIT;
        vals[i] = a;
        val_ptrs[i] = &vals[i];
        evs[i] = e;
        ev_ptrs[i] = &evs[i];
    }
    pb_array arr = OPENTELEMETRY__PROTO__COMMON__V1__ARRAY_VALUE__INIT;
    arr.n_values = n;
    arr.values = val_ptrs;
    pb_any top = ANY_INIT;
    top.value_case = VALUE(ARRAY_VALUE);
    top.array_value = &arr;
    pb_kv kv = KV_INIT;
    kv.key = "many";
    kv.value = &top;
    pb_kv *kvp[] = {&kv};
    span_init(&s, span_a, NULL, "dense");
    s.n_attributes = 1;
    s.attributes = kvp;
    s.n_events = n;
    s.events = ev_ptrs;
    buf = pack_spans(spans, 1, &len);
    doc = decode_ok(buf, len);
    json_t *sp = first_span(doc, 0);
    assert_int_equal(json_array_size(json_object_get(sp, "events")), n);
    json_t *many_v = attr(json_object_get(sp, "attributes"), "many");
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(many_v, "arrayValue"), "values")), n);
    json_decref(doc);
    free(buf);
    free(vals);
    free(val_ptrs);
    free(evs);
    free(ev_ptrs);

    /* and past OTLP_MAX_FIELDS it is refused before unpacking */
    n = OTLP_MAX_FIELDS + 1;
    uint8_t *many = malloc(2 * n);
    for (size_t i = 0; i < n; i++) {
        many[2 * i] = 0x48; /* unknown field 9, varint 0 */
        many[2 * i + 1] = 0x00;
    }
    decode_fails(many, 2 * n, "more than 2000000 protobuf fields");
    /* at the cap, the 4 MB of tiny fields would unpack into 147 MB (a
     * record each, kept, and the parse's scratch; measured with a counting
     * allocator): refused once the unpack has used OTLP_MAX_DECODE, where
     * the old up-front budget reserved 393 MB for it */
    decode_fails(many, 2 * (n - 1), "bytes of memory to decode");
    free(many);
    free(kvs);
    free(ptrs);
}

static void response(void **state)
{
    (void)state;
    uint8_t *out = (uint8_t *)1;
    size_t len = 99;
    assert_int_equal(otlp_response_protobuf(0, NULL, &out, &len), 0);
    assert_int_equal(len, 0);
    assert_null(out);
    assert_int_equal(otlp_response_protobuf(0, "", &out, &len), 0);
    assert_int_equal(len, 0);
    assert_int_equal(otlp_response_protobuf(-1, NULL, &out, &len), -1);

    assert_int_equal(otlp_response_protobuf(3, "3 spans had no parent", &out, &len), 0);
    assert_true(len > 0);
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *r =
        opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(NULL, len,
                                                                                          out);
    assert_non_null(r);
    assert_non_null(r->partial_success);
    assert_int_equal(r->partial_success->rejected_spans, 3);
    assert_string_equal(r->partial_success->error_message, "3 spans had no parent");
    opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(r,
                                                                                             NULL);
    free(out);

    /* a warning without rejected spans is still sent */
    assert_int_equal(otlp_response_protobuf(0, "slow down", &out, &len), 0);
    static const uint8_t want[] = {0x0a, 0x0b, 0x12, 0x09, 's', 'l', 'o',
                                   'w',  ' ',  'd',  'o',  'w', 'n'};
    assert_int_equal(len, sizeof want);
    assert_memory_equal(out, want, sizeof want);
    free(out);
}

/* jt_valid says what jansson's json_loads(JSON_DECODE_ANY) would accept:
 * it decides which traces.json attribute strings are kept as JSON text. */
static void json_text_valid(void **state)
{
    (void)state;
    static const char *const good[] = {
        "1",
        "-0",
        "1.5e-3",
        "\"x\"",
        " [1, {\"a\": null}] ",
        "true",
        "{}",
        "\"\\ud83c\\udf89 \\u00e9 \\\" \\/\"",
        "9223372036854775807",
        "-9223372036854775808",
        "{\"messages\": [{\"role\": \"user\"}]}",
        "\"h\xc3\xa9llo\"",
    };
    static const char *const bad[] = {
        "",
        " ",
        "LLM",
        "01",
        "1.",
        ".5",
        "-",
        "+1",
        "1e",
        "[1,]",
        "{\"a\" 1}",
        "{a: 1}",
        "[1] [2]",
        "\"\\u0000\"",
        "\"\\ud800\"",
        "\"\\udc00x\"",
        "\"\\x\"",
        "\"tab\tinside\"",
        "9223372036854775808",
        "-9223372036854775809",
        "1e400",
        "NaN",
        "nul",
        "\"\xc3\"",
        "\"\xed\xa0\x80\"",
        "\"unterminated",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(jt_valid(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(jt_valid(bad[i], strlen(bad[i])));
    char deep[2 * JT_MAX_DEPTH + 8];
    memset(deep, '[', JT_MAX_DEPTH + 1);
    memset(deep + JT_MAX_DEPTH + 1, ']', JT_MAX_DEPTH + 1);
    assert_false(jt_valid(deep, 2 * JT_MAX_DEPTH + 2));
    assert_true(jt_valid(deep + 1, 2 * JT_MAX_DEPTH));
}

/* span_writer on stored text as PostgreSQL prints jsonb, and on text that
 * does not parse (attributes or events left out, never broken JSON). */
static void span_writer_text(void **state)
{
    (void)state;
    struct sbuf out;
    struct span_writer w;
    struct trace_span s = {
        .trace_id = "tr-000102030405060708090a0b0c0d0e0f",
        .span_id = "0001020304050607",
        .name = "n\"1",
        .kind = 2,
        .status_code = 2,
        .status_message = "m",
        .start_ns = 5,
        .end_ns = -1,
        .attributes = "{\"a\": \"x\\u0001y\", \"b\": [1, 2.50, true, null], \"k\": {\"z\": {}}, "
                      "\"big\": 100000000000000000000, \"s\": \"\\\"q\\\"\"}",
        .events = "[{\"name\": \"e\", \"attributes\": {}, \"time_unix_nano\": 7}, {\"name\": \"no "
                  "time\"}]",
    };
    sbuf_init(&out);
    span_writer_init(&w, &out);
    span_writer_otlp(&w, &s);
    assert_string_equal(
        out.data,
        "{\"trace_id\":\"AAECAwQFBgcICQoLDA0ODw==\",\"span_id\":\"AAECAwQFBgc=\",\"name\":"
        "\"n\\\"1\","
        "\"kind\":\"SPAN_KIND_SERVER\",\"start_time_unix_nano\":5,\"end_time_unix_nano\":0,"
        "\"attributes\":[{\"key\":\"a\",\"value\":{\"string_value\":\"x\\u0001y\"}},"
        "{\"key\":\"b\",\"value\":{\"array_value\":{\"values\":[{\"int_value\":1},"
        "{\"double_value\":2.50},{\"bool_value\":true},{}]}}},"
        "{\"key\":\"k\",\"value\":{\"kvlist_value\":{\"values\":[{\"key\":\"z\",\"value\":"
        "{\"kvlist_value\":{\"values\":[]}}}]}}},"
        "{\"key\":\"big\",\"value\":{\"double_value\":100000000000000000000}},"
        "{\"key\":\"s\",\"value\":{\"string_value\":\"\\\"q\\\"\"}}],"
        "\"events\":[{\"time_unix_nano\":7,\"name\":\"e\"}],"
        "\"status\":{\"code\":\"STATUS_CODE_ERROR\",\"message\":\"m\"}}");
    sbuf_reset(&out);
    span_writer_file(&w, &s);
    assert_string_equal(
        out.data,
        "{\"trace_id\":\"AAECAwQFBgcICQoLDA0ODw==\",\"span_id\":\"AAECAwQFBgc=\",\"parent_span_"
        "id\":"
        "null,\"trace_state\":\"\",\"name\":\"n\\\"1\",\"start_time_unix_nano\":5,"
        "\"end_time_unix_nano\":0,\"events\":[{\"name\":\"e\",\"attributes\":{},\"time_unix_nano\":"
        "7},"
        "{\"name\":\"no time\"}],\"status\":{\"code\":\"STATUS_CODE_ERROR\",\"message\":\"m\"},"
        "\"attributes\":{\"a\":\"\\\"x\\\\u0001y\\\"\",\"b\":\"[1,2.50,true,null]\","
        "\"k\":\"{\\\"z\\\":{}}\",\"big\":\"100000000000000000000\",\"s\":\"\\\"q\\\"\"}}");

    /* text that does not parse: left out (OTLP) or {} (traces.json) */
    static const char *const broken[] = {"{\"a\": ",     "{\"a\" 1}",        "[1]",
                                         "{\"a\": tru}", "{\"a\": \"\\q\"}", "{\"a\": 1,}"};
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        struct trace_span b = s;
        b.attributes = broken[i];
        b.events = "[{\"name\": 1, \"time_unix_nano\": 2}";
        sbuf_reset(&out);
        span_writer_otlp(&w, &b);
        assert_null(strstr(out.data, "attributes"));
        assert_null(strstr(out.data, "events"));
        assert_non_null(strstr(out.data, "\"end_time_unix_nano\":0,\"status\""));
        sbuf_reset(&out);
        span_writer_file(&w, &b);
        assert_non_null(strstr(out.data, "\"events\":{},"));
        assert_non_null(strstr(out.data, "\"attributes\":{}}"));
    }
    span_writer_cleanup(&w);
    sbuf_cleanup(&out);
}

/* Compresses n bytes at in with zlib's window bits wb into a new buffer. */
static uint8_t *compress_with(int wb, const uint8_t *in, size_t n, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, wb, 9, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&zs, n) + 64;
    uint8_t *buf = malloc(cap);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)n;
    zs.next_out = buf;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = cap - zs.avail_out;
    deflateEnd(&zs);
    return buf;
}

static void inflate_codings(void **state)
{
    (void)state;
    size_t plain_len = 100000;
    uint8_t *plain = malloc(plain_len);
    for (size_t i = 0; i < plain_len; i++)
        plain[i] = (uint8_t)(i * 7 % 251);
    uint8_t *out;
    size_t out_len;
    struct {
        const char *name;
        int wb;
    } codings[] = {{"gzip", 31}, {"GZIP", 31}, {"x-gzip", 31}, {"deflate", 15}, {"deflate", -15}};
    for (size_t c = 0; c < sizeof codings / sizeof codings[0]; c++) {
        size_t z_len;
        uint8_t *z = compress_with(codings[c].wb, plain, plain_len, &z_len);
        assert_int_equal(otlp_inflate(codings[c].name, z, z_len, plain_len, &out, &out_len), 0);
        assert_int_equal(out_len, plain_len);
        assert_memory_equal(out, plain, plain_len);
        free(out);
        /* one byte less allowed than it holds */
        assert_int_equal(otlp_inflate(codings[c].name, z, z_len, plain_len - 1, &out, &out_len),
                         -1);
        assert_null(out);
        /* truncated */
        assert_int_equal(otlp_inflate(codings[c].name, z, z_len / 2, plain_len, &out, &out_len),
                         -1);
        /* corrupt: flip bytes in the middle */
        z[z_len / 2] ^= 0xff;
        z[z_len / 2 + 1] ^= 0x55;
        assert_int_equal(otlp_inflate(codings[c].name, z, z_len, plain_len, &out, &out_len), -1);
        free(z);
    }
    /* trailing garbage after a gzip member */
    size_t z_len;
    uint8_t *z = compress_with(31, plain, 1000, &z_len);
    uint8_t *padded = malloc(z_len + 4);
    memcpy(padded, z, z_len);
    memcpy(padded + z_len, "junk", 4);
    assert_int_equal(otlp_inflate("gzip", padded, z_len + 4, plain_len, &out, &out_len), -1);
    free(padded);
    /* gzip data declared as deflate, and the reverse */
    assert_int_equal(otlp_inflate("deflate", z, z_len, plain_len, &out, &out_len), -1);
    free(z);

    assert_int_equal(otlp_inflate(NULL, plain, 10, 10, &out, &out_len), 0);
    assert_int_equal(out_len, 10);
    assert_memory_equal(out, plain, 10);
    free(out);
    assert_int_equal(otlp_inflate("identity", plain, 0, 10, &out, &out_len), 0);
    assert_int_equal(out_len, 0);
    free(out);
    assert_int_equal(otlp_inflate("identity", plain, 11, 10, &out, &out_len), -1);
    assert_int_equal(otlp_inflate("br", plain, 10, 100, &out, &out_len), -1);
    assert_int_equal(otlp_inflate("gzip, br", plain, 10, 100, &out, &out_len), -1);
    assert_int_equal(otlp_inflate("gzip", plain, 10, 100, &out, &out_len), -1);
    assert_int_equal(otlp_inflate("gzip", plain, 0, 100, &out, &out_len), -1);
    free(plain);
}

static void inflate_bomb(void **state)
{
    (void)state;
    /* 64 MiB of zeros compress to about 64 KiB; a 1 MiB cap stops it */
    size_t huge = 64u << 20;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY), Z_OK);
    static uint8_t zeros[1 << 16];
    size_t cap = 1 << 20, z_len = 0;
    uint8_t *z = malloc(cap);
    for (size_t fed = 0; fed < huge; fed += sizeof zeros) {
        zs.next_in = zeros;
        zs.avail_in = sizeof zeros;
        int flush = fed + sizeof zeros >= huge ? Z_FINISH : Z_NO_FLUSH;
        do {
            zs.next_out = z + z_len;
            zs.avail_out = (uInt)(cap - z_len);
            deflate(&zs, flush);
            z_len = cap - zs.avail_out;
        } while (zs.avail_in > 0);
    }
    deflateEnd(&zs);
    assert_true(z_len < cap);
    uint8_t *out = (uint8_t *)1;
    size_t out_len = 7;
    assert_int_equal(otlp_inflate("gzip", z, z_len, 1 << 20, &out, &out_len), -1);
    assert_null(out);
    assert_int_equal(out_len, 0);
    free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_value_kind),
        cmocka_unit_test(empty_request),
        cmocka_unit_test(malformed),
        cmocka_unit_test(limits),
        cmocka_unit_test(budget_fits_dense_input),
        cmocka_unit_test(response),
        cmocka_unit_test(json_text_valid),
        cmocka_unit_test(span_writer_text),
        cmocka_unit_test(inflate_codings),
        cmocka_unit_test(inflate_bomb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
