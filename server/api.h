/* Every API handler, one group per api_*.c file. Each decodes and validates
 * its input, calls the store, and encodes the reply; none writes SQL. */
#ifndef ET_SERVER_API_H
#define ET_SERVER_API_H

#include "routes.h"

/* api_misc.c */
void api_health(const struct request *req, struct reply *r);
void api_version(const struct request *req, struct reply *r);

/* api_ops.c: GET /metrics (Prometheus text format 0.0.4), GET /ready
 * (200 "ready" while the database answers, else 503 with Retry-After). */
void api_prometheus(const struct request *req, struct reply *r);
void api_ready(const struct request *req, struct reply *r);
/* GET /api/openapi.json: the OpenAPI 3 document of the whole API. */
void api_openapi(const struct request *req, struct reply *r);

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

/* api_web.c: the dashboard. GET / answers index.html; GET /static/<path>
 * answers web/<path> (embedded, or from --web-dir), gzip-encoded when the
 * client accepts it, with an ETag (304 on If-None-Match) and no-cache. */
void api_web_index(const struct request *req, struct reply *r);
void api_web_static(const struct request *req, struct reply *r);

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

/* api_auth.c: MLflow's user and experiment-permission API (mlflow-api.md
 * section 12), the token extension (exptrack/tokens/create|revoke|list: a
 * token is shown once), the audit log (admins) and the route table with each
 * route's permission rule (exptrack/routes, for the authorization tests). */
void api_users_create(const struct request *req, struct reply *r);
void api_users_get(const struct request *req, struct reply *r);
void api_users_update_password(const struct request *req, struct reply *r);
void api_users_update_admin(const struct request *req, struct reply *r);
void api_users_delete(const struct request *req, struct reply *r);
void api_permissions_create(const struct request *req, struct reply *r);
void api_permissions_get(const struct request *req, struct reply *r);
void api_permissions_update(const struct request *req, struct reply *r);
void api_permissions_delete(const struct request *req, struct reply *r);
void api_tokens_create(const struct request *req, struct reply *r);
void api_tokens_revoke(const struct request *req, struct reply *r);
void api_tokens_list(const struct request *req, struct reply *r);
void api_audit_list(const struct request *req, struct reply *r);
void api_routes_list(const struct request *req, struct reply *r);
/* The dashboard's sign-in: GET /signin (the page), POST exptrack/session/login
 * {username, password} (sets the session and CSRF cookies), and
 * POST exptrack/session/logout (clears them). */
void api_signin_page(const struct request *req, struct reply *r);
void api_session_login(const struct request *req, struct reply *r);
void api_session_logout(const struct request *req, struct reply *r);

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

/* GET exptrack/stream?run_id=..&experiment_id=..: server-sent events of the
 * watched runs and experiments, fed by the notification hub (notify.h); at
 * least one id, at most 100 of each, every one existing and (with --auth)
 * readable. "retry: 2000", then `event: run` with data {"run_id",
 * "experiment_id", "kind"} per change, `event: resync` when changes may
 * have been missed, ": ping" comments while idle. An open stream holds no
 * HTTP worker thread (api_stream.c). */
void api_stream(const struct request *req, struct reply *r);

/* Sets the largest artifact an upload may carry (bytes; 413 past it). Call
 * once before the HTTP server starts. */
void api_artifacts_configure(int64_t max_size);

#endif
