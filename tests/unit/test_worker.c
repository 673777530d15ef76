/* Unit tests for core/worker: threads start, wait for work, drain what is
 * queued when stopped, and are all joined; a timed wait returns; stopping
 * a worker that never ran does nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <time.h>

#include "core/worker.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int queued, done, exited;

/* Takes queued items one by one; returns once stopped with nothing left. */
static void *consumer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        while (queued == 0 && !worker_stopping(arg))
            worker_wait(arg, NULL);
        if (queued == 0)
            break;
        queued--;
        done++;
    }
    exited++;
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void drains_and_joins(void **state)
{
    struct worker w = WORKER_INIT(&mu, &cv);
    (void)state;
    queued = done = exited = 0;
    pthread_mutex_lock(&mu);
    assert_false(worker_running(&w));
    assert_int_equal(worker_start(&w, consumer, &w), 0);
    assert_int_equal(worker_start(&w, consumer, &w), 0);
    assert_true(worker_running(&w));
    queued = 1000; /* a signal for the lot; the stop flag must not lose any */
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    assert_int_equal(worker_stop(&w), 1);
    assert_int_equal(done, 1000);
    assert_int_equal(exited, 2);
    assert_false(worker_running(&w));
    assert_int_equal(worker_stop(&w), 0); /* a second stop: nothing to do */
}

static void never_started(void **state)
{
    struct worker w = WORKER_INIT(&mu, NULL);
    (void)state;
    assert_int_equal(worker_stop(&w), 0);
}

static void *idle(void *arg)
{
    pthread_mutex_lock(&mu);
    while (!worker_stopping(arg))
        worker_wait(arg, NULL);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void thread_limit_and_restart(void **state)
{
    struct worker w = WORKER_INIT(&mu, &cv);
    (void)state;
    for (int round = 0; round < 2; round++) {
        pthread_mutex_lock(&mu);
        for (int i = 0; i < WORKER_MAX_THREADS; i++)
            assert_int_equal(worker_start(&w, idle, &w), 0);
        assert_int_equal(worker_start(&w, idle, &w), -1);
        pthread_mutex_unlock(&mu);
        assert_int_equal(worker_stop(&w), 1);
    }
}

static void timed_wait_returns(void **state)
{
    struct worker w = WORKER_INIT(&mu, &cv);
    struct timespec before, after, deadline;
    (void)state;
    clock_gettime(CLOCK_MONOTONIC, &before);
    pthread_mutex_lock(&mu);
    worker_deadline(&deadline, 30);
    while (worker_wait(&w, &deadline) == 0) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        if (now.tv_sec > deadline.tv_sec ||
            (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec))
            break;
    }
    pthread_mutex_unlock(&mu);
    clock_gettime(CLOCK_MONOTONIC, &after);
    long ms = (after.tv_sec - before.tv_sec) * 1000 + (after.tv_nsec - before.tv_nsec) / 1000000;
    assert_true(ms >= 25 && ms < 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(drains_and_joins),
        cmocka_unit_test(never_started),
        cmocka_unit_test(thread_limit_and_restart),
        cmocka_unit_test(timed_wait_returns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
