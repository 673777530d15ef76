/* OTLP/JSON spans in (api_traces_spans.h); span_writer.c writes them out. */
#include "api_traces_spans.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_traces_common.h"
#include "json_text.h"
#include "core/b64.h"
#include "core/jsonx.h"
#include "common/json_writer.h"
#include "common/sbuf.h"
#include "core/validate.h"
#include "common/xalloc.h"

/* Nesting levels of kvlists a value may hold (SPAN_MAX_DEPTH bounds the
 * depth; each kvlist takes two of it) plus the top level. */
#define KV_LEVELS (SPAN_MAX_DEPTH / 2 + 3)

/* One {key, value} of a list, with its place in the list and its value's
 * native JSON text at [off, end) of its level's buffer. */
struct entry {
    const char *key;
    size_t len;
    size_t at;
    const json_t *any; /* the AnyValue */
    size_t off, end;
};

/* Scratch of one list level, reused from list to list and span to span:
 * the values' text in list order, and the entries. */
struct level {
    struct sbuf text;
    struct entry *ents;
    size_t cap;
};

struct dec {
    struct arena *arena;
    char *err;
    size_t errlen;
    char where[160]; /* "resourceSpans[i].scopeSpans[j].spans[k]" */
    struct level lvl[KV_LEVELS];
    struct sbuf out; /* one span's attributes or events text */
    struct sbuf key; /* a decoded key */
};

__attribute__((format(printf, 2, 3))) static int fail(struct dec *d, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(d->err, d->errlen, "%s%s%s", d->where, d->where[0] ? ": " : "", msg);
    return -1;
}

/* A member by its camelCase or snake_case name. */
static const json_t *member(const json_t *o, const char *camel, const char *snake)
{
    const json_t *v = json_object_get(o, camel);
    if (v == NULL && snake != NULL)
        v = json_object_get(o, snake);
    return json_is_null(v) ? NULL : v;
}

/* An array member (absent: NULL and 0); not an array is an error. */
static int array_member(struct dec *d, const json_t *o, const char *camel, const char *snake,
                        const json_t **out)
{
    *out = member(o, camel, snake);
    if (*out != NULL && !json_is_array(*out))
        return fail(d, "'%s' must be an array", camel);
    return 0;
}

/* An id as lowercase hex of nbytes bytes, from hex (any case) or base64. */
static int read_id(struct dec *d, const json_t *v, const char *field, size_t nbytes, char *hex)
{
    unsigned char raw[B64_DECODED_MAX(B64_ENCODED_LEN(16))];
    size_t len, got;

    if (!json_is_string(v))
        return fail(d, "'%s' must be a string of %zu hex digits", field, nbytes * 2);
    const char *s = json_string_value(v);
    len = json_string_length(v);
    if (len == nbytes * 2) {
        for (size_t i = 0; i < len; i++) {
            if (!isxdigit((unsigned char)s[i]))
                return fail(d, "'%s' must be %zu hex digits", field, nbytes * 2);
            hex[i] = (char)tolower((unsigned char)s[i]);
        }
        hex[len] = '\0';
    } else if (len == B64_ENCODED_LEN(nbytes) && b64_decode(s, len, raw, sizeof raw, &got) == 0 &&
               got == nbytes) {
        for (size_t i = 0; i < nbytes; i++)
            snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    } else {
        return fail(d, "'%s' must be %zu hex digits (%zu bytes)", field, nbytes * 2, nbytes);
    }
    for (size_t i = 0; i < nbytes * 2; i++)
        if (hex[i] != '0')
            return 0;
    return fail(d, "'%s' must not be all zeros", field);
}

/* A fixed64 nanosecond time: a JSON integer or decimal string, >= 0 and
 * within int64. Absent: 0. */
static int read_nanos(struct dec *d, const json_t *v, const char *field, int64_t *out)
{
    *out = 0;
    if (v == NULL)
        return 0;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = json_integer_value(v);
        return 0;
    }
    if (json_is_string(v) && json_string_length(v) == strlen(json_string_value(v)) &&
        jx_parse_int64_text(json_string_value(v), out) == 0 && *out >= 0)
        return 0;
    return fail(d, "'%s' must be a non-negative integer of nanoseconds below 2^63", field);
}

/* A small enum given as a number or a name ending with one of names. */
static int read_enum(struct dec *d, const json_t *v, const char *field, const char *prefix,
                     const char *const *names, int count, int *out)
{
    *out = 0;
    if (v == NULL)
        return 0;
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < count) {
        *out = (int)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t plen = strlen(prefix);
        if (strncmp(s, prefix, plen) == 0)
            s += plen;
        for (int i = 0; i < count; i++)
            if (strcmp(s, names[i]) == 0) {
                *out = i;
                return 0;
            }
    }
    return fail(d, "'%s' is not a valid %.20s value", field, prefix);
}

/* Appends a JSON string value (jansson's, which may hold NUL), escaped as
 * jansson's json_dumps escapes it without flags (jw_string_len). */
static void put_json_string(struct sbuf *b, const json_t *v)
{
    jw_string_len(b, json_string_value(v), json_string_length(v));
}

/* Appends v as a real: jansson's own text of it, so that the stored text
 * stays what json_dumps wrote (reals are rare in span attributes). */
static void put_real(struct sbuf *b, double v)
{
    char buf[64];
    json_t *r = json_real(v);
    size_t n = r ? json_dumpb(r, buf, sizeof buf, JSON_ENCODE_ANY | JSON_COMPACT) : 0;
    json_decref(r);
    if (n == 0 || n > sizeof buf)
        sbuf_adds(b, "null");
    else
        sbuf_add(b, buf, n);
}

static void put_int(struct sbuf *b, int64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
    sbuf_add(b, buf, (size_t)n);
}

static int put_any_value(struct dec *d, const json_t *v, int depth, int level, struct sbuf *out);

/* jsonb's order of object keys (shorter first, then bytewise), then the
 * list's order, so a key given twice keeps its last value. */
static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    int c = memcmp(x->key, y->key, x->len);
    if (c != 0)
        return c;
    return x->at < y->at ? -1 : x->at > y->at;
}

/* [{key, value}] -> the text of {key: native, ...} appended to out, the
 * keys in jsonb's order (a key given twice keeps its last value), so the
 * stored text reads back as the jsonb column it replaced did (schema
 * 0023) and as json_dumps of the object the decode once built. The
 * values are written in list order into the level's buffer (a bad one
 * stops the list at the same place and with the same message as before),
 * then copied out sorted. The level's entries (sorted, one per key) and
 * their text stay until the next list of this level: *nents of them.
 * Returns 0, or -1 with err set. */
static int put_key_values(struct dec *d, const json_t *list, int depth, int level,
                          const char *field, struct sbuf *out, size_t *nents)
{
    if (list != NULL && !json_is_array(list))
        return fail(d, "'%s' must be an array of {key, value}", field);
    size_t n = json_array_size(list);
    if (n > SPAN_MAX_ATTRS)
        return fail(d, "'%s' holds more than %d entries", field, SPAN_MAX_ATTRS);
    if (level >= KV_LEVELS)
        return fail(d, "attribute values nest deeper than %d levels", SPAN_MAX_DEPTH);
    struct level *l = &d->lvl[level];
    if (l->cap < n + 1) {
        l->cap = n + 16;
        l->ents = xrealloc(l->ents, l->cap * sizeof *l->ents);
    }
    sbuf_reset(&l->text);
    for (size_t i = 0; i < n; i++) {
        const json_t *kv = json_array_get(list, i);
        const json_t *k = json_object_get(kv, "key");
        if (!json_is_string(k) || json_string_length(k) == 0 ||
            json_string_length(k) != strlen(json_string_value(k)))
            return fail(d, "'%s[%zu].key' must be a non-empty string without NUL", field, i);
        const json_t *any = json_object_get(kv, "value");
        size_t off = l->text.len;
        if (put_any_value(d, any, depth + 1, level, &l->text) < 0)
            return -1;
        l->ents[i] =
            (struct entry){json_string_value(k), json_string_length(k), i, any, off, l->text.len};
    }
    qsort(l->ents, n, sizeof *l->ents, cmp_entry);
    size_t kept = 0;
    sbuf_addc(out, '{');
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && l->ents[i + 1].len == l->ents[i].len &&
            memcmp(l->ents[i + 1].key, l->ents[i].key, l->ents[i].len) == 0)
            continue; /* a later copy of this key follows */
        if (kept > 0)
            sbuf_addc(out, ',');
        jw_string_len(out, l->ents[i].key, l->ents[i].len);
        sbuf_addc(out, ':');
        sbuf_add(out, l->text.data + l->ents[i].off, l->ents[i].end - l->ents[i].off);
        l->ents[kept++] = l->ents[i];
    }
    sbuf_addc(out, '}');
    if (nents != NULL)
        *nents = kept;
    return 0;
}

/* An AnyValue as the text of its native JSON value appended to out
 * (bytes stay base64 text; NaN and the infinities given as doubleValue
 * text stay strings; a value of no known kind is null). level: the
 * kvlist level of the list the value is in. */
static int put_any_value(struct dec *d, const json_t *v, int depth, int level, struct sbuf *out)
{
    const json_t *x;
    if (depth > SPAN_MAX_DEPTH)
        return fail(d, "attribute values nest deeper than %d levels", SPAN_MAX_DEPTH);
    if (v == NULL || json_is_null(v)) {
        sbuf_adds(out, "null");
        return 0;
    }
    if (!json_is_object(v))
        return fail(d, "an attribute value must be an AnyValue object");
    if ((x = member(v, "stringValue", "string_value")) != NULL) {
        if (!json_is_string(x))
            return fail(d, "stringValue must be a string");
        put_json_string(out, x);
        return 0;
    }
    if ((x = member(v, "boolValue", "bool_value")) != NULL) {
        if (!json_is_boolean(x))
            return fail(d, "boolValue must be true or false");
        sbuf_adds(out, json_is_true(x) ? "true" : "false");
        return 0;
    }
    if ((x = member(v, "intValue", "int_value")) != NULL) {
        int64_t n;
        if (json_is_integer(x)) {
            put_int(out, json_integer_value(x));
            return 0;
        }
        if (json_is_string(x) && jx_parse_int64_text(json_string_value(x), &n) == 0) {
            put_int(out, n);
            return 0;
        }
        return fail(d, "intValue must be an int64 (number or decimal string)");
    }
    if ((x = member(v, "doubleValue", "double_value")) != NULL) {
        double n;
        if (json_is_number(x)) {
            put_real(out, json_number_value(x));
            return 0;
        }
        if (json_is_string(x) && jx_parse_double_text(json_string_value(x), &n) == 0) {
            /* NaN and infinities stay text (up to a NUL, as a C string) */
            jw_string(out, json_string_value(x));
            return 0;
        }
        return fail(d, "doubleValue must be a number");
    }
    if ((x = member(v, "bytesValue", "bytes_value")) != NULL) {
        if (!json_is_string(x))
            return fail(d, "bytesValue must be a base64 string");
        put_json_string(out, x);
        return 0;
    }
    if ((x = member(v, "arrayValue", "array_value")) != NULL) {
        const json_t *vals = json_object_get(x, "values");
        if (vals != NULL && !json_is_array(vals))
            return fail(d, "arrayValue.values must be an array");
        if (json_array_size(vals) > SPAN_MAX_ATTRS)
            return fail(d, "arrayValue holds more than %d values", SPAN_MAX_ATTRS);
        sbuf_addc(out, '[');
        for (size_t i = 0; i < json_array_size(vals); i++) {
            if (i > 0)
                sbuf_addc(out, ',');
            if (put_any_value(d, json_array_get(vals, i), depth + 1, level, out) < 0)
                return -1;
        }
        sbuf_addc(out, ']');
        return 0;
    }
    if ((x = member(v, "kvlistValue", "kvlist_value")) != NULL)
        return put_key_values(d, json_object_get(x, "values"), depth + 1, level + 1,
                              "kvlistValue.values", out, NULL);
    sbuf_adds(out, "null");
    return 0;
}

/* The text of d->out in the arena. */
static const char *out_text(struct dec *d, size_t *len)
{
    *len = d->out.len;
    return arena_strndup(d->arena, d->out.data ? d->out.data : "", d->out.len);
}

/* A value that MLflow stores JSON-encoded in a string ("\"LLM\"",
 * "{\"input_tokens\": 1}"): the decoded value, or a new reference to v
 * itself when it is not such a string. */
static json_t *json_decoded(const json_t *v)
{
    if (json_is_string(v)) {
        json_t *inner = json_loads(json_string_value(v), JSON_DECODE_ANY, NULL);
        if (inner != NULL)
            return inner;
    }
    return json_incref((json_t *)v);
}

/* A token count from a JSON number or decimal text; -1 otherwise. */
static int64_t token_count(const json_t *v)
{
    int64_t n;
    if (json_is_integer(v) && json_integer_value(v) >= 0)
        return json_integer_value(v);
    if (json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) < 9e18)
        return (int64_t)json_real_value(v);
    if (json_is_string(v) && jx_parse_int64_text(json_string_value(v), &n) == 0 && n >= 0)
        return n;
    return -1;
}

/* The entry of attribute key among the n sorted, deduplicated entries
 * of the top level, or NULL. */
static const struct entry *attr_find(const struct entry *e, size_t n, const char *key)
{
    size_t len = strlen(key);
    for (size_t i = 0; i < n; i++)
        if (e[i].len == len && memcmp(e[i].key, key, len) == 0)
            return &e[i];
    return NULL;
}

/* The native JSON value of a top-level attribute (a new reference): its
 * stringValue as it came, else its text parsed back. */
static json_t *attr_native(struct dec *d, const struct entry *e)
{
    const json_t *x = member(e->any, "stringValue", "string_value");
    if (json_is_string(x))
        return json_incref((json_t *)x);
    return json_loadb(d->lvl[0].text.data + e->off, e->end - e->off, JSON_DECODE_ANY, NULL);
}

/* The string inside a JSON-encoded string value ("\"LLM\"" -> "LLM") when
 * it needs no decoding (no escape, no control byte), into the arena;
 * NULL when it does or is no such string. */
static const char *plain_quoted(struct dec *d, const char *s)
{
    size_t len = strlen(s);
    if (len < 2 || s[0] != '"' || s[len - 1] != '"')
        return NULL;
    for (size_t i = 1; i + 1 < len; i++)
        if (s[i] == '"' || s[i] == '\\' || (unsigned char)s[i] < 0x20)
            return NULL;
    return arena_strndup(d->arena, s + 1, len - 2);
}

/* The members of mlflow.chat.tokenUsage a span's counts are read from, in
 * the order of the counts in struct trace_span (input, output, cache read,
 * cache creation). */
static const char *const usage_keys[4] = {"input_tokens", "output_tokens",
                                          "cache_read_input_tokens", "cache_creation_input_tokens"};

/* The four token counts (usage_keys) of a span; -1 where absent. */
static int64_t *span_counts(struct trace_span *s, int i)
{
    int64_t *counts[4] = {&s->input_tokens, &s->output_tokens, &s->cache_read_tokens,
                          &s->cache_creation_tokens};
    return counts[i];
}

/* The token counts of a JSON-encoded usage object ("{\"input_tokens\": 12,
 * ...}") read from its text, as json_decoded and token_count read them
 * from a tree, when that is simple: valid JSON text of an object whose
 * usage_keys members (the last of each, as jansson keeps) are absent or
 * integers. Returns 0 with the span's counts set, or -1 when the text needs
 * the tree (anything else). key: scratch. */
static int usage_from_text(const char *s, struct sbuf *key, struct trace_span *sp)
{
    size_t len = strlen(s);
    struct jt t = {s, s + len};
    for (int i = 0; i < 4; i++)
        *span_counts(sp, i) = -1;
    if (!jt_valid(s, len) || jt_expect(&t, '{') < 0)
        return -1;
    if (jt_peek(&t) == '}')
        return 0;
    for (;;) {
        const char *start;
        size_t n;
        sbuf_reset(key);
        if (jt_string(&t, key) < 0 || jt_expect(&t, ':') < 0)
            return -1;
        int64_t *dst = NULL;
        for (int i = 0; i < 4 && dst == NULL; i++)
            if (strcmp(key->data, usage_keys[i]) == 0)
                dst = span_counts(sp, i);
        enum jt_kind kind = jt_kind(&t);
        if (jt_skip(&t, &start, &n) < 0)
            return -1;
        if (dst != NULL) {
            char num[24];
            int64_t v;
            if (kind != JT_INT || n >= sizeof num)
                return -1;
            memcpy(num, start, n);
            num[n] = '\0';
            if (jx_parse_int64_text(num, &v) != 0)
                return -1;
            *dst = v >= 0 ? v : -1;
        }
        int c = jt_peek(&t);
        t.p++;
        if (c == '}')
            return 0;
        if (c != ',')
            return -1;
    }
}

/* Fills the derived fields of s from its attributes (the n entries of the
 * top level, d->lvl[0]); the previews only for a root span (its parent
 * already read). */
static void derive(struct dec *d, struct trace_span *s, const struct entry *attrs, size_t n,
                   const char **session, const char **inputs, const char **outputs)
{
    const struct entry *e;
    json_t *v;
    s->span_type = NULL;
    for (int i = 0; i < 4; i++)
        *span_counts(s, i) = -1;
    if ((e = attr_find(attrs, n, "mlflow.spanType")) != NULL && (v = attr_native(d, e)) != NULL) {
        const char *quick = json_is_string(v) ? plain_quoted(d, json_string_value(v)) : NULL;
        if (quick != NULL) {
            s->span_type = quick;
        } else {
            json_t *t = json_decoded(v);
            if (json_is_string(t))
                s->span_type = arena_strdup(d->arena, json_string_value(t));
            json_decref(t);
        }
        json_decref(v);
    }
    if ((e = attr_find(attrs, n, "mlflow.chat.tokenUsage")) != NULL) {
        const json_t *x = member(e->any, "stringValue", "string_value");
        if (json_is_string(x) && json_string_length(x) == strlen(json_string_value(x)) &&
            usage_from_text(json_string_value(x), &d->key, s) == 0)
            goto session;
        v = attr_native(d, e);
        json_t *u = json_decoded(v);
        for (int i = 0; i < 4; i++)
            *span_counts(s, i) = token_count(json_object_get(u, usage_keys[i]));
        json_decref(u);
        json_decref(v);
    } else {
        if ((e = attr_find(attrs, n, "gen_ai.usage.input_tokens")) != NULL) {
            v = attr_native(d, e);
            s->input_tokens = token_count(v);
            json_decref(v);
        }
        if ((e = attr_find(attrs, n, "gen_ai.usage.output_tokens")) != NULL) {
            v = attr_native(d, e);
            s->output_tokens = token_count(v);
            json_decref(v);
        }
    }
session:
    *session = NULL;
    if ((e = attr_find(attrs, n, "session.id")) != NULL && (v = attr_native(d, e)) != NULL) {
        if (json_is_string(v))
            *session = trace_cut(arena_strdup(d->arena, json_string_value(v)), 8000, d->arena);
        json_decref(v);
    }
    *inputs = *outputs = NULL;
    if (s->parent_span_id != NULL)
        return; /* previews come from a root span only (summarize) */
    const char *keys[2] = {"mlflow.spanInputs", "mlflow.spanOutputs"};
    const char **dst[2] = {inputs, outputs};
    for (int i = 0; i < 2; i++) {
        if ((e = attr_find(attrs, n, keys[i])) == NULL)
            continue;
        const json_t *x = member(e->any, "stringValue", "string_value");
        const char *text = NULL;
        if (json_is_string(x)) {
            text = arena_strdup(d->arena, json_string_value(x));
        } else if ((v = attr_native(d, e)) != NULL) {
            text = json_is_string(v)
                       ? arena_strdup(d->arena, json_string_value(v))
                       : arena_strndup(d->arena, d->lvl[0].text.data + e->off, e->end - e->off);
            json_decref(v);
        }
        if (text != NULL)
            *dst[i] = trace_cut(text, TRACE_MAX_PREVIEW, d->arena);
    }
}

const char *const span_kind_names[6] = {"UNSPECIFIED", "INTERNAL", "SERVER",
                                        "CLIENT",      "PRODUCER", "CONSUMER"};
const char *const span_status_names[3] = {"UNSET", "OK", "ERROR"};

/* Per-span extras kept until the batch is grouped. */
struct extra {
    const char *session, *inputs, *outputs;
};

static int read_events(struct dec *d, const json_t *events, struct trace_span *s)
{
    if (events != NULL && !json_is_array(events))
        return fail(d, "'events' must be an array");
    if (json_array_size(events) > SPAN_MAX_EVENTS)
        return fail(d, "'events' holds more than %d events", SPAN_MAX_EVENTS);
    struct sbuf *out = &d->out;
    sbuf_reset(out);
    sbuf_addc(out, '[');
    for (size_t i = 0; i < json_array_size(events); i++) {
        const json_t *e = json_array_get(events, i);
        const json_t *name = json_object_get(e, "name");
        int64_t t;
        if (!json_is_object(e) || (name != NULL && !json_is_string(name)))
            return fail(d, "events[%zu] must be an object with a string name", i);
        if (read_nanos(d, member(e, "timeUnixNano", "time_unix_nano"), "timeUnixNano", &t) < 0)
            return -1;
        /* keys in jsonb's order, as put_key_values writes the attributes' */
        const char *nm = name ? json_string_value(name) : "";
        sbuf_adds(out, i > 0 ? ",{\"name\":" : "{\"name\":");
        jw_string(out, nm);
        sbuf_adds(out, ",\"attributes\":");
        if (put_key_values(d, member(e, "attributes", NULL), 0, 0, "events.attributes", out, NULL) <
            0)
            return -1;
        sbuf_adds(out, ",\"time_unix_nano\":");
        put_int(out, t);
        sbuf_addc(out, '}');
    }
    sbuf_addc(out, ']');
    size_t len;
    s->events = out_text(d, &len);
    if (len > SPAN_MAX_ATTR_BYTES)
        return fail(d, "events take more than %d bytes", SPAN_MAX_ATTR_BYTES);
    return 0;
}

static int read_span(struct dec *d, const json_t *sp, struct trace_span *s, struct extra *x)
{
    char tid[33], sid[17], pid[17];
    const json_t *v;

    if (!json_is_object(sp))
        return fail(d, "a span must be an object");
    memset(s, 0, sizeof *s);
    if (read_id(d, member(sp, "traceId", "trace_id"), "traceId", 16, tid) < 0 ||
        read_id(d, member(sp, "spanId", "span_id"), "spanId", 8, sid) < 0)
        return -1;
    char *trace_id = arena_alloc(d->arena, 36);
    snprintf(trace_id, 36, "tr-%s", tid);
    s->trace_id = trace_id;
    s->span_id = arena_strdup(d->arena, sid);
    v = member(sp, "parentSpanId", "parent_span_id");
    if (v != NULL && !(json_is_string(v) && json_string_length(v) == 0)) {
        if (read_id(d, v, "parentSpanId", 8, pid) < 0)
            return -1;
        if (strcmp(pid, sid) == 0)
            return fail(d, "a span cannot be its own parent");
        s->parent_span_id = arena_strdup(d->arena, pid);
    }
    v = member(sp, "name", NULL);
    if (v != NULL && !json_is_string(v))
        return fail(d, "'name' must be a string");
    s->name = v ? json_string_value(v) : "";
    if (strlen(s->name) != (v ? json_string_length(v) : 0))
        return fail(d, "'name' must not contain NUL");
    if (validate_utf8_length(s->name) > SPAN_MAX_NAME)
        return fail(d, "'name' is longer than %d characters", SPAN_MAX_NAME);
    v = member(sp, "traceState", "trace_state");
    if (v != NULL && (!json_is_string(v) || json_string_length(v) > 8000 ||
                      strlen(json_string_value(v)) != json_string_length(v)))
        return fail(d, "'traceState' must be a string of at most 8000 bytes");
    s->trace_state = v && json_string_length(v) ? json_string_value(v) : NULL;
    if (read_enum(d, member(sp, "kind", NULL), "kind", "SPAN_KIND_", span_kind_names, 6, &s->kind) <
            0 ||
        read_nanos(d, member(sp, "startTimeUnixNano", "start_time_unix_nano"), "startTimeUnixNano",
                   &s->start_ns) < 0 ||
        read_nanos(d, member(sp, "endTimeUnixNano", "end_time_unix_nano"), "endTimeUnixNano",
                   &s->end_ns) < 0)
        return -1;
    if (s->end_ns == 0)
        s->end_ns = s->start_ns;
    if (s->end_ns < s->start_ns)
        return fail(d, "'endTimeUnixNano' is before 'startTimeUnixNano'");
    const json_t *status = member(sp, "status", NULL);
    if (status != NULL) {
        if (!json_is_object(status))
            return fail(d, "'status' must be an object");
        if (read_enum(d, member(status, "code", NULL), "status.code", "STATUS_CODE_",
                      span_status_names, 3, &s->status_code) < 0)
            return -1;
        v = member(status, "message", NULL);
        if (v != NULL &&
            (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)))
            return fail(d, "'status.message' must be a string without NUL");
        s->status_message = v && json_string_length(v) ? json_string_value(v) : NULL;
        if (s->status_message && validate_utf8_length(s->status_message) > 8000)
            s->status_message = trace_cut(s->status_message, 8000, d->arena);
    }
    size_t nattrs, len;
    sbuf_reset(&d->out);
    if (put_key_values(d, member(sp, "attributes", NULL), 0, 0, "attributes", &d->out, &nattrs) < 0)
        return -1;
    derive(d, s, d->lvl[0].ents, nattrs, &x->session, &x->inputs, &x->outputs);
    s->attributes = out_text(d, &len);
    if (len > SPAN_MAX_ATTR_BYTES)
        return fail(d, "attributes take more than %d bytes (the cap of one span)",
                    SPAN_MAX_ATTR_BYTES);
    return read_events(d, member(sp, "events", NULL), s);
}

/* Sort order of spans: trace, then span id. */
struct slot {
    struct trace_span span;
    struct extra x;
};

static int cmp_slot(const void *a, const void *b)
{
    const struct slot *x = a, *y = b;
    int c = strcmp(x->span.trace_id, y->span.trace_id);
    return c ? c : strcmp(x->span.span_id, y->span.span_id);
}

/* The index of span_id within slots[lo, hi), or -1. */
static long find_span(const struct slot *slots, size_t lo, size_t hi, const char *span_id)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(slots[mid].span.span_id, span_id);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Refuses a parent cycle among slots[lo, hi) (one trace): walks up from
 * every span, marking the walk; meeting the walk's own mark is a cycle. */
static int check_cycles(struct dec *d, const struct slot *slots, size_t lo, size_t hi, size_t *mark)
{
    for (size_t i = lo; i < hi; i++) {
        size_t cur = i;
        while (mark[cur] == 0) {
            mark[cur] = i + 1;
            const char *p = slots[cur].span.parent_span_id;
            long up = p ? find_span(slots, lo, hi, p) : -1;
            if (up < 0)
                break;
            cur = (size_t)up;
            if (mark[cur] == i + 1)
                return fail(d, "the spans of trace %s form a parent cycle (through span %s)",
                            slots[cur].span.trace_id, slots[cur].span.span_id);
        }
    }
    return 0;
}

/* Fills the trace summary of slots[lo, hi). */
static void summarize(const struct slot *slots, size_t lo, size_t hi, struct span_trace *t)
{
    memset(t, 0, sizeof *t);
    t->trace_id = slots[lo].span.trace_id;
    t->start_ns = slots[lo].span.start_ns;
    t->end_ns = slots[lo].span.end_ns;
    for (size_t i = lo; i < hi; i++) {
        const struct trace_span *s = &slots[i].span;
        if (s->start_ns < t->start_ns)
            t->start_ns = s->start_ns;
        if (s->end_ns > t->end_ns)
            t->end_ns = s->end_ns;
        if (t->session == NULL)
            t->session = slots[i].x.session;
        if (s->parent_span_id == NULL && !t->has_root) {
            t->has_root = 1;
            t->root_state = s->status_code == 2 ? TRACE_STATE_ERROR : TRACE_STATE_OK;
            t->request_preview = slots[i].x.inputs;
            t->response_preview = slots[i].x.outputs;
            t->trace_name = s->name[0] ? s->name : NULL; /* <= SPAN_MAX_NAME */
        }
    }
}

/* Counts count spans as rejected for the rule d->err names (the first
 * such text is kept as the batch's reason). */
static void reject(struct dec *d, struct span_batch *out, size_t count)
{
    if (out->nrejected == 0)
        out->reject_reason = arena_strdup(d->arena, d->err);
    out->nrejected += count;
}

/* Rejects every copy of a span id that appears more than once (which copy
 * is meant cannot be told); returns how many slots are left, compacted. */
static size_t drop_duplicates(struct dec *d, struct slot *slots, size_t n, struct span_batch *out)
{
    size_t kept = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && cmp_slot(&slots[i], &slots[j]) == 0)
            j++;
        if (j - i > 1) {
            fail(d, "span %s of trace %s appears twice or more in the request (%zu copies)",
                 slots[i].span.span_id, slots[i].span.trace_id, j - i);
            reject(d, out, j - i);
        } else {
            slots[kept++] = slots[i];
        }
        i = j;
    }
    return kept;
}

static int decode(struct dec *d, const json_t *request, struct arena *arena, struct span_batch *out,
                  char *err, size_t errlen);

int span_batch_decode(const json_t *request, struct arena *arena, struct span_batch *out, char *err,
                      size_t errlen)
{
    struct dec d;
    memset(&d, 0, sizeof d);
    d.arena = arena;
    d.err = err;
    d.errlen = errlen;
    for (int i = 0; i < KV_LEVELS; i++)
        sbuf_init(&d.lvl[i].text);
    sbuf_init(&d.out);
    sbuf_init(&d.key);
    int rc = decode(&d, request, arena, out, err, errlen);
    for (int i = 0; i < KV_LEVELS; i++) {
        sbuf_cleanup(&d.lvl[i].text);
        free(d.lvl[i].ents);
    }
    sbuf_cleanup(&d.out);
    sbuf_cleanup(&d.key);
    return rc;
}

/* span_batch_decode with its scratch in *d. */
static int decode(struct dec *d, const json_t *request, struct arena *arena, struct span_batch *out,
                  char *err, size_t errlen)
{
    char span_err[600];
    const json_t *rs, *ss, *spans;
    size_t total = 0, n = 0;

    memset(out, 0, sizeof *out);
    if (!json_is_object(request))
        return fail(d, "the body must be an ExportTraceServiceRequest object");
    if (array_member(d, request, "resourceSpans", "resource_spans", &rs) < 0)
        return -1;
    if (rs == NULL)
        return fail(d, "'resourceSpans' is missing: nothing to ingest");
    /* count first, so the slots are one allocation */
    for (size_t i = 0; i < json_array_size(rs); i++) {
        snprintf(d->where, sizeof d->where, "resourceSpans[%zu]", i);
        if (array_member(d, json_array_get(rs, i), "scopeSpans", "scope_spans", &ss) < 0)
            return -1;
        for (size_t j = 0; j < json_array_size(ss); j++) {
            snprintf(d->where, sizeof d->where, "resourceSpans[%zu].scopeSpans[%zu]", i, j);
            if (array_member(d, json_array_get(ss, j), "spans", NULL, &spans) < 0)
                return -1;
            total += json_array_size(spans);
        }
    }
    d->where[0] = '\0';
    if (total > SPAN_MAX_BATCH)
        return fail(d, "a request may carry at most %d spans", SPAN_MAX_BATCH);
    /* from here on a rule one span breaks rejects that span (or the spans
     * of its trace, for a cycle), not the request */
    d->err = span_err;
    d->errlen = sizeof span_err;
    struct slot *slots = arena_alloc(arena, (total + 1) * sizeof *slots);
    for (size_t i = 0; i < json_array_size(rs); i++) {
        ss = member(json_array_get(rs, i), "scopeSpans", "scope_spans");
        for (size_t j = 0; j < json_array_size(ss); j++) {
            spans = json_object_get(json_array_get(ss, j), "spans");
            for (size_t k = 0; k < json_array_size(spans); k++) {
                snprintf(d->where, sizeof d->where, "resourceSpans[%zu].scopeSpans[%zu].spans[%zu]",
                         i, j, k);
                if (read_span(d, json_array_get(spans, k), &slots[n].span, &slots[n].x) < 0)
                    reject(d, out, 1);
                else
                    n++;
            }
        }
    }
    d->where[0] = '\0';
    qsort(slots, n, sizeof *slots, cmp_slot);
    n = drop_duplicates(d, slots, n, out);
    size_t *mark = calloc(n + 1, sizeof *mark);
    size_t ntraces = 0, kept = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(slots[i - 1].span.trace_id, slots[i].span.trace_id) != 0)
            ntraces++;
    out->traces = arena_alloc(arena, (ntraces + 1) * sizeof *out->traces);
    out->spans = arena_alloc(arena, (n + 1) * sizeof *out->spans);
    for (size_t lo = 0; lo < n;) {
        size_t hi = lo + 1;
        while (hi < n && strcmp(slots[hi].span.trace_id, slots[lo].span.trace_id) == 0)
            hi++;
        if (check_cycles(d, slots, lo, hi, mark) < 0) {
            reject(d, out, hi - lo); /* the tree of this trace is broken */
        } else {
            summarize(slots, lo, hi, &out->traces[out->ntraces++]);
            for (size_t i = lo; i < hi; i++)
                out->spans[kept++] = slots[i].span;
        }
        lo = hi;
    }
    free(mark);
    out->nspans = kept;
    if (kept == 0 && out->nrejected > 0) {
        if (out->nrejected == 1)
            snprintf(err, errlen, "%s", out->reject_reason);
        else
            snprintf(err, errlen, "all %zu spans were rejected; the first: %s", out->nrejected,
                     out->reject_reason);
        return -1;
    }
    return 0;
}
