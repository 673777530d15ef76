/* log-batch (and log-parameter, set-tag) as one statement: the run checked,
 * params, tags and metric points written and latest_metrics raised in one
 * round trip and one commit. */
#ifndef ET_SERVER_STORE_BATCH_H
#define ET_SERVER_STORE_BATCH_H

#include "db/store.h"
#include "store_runs.h"

struct store_call;

/* Most points a batch may carry to take store_batch_write; larger ones go
 * by binary COPY (store_metrics_write_commit), which is cheaper per point. */
#define STORE_BATCH_MAX_POINTS 256

/* Writes what store_run_log_batch writes, with the same outcomes, in one
 * statement outside any transaction (it is its own): DB_NOT_FOUND,
 * DB_STATE (run deleted), DB_EXISTS with *conflict filled (arena) when a
 * param is stored with another value; on any failure nothing is written.
 * For points without a logged model only, at most STORE_BATCH_MAX_POINTS.
 * Metric names seen for the first time are interned before, in statements
 * of their own. Retries a deadlock or serialization failure a few times. */
int store_batch_write(const char *run_id, const struct metric *metrics, size_t nmetrics,
                      const struct kv *params, size_t nparams, const struct kv *tags, size_t ntags,
                      struct arena *arena, struct param_conflict *conflict);

/* store_batch_write as a call (db/store_call.h), for the group commit: the
 * statement, with copies of every value, into *c (store_call_cleanup it
 * whatever the outcome). Interns new metric names first; DB_OK, or that
 * failure (c is then not to be run). Once c has run, store_batch_answer
 * gives what store_batch_write gives. */
int store_batch_call(const char *run_id, const struct metric *metrics, size_t nmetrics,
                     const struct kv *params, size_t nparams, const struct kv *tags, size_t ntags,
                     struct store_call *c);
int store_batch_answer(const struct store_call *c, struct arena *arena,
                       struct param_conflict *conflict);

#endif
