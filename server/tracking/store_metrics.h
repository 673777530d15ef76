/* Metric points and the latest-metrics table. */
#ifndef ET_SERVER_STORE_METRICS_H
#define ET_SERVER_STORE_METRICS_H

#include "db/store.h"

/* Writes points for a run (by internal id) as the last step of the
 * caller's open transaction, then commits it: interns keys, inserts the
 * points (identical ones skipped) and raises latest_metrics where a point
 * beats the stored one by (step, timestamp, value). Two round trips for
 * the points (a savepoint and COPY, then its data), and one for
 * latest_metrics with the COMMIT; with no points, just the COMMIT. On
 * failure the caller still calls db_rollback() (harmless when the COMMIT
 * itself failed). */
int store_metrics_write_commit(int64_t run_internal_id, const struct metric *metrics, size_t n);

/* Fills ids[i] with the interned id of metrics[i].key: from this thread's
 * cache, else interned and looked up in two statements (in the caller's
 * transaction if one is open, else each its own). Ids made by an open
 * transaction are used but not cached: a rollback would take them back. */
int store_metrics_key_ids(const struct metric *metrics, size_t n, int32_t *ids);

/* One request's points in a group write: the caller fills run_id (32 hex),
 * metrics, n and idem_key (the request's Idempotency-Key, or NULL);
 * store_metrics_write_group sets rc and replayed. */
struct metrics_write {
    const char *run_id;
    const struct metric *metrics;
    size_t n;
    const char *idem_key;
    int rc;       /* DB_OK, or this item's own failure (DB_NOT_FOUND, DB_STATE, ...) */
    int replayed; /* DB_OK without writing: its key was applied before */
};

/* Writes the points of many requests in one transaction and commits it
 * (group commit), with the Idempotency-Key of each keyed item: an item
 * whose key was stored already is answered DB_OK and replayed, unwritten;
 * a failed item's key is not stored. Items that fail on their own (unknown
 * or deleted run, bad data) get their rc and leave the others untouched; a failure of the whole
 * transaction (unavailable, timeout) is every item's rc and the return
 * value. Retries serialization failures a few times. */
int store_metrics_write_group(struct metrics_write *items, size_t n);

#endif
