/* The group-commit writers: a queue of waiting metric writes, a writer
 * thread (and a standby) that drain it into store_metrics_write_group; a
 * queue of control-plane calls, and CALL_WRITERS writers that drain it
 * into store_call_group taking turns; and a completer thread that runs the
 * completion callbacks of each written group. No HTTP thread waits: each
 * request's connection is paused by its handler and resumed by its
 * callback once its write is committed or failed, so every concurrent
 * connection can be in one group. Its counters go to ops/metrics.c as they
 * change. A write still queued GROUP_COMMIT_QUEUE_WAIT_MS after it came
 * fails with DB_UNAVAILABLE unwritten; one being written is bounded by the
 * writer's statement timeout. */
#include "group_commit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db.h"
#include "core/log.h"
#include "core/worker.h"
#include "store_metrics.h"
#include "common/xalloc.h"
#include "db/store_call.h"
#include "ops/metrics.h"

#define GROUP_MAX_ITEMS 1024
/* One writer takes everything queued: the fewer and larger the groups, the
 * less PostgreSQL spends per request. Single-point log-metric from 64
 * connections on 2 cores ran at about 19,000, 15,000, 13,000 and 10,000
 * requests/s with 1, 2, 4 and 8 writers taking turns (and 16,000-18,200
 * against 12,300-15,400 for one against two in interleaved runs after the
 * per-request path lost three round trips). A second, standby writer takes
 * over only while the first has been busy for STANDBY_AFTER_MS with writes
 * waiting (a group stuck behind a row lock, say), so that one slow group
 * does not hold back every small write. (Holding a writer back for up to
 * 1 ms while another is busy, as PostgreSQL's commit_delay does, halved the
 * number of groups with 4 writers but did not raise the request rate.) */
enum writer_role { FIRST_WRITER, STANDBY_WRITER };
#define GROUP_WRITERS 2 /* the first and the standby */
#define STANDBY_AFTER_MS 25
#define GROUP_COMMIT_QUEUE_WAIT_MS 10000

/* Control-plane calls (runs/create, runs/update, small log-batch) cost
 * PostgreSQL far more per request than a point, so their groups are cut
 * differently: CALL_WRITERS writers, each with its own connection, take
 * turns, and one only may run statements at a time. A writer takes every
 * queued call, runs their statements, and as soon as the last statement's
 * result is in (the server is then at the COMMIT, waiting for its WAL
 * flush) hands the turn on: the next writer takes every call that queued
 * meanwhile. So the statements of one group run while the commit of the
 * one before is flushed, and each group holds what queued during a whole
 * statement phase. (Before, a standby took each call the moment it
 * queued while the first writer was busy: with 8 clients nearly every group
 * held one or two requests, 1.98 WAL flushes a run of 3 requests, and
 * the rate fell below a commit per request.) One writer at a time in its
 * statements also means no two groups wait for each other's row locks.
 * A group still in its statements CALL_TURN_STUCK_MS after it took the
 * turn (behind a row lock of another transaction, say) no longer holds
 * the others back: the next writer may take the queued calls beside it. */
#define CALL_WRITERS 3
#define CALL_TURN_STUCK_MS 100

/* One request's write: points (the run id, points, keys and model links
 * are copied into it), or a call (the submitter's, which it keeps). */
struct group_write {
    struct metrics_write w;
    struct store_call *call;   /* NULL: a metric write */
    struct timespec queued_at; /* CLOCK_MONOTONIC */
    void (*done)(void *arg);   /* the completion callback, and its argument */
    void *done_arg;
    struct group_write *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER;    /* the first writer: work queued */
static pthread_cond_t standby_cv = PTHREAD_COND_INITIALIZER; /* the standby: the first got busy */
static pthread_cond_t call_cv = PTHREAD_COND_INITIALIZER;    /* call writers: calls, or the turn */
static struct group_write *head, *tail;                      /* metric writes */
static struct group_write *chead, *ctail;                    /* calls */
static int running, stopping;
static int calls_enabled;             /* group_commit_submit_call queues (else refuses) */
static int first_busy;                /* the first writer is writing a group */
static int calls_in_statements;       /* call writers running statements */
static struct timespec turn_taken_at; /* CLOCK_MONOTONIC: when a call writer last took the turn */
static struct worker writers = WORKER_INIT(&mu, &work_cv);
static struct worker call_writers = WORKER_INIT(&mu, &call_cv);

/* Groups written, waiting for the completer to run their callbacks. */
struct done_group {
    struct done_group *next;
    size_t n;
    struct group_write *items[];
};

static pthread_mutex_t done_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static struct done_group *done_head, *done_tail;
static int completer_running; /* the completer answers written groups */
static struct worker completer = WORKER_INIT(&done_mu, &done_cv);

static long long ms_between(const struct timespec *from, const struct timespec *to)
{
    return (long long)(to->tv_sec - from->tv_sec) * 1000 + (to->tv_nsec - from->tv_nsec) / 1000000;
}

static long long waited_ms(const struct group_write *gw, const struct timespec *now)
{
    return ms_between(&gw->queued_at, now);
}

static int waited_too_long(const struct group_write *gw, const struct timespec *now)
{
    return waited_ms(gw, now) > GROUP_COMMIT_QUEUE_WAIT_MS;
}

/* Whether the standby writer should take the queue: the first writer is
 * busy and the oldest write has waited STANDBY_AFTER_MS. Called with mu held. */
static int standby_needed(void)
{
    struct timespec now;
    if (head == NULL || !first_busy)
        return 0;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return waited_ms(head, &now) >= STANDBY_AFTER_MS;
}

/* The standby's wait: until the first writer is busy (no timeout), then in
 * steps of STANDBY_AFTER_MS while it stays busy. Called with mu held. */
static void standby_wait(void)
{
    if (!first_busy) {
        pthread_cond_wait(&standby_cv, &mu);
        return;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += STANDBY_AFTER_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&standby_cv, &mu, &until);
}

/* Tells the submitter its write is done, with the outcome in gw->w.rc. The
 * callback may hand gw to another thread at once: nothing of gw is touched
 * after it. */
static void complete(struct group_write *gw)
{
    gw->done(gw->done_arg);
}

static void complete_all(struct group_write *const *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        complete(items[i]);
}

/* Hands a written group to the completer, which wakes its requests while
 * the writer goes on to the next group: waking 30 paused connections takes
 * about 0.3 ms, a sixth of a writer's cycle under single-point load. Without
 * a completer the writer wakes them itself. Each item's rc is set. */
static void complete_group(struct group_write *const *items, size_t n)
{
    pthread_mutex_lock(&done_mu);
    if (!completer_running) {
        pthread_mutex_unlock(&done_mu);
        complete_all(items, n);
        return;
    }
    struct done_group *g = xmalloc(sizeof *g + n * sizeof *items);
    g->next = NULL;
    g->n = n;
    memcpy(g->items, items, n * sizeof *items);
    if (done_tail != NULL)
        done_tail->next = g;
    else
        done_head = g;
    done_tail = g;
    pthread_cond_signal(&done_cv);
    pthread_mutex_unlock(&done_mu);
}

/* The completer thread: completes the writes of written groups, in order. */
static void *completer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&done_mu);
    for (;;) {
        while (done_head == NULL && !worker_stopping(&completer))
            worker_wait(&completer, NULL);
        struct done_group *g = done_head;
        if (g == NULL)
            break; /* stopping, and every group answered */
        done_head = g->next;
        if (done_head == NULL)
            done_tail = NULL;
        pthread_mutex_unlock(&done_mu);
        complete_all(g->items, g->n);
        free(g);
        pthread_mutex_lock(&done_mu);
    }
    pthread_mutex_unlock(&done_mu);
    return NULL;
}

/* Takes up to GROUP_MAX_ITEMS writes queued from *qhead (*qtail: the
 * queue's tail); those queued too long are failed on the spot, unwritten.
 * Called with mu held. */
static size_t take(struct group_write **qhead, struct group_write **qtail, struct group_write **out)
{
    struct timespec now;
    size_t n = 0;

    clock_gettime(CLOCK_MONOTONIC, &now);
    while (*qhead != NULL && n < GROUP_MAX_ITEMS) {
        struct group_write *gw = *qhead;
        *qhead = gw->next;
        if (waited_too_long(gw, &now)) {
            metrics_group_commit_timeout();
            gw->w.rc = DB_UNAVAILABLE;
            if (gw->call != NULL)
                gw->call->rc = DB_UNAVAILABLE;
            complete(gw);
            continue;
        }
        out[n++] = gw;
    }
    if (*qhead == NULL)
        *qtail = NULL;
    return n;
}

/* Writes a group of metric writes in one transaction; sets each item's
 * outcome. Returns the points. */
static size_t write_group(struct group_write *const *batch, size_t n, struct metrics_write *writes)
{
    size_t points = 0;
    for (size_t i = 0; i < n; i++) {
        writes[i] = batch[i]->w;
        points += batch[i]->w.n;
    }
    if (n > 0)
        (void)store_metrics_write_group(writes, n);
    for (size_t i = 0; i < n; i++) {
        batch[i]->w.rc = writes[i].rc;
        batch[i]->w.replayed = writes[i].replayed;
    }
    return points;
}

/* A metric writer thread; arg points at its enum writer_role. */
static void *writer_main(void *arg)
{
    struct group_write **batch = xmalloc(GROUP_MAX_ITEMS * sizeof *batch);
    struct metrics_write *writes = xmalloc(GROUP_MAX_ITEMS * sizeof *writes);
    int standby = *(const enum writer_role *)arg == STANDBY_WRITER;

    pthread_mutex_lock(&mu);
    for (;;) {
        if (standby) {
            while (!stopping && !standby_needed())
                standby_wait();
        } else {
            while (head == NULL && !stopping)
                pthread_cond_wait(&work_cv, &mu);
        }
        if (head == NULL)
            break; /* stopping, and nothing left to write */
        size_t n = take(&head, &tail, batch);
        if (!standby && !first_busy) {
            first_busy = 1;
            pthread_cond_signal(&standby_cv);
        }
        pthread_mutex_unlock(&mu);
        size_t points = write_group(batch, n, writes);
        /* counted before its requests are answered: a client that reads
           /metrics after its reply sees its group */
        if (n > 0)
            metrics_group_commit_group(n, points);
        complete_group(batch, n);
        pthread_mutex_lock(&mu);
        if (!standby && head == NULL)
            first_busy = 0; /* idle next: the standby can sleep */
    }
    pthread_mutex_unlock(&mu);
    db_thread_close();
    free(batch);
    free(writes);
    return NULL;
}

/* store_call_group's signal that a group's statements are done: the turn
 * goes to the next call writer. */
static void pass_call_turn(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    calls_in_statements--;
    if (chead != NULL || stopping)
        pthread_cond_broadcast(&call_cv);
    pthread_mutex_unlock(&mu);
}

/* Whether a call writer may take the queued calls: some are queued, and
 * no writer is in its statements or the last to take the turn has been in
 * them CALL_TURN_STUCK_MS. Called with mu held. */
static int call_turn_free(void)
{
    struct timespec now;
    if (chead == NULL)
        return 0;
    if (calls_in_statements == 0)
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return ms_between(&turn_taken_at, &now) >= CALL_TURN_STUCK_MS;
}

/* A call writer thread: waits for calls and the turn, takes every queued
 * call, runs them as one group (passing the turn on once their statements
 * ran), then answers them. */
static void *call_writer_main(void *arg)
{
    struct group_write **batch = xmalloc(GROUP_MAX_ITEMS * sizeof *batch);
    struct store_call **calls = xmalloc(GROUP_MAX_ITEMS * sizeof *calls);
    (void)arg;

    pthread_mutex_lock(&mu);
    for (;;) {
        while (!call_turn_free() && !(stopping && chead == NULL)) {
            struct timespec until;
            if (chead == NULL) {
                pthread_cond_wait(&call_cv, &mu);
                continue;
            }
            /* calls wait for the turn: look again when it would count as stuck */
            worker_deadline(&until, CALL_TURN_STUCK_MS);
            pthread_cond_timedwait(&call_cv, &mu, &until);
        }
        if (chead == NULL)
            break; /* stopping, and nothing left to write */
        size_t n = take(&chead, &ctail, batch);
        if (n == 0)
            continue; /* all timed out, answered already */
        calls_in_statements++;
        clock_gettime(CLOCK_MONOTONIC, &turn_taken_at);
        pthread_mutex_unlock(&mu);
        for (size_t i = 0; i < n; i++)
            calls[i] = batch[i]->call;
        store_call_group(calls, n, pass_call_turn, NULL);
        metrics_group_commit_group(n, 0);
        complete_group(batch, n);
        pthread_mutex_lock(&mu);
    }
    pthread_mutex_unlock(&mu);
    db_thread_close();
    free(batch);
    free(calls);
    return NULL;
}

int group_commit_start(int enabled, int with_calls)
{
    calls_enabled = with_calls;
    metrics_group_commit_enabled(0);
    if (!enabled)
        return 0;
    stopping = 0;
    static const enum writer_role roles[GROUP_WRITERS] = {FIRST_WRITER, STANDBY_WRITER};
    pthread_mutex_lock(&mu);
    for (int i = 0; i < GROUP_WRITERS; i++)
        if (worker_start(&writers, writer_main, (void *)&roles[i]) != 0)
            break;
    int started = worker_running(&writers);
    for (int i = 0; i < CALL_WRITERS && started && with_calls; i++)
        if (worker_start(&call_writers, call_writer_main, NULL) != 0)
            break;
    if (with_calls && !worker_running(&call_writers))
        calls_enabled = 0; /* calls then run at once, each in its own transaction */
    pthread_mutex_unlock(&mu);
    if (!started) {
        log_error("cannot start the group-commit writer; small writes commit one by one");
        return -1;
    }
    pthread_mutex_lock(&done_mu); /* without it, the writers wake their requests */
    completer_running = worker_start(&completer, completer_main, NULL) == 0;
    pthread_mutex_unlock(&done_mu);
    pthread_mutex_lock(&mu);
    running = 1;
    pthread_mutex_unlock(&mu);
    metrics_group_commit_enabled(1);
    return 0;
}

void group_commit_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&mu);
    stopping = 1; /* no more submissions; the writers drain the queues */
    pthread_cond_broadcast(&standby_cv);
    pthread_cond_broadcast(&call_cv);
    pthread_mutex_unlock(&mu);
    worker_stop(&call_writers);
    worker_stop(&writers);
    worker_stop(&completer); /* it answers every written group before it ends */
    pthread_mutex_lock(&done_mu);
    completer_running = 0;
    pthread_mutex_unlock(&done_mu);
    pthread_mutex_lock(&mu);
    running = 0;
    pthread_mutex_unlock(&mu);
    metrics_group_commit_enabled(0);
}

/* Copies s to *text and moves *text past it; returns the copy. */
static const char *copy_text(char **text, const char *s)
{
    size_t len = strlen(s) + 1;
    char *out = memcpy(*text, s, len);
    *text += len;
    return out;
}

/* Queues gw with its completion callback; NULL (gw freed) when the group
 * is off or stopping. */
static struct group_write *enqueue(struct group_write *gw, void (*done)(void *arg), void *arg)
{
    gw->done = done;
    gw->done_arg = arg;
    gw->next = NULL;
    clock_gettime(CLOCK_MONOTONIC, &gw->queued_at);
    pthread_mutex_lock(&mu);
    if (!running || stopping) {
        pthread_mutex_unlock(&mu);
        free(gw);
        return NULL;
    }
    if (gw->call != NULL) {
        if (ctail != NULL)
            ctail->next = gw;
        else
            chead = gw;
        ctail = gw;
        pthread_cond_signal(&call_cv); /* the turn may be free, or stuck */
    } else {
        if (tail != NULL)
            tail->next = gw;
        else
            head = gw;
        tail = gw;
        pthread_cond_signal(&work_cv);
    }
    pthread_mutex_unlock(&mu);
    return gw;
}

struct group_write *group_commit_submit(const char *run_id, const char *idem_key,
                                        const struct metric *metrics, size_t n,
                                        void (*done)(void *arg), void *arg)
{
    size_t text_len = strlen(run_id) + 1 + (idem_key != NULL ? strlen(idem_key) + 1 : 0), links = 0;
    for (size_t i = 0; i < n; i++) {
        const struct metric_link *l = metrics[i].link;
        text_len += strlen(metrics[i].key) + 1;
        if (l != NULL) {
            links++;
            text_len +=
                strlen(l->model_id) + strlen(l->dataset_name) + strlen(l->dataset_digest) + 3;
        }
    }
    /* one allocation: the write, its points, their model links, then the
     * run id, Idempotency-Key, metric keys and link strings */
    struct group_write *gw =
        xmalloc(sizeof *gw + n * sizeof *metrics + links * sizeof(struct metric_link) + text_len);
    struct metric *copy = (struct metric *)(gw + 1);
    struct metric_link *link = (struct metric_link *)(copy + n);
    char *text = (char *)(link + links);
    gw->w.run_id = copy_text(&text, run_id);
    gw->w.idem_key = idem_key != NULL ? copy_text(&text, idem_key) : NULL;
    gw->w.replayed = 0;
    for (size_t i = 0; i < n; i++) {
        copy[i] = metrics[i];
        copy[i].key = copy_text(&text, metrics[i].key);
        if (metrics[i].link != NULL) {
            link->model_id = copy_text(&text, metrics[i].link->model_id);
            link->dataset_name = copy_text(&text, metrics[i].link->dataset_name);
            link->dataset_digest = copy_text(&text, metrics[i].link->dataset_digest);
            copy[i].link = link++;
        }
    }
    gw->w.metrics = copy;
    gw->w.n = n;
    gw->w.rc = DB_OK;
    gw->call = NULL;
    return enqueue(gw, done, arg);
}

struct group_write *group_commit_submit_call(struct store_call *call, void (*done)(void *arg),
                                             void *arg)
{
    if (!calls_enabled)
        return NULL;
    struct group_write *gw = xmalloc(sizeof *gw);
    memset(&gw->w, 0, sizeof gw->w);
    gw->call = call;
    return enqueue(gw, done, arg);
}

void group_commit_call_done(struct group_write *gw)
{
    free(gw);
}

int group_commit_result(struct group_write *gw, int *replayed)
{
    int rc = gw->w.rc;
    *replayed = gw->w.replayed;
    free(gw);
    return rc;
}
