/* The file-based model registry of an mlruns directory (models/<name>/
 * meta.yaml, tags/, aliases/, version-<n>/meta.yaml and tags/) imported
 * through exptrackd's registry API. Versions are created in number order;
 * one already present at the destination is left alone, so a rerun adds
 * nothing twice. A version's source inside a source run's artifacts is
 * rewritten to the destination run's artifact URI. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "import_mlruns.h"
#include "import_yaml.h"

#define API "/api/2.0/mlflow"

/* The tags of dir/tags as a JSON array of {key, value}. */
static json_t *tag_array(const char *dir)
{
    char path[4400];
    json_t *arr = json_array();
    struct dirent **ents;
    ipathf(path, sizeof path, "%s/tags", dir);
    int n = scandir(path, &ents, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        char file[4700];
        if (ents[i]->d_name[0] != '.') {
            ipathf(file, sizeof file, "%s/%s", path, ents[i]->d_name);
            FILE *f = fopen(file, "rb");
            char buf[8192];
            size_t len = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
            buf[len] = '\0';
            if (f) {
                fclose(f);
                json_array_append_new(arr,
                                      json_pack("{s:s,s:s}", "key", ents[i]->d_name, "value", buf));
            }
        }
        free(ents[i]);
    }
    if (n >= 0)
        free(ents);
    return arr;
}

static int version_filter(const struct dirent *d)
{
    return strncmp(d->d_name, "version-", 8) == 0;
}

static int by_number(const struct dirent **a, const struct dirent **b)
{
    long x = atol((*a)->d_name + 8), y = atol((*b)->d_name + 8);
    return x < y ? -1 : x > y;
}

/* The version's source with a source run's artifact path moved to the
 * destination run's artifact URI (malloc'd). */
static char *map_source(struct iw *w, const char *source, const char *src_run, const char *dst_run)
{
    char pat[128], path[128];
    ipathf(pat, sizeof pat, "/%s/artifacts", src_run ? src_run : "-");
    const char *at = src_run && src_run[0] ? strstr(source, pat) : NULL;
    if (at == NULL)
        return strdup(source);
    json_t *reply = NULL;
    ipathf(path, sizeof path, API "/runs/get?run_id=%s", dst_run);
    long st = ih_json(&w->dst, "GET", path, NULL, NULL, &reply);
    const char *uri = json_string_value(
        json_object_get(json_object_get(json_object_get(reply, "run"), "info"), "artifact_uri"));
    char *out = NULL;
    if (st == 200 && uri != NULL) {
        const char *rest = at + strlen(pat);
        out = malloc(strlen(uri) + strlen(rest) + 1);
        if (out != NULL) {
            strcpy(out, uri);
            strcat(out, rest);
        }
    }
    json_decref(reply);
    return out ? out : strdup(source);
}

static int import_version(struct iw *w, const char *name, const char *dir)
{
    struct ymap m;
    char path[4400], esc[1200], key[1400];
    int rc = 0;
    ipathf(path, sizeof path, "%s/meta.yaml", dir);
    if (ymap_load(path, &m) != 0)
        return 0;
    const char *version = ymap_get(&m, "version") ?: strrchr(dir, '-') + 1;
    ipathf(key, sizeof key, "%s/%s", name, version);
    if (istate_get(w->state, "version", key) != NULL || w->dry_run)
        goto out;
    ih_escape(esc, sizeof esc, name, 0);
    ipathf(path, sizeof path, API "/model-versions/get?name=%s&version=%s", esc, version);
    if (ih_json(&w->dst, "GET", path, NULL, NULL, NULL) == 200) {
        rc = istate_put(w->state, "version", key, version);
        goto out;
    }
    const char *src_run = ymap_get(&m, "run_id");
    const char *dst_run = src_run ? istate_get(w->state, "run", src_run) : NULL;
    char *source = map_source(w, ymap_get(&m, "source") ?: "", src_run, dst_run ?: src_run);
    json_t *body = json_pack("{s:s,s:s,s:s,s:o}", "name", name, "source", source, "description",
                             ymap_get(&m, "description") ?: "", "tags", tag_array(dir));
    if (src_run != NULL && src_run[0])
        json_object_set_new(body, "run_id", json_string(dst_run ?: src_run));
    const char *src_model = ymap_get(&m, "model_id");
    if (src_model != NULL && src_model[0]) { /* an MLflow 3 version of a logged model */
        const char *dst_model = istate_get(w->state, "lm", src_model) ?: src_model;
        char mapped[64];
        json_object_set_new(body, "model_id", json_string(dst_model));
        ipathf(mapped, sizeof mapped, "models:/%s", src_model);
        if (strcmp(json_string_value(json_object_get(body, "source")), mapped) == 0) {
            ipathf(mapped, sizeof mapped, "models:/%s", dst_model);
            json_object_set_new(body, "source", json_string(mapped));
        }
    }
    json_t *reply = NULL;
    long st = ih_json(&w->dst, "POST", API "/model-versions/create", body, NULL, &reply);
    json_decref(body);
    free(source);
    const char *got =
        json_string_value(json_object_get(json_object_get(reply, "model_version"), "version"));
    char made[32];
    ipathf(made, sizeof made, "%s", got ? got : "");
    json_decref(reply);
    if (st != 200) {
        fprintf(stderr, "exptrack import: model version %s: %s\n", key, w->dst.err);
        rc = -1;
        goto out;
    }
    if (strcmp(made, version) != 0)
        iprog_skip(w->prog, "model %s: version %s arrived as version %s", name, version, made);
    const char *stage = ymap_get(&m, "current_stage");
    if (stage != NULL && strcmp(stage, "None") != 0) {
        body = json_pack("{s:s,s:s,s:s,s:b}", "name", name, "version", made, "stage", stage,
                         "archive_existing_versions", 0);
        st = ih_json(&w->dst, "POST", API "/model-versions/transition-stage", body, NULL, NULL);
        json_decref(body);
        if (st != 200)
            iprog_skip(w->prog, "model %s version %s: stage %s refused", name, made, stage);
    }
    rc = istate_put(w->state, "version", key, made);
out:
    ymap_free(&m);
    return rc;
}

static int import_model(struct iw *w, const char *dir)
{
    struct ymap m;
    char path[4400];
    struct dirent **ents;
    int rc = 0;
    ipathf(path, sizeof path, "%s/meta.yaml", dir);
    if (ymap_load(path, &m) != 0)
        return 0;
    const char *name = ymap_get(&m, "name") ?: strrchr(dir, '/') + 1;
    if (!w->dry_run && istate_get(w->state, "model", name) == NULL) {
        json_t *body = json_pack("{s:s,s:s,s:o}", "name", name, "description",
                                 ymap_get(&m, "description") ?: "", "tags", tag_array(dir));
        json_t *reply = NULL;
        long st = ih_json(&w->dst, "POST", API "/registered-models/create", body, NULL, &reply);
        json_decref(body);
        int exists = strcmp(ih_error_code(reply), "RESOURCE_ALREADY_EXISTS") == 0;
        json_decref(reply);
        if (st != 200 && !exists) {
            fprintf(stderr, "exptrack import: model %s: %s\n", name, w->dst.err);
            rc = -1;
            goto out;
        }
        rc = istate_put(w->state, "model", name, name);
    }
    int n = scandir(dir, &ents, version_filter, by_number);
    for (int i = 0; i < n; i++) {
        char vdir[4400];
        ipathf(vdir, sizeof vdir, "%s/%s", dir, ents[i]->d_name);
        if (rc == 0)
            rc = import_version(w, name, vdir);
        free(ents[i]);
    }
    if (n >= 0)
        free(ents);
    /* Aliases: aliases/<alias> holds the version number. */
    ipathf(path, sizeof path, "%s/aliases", dir);
    n = scandir(path, &ents, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        char file[4700], ver[32] = "";
        if (ents[i]->d_name[0] != '.' && rc == 0 && !w->dry_run) {
            ipathf(file, sizeof file, "%s/%s", path, ents[i]->d_name);
            FILE *f = fopen(file, "r");
            if (f != NULL) {
                if (fgets(ver, sizeof ver, f) == NULL)
                    ver[0] = '\0';
                fclose(f);
            }
            ver[strcspn(ver, "\r\n ")] = '\0';
            json_t *body =
                json_pack("{s:s,s:s,s:s}", "name", name, "alias", ents[i]->d_name, "version", ver);
            if (ih_json(&w->dst, "POST", API "/registered-models/alias", body, NULL, NULL) != 200)
                iprog_skip(w->prog, "model %s: alias %s refused: %s", name, ents[i]->d_name,
                           w->dst.err);
            json_decref(body);
        }
        free(ents[i]);
    }
    if (n >= 0)
        free(ents);
out:
    ymap_free(&m);
    return rc;
}

int import_mlruns_registry(const struct import_opts *o, struct iw *w)
{
    char root[4200];
    struct dirent **ents;
    int rc = 0;
    ipathf(root, sizeof root, "%s/models", o->dir);
    int n = scandir(root, &ents, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        char dir[4400];
        struct stat st;
        ipathf(dir, sizeof dir, "%s/%s", root, ents[i]->d_name);
        if (rc == 0 && ents[i]->d_name[0] != '.' && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
            rc = import_model(w, dir);
        free(ents[i]);
    }
    if (n >= 0)
        free(ents);
    return rc;
}
