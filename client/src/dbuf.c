/* A growable byte buffer that reports ET_ENOMEM instead of aborting, plus
 * the JSON string/double writers of the fast log-batch encoder. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void et__dbuf_init(struct et_dbuf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

void et__dbuf_cleanup(struct et_dbuf *b)
{
    free(b->data);
    et__dbuf_init(b);
}

static int reserve(struct et_dbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return ET_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        return ET_ENOMEM;
    b->data = p;
    b->cap = cap;
    return ET_OK;
}

int et__dbuf_add(struct et_dbuf *b, const void *p, size_t n)
{
    if (reserve(b, n) != ET_OK)
        return ET_ENOMEM;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return ET_OK;
}

int et__dbuf_addf(struct et_dbuf *b, const char *fmt, ...)
{
    va_list ap;
    char small[128];

    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return ET_EINVAL;
    if ((size_t)n < sizeof small)
        return et__dbuf_add(b, small, (size_t)n);
    if (reserve(b, (size_t)n) != ET_OK)
        return ET_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return ET_OK;
}

int et__dbuf_add_jstr(struct et_dbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    if (reserve(b, strlen(s) * 6 + 2) != ET_OK)
        return ET_ENOMEM;
    char *o = b->data + b->len;
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            *o++ = '\\';
            *o++ = (char)*p;
        } else if (*p < 0x20) {
            *o++ = '\\';
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        } else {
            *o++ = (char)*p;
        }
    }
    *o++ = '"';
    *o = '\0';
    b->len = (size_t)(o - b->data);
    return ET_OK;
}

int et__dbuf_add_jdouble(struct et_dbuf *b, double v)
{
    if (isnan(v))
        return et__dbuf_add(b, "\"NaN\"", 5);
    if (isinf(v))
        return v > 0 ? et__dbuf_add(b, "\"Infinity\"", 10) : et__dbuf_add(b, "\"-Infinity\"", 11);
    return et__dbuf_addf(b, "%.17g", v);
}
