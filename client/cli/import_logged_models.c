/* MLflow 3 logged models of an mlruns directory and the run links to them,
 * imported through exptrackd's logged-model import API. The layout MLflow's
 * file store writes:
 *   <exp>/models/<model id>/meta.yaml      model_id, name, status (0..3),
 *                                          lifecycle_stage, source_run_id,
 *                                          creation_timestamp, ...
 *   <exp>/models/<model id>/params/<key>   tags/<key>   artifacts/...
 *   <exp>/models/<model id>/metrics/<key>  "timestamp value step run_id
 *                                          [dataset_name dataset_digest]"
 *   <run>/outputs/<model id>/meta.yaml     step (runs/outputs)
 *   <run>/inputs/<id>/meta.yaml            source_type MODEL, source_id
 * A model's id is kept when free, else derived (and listed in the mapping
 * file); run ids inside it go through the state's run mapping. Every call
 * repeats without a duplicate, and the state records finished models and
 * linked runs. */
#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "import_mlruns.h"
#include "import_yaml.h"

#define API "/api/2.0/mlflow"
#define LM_BATCH 1000

/* One model being sent: the fields every call repeats, and the lists. */
struct lm_send {
    struct iw *w;
    json_t *head; /* model_id, experiment_id, name, ... */
    json_t *metrics;
    int calls;
};

static int is_model_id(const char *s)
{
    if (strlen(s) != 34 || strncmp(s, "m-", 2) != 0)
        return 0;
    for (size_t i = 2; i < 34; i++) {
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return 0;
    }
    return 1;
}

/* The destination run id of a source run id ("" stays ""). */
static const char *map_run(struct iw *w, const char *src)
{
    if (src == NULL || strcmp(src, "None") == 0) /* MLflow writes None for no run */
        return "";
    const char *dst = src[0] ? istate_get(w->state, "run", src) : NULL;
    return dst ? dst : src;
}

/* The destination id of a source model id (itself when not remapped). */
static const char *map_model(struct iw *w, const char *src)
{
    const char *dst = istate_get(w->state, "lm", src);
    return dst ? dst : src;
}

/* Sends head plus the lists given (each at most LM_BATCH entries). 0, 1
 * when the model id is held by another model, -1 on error. */
static int send_call(struct lm_send *s, json_t *params, json_t *tags)
{
    json_t *body = json_copy(s->head);
    json_t *reply = NULL;
    if (params != NULL)
        json_object_set(body, "params", params);
    if (tags != NULL)
        json_object_set(body, "tags", tags);
    json_object_set(body, "metrics", s->metrics);
    long st =
        ih_json(&s->w->dst, "POST", "/api/2.0/exptrack/import/logged-models", body, NULL, &reply);
    json_decref(body);
    int taken = st != 200 && strcmp(ih_error_code(reply), "RESOURCE_ALREADY_EXISTS") == 0;
    json_decref(reply);
    json_array_clear(s->metrics);
    s->calls++;
    if (st == 200)
        return 0;
    if (taken)
        return 1;
    fprintf(stderr, "exptrack import: logged model %s: %s\n",
            json_string_value(json_object_get(s->head, "model_id")), s->w->dst.err);
    return -1;
}

/* Queues the metric lines of one file (key may hold '/'). */
static int send_metric_file(struct lm_send *s, const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    if (f == NULL)
        return 0;
    while (rc == 0 && getline(&line, &cap, f) > 0) {
        char *p = line, *tok[3] = {"", "", ""};
        int64_t ts, step;
        double v;
        if (imlruns_metric_line(&p, &ts, &v, &step) != 0)
            continue;
        for (int i = 0; i < 3; i++) {
            p += strspn(p, " \t\r\n");
            if (*p == '\0')
                break;
            tok[i] = p;
            p += strcspn(p, " \t\r\n");
            if (*p)
                *p++ = '\0';
        }
        json_t *m =
            json_pack("{s:s,s:o,s:I,s:I,s:s,s:s,s:s}", "key", key, "value", ijson_double(v),
                      "timestamp", (json_int_t)ts, "step", (json_int_t)step, "run_id",
                      map_run(s->w, tok[0]), "dataset_name", tok[1], "dataset_digest", tok[2]);
        json_array_append_new(s->metrics, m);
        if (json_array_size(s->metrics) >= LM_BATCH)
            rc = send_call(s, NULL, NULL) == 0 ? 0 : -1;
    }
    free(line);
    fclose(f);
    return rc;
}

static int send_metrics(struct lm_send *s, const char *dir, const char *prefix)
{
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort), rc = 0;
    for (int i = 0; i < n; i++) {
        char path[4096], key[1024];
        struct stat st;
        const char *name = ents[i]->d_name;
        if (rc == 0 && name[0] != '.' && ipathf(path, sizeof path, "%s/%s", dir, name) == 0 &&
            ipathf(key, sizeof key, "%s%s", prefix, name) == 0 && stat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                char sub[1100];
                ipathf(sub, sizeof sub, "%s/", key);
                rc = send_metrics(s, path, sub);
            } else {
                rc = send_metric_file(s, path, key);
            }
        }
        free(ents[i]);
    }
    if (n >= 0)
        free(ents);
    return rc;
}

/* The kv list from index i on, at most LM_BATCH, as [{key, value}]. */
static json_t *kv_slice(const struct ikv *kv, size_t n, size_t i)
{
    json_t *arr = json_array();
    for (size_t k = i; k < n && k < i + LM_BATCH; k++)
        json_array_append_new(arr, json_pack("{s:s,s:s}", "key", kv[k].key, "value", kv[k].value));
    return arr;
}

/* The first call: creates the model (or finds it from an earlier run) with
 * the first params and tags; more calls for the rest. 0, 1 taken, -1. */
static int send_head(struct lm_send *s, const struct ikv *params, size_t np, const struct ikv *tags,
                     size_t nt)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && (i == 0 || i < np || i < nt); i += LM_BATCH) {
        json_t *p = kv_slice(params, np, i), *t = kv_slice(tags, nt, i);
        rc = send_call(s, p, t);
        json_decref(p);
        json_decref(t);
    }
    return rc;
}

/* "m-" and 32 hex digits derived from the source id and the experiment,
 * the same on every rerun. */
static void derive_model_id(const char *src, const char *dst_exp, char out[35])
{
    uint64_t a = ifnv(ifnv(1469598103934665603ULL, src), dst_exp);
    uint64_t b = ifnv(ifnv(a, "exptrack-logged-model"), src);
    ipathf(out, 35, "m-%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

static int import_model(struct iw *w, const char *dir, const char *dst_exp, int include_deleted)
{
    struct ymap meta;
    struct ikv *params = NULL, *tags = NULL;
    size_t np = 0, nt = 0;
    char path[4400], dst_id[35];
    int rc = 0;

    ipathf(path, sizeof path, "%s/meta.yaml", dir);
    if (ymap_load(path, &meta) != 0)
        return 0;
    const char *src = ymap_get(&meta, "model_id") ?: strrchr(dir, '/') + 1;
    const char *stage = ymap_get(&meta, "lifecycle_stage") ?: "active";
    if (istate_get(w->state, "lm", src) != NULL)
        goto out;
    if (strcmp(stage, "deleted") == 0 && !include_deleted) {
        iprog_skip(w->prog, "logged model %s: deleted (use --include-deleted)", src);
        goto out;
    }
    pthread_mutex_lock(&w->prog->mu);
    w->prog->logged_models++;
    pthread_mutex_unlock(&w->prog->mu);
    if (is_model_id(src))
        ipathf(dst_id, sizeof dst_id, "%s", src);
    else
        derive_model_id(src, dst_exp, dst_id);
    char prefix[128];
    ipathf(prefix, sizeof prefix, "%s/models/%s/artifacts", dst_exp, dst_id);
    if (w->dry_run) { /* count the files, send nothing */
        ipathf(path, sizeof path, "%s/artifacts", dir);
        rc = iw_artifact_dir(w, path, prefix, "");
        goto out;
    }
    int64_t created = ymap_int(&meta, "creation_timestamp", 0);
    struct lm_send s = {.w = w, .metrics = json_array()};
    s.head = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:I,s:I}", "model_id", dst_id, "experiment_id",
                       dst_exp, "name", ymap_get(&meta, "name") ?: "model", "model_type",
                       ymap_get(&meta, "model_type") ?: "", "source_run_id",
                       map_run(w, ymap_get(&meta, "source_run_id")), "status",
                       (json_int_t)ymap_int(&meta, "status", 2), "lifecycle_stage", stage,
                       "creation_timestamp_ms", (json_int_t)created, "last_updated_timestamp_ms",
                       (json_int_t)ymap_int(&meta, "last_updated_timestamp", created));
    ipathf(path, sizeof path, "%s/params", dir);
    ikv_read_dir(path, "", &params, &np);
    ipathf(path, sizeof path, "%s/tags", dir);
    ikv_read_dir(path, "", &tags, &nt);
    rc = send_head(&s, params, np, tags, nt);
    if (rc == 1) { /* the id is another model's: a derived one, mapped */
        derive_model_id(src, dst_exp, dst_id);
        json_object_set_new(s.head, "model_id", json_string(dst_id));
        rc = send_head(&s, params, np, tags, nt);
        if (rc == 0) {
            pthread_mutex_lock(&w->prog->mu);
            w->prog->remapped++;
            if (w->mapping != NULL) {
                fprintf(w->mapping, "logged_model\t%s\t%s\n", src, dst_id);
                fflush(w->mapping);
            }
            pthread_mutex_unlock(&w->prog->mu);
        }
    }
    rc = rc == 0 ? 0 : -1;
    ipathf(path, sizeof path, "%s/metrics", dir);
    if (rc == 0)
        rc = send_metrics(&s, path, "");
    if (rc == 0 && json_array_size(s.metrics) > 0)
        rc = send_call(&s, NULL, NULL) == 0 ? 0 : -1;
    ipathf(prefix, sizeof prefix, "%s/models/%s/artifacts", dst_exp, dst_id);
    ipathf(path, sizeof path, "%s/artifacts", dir);
    if (rc == 0)
        rc = iw_artifact_dir(w, path, prefix, "");
    if (rc == 0)
        rc = istate_put(w->state, "lm", src, dst_id);
    json_decref(s.head);
    json_decref(s.metrics);
    ikv_free(&params, &np);
    ikv_free(&tags, &nt);
out:
    ymap_free(&meta);
    return rc;
}

int import_mlruns_logged_models(struct iw *w, const char *exp_dir, const char *dst_exp,
                                int include_deleted)
{
    char root[4200];
    struct dirent **ents;
    int rc = 0;
    ipathf(root, sizeof root, "%s/models", exp_dir);
    int n = scandir(root, &ents, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        char dir[4400];
        struct stat st;
        if (rc == 0 && ents[i]->d_name[0] != '.' &&
            ipathf(dir, sizeof dir, "%s/%s", root, ents[i]->d_name) == 0 && stat(dir, &st) == 0 &&
            S_ISDIR(st.st_mode))
            rc = import_model(w, dir, dst_exp, include_deleted);
        free(ents[i]);
    }
    if (n >= 0)
        free(ents);
    return rc;
}

/* ---- links: runs/outputs and model inputs ---- */

struct links {
    json_t *outputs; /* [{model_id, step}] */
    json_t *inputs;  /* [{model_id}] */
};

static void read_links(struct iw *w, const char *run_dir, struct links *l)
{
    struct dirent **ents;
    char dir[4200], path[4500];
    ipathf(dir, sizeof dir, "%s/outputs", run_dir);
    int n = scandir(dir, &ents, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        struct ymap m;
        if (ents[i]->d_name[0] != '.' &&
            ipathf(path, sizeof path, "%s/%s/meta.yaml", dir, ents[i]->d_name) == 0 &&
            ymap_load(path, &m) == 0) {
            json_array_append_new(l->outputs,
                                  json_pack("{s:s,s:I}", "model_id", map_model(w, ents[i]->d_name),
                                            "step", (json_int_t)ymap_int(&m, "step", 0)));
            ymap_free(&m);
        }
        free(ents[i]);
    }
    if (n >= 0)
        free(ents);
    ipathf(dir, sizeof dir, "%s/inputs", run_dir);
    n = scandir(dir, &ents, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        struct ymap m;
        if (ents[i]->d_name[0] != '.' &&
            ipathf(path, sizeof path, "%s/%s/meta.yaml", dir, ents[i]->d_name) == 0 &&
            ymap_load(path, &m) == 0) {
            const char *type = ymap_get(&m, "source_type"), *id = ymap_get(&m, "source_id");
            if (type && id && strcmp(type, "MODEL") == 0)
                json_array_append_new(l->inputs, json_pack("{s:s}", "model_id", map_model(w, id)));
            ymap_free(&m);
        }
        free(ents[i]);
    }
    if (n >= 0)
        free(ents);
}

/* Drops from want the outputs the destination run already lists. */
static void drop_present(json_t *want, const json_t *have)
{
    for (size_t i = json_array_size(want); i-- > 0;) {
        const json_t *o = json_array_get(want, i);
        for (size_t k = 0; k < json_array_size(have); k++) {
            const json_t *h = json_array_get(have, k);
            const char *a = json_string_value(json_object_get(o, "model_id"));
            const char *b = json_string_value(json_object_get(h, "model_id"));
            const json_t *hs = json_object_get(h, "step");
            json_int_t step = json_is_string(hs) ? strtoll(json_string_value(hs), NULL, 10)
                                                 : json_integer_value(hs);
            if (a && b && strcmp(a, b) == 0 &&
                step == json_integer_value(json_object_get(o, "step"))) {
                json_array_remove(want, i);
                break;
            }
        }
    }
}

static int post(struct iw *w, const char *path, json_t *body, const char *what)
{
    long st = ih_json(&w->dst, "POST", path, body, NULL, NULL);
    json_decref(body);
    if (st == 200)
        return 0;
    fprintf(stderr, "exptrack import: %s: %s\n", what, w->dst.err);
    return -1;
}

int import_mlruns_model_links(struct iw *w, const char *run_dir, const char *src_run)
{
    const char *dst = istate_get(w->state, "run", src_run);
    struct links l = {json_array(), json_array()};
    char path[128];
    json_t *reply = NULL;
    int rc = 0;
    if (dst == NULL || istate_get(w->state, "links", src_run) != NULL || w->dry_run)
        goto out;
    read_links(w, run_dir, &l);
    if (json_array_size(l.outputs) == 0 && json_array_size(l.inputs) == 0)
        goto out;
    ipathf(path, sizeof path, API "/runs/get?run_id=%s", dst);
    if (ih_json(&w->dst, "GET", path, NULL, NULL, &reply) != 200) {
        fprintf(stderr, "exptrack import: links of run %s: %s\n", src_run, w->dst.err);
        rc = -1;
        goto out;
    }
    const json_t *run = json_object_get(reply, "run");
    const char *stage =
        json_string_value(json_object_get(json_object_get(run, "info"), "lifecycle_stage"));
    int deleted = stage && strcmp(stage, "deleted") == 0;
    drop_present(l.outputs, json_object_get(json_object_get(run, "outputs"), "model_outputs"));
    if (deleted)
        rc = post(w, API "/runs/restore", json_pack("{s:s}", "run_id", dst), "restore run");
    if (rc == 0 && json_array_size(l.outputs) > 0)
        rc = post(w, API "/runs/outputs",
                  json_pack("{s:s,s:O}", "run_id", dst, "models", l.outputs), "runs/outputs");
    if (rc == 0 && json_array_size(l.inputs) > 0)
        rc = post(w, API "/runs/log-inputs",
                  json_pack("{s:s,s:[],s:O}", "run_id", dst, "datasets", "models", l.inputs),
                  "log-inputs (models)");
    if (deleted && rc == 0)
        rc = post(w, API "/runs/delete", json_pack("{s:s}", "run_id", dst), "delete run");
    if (rc == 0)
        rc = istate_put(w->state, "links", src_run, dst);
out:
    json_decref(reply);
    json_decref(l.outputs);
    json_decref(l.inputs);
    return rc;
}
