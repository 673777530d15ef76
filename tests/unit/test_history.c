/* Unit tests for the number encoders of core/json_writer.h behind get-history: every
 * double must read back exactly, in at most 17 significant digits and almost
 * always in the fewest; NaN and the infinities are the contract's strings;
 * the text is always a valid JSON value. */
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

#include "common/json_writer.h"

static char text[JW_DOUBLE_MAX + 1];

static const char *fmt_double(double v)
{
    size_t n = jw_double_text(text, v);
    assert_true(n > 0 && n <= JW_DOUBLE_MAX);
    text[n] = '\0';
    return text;
}

/* A JSON number: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static int is_json_number(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9')
            s++;
    else
        return 0;
    if (*s == '.') {
        s++;
        if (!(*s >= '0' && *s <= '9'))
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!(*s >= '0' && *s <= '9'))
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

/* Significant digits of a number's text. */
static int significant_digits(const char *s)
{
    int n = 0, started = 0, trailing_zeros = 0;
    for (; *s && *s != 'e'; s++) {
        if (*s < '0' || *s > '9')
            continue;
        if (*s != '0')
            started = 1;
        if (!started)
            continue;
        n++;
        trailing_zeros = *s == '0' ? trailing_zeros + 1 : 0;
    }
    return n - trailing_zeros > 0 ? n - trailing_zeros : 1;
}

/* Fewest significant digits %.*g needs to read back as v. */
static int shortest_precision(double v)
{
    char buf[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            return p;
    }
    return 17;
}

/* Returns 1 when the text of v was longer than the shortest. */
static int check_value(double v)
{
    if (!isfinite(v))
        return 0;
    const char *s = fmt_double(v);
    if (!is_json_number(s))
        fail_msg("not a JSON number: %s for %a", s, v);
    double back = strtod(s, NULL);
    if (memcmp(&back, &v, sizeof v) != 0)
        fail_msg("%s reads back as %a, not %a", s, back, v);
    int digits = significant_digits(s);
    if (digits > 17)
        fail_msg("%s has %d digits", s, digits);
    return digits > shortest_precision(v);
}

static void special_values(void **state)
{
    (void)state;
    assert_string_equal(fmt_double(NAN), "\"NaN\"");
    assert_string_equal(fmt_double(-NAN), "\"NaN\"");
    assert_string_equal(fmt_double(INFINITY), "\"Infinity\"");
    assert_string_equal(fmt_double(-INFINITY), "\"-Infinity\"");
    assert_string_equal(fmt_double(0.0), "0.0");
    assert_string_equal(fmt_double(-0.0), "-0.0");
    assert_string_equal(fmt_double(1.0), "1.0");
    assert_string_equal(fmt_double(-2.5), "-2.5");
    assert_string_equal(fmt_double(0.1), "0.1");
    assert_string_equal(fmt_double(100.0), "100.0");
    assert_string_equal(fmt_double(123456789012345680000.0), "123456789012345680000.0");
    assert_string_equal(fmt_double(1e21), "1e21");
    assert_string_equal(fmt_double(1e-7), "1e-7");
    assert_string_equal(fmt_double(0.000001), "0.000001");
    assert_string_equal(fmt_double(1.5e300), "1.5e300");
    assert_string_equal(fmt_double(5e-324), "5e-324");
    assert_string_equal(fmt_double(DBL_MAX), "1.7976931348623157e308");
    assert_string_equal(fmt_double(DBL_MIN), "2.2250738585072014e-308");
    assert_string_equal(fmt_double(0.30000000000000004), "0.30000000000000004");
    assert_string_equal(fmt_double(9007199254740993.0), "9007199254740992.0");
}

static void edges_round_trip(void **state)
{
    (void)state;
    const double cases[] = {DBL_MAX,
                            DBL_MIN,
                            DBL_TRUE_MIN,
                            DBL_EPSILON,
                            1e23,
                            8.41e21,
                            5e-324,
                            1e-323,
                            2.2250738585072009e-308,
                            4.35e-5,
                            9.5e-5,
                            0.5,
                            1.0 / 3,
                            2.0 / 3,
                            1e15,
                            1e16,
                            1e17,
                            123456.789e3,
                            1.7e308,
                            3.14159265358979,
                            0.1 + 0.2,
                            1e-5,
                            1e-6,
                            1e-7,
                            1e20,
                            1e22};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_value(cases[i]);
        check_value(-cases[i]);
        check_value(nextafter(cases[i], 0));
        check_value(nextafter(cases[i], INFINITY));
    }
    /* every power of two and of ten the type holds */
    for (int e = -1074; e <= 1023; e++)
        check_value(ldexp(1.0, e));
    for (int e = -323; e <= 308; e++) {
        char p10[16];
        snprintf(p10, sizeof p10, "1e%d", e);
        check_value(strtod(p10, NULL));
    }
}

/* Random bit patterns cover every exponent, subnormals included; random
 * values in [0, 1) are what training curves look like. */
static void random_round_trip(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15u;
    int longer = 0, total = 0;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        if (i % 2) {
            memcpy(&v, &x, sizeof v);
            if (!isfinite(v))
                continue;
        } else {
            v = (double)(x >> 11) / 9007199254740992.0;
        }
        longer += check_value(v);
        total++;
    }
    /* Grisu2 is not always shortest, but nearly */
    if (longer * 1000 > total)
        fail_msg("%d of %d values were longer than the shortest text", longer, total);
}

static void integers(void **state)
{
    (void)state;
    char buf[24];
    const int64_t cases[] = {
        0, 1, -1, 9, 10, 99, 100, 12345, -9876543210, 1700000000000, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[24];
        size_t n = jw_int64_text(buf, cases[i]);
        buf[n] = '\0';
        snprintf(want, sizeof want, "%lld", (long long)cases[i]);
        assert_string_equal(buf, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(special_values),
        cmocka_unit_test(edges_round_trip),
        cmocka_unit_test(random_round_trip),
        cmocka_unit_test(integers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
