/* The change feed: a bounded list of (run, kind) changes and a smaller one
 * of experiments whose traces were written, filled by the request threads
 * and drained by one sender thread (see change_feed.h). */
#include "change_feed.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db.h"
#include "core/log.h"
#include "core/worker.h"
#include "store_notify.h"
#include "common/xalloc.h"

/* Changes held between two sends; past this, changes are dropped (and
 * counted): a stream that misses one still shows the data on its next
 * fetch. Thousands of distinct runs changing within 50 ms is rare. */
#define FEED_MAX 8192
#define RUN_ID_LEN 32
/* Experiments with trace writes held between two sends (each once). */
#define TRACES_MAX 1024

struct change {
    char run_id[RUN_ID_LEN + 1];
    const char *kind;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct change *pending; /* FEED_MAX entries */
static size_t npending;
static int64_t *trace_exps; /* TRACES_MAX entries, distinct */
static size_t ntraces;
static int64_t *model_exps; /* TRACES_MAX entries, distinct: logged-model changes */
static size_t nmodels;
static unsigned long long dropped;
static struct worker sender = WORKER_INIT(&mu, &cv);

void change_feed_run(const char *run_id, const char *kind)
{
    if (strlen(run_id) != RUN_ID_LEN)
        return;
    pthread_mutex_lock(&mu);
    if (!worker_running(&sender)) {
        pthread_mutex_unlock(&mu);
        return;
    }
    /* the latest few entries catch the common repeat (one run logging fast) */
    for (size_t i = npending, seen = 0; i > 0 && seen < 8; i--, seen++) {
        if (pending[i - 1].kind == kind && memcmp(pending[i - 1].run_id, run_id, RUN_ID_LEN) == 0) {
            pthread_mutex_unlock(&mu);
            return;
        }
    }
    if (npending == FEED_MAX) {
        dropped++;
    } else {
        memcpy(pending[npending].run_id, run_id, RUN_ID_LEN + 1);
        pending[npending].kind = kind;
        if (npending++ == 0 && ntraces + nmodels == 0)
            pthread_cond_signal(&cv);
    }
    pthread_mutex_unlock(&mu);
}

/* Adds experiment_id to one of the experiment sets (once); the caller
 * holds mu. */
static void add_experiment(int64_t *set, size_t *n, int64_t experiment_id)
{
    if (!worker_running(&sender))
        return;
    for (size_t i = 0; i < *n; i++)
        if (set[i] == experiment_id)
            return;
    if (*n == TRACES_MAX) {
        dropped++;
        return;
    }
    set[(*n)++] = experiment_id;
    if (npending + ntraces + nmodels == 1)
        pthread_cond_signal(&cv);
}

void change_feed_traces(int64_t experiment_id)
{
    pthread_mutex_lock(&mu);
    add_experiment(trace_exps, &ntraces, experiment_id);
    pthread_mutex_unlock(&mu);
}

void change_feed_models(int64_t experiment_id)
{
    pthread_mutex_lock(&mu);
    add_experiment(model_exps, &nmodels, experiment_id);
    pthread_mutex_unlock(&mu);
}

static int compare_changes(const void *a, const void *b)
{
    const struct change *x = a, *y = b;
    int c = memcmp(x->run_id, y->run_id, RUN_ID_LEN);
    if (c != 0)
        return c;
    return strcmp(x->kind, y->kind);
}

/* Tries of a batch after the database was unavailable, waiting
 * SEND_RETRY_FIRST_MS and doubling: 100 + 200 + 400 + 800 ms at most. */
#define SEND_RETRIES 4
#define SEND_RETRY_FIRST_MS 100L

static int stop_asked(void)
{
    pthread_mutex_lock(&mu);
    int stop = worker_stopping(&sender);
    pthread_mutex_unlock(&mu);
    return stop;
}

/* Sends the experiments whose traces (models 0) or logged models (1)
 * changed, retried as runs are. */
static void send_experiments(const int64_t *exps, size_t n, int models)
{
    int rc = store_notify_experiments(exps, n, models);
    for (int attempt = 0; rc == DB_UNAVAILABLE && attempt < SEND_RETRIES && !stop_asked();
         attempt++) {
        struct timespec wait = {0, (SEND_RETRY_FIRST_MS << attempt) * 1000000L};
        nanosleep(&wait, NULL);
        rc = store_notify_experiments(exps, n, models);
    }
    if (rc != DB_OK)
        log_warn("live updates: could not announce %s changes of %zu experiments",
                 models ? "logged-model" : "trace", n);
}

/* Sends a batch, each (run, kind) once. */
static void send_changes(struct change *batch, size_t n)
{
    const char **ids = xmalloc(n * sizeof *ids);
    const char **kinds = xmalloc(n * sizeof *kinds);
    size_t m = 0;

    qsort(batch, n, sizeof *batch, compare_changes);
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && compare_changes(&batch[i], &batch[i - 1]) == 0)
            continue;
        ids[m] = batch[i].run_id;
        kinds[m] = batch[i].kind;
        m++;
    }
    /* A restarted database breaks this thread's connection while request
     * threads already write again; db.c reopens it after a short backoff,
     * so an unavailable database is tried a few more times before the
     * batch is given up. */
    int rc = store_notify_runs(ids, kinds, m);
    for (int attempt = 0; rc == DB_UNAVAILABLE && attempt < SEND_RETRIES && !stop_asked();
         attempt++) {
        struct timespec wait = {0, (SEND_RETRY_FIRST_MS << attempt) * 1000000L};
        nanosleep(&wait, NULL);
        rc = store_notify_runs(ids, kinds, m);
    }
    if (rc != DB_OK) /* db.c logged why; live views catch up at their next fetch */
        log_warn("live updates: could not announce %zu changes", m);
    free(ids);
    free(kinds);
}

static void *sender_main(void *arg)
{
    struct change *batch = xmalloc(FEED_MAX * sizeof *batch);
    int64_t *exps = xmalloc(TRACES_MAX * sizeof *exps);
    int64_t *mexps = xmalloc(TRACES_MAX * sizeof *mexps);
    struct timespec pause = {0, CHANGE_FEED_INTERVAL_MS * 1000000L};

    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        while (npending + ntraces + nmodels == 0 && !worker_stopping(&sender))
            worker_wait(&sender, NULL);
        if (npending + ntraces + nmodels == 0)
            break; /* stopping, nothing left */
        if (!worker_stopping(&sender)) {
            /* let the changes of the next few milliseconds join this send */
            pthread_mutex_unlock(&mu);
            nanosleep(&pause, NULL);
            pthread_mutex_lock(&mu);
        }
        size_t n = npending, nexps = ntraces, nmexps = nmodels;
        memcpy(batch, pending, n * sizeof *batch);
        memcpy(exps, trace_exps, nexps * sizeof *exps);
        memcpy(mexps, model_exps, nmexps * sizeof *mexps);
        npending = ntraces = nmodels = 0;
        if (dropped > 0) {
            log_warn("live updates: %llu changes dropped (more than %d within %d ms)", dropped,
                     FEED_MAX, CHANGE_FEED_INTERVAL_MS);
            dropped = 0;
        }
        pthread_mutex_unlock(&mu);
        if (n > 0)
            send_changes(batch, n);
        if (nexps > 0)
            send_experiments(exps, nexps, 0);
        if (nmexps > 0)
            send_experiments(mexps, nmexps, 1);
        pthread_mutex_lock(&mu);
    }
    pthread_mutex_unlock(&mu);
    db_thread_close();
    free(batch);
    free(exps);
    free(mexps);
    return NULL;
}

int change_feed_start(void)
{
    pending = xmalloc(FEED_MAX * sizeof *pending);
    trace_exps = xmalloc(TRACES_MAX * sizeof *trace_exps);
    model_exps = xmalloc(TRACES_MAX * sizeof *model_exps);
    pthread_mutex_lock(&mu);
    int rc = worker_start(&sender, sender_main, NULL);
    pthread_mutex_unlock(&mu);
    if (rc != 0) {
        log_error("cannot start the live-update sender; live views will not update");
        free(pending);
        free(trace_exps);
        free(model_exps);
        pending = NULL;
        trace_exps = NULL;
        model_exps = NULL;
        return -1;
    }
    return 0;
}

void change_feed_stop(void)
{
    if (!worker_stop(&sender))
        return;
    pthread_mutex_lock(&mu);
    npending = ntraces = nmodels = 0;
    pthread_mutex_unlock(&mu);
    free(pending);
    free(trace_exps);
    free(model_exps);
    pending = NULL;
    trace_exps = NULL;
    model_exps = NULL;
}
