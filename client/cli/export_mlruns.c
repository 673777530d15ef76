/* The exporter: reads experiments, runs, full metric histories (paged),
 * params, tags, dataset inputs, artifacts (streamed to disk) and the
 * registry through the MLflow REST API and writes MLflow's file-store
 * layout, which `mlflow ui --backend-store-uri DIR` and `exptrack import
 * mlruns DIR` read. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "export_internal.h"
#include "import_yaml.h"

#define API "/api/2.0/mlflow"

/* mkdir -p of the directory part of path (or of path itself when whole). */
int ex_mkdirs(const char *path, int whole)
{
    char tmp[4096];
    ipathf(tmp, sizeof tmp, "%s", path);
    if (!whole) {
        char *slash = strrchr(tmp, '/');
        if (slash == NULL)
            return 0;
        *slash = '\0';
    }
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    return mkdir(tmp, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

FILE *ex_create(const char *path)
{
    if (ex_mkdirs(path, 0) != 0)
        return NULL;
    return fopen(path, "wb");
}

/* Writes value to dir/<key> (keys with '/' make subdirectories). */
int ex_write_value(const char *dir, const char *key, const char *value)
{
    char path[8192];
    if (strstr(key, "..") != NULL || key[0] == '/')
        return 0;
    ipathf(path, sizeof path, "%s/%s", dir, key);
    FILE *f = ex_create(path);
    if (f == NULL)
        return -1;
    fputs(value, f);
    return fclose(f);
}

int64_t ex_jint(const json_t *o, const char *key, int64_t fallback)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_string(v))
        return strtoll(json_string_value(v), NULL, 10);
    return fallback;
}

const char *ex_jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* POSTs body to path page after page; calls each(ctx, item) for every
 * element of the reply's list field. 0 or -1. */
int ex_paged(struct ex *x, const char *path, json_t *body, const char *field,
             int (*each)(struct ex *, const json_t *, void *), void *ctx)
{
    int rc = 0;
    for (;;) {
        json_t *reply = NULL;
        long st = ih_json(x->src, "POST", path, body, NULL, &reply);
        if (st != 200) {
            fprintf(stderr, "exptrack export: %s\n", x->src->err);
            json_decref(reply);
            rc = -1;
            break;
        }
        const json_t *arr = json_object_get(reply, field);
        for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++)
            rc = each(x, json_array_get(arr, i), ctx);
        const char *tok = json_string_value(json_object_get(reply, "next_page_token"));
        if (rc != 0 || tok == NULL || !tok[0]) {
            json_decref(reply);
            break;
        }
        json_object_set_new(body, "page_token", json_string(tok));
        json_decref(reply);
    }
    json_decref(body);
    return rc;
}

void ex_put_double(FILE *f, double v)
{
    if (isnan(v))
        fputs("nan", f);
    else if (isinf(v))
        fputs(v > 0 ? "inf" : "-inf", f);
    else
        fprintf(f, "%.17g", v);
}

double ex_jdouble(const json_t *v)
{
    if (json_is_number(v))
        return json_number_value(v);
    const char *s = json_string_value(v);
    if (s == NULL)
        return NAN;
    if (strcmp(s, "Infinity") == 0)
        return INFINITY;
    if (strcmp(s, "-Infinity") == 0)
        return -INFINITY;
    return strtod(s, NULL);
}

struct history_file {
    struct ex *x;
    FILE *f;
};

/* One page of points as the metric file's "timestamp value step" lines. */
static int write_history_page(void *ctx, const struct ipoint *pts, size_t n)
{
    struct history_file *hf = ctx;
    for (size_t i = 0; i < n; i++) {
        fprintf(hf->f, "%lld ", (long long)pts[i].timestamp);
        ex_put_double(hf->f, pts[i].value);
        fprintf(hf->f, " %lld\n", (long long)pts[i].step);
    }
    iprog_add(hf->x->prog, 0, (int64_t)n, 0, 0);
    return 0;
}

/* Every point of one metric, paged 25,000 at a time, appended to path. */
static int export_history(struct ex *x, const char *run_id, const char *key, const char *path)
{
    struct history_file hf = {x, ex_create(path)};
    if (hf.f == NULL)
        return -1;
    int rc = ex_history_pages(x->src, run_id, key, write_history_page, &hf);
    if (rc != 0)
        fprintf(stderr, "exptrack export: %s\n", x->src->err);
    if (fclose(hf.f) != 0)
        rc = -1;
    return rc;
}

/* Lists and downloads every artifact under rel ("<exp>/<run>/artifacts[/d]")
 * into local. */
int ex_artifacts(struct ex *x, const char *rel, const char *local)
{
    char esc[4096], url[4400];
    json_t *reply = NULL;
    int rc = 0;
    if (ih_escape(esc, sizeof esc, rel, 1) != 0)
        return -1;
    ipathf(url, sizeof url, "/api/2.0/mlflow-artifacts/artifacts?path=%s", esc);
    if (ih_json(x->src, "GET", url, NULL, NULL, &reply) != 200) {
        iprog_skip(x->prog, "artifacts %s: %s", rel, x->src->err);
        json_decref(reply);
        return 0;
    }
    const json_t *files = json_object_get(reply, "files");
    for (size_t i = 0; rc == 0 && i < json_array_size(files); i++) {
        const json_t *fi = json_array_get(files, i);
        const char *name = ex_jstr(fi, "path");
        char sub[4096], dst[4400];
        if (!name[0] || strchr(name, '/') || strcmp(name, "..") == 0 || strcmp(name, ".") == 0)
            continue;
        ipathf(sub, sizeof sub, "%s/%s", rel, name);
        ipathf(dst, sizeof dst, "%s/%s", local, name);
        if (json_is_true(json_object_get(fi, "is_dir"))) {
            rc = ex_artifacts(x, sub, dst);
            continue;
        }
        char tmp[4500];
        ipathf(tmp, sizeof tmp, "%s.part", dst);
        FILE *f = ex_create(tmp);
        if (f == NULL || ih_escape(esc, sizeof esc, sub, 1) != 0) {
            if (f)
                fclose(f);
            rc = -1;
            break;
        }
        ipathf(url, sizeof url, "/api/2.0/mlflow-artifacts/artifacts/%s", esc);
        long st = ih_download(x->src, url, f);
        long size = ftell(f);
        if (fclose(f) != 0 || st != 200 || rename(tmp, dst) != 0) {
            fprintf(stderr, "exptrack export: artifact %s: %s\n", sub, x->src->err);
            rc = -1;
            break;
        }
        iprog_add(x->prog, 0, 0, 1, size);
    }
    json_decref(reply);
    return rc;
}

static int export_inputs(const json_t *inputs, const char *exp_dir, const char *run_dir)
{
    for (size_t i = 0; i < json_array_size(inputs); i++) {
        const json_t *in = json_array_get(inputs, i);
        const json_t *d = json_object_get(in, "dataset");
        char id[40], path[8192];
        uint64_t h = ifnv(ifnv(1469598103934665603ULL, ex_jstr(d, "name")), ex_jstr(d, "digest"));
        ipathf(id, sizeof id, "%016llx%016llx", (unsigned long long)h,
               (unsigned long long)ifnv(h, "dataset"));
        ipathf(path, sizeof path, "%s/datasets/%s/meta.yaml", exp_dir, id);
        FILE *f = ex_create(path);
        if (f == NULL)
            return -1;
        static const char *const fields[] = {"digest", "name",   "profile",
                                             "schema", "source", "source_type"};
        for (size_t k = 0; k < sizeof fields / sizeof *fields; k++) {
            const json_t *v = json_object_get(d, fields[k]);
            yaml_put_str(f, fields[k], json_is_string(v) ? json_string_value(v) : NULL);
        }
        fclose(f);
        ipathf(path, sizeof path, "%s/inputs/%s%04zu/meta.yaml", run_dir, id, i);
        if ((f = ex_create(path)) == NULL)
            return -1;
        yaml_put_str(f, "destination_id", strrchr(run_dir, '/') + 1);
        yaml_put_str(f, "destination_type", "RUN");
        yaml_put_str(f, "source_id", id);
        yaml_put_str(f, "source_type", "DATASET");
        const json_t *tags = json_object_get(in, "tags");
        if (json_array_size(tags) == 0) {
            fputs("tags: {}\n", f);
        } else {
            fputs("tags:\n", f);
            for (size_t k = 0; k < json_array_size(tags); k++) {
                const json_t *t = json_array_get(tags, k);
                char key[600];
                ipathf(key, sizeof key, "  %s", ex_jstr(t, "key"));
                yaml_put_str(f, key, ex_jstr(t, "value"));
            }
        }
        fclose(f);
    }
    return 0;
}

static const char *status_number(const char *s)
{
    static const char *const names[] = {"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"};
    static const char *const nums[] = {"1", "2", "3", "4", "5"};
    for (int i = 0; i < 5; i++) {
        if (strcmp(s, names[i]) == 0)
            return nums[i];
    }
    return "3";
}

static int export_run(struct ex *x, const json_t *run, void *ctx)
{
    const char *exp_dir = ctx;
    const json_t *info = json_object_get(run, "info"), *data = json_object_get(run, "data");
    const char *id = ex_jstr(info, "run_id");
    char dir[4400], path[8192];
    int rc = 0;
    if (strlen(id) == 0 || strchr(id, '/') || strchr(id, '.'))
        return 0;
    ipathf(dir, sizeof dir, "%s/%s", exp_dir, id);
    ipathf(path, sizeof path, "%s/meta.yaml", dir);
    FILE *f = ex_create(path);
    if (f == NULL)
        return -1;
    ipathf(path, sizeof path, "file://%s/artifacts", dir);
    yaml_put_str(f, "artifact_uri", path);
    if (json_object_get(info, "end_time") != NULL)
        yaml_put_int(f, "end_time", ex_jint(info, "end_time", 0));
    else
        fputs("end_time: null\n", f);
    yaml_put_str(f, "entry_point_name", "");
    yaml_put_str(f, "experiment_id", ex_jstr(info, "experiment_id"));
    yaml_put_str(f, "lifecycle_stage", ex_jstr(info, "lifecycle_stage"));
    yaml_put_str(f, "run_id", id);
    yaml_put_str(f, "run_name", ex_jstr(info, "run_name"));
    yaml_put_str(f, "run_uuid", id);
    yaml_put_str(f, "source_name", "");
    yaml_put_int(f, "source_type", 4);
    yaml_put_str(f, "source_version", "");
    yaml_put_int(f, "start_time", ex_jint(info, "start_time", 0));
    fprintf(f, "status: %s\n", status_number(ex_jstr(info, "status")));
    fputs("tags: []\n", f);
    yaml_put_str(f, "user_id", ex_jstr(info, "user_id"));
    if (fclose(f) != 0)
        return -1;
    ex_mkdirs(dir, 1);
    const char *kinds[] = {"params", "tags"};
    for (int k = 0; k < 2 && rc == 0; k++) {
        const json_t *arr = json_object_get(data, kinds[k]);
        ipathf(path, sizeof path, "%s/%s", dir, kinds[k]);
        ex_mkdirs(path, 1);
        for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++) {
            const json_t *kv = json_array_get(arr, i);
            rc = ex_write_value(path, ex_jstr(kv, "key"), ex_jstr(kv, "value"));
        }
    }
    const json_t *ms = json_object_get(data, "metrics");
    ipathf(path, sizeof path, "%s/metrics", dir);
    ex_mkdirs(path, 1);
    for (size_t i = 0; rc == 0 && i < json_array_size(ms); i++) {
        const char *key = ex_jstr(json_array_get(ms, i), "key");
        char file[8500];
        if (strstr(key, "..") || key[0] == '/')
            continue;
        ipathf(file, sizeof file, "%s/%s", path, key);
        rc = export_history(x, id, key, file);
    }
    if (rc == 0)
        rc = export_model_links(run, dir);
    if (rc == 0)
        rc = export_inputs(json_object_get(json_object_get(run, "inputs"), "dataset_inputs"),
                           exp_dir, dir);
    ipathf(path, sizeof path, "%s/artifacts", dir);
    ex_mkdirs(path, 1);
    const char *uri = ex_jstr(info, "artifact_uri");
    if (rc == 0 && strncmp(uri, "mlflow-artifacts:", 17) == 0) {
        const char *rel = uri + 17;
        if (strncmp(rel, "//", 2) == 0)
            rel = strchr(rel + 2, '/') ?: "";
        while (*rel == '/')
            rel++;
        rc = ex_artifacts(x, rel, path);
    } else if (rc == 0 && uri[0]) {
        iprog_skip(x->prog, "artifacts of run %s: %s is not an mlflow-artifacts: URI", id, uri);
    }
    iprog_add(x->prog, 1, 0, 0, 0);
    return rc;
}

/* One page of runs shared by the --jobs threads. */
struct page {
    struct ex *x;
    const json_t *runs;
    const char *exp_dir;
    size_t next;
    int failed;
    pthread_mutex_t mu;
};

static void *page_worker(void *arg)
{
    struct page *p = arg;
    struct ih src;
    struct ex x = *p->x;
    if (ih_open(&src, p->x->src->base, p->x->src->user, p->x->src->pass, p->x->src->token) != 0) {
        pthread_mutex_lock(&p->mu);
        p->failed = 1;
        pthread_mutex_unlock(&p->mu);
        return NULL;
    }
    x.src = &src;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t i = p->failed ? json_array_size(p->runs) : p->next++;
        pthread_mutex_unlock(&p->mu);
        if (i >= json_array_size(p->runs))
            break;
        if (export_run(&x, json_array_get(p->runs, i), (void *)p->exp_dir) != 0) {
            pthread_mutex_lock(&p->mu);
            p->failed = 1;
            pthread_mutex_unlock(&p->mu);
        }
    }
    ih_close(&src);
    return NULL;
}

/* Exports the queued runs with --jobs threads, each with its own
 * connection, and empties the queue. 0 or -1. */
static int export_flush(struct ex *x)
{
    size_t n = json_array_size(x->pending);
    pthread_t th[64];
    int started = 0, jobs = x->o->jobs > 64 ? 64 : x->o->jobs;
    if (n == 0)
        return 0;
    struct page p = {.x = x, .runs = x->pending, .exp_dir = x->pending_dir};
    pthread_mutex_init(&p.mu, NULL);
    for (int i = 0; i < jobs && (size_t)i < n; i++)
        started += pthread_create(&th[started], NULL, page_worker, &p) == 0;
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&p.mu);
    json_array_clear(x->pending);
    return p.failed || started == 0 ? -1 : 0;
}

/* Each run of a search page: exported at once with one job, else queued
 * and exported in parallel a page (1,000 runs) at a time. */
static int export_page(struct ex *x, const json_t *run, void *ctx)
{
    if (x->o->jobs <= 1)
        return export_run(x, run, ctx);
    json_array_append(x->pending, (json_t *)run);
    x->pending_dir = ctx;
    return json_array_size(x->pending) >= 1000 ? export_flush(x) : 0;
}

static int wanted(const struct export_opts *o, const char *id, const char *name)
{
    if (o->nexperiments == 0)
        return 1;
    for (int i = 0; i < o->nexperiments; i++) {
        if (strcmp(o->experiments[i], id) == 0 || strcmp(o->experiments[i], name) == 0)
            return 1;
    }
    return 0;
}

static int export_experiment(struct ex *x, const json_t *e, void *ctx)
{
    (void)ctx;
    const char *id = ex_jstr(e, "experiment_id"), *stage = ex_jstr(e, "lifecycle_stage");
    char dir[4400], path[8192];
    if (!id[0] || strchr(id, '/') || strchr(id, '.') || !wanted(x->o, id, ex_jstr(e, "name")))
        return 0;
    int deleted = strcmp(stage, "deleted") == 0;
    ipathf(dir, sizeof dir, "%s%s/%s", x->root, deleted ? "/.trash" : "", id);
    ipathf(path, sizeof path, "%s/meta.yaml", dir);
    FILE *f = ex_create(path);
    if (f == NULL)
        return -1;
    ipathf(path, sizeof path, "file://%s", dir);
    yaml_put_str(f, "artifact_location", path);
    yaml_put_int(f, "creation_time", ex_jint(e, "creation_time", 0));
    yaml_put_str(f, "experiment_id", id);
    yaml_put_int(f, "last_update_time", ex_jint(e, "last_update_time", 0));
    yaml_put_str(f, "lifecycle_stage", stage);
    yaml_put_str(f, "name", ex_jstr(e, "name"));
    if (fclose(f) != 0)
        return -1;
    const json_t *tags = json_object_get(e, "tags");
    ipathf(path, sizeof path, "%s/tags", dir);
    ex_mkdirs(path, 1);
    for (size_t i = 0; i < json_array_size(tags); i++) {
        const json_t *t = json_array_get(tags, i);
        if (ex_write_value(path, ex_jstr(t, "key"), ex_jstr(t, "value")) != 0)
            return -1;
    }
    pthread_mutex_lock(&x->prog->mu);
    x->prog->experiments++;
    pthread_mutex_unlock(&x->prog->mu);
    json_t *body = json_pack("{s:[s],s:s,s:i}", "experiment_ids", id, "run_view_type",
                             x->o->include_deleted ? "ALL" : "ACTIVE_ONLY", "max_results", 1000);
    int rc = ex_paged(x, API "/runs/search", body, "runs", export_page, dir);
    if (rc == 0)
        rc = export_flush(x);
    json_array_clear(x->pending);
    return rc == 0 ? export_logged_models(x, id, dir) : rc;
}

/* ---- registry ---- */

/* GETs base (a URL with a query) page after page, calling each for every
 * element of field; a 404 (no registry) ends quietly. 0 or -1. */
static int paged_get(struct ex *x, const char *base, const char *field,
                     int (*each)(struct ex *, const json_t *, void *), void *ctx)
{
    char *token = NULL;
    int rc = 0;
    do {
        char url[2048], tesc[1024] = "";
        if (token)
            ih_escape(tesc, sizeof tesc, token, 0);
        ipathf(url, sizeof url, "%s%s%s", base, token ? "&page_token=" : "", tesc);
        free(token);
        token = NULL;
        json_t *reply = NULL;
        long st = ih_json(x->src, "GET", url, NULL, NULL, &reply);
        if (st == 404) {
            json_decref(reply);
            break; /* a server without a registry */
        }
        if (st != 200) {
            fprintf(stderr, "exptrack export: %s\n", x->src->err);
            json_decref(reply);
            return -1;
        }
        const json_t *arr = json_object_get(reply, field);
        for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++)
            rc = each(x, json_array_get(arr, i), ctx);
        const char *t = json_string_value(json_object_get(reply, "next_page_token"));
        if (rc == 0 && t && t[0])
            token = strdup(t);
        json_decref(reply);
    } while (token != NULL);
    return rc;
}

static int export_version(struct ex *x, const json_t *v, void *ctx)
{
    const char *mdir = ctx;
    char dir[4400], path[4600];
    ipathf(dir, sizeof dir, "%s/version-%s", mdir, ex_jstr(v, "version"));
    ipathf(path, sizeof path, "%s/meta.yaml", dir);
    FILE *f = ex_create(path);
    if (f == NULL)
        return -1;
    yaml_put_int(f, "creation_timestamp", ex_jint(v, "creation_timestamp", 0));
    yaml_put_str(f, "current_stage", ex_jstr(v, "current_stage"));
    yaml_put_str(f, "description", ex_jstr(v, "description"));
    yaml_put_int(f, "last_updated_timestamp", ex_jint(v, "last_updated_timestamp", 0));
    yaml_put_str(f, "name", ex_jstr(v, "name"));
    yaml_put_str(f, "run_id", ex_jstr(v, "run_id"));
    yaml_put_str(f, "run_link", ex_jstr(v, "run_link"));
    yaml_put_str(f, "source", ex_jstr(v, "source"));
    yaml_put_str(f, "status", ex_jstr(v, "status"));
    yaml_put_str(f, "status_message", ex_jstr(v, "status_message"));
    yaml_put_str(f, "user_id", ex_jstr(v, "user_id"));
    yaml_put_int(f, "version", ex_jint(v, "version", 0));
    if (ex_jstr(v, "model_id")[0]) /* MLflow 3: the version of a logged model */
        yaml_put_str(f, "model_id", ex_jstr(v, "model_id"));
    if (fclose(f) != 0)
        return -1;
    const json_t *tags = json_object_get(v, "tags");
    ipathf(path, sizeof path, "%s/tags", dir);
    for (size_t i = 0; i < json_array_size(tags); i++) {
        const json_t *t = json_array_get(tags, i);
        if (ex_write_value(path, ex_jstr(t, "key"), ex_jstr(t, "value")) != 0)
            return -1;
    }
    (void)x;
    return 0;
}

static int export_model(struct ex *x, const json_t *m, void *ctx)
{
    (void)ctx;
    const char *name = ex_jstr(m, "name");
    char dir[4400], path[4600], filter[1200];
    if (!name[0] || strchr(name, '/') || strcmp(name, "..") == 0 || strcmp(name, ".") == 0 ||
        strchr(name, '\''))
        return 0;
    ipathf(dir, sizeof dir, "%s/models/%s", x->root, name);
    ipathf(path, sizeof path, "%s/meta.yaml", dir);
    FILE *f = ex_create(path);
    if (f == NULL)
        return -1;
    yaml_put_int(f, "creation_timestamp", ex_jint(m, "creation_timestamp", 0));
    yaml_put_str(f, "description", ex_jstr(m, "description"));
    yaml_put_int(f, "last_updated_timestamp", ex_jint(m, "last_updated_timestamp", 0));
    yaml_put_str(f, "name", name);
    if (fclose(f) != 0)
        return -1;
    const json_t *tags = json_object_get(m, "tags"), *aliases = json_object_get(m, "aliases");
    ipathf(path, sizeof path, "%s/tags", dir);
    for (size_t i = 0; i < json_array_size(tags); i++) {
        const json_t *t = json_array_get(tags, i);
        if (ex_write_value(path, ex_jstr(t, "key"), ex_jstr(t, "value")) != 0)
            return -1;
    }
    ipathf(path, sizeof path, "%s/aliases", dir);
    for (size_t i = 0; i < json_array_size(aliases); i++) {
        const json_t *a = json_array_get(aliases, i);
        if (ex_write_value(path, ex_jstr(a, "alias"), ex_jstr(a, "version")) != 0)
            return -1;
    }
    char esc[4000], url[4200];
    ipathf(filter, sizeof filter, "name='%s'", name);
    if (ih_escape(esc, sizeof esc, filter, 0) != 0)
        return 0;
    ipathf(url, sizeof url, API "/model-versions/search?max_results=1000&filter=%s", esc);
    return paged_get(x, url, "model_versions", export_version, dir);
}

int export_registry(struct ex *x)
{
    /* Search results carry a model's aliases; its versions come from a
     * search of their own (export_model). */
    return paged_get(x, API "/registered-models/search?max_results=1000", "registered_models",
                     export_model, NULL);
}

int export_mlruns(struct ih *src, const struct export_opts *o)
{
    struct iprog prog;
    struct ex x = {.src = src, .o = o, .prog = &prog, .pending = json_array()};
    iprog_init(&prog);
    if (ex_mkdirs(o->dir, 1) != 0 || realpath(o->dir, x.root) == NULL) {
        fprintf(stderr, "exptrack export: cannot create %s: %s\n", o->dir, strerror(errno));
        json_decref(x.pending);
        return 1;
    }
    json_t *body = json_pack("{s:s,s:i}", "view_type", o->include_deleted ? "ALL" : "ACTIVE_ONLY",
                             "max_results", 1000);
    int rc = ex_paged(&x, API "/experiments/search", body, "experiments", export_experiment, NULL);
    if (rc == 0)
        rc = export_registry(&x);
    iprog_summary(&prog, "export", 0, o->json);
    json_decref(x.pending);
    return rc == 0 ? 0 : 1;
}
