/* When to compact: the background thread (a pass a minute) and the
 * `exptrackd compact` subcommand over store_chunks.c. Compaction is safe
 * beside live writes and other compactors (store_chunks_compact_run), so
 * any number of servers may run the thread against one database. */
#include "compact.h"

#include <pthread.h>
#include <stdio.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/worker.h"
#include "db/db.h"
#include "db/db_cli.h"
#include "store_chunks.h"

#define COMPACT_BATCH 64                /* runs walked per query */
#define COMPACT_INTERVAL_MS (60 * 1000) /* between the thread's passes */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct worker thread = WORKER_INIT(&mu, &cv);
static int64_t thread_delay_s;

static int stopping(void)
{
    pthread_mutex_lock(&mu);
    int stop = worker_stopping(&thread);
    pthread_mutex_unlock(&mu);
    return stop;
}

int compact_pass(int64_t delay_s, struct compact_result *result)
{
    int64_t ids[COMPACT_BATCH], last = -1;
    size_t n, walked;
    double start = clock_ms();
    int status = 0;

    *result = (struct compact_result){0};
    for (;;) {
        if (store_chunks_due(delay_s, last, COMPACT_BATCH, ids, &n, &walked, &last) != DB_OK) {
            status = -1;
            break;
        }
        result->walked += (int64_t)walked;
        /* A run skipped (another compactor has it) or written again while
         * this pass ran is left to the next pass. */
        for (size_t i = 0; i < n && !stopping(); i++) {
            int64_t moved;
            if (store_chunks_compact_run(ids[i], &moved, NULL) != DB_OK) {
                status = -1;
                goto out;
            }
            result->runs += moved > 0;
            result->points += moved;
        }
        if (stopping() || walked < COMPACT_BATCH)
            break;
    }
out:
    result->ms = clock_ms() - start;
    return status;
}

static void *compact_thread(void *arg)
{
    struct timespec deadline;
    (void)arg;

    for (;;) {
        struct compact_result r;
        if (compact_pass(thread_delay_s, &r) < 0)
            log_warn("compact: a pass failed; the next one retries");
        else if (r.runs > 0)
            log_info("compact: packed %lld points of %lld runs (walked %lld runs in %.0f ms)",
                     (long long)r.points, (long long)r.runs, (long long)r.walked, r.ms);
        pthread_mutex_lock(&mu);
        worker_deadline(&deadline, COMPACT_INTERVAL_MS);
        int stop = worker_wait(&thread, &deadline); /* early wake-ups: an early pass */
        pthread_mutex_unlock(&mu);
        if (stop)
            break;
    }
    db_thread_close();
    return NULL;
}

int compact_start(long delay_s)
{
    if (delay_s < 0)
        return 0;
    pthread_mutex_lock(&mu);
    thread_delay_s = delay_s;
    int rc = worker_start(&thread, compact_thread, NULL);
    pthread_mutex_unlock(&mu);
    return rc;
}

void compact_stop(void)
{
    (void)worker_stop(&thread);
}

int compact_main(int argc, char **argv)
{
    struct db_cli cli;
    int status;

    if (db_cli_open(&cli, "compact", argc, argv, &status) < 0)
        goto out;
    status = 1;
    struct compact_result r;
    int64_t delay = cli.cfg.compact_delay_s < 0 ? 0 : cli.cfg.compact_delay_s;
    if (compact_pass(delay, &r) < 0) {
        log_error("compact: failed");
        goto out;
    }
    printf("compact: packed %lld points of %lld runs into chunks (walked %lld runs in %.1f ms)\n",
           (long long)r.points, (long long)r.runs, (long long)r.walked, r.ms);
    status = 0;
out:
    db_cli_close(&cli);
    return status;
}
