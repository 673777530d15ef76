/* Unit tests for error replies, page tokens and run ids. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/input.h"
#include "tracking/api_common.h"
#include "core/ids.h"
#include "core/reply.h"
#include "core/validate.h"

static void error_statuses(void **state)
{
    (void)state;
    assert_int_equal(reply_error_status(ERR_RESOURCE_ALREADY_EXISTS), 400);
    assert_int_equal(reply_error_status(ERR_RESOURCE_DOES_NOT_EXIST), 404);
    assert_int_equal(reply_error_status(ERR_INVALID_STATE), 500);
    assert_int_equal(reply_error_status(ERR_TEMPORARILY_UNAVAILABLE), 503);
    assert_string_equal(reply_error_name(ERR_INVALID_PARAMETER_VALUE), "INVALID_PARAMETER_VALUE");
    /* transport errors: their own status, an existing code's body */
    assert_int_equal(reply_error_status(ERR_URI_TOO_LONG), 414);
    assert_int_equal(reply_error_status(ERR_HEADERS_TOO_LARGE), 431);
    assert_string_equal(reply_error_name(ERR_HEADERS_TOO_LARGE), "INVALID_PARAMETER_VALUE");
}

static void error_body(void **state)
{
    (void)state;
    struct reply r;
    reply_init(&r);
    reply_error(&r, ERR_TEMPORARILY_UNAVAILABLE, "db down %d", 7);
    assert_int_equal(r.status, 503);
    assert_int_equal(r.retry_after, 1);
    json_t *body = json_loads(r.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(body, "error_code")),
                        "TEMPORARILY_UNAVAILABLE");
    assert_string_equal(json_string_value(json_object_get(body, "message")), "db down 7");
    json_decref(body);
    /* invalid UTF-8 in a message still yields valid JSON */
    reply_error(&r, ERR_BAD_REQUEST, "bad \xff byte");
    body = json_loads(r.body, 0, NULL);
    assert_non_null(body);
    json_decref(body);
    reply_cleanup(&r);
}

static void page_tokens(void **state)
{
    (void)state;
    char *t = input_page_token_encode(1000);
    assert_string_equal(t, "eyJvZmZzZXQiOiAxMDAwfQ=="); /* MLflow's own spelling */
    int64_t off = 0;
    assert_int_equal(input_page_token_decode(t, &off), 0);
    assert_int_equal(off, 1000);
    free(t);
    assert_int_equal(input_page_token_decode("garbage!", &off), -1);
    assert_int_equal(input_page_token_decode("", &off), -1);
    t = input_page_token_encode(0);
    assert_int_equal(input_page_token_decode(t, &off), -1); /* offset 0 is not a token */
    free(t);
}

static void new_run_ids(void **state)
{
    (void)state;
    char a[33], b[33], name[32];
    ids_new_run_id(a);
    ids_new_run_id(b);
    assert_true(validate_is_run_id(a));
    assert_true(validate_is_run_id(b));
    assert_string_not_equal(a, b);
    ids_random_run_name(name, sizeof name);
    assert_true(strlen(name) <= 20);
    assert_non_null(strchr(name, '-'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(error_statuses),
        cmocka_unit_test(error_body),
        cmocka_unit_test(page_tokens),
        cmocka_unit_test(new_run_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
