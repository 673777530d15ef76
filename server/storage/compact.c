/* When to compact: the background thread (a pass a minute) and the
 * `exptrackd compact` subcommand over store_chunks.c. Compaction is safe
 * beside live writes and other compactors (store_chunks_compact_run), so
 * any number of servers may run the thread against one database. */
#include "compact.h"

#include <pthread.h>
#include <stdio.h>

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

int compact_pass(int64_t delay_s, int64_t *runs, int64_t *points)
{
    int64_t ids[COMPACT_BATCH], last = -1;
    size_t n, walked;
    int64_t nruns = 0, npoints = 0;
    int status = 0;

    for (;;) {
        if (store_chunks_due(delay_s, last, COMPACT_BATCH, ids, &n, &walked, &last) != DB_OK) {
            status = -1;
            break;
        }
        /* A run skipped (another compactor has it) or written again while
         * this pass ran is left to the next pass. */
        for (size_t i = 0; i < n && !stopping(); i++) {
            int64_t moved;
            if (store_chunks_compact_run(ids[i], &moved, NULL) != DB_OK) {
                status = -1;
                goto out;
            }
            nruns += moved > 0;
            npoints += moved;
        }
        if (stopping() || walked < COMPACT_BATCH)
            break;
    }
out:
    if (runs != NULL)
        *runs = nruns;
    if (points != NULL)
        *points = npoints;
    return status;
}

static void *compact_thread(void *arg)
{
    struct timespec deadline;
    (void)arg;

    for (;;) {
        int64_t runs, points;
        if (compact_pass(thread_delay_s, &runs, &points) < 0)
            log_warn("compact: a pass failed; the next one retries");
        else if (runs > 0)
            log_info("compact: packed %lld points of %lld runs", (long long)points,
                     (long long)runs);
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
    int64_t runs, points;
    int64_t delay = cli.cfg.compact_delay_s < 0 ? 0 : cli.cfg.compact_delay_s;
    if (compact_pass(delay, &runs, &points) < 0) {
        log_error("compact: failed");
        goto out;
    }
    printf("compact: packed %lld points of %lld runs into chunks\n", (long long)points,
           (long long)runs);
    status = 0;
out:
    db_cli_close(&cli);
    return status;
}
