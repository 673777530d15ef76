/* Unit tests for typed request reads and NaN/Inf encoding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "core/jsonalloc.h"
#include "core/jsonx.h"
#include "common/sbuf.h"

static void encode_specials(void **state)
{
    (void)state;
    json_t *v = jx_double_value(NAN);
    assert_string_equal(json_string_value(v), "NaN");
    json_decref(v);
    v = jx_double_value(INFINITY);
    assert_string_equal(json_string_value(v), "Infinity");
    json_decref(v);
    v = jx_double_value(-INFINITY);
    assert_string_equal(json_string_value(v), "-Infinity");
    json_decref(v);
    v = jx_double_value(-0.0);
    char *text = json_dumps(v, JSON_ENCODE_ANY);
    assert_string_equal(text, "-0.0");
    free(text);
    json_decref(v);
    /* 17 significant digits round-trip the extremes */
    const double extremes[] = {1e308, 5e-324, 0.1, 1.7976931348623157e308};
    for (size_t i = 0; i < sizeof extremes / sizeof extremes[0]; i++) {
        v = jx_double_value(extremes[i]);
        text = json_dumps(v, JSON_ENCODE_ANY);
        json_t *back = json_loads(text, JSON_DECODE_ANY, NULL);
        assert_true(json_real_value(back) == extremes[i]);
        json_decref(back);
        free(text);
        json_decref(v);
    }
}

static void parse_doubles(void **state)
{
    double d;
    (void)state;
    assert_int_equal(jx_parse_double_text("NaN", &d), 0);
    assert_true(isnan(d));
    assert_int_equal(jx_parse_double_text("-Infinity", &d), 0);
    assert_true(isinf(d) && d < 0);
    assert_int_equal(jx_parse_double_text("1e400", &d), 0);
    assert_true(isinf(d));
    assert_int_equal(jx_parse_double_text("1.5", &d), 0);
    assert_true(d == 1.5);
    assert_int_equal(jx_parse_double_text(".5", &d), 0);
    assert_int_equal(jx_parse_double_text("nan", &d), -1);
    assert_int_equal(jx_parse_double_text("0x10", &d), -1);
    assert_int_equal(jx_parse_double_text(" 1", &d), -1);
    assert_int_equal(jx_parse_double_text("1abc", &d), -1);
    assert_int_equal(jx_parse_double_text("", &d), -1);
}

static void parse_int64s(void **state)
{
    int64_t v;
    (void)state;
    assert_int_equal(jx_parse_int64_text("123", &v), 0);
    assert_int_equal(v, 123);
    assert_int_equal(jx_parse_int64_text("-9223372036854775808", &v), 0);
    assert_true(v == INT64_MIN);
    assert_int_equal(jx_parse_int64_text("123.0", &v), -1);
    assert_int_equal(jx_parse_int64_text(" 12", &v), -1);
    assert_int_equal(jx_parse_int64_text("1.5", &v), -1);
    assert_int_equal(jx_parse_int64_text("99999999999999999999", &v), -1);
    assert_int_equal(jx_parse_int64_text("abc", &v), -1);
}

static void typed_reads(void **state)
{
    (void)state;
    struct reply r;
    reply_init(&r);
    json_t *obj = json_loads("{\"s\":\"x\",\"n\":5,\"ns\":\"7\",\"bad\":1.5,\"v\":\"Infinity\","
                             "\"e\":\"FINISHED\",\"en\":4,\"null\":null}",
                             0, NULL);
    struct input in = {obj, 0, NULL};
    const char *s;
    int64_t i;
    double d;
    int e;
    const char *names[] = {"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"};

    assert_int_equal(jx_string(&in, "s", &s, &r), JX_OK);
    assert_string_equal(s, "x");
    assert_int_equal(jx_string(&in, "null", &s, &r), JX_ABSENT);
    assert_int_equal(jx_int64(&in, "n", &i, &r), JX_OK);
    assert_int_equal(i, 5);
    assert_int_equal(jx_int64(&in, "ns", &i, &r), JX_OK);
    assert_int_equal(i, 7);
    assert_int_equal(jx_double(&in, "v", &d, &r), JX_OK);
    assert_true(isinf(d));
    assert_int_equal(jx_enum(&in, "e", names, 5, &e, &r), JX_OK);
    assert_int_equal(e, 3);
    assert_int_equal(jx_enum(&in, "en", names, 5, &e, &r), JX_OK);
    assert_int_equal(e, 4);
    assert_int_equal(jx_required_string(&in, "missing", &s, &r), JX_BAD);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "'missing'"));
    assert_int_equal(jx_int64(&in, "bad", &i, &r), JX_BAD);
    assert_non_null(strstr(r.body, "'bad'"));
    assert_non_null(strstr(r.body, "INVALID_PARAMETER_VALUE"));
    json_decref(obj);
    reply_cleanup(&r);
}

static void bodies(void **state)
{
    (void)state;
    struct reply r;
    reply_init(&r);
    json_t *v = jx_parse_body("", 0, 0, &r);
    assert_non_null(v);
    assert_int_equal(json_object_size(v), 0);
    json_decref(v);
    const char *twice = "\"{\\\"a\\\": 1}\"";
    v = jx_parse_body(twice, strlen(twice), 0, &r);
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_object_get(v, "a")), 1);
    json_decref(v);
    assert_null(jx_parse_body("{bad", 4, 0, &r));
    assert_int_equal(r.status, 400);
    assert_null(jx_parse_body("[1]", 3, 0, &r));
    assert_int_equal(r.status, 400);
    reply_cleanup(&r);
}

/* A body of n empty objects in an array: ~3 bytes each, ~200 as a tree. */
static void empty_objects(struct sbuf *b, int n, int as_string)
{
    sbuf_init(b);
    sbuf_adds(b, as_string ? "\"{\\\"a\\\":[" : "{\"a\":[");
    for (int i = 0; i < n; i++)
        sbuf_adds(b, i ? ",{}" : "{}");
    sbuf_adds(b, as_string ? "]}\"" : "]}");
}

static void bounded_bodies(void **state)
{
    (void)state;
    struct reply r;
    struct sbuf b;

    assert_int_equal(jx_body_tree_budget(0), JX_TREE_SLACK);
    assert_int_equal(jx_body_tree_budget(1000), JX_TREE_SLACK + 1000 * JX_TREE_PER_BYTE);
    assert_int_equal(jx_body_tree_budget((size_t)1 << 40), JX_TREE_MAX);
    for (int as_string = 0; as_string < 2; as_string++) {
        empty_objects(&b, 2000, as_string);
        reply_init(&r);
        assert_null(jx_parse_body(b.data, b.len, 64 * 1024, &r));
        assert_int_equal(r.status, 413);
        assert_non_null(strstr(r.body, "JSON tree would take more than 65536 bytes"));
        reply_cleanup(&r);
        jsonalloc_reset();
        reply_init(&r);
        json_t *v = jx_parse_body(b.data, b.len, jx_body_tree_budget(b.len), &r);
        assert_non_null(v);
        assert_int_equal(json_array_size(json_object_get(v, "a")), 2000);
        json_decref(v);
        jsonalloc_reset();
        reply_cleanup(&r);
        sbuf_cleanup(&b);
    }
}

int main(void)
{
    jsonalloc_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_specials), cmocka_unit_test(parse_doubles),
        cmocka_unit_test(parse_int64s),    cmocka_unit_test(typed_reads),
        cmocka_unit_test(bodies),          cmocka_unit_test(bounded_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
