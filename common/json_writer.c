/* The server's one JSON text writer for hand-built replies and log lines
 * (core/json_writer.h): string escaping as jansson does it, and numbers as
 * the contract wants them (round-trip doubles in the digits core/dtoa.c
 * finds, NaN and infinities as strings). Not a DOM, no validation of UTF-8,
 * no allocation of its own. */
#include "json_writer.h"

#include "dtoa.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* ---- strings ---- */

static const char hex_digits[] = "0123456789ABCDEF";

/* The escape of a byte that JSON does not allow raw (", \, control
 * characters) into esc; returns its length (2 or 6). Short forms where JSON
 * has them, else \u00XX with upper-case hex, as jansson writes. */
static inline size_t escape_byte(unsigned char c, char esc[6])
{
    esc[0] = '\\';
    switch (c) {
    case '"':
        esc[1] = '"';
        return 2;
    case '\\':
        esc[1] = '\\';
        return 2;
    case '\b':
        esc[1] = 'b';
        return 2;
    case '\f':
        esc[1] = 'f';
        return 2;
    case '\n':
        esc[1] = 'n';
        return 2;
    case '\r':
        esc[1] = 'r';
        return 2;
    case '\t':
        esc[1] = 't';
        return 2;
    default:
        esc[1] = 'u';
        esc[2] = '0';
        esc[3] = '0';
        esc[4] = hex_digits[c >> 4];
        esc[5] = hex_digits[c & 15];
        return 6;
    }
}

static inline int needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

void jw_string(struct sbuf *b, const char *s)
{
    char esc[6];
    const char *run = s = s ? s : "";
    sbuf_addc(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!needs_escape(c))
            continue;
        /* copy the unescaped run before c in one piece */
        sbuf_add(b, run, (size_t)(s - run));
        run = s + 1;
        sbuf_add(b, esc, escape_byte(c, esc));
    }
    sbuf_add(b, run, (size_t)(s - run));
    sbuf_addc(b, '"');
}

void jw_string_len(struct sbuf *b, const char *s, size_t len)
{
    char esc[6];
    size_t run = 0;
    sbuf_addc(b, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!needs_escape(c))
            continue;
        sbuf_add(b, s + run, i - run);
        run = i + 1;
        sbuf_add(b, esc, escape_byte(c, esc));
    }
    sbuf_add(b, s + run, len - run);
    sbuf_addc(b, '"');
}

size_t jw_escape_into(char *dst, size_t cap, size_t pos, const char *s)
{
    char esc[6];
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (!needs_escape(*p)) {
            if (pos + 1 > cap)
                break;
            dst[pos++] = (char)*p;
            continue;
        }
        size_t n = escape_byte(*p, esc);
        if (pos + n > cap)
            break;
        memcpy(dst + pos, esc, n);
        pos += n;
    }
    return pos;
}

/* ---- numbers: round-trip doubles and fast integers ---- */

/* Writes the decimal digits of u backwards, ending just before end;
 * returns where they start. */
static char *u64_digits(uint64_t u, char *end)
{
    const char *pairs = dtoa_digit_pairs;
    char *p = end;
    while (u >= 100) {
        unsigned d = (unsigned)(u % 100) * 2;
        u /= 100;
        *--p = pairs[d + 1];
        *--p = pairs[d];
    }
    if (u >= 10) {
        *--p = pairs[u * 2 + 1];
        *--p = pairs[u * 2];
    } else {
        *--p = (char)('0' + u);
    }
    return p;
}

size_t jw_int64_text(char *out, int64_t v)
{
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    size_t n = 0;
    if (v < 0)
        out[n++] = '-';
    n += (size_t)dtoa_u64_len(u);
    (void)u64_digits(u, out + n); /* straight into place: no scratch, no copy */
    return n;
}

size_t jw_double_text(char *out, double v)
{
    /* dtoa_digits fills DTOA_DIGITS_MAX bytes; the rest is room for the
     * fixed-size copies below, which move whole blocks and let the text's
     * length cut them (no call to memcpy for a few bytes) */
    char digits[DTOA_DIGITS_MAX + 8];
    int k, n = 0;

    if (isnan(v)) {
        memcpy(out, "\"NaN\"", 5);
        return 5;
    }
    if (isinf(v)) {
        const char *s = v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
        size_t len = strlen(s);
        memcpy(out, s, len);
        return len;
    }
    if (signbit(v)) {
        out[n++] = '-';
        v = -v;
    }
    if (v == 0) {
        memcpy(out + n, "0.0", 3);
        return (size_t)n + 3;
    }
    int len = dtoa_digits(v, digits, &k); /* 1..17 digits */
    int point = len + k;                  /* v = 0.digits * 10^point */
    if (point > 0 && point <= 21) {
        if (k >= 0) { /* an integer: digits, zeros, ".0" */
            memcpy(out + n, digits, 20);
            n += len;
            memset(out + n, '0', (size_t)k);
            n += k;
            memcpy(out + n, ".0", 2);
            return (size_t)n + 2;
        }
        /* point < len <= 17: the integral digits, '.', the fraction */
        memcpy(out + n, digits, 20);
        n += point;
        out[n++] = '.';
        if (point <= 14)
            memcpy(out + n, digits + point, 16);
        else
            memcpy(out + n, digits + point, (size_t)(len - point));
        return (size_t)(n + len - point);
    }
    if (point <= 0 && point > -6) {
        memcpy(out + n, "0.000000", 8);
        n += 2 - point;
        memcpy(out + n, digits, 20);
        return (size_t)(n + len);
    }
    out[n++] = digits[0];
    if (len > 1) {
        out[n++] = '.';
        memcpy(out + n, digits + 1, 20);
        n += len - 1;
    }
    out[n++] = 'e';
    return (size_t)n + jw_int64_text(out + n, point - 1);
}

void jw_double(struct sbuf *b, double v)
{
    char text[JW_DOUBLE_MAX];
    sbuf_add(b, text, jw_double_text(text, v));
}

void jw_int64(struct sbuf *b, int64_t v)
{
    char text[JW_INT64_MAX];
    sbuf_add(b, text, jw_int64_text(text, v));
}

void jw_number_text(struct sbuf *b, const char *text)
{
    if (strcmp(text, "NaN") == 0 || strcmp(text, "Infinity") == 0 ||
        strcmp(text, "-Infinity") == 0) {
        jw_string(b, text);
        return;
    }
    sbuf_adds(b, text);
    if (strpbrk(text, ".eE") == NULL)
        sbuf_add(b, ".0", 2);
}
