/* Group commit for small metric writes: concurrent requests queue their
 * points, a writer thread (its own database connection) writes everything
 * queued in one transaction, commits once, then calls each write's
 * completion callback with its own outcome ready (a handler's callback
 * resumes its paused request, so no HTTP thread waits). Knows nothing of
 * HTTP. Control-plane writes (runs/create, runs/update, small log-batch)
 * queue as calls: one statement each, run in their own shared transaction. */
#ifndef ET_SERVER_GROUP_COMMIT_H
#define ET_SERVER_GROUP_COMMIT_H

#include <stddef.h>

#include "db/store.h"

/* Requests with at most this many points go through the group; larger
 * ones are cheaper alone (binary COPY). libexptrack's batches from a
 * process logging to many runs carry about a second of each run's points,
 * 100 to 200 at 100 points/s (the fleet benchmark, tests/bench/fleet.sh). */
#define GROUP_COMMIT_MAX_POINTS 256

/* Starts the writer threads when enabled; otherwise group_commit_submit
 * refuses and callers write each request in its own transaction. Without
 * with_calls, group_commit_submit_call refuses (metric writes only). Call once, after db_configure
 * and before the HTTP server starts. Returns 0, or -1 when the thread could
 * not start (logged; writes then go direct). */
int group_commit_start(int enabled, int with_calls);

/* Lets the writer finish what is queued, then stops it. Safe when never
 * started. Call after the HTTP server stopped. */
void group_commit_stop(void);

/* A write waiting in, or done by, the group. */
struct group_write;

/* Queues the points of one request for the run (32-hex id) with its
 * Idempotency-Key (NULL: none), copying the run id, points and keys. Once the write is committed or
 * failed, a group commit thread calls done(arg) exactly once; from then on the outcome is ready for
 * group_commit_result, possibly on another thread at once, and the group commit touches the write
 * no more. Returns the queued write, or NULL when group commit is off or stopping (nothing queued,
 * done never called: write directly). */
struct group_write *group_commit_submit(const char *run_id, const char *idem_key,
                                        const struct metric *metrics, size_t n,
                                        void (*done)(void *arg), void *arg);

struct store_call;

/* Queues a call (db/store_call.h), which stays the caller's and must stay
 * valid until done(arg): the group runs it in a transaction shared with
 * the other calls queued with it and commits once (a call that fails is run
 * again alone: it fails alone). Once call->rc and call->res are set (and
 * the transaction committed), done(arg) is called exactly once, as for
 * group_commit_submit; then free the handle with group_commit_call_done.
 * NULL when group commit is off or stopping (run the call directly). */
struct group_write *group_commit_submit_call(struct store_call *call, void (*done)(void *arg),
                                             void *arg);

/* After done(arg) of a call: frees the handle (not the call). */
void group_commit_call_done(struct group_write *gw);

/* After done(arg): the write's outcome (DB_OK, DB_NOT_FOUND, DB_STATE,
 * or a db_status of the transaction; DB_UNAVAILABLE when it stayed queued
 * GROUP_COMMIT_QUEUE_WAIT_MS), and *replayed = 1 when it was DB_OK only
 * because its Idempotency-Key was applied before (nothing written). Frees gw. */
int group_commit_result(struct group_write *gw, int *replayed);

#endif
