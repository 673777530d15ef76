/* Unit tests for storage/chunk_codec.h: the binary arrays of a
 * metric_chunks row are checked before use (a corrupt or hostile row is
 * refused, never read past its end), and a good row unpacks to the points
 * the SQL reader (metric_points) gives: steps consecutive, as offsets or
 * raw, timestamps as offsets or raw, values bit for bit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/chunk_codec.h"

/* A binary array being built: header, one dimension, elements. */
struct arr {
    char buf[4096];
    size_t len;
};

static void put32(struct arr *a, uint32_t v)
{
    for (int i = 3; i >= 0; i--)
        a->buf[a->len++] = (char)(v >> (8 * i));
}

static void put64(struct arr *a, uint64_t v)
{
    put32(a, (uint32_t)(v >> 32));
    put32(a, (uint32_t)v);
}

/* The header of a one-dimensional array of n elements of type oid. */
static void header(struct arr *a, uint32_t oid, uint32_t n)
{
    a->len = 0;
    put32(a, 1); /* ndim */
    put32(a, 0); /* no NULLs */
    put32(a, oid);
    put32(a, n); /* dimension length */
    put32(a, 1); /* lower bound */
}

static void int4s(struct arr *a, const int32_t *v, uint32_t n)
{
    header(a, CHUNK_OID_INT4, n);
    for (uint32_t i = 0; i < n; i++) {
        put32(a, 4);
        put32(a, (uint32_t)v[i]);
    }
}

static void int8s(struct arr *a, const int64_t *v, uint32_t n)
{
    header(a, CHUNK_OID_INT8, n);
    for (uint32_t i = 0; i < n; i++) {
        put32(a, 8);
        put64(a, (uint64_t)v[i]);
    }
}

static void float8s(struct arr *a, const double *v, uint32_t n)
{
    header(a, CHUNK_OID_FLOAT8, n);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &v[i], sizeof bits);
        put32(a, 8);
        put64(a, bits);
    }
}

static void test_parse_good(void **state)
{
    (void)state;
    struct arr a;
    struct chunk_array out;
    const int32_t v[] = {0, 1, -5, INT32_MAX};
    int4s(&a, v, 4);
    assert_int_equal(chunk_array_parse(a.buf, a.len, CHUNK_OID_INT4, &out), 0);
    assert_int_equal(out.n, 4);
    assert_int_equal(out.elem_size, 4);

    /* the empty array: no dimensions at all */
    a.len = 0;
    put32(&a, 0);
    put32(&a, 0);
    put32(&a, CHUNK_OID_FLOAT8);
    assert_int_equal(chunk_array_parse(a.buf, a.len, CHUNK_OID_FLOAT8, &out), 0);
    assert_int_equal(out.n, 0);
}

static void test_parse_refuses(void **state)
{
    (void)state;
    struct arr a;
    struct chunk_array out;
    const int64_t v[] = {1, 2, 3};

    int8s(&a, v, 3);
    assert_int_equal(chunk_array_parse(a.buf, a.len, CHUNK_OID_INT8, &out), 0);
    /* every prefix is refused: no read past the end */
    for (size_t len = 0; len < a.len; len++)
        assert_int_equal(chunk_array_parse(a.buf, len, CHUNK_OID_INT8, &out), -1);
    assert_int_equal(chunk_array_parse(NULL, 0, CHUNK_OID_INT8, &out), -1);
    /* trailing bytes */
    assert_int_equal(chunk_array_parse(a.buf, a.len + 1, CHUNK_OID_INT8, &out), -1);
    /* another element type than asked for */
    assert_int_equal(chunk_array_parse(a.buf, a.len, CHUNK_OID_FLOAT8, &out), -1);
    assert_int_equal(chunk_array_parse(a.buf, a.len, CHUNK_OID_INT4, &out), -1);

    /* a NULL element (length -1) */
    struct arr b = a;
    b.buf[20 + 12] = b.buf[20 + 13] = b.buf[20 + 14] = b.buf[20 + 15] = (char)0xff;
    assert_int_equal(chunk_array_parse(b.buf, b.len, CHUNK_OID_INT8, &out), -1);
    /* an element of the wrong width */
    b = a;
    b.buf[20 + 3] = 4;
    assert_int_equal(chunk_array_parse(b.buf, b.len, CHUNK_OID_INT8, &out), -1);
    /* a dimension length that does not match the bytes, or is huge */
    b = a;
    b.buf[15] = 4;
    assert_int_equal(chunk_array_parse(b.buf, b.len, CHUNK_OID_INT8, &out), -1);
    b = a;
    b.buf[12] = (char)0xff;
    assert_int_equal(chunk_array_parse(b.buf, b.len, CHUNK_OID_INT8, &out), -1);
    b.buf[12] = 0x7f;
    assert_int_equal(chunk_array_parse(b.buf, b.len, CHUNK_OID_INT8, &out), -1);
    /* two dimensions */
    b = a;
    b.buf[3] = 2;
    assert_int_equal(chunk_array_parse(b.buf, b.len, CHUNK_OID_INT8, &out), -1);
}

/* A chunk of n points: consecutive steps from first, toff from t0, vals. */
static void plain_row(struct chunk_row *r, struct arr *toff, struct arr *vals, int64_t first,
                      int64_t t0, const int32_t *toffs, const double *v, uint32_t n)
{
    memset(r, 0, sizeof *r);
    int4s(toff, toffs, n);
    float8s(vals, v, n);
    r->first_step = first;
    r->last_step = first + (int64_t)n - 1;
    r->t0 = t0;
    r->n = n;
    r->toff = toff->buf;
    r->toff_len = toff->len;
    r->vals = vals->buf;
    r->vals_len = vals->len;
}

static void test_unpack_forms(void **state)
{
    (void)state;
    struct arr toff, vals, soff, sraw, traw;
    struct chunk_row r;
    struct metric out[8];
    const int32_t to[] = {0, 37, 80, 80};
    const double v[] = {-0.0, NAN, INFINITY, 5e-324};

    /* consecutive steps, timestamp offsets */
    plain_row(&r, &toff, &vals, 100, 1700000000000, to, v, 4);
    assert_int_equal(chunk_unpack(&r, out, 8), 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(out[i].step, 100 + i);
        assert_int_equal(out[i].timestamp, 1700000000000 + to[i]);
        assert_memory_equal(&out[i].value, &v[i], sizeof(double));
        assert_null(out[i].key);
    }

    /* step offsets (several points at one step), ascending by timestamp */
    const int32_t so[] = {0, 0, 5, 2000000000};
    int4s(&soff, so, 4);
    r.soff = soff.buf;
    r.soff_len = soff.len;
    r.last_step = 0; /* ignored when the steps are stored */
    assert_int_equal(chunk_unpack(&r, out, 8), 4);
    assert_int_equal(out[1].step, 100);
    assert_int_equal(out[3].step, 2000000100);

    /* raw steps and raw timestamps, at the int64 extremes */
    const int64_t sr[] = {INT64_MIN, -1, 0, INT64_MAX};
    const int64_t tr[] = {INT64_MAX, 0, INT64_MIN, 3};
    int8s(&sraw, sr, 4);
    int8s(&traw, tr, 4);
    r.sraw = sraw.buf;
    r.sraw_len = sraw.len;
    r.traw = traw.buf;
    r.traw_len = traw.len;
    assert_int_equal(chunk_unpack(&r, out, 8), 4);
    for (int i = 0; i < 4; i++) {
        assert_true(out[i].step == sr[i]);
        assert_true(out[i].timestamp == tr[i]);
    }
}

static void test_unpack_refuses(void **state)
{
    (void)state;
    struct arr toff, vals, soff, other;
    struct chunk_row r, bad;
    struct metric out[8];
    const int32_t to[] = {0, 1, 2};
    const double v[] = {1, 2, 3};

    plain_row(&r, &toff, &vals, 0, 0, to, v, 3);
    assert_int_equal(chunk_unpack(&r, out, 8), 3);
    /* n above the room given, negative, or not the arrays' length */
    assert_int_equal(chunk_unpack(&r, out, 2), -1);
    bad = r;
    bad.n = -1;
    assert_int_equal(chunk_unpack(&bad, out, 8), -1);
    bad = r;
    bad.n = 2;
    bad.last_step = 1;
    assert_int_equal(chunk_unpack(&bad, out, 8), -1);
    /* values or both timestamp forms missing */
    bad = r;
    bad.vals = NULL;
    assert_int_equal(chunk_unpack(&bad, out, 8), -1);
    bad = r;
    bad.toff = NULL;
    assert_int_equal(chunk_unpack(&bad, out, 8), -1);
    /* values of the wrong type */
    int4s(&other, to, 3);
    bad = r;
    bad.vals = other.buf;
    bad.vals_len = other.len;
    assert_int_equal(chunk_unpack(&bad, out, 8), -1);
    /* consecutive steps whose span is not n - 1, or overflows */
    bad = r;
    bad.last_step = 5;
    assert_int_equal(chunk_unpack(&bad, out, 8), -1);
    bad = r;
    bad.first_step = INT64_MIN;
    bad.last_step = INT64_MAX;
    assert_int_equal(chunk_unpack(&bad, out, 8), -1);
    /* offsets that overflow int64 */
    bad = r;
    bad.t0 = INT64_MAX - 1;
    assert_int_equal(chunk_unpack(&bad, out, 8), -1);
    const int32_t so[] = {0, 1, 2};
    int4s(&soff, so, 3);
    bad = r;
    bad.soff = soff.buf;
    bad.soff_len = soff.len;
    bad.first_step = INT64_MAX - 1;
    assert_int_equal(chunk_unpack(&bad, out, 8), -1);
    /* points out of order, or repeated (-0 and 0 are one point) */
    const double down[] = {1, 1, 0};
    const int32_t same[] = {7, 7, 7};
    struct arr t2, v2;
    plain_row(&bad, &t2, &v2, 5, 0, same, down, 3);
    bad.soff = soff.buf; /* steps 5, 6, 7: in order */
    bad.soff_len = soff.len;
    assert_int_equal(chunk_unpack(&bad, out, 8), 3);
    const int32_t flat[] = {0, 0, 0};
    struct arr s2;
    int4s(&s2, flat, 3);
    bad.soff = s2.buf;
    bad.soff_len = s2.len;
    assert_int_equal(chunk_unpack(&bad, out, 8), -1);
    const double zeros[] = {-1, -0.0, 0.0};
    plain_row(&bad, &t2, &v2, 5, 0, same, zeros, 3);
    bad.soff = s2.buf;
    bad.soff_len = s2.len;
    assert_int_equal(chunk_unpack(&bad, out, 8), -1);
}

static void test_point_order(void **state)
{
    (void)state;
    struct metric a = {0}, b = {0};
    a.value = -0.0;
    b.value = 0.0;
    assert_int_equal(chunk_point_cmp(&a, &b), 0);
    b.value = NAN;
    assert_true(chunk_point_cmp(&a, &b) < 0);
    a.value = INFINITY;
    assert_true(chunk_point_cmp(&a, &b) < 0);
    a.value = NAN;
    assert_int_equal(chunk_point_cmp(&a, &b), 0);
    a.timestamp = -1;
    assert_true(chunk_point_cmp(&a, &b) < 0);
    a.step = 1;
    assert_true(chunk_point_cmp(&a, &b) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),   cmocka_unit_test(test_parse_refuses),
        cmocka_unit_test(test_unpack_forms), cmocka_unit_test(test_unpack_refuses),
        cmocka_unit_test(test_point_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
