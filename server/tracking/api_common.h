/* Pieces shared by the api_* files: encoding experiments, runs and metrics
 * as the contract's JSON, and mapping store outcomes to replies. The common
 * field readers (ids, page tokens) are core/input.h, shared with auth. */
#ifndef ET_SERVER_API_COMMON_H
#define ET_SERVER_API_COMMON_H

#include <jansson.h>
#include <stdint.h>

#include "core/input.h"
#include "core/jsonx.h"
#include "core/reply_store.h"
#include "routes.h"
#include "db/store.h"

/* Replies for a run the store could not use: 404 "Run with id=X not found",
 * 400 when it is not active (DB_STATE), or the mapped store error. */
void api_run_not_found(struct reply *r, int rc, const char *run_id);

/* JSON encoders following the contract (§3, §4). New references. */
json_t *api_experiment_json(const struct experiment *e);
json_t *api_run_info_json(const struct run_info *info);
json_t *api_run_json(const struct run *run);
json_t *api_metric_json(const struct metric *m);

extern const char *const api_run_status_names[5];
extern const char *const api_view_type_names[3];

#endif
