/* The wire-format check that runs before protobuf-c (scan.h): one pass over
 * the body with a table of the OTLP messages exptrack reads. */
#include "scan.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/validate.h"
#include "otlp.h"

/* The messages of the schema (proto/). */
enum msg {
    M_REQUEST,
    M_RESOURCE_SPANS,
    M_RESOURCE,
    M_SCOPE_SPANS,
    M_SCOPE,
    M_SPAN,
    M_EVENT,
    M_LINK,
    M_STATUS,
    M_KEY_VALUE,
    M_ANY_VALUE,
    M_ARRAY,
    M_KVLIST,
};

/* How a known field is checked. */
enum kind {
    K_VARINT,  /* wire type 0 */
    K_FIXED64, /* wire type 1 */
    K_FIXED32, /* wire type 5 */
    K_STRING,  /* wire type 2, UTF-8 without NUL */
    K_BYTES,   /* wire type 2, anything */
    K_ID,      /* wire type 2, exactly id_len bytes, not all zero */
    K_PARENT,  /* wire type 2, empty or id_len bytes */
    K_MSG,     /* wire type 2, a message of type sub */
};

struct field_rule {
    uint32_t number;
    enum kind kind;
    enum msg sub;
    size_t id_len;
    const char *name; /* the OTLP/JSON name, for messages */
};

struct msg_rule {
    const char *name;
    const struct field_rule *fields;
    size_t n_fields;
};

#define RULES(a) a, sizeof a / sizeof a[0]

static const struct field_rule request_fields[] = {
    {1, K_MSG, M_RESOURCE_SPANS, 0, "resourceSpans"},
};
static const struct field_rule resource_spans_fields[] = {
    {1, K_MSG, M_RESOURCE, 0, "resource"},
    {2, K_MSG, M_SCOPE_SPANS, 0, "scopeSpans"},
    {3, K_STRING, 0, 0, "schemaUrl"},
};
static const struct field_rule resource_fields[] = {
    {1, K_MSG, M_KEY_VALUE, 0, "attributes"},
    {2, K_VARINT, 0, 0, "droppedAttributesCount"},
};
static const struct field_rule scope_spans_fields[] = {
    {1, K_MSG, M_SCOPE, 0, "scope"},
    {2, K_MSG, M_SPAN, 0, "spans"},
    {3, K_STRING, 0, 0, "schemaUrl"},
};
static const struct field_rule scope_fields[] = {
    {1, K_STRING, 0, 0, "name"},
    {2, K_STRING, 0, 0, "version"},
    {3, K_MSG, M_KEY_VALUE, 0, "attributes"},
    {4, K_VARINT, 0, 0, "droppedAttributesCount"},
};
static const struct field_rule span_fields[] = {
    {1, K_ID, 0, 16, "traceId"},
    {2, K_ID, 0, 8, "spanId"},
    {3, K_STRING, 0, 0, "traceState"},
    {4, K_PARENT, 0, 8, "parentSpanId"},
    {5, K_STRING, 0, 0, "name"},
    {6, K_VARINT, 0, 0, "kind"},
    {7, K_FIXED64, 0, 0, "startTimeUnixNano"},
    {8, K_FIXED64, 0, 0, "endTimeUnixNano"},
    {9, K_MSG, M_KEY_VALUE, 0, "attributes"},
    {10, K_VARINT, 0, 0, "droppedAttributesCount"},
    {11, K_MSG, M_EVENT, 0, "events"},
    {12, K_VARINT, 0, 0, "droppedEventsCount"},
    {13, K_MSG, M_LINK, 0, "links"},
    {14, K_VARINT, 0, 0, "droppedLinksCount"},
    {15, K_MSG, M_STATUS, 0, "status"},
    {16, K_FIXED32, 0, 0, "flags"},
};
static const struct field_rule event_fields[] = {
    {1, K_FIXED64, 0, 0, "timeUnixNano"},
    {2, K_STRING, 0, 0, "name"},
    {3, K_MSG, M_KEY_VALUE, 0, "attributes"},
    {4, K_VARINT, 0, 0, "droppedAttributesCount"},
};
static const struct field_rule link_fields[] = {
    {1, K_ID, 0, 16, "traceId"},
    {2, K_ID, 0, 8, "spanId"},
    {3, K_STRING, 0, 0, "traceState"},
    {4, K_MSG, M_KEY_VALUE, 0, "attributes"},
    {5, K_VARINT, 0, 0, "droppedAttributesCount"},
    {6, K_FIXED32, 0, 0, "flags"},
};
static const struct field_rule status_fields[] = {
    {2, K_STRING, 0, 0, "message"},
    {3, K_VARINT, 0, 0, "code"},
};
static const struct field_rule key_value_fields[] = {
    {1, K_STRING, 0, 0, "key"},
    {2, K_MSG, M_ANY_VALUE, 0, "value"},
};
static const struct field_rule any_value_fields[] = {
    {1, K_STRING, 0, 0, "stringValue"},   {2, K_VARINT, 0, 0, "boolValue"},
    {3, K_VARINT, 0, 0, "intValue"},      {4, K_FIXED64, 0, 0, "doubleValue"},
    {5, K_MSG, M_ARRAY, 0, "arrayValue"}, {6, K_MSG, M_KVLIST, 0, "kvlistValue"},
    {7, K_BYTES, 0, 0, "bytesValue"},
};
static const struct field_rule array_fields[] = {
    {1, K_MSG, M_ANY_VALUE, 0, "values"},
};
static const struct field_rule kvlist_fields[] = {
    {1, K_MSG, M_KEY_VALUE, 0, "values"},
};

static const struct msg_rule messages[] = {
    [M_REQUEST] = {"ExportTraceServiceRequest", RULES(request_fields)},
    [M_RESOURCE_SPANS] = {"ResourceSpans", RULES(resource_spans_fields)},
    [M_RESOURCE] = {"Resource", RULES(resource_fields)},
    [M_SCOPE_SPANS] = {"ScopeSpans", RULES(scope_spans_fields)},
    [M_SCOPE] = {"InstrumentationScope", RULES(scope_fields)},
    [M_SPAN] = {"Span", RULES(span_fields)},
    [M_EVENT] = {"Event", RULES(event_fields)},
    [M_LINK] = {"Link", RULES(link_fields)},
    [M_STATUS] = {"Status", RULES(status_fields)},
    [M_KEY_VALUE] = {"KeyValue", RULES(key_value_fields)},
    [M_ANY_VALUE] = {"AnyValue", RULES(any_value_fields)},
    [M_ARRAY] = {"ArrayValue", RULES(array_fields)},
    [M_KVLIST] = {"KeyValueList", RULES(kvlist_fields)},
};

/* The walker's path, for error messages: message fields from the top. */
#define PATH_MAX_SHOWN 12

struct scan_ctx {
    struct otlp_scan counts;
    const char *path[PATH_MAX_SHOWN];
    size_t path_len; /* entries in use (may exceed PATH_MAX_SHOWN: not shown) */
    size_t span_at;  /* index of the span being walked, when in one */
    int in_span;
    char *err;
    size_t errlen;
};

/* Writes "<problem> at <path>" into ctx->err. Returns -1. */
static int fail(struct scan_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct scan_ctx *ctx, const char *fmt, ...)
{
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);

    char where[256] = "";
    size_t off = 0;
    size_t shown = ctx->path_len < PATH_MAX_SHOWN ? ctx->path_len : PATH_MAX_SHOWN;
    for (size_t i = 0; i < shown && off < sizeof where; i++) {
        int n;
        if (ctx->in_span && strcmp(ctx->path[i], "spans") == 0)
            n = snprintf(where + off, sizeof where - off, "%s%s[%zu]", i ? "." : "", ctx->path[i],
                         ctx->span_at);
        else
            n = snprintf(where + off, sizeof where - off, "%s%s", i ? "." : "", ctx->path[i]);
        if (n < 0)
            break;
        off += (size_t)n;
    }
    if (ctx->path_len > PATH_MAX_SHOWN && off < sizeof where)
        snprintf(where + off, sizeof where - off, "...");
    if (where[0] != '\0')
        snprintf(ctx->err, ctx->errlen, "%s at %s", what, where);
    else
        snprintf(ctx->err, ctx->errlen, "%s", what);
    return -1;
}

/* Reads a varint at *p (before end) into *v. Returns 0, or -1 when truncated
 * or longer than 64 bits. */
static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int i = 0; i < 10; i++) {
        if (*p >= end)
            return -1;
        uint8_t b = *(*p)++;
        if (i == 9 && b > 1)
            return -1;
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

static const struct field_rule *find_rule(const struct msg_rule *m, uint32_t number)
{
    for (size_t i = 0; i < m->n_fields; i++)
        if (m->fields[i].number == number)
            return &m->fields[i];
    return NULL;
}

static int wire_of(enum kind k)
{
    switch (k) {
    case K_VARINT:
        return 0;
    case K_FIXED64:
        return 1;
    case K_FIXED32:
        return 5;
    default:
        return 2;
    }
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

static int scan_message(struct scan_ctx *ctx, enum msg type, const uint8_t *p, const uint8_t *end,
                        int depth);

/* Checks one length-delimited field of a known rule. */
static int scan_delimited(struct scan_ctx *ctx, const struct field_rule *rule, const uint8_t *p,
                          size_t n, int depth)
{
    switch (rule->kind) {
    case K_STRING:
        if (memchr(p, 0, n) != NULL || !validate_utf8((const char *)p, n))
            return fail(ctx, "string is not valid UTF-8 or contains NUL");
        return 0;
    case K_ID:
        if (n != rule->id_len)
            return fail(ctx, "id of %zu bytes, expected %zu", n, rule->id_len);
        if (all_zero(p, n))
            return fail(ctx, "id is all zeros");
        return 0;
    case K_PARENT:
        if (n != 0 && n != rule->id_len)
            return fail(ctx, "id of %zu bytes, expected %zu or none", n, rule->id_len);
        return 0;
    case K_MSG:
        if (rule->sub == M_ANY_VALUE && depth + 1 > OTLP_MAX_DEPTH)
            return fail(ctx, "attribute values nested deeper than %d levels", OTLP_MAX_DEPTH);
        if (rule->sub == M_SPAN) {
            if (ctx->counts.spans >= OTLP_MAX_SPANS)
                return fail(ctx, "more than %d spans in one request", OTLP_MAX_SPANS);
            ctx->span_at = ctx->counts.spans++;
            ctx->in_span = 1;
            int rc = scan_message(ctx, M_SPAN, p, p + n, depth);
            ctx->in_span = 0;
            return rc;
        }
        return scan_message(ctx, rule->sub, p, p + n, rule->sub == M_ANY_VALUE ? depth + 1 : depth);
    default:
        return 0;
    }
}

static int scan_message(struct scan_ctx *ctx, enum msg type, const uint8_t *p, const uint8_t *end,
                        int depth)
{
    const struct msg_rule *m = &messages[type];
    int has_trace_id = 0, has_span_id = 0;

    while (p < end) {
        uint64_t tag;
        const uint8_t *tag_at = p;
        /* protobuf-c reads a tag in at most 5 bytes (32 bits), also when a
         * longer, non-minimal encoding holds a valid field number */
        if (read_varint(&p, end, &tag) < 0 || p - tag_at > 5)
            return fail(ctx, "malformed protobuf: truncated or overlong field tag in %s", m->name);
        uint64_t number = tag >> 3;
        int wire = (int)(tag & 7);
        if (number == 0 || number > 0x1fffffff)
            return fail(ctx, "malformed protobuf: field number %llu in %s",
                        (unsigned long long)number, m->name);
        if (++ctx->counts.fields > OTLP_MAX_FIELDS)
            return fail(ctx, "more than %d protobuf fields in one request", OTLP_MAX_FIELDS);
        const struct field_rule *rule = find_rule(m, (uint32_t)number);
        if (rule != NULL && wire != wire_of(rule->kind))
            return fail(ctx, "malformed protobuf: %s.%s has wire type %d, expected %d", m->name,
                        rule->name, wire, wire_of(rule->kind));
        uint64_t v;
        switch (wire) {
        case 0:
            if (read_varint(&p, end, &v) < 0)
                return fail(ctx, "malformed protobuf: truncated or overlong varint in %s", m->name);
            break;
        case 1:
            if (end - p < 8)
                return fail(ctx, "malformed protobuf: truncated 64-bit field in %s", m->name);
            p += 8;
            break;
        case 5:
            if (end - p < 4)
                return fail(ctx, "malformed protobuf: truncated 32-bit field in %s", m->name);
            p += 4;
            break;
        case 2:
            if (read_varint(&p, end, &v) < 0)
                return fail(ctx, "malformed protobuf: truncated or overlong length in %s", m->name);
            if (v > (uint64_t)(end - p))
                return fail(ctx, "malformed protobuf: field %llu of %s runs past its end",
                            (unsigned long long)number, m->name);
            if (rule != NULL) {
                size_t at = ctx->path_len++;
                if (at < PATH_MAX_SHOWN)
                    ctx->path[at] = rule->name;
                int rc = scan_delimited(ctx, rule, p, (size_t)v, depth);
                ctx->path_len--;
                if (rc < 0)
                    return -1;
            }
            p += v;
            break;
        default:
            return fail(ctx, "malformed protobuf: wire type %d (field %llu of %s) is not supported",
                        wire, (unsigned long long)number, m->name);
        }
        if (rule != NULL && rule->kind == K_ID) {
            has_trace_id |= rule->number == 1;
            has_span_id |= rule->number == 2;
        }
    }
    if (type == M_SPAN || type == M_LINK) {
        if (!has_trace_id)
            return fail(ctx, "%s has no traceId (16 bytes required)", m->name);
        if (!has_span_id)
            return fail(ctx, "%s has no spanId (8 bytes required)", m->name);
    }
    return 0;
}

int otlp_scan_request(const uint8_t *body, size_t len, struct otlp_scan *out, char *err,
                      size_t errlen)
{
    struct scan_ctx ctx = {.err = err, .errlen = errlen};
    if (errlen > 0)
        err[0] = '\0';
    if (len > 0 && scan_message(&ctx, M_REQUEST, body, body + len, 0) < 0)
        return -1;
    *out = ctx.counts;
    return 0;
}
