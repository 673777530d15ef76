/* Runs, their params and tags, dataset inputs, and log-batch. Run ids here
 * are already-validated 32-hex strings; returns db_status values and
 * DB_STATE (the run, or its experiment, is not active). */
#ifndef ET_SERVER_STORE_RUNS_H
#define ET_SERVER_STORE_RUNS_H

#include "db/store.h"

struct store_call;

/* What runs/create stores. The api layer has settled name, user and tags. */
struct run_create {
    int64_t experiment_id;
    const char *run_id; /* freshly generated 32-hex id */
    const char *name;
    const char *user_id;
    int64_t start_time;
    const struct kv *tags;
    size_t ntags;
};

/* Creates a RUNNING, active run and reads it back into *out (arena).
 * DB_NOT_FOUND: no such experiment; DB_STATE: the experiment is deleted. */
int store_run_create(const struct run_create *in, struct arena *arena, struct run *out);

/* store_run_create as a call (db/store_call.h), for the group commit: the
 * statement, with copies of in's values, into *c (store_call_cleanup it);
 * once c has run, store_run_create_answer gives what store_run_create
 * gives (in->tags must still be valid then). */
void store_run_create_call(const struct run_create *in, struct store_call *c);
int store_run_create_answer(const struct store_call *c, const struct run_create *in,
                            struct arena *arena, struct run *out);

/* Reads a run with its latest metrics, params, tags and inputs. */
int store_run_get(const char *run_id, struct arena *arena, struct run *out);

/* Changes the fields given: status when non-zero, end_time when has_end_time,
 * name when non-NULL and non-empty (mirrored into tag mlflow.runName). Reads
 * the info back into *out. DB_NOT_FOUND, DB_STATE (run deleted). */
int store_run_update(const char *run_id, int status, int has_end_time, int64_t end_time,
                     const char *name, struct arena *arena, struct run_info *out);

/* store_run_update as a call, and the reading of its outcome once run. */
void store_run_update_call(const char *run_id, int status, int has_end_time, int64_t end_time,
                           const char *name, struct store_call *c);
int store_run_update_answer(const struct store_call *c, struct arena *arena, struct run_info *out);

/* Soft-deletes (deleted=1) or restores (0) a run; no state check. */
int store_run_set_deleted(const char *run_id, int deleted);

/* Upserts a tag (mlflow.runName also renames the run). */
int store_run_set_tag(const char *run_id, const char *key, const char *value);

/* Deletes a tag; *missing when the run is fine but has no such tag. */
int store_run_delete_tag(const char *run_id, const char *key, int *missing);

/* A param already stored with another value (log-batch and log-parameter). */
struct param_conflict {
    const char *key;
    const char *old_value;
    const char *new_value;
};

/* Writes params, metrics and tags atomically in one transaction. Params are
 * write-once: a different stored value fails the whole batch with DB_EXISTS
 * and *conflict filled (arena). Repeated tag keys: the last wins. Metric
 * points already stored identically are skipped; the latest-metrics table
 * is updated in the same transaction. */
int store_run_log_batch(const char *run_id, const struct metric *metrics, size_t nmetrics,
                        const struct kv *params, size_t nparams, const struct kv *tags,
                        size_t ntags, struct arena *arena, struct param_conflict *conflict);

/* store_run_log_batch guarded by an Idempotency-Key (NULL: none). The key is
 * inserted in the batch's own transaction, so it is stored iff the batch is;
 * when it was already stored nothing is written, *replayed is set to 1 and
 * DB_OK returned. Keys are kept at least 24 hours. replayed may be NULL. */
int store_run_log_batch_idem(const char *run_id, const char *idem_key, int *replayed,
                             const struct metric *metrics, size_t nmetrics, const struct kv *params,
                             size_t nparams, const struct kv *tags, size_t ntags,
                             struct arena *arena, struct param_conflict *conflict);

/* What store_run_log_batch_call answers for a batch that is no call (it
 * has an Idempotency-Key, points for a logged model or more than
 * STORE_BATCH_MAX_POINTS points): write it with store_run_log_batch_idem. */
#define STORE_NO_CALL 1

/* store_run_log_batch_idem as a call (db/store_call.h), for the group
 * commit: DB_OK with the statement, holding copies of every value, in *c;
 * STORE_NO_CALL (c untouched); or the failure of interning new metric
 * names (c then needs store_call_cleanup but is not to be run). Once c has run,
 * store_run_log_batch_answer gives what store_run_log_batch gives. */
int store_run_log_batch_call(const char *run_id, const char *idem_key, const struct metric *metrics,
                             size_t nmetrics, const struct kv *params, size_t nparams,
                             const struct kv *tags, size_t ntags, struct store_call *c);
int store_run_log_batch_answer(const struct store_call *c, struct arena *arena,
                               struct param_conflict *conflict);

/* Links datasets to a run (deduplicated per experiment by name and digest;
 * input tags are stored only when the link is new) and logged models used
 * by it (models[i].model_id; a model linked again is a no-op), in one
 * transaction. DB_NOT_FOUND, DB_STATE (run deleted). */
int store_run_log_inputs(const char *run_id, const struct dataset_input *inputs, size_t n,
                         const struct model_link *models, size_t nmodels);

/* Appends the logged models a run produced (runs/outputs), in order; a
 * repeat adds a repeated row. Model ids are not checked. DB_NOT_FOUND,
 * DB_STATE (run deleted). */
int store_run_log_outputs(const char *run_id, const struct model_link *models, size_t n);

#endif
