/* The group-commit writers: a queue of waiting requests, two threads that
 * drain it into store_metrics_write_group, and the wake-ups. The request
 * threads block on a condition variable; a request still queued when its
 * wait runs out leaves the queue and fails with 503, one already taken is
 * bounded by the writer's statement timeout. */
#include "group_commit.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "store_metrics.h"
#include "store_runs.h"
#include "xalloc.h"

#define GROUP_MAX_ITEMS 1024
/* Two writers: while one group waits for its WAL flush, the next is built
 * and sent; PostgreSQL flushes both commits together when it can. */
#define GROUP_WRITERS 2
#define GROUP_COMMIT_QUEUE_WAIT_MS 10000

enum item_state { ITEM_QUEUED, ITEM_TAKEN, ITEM_DONE };

struct item {
    struct metrics_write w;
    enum item_state state;
    struct item *next;
    pthread_cond_t done; /* signalled once, when state becomes ITEM_DONE */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER;
static pthread_condattr_t done_attr; /* CLOCK_MONOTONIC for the items' waits */
static struct item *head, *tail;
static int running, stopping;
static pthread_t writers[GROUP_WRITERS];
static int nwriters;

const unsigned group_commit_bucket_bounds[GROUP_COMMIT_BUCKETS] = {1, 2, 4, 8, 16, 32, 64, 1024};
static struct group_commit_stats stats;

static void record_group(size_t n, size_t points)
{
    stats.groups++;
    stats.requests += n;
    stats.points += points;
    for (int b = 0; b < GROUP_COMMIT_BUCKETS; b++)
        if (n <= group_commit_bucket_bounds[b])
            stats.size_le[b]++;
}

/* Takes up to GROUP_MAX_ITEMS queued items; called with mu held. */
static size_t take(struct item **out)
{
    size_t n = 0;
    while (head != NULL && n < GROUP_MAX_ITEMS) {
        out[n] = head;
        head->state = ITEM_TAKEN;
        head = head->next;
        n++;
    }
    if (head == NULL)
        tail = NULL;
    return n;
}

static void *writer_main(void *arg)
{
    struct item **batch = xmalloc(GROUP_MAX_ITEMS * sizeof *batch);
    struct metrics_write *writes = xmalloc(GROUP_MAX_ITEMS * sizeof *writes);

    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        while (head == NULL && !stopping)
            pthread_cond_wait(&work_cv, &mu);
        if (head == NULL)
            break; /* stopping, and nothing left to write */
        size_t n = take(batch), points = 0;
        pthread_mutex_unlock(&mu);
        for (size_t i = 0; i < n; i++) {
            writes[i] = batch[i]->w;
            points += writes[i].n;
        }
        (void)store_metrics_write_group(writes, n);
        pthread_mutex_lock(&mu);
        /* one wake-up per request, not a broadcast that wakes every waiter */
        for (size_t i = 0; i < n; i++) {
            batch[i]->w.rc = writes[i].rc;
            batch[i]->state = ITEM_DONE;
            pthread_cond_signal(&batch[i]->done);
        }
        record_group(n, points);
    }
    pthread_mutex_unlock(&mu);
    db_thread_close();
    free(batch);
    free(writes);
    return NULL;
}

int group_commit_start(int enabled)
{
    stats.enabled = 0;
    if (!enabled)
        return 0;
    pthread_condattr_init(&done_attr);
    pthread_condattr_setclock(&done_attr, CLOCK_MONOTONIC);
    stopping = 0;
    for (nwriters = 0; nwriters < GROUP_WRITERS; nwriters++) {
        if (pthread_create(&writers[nwriters], NULL, writer_main, NULL) != 0)
            break;
    }
    if (nwriters == 0) {
        log_error("cannot start the group-commit writer; small writes commit one by one");
        return -1;
    }
    running = 1;
    stats.enabled = 1;
    return 0;
}

void group_commit_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&mu);
    stopping = 1;
    pthread_cond_broadcast(&work_cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < nwriters; i++)
        pthread_join(writers[i], NULL);
    running = 0;
    stats.enabled = 0;
}

/* Unlinks a still-queued item; called with mu held. */
static void unlink_item(struct item *it)
{
    struct item **p = &head, *prev = NULL;
    while (*p != NULL && *p != it) {
        prev = *p;
        p = &(*p)->next;
    }
    if (*p == NULL)
        return;
    *p = it->next;
    if (tail == it)
        tail = prev;
}

int group_commit_write(const char *run_id, const struct metric *metrics, size_t n)
{
    struct item it = {.w = {run_id, metrics, n, DB_OK}, .state = ITEM_QUEUED};
    struct timespec deadline;

    if (!running || stopping)
        return store_run_log_batch(run_id, metrics, n, NULL, 0, NULL, 0, NULL, NULL);
    pthread_cond_init(&it.done, &done_attr);
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += GROUP_COMMIT_QUEUE_WAIT_MS / 1000;
    pthread_mutex_lock(&mu);
    if (tail != NULL)
        tail->next = &it;
    else
        head = &it;
    tail = &it;
    pthread_cond_signal(&work_cv);
    while (it.state != ITEM_DONE) {
        int rc = pthread_cond_timedwait(&it.done, &mu, &deadline);
        if (rc == ETIMEDOUT && it.state == ITEM_QUEUED) {
            /* the writer is stuck on an earlier group: give up, untouched */
            unlink_item(&it);
            stats.queue_timeouts++;
            it.w.rc = DB_UNAVAILABLE;
            break;
        }
        if (rc == ETIMEDOUT) /* taken: the writer's statement timeout bounds it */
            deadline.tv_sec += 1;
    }
    pthread_mutex_unlock(&mu);
    pthread_cond_destroy(&it.done);
    return it.w.rc;
}

void group_commit_stats(struct group_commit_stats *out)
{
    pthread_mutex_lock(&mu);
    *out = stats;
    pthread_mutex_unlock(&mu);
}
