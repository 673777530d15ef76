/* Group commit for small metric writes: concurrent requests queue their
 * points, a writer thread (its own database connection) writes everything
 * queued in one transaction, commits once, then wakes each request (wake.h)
 * with its own outcome. The requests' connections are paused meanwhile, so
 * no HTTP thread waits. Not for writes with params, tags or an
 * Idempotency-Key. */
#ifndef ET_SERVER_GROUP_COMMIT_H
#define ET_SERVER_GROUP_COMMIT_H

#include <stddef.h>

#include "db/store.h"
#include "core/wake.h"

/* Requests with at most this many points go through the group. */
#define GROUP_COMMIT_MAX_POINTS 100

/* Starts the writer threads when enabled; otherwise group_commit_submit
 * refuses and callers write each request in its own transaction. Call once, after db_configure
 * and before the HTTP server starts. Returns 0, or -1 when the thread could
 * not start (logged; writes then go direct). */
int group_commit_start(int enabled);

/* Lets the writer finish what is queued, then stops it. Safe when never
 * started. Call after the HTTP server stopped. */
void group_commit_stop(void);

/* A write waiting in, or done by, the group. */
struct group_write;

/* Queues the points of one request for the run (32-hex id), copying the
 * run id, points and keys, and takes over the reference to wake: once the
 * write is committed or failed, the writer calls wake_up(wake) and drops
 * it. Returns the queued write, or NULL when group commit is off or
 * stopping (nothing queued, wake untouched: write directly). */
struct group_write *group_commit_submit(const char *run_id, const struct metric *metrics, size_t n,
                                        struct wake *wake);

/* After the wake-up: the write's outcome (DB_OK, DB_NOT_FOUND, DB_STATE,
 * or a db_status of the transaction; DB_UNAVAILABLE when it stayed queued
 * GROUP_COMMIT_QUEUE_WAIT_MS). Frees gw. */
int group_commit_result(struct group_write *gw);

/* Counters for /metrics: groups committed, requests and points written through them,
 * and a histogram of group sizes (counts of groups with size <= bounds[i]). */
#define GROUP_COMMIT_BUCKETS 8
struct group_commit_stats {
    int enabled;
    unsigned long long groups, requests, points;
    unsigned long long size_le[GROUP_COMMIT_BUCKETS]; /* cumulative */
    unsigned long long queue_timeouts;
};
extern const unsigned group_commit_bucket_bounds[GROUP_COMMIT_BUCKETS];

/* Copies the current counters into *out. */
void group_commit_stats(struct group_commit_stats *out);

#endif
