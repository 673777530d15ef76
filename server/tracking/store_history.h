/* Reading one whole metric series (one run, one key) page by page, for
 * get-history's streamed reply. The other history reads (bulk interval,
 * downsample) are declared in store_search.h. */
#ifndef ET_SERVER_STORE_HISTORY_H
#define ET_SERVER_STORE_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "db/store.h"

/* Where a read starts: after the point (step, timestamp, value) when
 * has_after (a NaN value is past every number, as PostgreSQL orders it),
 * else after skipping offset points (0: from the first). */
struct history_start {
    int has_after;
    int64_t step, timestamp;
    double value;
    int64_t offset;
};

/* A series being read in (step, timestamp, value) order by keyset pages on
 * the metrics primary key. While the caller encodes one page, the next one
 * is already being read by PostgreSQL (one statement in flight on the
 * thread's connection), so database and encoder work side by side. Each page
 * is its own statement: no transaction or cursor is held, points committed
 * between pages may appear. Nothing is left in flight between the calls of
 * one store_history_next + store_history_settle pair and the next: the
 * thread's connection is free for other requests in between. */
struct history_cursor;

/* Reads the first page of the series of run_id (32 hex) and key, starting
 * at from (NULL: the first point); the cursor hands out at most limit
 * points in all (limit <= 0: to the end of the series). DB_OK with an empty
 * first page when the run, the key or the series does not exist or nothing
 * is left to read. Two round trips: the run's and key's ids, then the
 * page; later pages take one each. *out is set on DB_OK only. */
int store_history_open(const char *run_id, const char *key, const struct history_start *from,
                       int64_t limit, struct history_cursor **out);

/* Hands out the page read last (*n == 0: the series has ended); the points
 * (key NULL) stay valid until the next call on the cursor. Unless that page
 * was the last one, starts reading the following page: call
 * store_history_settle before the thread does anything else with the
 * database (or returns to the event loop). */
void store_history_next(struct history_cursor *c, const struct metric **points, size_t *n);

/* Waits for the page started by store_history_next (no-op when none is in
 * flight) and keeps it for the next store_history_next; the connection is
 * free again afterwards. DB_OK, or the status of the failed read (the
 * cursor then reports the end). */
int store_history_settle(struct history_cursor *c);

/* Settles and frees the cursor (NULL is fine). */
void store_history_close(struct history_cursor *c);

#endif
