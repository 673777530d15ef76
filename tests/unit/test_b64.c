/* Unit tests for core/b64: RFC 4648 vectors both ways, the strict padding
 * policy, the capacity check and round trips of every length. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/b64.h"

static const char *const vectors[][2] = {
    {"f", "Zg=="},        {"fo", "Zm8="},        {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

static void encodes_rfc_vectors(void **state)
{
    char out[16];
    (void)state;
    assert_int_equal(b64_encode(out, "", 0), 0);
    assert_string_equal(out, "");
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        size_t n = b64_encode(out, vectors[i][0], strlen(vectors[i][0]));
        assert_int_equal(n, B64_ENCODED_LEN(strlen(vectors[i][0])));
        assert_string_equal(out, vectors[i][1]);
    }
    char *s = b64_encode_new("{\"offset\": 5}", 13);
    assert_string_equal(s, "eyJvZmZzZXQiOiA1fQ==");
    free(s);
}

static void decodes_rfc_vectors(void **state)
{
    char out[16];
    size_t n;
    (void)state;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const char *text = vectors[i][1];
        assert_int_equal(b64_decode(text, strlen(text), out, sizeof out, &n), 0);
        assert_int_equal(n, strlen(vectors[i][0]));
        assert_memory_equal(out, vectors[i][0], n);
    }
    /* "+" and "/" and bytes with the top bit set */
    assert_int_equal(b64_decode("+/+/", 4, out, sizeof out, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "\xfb\xff\xbf", 3);
}

static void strict_padding(void **state)
{
    char out[64];
    size_t n;
    (void)state;
    const char *bad[] = {
        "",         /* empty */
        "Zg",       /* padding left off */
        "Zg=",      /* too little padding */
        "Zm9vYg",   /* not a multiple of four */
        "Zg==Zg==", /* padding in the middle */
        "Z===",     /* three '=' */
        "=Zg=",     /* '=' first */
        "Zm9v\n",   /* whitespace */
        " Zm9v",    /* whitespace */
        "Zm9-",     /* URL-safe alphabet */
        "Zm9_",     /* URL-safe alphabet */
        "!!!!",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(b64_decode(bad[i], strlen(bad[i]), out, sizeof out, &n), -1);
}

static void capacity_checked_first(void **state)
{
    char out[8] = "xxxxxxxx";
    size_t n;
    (void)state;
    /* "Zm9vYg==" decodes to 4 bytes but needs room for B64_DECODED_MAX = 6 */
    assert_int_equal(b64_decode("Zm9vYg==", 8, out, 5, &n), -1);
    assert_memory_equal(out, "xxxxxxxx", 8);
    assert_int_equal(b64_decode("Zm9vYg==", 8, out, 6, &n), 0);
    assert_int_equal(n, 4);
}

static void round_trips(void **state)
{
    unsigned char in[300], back[300];
    char text[B64_ENCODED_LEN(300) + 1];
    size_t n;
    (void)state;
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (unsigned char)(i * 37 + 11);
    for (size_t len = 1; len <= sizeof in; len++) {
        size_t tl = b64_encode(text, in, len);
        assert_int_equal(tl % 4, 0);
        assert_int_equal(b64_decode(text, tl, back, sizeof back, &n), 0);
        assert_int_equal(n, len);
        assert_memory_equal(back, in, len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encodes_rfc_vectors), cmocka_unit_test(decodes_rfc_vectors),
        cmocka_unit_test(strict_padding),      cmocka_unit_test(capacity_checked_first),
        cmocka_unit_test(round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
