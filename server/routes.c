/* The route table: the one list of the API. A handler missing here does not
 * exist; a path here without a handler cannot compile. */
#include "routes.h"

#include <string.h>

#include "api.h"

static const struct route table[] = {
    {"GET", MOUNT_ROOT, "/health", api_health, BODY_NONE},
    {"GET", MOUNT_ROOT, "/version", api_version, BODY_NONE},

    {"POST", MOUNT_MLFLOW, "/experiments/create", api_experiments_create, BODY_JSON},
    {"GET", MOUNT_MLFLOW, "/experiments/get", api_experiments_get, BODY_NONE},
    {"GET", MOUNT_MLFLOW, "/experiments/get-by-name", api_experiments_get_by_name, BODY_NONE},
    {"POST", MOUNT_MLFLOW, "/experiments/update", api_experiments_update, BODY_JSON},
    {"POST", MOUNT_MLFLOW, "/experiments/delete", api_experiments_delete, BODY_JSON},
    {"POST", MOUNT_MLFLOW, "/experiments/restore", api_experiments_restore, BODY_JSON},
    {"POST", MOUNT_MLFLOW, "/experiments/search", api_experiments_search, BODY_JSON},
    {"GET", MOUNT_MLFLOW, "/experiments/search", api_experiments_search, BODY_NONE},
    {"POST", MOUNT_MLFLOW, "/experiments/set-experiment-tag", api_experiments_set_tag, BODY_JSON},
    {"POST", MOUNT_MLFLOW, "/experiments/delete-experiment-tag", api_experiments_delete_tag,
     BODY_JSON},

    {"POST", MOUNT_MLFLOW, "/runs/create", api_runs_create, BODY_JSON},
    {"GET", MOUNT_MLFLOW, "/runs/get", api_runs_get, BODY_NONE},
    {"POST", MOUNT_MLFLOW, "/runs/update", api_runs_update, BODY_JSON},
    {"POST", MOUNT_MLFLOW, "/runs/delete", api_runs_delete, BODY_JSON},
    {"POST", MOUNT_MLFLOW, "/runs/restore", api_runs_restore, BODY_JSON},
    {"POST", MOUNT_MLFLOW, "/runs/search", api_runs_search, BODY_JSON},
    {"POST", MOUNT_MLFLOW, "/runs/set-tag", api_runs_set_tag, BODY_JSON},
    {"POST", MOUNT_MLFLOW, "/runs/delete-tag", api_runs_delete_tag, BODY_JSON},
    {"POST", MOUNT_MLFLOW, "/runs/log-parameter", api_runs_log_parameter, BODY_JSON},
    {"POST", MOUNT_MLFLOW, "/runs/log-metric", api_runs_log_metric, BODY_JSON},
    {"POST", MOUNT_MLFLOW, "/runs/log-batch", api_runs_log_batch, BODY_JSON},
    {"POST", MOUNT_MLFLOW, "/runs/log-inputs", api_runs_log_inputs, BODY_JSON},

    {"GET", MOUNT_MLFLOW, "/metrics/get-history", api_metrics_get_history, BODY_NONE},
};

static const char *const mlflow_prefixes[] = {"/api/2.0/mlflow", "/ajax-api/2.0/mlflow"};

/* The part of path a route of this mount compares against, or NULL. */
static const char *mounted_path(enum route_mount mount, const char *path)
{
    if (mount == MOUNT_ROOT)
        return path;
    for (size_t i = 0; i < sizeof mlflow_prefixes / sizeof mlflow_prefixes[0]; i++) {
        size_t n = strlen(mlflow_prefixes[i]);
        if (strncmp(path, mlflow_prefixes[i], n) == 0 && path[n] == '/')
            return path + n;
    }
    return NULL;
}

enum route_match routes_match(const char *method, const char *path, const struct route **out)
{
    enum route_match result = ROUTE_NO_PATH;

    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const char *rest = mounted_path(table[i].mount, path);
        if (rest == NULL || strcmp(rest, table[i].path) != 0)
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
