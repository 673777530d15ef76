/* MLflow's proxied artifact API, the metadata half: listing (proxy and
 * tracking flavours), deletion, and the multipart endpoints MLflow answers
 * 501 for a filesystem store. Decode -> store -> encode; no SQL here. The
 * bytes themselves move in api_artifacts_io.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_artifacts.h"
#include "tracking/api_common.h"
#include "core/validate.h"
#include "common/xalloc.h"

#define DEFAULT_MAX_ARTIFACT_SIZE ((int64_t)5 << 30)

int64_t api_artifacts_max_size = DEFAULT_MAX_ARTIFACT_SIZE;

void api_artifacts_configure(int64_t max_size)
{
    api_artifacts_max_size = max_size;
}

void api_art_bad_path(struct reply *r, const char *path, const char *why)
{
    (void)path; /* not echoed: it may be anything, including invalid UTF-8 */
    reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Invalid path: %s", why);
}

int api_art_parse(const char *path, int flags, struct arena *arena, struct art_target *t,
                  struct reply *r)
{
    size_t len;

    memset(t, 0, sizeof *t);
    const char *why = artifact_path_check(path, flags, &len);
    if (why != NULL) {
        api_art_bad_path(r, path, why);
        return -1;
    }
    if (artifact_path_split(path, len, &t->proxy) < 0) {
        t->proxy.depth = -1; /* well-formed, but no run's artifact can live there */
        return 0;
    }
    t->rel = arena_strndup(arena, t->proxy.rel, t->proxy.rel_len);
    return 0;
}

int api_art_resolve(struct art_target *t, struct arena *arena)
{
    int rc = t->proxy.model_id[0]   ? store_artifact_model(t->proxy.model_id, arena, &t->run)
             : t->proxy.trace_id[0] ? store_artifact_trace(t->proxy.trace_id, arena, &t->run)
                                    : store_artifact_run(t->proxy.run_id, arena, &t->run);
    if (rc == DB_OK && t->run.experiment_id != t->proxy.experiment_id)
        rc = DB_NOT_FOUND; /* auth derives the experiment from the path: it must be the run's */
    return rc;
}

const char *api_art_owner_id(const struct art_target *t)
{
    return t->proxy.model_id[0]   ? t->proxy.model_id
           : t->proxy.trace_id[0] ? t->proxy.trace_id
                                  : t->proxy.run_id;
}

void api_art_owner_not_found(struct reply *r, int rc, const struct art_target *t)
{
    char msg[200];

    if (t->proxy.trace_id[0] != '\0') {
        snprintf(msg, sizeof msg, "Trace with ID '%s' not found in experiment %lld.",
                 t->proxy.trace_id, (long long)t->proxy.experiment_id);
        reply_store_error(r, rc, msg);
        return;
    }
    if (t->proxy.model_id[0] == '\0') {
        api_run_not_found(r, rc, t->proxy.run_id);
        return;
    }
    snprintf(msg, sizeof msg, "Logged model with ID '%s' not found in experiment %lld.",
             t->proxy.model_id, (long long)t->proxy.experiment_id);
    reply_store_error(r, rc, msg);
}

void api_art_store_error(struct reply *r, int rc, const char *run_id, const char *path)
{
    char msg[512];

    if (rc == DB_STATE) {
        api_run_not_found(r, rc, run_id);
        return;
    }
    if (rc == DB_ARTIFACT_CONFLICT) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid path '%.300s': a file and a directory cannot share a path", path);
        return;
    }
    snprintf(msg, sizeof msg, "No artifact at '%.300s' in %s %.40s", path,
             run_id[0] == 'm' ? "logged model" : "run", run_id);
    reply_store_error(r, rc, msg);
}

/* The entries of a directory listing as FileInfo objects, paths prefixed
 * with `prefix` ("" for basenames). NULL when there are none. */
static json_t *file_infos(const struct artifact_entry *e, size_t n, const char *prefix)
{
    if (n == 0)
        return NULL;
    json_t *files = json_array();
    for (size_t i = 0; i < n; i++) {
        char *path = prefix[0] ? xasprintf("%s/%s", prefix, e[i].name) : NULL;
        json_t *fi =
            json_pack("{s:s, s:b}", "path", path ? path : e[i].name, "is_dir", e[i].is_dir);
        free(path);
        if (!e[i].is_dir)
            json_object_set_new(fi, "file_size", json_integer(e[i].size));
        json_array_append_new(files, fi);
    }
    return files;
}

/* Lists directory rel of a run: *files stays NULL for a file, a missing
 * path or an empty directory (the client reads "nothing" as "a file"). */
static int list_dir(const struct artifact_owner *owner, const char *rel, const char *prefix,
                    struct arena *arena, json_t **files)
{
    struct artifact_file f;
    struct artifact_entry *e;
    size_t n;

    *files = NULL;
    int rc = rel[0] ? store_artifact_stat(owner, rel, &f) : DB_NOT_FOUND;
    if (rc != DB_NOT_FOUND)
        return rc; /* DB_OK: a file lists as nothing */
    rc = store_artifact_list(owner, rel, arena, &e, &n);
    if (rc == DB_OK)
        *files = file_infos(e, n, prefix);
    return rc;
}

/* Proxy listing of a path shaped like a run's (depth >= 2). */
static int list_target(struct art_target *t, struct arena *arena, json_t **files)
{
    *files = NULL;
    int rc = api_art_resolve(t, arena);
    if (rc != DB_OK)
        return rc;
    if (t->proxy.depth == 3)
        return list_dir(&t->run.owner, t->rel, "", arena, files);
    /* "<exp>/<run>": the run's one directory, when it holds anything */
    json_t *inside = NULL;
    rc = list_dir(&t->run.owner, "", "", arena, &inside);
    if (rc == DB_OK && inside != NULL)
        *files = json_pack("[{s:s, s:b}]", "path", "artifacts", "is_dir", 1);
    json_decref(inside);
    return rc;
}

void api_artifacts_list(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct art_target t;
    const char *path = "";
    json_t *files = NULL;

    arena_init(&arena);
    int rc = jx_string(&in, "path", &path, r);
    if (rc == JX_BAD)
        goto out;
    if (rc == JX_ABSENT)
        path = "";
    if (api_art_parse(path, ARTIFACT_PATH_EMPTY_OK | ARTIFACT_PATH_TRAILING_SLASH, &arena, &t, r) <
        0)
        goto out;
    if (t.proxy.depth >= 2) {
        rc = list_target(&t, &arena, &files);
        if (rc != DB_OK && rc != DB_NOT_FOUND) {
            reply_store_error(r, rc, "");
            goto out;
        }
    }
    reply_json(r, files ? json_pack("{s:o}", "files", files) : json_object());
out:
    arena_cleanup(&arena);
}

void api_artifacts_delete(const struct request *req, struct reply *r)
{
    const char *path = input_path_after(req, "/mlflow-artifacts/artifacts/");
    struct arena arena;
    struct art_target t;
    int64_t removed;

    arena_init(&arena);
    if (api_art_parse(path ? path : "", ARTIFACT_PATH_TRAILING_SLASH, &arena, &t, r) < 0)
        goto out;
    if (t.proxy.depth != 3) {
        api_art_bad_path(r, path,
                         "deletes reach only into a run's or a logged model's artifacts "
                         "(<experiment_id>/<run_id>/artifacts/..., "
                         "<experiment_id>/models/<model_id>/artifacts/...)");
        goto out;
    }
    int rc = api_art_resolve(&t, &arena);
    if (rc == DB_OK && t.run.deleted)
        rc = DB_STATE;
    if (rc == DB_OK)
        rc = store_artifact_delete(&t.run.owner, t.rel, &removed);
    if (rc == DB_OK || rc == DB_NOT_FOUND) /* nothing there: still done */
        reply_json(r, json_object());
    else
        api_art_store_error(r, rc, api_art_owner_id(&t), t.rel);
out:
    arena_cleanup(&arena);
}

void api_artifacts_mpu(const struct request *req, struct reply *r)
{
    static const char *const actions[] = {"create/", "complete/", "abort/"};
    const char *rest = input_path_after(req, "/mlflow-artifacts/mpu/");
    const char *path = NULL;
    struct arena arena;
    struct art_target t;

    for (size_t i = 0; rest != NULL && i < sizeof actions / sizeof actions[0]; i++)
        if (strncmp(rest, actions[i], strlen(actions[i])) == 0)
            path = rest + strlen(actions[i]);
    if (path == NULL) {
        reply_error(r, ERR_ENDPOINT_NOT_FOUND, "no API endpoint at %.200s", req->path);
        return;
    }
    arena_init(&arena);
    if (api_art_parse(path, 0, &arena, &t, r) == 0)
        reply_error(r, ERR_NOT_IMPLEMENTED,
                    "Multipart upload is not supported for the current artifact repository");
    arena_cleanup(&arena);
}

/* Reads the optional directory field of a listing ("" when absent) and
 * checks it; on JX_OK *path and *len are the directory. JX_BAD: r says why. */
static int listing_path(struct input *in, const char *field, const char **path, size_t *len,
                        struct reply *r)
{
    int rc = jx_string(in, field, path, r);
    if (rc == JX_BAD)
        return JX_BAD;
    if (rc == JX_ABSENT)
        *path = "";
    const char *why =
        artifact_path_check(*path, ARTIFACT_PATH_EMPTY_OK | ARTIFACT_PATH_TRAILING_SLASH, len);
    if (why != NULL) {
        api_art_bad_path(r, *path, why);
        return JX_BAD;
    }
    return JX_OK;
}

/* Replies {"root_uri": ..., "files": [...]} for the directory path[0..len)
 * of owner's files. */
static void reply_listing(const struct artifact_run *owner, const char *path, size_t len,
                          struct arena *arena, struct reply *r)
{
    json_t *files = NULL;
    char *rel = arena_strndup(arena, path, len);
    int rc = list_dir(&owner->owner, rel, rel, arena, &files);
    if (rc != DB_OK) {
        reply_store_error(r, rc, "");
        return;
    }
    json_t *obj = json_pack("{s:s}", "root_uri", owner->artifact_uri ? owner->artifact_uri : "");
    if (files != NULL)
        json_object_set_new(obj, "files", files);
    reply_json(r, obj);
}

void api_artifacts_list_run(const struct request *req, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct artifact_run run;
    const char *run_id, *path;
    size_t len;

    arena_init(&arena);
    if (input_run_id(&in, &run_id, r) != JX_OK ||
        listing_path(&in, "path", &path, &len, r) != JX_OK)
        goto out;
    int rc = validate_is_run_id(run_id) ? store_artifact_run(run_id, &arena, &run) : DB_NOT_FOUND;
    if (rc != DB_OK) {
        api_run_not_found(r, rc, run_id);
        goto out;
    }
    reply_listing(&run, path, len, &arena, r);
out:
    arena_cleanup(&arena);
}

void api_artifacts_model_directories(const struct request *req, const char *model_id,
                                     struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct artifact_run model;
    const char *path;
    size_t len;
    char msg[120];

    arena_init(&arena);
    if (listing_path(&in, "artifact_directory_path", &path, &len, r) != JX_OK)
        goto out;
    int rc = strlen(model_id) == 34 ? store_artifact_model(model_id, &arena, &model) : DB_NOT_FOUND;
    if (rc != DB_OK) {
        snprintf(msg, sizeof msg, "Logged model with ID '%.40s' not found.",
                 strlen(model_id) == 34 ? model_id : "?");
        reply_store_error(r, rc, msg);
        goto out;
    }
    reply_listing(&model, path, len, &arena, r);
out:
    arena_cleanup(&arena);
}
