/* Every API handler, one group per api_*.c file. Each decodes and validates
 * its input, calls the store, and encodes the reply; none writes SQL. */
#ifndef ET_SERVER_API_H
#define ET_SERVER_API_H

#include "routes.h"

/* api_misc.c */
void api_health(const struct request *req, struct reply *r);
void api_version(const struct request *req, struct reply *r);

/* api_experiments.c */
void api_experiments_create(const struct request *req, struct reply *r);
void api_experiments_get(const struct request *req, struct reply *r);
void api_experiments_get_by_name(const struct request *req, struct reply *r);
void api_experiments_update(const struct request *req, struct reply *r);
void api_experiments_delete(const struct request *req, struct reply *r);
void api_experiments_restore(const struct request *req, struct reply *r);
void api_experiments_search(const struct request *req, struct reply *r);
void api_experiments_set_tag(const struct request *req, struct reply *r);
void api_experiments_delete_tag(const struct request *req, struct reply *r);

/* api_runs.c */
void api_runs_create(const struct request *req, struct reply *r);
void api_runs_get(const struct request *req, struct reply *r);
void api_runs_update(const struct request *req, struct reply *r);
void api_runs_delete(const struct request *req, struct reply *r);
void api_runs_restore(const struct request *req, struct reply *r);
void api_runs_search(const struct request *req, struct reply *r);

/* api_log.c */
void api_runs_set_tag(const struct request *req, struct reply *r);
void api_runs_delete_tag(const struct request *req, struct reply *r);
void api_runs_log_parameter(const struct request *req, struct reply *r);
void api_runs_log_metric(const struct request *req, struct reply *r);
void api_runs_log_batch(const struct request *req, struct reply *r);
void api_runs_log_inputs(const struct request *req, struct reply *r);

/* api_metrics.c */
void api_metrics_get_history(const struct request *req, struct reply *r);

#endif
