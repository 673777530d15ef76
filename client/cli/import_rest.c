/* `exptrack import mlflow --from URL`, streamed from server to server: the
 * source's experiments and runs are read through MLflow's public REST API
 * and each run is written to exptrackd as it is read (params, tags, every
 * metric point page by page, dataset inputs, artifacts one file at a time
 * through a temporary file), by --jobs threads with a connection to each
 * side. The writer (import_writer.c) gives the resumability: the state file
 * skips finished runs, points go in batches with deterministic
 * Idempotency-Keys, artifacts are compared by hash before an upload.
 * The small rest (logged models, the registry, run-to-model links) is
 * staged in the work directory in the mlruns layout and imported by the
 * mlruns code, so both sources share it. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export_internal.h"
#include "import_mlruns.h"

#define API "/api/2.0/mlflow"
#define PAGE_RUNS 1000

struct rest {
    const struct import_opts *o;
    struct ex x; /* the source (main thread) and the staging folder */
    struct export_opts eo;
    struct istate *state;
    struct iprog *prog;
    FILE *mapping;
    char stage[4096];
    /* the page of runs the workers share */
    json_t *runs;
    size_t next;
    const char *dst_exp;
    pthread_mutex_t mu;
    int failed;
};

static const char *const status_names[5] = {"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"};

static int status_number(const char *s)
{
    for (int i = 0; i < 5; i++) {
        if (strcmp(s, status_names[i]) == 0)
            return i + 1;
    }
    return 3;
}

/* [{key, value}] as ikv entries borrowing the JSON strings (*n of them). */
static struct ikv *kv_of(const json_t *arr, size_t *n)
{
    struct ikv *kv = calloc(json_array_size(arr) + 1, sizeof *kv);
    *n = 0;
    for (size_t i = 0; kv != NULL && i < json_array_size(arr); i++) {
        const json_t *e = json_array_get(arr, i);
        kv[*n].key = (char *)ex_jstr(e, "key");
        kv[*n].value = (char *)ex_jstr(e, "value");
        (*n)++;
    }
    return kv;
}

struct history_copy {
    struct iw *w;
    const char *key;
    int write_failed;
};

/* One page of points handed to the writer. */
static int copy_history_page(void *ctx, const struct ipoint *pts, size_t n)
{
    struct history_copy *hc = ctx;
    for (size_t i = 0; i < n; i++) {
        if (iw_point(hc->w, hc->key, pts[i].value, pts[i].timestamp, pts[i].step) != 0) {
            hc->write_failed = 1;
            return -1;
        }
    }
    return 0;
}

/* Every point of one metric, read 25,000 at a time, handed to the writer. */
static int copy_history(struct ih *src, struct iw *w, const char *run_id, const char *key)
{
    struct history_copy hc = {w, key, 0};
    int rc = ex_history_pages(src, run_id, key, copy_history_page, &hc);
    if (rc != 0 && !hc.write_failed)
        fprintf(stderr, "exptrack import: history %s of run %s: %s\n", key, run_id, src->err);
    return rc;
}

/* Copies every file under the source's proxy path rel (below the run's
 * artifact root, sub "" or "dir/") through the temporary file tmp. */
static int copy_artifacts(struct ih *src, struct iw *w, const char *rel, const char *sub,
                          const char *tmp)
{
    char esc[4096], url[4400];
    json_t *reply = NULL;
    int rc = 0;
    if (ih_escape(esc, sizeof esc, rel, 1) != 0)
        return 0;
    ipathf(url, sizeof url, "/api/2.0/mlflow-artifacts/artifacts?path=%s", esc);
    if (ih_json(src, "GET", url, NULL, NULL, &reply) != 200) {
        iprog_skip(w->prog, "artifacts %s: %s", rel, src->err);
        json_decref(reply);
        return 0;
    }
    const json_t *files = json_object_get(reply, "files");
    for (size_t i = 0; rc == 0 && i < json_array_size(files); i++) {
        const json_t *fi = json_array_get(files, i);
        const char *name = ex_jstr(fi, "path");
        char deeper[4096], below[2100];
        if (!name[0] || strchr(name, '/') || strcmp(name, "..") == 0 || strcmp(name, ".") == 0 ||
            ipathf(deeper, sizeof deeper, "%s/%s", rel, name) != 0 ||
            ipathf(below, sizeof below, "%s%s", sub, name) != 0)
            continue;
        if (json_is_true(json_object_get(fi, "is_dir"))) {
            char next[2200];
            ipathf(next, sizeof next, "%s/", below);
            rc = copy_artifacts(src, w, deeper, next, tmp);
            continue;
        }
        if (w->dry_run) {
            iprog_add(w->prog, 0, 0, 1, ex_jint(fi, "file_size", 0));
            continue;
        }
        FILE *f = fopen(tmp, "wb");
        if (f == NULL || ih_escape(esc, sizeof esc, deeper, 1) != 0) {
            if (f)
                fclose(f);
            rc = -1;
            break;
        }
        ipathf(url, sizeof url, "/api/2.0/mlflow-artifacts/artifacts/%s", esc);
        long st = ih_download(src, url, f);
        if (fclose(f) != 0 || st != 200) {
            fprintf(stderr, "exptrack import: artifact %s: %s\n", deeper, src->err);
            rc = -1;
            break;
        }
        rc = iw_artifact(w, tmp, below);
        unlink(tmp);
    }
    json_decref(reply);
    return rc;
}

/* The proxy path of an mlflow-artifacts: URI, or NULL for other schemes. */
static const char *proxy_path(const char *uri)
{
    if (strncmp(uri, "mlflow-artifacts:", 17) != 0)
        return NULL;
    const char *rel = uri + 17;
    if (strncmp(rel, "//", 2) == 0)
        rel = strchr(rel + 2, '/') ?: "";
    while (*rel == '/')
        rel++;
    return rel;
}

static int copy_run(struct rest *r, struct ih *src, struct iw *w, const json_t *run, int worker)
{
    const json_t *info = json_object_get(run, "info"), *data = json_object_get(run, "data");
    const json_t *inputs = json_object_get(run, "inputs");
    const char *id = ex_jstr(info, "run_id");
    char path[4400];
    if (!id[0] || strchr(id, '/') || strchr(id, '.'))
        return 0;
    /* links to logged models are staged, imported after the models */
    if (json_array_size(json_object_get(json_object_get(run, "outputs"), "model_outputs")) +
            json_array_size(json_object_get(inputs, "model_inputs")) >
        0) {
        ipathf(path, sizeof path, "%s/links/%s", r->stage, id);
        if (export_model_links(run, path) != 0)
            return -1;
    }
    struct irun ir = {
        .run_id = (char *)id,
        .experiment_id = (char *)r->dst_exp,
        .name = (char *)ex_jstr(info, "run_name"),
        .user = (char *)ex_jstr(info, "user_id"),
        .lifecycle = (char *)(ex_jstr(info, "lifecycle_stage")[0] ? ex_jstr(info, "lifecycle_stage")
                                                                  : "active"),
        .status = status_number(ex_jstr(info, "status")),
        .start_time = ex_jint(info, "start_time", 0),
        .end_time = ex_jint(info, "end_time", -1),
    };
    int rc = iw_run_begin(w, &ir, r->dst_exp);
    if (rc != 0)
        return rc == 1 ? 0 : -1;
    size_t np, nt;
    struct ikv *params = kv_of(json_object_get(data, "params"), &np);
    struct ikv *tags = kv_of(json_object_get(data, "tags"), &nt);
    rc = params && tags ? iw_params(w, params, np) : -1;
    if (rc == 0)
        rc = iw_tags(w, tags, nt);
    free(params);
    free(tags);
    const json_t *ms = json_object_get(data, "metrics");
    for (size_t i = 0; rc == 0 && i < json_array_size(ms); i++)
        rc = copy_history(src, w, id, ex_jstr(json_array_get(ms, i), "key"));
    const json_t *ds = json_object_get(inputs, "dataset_inputs");
    for (size_t i = 0; rc == 0 && i < json_array_size(ds); i++) {
        const json_t *in = json_array_get(ds, i);
        struct ikv *t = kv_of(json_object_get(in, "tags"), &nt);
        rc = t ? iw_input(w, json_object_get(in, "dataset"), t, nt) : -1;
        free(t);
    }
    const char *rel = proxy_path(ex_jstr(info, "artifact_uri"));
    ipathf(path, sizeof path, "%s/part-%d", r->stage, worker);
    if (rc == 0 && rel != NULL)
        rc = copy_artifacts(src, w, rel, "", path);
    else if (rc == 0 && ex_jstr(info, "artifact_uri")[0])
        iprog_skip(r->prog, "artifacts of run %s: %s is not an mlflow-artifacts: URI", id,
                   ex_jstr(info, "artifact_uri"));
    return rc == 0 ? iw_run_end(w, &ir) : rc;
}

struct worker_arg {
    struct rest *r;
    int index;
};

static void *run_worker(void *arg)
{
    struct worker_arg *a = arg;
    struct rest *r = a->r;
    struct ih src;
    struct iw w;
    if (ih_open(&src, r->x.src->base, r->x.src->user, r->x.src->pass, r->x.src->token) != 0)
        goto fail;
    if (iw_open(&w, r->o->url, r->state, r->prog, r->mapping, r->o->dry_run) != 0) {
        ih_close(&src);
        goto fail;
    }
    for (;;) {
        pthread_mutex_lock(&r->mu);
        size_t i = r->failed ? json_array_size(r->runs) : r->next++;
        pthread_mutex_unlock(&r->mu);
        if (i >= json_array_size(r->runs))
            break;
        if (copy_run(r, &src, &w, json_array_get(r->runs, i), a->index) != 0) {
            pthread_mutex_lock(&r->prog->mu);
            r->prog->failed++;
            pthread_mutex_unlock(&r->prog->mu);
            pthread_mutex_lock(&r->mu);
            r->failed = 1;
            pthread_mutex_unlock(&r->mu);
        }
    }
    iw_close(&w);
    ih_close(&src);
    return NULL;
fail:
    pthread_mutex_lock(&r->mu);
    r->failed = 1;
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* Copies the queued runs with --jobs threads and empties the queue. */
static int flush_runs(struct rest *r)
{
    size_t n = json_array_size(r->runs);
    pthread_t th[64];
    struct worker_arg args[64];
    int started = 0;
    if (n == 0)
        return r->failed ? -1 : 0;
    r->next = 0;
    for (int i = 0; i < r->o->jobs && i < 64 && (size_t)i < n; i++) {
        args[started] = (struct worker_arg){r, i};
        started += pthread_create(&th[started], NULL, run_worker, &args[started]) == 0;
    }
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    json_array_clear(r->runs);
    return r->failed || started == 0 ? -1 : 0;
}

static int queue_run(struct ex *x, const json_t *run, void *ctx)
{
    struct rest *r = ctx;
    (void)x;
    pthread_mutex_lock(&r->prog->mu);
    r->prog->runs_total++; /* the runs listed so far: MLflow has no count */
    pthread_mutex_unlock(&r->prog->mu);
    json_array_append(r->runs, (json_t *)run);
    return json_array_size(r->runs) >= PAGE_RUNS ? flush_runs(r) : 0;
}

/* ---- experiments ---- */

struct exps {
    struct iexperiment *e;
    char (*dst)[32];
    size_t n;
};

static int collect_experiment(struct ex *x, const json_t *j, void *ctx)
{
    struct exps *l = ctx;
    const char *id = ex_jstr(j, "experiment_id"), *name = ex_jstr(j, "name");
    int want = x->o->nexperiments == 0;
    for (int i = 0; i < x->o->nexperiments; i++)
        want |= strcmp(x->o->experiments[i], id) == 0 || strcmp(x->o->experiments[i], name) == 0;
    if (!want || !id[0])
        return 0;
    struct iexperiment *e = realloc(l->e, (l->n + 1) * sizeof *e);
    if (e == NULL)
        return -1;
    l->e = e;
    char(*dst)[32] = realloc(l->dst, (l->n + 1) * sizeof *dst);
    if (dst == NULL)
        return -1;
    l->dst = dst;
    struct iexperiment *n = &l->e[l->n++];
    const json_t *tags = json_object_get(j, "tags");
    memset(n, 0, sizeof *n);
    n->id = strdup(id);
    n->name = strdup(name);
    n->lifecycle =
        strdup(strcmp(ex_jstr(j, "lifecycle_stage"), "deleted") == 0 ? "deleted" : "active");
    n->creation_time = ex_jint(j, "creation_time", 0);
    n->last_update_time = ex_jint(j, "last_update_time", n->creation_time);
    n->tags = calloc(json_array_size(tags) + 1, sizeof *n->tags);
    for (size_t i = 0; n->tags && i < json_array_size(tags); i++) {
        n->tags[i].key = strdup(ex_jstr(json_array_get(tags, i), "key"));
        n->tags[i].value = strdup(ex_jstr(json_array_get(tags, i), "value"));
        n->ntags++;
    }
    return 0;
}

static void free_exps(struct exps *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->e[i].id);
        free(l->e[i].name);
        free(l->e[i].lifecycle);
        ikv_free(&l->e[i].tags, &l->e[i].ntags);
    }
    free(l->e);
    free(l->dst);
}

/* An experiment's runs (streamed), then its logged models (staged). */
static int copy_experiment(struct rest *r, struct iw *w, const struct iexperiment *e,
                           const char *dst)
{
    char dir[4400];
    json_t *body =
        json_pack("{s:[s],s:s,s:i}", "experiment_ids", e->id, "run_view_type",
                  r->o->include_deleted ? "ALL" : "ACTIVE_ONLY", "max_results", PAGE_RUNS);
    r->dst_exp = dst;
    int rc = ex_paged(&r->x, API "/runs/search", body, "runs", queue_run, r);
    if (rc == 0)
        rc = flush_runs(r);
    json_array_clear(r->runs);
    ipathf(dir, sizeof dir, "%s/%s", r->stage, e->id);
    if (rc == 0)
        rc = export_logged_models(&r->x, e->id, dir);
    if (rc == 0)
        rc = import_mlruns_logged_models(w, dir, dst, r->o->include_deleted);
    return rc;
}

/* The staged run links (stage/links/<run id>/), after the models. */
static int link_runs(struct rest *r, struct iw *w)
{
    char dir[4200];
    struct dirent **ents;
    int rc = 0;
    ipathf(dir, sizeof dir, "%s/links", r->stage);
    int n = scandir(dir, &ents, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        char run_dir[4400];
        if (rc == 0 && ents[i]->d_name[0] != '.' &&
            ipathf(run_dir, sizeof run_dir, "%s/%s", dir, ents[i]->d_name) == 0)
            rc = import_mlruns_model_links(w, run_dir, ents[i]->d_name);
        free(ents[i]);
    }
    if (n >= 0)
        free(ents);
    return rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

int import_rest(const struct import_opts *o, struct ih *src, const char *work)
{
    struct rest r = {.o = o, .runs = json_array()};
    struct iprog prog, stage_prog;
    struct exps exps = {0};
    struct iw w;
    int rc = 1, made_stage = work == NULL, opened = 0;

    iprog_init(&prog);
    pthread_mutex_init(&r.mu, NULL);
    r.prog = &prog;
    r.eo = (struct export_opts){.include_deleted = o->include_deleted, .jobs = 1};
    memcpy(r.eo.experiments, o->experiments, sizeof r.eo.experiments);
    r.eo.nexperiments = o->nexperiments;
    ipathf(r.stage, sizeof r.stage, "%s", work ? work : "/tmp/exptrack-import-XXXXXX");
    if ((work == NULL && mkdtemp(r.stage) == NULL) || (work && ex_mkdirs(work, 1) != 0)) {
        fprintf(stderr, "exptrack import: work directory %s: %s\n", r.stage, strerror(errno));
        made_stage = 0;
        goto out;
    }
    /* The staging export counts in a progress of its own (never printed),
     * so files and models are counted once, by the import. */
    iprog_init(&stage_prog);
    stage_prog.last_print_ms = INT64_MAX / 2;
    r.x = (struct ex){.src = src, .o = &r.eo, .prog = &stage_prog, .pending = NULL};
    ipathf(r.x.root, sizeof r.x.root, "%s", r.stage);
    r.state = istate_open(o->dry_run ? NULL : o->state_path);
    if (r.state == NULL)
        goto out;
    r.x.done = r.state;
    if (o->mapping_path != NULL && !o->dry_run &&
        (r.mapping = fopen(o->mapping_path, "a")) == NULL) {
        perror(o->mapping_path);
        goto out;
    }
    if (iw_open(&w, o->url, r.state, &prog, r.mapping, o->dry_run) != 0)
        goto out;
    opened = 1;
    json_t *body = json_pack("{s:s,s:i}", "view_type", o->include_deleted ? "ALL" : "ACTIVE_ONLY",
                             "max_results", 1000);
    int failed = ex_paged(&r.x, API "/experiments/search", body, "experiments", collect_experiment,
                          &exps) != 0;
    for (size_t i = 0; i < exps.n && !failed; i++)
        failed = iw_experiment(&w, &exps.e[i], exps.dst[i]) != 0;
    for (size_t i = 0; i < exps.n && !failed; i++)
        failed = copy_experiment(&r, &w, &exps.e[i], exps.dst[i]) != 0;
    if (!failed)
        failed = link_runs(&r, &w) != 0;
    if (!failed && (failed = export_registry(&r.x) != 0) == 0) {
        struct import_opts staged = *o;
        staged.dir = r.stage;
        failed = import_mlruns_registry(&staged, &w) != 0;
    }
    for (size_t i = 0; i < exps.n && !failed; i++)
        failed = iw_experiment_finish(&w, &exps.e[i], exps.dst[i]) != 0;
    for (char *line = stage_prog.skips, *end; *line; line = end + 1) {
        if ((end = strchr(line, '\n')) == NULL)
            break;
        iprog_skip(&prog, "%.*s", (int)(end - line), line);
    }
    iprog_summary(&prog, "import", o->dry_run, o->json);
    rc = failed || prog.failed ? 1 : 0;
out:
    if (opened)
        iw_close(&w);
    if (made_stage)
        nftw(r.stage, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free_exps(&exps);
    json_decref(r.runs);
    if (r.mapping)
        fclose(r.mapping);
    istate_close(r.state);
    pthread_mutex_destroy(&r.mu);
    return rc;
}
