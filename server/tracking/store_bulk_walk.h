/* get-history-bulk-interval answered by walking each run's series with the
 * history reader (store_history.h) instead of the sampling statement
 * (store_downsample.c): for several runs, and for one run whose series is
 * packed, where the statement reads every point through metric_points(). */
#ifndef ET_SERVER_STORE_BULK_WALK_H
#define ET_SERVER_STORE_BULK_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "store_search.h"

/* Answers store_history_bulk_interval's request (same arguments, same
 * rule: the distinct steps of all runs in the range, every
 * ceil(n / max_steps)-th and the last, each run's first and last step,
 * then every point at those steps, per run in (step, timestamp, value)
 * order and at most per_run) when it is one this file serves: several
 * runs, or one run whose series has chunks. Sets *answered to 1 and fills
 * *out and *n (arena) then; to 0, with nothing filled, when the statement
 * should serve it (one live run, or more distinct steps than are worth
 * holding). Each run is read twice, by keyset pages: the first walk
 * counts its distinct steps, the second keeps the points at the sampled
 * ones, up to the last step the first walk saw. The walks together get
 * the statement timeout's time (DB_TIMEOUT past it). Returns DB_OK or a
 * negative db_status. */
int store_bulk_walk(const char *const *run_ids, size_t nruns, const char *key, int has_range,
                    int64_t start_step, int64_t end_step, int64_t max_steps, int64_t per_run,
                    struct arena *arena, struct series **out, size_t *n, int *answered);

#endif
