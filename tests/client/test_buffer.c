/* Unit tests of the metric buffer: order, interning, key validation, the
 * full-buffer wait, and flush waits. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"

static void push_pop_in_order(void **state)
{
    uint64_t tk;
    struct et_buffer *b;
    struct et_point_out out[8];
    uint32_t run;

    assert_int_equal(et__buffer_new(16, &b), ET_OK);
    assert_int_equal(et__buffer_intern(b, "r1", &run), ET_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(
            et__buffer_push(b, run, i % 2 ? "a" : "b", i * 1.5, i, 100 + i, ET_FULL_BLOCK), ET_OK);
    assert_int_equal(et__buffer_count(b), 5);
    size_t n = et__buffer_pop(b, out, 8, 1, 0, &tk);
    assert_int_equal(n, 5);
    for (int i = 0; i < 5; i++) {
        assert_string_equal(out[i].run, "r1");
        assert_string_equal(out[i].key, i % 2 ? "a" : "b");
        assert_int_equal(out[i].step, i);
        assert_int_equal(out[i].ts, 100 + i);
        assert_true(out[i].value == i * 1.5);
    }
    /* Interned strings are shared: the same pointer for the same key. */
    assert_ptr_equal(out[0].key, out[2].key);
    et__buffer_free(b);
}

static void invalid_keys_rejected(void **state)
{
    struct et_buffer *b;
    assert_int_equal(et__buffer_new(16, &b), ET_OK);
    const char *bad[] = {"", "/abs", "a//b", "a/", "..x", "./a", "a/../b", "bad\"quote", "tab\t"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(et__buffer_push(b, 0, bad[i], 1, 0, 0, ET_FULL_BLOCK), ET_EINVAL);
    assert_int_equal(et__buffer_push(b, 0, "ok/key-1.x y:z", 1, 0, 0, ET_FULL_BLOCK), ET_OK);
    assert_int_equal(et__buffer_count(b), 1);
    et__buffer_free(b);
}

static void wraps_around_many_times(void **state)
{
    uint64_t tk;
    struct et_buffer *b;
    struct et_point_out out[7];
    int64_t next = 0;

    assert_int_equal(et__buffer_new(16, &b), ET_OK);
    for (int64_t i = 0; i < 1000; i++) {
        assert_int_equal(et__buffer_push(b, 0, "k", 0, i, 0, ET_FULL_BLOCK), ET_OK);
        if (et__buffer_count(b) >= 10) {
            size_t n = et__buffer_pop(b, out, 7, 0, 0, &tk);
            for (size_t j = 0; j < n; j++)
                assert_int_equal(out[j].step, next++);
            if (n > 0)
                et__buffer_done(b, tk);
        }
    }
    size_t n;
    while ((n = et__buffer_pop(b, out, 7, 0, 0, &tk)) > 0) {
        for (size_t j = 0; j < n; j++)
            assert_int_equal(out[j].step, next++);
        et__buffer_done(b, tk);
    }
    assert_int_equal(next, 1000);
    et__buffer_free(b);
}

struct producer {
    struct et_buffer *b;
    int pushed;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    for (int i = 0; i < 100; i++) {
        if (et__buffer_push(p->b, 0, "k", 0, i, 0, ET_FULL_SPOOL) != ET_OK)
            break;
        __atomic_add_fetch(&p->pushed, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

static void full_buffer_blocks_and_requests_spool(void **state)
{
    uint64_t tk;
    struct producer p = {0};
    struct et_point_out out[16];
    pthread_t t;
    size_t total = 0;

    assert_int_equal(et__buffer_new(16, &p.b), ET_OK);
    assert_int_equal(pthread_create(&t, NULL, produce, &p), 0);
    /* the producer fills the buffer and then asks for the spool (ET_FULL_SPOOL);
     * a loaded machine may take its time to get there: wait up to 10 s */
    int asked = 0;
    for (int i = 0; i < 10000 && !asked; i++) {
        asked = et__buffer_take_spool_request(p.b);
        if (!asked)
            usleep(1000);
    }
    assert_true(asked);
    assert_int_equal(__atomic_load_n(&p.pushed, __ATOMIC_SEQ_CST), 16);
    usleep(20000);
    assert_int_equal(__atomic_load_n(&p.pushed, __ATOMIC_SEQ_CST), 16); /* still blocked */
    while (total < 100) {
        size_t n = et__buffer_pop(p.b, out, 16, 1, 1000, &tk);
        if (n > 0)
            et__buffer_done(p.b, tk);
        total += n;
    }
    pthread_join(t, NULL);
    assert_int_equal(p.pushed, 100);
    et__buffer_free(p.b);
}

static void flush_waits_for_done(void **state)
{
    uint64_t tk;
    struct et_buffer *b;
    struct et_point_out out[4];

    assert_int_equal(et__buffer_new(16, &b), ET_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(et__buffer_push(b, 0, "k", 0, i, 0, ET_FULL_BLOCK), ET_OK);
    uint64_t target = et__buffer_pushed(b);
    assert_int_equal(et__buffer_wait_done(b, target, 20), ET_ETIMEDOUT);
    assert_int_equal(et__buffer_pop(b, out, 4, 1, 0, &tk), 3);
    assert_int_equal(et__buffer_wait_done(b, target, 20), ET_ETIMEDOUT); /* popped, not handled */
    et__buffer_done(b, tk);
    assert_int_equal(et__buffer_wait_done(b, target, 20), ET_OK);
    et__buffer_close(b);
    assert_int_equal(et__buffer_push(b, 0, "k", 0, 0, 0, ET_FULL_BLOCK), ET_ECLOSED);
    et__buffer_free(b);
}

static void out_of_order_completion(void **state)
{
    struct et_buffer *b;
    struct et_point_out out[4];
    uint64_t t1, t2;

    assert_int_equal(et__buffer_new(16, &b), ET_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(et__buffer_push(b, 0, "k", 0, i, 0, ET_FULL_BLOCK), ET_OK);
    assert_int_equal(et__buffer_pop(b, out, 2, 1, 0, &t1), 2);
    assert_int_equal(et__buffer_pop(b, out, 2, 1, 0, &t2), 2);
    et__buffer_done(b, t2); /* the later batch finishes first */
    assert_int_equal(et__buffer_wait_done(b, 2, 20), ET_ETIMEDOUT);
    et__buffer_done(b, t1);
    assert_int_equal(et__buffer_wait_done(b, 4, 20), ET_OK);
    et__buffer_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(push_pop_in_order),
        cmocka_unit_test(invalid_keys_rejected),
        cmocka_unit_test(wraps_around_many_times),
        cmocka_unit_test(full_buffer_blocks_and_requests_spool),
        cmocka_unit_test(flush_waits_for_done),
        cmocka_unit_test(out_of_order_completion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
