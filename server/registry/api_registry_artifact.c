/* The UI's model-versions/get-artifact (mlflow-models-api.md 1.1, 6.1):
 * one file of a version, read from the version's storage location. As
 * MLflow's handler does for proxied roots, an mlflow-artifacts: location is
 * mapped onto the artifact proxy (<location path>/<path>) and streamed by
 * the proxy's own download code, so every path the proxy serves (run
 * artifacts, and whatever it learns to serve later) works here too. Any
 * other location lives outside this server: 400. No SQL. */
#include <string.h>

#include "api.h"
#include "api_registry_common.h"
#include "artifacts/api.h"
#include "core/artifact_path.h"
#include "core/reply.h"

#define PROXY_SCHEME "mlflow-artifacts:"

/* The proxy path of location (an mlflow-artifacts: URI, optionally with an
 * authority) joined with path, in arena memory; NULL when location is not
 * one. */
static char *proxy_path(const char *location, const char *path, struct arena *arena)
{
    size_t n = strlen(PROXY_SCHEME);
    if (strncmp(location, PROXY_SCHEME, n) != 0)
        return NULL;
    const char *p = location + n;
    if (strncmp(p, "//", 2) == 0) { /* mlflow-artifacts://host:port/... */
        p = strchr(p + 2, '/');
        if (p == NULL)
            p = "";
    }
    while (*p == '/')
        p++;
    size_t len = strlen(p);
    while (len > 0 && p[len - 1] == '/')
        len--;
    if (len == 0)
        return arena_strdup(arena, path);
    size_t plen = strlen(path);
    char *out = arena_alloc(arena, len + 1 + plen + 1);
    memcpy(out, p, len);
    out[len] = '/';
    memcpy(out + len + 1, path, plen + 1);
    return out;
}

void api_registry_versions_artifact(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    const char *name, *path, *location, *why;
    int64_t version;

    arena_init(&arena);
    if (reg_name(&in, "name", 0, &name, r) != JX_OK || reg_version(&in, &version, r) != JX_OK ||
        reg_required(&in, "path", &path, r) != JX_OK)
        goto out;
    /* The path alone must be safe: a traversal may not climb out of the
     * version's location into its neighbours'. */
    why = artifact_path_check(path, 0, NULL);
    if (why != NULL) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Invalid path '%.300s': %s", path, why);
        goto out;
    }
    int rc = store_mv_download_uri(name, version, &arena, &location);
    if (rc != DB_OK) {
        reg_version_not_found(r, rc, name, version);
        goto out;
    }
    char *proxied = proxy_path(location, path, &arena);
    if (proxied == NULL) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "The files of model version (name=%.300s, version=%lld) are at '%.300s', "
                    "which this server does not serve (only mlflow-artifacts: locations)",
                    name, (long long)version, location);
        goto out;
    }
    api_artifacts_send_path(req, proxied, r);
out:
    arena_cleanup(&arena);
}
