/* The group-commit writers: a queue of waiting writes, GROUP_WRITERS
 * threads that drain it into store_metrics_write_group, and the wake-ups. No HTTP
 * thread waits: each request's connection is paused (wake.h) and resumed
 * when its write is committed or failed, so every concurrent connection
 * can be in one group. A write still queued GROUP_COMMIT_QUEUE_WAIT_MS
 * after it came fails with DB_UNAVAILABLE unwritten; one being written is
 * bounded by the writer's statement timeout. */
#include "group_commit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "store_metrics.h"
#include "xalloc.h"

#define GROUP_MAX_ITEMS 1024
/* Two writers: while one group waits for its WAL flush, the next is built
 * and sent, and a group stuck behind a lock does not stop every small
 * write. More writers make smaller groups that cost PostgreSQL more CPU
 * per request: single-point log-metric from 64 connections on 2 cores ran
 * at about 19,000, 15,000, 13,000 and 10,000 requests/s with 1, 2, 4 and 8
 * writers. (Holding a writer back for up to 1 ms while another is busy, as
 * PostgreSQL's commit_delay does, halved the number of groups with 4
 * writers but did not raise the request rate: left out.) */
#define GROUP_WRITERS 2
#define GROUP_COMMIT_QUEUE_WAIT_MS 10000

/* One request's write; the run id, points and keys are copied into it. */
struct group_write {
    struct metrics_write w;
    struct timespec queued_at; /* CLOCK_MONOTONIC */
    struct wake *wake;
    struct group_write *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER;
static struct group_write *head, *tail;
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

static int waited_too_long(const struct group_write *gw, const struct timespec *now)
{
    long long ms = (long long)(now->tv_sec - gw->queued_at.tv_sec) * 1000 +
                   (now->tv_nsec - gw->queued_at.tv_nsec) / 1000000;
    return ms > GROUP_COMMIT_QUEUE_WAIT_MS;
}

/* Tells the request its write is done. The wake-up may run the reply on
 * another thread at once: nothing of gw is touched after it. */
static void complete(struct group_write *gw, int rc)
{
    struct wake *w = gw->wake;
    gw->w.rc = rc;
    wake_up(w);
    wake_unref(w);
}

/* Takes up to GROUP_MAX_ITEMS queued writes; those queued too long are
 * failed on the spot, unwritten. Called with mu held. */
static size_t take(struct group_write **out)
{
    struct timespec now;
    size_t n = 0;

    clock_gettime(CLOCK_MONOTONIC, &now);
    while (head != NULL && n < GROUP_MAX_ITEMS) {
        struct group_write *gw = head;
        head = head->next;
        if (waited_too_long(gw, &now)) {
            stats.queue_timeouts++;
            complete(gw, DB_UNAVAILABLE);
            continue;
        }
        out[n++] = gw;
    }
    if (head == NULL)
        tail = NULL;
    return n;
}

static void *writer_main(void *arg)
{
    struct group_write **batch = xmalloc(GROUP_MAX_ITEMS * sizeof *batch);
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
        if (n > 0)
            (void)store_metrics_write_group(writes, n);
        for (size_t i = 0; i < n; i++)
            complete(batch[i], writes[i].rc);
        pthread_mutex_lock(&mu);
        if (n > 0)
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
    stopping = 0;
    for (nwriters = 0; nwriters < GROUP_WRITERS; nwriters++) {
        if (pthread_create(&writers[nwriters], NULL, writer_main, NULL) != 0)
            break;
    }
    if (nwriters == 0) {
        log_error("cannot start the group-commit writer; small writes commit one by one");
        return -1;
    }
    pthread_mutex_lock(&mu);
    running = 1;
    pthread_mutex_unlock(&mu);
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
    pthread_mutex_lock(&mu);
    running = 0;
    pthread_mutex_unlock(&mu);
    stats.enabled = 0;
}

struct group_write *group_commit_submit(const char *run_id, const struct metric *metrics, size_t n,
                                        struct wake *wake)
{
    size_t keys = 0, id_len = strlen(run_id) + 1;
    for (size_t i = 0; i < n; i++)
        keys += strlen(metrics[i].key) + 1;
    /* one allocation: the write, its points, the run id, then the keys */
    struct group_write *gw = xmalloc(sizeof *gw + n * sizeof *metrics + id_len + keys);
    struct metric *copy = (struct metric *)(gw + 1);
    char *text = (char *)(copy + n);
    memcpy(text, run_id, id_len);
    gw->w.run_id = text;
    text += id_len;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(metrics[i].key) + 1;
        copy[i] = metrics[i];
        copy[i].key = memcpy(text, metrics[i].key, len);
        text += len;
    }
    gw->w.metrics = copy;
    gw->w.n = n;
    gw->w.rc = DB_OK;
    gw->wake = wake;
    gw->next = NULL;
    clock_gettime(CLOCK_MONOTONIC, &gw->queued_at);

    pthread_mutex_lock(&mu);
    if (!running || stopping) {
        pthread_mutex_unlock(&mu);
        free(gw);
        return NULL;
    }
    if (tail != NULL)
        tail->next = gw;
    else
        head = gw;
    tail = gw;
    pthread_cond_signal(&work_cv);
    pthread_mutex_unlock(&mu);
    return gw;
}

int group_commit_result(struct group_write *gw)
{
    int rc = gw->w.rc;
    free(gw);
    return rc;
}

void group_commit_stats(struct group_commit_stats *out)
{
    pthread_mutex_lock(&mu);
    *out = stats;
    pthread_mutex_unlock(&mu);
}
