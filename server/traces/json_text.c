/* A forward reader and a strict checker of JSON text (json_text.h). */
#include "json_text.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/validate.h"

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(struct jt *t)
{
    while (t->p < t->end && is_ws(*t->p))
        t->p++;
}

int jt_peek(struct jt *t)
{
    skip_ws(t);
    return t->p < t->end ? (unsigned char)*t->p : 0;
}

int jt_expect(struct jt *t, char c)
{
    if (jt_peek(t) != (unsigned char)c)
        return -1;
    t->p++;
    return 0;
}

/* Length of the literal word at p if it is exactly word, else 0. */
static size_t literal(const struct jt *t, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(t->end - t->p) >= n && memcmp(t->p, word, n) == 0 ? n : 0;
}

/* Steps over a number per the JSON grammar; *integral tells whether it had
 * neither fraction nor exponent. Returns 0, or -1. */
static int scan_number(struct jt *t, int *integral)
{
    const char *p = t->p, *e = t->end;
    *integral = 1;
    if (p < e && *p == '-')
        p++;
    if (p >= e || *p < '0' || *p > '9')
        return -1;
    if (*p == '0')
        p++;
    else
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    if (p < e && *p == '.') {
        *integral = 0;
        p++;
        if (p >= e || *p < '0' || *p > '9')
            return -1;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        *integral = 0;
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || *p < '0' || *p > '9')
            return -1;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    t->p = p;
    return 0;
}

/* 1 when the integer text s[0..n) (grammar already checked) fits int64. */
static int fits_int64(const char *s, size_t n)
{
    int neg = s[0] == '-';
    const char *digits = s + neg;
    size_t nd = n - (size_t)neg;
    const char *limit = neg ? "9223372036854775808" : "9223372036854775807";
    if (nd != 19)
        return nd < 19;
    return memcmp(digits, limit, 19) <= 0;
}

/* 1 when the real text s[0..n) reads as a finite double. */
static int finite_real(const char *s, size_t n)
{
    char small[128];
    char *copy = n < sizeof small ? small : malloc(n + 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, s, n);
    copy[n] = '\0';
    errno = 0;
    double v = strtod(copy, NULL);
    int ok = !(isinf(v) && errno == ERANGE) && !isinf(v);
    if (copy != small)
        free(copy);
    return ok;
}

enum jt_kind jt_kind(struct jt *t)
{
    int c = jt_peek(t);
    switch (c) {
    case '"':
        return JT_STRING;
    case '{':
        return JT_OBJECT;
    case '[':
        return JT_ARRAY;
    case 't':
        return literal(t, "true") ? JT_TRUE : JT_BAD;
    case 'f':
        return literal(t, "false") ? JT_FALSE : JT_BAD;
    case 'n':
        return literal(t, "null") ? JT_NULL : JT_BAD;
    default:
        break;
    }
    if (c != '-' && (c < '0' || c > '9'))
        return JT_BAD;
    struct jt probe = *t;
    int integral;
    if (scan_number(&probe, &integral) < 0)
        return JT_BAD;
    return integral && fits_int64(t->p, (size_t)(probe.p - t->p)) ? JT_INT : JT_REAL;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static void put_utf8(struct sbuf *out, unsigned cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    sbuf_add(out, b, n);
}

/* Reads the code point of a \u escape at p (after the 'u'), with the low
 * half of a surrogate pair when one follows; *used: bytes read after the
 * 'u'. Returns -1 on a bad escape or a lone surrogate. */
static int unicode_escape(const char *p, const char *end, unsigned *cp, size_t *used)
{
    unsigned hi, lo;
    if (end - p < 4 || hex4(p, &hi) < 0)
        return -1;
    *used = 4;
    if (hi >= 0xDC00 && hi <= 0xDFFF)
        return -1;
    if (hi < 0xD800 || hi > 0xDBFF) {
        *cp = hi;
        return 0;
    }
    if (end - p < 10 || p[4] != '\\' || p[5] != 'u' || hex4(p + 6, &lo) < 0 || lo < 0xDC00 ||
        lo > 0xDFFF)
        return -1;
    *cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    *used = 10;
    return 0;
}

/* Scans the string at t->p ('"'); with out set, decodes it into out. With
 * strict set, refuses control characters, \u0000 and bad UTF-8. */
static int scan_string(struct jt *t, struct sbuf *out, int strict)
{
    const char *p = t->p + 1, *e = t->end, *run = p;
    while (p < e && *p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 && strict)
            return -1;
        if (c != '\\') {
            p++;
            continue;
        }
        if (out != NULL)
            sbuf_add(out, run, (size_t)(p - run));
        if (p + 1 >= e)
            return -1;
        char x = p[1];
        const char *simple = strchr("\"\\/bfnrt", x);
        if (x != '\0' && simple != NULL) {
            static const char decoded[] = "\"\\/\b\f\n\r\t";
            if (out != NULL)
                sbuf_addc(out, decoded[simple - "\"\\/bfnrt"]);
            p += 2;
        } else if (x == 'u') {
            unsigned cp;
            size_t used;
            if (unicode_escape(p + 2, e, &cp, &used) < 0 || (cp == 0 && strict))
                return -1;
            if (out != NULL)
                put_utf8(out, cp);
            p += 2 + used;
        } else {
            return -1;
        }
        run = p;
    }
    if (p >= e)
        return -1;
    if (out != NULL)
        sbuf_add(out, run, (size_t)(p - run));
    t->p = p + 1;
    return 0;
}

int jt_string(struct jt *t, struct sbuf *out)
{
    if (jt_peek(t) != '"')
        return -1;
    sbuf_add(out, "", 0); /* NUL-terminated even when empty */
    return scan_string(t, out, 0);
}

/* The bytes a string scan stops at: control characters, '"' and '\\'. */
static const unsigned char string_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,         1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, ['"'] = 1, ['\\'] = 1,
};

int jt_string_text(struct jt *t, const char **start, size_t *len, int *plain)
{
    if (jt_peek(t) != '"')
        return -1;
    const char *p = t->p + 1, *e = t->end;
    *plain = 1;
    for (;; p++) {
        while (p < e && !string_stop[(unsigned char)*p])
            p++;
        if (p >= e || *p == '"')
            break;
        if ((unsigned char)*p < 0x20) {
            *plain = 0;
            continue;
        }
        if (p + 1 >= e) /* a backslash: the escaped byte is skipped */
            return -1;
        p++;
        if (*p == 'u' || *p == '/')
            *plain = 0; /* the decoding path checks and rewrites these */
        else if (*p == '\0' || strchr("\"\\bfnrt", *p) == NULL)
            return -1;
    }
    if (p >= e)
        return -1;
    *start = t->p;
    *len = (size_t)(p + 1 - t->p);
    t->p = p + 1;
    return 0;
}

/* Steps past one value; strict as for jt_valid. */
static int skip_value(struct jt *t, int depth, int strict)
{
    enum jt_kind k = jt_kind(t);
    int integral;
    const char *start = t->p;
    switch (k) {
    case JT_BAD:
        return -1;
    case JT_NULL:
    case JT_TRUE:
        t->p += 4;
        return 0;
    case JT_FALSE:
        t->p += 5;
        return 0;
    case JT_INT:
    case JT_REAL:
        if (scan_number(t, &integral) < 0)
            return -1;
        if (strict && k == JT_REAL && integral)
            return -1; /* an integer beyond int64: jansson refuses it */
        return strict && k == JT_REAL ? (finite_real(start, (size_t)(t->p - start)) ? 0 : -1) : 0;
    case JT_STRING:
        return scan_string(t, NULL, strict);
    case JT_ARRAY:
    case JT_OBJECT:
        break;
    }
    if (depth >= JT_MAX_DEPTH)
        return -1;
    char close = k == JT_ARRAY ? ']' : '}';
    t->p++;
    if (jt_peek(t) == (unsigned char)close) {
        t->p++;
        return 0;
    }
    for (;;) {
        if (k == JT_OBJECT) {
            if (jt_peek(t) != '"' || scan_string(t, NULL, strict) < 0 || jt_expect(t, ':') < 0)
                return -1;
        }
        if (skip_value(t, depth + 1, strict) < 0)
            return -1;
        int c = jt_peek(t);
        t->p++;
        if (c == close)
            return 0;
        if (c != ',')
            return -1;
    }
}

int jt_skip(struct jt *t, const char **start, size_t *len)
{
    skip_ws(t);
    *start = t->p;
    if (skip_value(t, 0, 0) < 0)
        return -1;
    *len = (size_t)(t->p - *start);
    return 0;
}

int jt_valid(const char *s, size_t len)
{
    struct jt t = {s, s + len};
    if (!validate_utf8(s, len) || memchr(s, '\0', len) != NULL)
        return 0;
    if (skip_value(&t, 0, 1) < 0)
        return 0;
    return jt_peek(&t) == 0 && t.p == t.end;
}
