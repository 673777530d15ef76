/* Replies for failed store calls (store_status.h codes). */
#ifndef ET_SERVER_REPLY_STORE_H
#define ET_SERVER_REPLY_STORE_H

#include <stdint.h>

#include "reply.h"

/* Sets r to the error for store outcome rc: DB_NOT_FOUND answers 404
 * RESOURCE_DOES_NOT_EXIST with not_found_message (copied); unavailable,
 * timeout and retry answer 503 TEMPORARILY_UNAVAILABLE; invalid 400; disk
 * full 507; anything else 500 with a generic message (details are logged
 * by db.c, never sent). */
void reply_store_error(struct reply *r, int rc, const char *not_found_message);

/* Like reply_store_error, with MLflow's "No Experiment with id=X exists" for
 * DB_NOT_FOUND. */
void reply_store_experiment_not_found(struct reply *r, int rc, int64_t id);

#endif
