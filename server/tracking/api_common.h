/* Pieces shared by the api_* files: reading the common fields, encoding
 * experiments, runs and metrics as the contract's JSON, page tokens, and
 * mapping store outcomes to replies. */
#ifndef ET_SERVER_API_COMMON_H
#define ET_SERVER_API_COMMON_H

#include <jansson.h>
#include <stdint.h>

#include "core/jsonx.h"
#include "routes.h"
#include "db/store.h"

/* The request's input as a jsonx input. */
struct input api_input(const struct request *req);

/* Reads the required run id: run_id, or its deprecated alias run_uuid. */
int api_run_id(const struct input *in, const char **out, struct reply *r);

/* Reads a required experiment id (string or number) as an int64. An id that
 * is not a decimal number is reported as not found (it cannot exist). */
int api_experiment_id(const struct input *in, const char *key, int64_t *out, struct reply *r);

/* Turns a store failure into a reply. `what` names the missing thing for
 * DB_NOT_FOUND ("Run with id=..."); other codes get generic messages. */
void api_store_error(struct reply *r, int rc, const char *not_found_message);

/* Replies for a run the store could not use: 404 "Run with id=X not found",
 * 400 when it is not active (DB_STATE), or the mapped store error. */
void api_run_not_found(struct reply *r, int rc, const char *run_id);

/* Replies for an experiment the store could not find or use: 404 "No
 * Experiment with id=X exists" (MLflow's text) for DB_NOT_FOUND, else the
 * mapped store error of api_store_error. */
void api_experiment_not_found(struct reply *r, int rc, int64_t id);

/* JSON encoders following the contract (§3, §4). New references. */
json_t *api_experiment_json(const struct experiment *e);
json_t *api_run_info_json(const struct run_info *info);
json_t *api_run_json(const struct run *run);
json_t *api_metric_json(const struct metric *m);

/* Page tokens: base64 of {"offset": N}, like MLflow's. Encode returns a new
 * string (free()); decode returns 0 and the offset, or -1 for a bad token. */
char *api_page_token_encode(int64_t offset);
int api_page_token_decode(const char *token, int64_t *offset);

/* Reads max_results and page_token for a search: default and upper limit
 * given, offset 0 without a token. Returns JX_OK or JX_BAD. */
int api_paging(const struct input *in, int64_t default_max, int64_t upper, int64_t *max_results,
               int64_t *offset, struct reply *r);

extern const char *const api_run_status_names[5];
extern const char *const api_view_type_names[3];

#endif
