/* Unit tests of the batcher without a server: the log-batch encoding (NaN
 * and infinities as the contract's strings, escaping), and the path to the
 * spool when the server is unreachable: batches within the 1000-metric
 * limit, split per run, in order, nothing lost. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"

static void encodes_contract_json(void **state)
{
    struct et_dbuf b;
    struct et_point_out pts[4] = {{"r", "loss", 0.5, 1, 10, 0},
                                  {"r", "q\"k", NAN, 2, 11, 0},
                                  {"r", "x", INFINITY, -3, 12, 0},
                                  {"r", "x", -INFINITY, 4, 13, 0}};
    et__dbuf_init(&b);
    assert_int_equal(et__batch_encode(&b, "abc", pts, 4), ET_OK);
    json_error_t err;
    json_t *j = json_loads(b.data, 0, &err);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "run_id")), "abc");
    json_t *m = json_object_get(j, "metrics");
    assert_int_equal(json_array_size(m), 4);
    assert_true(json_real_value(json_object_get(json_array_get(m, 0), "value")) == 0.5);
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 1), "key")), "q\"k");
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 1), "value")), "NaN");
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 2), "value")),
                        "Infinity");
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 3), "value")),
                        "-Infinity");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(m, 2), "step")), -3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(m, 3), "timestamp")), 13);
    json_decref(j);
    et__dbuf_cleanup(&b);
}

static void unreachable_server_spools_everything(void **state)
{
    char dir[] = "/tmp/et-batcher-test-XXXXXX";
    et_options o;
    et_client *c;
    et_run *r1, *r2;
    et_stats st;
    const int n = 2500;

    assert_non_null(mkdtemp(dir));
    et_options_init(&o);
    o.url = "http://127.0.0.1:1"; /* nothing listens on port 1 */
    o.spool_dir = dir;
    o.spool_after_ms = 200;
    o.flush_interval_ms = 50;
    o.flush_timeout_ms = 5000;
    assert_int_equal(et_client_new_opts(&o, &c), ET_OK);
    assert_int_equal(et_run_attach(c, "0123456789abcdef0123456789abcdef", &r1), ET_OK);
    assert_int_equal(et_run_attach(c, "fedcba9876543210fedcba9876543210", &r2), ET_OK);
    for (int i = 0; i < n; i++) {
        assert_int_equal(et_log_metric(r1, "a", i, i), ET_OK);
        if (i % 5 == 0)
            assert_int_equal(et_log_metric(r2, "b", i, i), ET_OK);
    }
    assert_int_equal(et_run_flush(r1, 10000), ET_OK); /* flushed = delivered or spooled */
    et_client_stats(c, &st);
    assert_int_equal(st.queued, n + n / 5);
    assert_int_equal(st.spooled, n + n / 5);
    assert_int_equal(st.delivered, 0);
    et_run_detach(r1);
    et_run_detach(r2);
    et_client_free(c);

    /* Read the spool back: per-run batches of <= 1000, steps in order. */
    struct et_spool *s;
    struct spool_rec rec;
    int64_t next_a = 0, next_b = 0;
    assert_int_equal(et__spool_open(dir, 0, &s), ET_OK);
    while (et__spool_peek(s, &rec) == 1) {
        json_t *j = json_loads(rec.body, 0, NULL);
        json_t *m = json_object_get(j, "metrics");
        assert_true(json_array_size(m) <= 1000 && json_array_size(m) > 0);
        assert_int_equal(strlen(rec.key), 32);
        const char *run = json_string_value(json_object_get(j, "run_id"));
        for (size_t i = 0; i < json_array_size(m); i++) {
            int64_t step = json_integer_value(json_object_get(json_array_get(m, i), "step"));
            if (run[0] == '0') {
                assert_int_equal(step, next_a);
                next_a++;
            } else {
                assert_int_equal(step, next_b);
                next_b += 5;
            }
        }
        json_decref(j);
        et__spool_rec_cleanup(&rec);
        assert_int_equal(et__spool_ack(s), ET_OK);
    }
    assert_int_equal(next_a, n);
    assert_int_equal(next_b, n);
    et__spool_close(s);
    rmdir(dir);
}

static void invalid_key_is_refused_at_the_call(void **state)
{
    char dir[] = "/tmp/et-batcher-test-XXXXXX";
    et_options o;
    et_client *c;
    et_run *r;

    assert_non_null(mkdtemp(dir));
    et_options_init(&o);
    o.url = "http://127.0.0.1:1";
    o.spool_dir = dir;
    o.flush_timeout_ms = 100;
    assert_int_equal(et_client_new_opts(&o, &c), ET_OK);
    assert_int_equal(et_run_attach(c, "0123456789abcdef0123456789abcdef", &r), ET_OK);
    assert_int_equal(et_log_metric(r, "a//b", 1, 0), ET_EINVAL);
    assert_int_equal(et_log_metric(NULL, "a", 1, 0), ET_EINVAL);
    et_run_detach(r);
    et_client_free(c);
    rmdir(dir);
}

static void no_url_is_einval(void **state)
{
    et_client *c = NULL;
    unsetenv("EXPTRACK_URL");
    unsetenv("MLFLOW_TRACKING_URI");
    assert_int_equal(et_client_new(NULL, &c), ET_EINVAL);
    assert_null(c);
    assert_string_equal(et_strerror(ET_ENOMEM), "out of memory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encodes_contract_json),
        cmocka_unit_test(unreachable_server_spools_everything),
        cmocka_unit_test(invalid_key_is_refused_at_the_call),
        cmocka_unit_test(no_url_is_einval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
