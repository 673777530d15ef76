/* Unit tests for sealing webhook secrets (server/webhooks/secret_box.c):
 * round trip, fresh nonces, binding to the webhook id, tampering, another
 * key, and no key at all. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "webhooks/secret_box.h"

#define ID "3f6c1c1e-8a51-4f43-9a55-2f0d6d9f0b7a"

/* Writes text to a temporary file; returns its path (static storage). */
static const char *key_file(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/secret-box-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void round_trip(void **state)
{
    (void)state;
    char *a = NULL, *b = NULL, *plain = NULL;
    const char *path = key_file("0123456789abcdef0123456789abcdef\n");

    assert_int_equal(secret_box_configure(path), 0);
    assert_true(secret_box_enabled());
    assert_int_equal(secret_box_seal("s3cr\xc3\xa9t", ID, &a), 0);
    assert_int_equal(strncmp(a, "v1:", 3), 0);
    assert_null(strstr(a, "s3cr"));
    assert_int_equal(secret_box_seal("s3cr\xc3\xa9t", ID, &b), 0);
    assert_string_not_equal(a, b); /* a fresh nonce each time */
    assert_int_equal(secret_box_open(a, ID, &plain), 0);
    assert_string_equal(plain, "s3cr\xc3\xa9t");
    free(plain);
    /* another id, a flipped character, garbage: refused */
    assert_int_equal(secret_box_open(a, "00000000-0000-4000-8000-000000000000", &plain), -1);
    assert_null(plain);
    a[10] = a[10] == 'A' ? 'B' : 'A';
    assert_int_equal(secret_box_open(a, ID, &plain), -1);
    assert_int_equal(secret_box_open("v1:", ID, &plain), -1);
    assert_int_equal(secret_box_open("v1:!!!!", ID, &plain), -1);
    assert_int_equal(secret_box_open("plain", ID, &plain), -1);
    /* another key cannot open it */
    unlink(path);
    path = key_file("another key of enough length");
    assert_int_equal(secret_box_configure(path), 0);
    assert_int_equal(secret_box_open(b, ID, &plain), -1);
    unlink(path);
    free(a);
    free(b);
}

static void no_key(void **state)
{
    (void)state;
    char *out = NULL;
    const char *path = key_file("short\n");

    assert_int_equal(secret_box_configure(path), -1);
    assert_false(secret_box_enabled());
    unlink(path);
    assert_int_equal(secret_box_configure("/nonexistent/key"), -1);
    assert_int_equal(secret_box_configure(NULL), 0);
    assert_false(secret_box_enabled());
    assert_int_equal(secret_box_seal("x", ID, &out), -1);
    assert_null(out);
    assert_int_equal(secret_box_open("v1:AAAA", ID, &out), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(no_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
