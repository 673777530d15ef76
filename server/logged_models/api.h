/* Handlers of server/logged_models/: MLflow 3 logged models
 * (mlflow-models-api.md section 2). Each decodes and validates its input,
 * calls the store, and encodes the reply; none writes SQL. The routes with
 * a model id in the path are prefix routes: one handler per method reads
 * "<model_id>[/...]" after "/mlflow/logged-models/". */
#ifndef ET_SERVER_LOGGED_MODELS_API_H
#define ET_SERVER_LOGGED_MODELS_API_H

#include "routes.h"

/* The path prefix of the routes that carry a model id. */
#define LM_ROUTE_PREFIX "/mlflow/logged-models/"

/* api_logged_models.c */
/* POST logged-models: create a PENDING model. */
void api_logged_models_create(const struct request *req, struct reply *r);
/* GET logged-models/{id}, .../artifacts/directories, .../artifacts/files. */
void api_logged_models_get_path(const struct request *req, struct reply *r);
/* PATCH logged-models/{id} (finalize) and .../tags. */
void api_logged_models_patch_path(const struct request *req, struct reply *r);
/* DELETE logged-models/{id} and .../tags/{key}. */
void api_logged_models_delete_path(const struct request *req, struct reply *r);
/* POST logged-models/{id}/params. */
void api_logged_models_post_path(const struct request *req, struct reply *r);

/* api_logged_models_search.c */
/* POST logged-models/search. */
void api_logged_models_search(const struct request *req, struct reply *r);

#endif
