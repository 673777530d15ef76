/* Authorization: a route's permission rule (routes.h) applied to the
 * signed-in user, with the experiments or the registered model the request
 * names looked up through its target; experiment and model permissions with
 * the --default-permission fallback; and the filters search results go
 * through. */
#include <stdio.h>
#include <string.h>

#include "auth_internal.h"
#include "core/artifact_path.h"
#include "core/input.h"
#include "core/jsonx.h"
#include "core/reply_store.h"
#include "core/validate.h"

static int effective_perm(const struct request *req, int64_t experiment_id, enum store_perm *out)
{
    int rc = store_perm_get(experiment_id, req->user.id, out);
    if (rc == DB_NOT_FOUND) {
        *out = auth_cfg.default_perm;
        return DB_OK;
    }
    return rc;
}

void auth_can_read_many(const struct request *req, const int64_t *ids, size_t n,
                        unsigned char *readable)
{
    struct arena arena;
    struct experiment_perm *perms = NULL;
    size_t nperms = 0;

    memset(readable, 1, n);
    if (!auth_cfg.enabled || req->user.is_admin)
        return;
    arena_init(&arena);
    if (store_perm_list(req->user.id, &arena, &perms, &nperms) != DB_OK) {
        memset(readable, 0, n); /* cannot tell: show nothing */
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        enum store_perm p = auth_cfg.default_perm;
        for (size_t k = 0; k < nperms; k++)
            if (perms[k].experiment_id == ids[i])
                p = perms[k].perm;
        readable[i] = p >= STORE_PERM_READ;
    }
out:
    arena_cleanup(&arena);
}

static int effective_model_perm(const struct request *req, const char *name, enum store_perm *out)
{
    int rc = store_model_perm_get(name, req->user.id, out);
    if (rc == DB_NOT_FOUND) {
        *out = auth_cfg.default_perm;
        return DB_OK;
    }
    return rc;
}

void auth_can_read_models(const struct request *req, const char *const *names, size_t n,
                          unsigned char *readable)
{
    struct arena arena;
    struct model_perm *perms = NULL;
    size_t nperms = 0;

    memset(readable, 1, n);
    if (!auth_cfg.enabled || req->user.is_admin)
        return;
    arena_init(&arena);
    if (store_model_perm_list(req->user.id, &arena, &perms, &nperms) != DB_OK) {
        memset(readable, 0, n); /* cannot tell: show nothing */
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        enum store_perm p = auth_cfg.default_perm;
        for (size_t k = 0; k < nperms; k++)
            if (strcmp(perms[k].name, names[i]) == 0)
                p = perms[k].perm;
        readable[i] = p >= STORE_PERM_READ;
    }
out:
    arena_cleanup(&arena);
}

/* The registered-model rule: the user's permission on the model "name"
 * names. Without a name there is nothing to check (the handler refuses the
 * request). Returns 0, or -1 with r set. */
static int authorize_model(const struct request *req, const struct route *route,
                           enum store_perm need, struct reply *r)
{
    struct input in = input_from(req);
    struct reply scratch;
    const char *name = NULL;
    enum store_perm have;

    reply_init(&scratch);
    int got = jx_string(&in, "name", &name, &scratch);
    reply_cleanup(&scratch);
    if (got != JX_OK)
        return 0;
    int rc = effective_model_perm(req, name, &have);
    if (rc != DB_OK) {
        reply_store_error(r, rc, "permission not found");
        return -1;
    }
    if (have < need) {
        reply_error(r, ERR_PERMISSION_DENIED,
                    "permission denied: %s needs %s on registered model '%.256s'", route->path,
                    auth_perm_names[need], name);
        return -1;
    }
    return 0;
}

/* The ids a target names, up to max; unparseable ones are skipped (the
 * handler then refuses them). Returns the count. */
/* Adds the experiment of one trace id to ids (unknown ids add nothing:
 * the handler answers 404). */
static void add_trace(const char *id, int64_t *ids, size_t *n, size_t max)
{
    int64_t exp;
    size_t len = strlen(id);
    if (*n >= max || !(len == 32 || (len == 35 && strncmp(id, "tr-", 3) == 0)))
        return;
    if (store_auth_trace_experiment(id, &exp) == DB_OK)
        ids[(*n)++] = exp;
}

/* The experiments of the traces a trace route names: in the path (prefix
 * routes) and in the fields trace_id, request_id, trace_ids, request_ids. */
static size_t trace_experiments(const struct request *req, const struct route *route,
                                const struct input *in, int64_t *ids, size_t max,
                                int *lookup_failed)
{
    static const char *const scalars[] = {"trace_id", "request_id"};
    static const char *const lists[] = {"trace_ids", "request_ids"};
    struct reply scratch;
    size_t n = 0;

    reply_init(&scratch);
    if (route->mount == MOUNT_ROOT_PREFIX || route->mount == MOUNT_API_PREFIX) {
        const char *rest = input_path_after(req, "/mlflow/traces/");
        char id[40];
        size_t len = rest ? strcspn(rest, "/") : 0;
        if (len > 0 && len < sizeof id) {
            memcpy(id, rest, len);
            id[len] = '\0';
            add_trace(id, ids, &n, max);
        }
    }
    for (int f = 0; f < 2; f++) {
        const char *s;
        if (jx_string(in, scalars[f], &s, &scratch) == JX_OK)
            add_trace(s, ids, &n, max);
        const json_t *arr;
        if (jx_array(in, lists[f], &arr, &scratch) != JX_OK)
            continue;
        if (json_array_size(arr) > max) {
            *lookup_failed = 1; /* more than we can check: refuse */
            continue;
        }
        for (size_t i = 0; i < json_array_size(arr); i++)
            if (jx_array_string(arr, i, lists[f], &s, &scratch) == JX_OK)
                add_trace(s, ids, &n, max);
    }
    reply_cleanup(&scratch);
    return n;
}

/* The experiments of a V3 create (trace.trace_info.trace_location) or
 * search (locations[]). */
static size_t location_experiments(const struct request *req, int64_t *ids, size_t max,
                                   int *lookup_failed)
{
    const json_t *info = json_object_get(json_object_get(req->input, "trace"), "trace_info");
    const json_t *one = json_object_get(info, "trace_location");
    const json_t *list = json_object_get(req->input, "locations");
    size_t count = json_is_array(list) ? json_array_size(list) : 0, n = 0;
    struct reply scratch;

    if (count > max) {
        *lookup_failed = 1;
        return 0;
    }
    reply_init(&scratch);
    for (size_t i = 0; i < count + 1; i++) {
        const json_t *loc = i < count ? json_array_get(list, i) : one;
        struct input exp = {json_object_get(loc, "mlflow_experiment"), 0, NULL};
        if (n < max && json_is_object(exp.obj) &&
            input_experiment_id(&exp, "experiment_id", &ids[n], &scratch) == JX_OK)
            n++;
    }
    reply_cleanup(&scratch);
    return n;
}

static size_t target_experiments(const struct request *req, const struct route *route, int64_t *ids,
                                 size_t max, int *lookup_failed)
{
    struct input in = input_from(req);
    struct reply scratch;
    size_t n = 0;

    reply_init(&scratch);
    switch (route->target) {
    case TARGET_EXPERIMENT_ID:
        /* absent or blank means the Default experiment (runs/create) */
        if (input_experiment_id(&in, "experiment_id", &ids[0], &scratch) != JX_OK)
            ids[0] = 0;
        n = 1;
        break;
    case TARGET_EXPERIMENT_NAME: {
        const char *name;
        if (jx_string(&in, "experiment_name", &name, &scratch) == JX_OK &&
            store_auth_experiment_by_name(name, &ids[0]) == DB_OK)
            n = 1;
        break;
    }
    case TARGET_RUN_ID: {
        const char *run_id;
        if (input_run_id(&in, &run_id, &scratch) != JX_OK)
            break;
        /* an id the store could read some other way (upper case, dashes)
         * but that we cannot check is refused rather than passed on */
        if (!validate_is_run_id(run_id))
            *lookup_failed = 1;
        else if (store_auth_run_experiment(run_id, &ids[0]) == DB_OK)
            n = 1;
        break;
    }
    case TARGET_EXPERIMENT_IDS:
    case TARGET_RUN_IDS: {
        int runs = route->target == TARGET_RUN_IDS;
        const char *fields[2] = {runs ? "run_id" : "experiment_id",
                                 runs ? "run_ids" : "experiment_ids"};
        for (int f = 0; f < 2; f++) {
            const json_t *arr;
            if (jx_array(&in, fields[f], &arr, &scratch) != JX_OK)
                continue;
            for (size_t i = 0; i < json_array_size(arr) && n < max; i++) {
                const char *s;
                char idbuf[32];
                int64_t id;
                if (jx_array_id(arr, i, fields[f], idbuf, &s, &scratch) != JX_OK)
                    continue;
                if (runs ? validate_is_run_id(s) && store_auth_run_experiment(s, &id) == DB_OK
                         : s[0] >= '0' && s[0] <= '9' && jx_parse_int64_text(s, &id) == 0)
                    ids[n++] = id;
            }
            if (json_array_size(arr) > max)
                *lookup_failed = 1; /* more than we can check: refuse */
        }
        break;
    }
    case TARGET_ARTIFACT_PATH:
    case TARGET_ARTIFACT_QUERY: {
        const char *path = NULL;
        if (route->target == TARGET_ARTIFACT_QUERY) {
            if (jx_string(&in, "path", &path, &scratch) != JX_OK)
                path = NULL;
        } else {
            path = input_path_after(req, route->path);
            /* multipart upload: "<action>/<path>" */
            if (path != NULL && strchr(path, '/') != NULL && !(path[0] >= '0' && path[0] <= '9'))
                path = strchr(path, '/') + 1;
        }
        struct artifact_proxy_path pp;
        size_t len;
        if (path == NULL ||
            artifact_path_check(path, ARTIFACT_PATH_EMPTY_OK | ARTIFACT_PATH_TRAILING_SLASH,
                                &len) != NULL ||
            artifact_path_split(path, len, &pp) < 0 || pp.depth < 1)
            break;
        ids[n++] = pp.experiment_id;
        if (pp.depth >= 2 &&
            (pp.model_id[0]   ? store_auth_logged_model_experiment(pp.model_id, &ids[n])
             : pp.trace_id[0] ? store_auth_trace_experiment(pp.trace_id, &ids[n])
                              : store_auth_run_experiment(pp.run_id, &ids[n])) == DB_OK &&
            ids[n] != ids[0])
            n++;
        break;
    }
    case TARGET_LOGGED_MODEL: {
        /* "<model_id>[/...]" after the route's path; an unknown model is
         * the handler's 404 */
        const char *rest = input_path_after(req, route->path);
        char model_id[35];
        size_t len = rest ? strcspn(rest, "/") : 0;
        if (len != 34)
            break;
        memcpy(model_id, rest, 34);
        model_id[34] = '\0';
        if (store_auth_logged_model_experiment(model_id, &ids[0]) == DB_OK)
            n = 1;
        break;
    }
    case TARGET_TRACE:
        n = trace_experiments(req, route, &in, ids, max, lookup_failed);
        break;
    case TARGET_TRACE_LOCATION:
        n = location_experiments(req, ids, max, lookup_failed);
        break;
    case TARGET_OTLP_HEADER: {
        /* a missing or malformed header is the handler's 400 */
        const char *h = request_header(req, "x-mlflow-experiment-id");
        if (h != NULL && h[0] >= '0' && h[0] <= '9' && jx_parse_int64_text(h, &ids[0]) == 0)
            n = 1;
        break;
    }
    default:
        break;
    }
    reply_cleanup(&scratch);
    return n;
}

int auth_authorize(const struct request *req, const struct route *route, struct reply *r)
{
    int64_t ids[128];
    int failed = 0;

    if (req->user.is_admin)
        return 0;
    switch (route->perm) {
    case PERM_PUBLIC:
    case PERM_USER:
        return 0;
    case PERM_ADMIN:
        reply_error(r, ERR_PERMISSION_DENIED, "permission denied: admins only");
        return -1;
    case PERM_SELF: {
        struct input in = input_from(req);
        struct reply scratch;
        const char *name = NULL;
        reply_init(&scratch);
        int rc = jx_string(&in, "username", &name, &scratch);
        int ok = rc != JX_OK || name == NULL || strcmp(name, req->user.name) == 0;
        reply_cleanup(&scratch);
        if (ok)
            return 0;
        reply_error(r, ERR_PERMISSION_DENIED, "permission denied: only for yourself or admins");
        return -1;
    }
    case PERM_READ:
    case PERM_EDIT:
    case PERM_MANAGE:
        break;
    default:
        reply_error(r, ERR_PERMISSION_DENIED, "permission denied: the route has no rule");
        return -1;
    }
    enum store_perm need = route->perm == PERM_READ   ? STORE_PERM_READ
                           : route->perm == PERM_EDIT ? STORE_PERM_EDIT
                                                      : STORE_PERM_MANAGE;
    if (route->target == TARGET_MODEL_NAME)
        return authorize_model(req, route, need, r);
    size_t n = target_experiments(req, route, ids, sizeof ids / sizeof ids[0], &failed);
    if (failed) {
        reply_error(r, ERR_PERMISSION_DENIED,
                    "permission denied: the request names runs or experiments that cannot be "
                    "checked (malformed ids, or too many)");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        enum store_perm have;
        int rc = effective_perm(req, ids[i], &have);
        if (rc != DB_OK) {
            reply_store_experiment_not_found(r, rc, ids[i]);
            return -1;
        }
        if (have < need) {
            reply_error(r, ERR_PERMISSION_DENIED,
                        "permission denied: %s needs %s on experiment %lld", route->path,
                        auth_perm_names[need], (long long)ids[i]);
            return -1;
        }
    }
    return 0;
}
