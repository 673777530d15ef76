/* Unit tests for core/dtoa (issue 21): the digits found by arithmetic must
 * give, for every double, the same JSON text as the digit-by-digit Grisu2
 * exptrack wrote before (tests/unit/dtoa_ref.c, kept verbatim). Compared
 * byte for byte on the edges (powers of two and ten and their neighbours,
 * subnormals, DBL_MAX/MIN, integers around 2^53 and beyond, the thresholds
 * of the exponent form, -0.0) and on a few million random values of the
 * kinds the server writes. test_history checks the text itself (reads
 * back exactly, at most 17 digits, valid JSON). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dtoa.h"
#include "common/json_writer.h"
#include "dtoa_ref.h"

static long compared;

/* Fails the test unless v and -v are written as the old encoder wrote them. */
static void same_text(double v)
{
    char got[JW_DOUBLE_MAX + 1], want[JW_DOUBLE_MAX + 1];
    for (int sign = 0; sign < 2; sign++, v = -v) {
        size_t n = jw_double_text(got, v), m = dtoa_ref_double_text(want, v);
        got[n] = '\0';
        want[m] = '\0';
        if (n != m || memcmp(got, want, n) != 0)
            fail_msg("%a: %s, the old encoder wrote %s", v, got, want);
        compared++;
    }
}

/* v and its two neighbours. */
static void same_text_around(double v)
{
    same_text(v);
    same_text(nextafter(v, 0));
    same_text(nextafter(v, INFINITY));
}

static double from_bits(uint64_t bits)
{
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void specials(void **state)
{
    (void)state;
    same_text(0.0);
    same_text(NAN);
    same_text(INFINITY);
    char text[JW_DOUBLE_MAX];
    size_t n = jw_double_text(text, -0.0);
    assert_int_equal(n, 4);
    assert_memory_equal(text, "-0.0", 4);
}

static void edges(void **state)
{
    (void)state;
    const double cases[] = {DBL_MAX,
                            DBL_MIN,
                            DBL_TRUE_MIN,
                            DBL_EPSILON,
                            from_bits(0x000fffffffffffffu),
                            1e21,
                            1e-6,
                            1e-7,
                            999999999999999999999.0,
                            0.000001,
                            0.0000001,
                            123456789012345680000.0,
                            1e23,
                            8.41e21,
                            5e-324,
                            1e-323,
                            2.2250738585072009e-308,
                            4.35e-5,
                            9.5e-5,
                            0.1,
                            0.2,
                            0.3,
                            1.0 / 3,
                            2.0 / 3,
                            0.1 + 0.2,
                            3.14159265358979,
                            1.7e308};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        same_text_around(cases[i]);
    for (int e = -1074; e <= 1023; e++)
        same_text_around(ldexp(1.0, e));
    for (int e = -323; e <= 308; e++) {
        char p10[16];
        snprintf(p10, sizeof p10, "1e%d", e);
        same_text_around(strtod(p10, NULL));
    }
    /* every binary exponent with the smallest and the largest significand */
    for (uint64_t e = 0; e < 0x7ff; e++) {
        same_text(from_bits(e << 52 | 1));
        same_text(from_bits(e << 52 | 0x000fffffffffffffu));
    }
    /* the smallest subnormals: one digit of v's interval is wider than the
     * integral unit the digit search scales to */
    for (uint64_t m = 1; m <= 100000; m++)
        same_text(from_bits(m));
}

static void integers(void **state)
{
    (void)state;
    for (int i = 1; i <= 200000; i++)
        same_text(i);
    for (int i = -1000; i <= 1000; i++) {
        same_text(9007199254740992.0 + 2.0 * i);        /* 2^53 and its even neighbours */
        same_text(18446744073709551616.0 + 4096.0 * i); /* 2^64 */
    }
    for (int e = 0; e <= 30; e++) {
        double p = pow(10, e);
        for (int d = -50; d <= 50; d++)
            same_text(p + d);
        same_text_around(p);
    }
    uint64_t x = 0x243f6a8885a308d3u;
    for (int i = 0; i < 300000; i++) {
        uint64_t u = xorshift(&x);
        same_text((double)(u >> (i % 64)));
    }
}

/* Short decimals (accuracies, learning rates, 0.75): the stop falls in the
 * integral part of the scaled value. */
static void short_decimals(void **state)
{
    (void)state;
    uint64_t x = 0x13198a2e03707344u;
    for (int i = 0; i < 400000; i++) {
        uint64_t u = xorshift(&x);
        double m = (double)(u % 1000000);
        int e = (int)(u >> 40) % 40 - 20;
        char text[40];
        snprintf(text, sizeof text, "%.0fe%d", m, e);
        same_text(strtod(text, NULL));
    }
    for (int m = 1; m <= 10000; m++) {
        same_text(m / 10000.0);
        same_text(m / 1024.0);
    }
}

/* Random bit patterns cover every exponent; values in [0, 1) are training
 * curves; floats widened to double are what float32 models log. */
static void random_values(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 2000000; i++) {
        double v = from_bits(xorshift(&x) & 0x7fffffffffffffffu);
        if (isfinite(v))
            same_text(v);
    }
    for (int i = 0; i < 500000; i++)
        same_text((double)(xorshift(&x) >> 11) / 9007199254740992.0);
    for (int i = 0; i < 500000; i++) {
        uint32_t b = (uint32_t)(xorshift(&x) >> 33);
        float f;
        memcpy(&f, &b, sizeof f);
        if (isfinite(f))
            same_text(f);
    }
    /* subnormals of every size */
    for (int i = 0; i < 200000; i++)
        same_text(from_bits(xorshift(&x) >> (12 + i % 52)));
}

static void digits_alone(void **state)
{
    (void)state;
    char buf[DTOA_DIGITS_MAX];
    int k;
    int n = dtoa_digits(0.75, buf, &k);
    assert_int_equal(n, 2);
    assert_memory_equal(buf, "75", 2);
    assert_int_equal(k, -2);
    n = dtoa_digits(DBL_TRUE_MIN, buf, &k);
    assert_int_equal(n, 1);
    assert_memory_equal(buf, "5", 1);
    assert_int_equal(k, -324);
    n = dtoa_digits(1e300, buf, &k);
    assert_int_equal(n, 1);
    assert_memory_equal(buf, "1", 1);
    assert_int_equal(k, 300);
    n = dtoa_digits(0.30000000000000004, buf, &k);
    assert_int_equal(n, 17);
    assert_memory_equal(buf, "30000000000000004", 17);
    assert_int_equal(k, -17);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(specials),      cmocka_unit_test(edges),
        cmocka_unit_test(integers),      cmocka_unit_test(short_decimals),
        cmocka_unit_test(random_values), cmocka_unit_test(digits_alone),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    printf("test_dtoa: %ld values compared with the old encoder\n", compared);
    return rc;
}
