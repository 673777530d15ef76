/* Handlers of server/tracking/: experiments, runs, params, tags, metrics,
 * history and search, one group per api_*.c file. Each decodes and validates
 * its input, calls the store, and encodes the reply; none writes SQL. */
#ifndef ET_SERVER_TRACKING_API_H
#define ET_SERVER_TRACKING_API_H

#include "routes.h"

/* api_experiments.c */
void api_experiments_create(const struct request *req, struct reply *r);
void api_experiments_get(const struct request *req, struct reply *r);
void api_experiments_get_by_name(const struct request *req, struct reply *r);
void api_experiments_update(const struct request *req, struct reply *r);
void api_experiments_delete(const struct request *req, struct reply *r);
void api_experiments_restore(const struct request *req, struct reply *r);
void api_experiments_set_tag(const struct request *req, struct reply *r);
void api_experiments_delete_tag(const struct request *req, struct reply *r);

/* api_runs.c */
void api_runs_create(const struct request *req, struct reply *r);
void api_runs_get(const struct request *req, struct reply *r);
void api_runs_update(const struct request *req, struct reply *r);
void api_runs_delete(const struct request *req, struct reply *r);
void api_runs_restore(const struct request *req, struct reply *r);

/* api_log.c */
void api_runs_set_tag(const struct request *req, struct reply *r);
void api_runs_delete_tag(const struct request *req, struct reply *r);
void api_runs_log_parameter(const struct request *req, struct reply *r);
void api_runs_log_metric(const struct request *req, struct reply *r);
void api_runs_log_batch(const struct request *req, struct reply *r);
void api_runs_log_inputs(const struct request *req, struct reply *r);
void api_runs_log_outputs(const struct request *req, struct reply *r);

/* api_metrics.c */
void api_metrics_get_history(const struct request *req, struct reply *r);

/* api_search.c: runs/search (filter, order_by, keyset page tokens, and the
 * metric_keys/param_keys/tag_keys extension) and experiments/search. */
void api_runs_search(const struct request *req, struct reply *r);
void api_experiments_search(const struct request *req, struct reply *r);

/* api_history.c: metrics/get-history-bulk-interval, and the extensions
 * GET exptrack/metrics/history (downsampled series of several runs and
 * keys) and GET exptrack/experiments/keys (distinct keys of experiments). */
void api_metrics_get_history_bulk_interval(const struct request *req, struct reply *r);
void api_exptrack_metrics_history(const struct request *req, struct reply *r);
void api_exptrack_experiment_keys(const struct request *req, struct reply *r);

/* GET exptrack/experiments/stats?experiment_id=..: run counts and last
 * activity of up to 250 experiments; ids the caller may not read, and
 * unknown ones, are left out (api_experiments.c). */
void api_exptrack_experiment_stats(const struct request *req, struct reply *r);

/* POST exptrack/runs/purge {run_ids: [...]} or {experiment_id, older_than}:
 * permanently deletes runs in the deleted lifecycle stage with their
 * metrics, params, tags, inputs and artifact files (admins only: the
 * route's rule). Refuses (400, naming them) runs that are not deleted
 * (api_purge.c). */
void api_exptrack_runs_purge(const struct request *req, struct reply *r);

#endif
