/* The route table: the one list of the API. A handler missing here does not
 * exist; a path here without a handler cannot compile. */
#include "routes.h"

#include <string.h>

#include "artifacts/api.h"
#include "auth/api.h"
#include "events/api.h"
#include "importer/api.h"
#include "logged_models/api.h"
#include "ops/api.h"
#include "registry/api.h"
#include "tracking/api.h"
#include "traces/api.h"
#include "webhooks/api.h"

/* A row may leave out its last fields (reads: READS_PRIMARY), so that
 * adding a field does not touch every row. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static const struct route table[] = {
    {"GET", MOUNT_ROOT, "/health", api_health, BODY_NONE, NULL, PERM_PUBLIC, TARGET_NONE},
    {"GET", MOUNT_ROOT, "/version", api_version, BODY_NONE, NULL, PERM_USER, TARGET_NONE},
    {"GET", MOUNT_ROOT, "/metrics", api_prometheus, BODY_NONE, NULL, PERM_PUBLIC, TARGET_NONE},
    {"GET", MOUNT_ROOT, "/ready", api_ready, BODY_NONE, NULL, PERM_PUBLIC, TARGET_NONE},
    {"GET", MOUNT_ROOT, "/api/openapi.json", api_openapi, BODY_NONE, NULL, PERM_PUBLIC,
     TARGET_NONE},
    {"GET", MOUNT_ROOT, "/", api_web_index, BODY_NONE, NULL, PERM_USER, TARGET_NONE},
    {"GET", MOUNT_ROOT, "/signin", api_signin_page, BODY_NONE, NULL, PERM_PUBLIC, TARGET_NONE},
    {"GET", MOUNT_ROOT_PREFIX, "/static/", api_web_static, BODY_NONE, NULL, PERM_PUBLIC,
     TARGET_NONE},

    {"POST", MOUNT_API, "/mlflow/experiments/create", api_experiments_create, BODY_JSON, NULL,
     PERM_USER, TARGET_NEW_EXPERIMENT},
    {"GET", MOUNT_API, "/mlflow/experiments/get", api_experiments_get, BODY_NONE, NULL, PERM_READ,
     TARGET_EXPERIMENT_ID, READS_REPLICA},
    {"GET", MOUNT_API, "/mlflow/experiments/get-by-name", api_experiments_get_by_name, BODY_NONE,
     NULL, PERM_READ, TARGET_EXPERIMENT_NAME, READS_REPLICA},
    {"POST", MOUNT_API, "/mlflow/experiments/update", api_experiments_update, BODY_JSON, NULL,
     PERM_EDIT, TARGET_EXPERIMENT_ID},
    {"POST", MOUNT_API, "/mlflow/experiments/delete", api_experiments_delete, BODY_JSON, NULL,
     PERM_MANAGE, TARGET_EXPERIMENT_ID},
    {"POST", MOUNT_API, "/mlflow/experiments/restore", api_experiments_restore, BODY_JSON, NULL,
     PERM_MANAGE, TARGET_EXPERIMENT_ID},
    {"POST", MOUNT_API, "/mlflow/experiments/search", api_experiments_search, BODY_JSON, NULL,
     PERM_USER, TARGET_NONE, READS_REPLICA, JOURNAL_NEVER},
    {"GET", MOUNT_API, "/mlflow/experiments/search", api_experiments_search, BODY_NONE, NULL,
     PERM_USER, TARGET_NONE, READS_REPLICA},
    {"POST", MOUNT_API, "/mlflow/experiments/set-experiment-tag", api_experiments_set_tag,
     BODY_JSON, NULL, PERM_EDIT, TARGET_EXPERIMENT_ID},
    {"POST", MOUNT_API, "/mlflow/experiments/delete-experiment-tag", api_experiments_delete_tag,
     BODY_JSON, NULL, PERM_EDIT, TARGET_EXPERIMENT_ID},

    {"POST", MOUNT_API, "/mlflow/runs/create", api_runs_create, BODY_JSON, NULL, PERM_EDIT,
     TARGET_EXPERIMENT_ID},
    {"GET", MOUNT_API, "/mlflow/runs/get", api_runs_get, BODY_NONE, NULL, PERM_READ, TARGET_RUN_ID,
     READS_REPLICA},
    {"POST", MOUNT_API, "/mlflow/runs/update", api_runs_update, BODY_JSON, NULL, PERM_EDIT,
     TARGET_RUN_ID},
    {"POST", MOUNT_API, "/mlflow/runs/delete", api_runs_delete, BODY_JSON, NULL, PERM_MANAGE,
     TARGET_RUN_ID},
    {"POST", MOUNT_API, "/mlflow/runs/restore", api_runs_restore, BODY_JSON, NULL, PERM_MANAGE,
     TARGET_RUN_ID},
    {"POST", MOUNT_API, "/mlflow/runs/search", api_runs_search, BODY_JSON, NULL, PERM_USER,
     TARGET_NONE, READS_REPLICA, JOURNAL_NEVER},
    {"POST", MOUNT_API, "/mlflow/runs/set-tag", api_runs_set_tag, BODY_JSON, NULL, PERM_EDIT,
     TARGET_RUN_ID},
    {"POST", MOUNT_API, "/mlflow/runs/delete-tag", api_runs_delete_tag, BODY_JSON, NULL, PERM_EDIT,
     TARGET_RUN_ID},
    {"POST", MOUNT_API, "/mlflow/runs/log-parameter", api_runs_log_parameter, BODY_JSON, NULL,
     PERM_EDIT, TARGET_RUN_ID, READS_PRIMARY, JOURNAL_NEVER},
    {"POST", MOUNT_API, "/mlflow/runs/log-metric", api_runs_log_metric, BODY_JSON, NULL, PERM_EDIT,
     TARGET_RUN_ID, READS_PRIMARY, JOURNAL_NEVER},
    {"POST", MOUNT_API, "/mlflow/runs/log-batch", api_runs_log_batch, BODY_JSON, NULL, PERM_EDIT,
     TARGET_RUN_ID, READS_PRIMARY, JOURNAL_NEVER},
    {"POST", MOUNT_API, "/mlflow/runs/log-inputs", api_runs_log_inputs, BODY_JSON, NULL, PERM_EDIT,
     TARGET_RUN_ID, READS_PRIMARY, JOURNAL_NEVER},
    /* [3.x] logged models a run produced; EDIT on the run's experiment */
    {"POST", MOUNT_API, "/mlflow/runs/outputs", api_runs_log_outputs, BODY_JSON, NULL, PERM_EDIT,
     TARGET_RUN_ID},

    {"GET", MOUNT_API, "/mlflow/metrics/get-history", api_metrics_get_history, BODY_NONE, NULL,
     PERM_READ, TARGET_RUN_ID, READS_REPLICA},
    {"GET", MOUNT_API, "/mlflow/metrics/get-history-bulk-interval",
     api_metrics_get_history_bulk_interval, BODY_NONE, NULL, PERM_READ, TARGET_RUN_IDS,
     READS_REPLICA},
    {"GET", MOUNT_API, "/exptrack/metrics/history", api_exptrack_metrics_history, BODY_NONE, NULL,
     PERM_READ, TARGET_RUN_IDS, READS_REPLICA},
    {"GET", MOUNT_API, "/exptrack/experiments/keys", api_exptrack_experiment_keys, BODY_NONE, NULL,
     PERM_READ, TARGET_EXPERIMENT_IDS, READS_REPLICA},
    /* live updates; the handler checks READ on every watched experiment */
    {"GET", MOUNT_API, "/exptrack/stream", api_stream, BODY_NONE, NULL, PERM_USER, TARGET_NONE},
    {"GET", MOUNT_API, "/exptrack/experiments/stats", api_exptrack_experiment_stats, BODY_NONE,
     NULL, PERM_USER, TARGET_NONE, READS_REPLICA},
    {"POST", MOUNT_API, "/exptrack/runs/purge", api_exptrack_runs_purge, BODY_JSON, NULL,
     PERM_ADMIN, TARGET_NONE},
    /* `exptrack import` keeps a source's ids (docs/api-extensions.md) */
    {"POST", MOUNT_API, "/exptrack/import/experiments", api_import_experiment, BODY_JSON, NULL,
     PERM_ADMIN, TARGET_NONE},
    {"POST", MOUNT_API, "/exptrack/import/runs", api_import_run, BODY_JSON, NULL, PERM_ADMIN,
     TARGET_NONE},
    {"POST", MOUNT_API, "/exptrack/import/logged-models", api_import_logged_model, BODY_JSON, NULL,
     PERM_ADMIN, TARGET_NONE},

    {"GET", MOUNT_API, "/mlflow/artifacts/list", api_artifacts_list_run, BODY_NONE, NULL, PERM_READ,
     TARGET_RUN_ID},
    {"POST", MOUNT_API, "/mlflow/upload-artifact", NULL, BODY_STREAM, &api_artifacts_ui_upload,
     PERM_EDIT, TARGET_RUN_ID},
    {"GET", MOUNT_ROOT, "/get-artifact", api_artifacts_get_artifact, BODY_NONE, NULL, PERM_READ,
     TARGET_RUN_ID},
    {"GET", MOUNT_API, "/mlflow-artifacts/artifacts", api_artifacts_list, BODY_NONE, NULL,
     PERM_READ, TARGET_ARTIFACT_QUERY},
    {"GET", MOUNT_API_PREFIX, "/mlflow-artifacts/artifacts/", api_artifacts_download, BODY_NONE,
     NULL, PERM_READ, TARGET_ARTIFACT_PATH},
    {"PUT", MOUNT_API_PREFIX, "/mlflow-artifacts/artifacts/", NULL, BODY_STREAM,
     &api_artifacts_upload, PERM_EDIT, TARGET_ARTIFACT_PATH},
    {"DELETE", MOUNT_API_PREFIX, "/mlflow-artifacts/artifacts/", api_artifacts_delete, BODY_LOOSE,
     NULL, PERM_MANAGE, TARGET_ARTIFACT_PATH},
    {"POST", MOUNT_API_PREFIX, "/mlflow-artifacts/mpu/", api_artifacts_mpu, BODY_LOOSE, NULL,
     PERM_EDIT, TARGET_ARTIFACT_PATH},

    /* The model registry: permissions per registered model, named by the
     * "name" field (mlflow-models-api.md 6.1); searches are filtered by
     * their handlers. */
    {"POST", MOUNT_API, "/mlflow/registered-models/create", api_registry_models_create, BODY_JSON,
     NULL, PERM_USER, TARGET_NEW_MODEL, READS_PRIMARY, JOURNAL_FAILURES},
    {"GET", MOUNT_API, "/mlflow/registered-models/get", api_registry_models_get, BODY_NONE, NULL,
     PERM_READ, TARGET_MODEL_NAME},
    {"POST", MOUNT_API, "/mlflow/registered-models/rename", api_registry_models_rename, BODY_JSON,
     NULL, PERM_EDIT, TARGET_MODEL_NAME, READS_PRIMARY, JOURNAL_FAILURES},
    {"PATCH", MOUNT_API, "/mlflow/registered-models/update", api_registry_models_update, BODY_LOOSE,
     NULL, PERM_EDIT, TARGET_MODEL_NAME, READS_PRIMARY, JOURNAL_FAILURES},
    {"DELETE", MOUNT_API, "/mlflow/registered-models/delete", api_registry_models_delete,
     BODY_LOOSE, NULL, PERM_MANAGE, TARGET_MODEL_NAME, READS_PRIMARY, JOURNAL_FAILURES},
    {"GET", MOUNT_API, "/mlflow/registered-models/search", api_registry_models_search, BODY_NONE,
     NULL, PERM_USER, TARGET_NONE},
    {"POST", MOUNT_API, "/mlflow/registered-models/get-latest-versions", api_registry_models_latest,
     BODY_JSON, NULL, PERM_READ, TARGET_MODEL_NAME, READS_PRIMARY, JOURNAL_NEVER},
    {"GET", MOUNT_API, "/mlflow/registered-models/get-latest-versions", api_registry_models_latest,
     BODY_NONE, NULL, PERM_READ, TARGET_MODEL_NAME},
    {"POST", MOUNT_API, "/mlflow/registered-models/set-tag", api_registry_models_set_tag, BODY_JSON,
     NULL, PERM_EDIT, TARGET_MODEL_NAME, READS_PRIMARY, JOURNAL_FAILURES},
    {"DELETE", MOUNT_API, "/mlflow/registered-models/delete-tag", api_registry_models_delete_tag,
     BODY_LOOSE, NULL, PERM_EDIT, TARGET_MODEL_NAME, READS_PRIMARY, JOURNAL_FAILURES},
    {"POST", MOUNT_API, "/mlflow/registered-models/alias", api_registry_alias_set, BODY_JSON, NULL,
     PERM_EDIT, TARGET_MODEL_NAME, READS_PRIMARY, JOURNAL_FAILURES},
    {"DELETE", MOUNT_API, "/mlflow/registered-models/alias", api_registry_alias_delete, BODY_LOOSE,
     NULL, PERM_MANAGE, TARGET_MODEL_NAME, READS_PRIMARY, JOURNAL_FAILURES},
    {"GET", MOUNT_API, "/mlflow/registered-models/alias", api_registry_alias_get, BODY_NONE, NULL,
     PERM_READ, TARGET_MODEL_NAME},
    {"POST", MOUNT_API, "/mlflow/model-versions/create", api_registry_versions_create, BODY_JSON,
     NULL, PERM_EDIT, TARGET_MODEL_NAME, READS_PRIMARY, JOURNAL_FAILURES},
    {"GET", MOUNT_API, "/mlflow/model-versions/get", api_registry_versions_get, BODY_NONE, NULL,
     PERM_READ, TARGET_MODEL_NAME},
    {"PATCH", MOUNT_API, "/mlflow/model-versions/update", api_registry_versions_update, BODY_LOOSE,
     NULL, PERM_EDIT, TARGET_MODEL_NAME, READS_PRIMARY, JOURNAL_FAILURES},
    {"POST", MOUNT_API, "/mlflow/model-versions/transition-stage", api_registry_versions_transition,
     BODY_JSON, NULL, PERM_EDIT, TARGET_MODEL_NAME, READS_PRIMARY, JOURNAL_FAILURES},
    {"DELETE", MOUNT_API, "/mlflow/model-versions/delete", api_registry_versions_delete, BODY_LOOSE,
     NULL, PERM_MANAGE, TARGET_MODEL_NAME, READS_PRIMARY, JOURNAL_FAILURES},
    {"GET", MOUNT_API, "/mlflow/model-versions/search", api_registry_versions_search, BODY_NONE,
     NULL, PERM_USER, TARGET_NONE},
    {"GET", MOUNT_API, "/mlflow/model-versions/get-download-uri",
     api_registry_versions_download_uri, BODY_NONE, NULL, PERM_READ, TARGET_MODEL_NAME},
    {"POST", MOUNT_API, "/mlflow/model-versions/set-tag", api_registry_versions_set_tag, BODY_JSON,
     NULL, PERM_EDIT, TARGET_MODEL_NAME, READS_PRIMARY, JOURNAL_FAILURES},
    {"DELETE", MOUNT_API, "/mlflow/model-versions/delete-tag", api_registry_versions_delete_tag,
     BODY_LOOSE, NULL, PERM_MANAGE, TARGET_MODEL_NAME, READS_PRIMARY, JOURNAL_FAILURES},

    /* The UI's one file of a version: MLflow serves it at the static
     * prefix (like /get-artifact); the /ajax-api form too, for the UI. */
    {"GET", MOUNT_ROOT, "/model-versions/get-artifact", api_registry_versions_artifact, BODY_NONE,
     NULL, PERM_READ, TARGET_MODEL_NAME},
    {"GET", MOUNT_API, "/mlflow/model-versions/get-artifact", api_registry_versions_artifact,
     BODY_NONE, NULL, PERM_READ, TARGET_MODEL_NAME},

    /* MLflow 3 logged models: permissions of the model's experiment
     * (mlflow-models-api.md 6.2). The routes with a model id in the path
     * are prefix routes, one per method; search filters by experiment. */
    {"POST", MOUNT_API, "/mlflow/logged-models", api_logged_models_create, BODY_JSON, NULL,
     PERM_EDIT, TARGET_EXPERIMENT_ID},
    {"POST", MOUNT_API, "/mlflow/logged-models/search", api_logged_models_search, BODY_JSON, NULL,
     PERM_USER, TARGET_NONE, READS_PRIMARY, JOURNAL_NEVER},
    {"GET", MOUNT_API_PREFIX, "/mlflow/logged-models/", api_logged_models_get_path, BODY_NONE, NULL,
     PERM_READ, TARGET_LOGGED_MODEL},
    {"PATCH", MOUNT_API_PREFIX, "/mlflow/logged-models/", api_logged_models_patch_path, BODY_LOOSE,
     NULL, PERM_EDIT, TARGET_LOGGED_MODEL},
    {"POST", MOUNT_API_PREFIX, "/mlflow/logged-models/", api_logged_models_post_path, BODY_JSON,
     NULL, PERM_EDIT, TARGET_LOGGED_MODEL},
    {"DELETE", MOUNT_API_PREFIX, "/mlflow/logged-models/", api_logged_models_delete_path,
     BODY_LOOSE, NULL, PERM_MANAGE, TARGET_LOGGED_MODEL},

    /* MLflow 3 GenAI traces (mlflow-models-api.md 3, 6.3): permissions of the
     * trace's experiment. V2 under /api/2.0; V3 under /api/3.0 and
     * /ajax-api/3.0 (root mounts, each path twice). Literal paths come
     * before the /traces/{trace_id} prefixes. */
    {"POST", MOUNT_API, "/mlflow/traces", api_traces_v2_start, BODY_JSON, NULL, PERM_EDIT,
     TARGET_EXPERIMENT_ID},
    {"GET", MOUNT_API, "/mlflow/traces", api_traces_v2_search, BODY_NONE, NULL, PERM_READ,
     TARGET_EXPERIMENT_IDS},
    {"POST", MOUNT_API, "/mlflow/traces/delete-traces", api_traces_delete_traces, BODY_JSON, NULL,
     PERM_MANAGE, TARGET_EXPERIMENT_ID},
    {"POST", MOUNT_API, "/mlflow/traces/link-to-run", api_traces_link_to_run, BODY_JSON, NULL,
     PERM_EDIT, TARGET_TRACE},
    {"POST", MOUNT_API, "/mlflow/traces/link-prompts", api_traces_link_prompts, BODY_JSON, NULL,
     PERM_EDIT, TARGET_TRACE},
    {"GET", MOUNT_API, "/mlflow/get-trace-artifact", api_traces_get_artifact, BODY_NONE, NULL,
     PERM_READ, TARGET_TRACE},
    {"GET", MOUNT_API_PREFIX, "/mlflow/traces/", api_traces_v2_get_path, BODY_NONE, NULL, PERM_READ,
     TARGET_TRACE},
    {"PATCH", MOUNT_API_PREFIX, "/mlflow/traces/", api_traces_patch_path, BODY_LOOSE, NULL,
     PERM_EDIT, TARGET_TRACE},
    {"DELETE", MOUNT_API_PREFIX, "/mlflow/traces/", api_traces_delete_path, BODY_LOOSE, NULL,
     PERM_EDIT, TARGET_TRACE},
    {"GET", MOUNT_API, "/exptrack/traces/runs", api_traces_runs, BODY_NONE, NULL, PERM_READ,
     TARGET_TRACE},
    {"GET", MOUNT_API, "/exptrack/traces/stats", api_traces_stats, BODY_NONE, NULL, PERM_READ,
     TARGET_EXPERIMENT_ID},
    {"POST", MOUNT_ROOT, "/v1/traces", NULL, BODY_STREAM, &api_traces_otlp_upload, PERM_EDIT,
     TARGET_OTLP_HEADER},
    {"POST", MOUNT_ROOT, "/api/3.0/mlflow/traces", api_traces_v3_create, BODY_JSON, NULL, PERM_EDIT,
     TARGET_TRACE_LOCATION},
    {"POST", MOUNT_ROOT, "/api/3.0/mlflow/traces/search", api_traces_v3_search, BODY_JSON, NULL,
     PERM_READ, TARGET_TRACE_LOCATION, READS_PRIMARY, JOURNAL_NEVER},
    {"POST", MOUNT_ROOT, "/api/3.0/mlflow/traces/delete-traces", api_traces_delete_traces,
     BODY_JSON, NULL, PERM_MANAGE, TARGET_EXPERIMENT_ID},
    {"GET", MOUNT_ROOT, "/api/3.0/mlflow/traces/get", api_traces_v3_get_trace, BODY_NONE, NULL,
     PERM_READ, TARGET_TRACE},
    {"GET", MOUNT_ROOT, "/api/3.0/mlflow/traces/batchGet", api_traces_v3_batch_get, BODY_NONE, NULL,
     PERM_READ, TARGET_TRACE},
    {"GET", MOUNT_ROOT_PREFIX, "/api/3.0/mlflow/traces/", api_traces_v3_get_path, BODY_NONE, NULL,
     PERM_READ, TARGET_TRACE},
    {"POST", MOUNT_ROOT_PREFIX, "/api/3.0/mlflow/traces/", api_traces_v3_post_path, BODY_JSON, NULL,
     PERM_EDIT, TARGET_TRACE},
    {"PATCH", MOUNT_ROOT_PREFIX, "/api/3.0/mlflow/traces/", api_traces_patch_path, BODY_LOOSE, NULL,
     PERM_EDIT, TARGET_TRACE},
    {"DELETE", MOUNT_ROOT_PREFIX, "/api/3.0/mlflow/traces/", api_traces_delete_path, BODY_LOOSE,
     NULL, PERM_EDIT, TARGET_TRACE},
    {"POST", MOUNT_ROOT, "/ajax-api/3.0/mlflow/traces", api_traces_v3_create, BODY_JSON, NULL,
     PERM_EDIT, TARGET_TRACE_LOCATION},
    {"POST", MOUNT_ROOT, "/ajax-api/3.0/mlflow/traces/search", api_traces_v3_search, BODY_JSON,
     NULL, PERM_READ, TARGET_TRACE_LOCATION, READS_PRIMARY, JOURNAL_NEVER},
    {"POST", MOUNT_ROOT, "/ajax-api/3.0/mlflow/traces/delete-traces", api_traces_delete_traces,
     BODY_JSON, NULL, PERM_MANAGE, TARGET_EXPERIMENT_ID},
    {"GET", MOUNT_ROOT, "/ajax-api/3.0/mlflow/traces/get", api_traces_v3_get_trace, BODY_NONE, NULL,
     PERM_READ, TARGET_TRACE},
    {"GET", MOUNT_ROOT, "/ajax-api/3.0/mlflow/traces/batchGet", api_traces_v3_batch_get, BODY_NONE,
     NULL, PERM_READ, TARGET_TRACE},
    {"GET", MOUNT_ROOT_PREFIX, "/ajax-api/3.0/mlflow/traces/", api_traces_v3_get_path, BODY_NONE,
     NULL, PERM_READ, TARGET_TRACE},
    {"POST", MOUNT_ROOT_PREFIX, "/ajax-api/3.0/mlflow/traces/", api_traces_v3_post_path, BODY_JSON,
     NULL, PERM_EDIT, TARGET_TRACE},
    {"PATCH", MOUNT_ROOT_PREFIX, "/ajax-api/3.0/mlflow/traces/", api_traces_patch_path, BODY_LOOSE,
     NULL, PERM_EDIT, TARGET_TRACE},
    {"DELETE", MOUNT_ROOT_PREFIX, "/ajax-api/3.0/mlflow/traces/", api_traces_delete_path,
     BODY_LOOSE, NULL, PERM_EDIT, TARGET_TRACE},

    {"POST", MOUNT_API, "/mlflow/users/create", api_users_create, BODY_JSON, NULL, PERM_ADMIN,
     TARGET_NONE},
    {"GET", MOUNT_API, "/mlflow/users/get", api_users_get, BODY_NONE, NULL, PERM_SELF, TARGET_NONE},
    {"PATCH", MOUNT_API, "/mlflow/users/update-password", api_users_update_password, BODY_LOOSE,
     NULL, PERM_SELF, TARGET_NONE},
    {"PATCH", MOUNT_API, "/mlflow/users/update-admin", api_users_update_admin, BODY_LOOSE, NULL,
     PERM_ADMIN, TARGET_NONE},
    {"DELETE", MOUNT_API, "/mlflow/users/delete", api_users_delete, BODY_LOOSE, NULL, PERM_ADMIN,
     TARGET_NONE},
    {"POST", MOUNT_API, "/mlflow/experiments/permissions/create", api_permissions_create, BODY_JSON,
     NULL, PERM_MANAGE, TARGET_EXPERIMENT_ID},
    {"GET", MOUNT_API, "/mlflow/experiments/permissions/get", api_permissions_get, BODY_NONE, NULL,
     PERM_MANAGE, TARGET_EXPERIMENT_ID},
    {"PATCH", MOUNT_API, "/mlflow/experiments/permissions/update", api_permissions_update,
     BODY_LOOSE, NULL, PERM_MANAGE, TARGET_EXPERIMENT_ID},
    {"DELETE", MOUNT_API, "/mlflow/experiments/permissions/delete", api_permissions_delete,
     BODY_LOOSE, NULL, PERM_MANAGE, TARGET_EXPERIMENT_ID},
    {"POST", MOUNT_API, "/mlflow/registered-models/permissions/create",
     api_model_permissions_create, BODY_JSON, NULL, PERM_MANAGE, TARGET_MODEL_NAME},
    {"GET", MOUNT_API, "/mlflow/registered-models/permissions/get", api_model_permissions_get,
     BODY_NONE, NULL, PERM_MANAGE, TARGET_MODEL_NAME},
    {"PATCH", MOUNT_API, "/mlflow/registered-models/permissions/update",
     api_model_permissions_update, BODY_LOOSE, NULL, PERM_MANAGE, TARGET_MODEL_NAME},
    {"DELETE", MOUNT_API, "/mlflow/registered-models/permissions/delete",
     api_model_permissions_delete, BODY_LOOSE, NULL, PERM_MANAGE, TARGET_MODEL_NAME},
    {"POST", MOUNT_API, "/exptrack/tokens/create", api_tokens_create, BODY_JSON, NULL, PERM_USER,
     TARGET_NONE},
    {"POST", MOUNT_API, "/exptrack/tokens/revoke", api_tokens_revoke, BODY_JSON, NULL, PERM_USER,
     TARGET_NONE},
    {"GET", MOUNT_API, "/exptrack/tokens/list", api_tokens_list, BODY_NONE, NULL, PERM_USER,
     TARGET_NONE},
    {"GET", MOUNT_API, "/exptrack/audit", api_audit_list, BODY_NONE, NULL, PERM_ADMIN, TARGET_NONE},
    {"GET", MOUNT_API, "/exptrack/users/current", api_users_current, BODY_NONE, NULL, PERM_USER,
     TARGET_NONE},
    {"GET", MOUNT_API, "/exptrack/routes", api_routes_list, BODY_NONE, NULL, PERM_USER,
     TARGET_NONE},
    {"POST", MOUNT_API, "/exptrack/session/login", api_session_login, BODY_JSON, NULL, PERM_PUBLIC,
     TARGET_NONE},
    {"POST", MOUNT_API, "/exptrack/session/logout", api_session_logout, BODY_JSON, NULL,
     PERM_PUBLIC, TARGET_NONE},

    /* Registry webhooks (mlflow-models-api.md 5, 6.4): admins only. The
     * exact paths come before the /webhooks/{webhook_id} prefixes. */
    {"POST", MOUNT_API, "/mlflow/webhooks", api_webhooks_create, BODY_JSON, NULL, PERM_ADMIN,
     TARGET_NONE},
    {"GET", MOUNT_API, "/mlflow/webhooks", api_webhooks_list, BODY_NONE, NULL, PERM_ADMIN,
     TARGET_NONE},
    {"GET", MOUNT_API_PREFIX, "/mlflow/webhooks/", api_webhooks_get, BODY_NONE, NULL, PERM_ADMIN,
     TARGET_NONE},
    {"PATCH", MOUNT_API_PREFIX, "/mlflow/webhooks/", api_webhooks_update, BODY_LOOSE, NULL,
     PERM_ADMIN, TARGET_NONE},
    {"DELETE", MOUNT_API_PREFIX, "/mlflow/webhooks/", api_webhooks_delete, BODY_LOOSE, NULL,
     PERM_ADMIN, TARGET_NONE},
    {"POST", MOUNT_API_PREFIX, "/mlflow/webhooks/", api_webhooks_test, BODY_LOOSE, NULL, PERM_ADMIN,
     TARGET_NONE},
    /* a registered model's audit trail: READ on the model */
    {"GET", MOUNT_API, "/exptrack/registered-models/audit", api_registry_audit, BODY_NONE, NULL,
     PERM_READ, TARGET_MODEL_NAME},
};

/* Every API route is mounted twice: REST clients use /api, MLflow's web UI /ajax-api. */
static const char *const api_prefixes[] = {"/api/2.0", "/ajax-api/2.0"};

/* The part of path a route of this mount compares against, or NULL. */
static const char *mounted_path(enum route_mount mount, const char *path)
{
    if (mount == MOUNT_ROOT || mount == MOUNT_ROOT_PREFIX)
        return path;
    for (size_t i = 0; i < sizeof api_prefixes / sizeof api_prefixes[0]; i++) {
        size_t n = strlen(api_prefixes[i]);
        if (strncmp(path, api_prefixes[i], n) == 0 && path[n] == '/')
            return path + n;
    }
    return NULL;
}

static int path_matches(const struct route *route, const char *rest)
{
    if (route->mount == MOUNT_ROOT_PREFIX || route->mount == MOUNT_API_PREFIX)
        return strncmp(rest, route->path, strlen(route->path)) == 0;
    return strcmp(rest, route->path) == 0;
}

enum route_match routes_match(const char *method, const char *path, const struct route **out)
{
    enum route_match result = ROUTE_NO_PATH;

    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const char *rest = mounted_path(table[i].mount, path);
        if (rest == NULL || !path_matches(&table[i], rest))
            continue;
        if (strcmp(method, table[i].method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(table[i].method, "GET") == 0)) {
            *out = &table[i];
            return ROUTE_FOUND;
        }
        result = ROUTE_BAD_METHOD;
    }
    return result;
}

const struct route *routes_table(size_t *count)
{
    *count = sizeof table / sizeof table[0];
    return table;
}
