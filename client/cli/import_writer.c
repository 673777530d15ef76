/* The writer of `exptrack import`: sends what a source read to exptrackd's
 * API. Ids are kept where free (the admin import API
 * under /api/2.0/exptrack/import), mapped otherwise; every write can be repeated
 * without a duplicate (points in batches with deterministic Idempotency-Keys,
 * params and tags are upserts of the same values, artifacts are compared by
 * size and sha256 first). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "import.h"
#include "common/json_writer.h"

#define BATCH_POINTS 1000
#define BATCH_KV 100
#define API "/api/2.0/mlflow"
#define ART "/api/2.0/mlflow-artifacts/artifacts/"

uint64_t ifnv(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    h ^= 0xff; /* a separator, so ("ab","c") and ("a","bc") differ */
    h *= 1099511628211ULL;
    return h;
}

int iw_open(struct iw *w, const char *url, struct istate *st, struct iprog *p, FILE *mapping,
            int dry_run)
{
    const char *user = getenv("EXPTRACK_USERNAME"), *pass = getenv("EXPTRACK_PASSWORD");
    const char *token = getenv("EXPTRACK_TOKEN");
    memset(w, 0, sizeof *w);
    if ((user == NULL || !user[0]) && (token == NULL || !token[0])) {
        user = getenv("MLFLOW_TRACKING_USERNAME");
        pass = getenv("MLFLOW_TRACKING_PASSWORD");
        token = getenv("MLFLOW_TRACKING_TOKEN");
    }
    w->state = st;
    w->prog = p;
    w->mapping = mapping;
    w->dry_run = dry_run;
    return ih_open(&w->dst, url, user, pass, token);
}

void iw_close(struct iw *w)
{
    sbuf_cleanup(&w->batch);
    ih_close(&w->dst);
}

static int fail(struct iw *w, const char *what)
{
    fprintf(stderr, "exptrack import: %s: %s\n", what, w->dst.err);
    return -1;
}

static void map_line(struct iw *w, const char *kind, const char *src, const char *dst)
{
    pthread_mutex_lock(&w->prog->mu);
    w->prog->remapped++;
    if (w->mapping != NULL) {
        fprintf(w->mapping, "%s\t%s\t%s\n", kind, src, dst);
        fflush(w->mapping);
    }
    pthread_mutex_unlock(&w->prog->mu);
}

static int is_error(const json_t *reply, const char *code)
{
    return strcmp(ih_error_code(reply), code) == 0;
}

/* GET path; the reply object or NULL (status in *st). */
static json_t *get(struct iw *w, const char *path, long *st)
{
    json_t *out = NULL;
    *st = ih_json(&w->dst, "GET", path, NULL, NULL, &out);
    return out;
}

static int post_ok(struct iw *w, const char *path, json_t *body, const char *what)
{
    long st = ih_json(&w->dst, "POST", path, body, NULL, NULL);
    json_decref(body);
    return st == 200 ? 0 : fail(w, what);
}

int iw_experiment(struct iw *w, const struct iexperiment *e, char dst[32])
{
    const char *done = istate_get(w->state, "exp", e->id);
    char path[1600], esc[1500];
    json_t *reply = NULL;
    long st;

    if (done != NULL || w->dry_run) {
        ipathf(dst, 32, "%s", done ? done : e->id);
        return 0;
    }
    json_t *body = json_pack("{s:s,s:s,s:I,s:I}", "experiment_id", e->id, "name", e->name,
                             "creation_time", (json_int_t)e->creation_time, "last_update_time",
                             (json_int_t)e->last_update_time);
    st = ih_json(&w->dst, "POST", "/api/2.0/exptrack/import/experiments", body, NULL, &reply);
    json_decref(body);
    if (st == 200) {
        ipathf(dst, 32, "%s", e->id);
    } else if (is_error(reply, "RESOURCE_ALREADY_EXISTS")) {
        json_decref(reply);
        reply = NULL;
        if (ih_escape(esc, sizeof esc, e->name, 0) != 0)
            return -1;
        ipathf(path, sizeof path, API "/experiments/get-by-name?experiment_name=%s", esc);
        reply = get(w, path, &st);
        const json_t *x = json_object_get(reply, "experiment");
        if (st == 200 && x != NULL) {
            ipathf(dst, 32, "%s", json_string_value(json_object_get(x, "experiment_id")) ?: "");
            const char *stage = json_string_value(json_object_get(x, "lifecycle_stage"));
            if (stage != NULL && strcmp(stage, "deleted") == 0 &&
                post_ok(w, API "/experiments/restore", json_pack("{s:s}", "experiment_id", dst),
                        "restore experiment") != 0)
                goto bad;
        } else {
            json_decref(reply);
            body = json_pack("{s:s}", "name", e->name);
            st = ih_json(&w->dst, "POST", API "/experiments/create", body, NULL, &reply);
            json_decref(body);
            if (st != 200)
                goto bad;
            ipathf(dst, 32, "%s", json_string_value(json_object_get(reply, "experiment_id")) ?: "");
        }
        if (strcmp(dst, e->id) != 0)
            map_line(w, "experiment", e->id, dst);
    } else {
        goto bad;
    }
    json_decref(reply);
    reply = NULL;
    for (size_t i = 0; i < e->ntags; i++) {
        if (post_ok(w, API "/experiments/set-experiment-tag",
                    json_pack("{s:s,s:s,s:s}", "experiment_id", dst, "key", e->tags[i].key, "value",
                              e->tags[i].value),
                    "experiment tag") != 0)
            return -1;
    }
    pthread_mutex_lock(&w->prog->mu);
    w->prog->experiments++;
    pthread_mutex_unlock(&w->prog->mu);
    return istate_put(w->state, "exp", e->id, dst);
bad:
    json_decref(reply);
    return fail(w, "experiment");
}

int iw_experiment_finish(struct iw *w, const struct iexperiment *e, const char *dst)
{
    if (w->dry_run || strcmp(e->lifecycle, "deleted") != 0)
        return 0;
    json_t *body = json_pack("{s:s}", "experiment_id", dst);
    json_t *reply = NULL;
    long st = ih_json(&w->dst, "POST", API "/experiments/delete", body, NULL, &reply);
    json_decref(body);
    json_decref(reply);
    return st == 200 || st == 400 ? 0 : fail(w, "delete experiment");
}

/* A run id exptrackd accepts: the source's when it is 32 hex digits, else
 * one derived from it (so a rerun derives the same). */
static void derive_run_id(const char *src, const char *salt, char out[33])
{
    size_t n = strlen(src);
    int hex = n == 32 && !salt[0];
    for (size_t i = 0; hex && i < n; i++)
        hex = isxdigit((unsigned char)src[i]);
    if (hex) {
        for (size_t i = 0; i < 32; i++)
            out[i] = (char)tolower((unsigned char)src[i]);
        out[32] = '\0';
        return;
    }
    uint64_t a = ifnv(ifnv(1469598103934665603ULL, src), salt);
    uint64_t b = ifnv(ifnv(a, "exptrack-import"), src);
    ipathf(out, 33, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

/* Creates the run with id w->dst_run. 0 created or found as ours, 1 taken
 * by another run, -1 error. */
static int create_run(struct iw *w, const struct irun *run, const char *dst_exp)
{
    char path[128];
    json_t *reply = NULL;
    json_t *body = json_pack("{s:s,s:s,s:s,s:s,s:i,s:I}", "run_id", w->dst_run, "experiment_id",
                             dst_exp, "run_name", run->name, "user_id", run->user, "status",
                             run->status, "start_time", (json_int_t)run->start_time);
    if (run->end_time >= 0)
        json_object_set_new(body, "end_time", json_integer(run->end_time));
    long st = ih_json(&w->dst, "POST", "/api/2.0/exptrack/import/runs", body, NULL, &reply);
    json_decref(body);
    int taken = st != 200 && is_error(reply, "RESOURCE_ALREADY_EXISTS");
    json_decref(reply);
    if (st == 200)
        return 0;
    if (!taken)
        return fail(w, "create run");
    /* Ours from an interrupted import when experiment and start time match. */
    ipathf(path, sizeof path, API "/runs/get?run_id=%s", w->dst_run);
    reply = get(w, path, &st);
    const json_t *info = json_object_get(json_object_get(reply, "run"), "info");
    const char *exp = json_string_value(json_object_get(info, "experiment_id"));
    json_t *start = json_object_get(info, "start_time");
    int64_t s = json_is_string(start) ? strtoll(json_string_value(start), NULL, 10)
                                      : json_integer_value(start);
    int ours = st == 200 && exp && strcmp(exp, dst_exp) == 0 && s == run->start_time;
    const char *stage = json_string_value(json_object_get(info, "lifecycle_stage"));
    int deleted = stage && strcmp(stage, "deleted") == 0;
    json_decref(reply);
    if (!ours)
        return 1;
    if (deleted)
        return post_ok(w, API "/runs/restore", json_pack("{s:s}", "run_id", w->dst_run),
                       "restore run");
    return 0;
}

int iw_run_begin(struct iw *w, const struct irun *run, const char *dst_exp)
{
    const char *done = istate_get(w->state, "run", run->run_id);
    sbuf_reset(&w->batch);
    w->batch_n = 0;
    w->batch_index = 0;
    w->run_points = 0;
    ipathf(w->src_run, sizeof w->src_run, "%s", run->run_id);
    ipathf(w->dst_exp, sizeof w->dst_exp, "%s", dst_exp);
    if (done != NULL) {
        pthread_mutex_lock(&w->prog->mu);
        w->prog->runs_skipped++;
        pthread_mutex_unlock(&w->prog->mu);
        return 1;
    }
    derive_run_id(run->run_id, "", w->dst_run);
    w->run_hash = ifnv(ifnv(1469598103934665603ULL, run->run_id), w->dst_run);
    if (w->dry_run)
        return 0;
    int rc = create_run(w, run, dst_exp);
    if (rc == 1) {
        derive_run_id(run->run_id, dst_exp, w->dst_run);
        w->run_hash = ifnv(ifnv(1469598103934665603ULL, run->run_id), w->dst_run);
        rc = create_run(w, run, dst_exp);
        if (rc == 0)
            map_line(w, "run", run->run_id, w->dst_run);
        else if (rc == 1) {
            ipathf(w->dst.err, sizeof w->dst.err, "run id %s and its remap are taken", run->run_id);
            rc = fail(w, "create run");
        }
    }
    return rc;
}

static int send_kv(struct iw *w, const char *field, const struct ikv *kv, size_t n)
{
    for (size_t i = 0; i < n; i += BATCH_KV) {
        json_t *arr = json_array();
        for (size_t k = i; k < n && k < i + BATCH_KV; k++)
            json_array_append_new(arr,
                                  json_pack("{s:s,s:s}", "key", kv[k].key, "value", kv[k].value));
        if (!w->dry_run &&
            post_ok(w, API "/runs/log-batch",
                    json_pack("{s:s,s:o}", "run_id", w->dst_run, field, arr), field) != 0)
            return -1;
        if (w->dry_run)
            json_decref(arr);
    }
    return 0;
}

int iw_params(struct iw *w, const struct ikv *kv, size_t n)
{
    pthread_mutex_lock(&w->prog->mu);
    w->prog->params += (int64_t)n;
    pthread_mutex_unlock(&w->prog->mu);
    return send_kv(w, "params", kv, n);
}

int iw_tags(struct iw *w, const struct ikv *kv, size_t n)
{
    pthread_mutex_lock(&w->prog->mu);
    w->prog->tags += (int64_t)n;
    pthread_mutex_unlock(&w->prog->mu);
    return send_kv(w, "tags", kv, n);
}

/* Appends a string literal. */
#define add_lit(b, lit) sbuf_add((b), (lit), sizeof(lit) - 1)

static int flush_points(struct iw *w)
{
    size_t n = w->batch_n;
    char key[64];
    if (n == 0)
        return 0;
    ipathf(key, sizeof key, "import-%016llx-%d", (unsigned long long)w->run_hash, w->batch_index++);
    if (!w->dry_run) {
        add_lit(&w->batch, "]}");
        long st = ih_text(&w->dst, "POST", API "/runs/log-batch", w->batch.data, key, NULL, NULL);
        if (st != 200)
            return fail(w, "log-batch");
    }
    sbuf_reset(&w->batch);
    w->batch_n = 0;
    iprog_add(w->prog, 0, (int64_t)n, 0, 0);
    return 0;
}

json_t *ijson_double(double v)
{
    if (isnan(v))
        return json_string("NaN");
    if (isinf(v))
        return json_string(v > 0 ? "Infinity" : "-Infinity");
    return json_real(v);
}

int iw_point(struct iw *w, const char *key, double value, int64_t timestamp, int64_t step)
{
    struct sbuf *b = &w->batch;
    char num[JW_DOUBLE_MAX > JW_INT64_MAX ? JW_DOUBLE_MAX : JW_INT64_MAX];
    /* The body as text, as log-batch reads it: no jansson tree per point. */
    if (w->batch_n == 0) {
        add_lit(b, "{\"run_id\":");
        jw_string(b, w->dst_run);
        add_lit(b, ",\"metrics\":[{\"key\":");
    } else {
        add_lit(b, ",{\"key\":");
    }
    jw_string(b, key);
    add_lit(b, ",\"value\":");
    sbuf_add(b, num, jw_double_text(num, value));
    add_lit(b, ",\"timestamp\":");
    sbuf_add(b, num, jw_int64_text(num, timestamp));
    add_lit(b, ",\"step\":");
    sbuf_add(b, num, jw_int64_text(num, step));
    sbuf_addc(b, '}');
    w->batch_n++;
    w->run_points++;
    return w->batch_n >= BATCH_POINTS ? flush_points(w) : 0;
}

int iw_input(struct iw *w, const json_t *dataset, const struct ikv *tags, size_t ntags)
{
    if (w->dry_run)
        return 0;
    json_t *tarr = json_array();
    for (size_t i = 0; i < ntags; i++)
        json_array_append_new(tarr,
                              json_pack("{s:s,s:s}", "key", tags[i].key, "value", tags[i].value));
    json_t *in = json_pack("{s:O,s:o}", "dataset", dataset, "tags", tarr);
    return post_ok(w, API "/runs/log-inputs",
                   json_pack("{s:s,s:[o]}", "run_id", w->dst_run, "datasets", in), "log-inputs");
}

/* sha256 of a file as hex, read in 64 KiB pieces. 0 or -1. */
static int file_sha256(FILE *f, char hex[65], int64_t *size)
{
    unsigned char buf[65536], md[32];
    unsigned int mdlen = 0;
    size_t n;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = -1;
    *size = 0;
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto out;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        EVP_DigestUpdate(ctx, buf, n);
        *size += (int64_t)n;
    }
    if (ferror(f) || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
        goto out;
    for (unsigned i = 0; i < 32; i++)
        ipathf(hex + 2 * i, 3, "%02x", md[i]);
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

int iw_artifact_at(struct iw *w, const char *local, const char *prefix, const char *rel)
{
    char hex[65], esc[4096], path[4400];
    int64_t size;
    FILE *f = fopen(local, "rb");
    if (f == NULL) {
        iprog_skip(w->prog, "artifact %s of %s: %s", rel, prefix, strerror(errno));
        return 0;
    }
    int rc = file_sha256(f, hex, &size);
    if (rc != 0 || ih_escape(esc, sizeof esc, rel, 1) != 0) {
        fclose(f);
        iprog_skip(w->prog, "artifact %s of %s: unreadable or path too long", rel, prefix);
        return 0;
    }
    if (w->dry_run) {
        fclose(f);
        iprog_add(w->prog, 0, 0, 1, size);
        return 0;
    }
    ipathf(path, sizeof path, ART "%s/%s", prefix, esc);
    if (ih_if_none_match(&w->dst, path, hex) == 304) {
        fclose(f);
        pthread_mutex_lock(&w->prog->mu);
        w->prog->files_skipped++;
        pthread_mutex_unlock(&w->prog->mu);
        return 0;
    }
    rewind(f);
    long st = ih_upload(&w->dst, path, f, size);
    fclose(f);
    if (st != 200)
        return fail(w, "artifact upload");
    iprog_add(w->prog, 0, 0, 1, size);
    return 0;
}

int iw_artifact(struct iw *w, const char *local, const char *rel)
{
    char prefix[128];
    ipathf(prefix, sizeof prefix, "%s/%s/artifacts", w->dst_exp, w->dst_run);
    return iw_artifact_at(w, local, prefix, rel);
}

int iw_artifact_dir(struct iw *w, const char *dir, const char *prefix, const char *rel)
{
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort), rc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        char path[4096], sub[2100];
        struct stat st;
        if (rc != 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
            ipathf(path, sizeof path, "%s/%s", dir, name) != 0 ||
            ipathf(sub, sizeof sub, "%s%s", rel, name) != 0 || stat(path, &st) != 0) {
            free(ents[i]);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            char deeper[2200];
            ipathf(deeper, sizeof deeper, "%s/", sub);
            rc = iw_artifact_dir(w, path, prefix, deeper);
        } else {
            rc = prefix ? iw_artifact_at(w, path, prefix, sub) : iw_artifact(w, path, sub);
        }
        free(ents[i]);
    }
    if (n >= 0)
        free(ents);
    return rc;
}

int iw_run_end(struct iw *w, const struct irun *run)
{
    if (flush_points(w) != 0)
        return -1;
    if (!w->dry_run && strcmp(run->lifecycle, "deleted") == 0 &&
        post_ok(w, API "/runs/delete", json_pack("{s:s}", "run_id", w->dst_run), "delete run") != 0)
        return -1;
    iprog_add(w->prog, 1, 0, 0, 0);
    return w->dry_run ? 0 : istate_put(w->state, "run", run->run_id, w->dst_run);
}
