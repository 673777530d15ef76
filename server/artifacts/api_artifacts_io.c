/* Artifact bytes in and out: the streamed PUT of the proxy (and the UI's
 * POST upload-artifact), and the streamed, range-aware GET (proxy and
 * /get-artifact). Memory per transfer is one chunk, whatever the file size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_artifacts.h"
#include "traces/api.h"
#include "tracking/api_common.h"
#include "common/sbuf.h"
#include "core/validate.h"
#include "common/xalloc.h"

#define UI_UPLOAD_MAX ((int64_t)10 << 20)

/* An upload being received. */
struct upload {
    struct artifact_upload *u;
    struct artifact_owner owner;
    int64_t max;
    int ui;              /* the UI's upload-artifact: an empty body is refused, success is empty */
    enum api_error over; /* what a body over max is: 413, or 400 for the UI (as MLflow) */
    char run_id[40];     /* or the model's id */
    char *path;
    int span_file; /* a trace's traces.json: kept whole (copy) to store its spans */
    struct sbuf copy;
};

static void too_large(struct reply *r, enum api_error code, int64_t max)
{
    reply_error(r, code, "the artifact exceeds the maximum artifact size of %lld bytes",
                (long long)max);
}

/* Refuses a declared Content-Length over the limit before any byte moves. */
static int length_ok(const struct request *req, enum api_error code, int64_t max, struct reply *r)
{
    const char *cl = request_header(req, "Content-Length");
    if (cl != NULL && strtoll(cl, NULL, 10) > max) {
        too_large(r, code, max);
        return 0;
    }
    return 1;
}

/* The checks every upload makes at the start; takes the run and path. */
static struct upload *upload_start(const struct request *req, const struct artifact_run *run,
                                   const char *run_id, const char *path, int ui, struct reply *r)
{
    int rc = run->deleted ? DB_STATE : store_artifact_check_path(&run->owner, path);
    if (rc != DB_OK) {
        api_art_store_error(r, rc, run_id, path);
        return NULL;
    }
    int64_t max = api_artifacts_max_size;
    if (ui && UI_UPLOAD_MAX < max)
        max = UI_UPLOAD_MAX;
    enum api_error over = ui ? ERR_INVALID_PARAMETER_VALUE : ERR_QUOTA_EXCEEDED;
    if (!length_ok(req, over, max, r))
        return NULL;
    struct upload *up = xcalloc(1, sizeof *up);
    up->owner = run->owner;
    up->max = max;
    up->over = over;
    up->ui = ui;
    snprintf(up->run_id, sizeof up->run_id, "%s", run_id);
    up->path = xstrdup(path);
    up->u = store_artifact_upload_new();
    up->span_file = run->owner.kind == ARTIFACT_OWNER_TRACE && strcmp(path, "traces.json") == 0;
    sbuf_init(&up->copy);
    return up;
}

static void *proxy_begin(const struct request *req, struct reply *r)
{
    const char *path = input_path_after(req, "/mlflow-artifacts/artifacts/");
    struct arena arena;
    struct art_target t;
    struct upload *up = NULL;

    arena_init(&arena);
    if (api_art_parse(path ? path : "", 0, &arena, &t, r) < 0)
        goto out;
    if (t.proxy.depth != 3 || t.rel[0] == '\0') {
        api_art_bad_path(r, path,
                         "uploads go to a file in a run's or a logged model's artifacts "
                         "(<experiment_id>/<run_id>/artifacts/<path>, "
                         "<experiment_id>/models/<model_id>/artifacts/<path>)");
        goto out;
    }
    int rc = api_art_resolve(&t, &arena);
    if (rc != DB_OK) {
        api_art_owner_not_found(r, rc, &t);
        goto out;
    }
    up = upload_start(req, &t.run, api_art_owner_id(&t), t.rel, 0, r);
out:
    arena_cleanup(&arena);
    return up;
}

static int upload_data(void *state, const char *buf, size_t len, struct reply *r)
{
    struct upload *up = state;
    if (store_artifact_upload_size(up->u) + (int64_t)len > up->max) {
        too_large(r, up->over, up->max);
        return -1;
    }
    if (up->span_file) {
        if (up->copy.len + len > TRACE_FILE_MAX_BYTES)
            up->span_file = 0; /* stored as a file only */
        else
            sbuf_add(&up->copy, buf, len);
    }
    int rc = store_artifact_upload_write(up->u, buf, len);
    if (rc == DB_NOT_FOUND) /* gc took the pending blob: the upload had stalled */
        reply_error(r, ERR_RESOURCE_CONFLICT,
                    "the upload of '%.300s' was discarded after sending nothing for too long "
                    "(see EXPTRACK_GC_GRACE_SECONDS); send it again",
                    up->path);
    else if (rc != DB_OK)
        api_art_store_error(r, rc, up->run_id, up->path);
    return rc == DB_OK ? 0 : -1;
}

static void upload_end(void *state, int complete, struct reply *r)
{
    struct upload *up = state;

    if (!complete) {
        store_artifact_upload_abort(up->u);
    } else if (up->ui && store_artifact_upload_size(up->u) == 0) {
        store_artifact_upload_abort(up->u);
        reply_error(r, ERR_INVALID_PARAMETER_VALUE, "Empty artifact: the request body is empty");
    } else {
        int rc = store_artifact_upload_commit(up->u, &up->owner, up->path, NULL);
        if (rc != DB_OK) {
            api_art_store_error(r, rc, up->run_id, up->path);
        } else {
            /* a trace's traces.json: its spans become rows too (a file
             * that does not parse stays a file, the upload still succeeds) */
            if (up->span_file)
                api_traces_span_file(up->owner.key, up->copy.data ? up->copy.data : "",
                                     up->copy.len);
            if (up->ui)
                reply_text(r, "text/plain", "");
            else
                reply_json(r, json_object());
        }
    }
    sbuf_cleanup(&up->copy);
    free(up->path);
    free(up);
}

const struct upload_ops api_artifacts_upload = {proxy_begin, upload_data, upload_end};

/* Reads run_id (or run_uuid) and path from the query; looks the run up. */
static int query_target(const struct request *req, struct arena *arena, struct artifact_run *run,
                        const char **run_id, const char **path, struct reply *r)
{
    struct input in = input_from(req);
    size_t len;

    if (input_run_id(&in, run_id, r) != JX_OK || jx_required_string(&in, "path", path, r) != JX_OK)
        return -1;
    const char *why = artifact_path_check(*path, 0, &len);
    if (why != NULL) {
        api_art_bad_path(r, *path, why);
        return -1;
    }
    int rc = validate_is_run_id(*run_id) ? store_artifact_run(*run_id, arena, run) : DB_NOT_FOUND;
    if (rc != DB_OK) {
        api_run_not_found(r, rc, *run_id);
        return -1;
    }
    return 0;
}

static void *ui_begin(const struct request *req, struct reply *r)
{
    struct arena arena;
    struct artifact_run run;
    const char *run_id, *path;
    struct upload *up = NULL;

    arena_init(&arena);
    if (query_target(req, &arena, &run, &run_id, &path, r) == 0)
        up = upload_start(req, &run, run_id, path, 1, r);
    arena_cleanup(&arena);
    return up;
}

const struct upload_ops api_artifacts_ui_upload = {ui_begin, upload_data, upload_end};

/* A download in flight: the byte range [start, start + len) of a file. */
struct download {
    struct artifact_reader *rd;
    int64_t start;
    int64_t len;
};

static ssize_t download_read(void *state, uint64_t pos, char *buf, size_t max)
{
    struct download *d = state;
    if ((int64_t)pos >= d->len)
        return 0;
    if ((uint64_t)(d->len - (int64_t)pos) < max)
        max = (size_t)(d->len - (int64_t)pos);
    return store_artifact_reader_read(d->rd, d->start + (int64_t)pos, buf, max);
}

static void download_free(void *state)
{
    struct download *d = state;
    store_artifact_reader_free(d->rd);
    free(d);
}

/* Content-Disposition for name: a quoted ASCII fallback and the exact
 * UTF-8 name (RFC 6266 filename*). */
static void add_disposition(struct reply *r, const char *name)
{
    struct sbuf b;
    sbuf_init(&b);
    sbuf_adds(&b, "attachment; filename=\"");
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        sbuf_addc(&b, *p >= 0x80 || *p == '"' || *p == '\\' ? '_' : (char)*p);
    sbuf_adds(&b, "\"; filename*=UTF-8''");
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("!#$&+-.^_`|~", *p) != NULL)
            sbuf_addc(&b, (char)*p);
        else
            sbuf_addf(&b, "%%%02X", *p);
    }
    reply_header(r, "Content-Disposition", b.data);
    sbuf_cleanup(&b);
}

/* Answers a Range the file cannot satisfy (416, with the file's size). */
static void unsatisfiable(struct reply *r, int64_t size)
{
    char range[48];
    reply_error(r, ERR_RANGE_NOT_SATISFIABLE, "the requested range is outside the file");
    snprintf(range, sizeof range, "bytes */%lld", (long long)size);
    reply_header(r, "Content-Range", range);
}

/* Streams the file at rel of a run, honouring Range and If-None-Match. */
static void send_file(const struct request *req, const struct artifact_owner *owner,
                      const char *run_id, const char *rel, struct reply *r)
{
    struct artifact_file f;
    char etag[72], range[96];
    int64_t start = 0, len;

    int rc = store_artifact_stat(owner, rel, &f);
    if (rc != DB_OK) {
        api_art_store_error(r, rc, run_id, rel);
        return;
    }
    snprintf(etag, sizeof etag, "\"%s\"", f.sha256);
    const char *inm = request_header(req, "If-None-Match");
    if (inm != NULL && (strcmp(inm, etag) == 0 || strcmp(inm, "*") == 0)) {
        reply_not_modified(r, artifact_path_content_type(rel));
        reply_header(r, "ETag", etag);
        return;
    }
    enum artifact_range kind =
        artifact_path_range(request_header(req, "Range"), f.size, &start, &len);
    if (kind == RANGE_UNSATISFIABLE) {
        unsatisfiable(r, f.size);
        return;
    }
    if (kind == RANGE_NONE)
        len = f.size;
    struct download *d = xcalloc(1, sizeof *d);
    d->rd = store_artifact_reader_new(&f);
    d->start = start;
    d->len = len;
    reply_stream(r, artifact_path_content_type(rel), len, download_read, download_free, d);
    if (kind == RANGE_OK)
        reply_partial(r);
    reply_header(r, "ETag", etag);
    reply_header(r, "Accept-Ranges", "bytes");
    reply_header(r, "X-Content-Type-Options", "nosniff");
    add_disposition(r, artifact_path_basename(rel));
    if (kind == RANGE_OK) {
        snprintf(range, sizeof range, "bytes %lld-%lld/%lld", (long long)start,
                 (long long)(start + len - 1), (long long)f.size);
        reply_header(r, "Content-Range", range);
    }
}

void api_artifacts_download(const struct request *req, struct reply *r)
{
    const char *path = input_path_after(req, "/mlflow-artifacts/artifacts/");
    api_artifacts_send_path(req, path ? path : "", r);
}

void api_artifacts_send_path(const struct request *req, const char *path, struct reply *r)
{
    struct arena arena;
    struct art_target t;

    arena_init(&arena);
    if (api_art_parse(path, 0, &arena, &t, r) < 0)
        goto out;
    int rc = t.proxy.depth == 3 && t.rel[0] ? api_art_resolve(&t, &arena) : DB_NOT_FOUND;
    if (rc == DB_OK)
        send_file(req, &t.run.owner, api_art_owner_id(&t), t.rel, r);
    else
        api_art_store_error(r, rc, t.proxy.depth >= 2 ? api_art_owner_id(&t) : "", path);
out:
    arena_cleanup(&arena);
}

void api_artifacts_get_artifact(const struct request *req, struct reply *r)
{
    struct arena arena;
    struct artifact_run run;
    const char *run_id, *path;

    arena_init(&arena);
    if (query_target(req, &arena, &run, &run_id, &path, r) == 0)
        send_file(req, &run.owner, run_id, path, r);
    arena_cleanup(&arena);
}

void api_artifacts_model_file(const struct request *req, const char *model_id, struct reply *r)
{
    struct input in = input_from(req);
    struct arena arena;
    struct artifact_run model;
    const char *path = NULL;
    size_t len;
    char msg[120];

    arena_init(&arena);
    int rc = jx_string(&in, "artifact_file_path", &path, r);
    if (rc == JX_BAD)
        goto out;
    if (rc == JX_ABSENT || path[0] == '\0') {
        reply_error(r, ERR_BAD_REQUEST,
                    "Request must include the \"artifact_file_path\" query parameter.");
        goto out;
    }
    const char *why = artifact_path_check(path, 0, &len);
    if (why != NULL) {
        api_art_bad_path(r, path, why);
        goto out;
    }
    rc = strlen(model_id) == 34 ? store_artifact_model(model_id, &arena, &model) : DB_NOT_FOUND;
    if (rc != DB_OK) {
        snprintf(msg, sizeof msg, "Logged model with ID '%.40s' not found.",
                 strlen(model_id) == 34 ? model_id : "?");
        reply_store_error(r, rc, msg);
        goto out;
    }
    send_file(req, &model.owner, model_id, path, r);
out:
    arena_cleanup(&arena);
}
