/* Stored spans as OTLP span JSON and traces.json text (span_writer.h). */
#include "span_writer.h"

#include <string.h>

#include "api_traces_spans.h"
#include "core/b64.h"
#include "common/json_writer.h"
#include "json_text.h"

/* Nesting followed in attribute values (ingest caps it at SPAN_MAX_DEPTH;
 * deeper stored text is treated as unreadable). */
#define WRITER_MAX_DEPTH 64

void span_writer_init(struct span_writer *w, struct sbuf *out)
{
    w->out = out;
    sbuf_init(&w->str);
    sbuf_init(&w->text);
}

void span_writer_cleanup(struct span_writer *w)
{
    sbuf_cleanup(&w->str);
    sbuf_cleanup(&w->text);
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 0;
}

/* Appends the base64 of the bytes of a hex id (at most 16), quoted. */
static void b64_id(struct sbuf *b, const char *hex)
{
    unsigned char raw[16];
    char text[B64_ENCODED_LEN(16) + 1];
    size_t n = strlen(hex) / 2;
    if (n > sizeof raw)
        n = sizeof raw;
    for (size_t i = 0; i < n; i++)
        raw[i] = (unsigned char)(hex_nibble(hex[2 * i]) << 4 | hex_nibble(hex[2 * i + 1]));
    size_t len = b64_encode(text, raw, n);
    sbuf_addc(b, '"');
    sbuf_add(b, text, len);
    sbuf_addc(b, '"');
}

/* The 32-hex part of a stored trace id (without "tr-"). */
static const char *hex_trace(const char *trace_id)
{
    return strncmp(trace_id, "tr-", 3) == 0 ? trace_id + 3 : trace_id;
}

/* Cuts b back to len (a part written before a parse error). */
static void rewind_to(struct sbuf *b, size_t len)
{
    b->len = len;
    if (b->data != NULL)
        b->data[len] = '\0';
}

/* Appends the string at t to b as jw_string writes it: its own text when
 * that already is so, else decoded into w->str and re-escaped. */
static int copy_string(struct span_writer *w, struct jt *t, struct sbuf *b)
{
    const char *start;
    size_t len;
    int plain;
    struct jt at = *t;
    if (jt_string_text(t, &start, &len, &plain) < 0)
        return -1;
    if (plain) {
        sbuf_add(b, start, len);
        return 0;
    }
    *t = at;
    sbuf_reset(&w->str);
    if (jt_string(t, &w->str) < 0)
        return -1;
    jw_string(b, w->str.data);
    return 0;
}

/* Appends the number or literal at t to b as its text. */
static int copy_token(struct jt *t, struct sbuf *b)
{
    const char *start;
    size_t len;
    if (jt_skip(t, &start, &len) < 0)
        return -1;
    sbuf_add(b, start, len);
    return 0;
}

/* ---- OTLP: native JSON values as AnyValue ---- */

static int otlp_value(struct span_writer *w, struct jt *t, int depth);

/* {k: v, ...} at t -> [{"key":k,"value":AnyValue}, ...] appended. */
static int otlp_key_values(struct span_writer *w, struct jt *t, int depth)
{
    struct sbuf *b = w->out;
    if (depth > WRITER_MAX_DEPTH || jt_expect(t, '{') < 0)
        return -1;
    sbuf_addc(b, '[');
    if (jt_peek(t) == '}') {
        t->p++;
        sbuf_addc(b, ']');
        return 0;
    }
    for (int first = 1;; first = 0) {
        if (!first)
            sbuf_addc(b, ',');
        sbuf_adds(b, "{\"key\":");
        if (copy_string(w, t, b) < 0 || jt_expect(t, ':') < 0)
            return -1;
        sbuf_adds(b, ",\"value\":");
        if (otlp_value(w, t, depth + 1) < 0)
            return -1;
        sbuf_addc(b, '}');
        int c = jt_peek(t);
        t->p++;
        if (c == '}')
            break;
        if (c != ',')
            return -1;
    }
    sbuf_addc(b, ']');
    return 0;
}

static int otlp_array(struct span_writer *w, struct jt *t, int depth)
{
    struct sbuf *b = w->out;
    if (depth > WRITER_MAX_DEPTH || jt_expect(t, '[') < 0)
        return -1;
    sbuf_adds(b, "{\"array_value\":{\"values\":[");
    if (jt_peek(t) == ']') {
        t->p++;
        sbuf_adds(b, "]}}");
        return 0;
    }
    for (int first = 1;; first = 0) {
        if (!first)
            sbuf_addc(b, ',');
        if (otlp_value(w, t, depth + 1) < 0)
            return -1;
        int c = jt_peek(t);
        t->p++;
        if (c == ']')
            break;
        if (c != ',')
            return -1;
    }
    sbuf_adds(b, "]}}");
    return 0;
}

/* The value at t as an OTLP AnyValue: strings, int64 integers, reals,
 * booleans, arrays and objects (kvlists); null as {}. */
static int otlp_value(struct span_writer *w, struct jt *t, int depth)
{
    struct sbuf *b = w->out;
    switch (jt_kind(t)) {
    case JT_STRING:
        sbuf_adds(b, "{\"string_value\":");
        if (copy_string(w, t, b) < 0)
            return -1;
        break;
    case JT_INT:
        sbuf_adds(b, "{\"int_value\":");
        if (copy_token(t, b) < 0)
            return -1;
        break;
    case JT_REAL:
        sbuf_adds(b, "{\"double_value\":");
        if (copy_token(t, b) < 0)
            return -1;
        break;
    case JT_TRUE:
    case JT_FALSE:
        sbuf_adds(b, jt_kind(t) == JT_TRUE ? "{\"bool_value\":true" : "{\"bool_value\":false");
        t->p += jt_kind(t) == JT_TRUE ? 4 : 5;
        break;
    case JT_NULL:
        t->p += 4;
        sbuf_addc(b, '{');
        break;
    case JT_ARRAY:
        return otlp_array(w, t, depth);
    case JT_OBJECT:
        sbuf_adds(b, "{\"kvlist_value\":{\"values\":");
        if (otlp_key_values(w, t, depth) < 0)
            return -1;
        sbuf_addc(b, '}');
        break;
    case JT_BAD:
        return -1;
    }
    sbuf_addc(b, '}');
    return 0;
}

/* Appends ,"attributes":[...] for the stored attributes text when it holds
 * any; nothing when it is empty or does not parse. */
static void otlp_attributes(struct span_writer *w, const char *text, size_t len)
{
    if (text == NULL)
        return;
    struct jt t = {text, text + len};
    size_t mark = w->out->len;
    if (jt_peek(&t) != '{')
        return;
    struct jt probe = t;
    probe.p++;
    if (jt_peek(&probe) == '}')
        return;
    sbuf_adds(w->out, ",\"attributes\":");
    if (otlp_key_values(w, &t, 0) < 0)
        rewind_to(w->out, mark);
}

/* The value of member key in the object at t (t is left where it was):
 * its text in *v. Returns 0, or -1 when absent or unreadable. */
static int member_text(struct span_writer *w, struct jt t, const char *key, struct jt *v)
{
    if (jt_expect(&t, '{') < 0 || jt_peek(&t) == '}')
        return -1;
    for (;;) {
        const char *start;
        size_t len;
        sbuf_reset(&w->str);
        if (jt_string(&t, &w->str) < 0 || jt_expect(&t, ':') < 0)
            return -1;
        int hit = strcmp(w->str.data, key) == 0;
        if (jt_skip(&t, &start, &len) < 0)
            return -1;
        if (hit) {
            v->p = start;
            v->end = start + len;
            return 0;
        }
        if (jt_expect(&t, ',') < 0)
            return -1;
    }
}

/* One stored event {name, time_unix_nano, attributes} as OTLP; events
 * without a name or a time are left out, as before, and so is one whose
 * time is not a number or a string (the stored text is not trusted: an
 * object copied as it was could carry bytes JSON does not allow). */
static int otlp_event(struct span_writer *w, struct jt *t, int *first)
{
    struct jt name, time, attrs;
    const char *start;
    size_t len;
    struct jt at = *t;
    if (jt_skip(t, &start, &len) < 0)
        return -1;
    if (member_text(w, at, "time_unix_nano", &time) < 0 || member_text(w, at, "name", &name) < 0)
        return 0;
    struct sbuf *b = w->out;
    size_t mark = b->len;
    sbuf_adds(b, *first ? "{\"time_unix_nano\":" : ",{\"time_unix_nano\":");
    int time_ok = 0;
    if (jt_kind(&time) == JT_INT || jt_kind(&time) == JT_REAL)
        time_ok = copy_token(&time, b) == 0;
    else if (jt_kind(&time) == JT_STRING)
        time_ok = copy_string(w, &time, b) == 0;
    sbuf_adds(b, ",\"name\":");
    if (!time_ok || jt_kind(&name) != JT_STRING || copy_string(w, &name, b) < 0) {
        rewind_to(b, mark);
        return 0;
    }
    if (member_text(w, at, "attributes", &attrs) == 0)
        otlp_attributes(w, attrs.p, (size_t)(attrs.end - attrs.p));
    sbuf_addc(b, '}');
    *first = 0;
    return 0;
}

/* Appends ,"events":[...] when the stored events text holds any. */
static void otlp_events(struct span_writer *w, const char *text)
{
    if (text == NULL)
        return;
    struct jt t = {text, text + strlen(text)};
    struct sbuf *b = w->out;
    size_t mark = b->len;
    if (jt_expect(&t, '[') < 0 || jt_peek(&t) == ']')
        return;
    sbuf_adds(b, ",\"events\":[");
    int first = 1;
    for (;;) {
        if (otlp_event(w, &t, &first) < 0) {
            rewind_to(b, mark);
            return;
        }
        int c = jt_peek(&t);
        t.p++;
        if (c == ']')
            break;
        if (c != ',') {
            rewind_to(b, mark);
            return;
        }
    }
    if (first)
        rewind_to(b, mark); /* none was kept */
    else
        sbuf_addc(b, ']');
}

static const char *status_name(int code)
{
    return span_status_names[code >= 0 && code < 3 ? code : 0];
}

void span_writer_otlp(struct span_writer *w, const struct trace_span *s)
{
    struct sbuf *b = w->out;
    sbuf_adds(b, "{\"trace_id\":");
    b64_id(b, hex_trace(s->trace_id));
    sbuf_adds(b, ",\"span_id\":");
    b64_id(b, s->span_id);
    sbuf_adds(b, ",\"name\":");
    jw_string(b, s->name);
    if (s->parent_span_id) {
        sbuf_adds(b, ",\"parent_span_id\":");
        b64_id(b, s->parent_span_id);
    }
    if (s->trace_state) {
        sbuf_adds(b, ",\"trace_state\":");
        jw_string(b, s->trace_state);
    }
    if (s->kind > 0 && s->kind < 6) {
        sbuf_adds(b, ",\"kind\":\"SPAN_KIND_");
        sbuf_adds(b, span_kind_names[s->kind]);
        sbuf_addc(b, '"');
    }
    sbuf_adds(b, ",\"start_time_unix_nano\":");
    jw_int64(b, s->start_ns);
    sbuf_adds(b, ",\"end_time_unix_nano\":");
    jw_int64(b, s->end_ns < 0 ? 0 : s->end_ns);
    if (s->attributes)
        otlp_attributes(w, s->attributes, strlen(s->attributes));
    otlp_events(w, s->events);
    sbuf_adds(b, ",\"status\":{\"code\":\"STATUS_CODE_");
    sbuf_adds(b, status_name(s->status_code));
    sbuf_addc(b, '"');
    if (s->status_message) {
        sbuf_adds(b, ",\"message\":");
        jw_string(b, s->status_message);
    }
    sbuf_adds(b, "}}");
}

/* ---- traces.json ---- */

/* The value at t re-written compactly into b (no whitespace). */
static int compact(struct span_writer *w, struct jt *t, struct sbuf *b, int depth)
{
    enum jt_kind k = jt_kind(t);
    if (k == JT_STRING)
        return copy_string(w, t, b);
    if (k == JT_BAD)
        return -1;
    if (k != JT_ARRAY && k != JT_OBJECT)
        return copy_token(t, b); /* numbers and literals: their text */
    if (depth > WRITER_MAX_DEPTH)
        return -1;
    char close = k == JT_ARRAY ? ']' : '}';
    sbuf_addc(b, *t->p);
    t->p++;
    if (jt_peek(t) == (unsigned char)close) {
        t->p++;
        sbuf_addc(b, close);
        return 0;
    }
    for (;;) {
        if (k == JT_OBJECT) {
            if (copy_string(w, t, b) < 0 || jt_expect(t, ':') < 0)
                return -1;
            sbuf_addc(b, ':');
        }
        if (compact(w, t, b, depth + 1) < 0)
            return -1;
        int c = jt_peek(t);
        t->p++;
        if (c == close)
            break;
        if (c != ',')
            return -1;
        sbuf_addc(b, ',');
    }
    sbuf_addc(b, close);
    return 0;
}

/* One attribute value as traces.json holds it: JSON-encoded text. */
static int file_attr(struct span_writer *w, struct jt *t)
{
    sbuf_reset(&w->text);
    if (jt_kind(t) == JT_STRING) {
        sbuf_reset(&w->str);
        if (jt_string(t, &w->str) < 0)
            return -1;
        if (jt_valid(w->str.data, w->str.len)) {
            jw_string(w->out, w->str.data); /* already JSON text */
            return 0;
        }
        jw_string(&w->text, w->str.data);
    } else if (compact(w, t, &w->text, 0) < 0) {
        return -1;
    }
    jw_string(w->out, w->text.data);
    return 0;
}

/* Appends the attributes object of traces.json ({} when the stored text
 * does not parse). */
static void file_attributes(struct span_writer *w, const char *text)
{
    struct sbuf *b = w->out;
    size_t mark = b->len;
    struct jt t = {text ? text : "", text ? text + strlen(text) : ""};
    sbuf_addc(b, '{');
    if (jt_expect(&t, '{') < 0)
        goto bad;
    if (jt_peek(&t) == '}') {
        sbuf_addc(b, '}');
        return;
    }
    for (int first = 1;; first = 0) {
        if (!first)
            sbuf_addc(b, ',');
        if (copy_string(w, &t, b) < 0 || jt_expect(&t, ':') < 0)
            goto bad;
        sbuf_addc(b, ':');
        if (file_attr(w, &t) < 0)
            goto bad;
        int c = jt_peek(&t);
        t.p++;
        if (c == '}')
            break;
        if (c != ',')
            goto bad;
    }
    sbuf_addc(b, '}');
    return;
bad:
    rewind_to(b, mark);
    sbuf_adds(b, "{}");
}

void span_writer_file(struct span_writer *w, const struct trace_span *s)
{
    struct sbuf *b = w->out;
    sbuf_adds(b, "{\"trace_id\":");
    b64_id(b, hex_trace(s->trace_id));
    sbuf_adds(b, ",\"span_id\":");
    b64_id(b, s->span_id);
    sbuf_adds(b, ",\"parent_span_id\":");
    if (s->parent_span_id)
        b64_id(b, s->parent_span_id);
    else
        sbuf_adds(b, "null");
    sbuf_adds(b, ",\"trace_state\":");
    jw_string(b, s->trace_state ? s->trace_state : "");
    sbuf_adds(b, ",\"name\":");
    jw_string(b, s->name);
    sbuf_adds(b, ",\"start_time_unix_nano\":");
    jw_int64(b, s->start_ns);
    sbuf_adds(b, ",\"end_time_unix_nano\":");
    jw_int64(b, s->end_ns < 0 ? 0 : s->end_ns);
    sbuf_adds(b, ",\"events\":");
    size_t mark = b->len;
    struct jt t = {s->events ? s->events : "", s->events ? s->events + strlen(s->events) : ""};
    if (compact(w, &t, b, 0) < 0 || jt_peek(&t) != 0) {
        rewind_to(b, mark);
        sbuf_adds(b, "{}");
    }
    sbuf_adds(b, ",\"status\":{\"code\":\"STATUS_CODE_");
    sbuf_adds(b, status_name(s->status_code));
    sbuf_adds(b, "\",\"message\":");
    jw_string(b, s->status_message ? s->status_message : "");
    sbuf_adds(b, "},\"attributes\":");
    file_attributes(w, s->attributes);
    sbuf_addc(b, '}');
}

int span_list_add(void *ctx, const struct trace_span *s)
{
    struct span_list *l = ctx;
    if (l->written++ > 0)
        sbuf_addc(l->w.out, ',');
    if (l->otlp)
        span_writer_otlp(&l->w, s);
    else
        span_writer_file(&l->w, s);
    return 0;
}
