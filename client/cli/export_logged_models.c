/* MLflow 3 logged models in the mlruns layout that MLflow's file store
 * reads (import_logged_models.c reads it back):
 *   <exp>/models/<model id>/meta.yaml, params/, tags/, artifacts/
 *   <exp>/models/<model id>/metrics/<key>: "timestamp value step run_id
 *     [dataset_name dataset_digest]" (run_id "None" when the row had none)
 *   <run>/outputs/<model id>/meta.yaml and <run>/inputs/<id>/meta.yaml for
 *     the run's links to models. */
#include <string.h>

#include "export_internal.h"
#include "import_yaml.h"

#define API "/api/2.0/mlflow"

static int safe_name(const char *s)
{
    return s[0] && strchr(s, '/') == NULL && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static int status_number(const char *s)
{
    static const char *const names[] = {"LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY",
                                        "LOGGED_MODEL_UPLOAD_FAILED"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(s, names[i]) == 0)
            return i + 1;
    }
    return 0;
}

/* A token of a metric line: no spaces allowed, "" written as fallback. */
static const char *token(const char *s, const char *fallback)
{
    return s[0] && strpbrk(s, " \t\r\n") == NULL ? s : fallback;
}

/* Appends every metric row to metrics/<key>; a key's file is truncated the
 * first time it is seen (seen: a JSON object used as a set). */
static int write_metrics(const json_t *metrics, const char *dir)
{
    json_t *seen = json_object();
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(metrics); i++) {
        const json_t *m = json_array_get(metrics, i);
        const char *key = ex_jstr(m, "key");
        char path[8500];
        if (!key[0] || strstr(key, "..") || key[0] == '/')
            continue;
        ipathf(path, sizeof path, "%s/metrics/%s", dir, key);
        int first = json_object_get(seen, key) == NULL;
        json_object_set_new(seen, key, json_true());
        FILE *f = first ? ex_create(path) : fopen(path, "a");
        if (f == NULL) {
            rc = -1;
            break;
        }
        fprintf(f, "%lld ", (long long)ex_jint(m, "timestamp", 0));
        ex_put_double(f, ex_jdouble(json_object_get(m, "value")));
        fprintf(f, " %lld %s", (long long)ex_jint(m, "step", 0),
                token(ex_jstr(m, "run_id"), "None"));
        const char *dn = token(ex_jstr(m, "dataset_name"), ""),
                   *dd = token(ex_jstr(m, "dataset_digest"), "");
        if (dn[0] && dd[0])
            fprintf(f, " %s %s", dn, dd);
        fputc('\n', f);
        rc = fclose(f) == 0 ? 0 : -1;
    }
    json_decref(seen);
    return rc;
}

static int write_kv(const json_t *arr, const char *dir)
{
    ex_mkdirs(dir, 1);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *kv = json_array_get(arr, i);
        if (ex_write_value(dir, ex_jstr(kv, "key"), ex_jstr(kv, "value")) != 0)
            return -1;
    }
    return 0;
}

static int export_model(struct ex *x, const json_t *model, void *ctx)
{
    const char *exp_dir = ctx;
    const json_t *info = json_object_get(model, "info"), *data = json_object_get(model, "data");
    const char *id = ex_jstr(info, "model_id");
    char dir[4400], path[8192];
    if (!safe_name(id) || (x->done != NULL && istate_get(x->done, "lm", id) != NULL))
        return 0;
    ipathf(dir, sizeof dir, "%s/models/%s", exp_dir, id);
    ipathf(path, sizeof path, "%s/meta.yaml", dir);
    FILE *f = ex_create(path);
    if (f == NULL)
        return -1;
    ipathf(path, sizeof path, "file://%s/artifacts", dir);
    yaml_put_str(f, "artifact_location", path);
    yaml_put_int(f, "creation_timestamp", ex_jint(info, "creation_timestamp_ms", 0));
    yaml_put_str(f, "experiment_id", ex_jstr(info, "experiment_id"));
    yaml_put_int(f, "last_updated_timestamp", ex_jint(info, "last_updated_timestamp_ms", 0));
    yaml_put_str(f, "lifecycle_stage", "active");
    yaml_put_str(f, "model_id", id);
    yaml_put_str(f, "model_type", ex_jstr(info, "model_type"));
    yaml_put_str(f, "name", ex_jstr(info, "name"));
    yaml_put_str(f, "source_run_id", ex_jstr(info, "source_run_id"));
    yaml_put_int(f, "status", status_number(ex_jstr(info, "status")));
    fputs("status_message: null\n", f);
    if (fclose(f) != 0)
        return -1;
    ipathf(path, sizeof path, "%s/params", dir);
    if (write_kv(json_object_get(data, "params"), path) != 0)
        return -1;
    ipathf(path, sizeof path, "%s/tags", dir);
    if (write_kv(json_object_get(info, "tags"), path) != 0)
        return -1;
    ipathf(path, sizeof path, "%s/metrics", dir);
    ex_mkdirs(path, 1);
    if (write_metrics(json_object_get(data, "metrics"), dir) != 0)
        return -1;
    ipathf(path, sizeof path, "%s/artifacts", dir);
    ex_mkdirs(path, 1);
    const char *uri = ex_jstr(info, "artifact_uri");
    pthread_mutex_lock(&x->prog->mu);
    x->prog->logged_models++;
    pthread_mutex_unlock(&x->prog->mu);
    if (strncmp(uri, "mlflow-artifacts:", 17) != 0) {
        if (uri[0])
            iprog_skip(x->prog, "artifacts of logged model %s: %s is not an mlflow-artifacts: URI",
                       id, uri);
        return 0;
    }
    const char *rel = uri + 17;
    if (strncmp(rel, "//", 2) == 0)
        rel = strchr(rel + 2, '/') ?: "";
    while (*rel == '/')
        rel++;
    return ex_artifacts(x, rel, path);
}

int export_logged_models(struct ex *x, const char *exp_id, const char *exp_dir)
{
    json_t *body = json_pack("{s:[s],s:i}", "experiment_ids", exp_id, "max_results", 100);
    return ex_paged(x, API "/logged-models/search", body, "models", export_model, (void *)exp_dir);
}

int export_model_links(const json_t *run, const char *run_dir)
{
    const json_t *outs = json_object_get(json_object_get(run, "outputs"), "model_outputs");
    const json_t *ins = json_object_get(json_object_get(run, "inputs"), "model_inputs");
    const char *run_id = strrchr(run_dir, '/') + 1;
    char path[8192];
    for (size_t i = 0; i < json_array_size(outs); i++) {
        const json_t *o = json_array_get(outs, i);
        const char *id = ex_jstr(o, "model_id");
        if (!safe_name(id))
            continue;
        ipathf(path, sizeof path, "%s/outputs/%s/meta.yaml", run_dir, id);
        FILE *f = ex_create(path);
        if (f == NULL)
            return -1;
        yaml_put_str(f, "destination_id", id);
        yaml_put_str(f, "destination_type", "MODEL_OUTPUT");
        yaml_put_str(f, "source_id", id);
        yaml_put_str(f, "source_type", "RUN_OUTPUT");
        yaml_put_int(f, "step", ex_jint(o, "step", 0));
        fputs("tags: {}\n", f);
        if (fclose(f) != 0)
            return -1;
    }
    for (size_t i = 0; i < json_array_size(ins); i++) {
        const char *id = ex_jstr(json_array_get(ins, i), "model_id");
        uint64_t h = ifnv(ifnv(1469598103934665603ULL, id), run_id);
        if (!safe_name(id))
            continue;
        ipathf(path, sizeof path, "%s/inputs/%016llx%016llx/meta.yaml", run_dir,
               (unsigned long long)h, (unsigned long long)ifnv(h, "model-input"));
        FILE *f = ex_create(path);
        if (f == NULL)
            return -1;
        yaml_put_str(f, "destination_id", run_id);
        yaml_put_str(f, "destination_type", "RUN");
        yaml_put_str(f, "source_id", id);
        yaml_put_str(f, "source_type", "MODEL");
        fputs("tags: {}\n", f);
        if (fclose(f) != 0)
            return -1;
    }
    return 0;
}
