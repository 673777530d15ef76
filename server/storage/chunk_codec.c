/* Unpacking metric_chunks rows from PostgreSQL's binary array format
 * (chunk_codec.h). The format (array_send): int4 ndim, int4 has-null flag,
 * oid element type, then per dimension int4 length and int4 lower bound,
 * then per element int4 byte length (-1: NULL) and the bytes. Nothing here
 * trusts a length it has not checked against the buffer. */
#include "chunk_codec.h"

#include <math.h>
#include <string.h>

static uint32_t be32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | (uint32_t)u[3];
}

static uint64_t be64(const char *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

int chunk_array_parse(const char *buf, size_t len, uint32_t oid, struct chunk_array *out)
{
    int size = oid == CHUNK_OID_INT4 ? 4 : 8;

    out->n = 0;
    out->elem_size = size;
    out->data = NULL;
    if (buf == NULL || len < 12 || be32(buf + 8) != oid)
        return -1;
    uint32_t ndim = be32(buf);
    if (ndim == 0)
        return len == 12 ? 0 : -1;
    if (ndim != 1 || len < 20)
        return -1;
    uint32_t n = be32(buf + 12);
    if (n > INT32_MAX)
        return -1;
    /* every element is its length word and size bytes: the whole array's
     * size is known before a byte of it is read */
    if ((len - 20) / (size_t)(4 + size) != n || (len - 20) % (size_t)(4 + size) != 0)
        return -1;
    const char *p = buf + 20;
    for (uint32_t i = 0; i < n; i++, p += 4 + size)
        if (be32(p) != (uint32_t)size) /* -1 (NULL) included */
            return -1;
    out->n = n;
    out->data = buf + 20;
    return 0;
}

static const char *element(const struct chunk_array *a, int64_t i)
{
    return a->data + (size_t)i * (size_t)(4 + a->elem_size) + 4;
}

int chunk_point_cmp(const struct metric *a, const struct metric *b)
{
    if (a->step != b->step)
        return a->step < b->step ? -1 : 1;
    if (a->timestamp != b->timestamp)
        return a->timestamp < b->timestamp ? -1 : 1;
    int na = isnan(a->value), nb = isnan(b->value);
    if (na || nb)
        return na - nb;
    return a->value < b->value ? -1 : a->value > b->value ? 1 : 0;
}

/* Parses column bytes (NULL: absent) into *a, which must then hold n. */
static int column(const char *buf, size_t len, uint32_t oid, int64_t n, struct chunk_array *a)
{
    if (buf == NULL) {
        a->data = NULL;
        a->n = 0;
        return 0;
    }
    return chunk_array_parse(buf, len, oid, a) == 0 && a->n == n ? 0 : -1;
}

static int steps_of(const struct chunk_row *row, struct metric *out)
{
    struct chunk_array soff, sraw;
    int64_t n = row->n;

    if (column(row->sraw, row->sraw_len, CHUNK_OID_INT8, n, &sraw) < 0 ||
        column(row->soff, row->soff_len, CHUNK_OID_INT4, n, &soff) < 0)
        return -1;
    if (sraw.data != NULL) {
        for (int64_t i = 0; i < n; i++)
            out[i].step = (int64_t)be64(element(&sraw, i));
    } else if (soff.data != NULL) {
        for (int64_t i = 0; i < n; i++) {
            int32_t off = (int32_t)be32(element(&soff, i));
            if (__builtin_add_overflow(row->first_step, (int64_t)off, &out[i].step))
                return -1;
        }
    } else {
        int64_t span;
        if (__builtin_sub_overflow(row->last_step, row->first_step, &span) || span != n - 1)
            return -1;
        for (int64_t i = 0; i < n; i++)
            out[i].step = row->first_step + i; /* <= last_step: no overflow */
    }
    return 0;
}

static int timestamps_of(const struct chunk_row *row, struct metric *out)
{
    struct chunk_array toff, traw;
    int64_t n = row->n;

    if (column(row->traw, row->traw_len, CHUNK_OID_INT8, n, &traw) < 0 ||
        column(row->toff, row->toff_len, CHUNK_OID_INT4, n, &toff) < 0)
        return -1;
    if (traw.data != NULL) {
        for (int64_t i = 0; i < n; i++)
            out[i].timestamp = (int64_t)be64(element(&traw, i));
    } else if (toff.data != NULL) {
        for (int64_t i = 0; i < n; i++) {
            int32_t off = (int32_t)be32(element(&toff, i));
            if (__builtin_add_overflow(row->t0, (int64_t)off, &out[i].timestamp))
                return -1;
        }
    } else {
        return -1;
    }
    return 0;
}

int64_t chunk_unpack(const struct chunk_row *row, struct metric *out, size_t cap)
{
    struct chunk_array vals;
    int64_t n = row->n;

    if (n < 0 || (uint64_t)n > cap || row->vals == NULL ||
        column(row->vals, row->vals_len, CHUNK_OID_FLOAT8, n, &vals) < 0)
        return -1;
    if (steps_of(row, out) < 0 || timestamps_of(row, out) < 0)
        return -1;
    for (int64_t i = 0; i < n; i++) {
        uint64_t bits = be64(element(&vals, i));
        memcpy(&out[i].value, &bits, sizeof bits);
        out[i].key = NULL;
        out[i].link = NULL;
        if (i > 0 && chunk_point_cmp(&out[i - 1], &out[i]) >= 0)
            return -1;
    }
    return n;
}
