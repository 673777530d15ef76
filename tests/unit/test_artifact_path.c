/* Unit tests for artifact path safety, proxy path splitting, Range parsing
 * and content types. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/artifact_path.h"

static void good_paths(void **state)
{
    (void)state;
    const char *good[] = {"a",       "a/b/c.txt",  "model/MLmodel", "ü/日本語.txt",
                          "a..b",    ".hidden",    "a/.b/c",        "100%.txt",
                          "%41.txt", "with space", "x-y_z.tar.gz",  "ab:c"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_null(artifact_path_check(good[i], 0, NULL));
}

static void bad_paths(void **state)
{
    (void)state;
    char long_segment[300], long_path[1100];
    memset(long_segment, 'x', sizeof long_segment - 1);
    long_segment[sizeof long_segment - 1] = '\0';
    for (size_t i = 0; i < sizeof long_path - 1; i++)
        long_path[i] = i % 10 == 9 ? '/' : 'a';
    long_path[sizeof long_path - 1] = '\0';
    const char *bad[] = {"",
                         "/abs",
                         "a//b",
                         "a/",
                         ".",
                         "..",
                         "./a",
                         "a/..",
                         "a/../b",
                         "a\\b",
                         "a#b",
                         "a\tb",
                         "a\nb",
                         "a%00b",
                         "a%2500b",
                         "%2e%2e",
                         "%2E%2e/x",
                         ".%2e",
                         "%252e%252e",
                         "a%2fb",
                         "a%5cb",
                         "C:",
                         "c:/x",
                         "...",
                         ". .",
                         "\xef\xbc\x8e\xef\xbc\x8e",
                         "a\xef\xbc\x8f"
                         "b",
                         "\xe2\x80\xa5",
                         "\xc0\xae\xc0\xae",
                         "\xff",
                         "\xed\xa0\x80",
                         long_segment,
                         long_path,
                         "a\x7f"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_non_null(artifact_path_check(bad[i], 0, NULL));
}

static void flags(void **state)
{
    (void)state;
    size_t len = 99;
    assert_null(artifact_path_check("", ARTIFACT_PATH_EMPTY_OK, &len));
    assert_int_equal(len, 0);
    assert_null(artifact_path_check("a/b/", ARTIFACT_PATH_TRAILING_SLASH, &len));
    assert_int_equal(len, 3);
    assert_non_null(artifact_path_check("a/b//", ARTIFACT_PATH_TRAILING_SLASH, NULL));
    assert_non_null(artifact_path_check("/", ARTIFACT_PATH_TRAILING_SLASH, NULL));
    assert_non_null(
        artifact_path_check("/", ARTIFACT_PATH_EMPTY_OK | ARTIFACT_PATH_TRAILING_SLASH, NULL));
}

static void split(void **state)
{
    (void)state;
    struct artifact_proxy_path p;
    const char *run = "0123456789abcdef0123456789abcdef";
    char buf[128];

    assert_int_equal(artifact_path_split("", 0, &p), 0);
    assert_int_equal(p.depth, 0);
    assert_int_equal(artifact_path_split("12", 2, &p), 0);
    assert_int_equal(p.depth, 1);
    assert_int_equal(p.experiment_id, 12);
    snprintf(buf, sizeof buf, "7/%s/artifacts/a/b.txt", run);
    assert_int_equal(artifact_path_split(buf, strlen(buf), &p), 0);
    assert_int_equal(p.depth, 3);
    assert_string_equal(p.run_id, run);
    assert_int_equal(p.rel_len, 7);
    assert_memory_equal(p.rel, "a/b.txt", 7);
    snprintf(buf, sizeof buf, "7/%s/artifacts", run);
    assert_int_equal(artifact_path_split(buf, strlen(buf), &p), 0);
    assert_int_equal(p.rel_len, 0);
    snprintf(buf, sizeof buf, "7/%s/other/x", run);
    assert_int_equal(artifact_path_split(buf, strlen(buf), &p), -1);
    assert_int_equal(artifact_path_split("x/abc", 5, &p), -1);
    assert_int_equal(artifact_path_split("1/ABC", 5, &p), -1);
}

/* A logged model's path: "<exp>/models/<model_id>/artifacts/<rel>". */
static void split_model(void **state)
{
    (void)state;
    struct artifact_proxy_path p;
    const char *model = "m-0123456789abcdef0123456789abcdef";
    char buf[160];

    snprintf(buf, sizeof buf, "7/models/%s/artifacts/sub/MLmodel", model);
    assert_int_equal(artifact_path_split(buf, strlen(buf), &p), 0);
    assert_int_equal(p.depth, 3);
    assert_int_equal(p.experiment_id, 7);
    assert_string_equal(p.model_id, model);
    assert_string_equal(p.run_id, "");
    assert_int_equal(p.rel_len, 11);
    assert_memory_equal(p.rel, "sub/MLmodel", 11);
    snprintf(buf, sizeof buf, "7/models/%s/artifacts", model);
    assert_int_equal(artifact_path_split(buf, strlen(buf), &p), 0);
    assert_int_equal(p.depth, 3);
    assert_int_equal(p.rel_len, 0);
    snprintf(buf, sizeof buf, "7/models/%s", model);
    assert_int_equal(artifact_path_split(buf, strlen(buf), &p), 0);
    assert_int_equal(p.depth, 2);
    assert_string_equal(p.model_id, model);
    assert_int_equal(artifact_path_split("7/models", 8, &p), -1);
    snprintf(buf, sizeof buf, "7/models/%s/other/x", model);
    assert_int_equal(artifact_path_split(buf, strlen(buf), &p), -1);
    assert_int_equal(artifact_path_split("7/models/m-123/artifacts", 24, &p), -1);
    snprintf(buf, sizeof buf, "7/models/M-0123456789ABCDEF0123456789abcdef/artifacts");
    assert_int_equal(artifact_path_split(buf, strlen(buf), &p), -1);
    /* a trace's path: "<exp>/traces/<trace_id>/artifacts/<rel>", both id forms */
    snprintf(buf, sizeof buf, "7/traces/tr-0123456789abcdef0123456789abcdef/artifacts/traces.json");
    assert_int_equal(artifact_path_split(buf, strlen(buf), &p), 0);
    assert_int_equal(p.depth, 3);
    assert_string_equal(p.trace_id, "tr-0123456789abcdef0123456789abcdef");
    assert_string_equal(p.model_id, "");
    assert_memory_equal(p.rel, "traces.json", 11);
    snprintf(buf, sizeof buf, "7/traces/0123456789abcdef0123456789abcdef");
    assert_int_equal(artifact_path_split(buf, strlen(buf), &p), 0);
    assert_int_equal(p.depth, 2);
    assert_string_equal(p.trace_id, "0123456789abcdef0123456789abcdef");
    assert_int_equal(artifact_path_split("7/traces/tr-0123/artifacts", 26, &p), -1);
    assert_int_equal(artifact_path_split("7/traces", 8, &p), -1);
    /* a run's relative path may hold "models" anywhere */
    snprintf(buf, sizeof buf, "7/0123456789abcdef0123456789abcdef/artifacts/models/x");
    assert_int_equal(artifact_path_split(buf, strlen(buf), &p), 0);
    assert_string_equal(p.model_id, "");
    assert_memory_equal(p.rel, "models/x", 8);
}

static void ranges(void **state)
{
    (void)state;
    int64_t s, n;
    assert_int_equal(artifact_path_range(NULL, 10, &s, &n), RANGE_NONE);
    assert_int_equal(artifact_path_range("bytes=0-0", 10, &s, &n), RANGE_OK);
    assert_true(s == 0 && n == 1);
    assert_int_equal(artifact_path_range("bytes=3-", 10, &s, &n), RANGE_OK);
    assert_true(s == 3 && n == 7);
    assert_int_equal(artifact_path_range("bytes=-4", 10, &s, &n), RANGE_OK);
    assert_true(s == 6 && n == 4);
    assert_int_equal(artifact_path_range("bytes=-40", 10, &s, &n), RANGE_OK);
    assert_true(s == 0 && n == 10);
    assert_int_equal(artifact_path_range("bytes=5-100", 10, &s, &n), RANGE_OK);
    assert_true(s == 5 && n == 5);
    assert_int_equal(artifact_path_range("bytes=10-", 10, &s, &n), RANGE_UNSATISFIABLE);
    assert_int_equal(artifact_path_range("bytes=-0", 10, &s, &n), RANGE_UNSATISFIABLE);
    assert_int_equal(artifact_path_range("bytes=0-", 0, &s, &n), RANGE_UNSATISFIABLE);
    assert_int_equal(artifact_path_range("bytes=5-2", 10, &s, &n), RANGE_NONE);
    assert_int_equal(artifact_path_range("bytes=0-1,3-4", 10, &s, &n), RANGE_NONE);
    assert_int_equal(artifact_path_range("bytes=-", 10, &s, &n), RANGE_NONE);
    assert_int_equal(artifact_path_range("items=0-1", 10, &s, &n), RANGE_NONE);
    assert_int_equal(artifact_path_range("bytes=99999999999999999999-", 10, &s, &n), RANGE_NONE);
}

static void content_types(void **state)
{
    (void)state;
    assert_string_equal(artifact_path_content_type("a/b.txt"), "text/plain");
    assert_string_equal(artifact_path_content_type("x.PNG"), "image/png");
    assert_string_equal(artifact_path_content_type("MLmodel"), "application/octet-stream");
    assert_string_equal(artifact_path_content_type(".bashrc"), "application/octet-stream");
    assert_string_equal(artifact_path_content_type("dir.json/x"), "application/octet-stream");
    assert_string_equal(artifact_path_basename("a/b/c"), "c");
    assert_string_equal(artifact_path_basename("c"), "c");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_paths),    cmocka_unit_test(bad_paths),   cmocka_unit_test(flags),
        cmocka_unit_test(split),         cmocka_unit_test(split_model), cmocka_unit_test(ranges),
        cmocka_unit_test(content_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
