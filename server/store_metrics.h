/* Metric points and the latest-metrics table. */
#ifndef ET_SERVER_STORE_METRICS_H
#define ET_SERVER_STORE_METRICS_H

#include "store.h"

/* Writes points for a run (by internal id) inside the caller's open
 * transaction: interns keys, inserts the points (identical ones skipped),
 * and raises latest_metrics where a point beats the stored one by
 * (step, timestamp, value). One round trip for the points. */
int store_metrics_write(int64_t run_internal_id, const struct metric *metrics, size_t n);

/* Reads the latest metrics of the given runs (internal ids), ordered by run
 * then key; calls back per row (row index in ids, metric). */
int store_metrics_latest(const int64_t *run_ids, size_t nruns, struct arena *arena,
                         void (*each)(void *ctx, size_t run_index, const struct metric *m),
                         void *ctx);

/* Reads a run's history of one key in (step, timestamp, value) order,
 * skipping offset, at most limit (limit < 0: all). DB_OK with *n = 0 for an
 * unknown run or key. */
int store_metric_history(const char *run_id, const char *key, int64_t offset, int64_t limit,
                         struct arena *arena, struct metric **out, size_t *n);

#endif
