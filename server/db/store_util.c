/* Typed column reads and array literals for store_* files. */
#include "store_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
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
    return su_parse_double(PQgetvalue(res, row, col));
}

double su_parse_double(const char *s)
{
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

void su_kv_arrays(struct sbuf *keys, struct sbuf *vals, const struct kv *kv, size_t n)
{
    sbuf_init(keys);
    sbuf_init(vals);
    sbuf_addc(keys, '{');
    sbuf_addc(vals, '{');
    for (size_t i = 0; i < n; i++) {
        su_array_text(keys, kv[i].key, i == 0);
        su_array_text(vals, kv[i].value, i == 0);
    }
    sbuf_addc(keys, '}');
    sbuf_addc(vals, '}');
}

void su_put_be32(char *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (char)(v & 0xff);
}

void su_put_be64(char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (char)(v & 0xff);
}

uint32_t su_get_be32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | (uint32_t)u[3];
}

uint64_t su_get_be64(const char *p)
{
    return (uint64_t)su_get_be32(p) << 32 | su_get_be32(p + 4);
}

static void put_be32(struct sbuf *b, uint32_t v)
{
    char p[4];
    su_put_be32(p, v);
    sbuf_add(b, p, sizeof p);
}

void su_barray_begin(struct sbuf *b, uint32_t elem_oid, size_t n)
{
    sbuf_reset(b);
    put_be32(b, 1);           /* dimensions */
    put_be32(b, 0);           /* no NULLs */
    put_be32(b, elem_oid);    /* element type */
    put_be32(b, (uint32_t)n); /* elements in the dimension */
    put_be32(b, 1);           /* its lower bound */
}

void su_barray_int4(struct sbuf *b, int32_t v)
{
    put_be32(b, 4);
    put_be32(b, (uint32_t)v);
}

void su_barray_int8(struct sbuf *b, int64_t v)
{
    char p[8];
    put_be32(b, 8);
    su_put_be64(p, (uint64_t)v);
    sbuf_add(b, p, sizeof p);
}

void su_barray_float8(struct sbuf *b, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    su_barray_int8(b, (int64_t)bits);
}

int su_active(const PGresult *res, int row, int col)
{
    return strcmp(PQgetvalue(res, row, col), STORE_LIFECYCLE_ACTIVE) == 0;
}

void su_run_id(const char *uuid_text, char out[33])
{
    size_t n = 0;
    for (const char *p = uuid_text; *p && n < 32; p++)
        if (*p != '-')
            out[n++] = *p;
    out[n] = '\0';
}

void su_run_info(const PGresult *res, int row, struct arena *arena, struct run_info *out)
{
    memset(out, 0, sizeof *out);
    out->internal_id = su_int64(res, row, 0);
    su_run_id(PQgetvalue(res, row, 1), out->run_id);
    out->experiment_id = su_int64(res, row, 2);
    out->name = su_str(res, row, 3, arena);
    out->user_id = su_str(res, row, 4, arena);
    out->status = (int)su_int64(res, row, 5);
    out->start_time = su_int64(res, row, 6);
    out->has_end_time = !PQgetisnull(res, row, 7);
    out->end_time = su_int64(res, row, 7);
    out->deleted = !su_active(res, row, 8);
    out->artifact_uri = su_str(res, row, 9, arena);
}

void su_experiment(const PGresult *res, int row, struct arena *arena, struct experiment *out)
{
    memset(out, 0, sizeof *out);
    out->id = su_int64(res, row, 0);
    out->name = su_str(res, row, 1, arena);
    out->artifact_location = su_str(res, row, 2, arena);
    out->deleted = !su_active(res, row, 3);
    out->creation_time = su_int64(res, row, 4);
    out->last_update_time = su_int64(res, row, 5);
}

/* Attaches the tags of exps[0..n) (one statement, rows in list order). */
int su_experiment_tags(struct experiment *exps, size_t n, struct arena *arena)
{
    struct sbuf ids;
    PGresult *res = NULL;

    if (n == 0)
        return DB_OK;
    sbuf_init(&ids);
    sbuf_addc(&ids, '{');
    for (size_t i = 0; i < n; i++)
        su_array_int64(&ids, exps[i].id, i == 0);
    sbuf_addc(&ids, '}');
    const char *params[] = {ids.data};
    int rc = db_exec("SELECT x.ord, t.key, t.value"
                     " FROM unnest($1::bigint[]) WITH ORDINALITY AS x(id, ord)"
                     " JOIN experiment_tags t ON t.experiment_id = x.id ORDER BY x.ord, t.key",
                     1, params, &res);
    sbuf_cleanup(&ids);
    if (rc != DB_OK)
        return rc;
    int rows = PQntuples(res), r = 0;
    for (size_t i = 0; i < n; i++) {
        int begin = r;
        while (r < rows && (size_t)su_int64(res, r, 0) == i + 1)
            r++;
        if (r == begin)
            continue;
        exps[i].tags = arena_alloc(arena, (size_t)(r - begin) * sizeof *exps[i].tags);
        for (int k = begin; k < r; k++) {
            exps[i].tags[exps[i].ntags].key = su_str(res, k, 1, arena);
            exps[i].tags[exps[i].ntags++].value = su_str(res, k, 2, arena);
        }
    }
    PQclear(res);
    return DB_OK;
}
