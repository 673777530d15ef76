/* Unit tests for the contract's key, run id and length rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/validate.h"

static void keys_accepted(void **state)
{
    (void)state;
    const char *good[] = {
        "loss", "a/b",  "train/loss:step", "with space", "dash-ed", "x.y_z", "ünïcödé", "日本語",
        "a..b", "a/.b", "точность",        "α_β",        "٣"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_null(validate_key_rule(good[i]));
}

static void keys_rejected(void **state)
{
    (void)state;
    const char *bad[] = {"/abs",
                         "a//b",
                         "a/",
                         "./a",
                         "a/../b",
                         "a/./b",
                         ".",
                         "..",
                         "..a",
                         "tab\there",
                         "semi;colon",
                         "quote'",
                         "back\\slash",
                         "pct%",
                         "emoji\xF0\x9F\x98\x80",
                         "arrow\xE2\x86\x92",
                         ("\xFF"
                          "bad"), /* split so "ba" is not read as hex */
                         "cut\xE6\x97"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_non_null(validate_key_rule(bad[i]));
}

static void utf8_lengths(void **state)
{
    (void)state;
    assert_int_equal(validate_utf8_length(""), 0);
    assert_int_equal(validate_utf8_length("abc"), 3);
    assert_int_equal(validate_utf8_length("日本語"), 3);
    assert_int_equal(validate_utf8_prefix("日本語", 2), 6);
    assert_int_equal(validate_utf8_prefix("abc", 5), 3);
    assert_int_equal(validate_utf8_prefix("abc", 0), 0);
}

static void run_ids(void **state)
{
    (void)state;
    assert_true(validate_is_run_id("0123456789abcdef0123456789abcdef"));
    assert_false(validate_is_run_id("0123456789ABCDEF0123456789abcdef"));
    assert_false(validate_is_run_id("0123456789abcdef0123456789abcde"));
    assert_false(validate_is_run_id("0123456789abcdef0123456789abcdef0"));
    assert_true(validate_run_id_pattern("abc_DEF-1"));
    assert_false(validate_run_id_pattern("_abc"));
    assert_false(validate_run_id_pattern(""));
    assert_false(validate_run_id_pattern("a b"));
    char long_id[258];
    for (int i = 0; i < 257; i++)
        long_id[i] = 'a';
    long_id[257] = '\0';
    assert_false(validate_run_id_pattern(long_id));
    long_id[256] = '\0';
    assert_true(validate_run_id_pattern(long_id));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_accepted),
        cmocka_unit_test(keys_rejected),
        cmocka_unit_test(utf8_lengths),
        cmocka_unit_test(run_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
