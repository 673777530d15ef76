/* Handlers of server/registry/: the model registry (mlflow-models-api.md
 * section 1), one group per api_registry_*.c file. Each decodes and
 * validates its input, calls the store, and encodes the reply; none
 * writes SQL. */
#ifndef ET_SERVER_REGISTRY_API_H
#define ET_SERVER_REGISTRY_API_H

#include "routes.h"

/* api_registry_models.c */
void api_registry_models_create(const struct request *req, struct reply *r);
void api_registry_models_get(const struct request *req, struct reply *r);
void api_registry_models_rename(const struct request *req, struct reply *r);
void api_registry_models_update(const struct request *req, struct reply *r);
void api_registry_models_delete(const struct request *req, struct reply *r);
void api_registry_models_set_tag(const struct request *req, struct reply *r);
void api_registry_models_delete_tag(const struct request *req, struct reply *r);
void api_registry_models_latest(const struct request *req, struct reply *r);
void api_registry_alias_set(const struct request *req, struct reply *r);
void api_registry_alias_delete(const struct request *req, struct reply *r);
void api_registry_alias_get(const struct request *req, struct reply *r);

/* api_registry_versions.c */
void api_registry_versions_create(const struct request *req, struct reply *r);
void api_registry_versions_get(const struct request *req, struct reply *r);
void api_registry_versions_update(const struct request *req, struct reply *r);
void api_registry_versions_transition(const struct request *req, struct reply *r);
void api_registry_versions_delete(const struct request *req, struct reply *r);
void api_registry_versions_set_tag(const struct request *req, struct reply *r);
void api_registry_versions_delete_tag(const struct request *req, struct reply *r);
void api_registry_versions_download_uri(const struct request *req, struct reply *r);

/* api_registry_artifact.c: the UI's model-versions/get-artifact */
void api_registry_versions_artifact(const struct request *req, struct reply *r);

/* api_registry_search.c */
void api_registry_models_search(const struct request *req, struct reply *r);
void api_registry_versions_search(const struct request *req, struct reply *r);

/* api_registry_audit.c: GET /api/2.0/exptrack/registered-models/audit */
void api_registry_audit(const struct request *req, struct reply *r);

#endif
