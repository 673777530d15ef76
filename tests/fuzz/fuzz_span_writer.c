/* libFuzzer target for the span writer (server/traces/span_writer.c and
 * the JSON text reader under it, json_text.c): arbitrary span rows, as
 * the store's span cursor hands them over, written as a list of OTLP
 * spans (traces/get, batchGet) and as a list of traces.json spans. Checks that
 * both outputs are one JSON value (RFC 8259 syntax, checked here), and,
 * when the stored texts are strict JSON, one to jansson and jt_valid too,
 * holding every span written with its name and ids as given.
 *
 * Input: byte 0 holds flags (which optional columns are NULL, "tr-" on the
 * trace id), then 32 id bytes (trace 16, span 8, parent 8; written as
 * lower-case hex, as the table's checks keep them), kind, status code, the
 * start and end times (8 bytes each), then NUL-separated texts: name,
 * span_type, trace_state, status_message, attributes, events. PostgreSQL
 * hands text over as UTF-8 without NUL, so input whose texts are not UTF-8
 * is skipped; the attributes and events texts are otherwise arbitrary
 * (stored jsonb text is valid JSON, but the writer must not trust that). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/b64.h"
#include "common/sbuf.h"
#include "core/validate.h"
#include "traces/json_text.h"
#include "traces/span_writer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEAD (1 + 32 + 2 + 16)
#define NTEXTS 6
#define NSPANS 3

static void hex(char *out, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int64_t i64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return (int64_t)v;
}

/* An RFC 8259 syntax check written apart from the code under test: the
 * grammar only (numbers of any size), strings of UTF-8 without control
 * bytes and with valid escapes (lone surrogates allowed, as RFC 8259
 * does). */
struct syn {
    const char *p, *end;
};

static void syn_ws(struct syn *y)
{
    while (y->p < y->end && (*y->p == ' ' || *y->p == '\t' || *y->p == '\n' || *y->p == '\r'))
        y->p++;
}

static int syn_lit(struct syn *y, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(y->end - y->p) < n || memcmp(y->p, w, n) != 0)
        return 0;
    y->p += n;
    return 1;
}

static int syn_digits(struct syn *y)
{
    const char *s = y->p;
    while (y->p < y->end && *y->p >= '0' && *y->p <= '9')
        y->p++;
    return y->p > s;
}

static int syn_number(struct syn *y)
{
    if (y->p < y->end && *y->p == '-')
        y->p++;
    if (y->p < y->end && *y->p == '0')
        y->p++;
    else if (y->p >= y->end || *y->p < '1' || *y->p > '9' || !syn_digits(y))
        return 0;
    if (y->p < y->end && *y->p == '.') {
        y->p++;
        if (!syn_digits(y))
            return 0;
    }
    if (y->p < y->end && (*y->p == 'e' || *y->p == 'E')) {
        y->p++;
        if (y->p < y->end && (*y->p == '+' || *y->p == '-'))
            y->p++;
        if (!syn_digits(y))
            return 0;
    }
    return 1;
}

static int syn_string(struct syn *y)
{
    if (y->p >= y->end || *y->p != '"')
        return 0;
    const char *s = ++y->p;
    while (y->p < y->end && *y->p != '"') {
        unsigned char c = (unsigned char)*y->p;
        if (c < 0x20)
            return 0;
        if (c != '\\') {
            y->p++;
            continue;
        }
        if (++y->p >= y->end)
            return 0;
        c = (unsigned char)*y->p++;
        if (c == 'u') {
            for (int i = 0; i < 4; i++, y->p++)
                if (y->p >= y->end ||
                    !((*y->p >= '0' && *y->p <= '9') || (*y->p >= 'a' && *y->p <= 'f') ||
                      (*y->p >= 'A' && *y->p <= 'F')))
                    return 0;
        } else if (!strchr("\"\\/bfnrt", c) || c == 0) {
            return 0;
        }
    }
    if (y->p >= y->end || !validate_utf8(s, (size_t)(y->p - s)))
        return 0;
    y->p++;
    return 1;
}

static int syn_value(struct syn *y, int depth)
{
    syn_ws(y);
    if (y->p >= y->end || depth > 10000)
        return 0;
    char c = *y->p;
    if (c == '"')
        return syn_string(y);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        y->p++;
        syn_ws(y);
        if (y->p < y->end && *y->p == close) {
            y->p++;
            return 1;
        }
        for (;;) {
            if (c == '{') {
                syn_ws(y);
                if (!syn_string(y))
                    return 0;
                syn_ws(y);
                if (y->p >= y->end || *y->p++ != ':')
                    return 0;
            }
            if (!syn_value(y, depth + 1))
                return 0;
            syn_ws(y);
            if (y->p >= y->end)
                return 0;
            if (*y->p == close) {
                y->p++;
                return 1;
            }
            if (*y->p++ != ',')
                return 0;
        }
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return syn_number(y);
    return syn_lit(y, "true") || syn_lit(y, "false") || syn_lit(y, "null");
}

/* 1 when member key of o is a string equal to want. */
static int has_string(const json_t *o, const char *key, const char *want)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v != NULL && strcmp(v, want) == 0;
}

/* The base64 a hex id is written as (quotes left out). */
static void b64_of_hex(char *out, const uint8_t *raw, size_t n)
{
    size_t len = b64_encode(out, raw, n);
    out[len] = '\0';
}

static void check(const struct sbuf *b, int otlp, int strict, const struct trace_span *s,
                  const uint8_t *ids)
{
    struct syn y = {b->data, b->data + b->len};
    if (!syn_value(&y, 0) || (syn_ws(&y), y.p != y.end))
        abort();
    if (!strict)
        return; /* numbers past double or int64 are copied as stored: JSON, but not jansson's */
    if (!jt_valid(b->data, b->len))
        abort();
    json_error_t err;
    json_t *doc = json_loadb(b->data, b->len, 0, &err);
    if (!json_is_array(doc) || json_array_size(doc) != NSPANS)
        abort();
    char trace_b64[B64_ENCODED_LEN(16) + 1], span_b64[B64_ENCODED_LEN(8) + 1];
    b64_of_hex(trace_b64, ids, 16);
    b64_of_hex(span_b64, ids + 16, 8);
    size_t i;
    json_t *o;
    json_array_foreach(doc, i, o)
    {
        if (!json_is_object(o) || !has_string(o, "name", s->name) ||
            !has_string(o, "trace_id", trace_b64) || !has_string(o, "span_id", span_b64))
            abort();
        json_t *parent = json_object_get(o, "parent_span_id");
        if (s->parent_span_id == NULL ? (otlp ? parent != NULL : !json_is_null(parent))
                                      : !json_is_string(parent))
            abort();
        if (!json_is_object(json_object_get(o, "status")))
            abort();
        json_t *attrs = json_object_get(o, "attributes");
        if (otlp ? (attrs != NULL && !json_is_array(attrs)) : !json_is_object(attrs))
            abort();
    }
    json_decref(doc);
}

static void write_list(int otlp, int strict, const struct trace_span *s, const uint8_t *ids)
{
    struct sbuf out;
    struct span_list l = {.otlp = otlp};
    sbuf_init(&out);
    span_writer_init(&l.w, &out);
    sbuf_addc(&out, '[');
    for (int i = 0; i < NSPANS; i++)
        span_list_add(&l, s); /* the scratch buffers go from span to span */
    sbuf_addc(&out, ']');
    check(&out, otlp, strict, s, ids);
    span_writer_cleanup(&l.w);
    sbuf_cleanup(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HEAD)
        return 0;
    const uint8_t flags = data[0];
    const uint8_t *ids = data + 1;

    /* the texts, split at NUL into copies that end with one */
    char *texts[NTEXTS];
    const char *p = (const char *)data + HEAD, *end = (const char *)data + size;
    for (int i = 0; i < NTEXTS; i++) {
        const char *nul = p < end ? memchr(p, '\0', (size_t)(end - p)) : NULL;
        size_t n = nul ? (size_t)(nul - p) : (size_t)(end - p);
        texts[i] = malloc(n + 1);
        memcpy(texts[i], p, n);
        texts[i][n] = '\0';
        p = nul ? nul + 1 : end;
    }
    int ok = 1;
    for (int i = 0; i < NTEXTS; i++)
        ok = ok && validate_utf8(texts[i], strlen(texts[i]));
    if (ok) {
        char trace_id[3 + 32 + 1], span_id[17], parent[17];
        int prefix = (flags & 0x40) != 0;
        memcpy(trace_id, "tr-", 3);
        hex(trace_id + 3 * prefix, ids, 16);
        hex(span_id, ids + 16, 8);
        hex(parent, ids + 24, 8);
        const uint8_t *q = data + 33;
        struct trace_span s = {
            .trace_id = trace_id,
            .span_id = span_id,
            .parent_span_id = (flags & 0x01) ? NULL : parent,
            .name = texts[0],
            .span_type = (flags & 0x02) ? NULL : texts[1],
            .kind = (int8_t)q[0],
            .trace_state = (flags & 0x04) ? NULL : texts[2],
            .status_code = (int8_t)q[1],
            .status_message = (flags & 0x08) ? NULL : texts[3],
            .start_ns = i64(q + 2),
            .end_ns = (flags & 0x10) ? -1 : i64(q + 10),
            .attributes = texts[4],
            .events = texts[5],
            .input_tokens = (flags & 0x20) ? -1 : i64(q + 2) & 0xffff,
            .output_tokens = (flags & 0x80) ? -1 : i64(q + 10) & 0xffff,
        };
        /* stored text that jansson reads too: so must the output be */
        int strict = jt_valid(texts[4], strlen(texts[4])) && jt_valid(texts[5], strlen(texts[5]));
        write_list(1, strict, &s, ids);
        write_list(0, strict, &s, ids);
    }
    for (int i = 0; i < NTEXTS; i++)
        free(texts[i]);
    return 0;
}
