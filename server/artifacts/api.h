/* Handlers of server/artifacts/: MLflow's proxied artifact API. */
#ifndef ET_SERVER_ARTIFACTS_API_H
#define ET_SERVER_ARTIFACTS_API_H

#include <stdint.h>

#include "routes.h"

/* api_artifacts.c, api_artifacts_io.c: MLflow's proxied artifact API over
 * PostgreSQL (mlflow-api.md section 10). Uploads stream through
 * api_artifacts_upload (PUT .../mlflow-artifacts/artifacts/<path>) and
 * api_artifacts_ui_upload (POST .../mlflow/upload-artifact). */
extern const struct upload_ops api_artifacts_upload;
extern const struct upload_ops api_artifacts_ui_upload;
void api_artifacts_download(const struct request *req, struct reply *r);
void api_artifacts_list(const struct request *req, struct reply *r);
void api_artifacts_delete(const struct request *req, struct reply *r);
void api_artifacts_mpu(const struct request *req, struct reply *r);
void api_artifacts_list_run(const struct request *req, struct reply *r);
void api_artifacts_get_artifact(const struct request *req, struct reply *r);

/* The artifact routes of a logged model (mlflow-models-api.md 2.1, 2.6),
 * called by server/logged_models/ with the model id of the path:
 * logged-models/{id}/artifacts/directories (query artifact_directory_path,
 * optional) answers {root_uri, files?} with paths relative to the model's
 * root; logged-models/{id}/artifacts/files (query artifact_file_path,
 * required) streams one file. An unknown model is a 404. */
void api_artifacts_model_directories(const struct request *req, const char *model_id,
                                     struct reply *r);
void api_artifacts_model_file(const struct request *req, const char *model_id, struct reply *r);

/* Streams the file at path, a proxy path as it follows
 * .../mlflow-artifacts/artifacts/ (checked and resolved as a download
 * there is), into r. For handlers that map a location of their own onto
 * the proxy (the registry's model-versions/get-artifact). */
void api_artifacts_send_path(const struct request *req, const char *path, struct reply *r);

/* Sets the largest artifact an upload may carry (bytes; 413 past it). Call
 * once before the HTTP server starts. */
void api_artifacts_configure(int64_t max_size);

#endif
