/* Unit tests for core/hash: FNV-1a's published 64-bit test values, and that
 * hashing in pieces equals hashing the joined text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "core/hash.h"

static void known_values(void **state)
{
    (void)state;
    assert_true(hash_fnv1a("", 0) == 0xcbf29ce484222325ULL);
    assert_true(hash_fnv1a_str("") == 0xcbf29ce484222325ULL);
    assert_true(hash_fnv1a_str("a") == 0xaf63dc4c8601ec8cULL);
    assert_true(hash_fnv1a_str("foobar") == 0x85944171f73967e8ULL);
    assert_true(hash_fnv1a("foobar", 6) == 0x85944171f73967e8ULL);
}

static void pieces_join(void **state)
{
    (void)state;
    uint64_t h = hash_fnv1a_add_str(HASH_FNV1A_INIT, "foo");
    h = hash_fnv1a_add(h, "ba", 2);
    h = hash_fnv1a_add_str(h, "r");
    assert_true(h == hash_fnv1a_str("foobar"));
    /* bytes past a NUL count in the byte form */
    assert_true(hash_fnv1a("a\0b", 3) != hash_fnv1a_str("a"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_values),
        cmocka_unit_test(pieces_join),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
