/* The route table: the one list of the API. A handler missing here does not
 * exist; a path here without a handler cannot compile. */
#include "routes.h"

#include <string.h>

#include "api.h"

static const struct route table[] = {
    {"GET", MOUNT_ROOT, "/health", api_health, BODY_NONE, NULL},
    {"GET", MOUNT_ROOT, "/version", api_version, BODY_NONE, NULL},

    {"POST", MOUNT_API, "/mlflow/experiments/create", api_experiments_create, BODY_JSON, NULL},
    {"GET", MOUNT_API, "/mlflow/experiments/get", api_experiments_get, BODY_NONE, NULL},
    {"GET", MOUNT_API, "/mlflow/experiments/get-by-name", api_experiments_get_by_name, BODY_NONE,
     NULL},
    {"POST", MOUNT_API, "/mlflow/experiments/update", api_experiments_update, BODY_JSON, NULL},
    {"POST", MOUNT_API, "/mlflow/experiments/delete", api_experiments_delete, BODY_JSON, NULL},
    {"POST", MOUNT_API, "/mlflow/experiments/restore", api_experiments_restore, BODY_JSON, NULL},
    {"POST", MOUNT_API, "/mlflow/experiments/search", api_experiments_search, BODY_JSON, NULL},
    {"GET", MOUNT_API, "/mlflow/experiments/search", api_experiments_search, BODY_NONE, NULL},
    {"POST", MOUNT_API, "/mlflow/experiments/set-experiment-tag", api_experiments_set_tag,
     BODY_JSON, NULL},
    {"POST", MOUNT_API, "/mlflow/experiments/delete-experiment-tag", api_experiments_delete_tag,
     BODY_JSON, NULL},

    {"POST", MOUNT_API, "/mlflow/runs/create", api_runs_create, BODY_JSON, NULL},
    {"GET", MOUNT_API, "/mlflow/runs/get", api_runs_get, BODY_NONE, NULL},
    {"POST", MOUNT_API, "/mlflow/runs/update", api_runs_update, BODY_JSON, NULL},
    {"POST", MOUNT_API, "/mlflow/runs/delete", api_runs_delete, BODY_JSON, NULL},
    {"POST", MOUNT_API, "/mlflow/runs/restore", api_runs_restore, BODY_JSON, NULL},
    {"POST", MOUNT_API, "/mlflow/runs/search", api_runs_search, BODY_JSON, NULL},
    {"POST", MOUNT_API, "/mlflow/runs/set-tag", api_runs_set_tag, BODY_JSON, NULL},
    {"POST", MOUNT_API, "/mlflow/runs/delete-tag", api_runs_delete_tag, BODY_JSON, NULL},
    {"POST", MOUNT_API, "/mlflow/runs/log-parameter", api_runs_log_parameter, BODY_JSON, NULL},
    {"POST", MOUNT_API, "/mlflow/runs/log-metric", api_runs_log_metric, BODY_JSON, NULL},
    {"POST", MOUNT_API, "/mlflow/runs/log-batch", api_runs_log_batch, BODY_JSON, NULL},
    {"POST", MOUNT_API, "/mlflow/runs/log-inputs", api_runs_log_inputs, BODY_JSON, NULL},

    {"GET", MOUNT_API, "/mlflow/metrics/get-history", api_metrics_get_history, BODY_NONE, NULL},
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
