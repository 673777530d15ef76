/* Pieces shared by the logged models' api_* files: the model JSON (2.2),
 * the not-found wording, and model ids. No SQL. */
#ifndef ET_SERVER_LOGGED_MODELS_API_LOGGED_MODELS_COMMON_H
#define ET_SERVER_LOGGED_MODELS_API_LOGGED_MODELS_COMMON_H

#include <jansson.h>

#include "core/input.h"
#include "core/jsonx.h"
#include "core/reply_store.h"
#include "store_logged_models.h"

/* Replies for a failed store call on model_id: DB_NOT_FOUND is 404
 * "Logged model with ID '...' not found.". */
void lm_not_found(struct reply *r, int rc, const char *model_id);

/* The LoggedModel object {"info", "data"} (a new reference). */
json_t *lm_model_json(const struct logged_model *m);

#endif
