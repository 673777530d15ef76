/* Group commit for small metric writes: concurrent requests queue their
 * points, one writer thread (its own database connection) writes everything
 * queued in one transaction, commits once, then wakes each request with its
 * own outcome. Not for writes with params, tags or an Idempotency-Key. */
#ifndef ET_SERVER_GROUP_COMMIT_H
#define ET_SERVER_GROUP_COMMIT_H

#include <stddef.h>

#include "store.h"

/* Requests with at most this many points go through the group. */
#define GROUP_COMMIT_MAX_POINTS 100

/* Starts the writer thread when enabled; otherwise group_commit_write
 * writes each request in its own transaction. Call once, after db_configure
 * and before the HTTP server starts. Returns 0, or -1 when the thread could
 * not start (logged; writes then go direct). */
int group_commit_start(int enabled);

/* Lets the writer finish what is queued, then stops it. Safe when never
 * started. Call after the HTTP server stopped. */
void group_commit_stop(void);

/* Writes the points of one request to the run (32-hex id) and returns once
 * they are committed or failed: DB_OK, DB_NOT_FOUND, DB_STATE, or a
 * db_status of the transaction (DB_UNAVAILABLE when the queue did not move
 * for GROUP_COMMIT_QUEUE_WAIT_MS). Copies nothing: metrics must stay valid
 * until it returns. */
int group_commit_write(const char *run_id, const struct metric *metrics, size_t n);

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
