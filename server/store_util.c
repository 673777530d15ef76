/* Typed column reads and array literals for store_* files. */
#include "store_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"

int64_t store_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t su_int64(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return 0;
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

double su_double(const PGresult *res, int row, int col)
{
    const char *s = PQgetvalue(res, row, col);
    if (strcmp(s, "NaN") == 0)
        return NAN;
    if (strcmp(s, "Infinity") == 0)
        return INFINITY;
    if (strcmp(s, "-Infinity") == 0)
        return -INFINITY;
    return strtod(s, NULL);
}

const char *su_str(const PGresult *res, int row, int col, struct arena *arena)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    return arena_strndup(arena, PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
}

const char *su_i64(char *buf, int64_t v)
{
    snprintf(buf, 24, "%lld", (long long)v);
    return buf;
}

void su_array_text(struct sbuf *b, const char *s, int first)
{
    if (!first)
        sbuf_addc(b, ',');
    sbuf_addc(b, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            sbuf_addc(b, '\\');
        sbuf_addc(b, *p);
    }
    sbuf_addc(b, '"');
}

void su_array_double(struct sbuf *b, double v, int first)
{
    if (!first)
        sbuf_addc(b, ',');
    if (isnan(v))
        sbuf_adds(b, "NaN");
    else if (isinf(v))
        sbuf_adds(b, v > 0 ? "Infinity" : "-Infinity");
    else
        sbuf_addf(b, "%.17g", v);
}

void su_array_int64(struct sbuf *b, int64_t v, int first)
{
    if (!first)
        sbuf_addc(b, ',');
    sbuf_addf(b, "%lld", (long long)v);
}

void su_run_id(const char *uuid_text, char out[33])
{
    size_t n = 0;
    for (const char *p = uuid_text; *p && n < 32; p++)
        if (*p != '-')
            out[n++] = *p;
    out[n] = '\0';
}
