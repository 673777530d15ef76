/* Unit tests for common/json_writer's strings and sbuf appenders: escapes
 * byte for byte as jansson's json_dumps writes them, the bounded escape of
 * log lines, and the float8-text rule of search pages. (The double and
 * integer encoders have their own exhaustive test: test_history.c.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json_writer.h"

/* What jansson writes for s as a JSON string. */
static char *jansson_text(const char *s)
{
    json_t *j = json_string(s);
    char *text = json_dumps(j, JSON_ENCODE_ANY);
    json_decref(j);
    return text;
}

static void strings_as_jansson(void **state)
{
    (void)state;
    const char *cases[] = {
        "",
        "plain",
        "quote\" and \\ backslash",
        "tab\tnl\nret\rbs\bff\f",
        "\x01\x1f\x7f",
        "/slash/",
        "ünïcödé 日本語 😀",
        "end\\",
        "\"",
        "a\x1b[0m",
    };
    struct sbuf b;
    sbuf_init(&b);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sbuf_reset(&b);
        jw_string(&b, cases[i]);
        char *want = jansson_text(cases[i]);
        assert_non_null(want);
        assert_string_equal(b.data, want);
        free(want);
    }
    /* every single byte below 0x80 */
    for (int c = 1; c < 0x80; c++) {
        char s[2] = {(char)c, 0};
        sbuf_reset(&b);
        jw_string(&b, s);
        char *want = jansson_text(s);
        assert_string_equal(b.data, want);
        free(want);
    }
    sbuf_reset(&b);
    jw_string(&b, NULL);
    assert_string_equal(b.data, "\"\"");
    sbuf_cleanup(&b);
}

/* jw_string_len writes what jansson writes for a string that carries its
 * length, NUL bytes included, and what jw_string writes without them. */
static void strings_with_length(void **state)
{
    (void)state;
    const char *texts[] = {"nul\0inside", "\0", "a\0\"\0\n", "plain ünï"};
    const size_t lens[] = {10, 1, 5, 11};
    struct sbuf b;
    sbuf_init(&b);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        sbuf_reset(&b);
        jw_string_len(&b, texts[i], lens[i]);
        json_t *j = json_stringn(texts[i], lens[i]);
        char *want = json_dumps(j, JSON_ENCODE_ANY);
        json_decref(j);
        assert_non_null(want);
        assert_string_equal(b.data, want);
        free(want);
    }
    sbuf_reset(&b);
    jw_string_len(&b, "tab\there", 8);
    struct sbuf plain;
    sbuf_init(&plain);
    jw_string(&plain, "tab\there");
    assert_string_equal(b.data, plain.data);
    sbuf_cleanup(&plain);
    sbuf_cleanup(&b);
}

static void bounded_escape(void **state)
{
    char buf[16];
    (void)state;
    size_t n = jw_escape_into(buf, sizeof buf, 0, "a\"b\n");
    assert_int_equal(n, 6);
    assert_memory_equal(buf, "a\\\"b\\n", 6);
    /* continues at pos */
    memcpy(buf, "xy", 2);
    n = jw_escape_into(buf, sizeof buf, 2, "\x01");
    assert_int_equal(n, 8);
    assert_memory_equal(buf, "xy\\u0001", 8);
    /* cuts before an escape that does not fit, never inside it */
    n = jw_escape_into(buf, 5, 0, "abc\x02");
    assert_int_equal(n, 3);
    n = jw_escape_into(buf, 5, 0, "abcde");
    assert_int_equal(n, 5);
    n = jw_escape_into(buf, 4, 6, "a");
    assert_int_equal(n, 6);
}

static void numbers_into_sbuf(void **state)
{
    struct sbuf b;
    (void)state;
    sbuf_init(&b);
    jw_int64(&b, INT64_MIN);
    sbuf_addc(&b, ' ');
    jw_int64(&b, 0);
    sbuf_addc(&b, ' ');
    jw_double(&b, 0.1);
    sbuf_addc(&b, ' ');
    jw_double(&b, 3);
    sbuf_addc(&b, ' ');
    jw_double(&b, NAN);
    sbuf_addc(&b, ' ');
    jw_double(&b, -INFINITY);
    assert_string_equal(b.data, "-9223372036854775808 0 0.1 3.0 \"NaN\" \"-Infinity\"");
    sbuf_cleanup(&b);
}

/* sbuf_reserve: one allocation of exactly the room asked for, appends
 * within it keep the same memory, an append past it still grows, and an
 * empty reserved buffer reads as "". */
static void reserve_then_append(void **state)
{
    struct sbuf b;
    (void)state;
    sbuf_init(&b);
    sbuf_reserve(&b, 10);
    assert_int_equal(b.cap, 11);
    assert_string_equal(b.data, "");
    char *first = b.data;
    sbuf_adds(&b, "0123456789");
    assert_ptr_equal(b.data, first);
    assert_int_equal(b.cap, 11);
    sbuf_reserve(&b, 0);
    assert_int_equal(b.cap, 11);
    sbuf_addc(&b, 'x');
    assert_true(b.cap >= 12);
    assert_string_equal(b.data, "0123456789x");
    sbuf_reserve(&b, 1000);
    assert_true(b.cap >= b.len + 1001);
    assert_string_equal(b.data, "0123456789x");
    sbuf_cleanup(&b);
}

static void float8_text(void **state)
{
    struct sbuf b;
    (void)state;
    sbuf_init(&b);
    const char *in[] = {"1", "-2.5", "1e+300", "1E-7", "NaN", "Infinity", "-Infinity", "-0"};
    const char *out = "1.0,-2.5,1e+300,1E-7,\"NaN\",\"Infinity\",\"-Infinity\",-0.0,";
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        jw_number_text(&b, in[i]);
        sbuf_addc(&b, ',');
    }
    assert_string_equal(b.data, out);
    sbuf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strings_as_jansson),  cmocka_unit_test(strings_with_length),
        cmocka_unit_test(bounded_escape),      cmocka_unit_test(numbers_into_sbuf),
        cmocka_unit_test(reserve_then_append), cmocka_unit_test(float8_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
