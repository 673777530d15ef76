/* Artifact files through the server's proxy (contract §10): uploads stream
 * from disk (PUT), downloads stream to a temporary file renamed into place,
 * listings decode FileInfo. Also et_spool_sync(), the replay of a spool
 * directory left behind by other processes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define ART_API "/api/2.0/mlflow-artifacts/artifacts"

/* "<base>/api/2.0/mlflow-artifacts/artifacts/<exp>/<run>/artifacts[/<path>]". */
static int artifact_url(et_client *c, const char *run_id, const char *path, struct et_dbuf *url,
                        char **rel)
{
    et_run_info *ri = NULL;
    int rc = et_run_get(c, run_id, &ri);
    if (rc != ET_OK)
        return rc;
    struct et_dbuf r;
    et__dbuf_init(&r);
    rc = et__dbuf_addf(&r, "%s/%s/artifacts", ri->experiment_id, ri->run_id);
    for (const char *p = path ? path : ""; rc == ET_OK && *p == '/'; p++)
        path = p + 1;
    if (rc == ET_OK && path && *path)
        rc = et__dbuf_addf(&r, "/%s", path);
    if (rc == ET_OK && url != NULL)
        rc = et__dbuf_addf(url, "%s" ART_API "/%s", c->url, r.data);
    et_run_info_free(ri);
    if (rc == ET_OK && rel != NULL) {
        *rel = r.data;
        return ET_OK;
    }
    et__dbuf_cleanup(&r);
    return rc;
}

/* Runs a prepared transfer on a pooled handle; maps the answer. */
static int perform(et_client *c, CURL *h, struct et_dbuf *errbody)
{
    long status = 0;
    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        et__util_set_error("artifact transfer: %s", curl_easy_strerror(cc));
        return cc == CURLE_WRITE_ERROR || cc == CURLE_READ_ERROR ? ET_EIO : ET_ENETWORK;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status == 200)
        return ET_OK;
    struct http_reply rep = {status, *errbody};
    return et__http_error_code(&rep);
}

static size_t to_dbuf(char *p, size_t size, size_t n, void *ud)
{
    return et__dbuf_add(ud, p, size * n) == ET_OK ? size * n : 0;
}

int et_artifact_upload(et_client *c, const char *run_id, const char *local_path,
                       const char *artifact_path)
{
    struct et_dbuf url, body;
    struct stat st;
    int rc;

    if (c == NULL || run_id == NULL || local_path == NULL || artifact_path == NULL ||
        *artifact_path == '\0')
        return ET_EINVAL;
    FILE *f = fopen(local_path, "rb");
    if (f == NULL || fstat(fileno(f), &st) != 0) {
        et__util_set_error("cannot read %s: %s", local_path, strerror(errno));
        if (f)
            fclose(f);
        return ET_EIO;
    }
    et__dbuf_init(&url);
    et__dbuf_init(&body);
    CURL *h = NULL;
    if ((rc = artifact_url(c, run_id, artifact_path, &url, NULL)) != ET_OK)
        goto out;
    rc = ET_ENOMEM;
    if ((h = et__client_get_handle(c)) == NULL)
        goto out;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url.data);
    et__http_auth(h);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READDATA, f);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_dbuf);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    rc = perform(c, h, &body);
out:
    et__client_put_handle(c, h);
    fclose(f);
    et__dbuf_cleanup(&url);
    et__dbuf_cleanup(&body);
    return rc;
}

struct download {
    FILE *f;
    struct et_dbuf err; /* the body, when the answer is not 200 */
    CURL *h;
};

static size_t on_download(char *p, size_t size, size_t n, void *ud)
{
    struct download *d = ud;
    long status = 0;
    curl_easy_getinfo(d->h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200)
        return et__dbuf_add(&d->err, p, size * n) == ET_OK ? size * n : 0;
    return fwrite(p, size, n, d->f) == n ? size * n : 0;
}

int et__artifact_fetch(et_client *c, const char *rel, const char *local_path)
{
    struct et_dbuf url, tmp;
    struct download d = {0};
    int rc = ET_ENOMEM;

    et__dbuf_init(&url);
    et__dbuf_init(&tmp);
    et__dbuf_init(&d.err);
    if (et__dbuf_addf(&url, "%s" ART_API "/%s", c->url, rel) != ET_OK ||
        et__dbuf_addf(&tmp, "%s.part%d", local_path, (int)getpid()) != ET_OK)
        goto out;
    if ((d.f = fopen(tmp.data, "wb")) == NULL) {
        et__util_set_error("cannot write %s: %s", tmp.data, strerror(errno));
        rc = ET_EIO;
        goto out;
    }
    if ((d.h = et__client_get_handle(c)) == NULL)
        goto out;
    curl_easy_reset(d.h);
    curl_easy_setopt(d.h, CURLOPT_URL, url.data);
    et__http_auth(d.h);
    curl_easy_setopt(d.h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(d.h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(d.h, CURLOPT_WRITEFUNCTION, on_download);
    curl_easy_setopt(d.h, CURLOPT_WRITEDATA, &d);
    rc = perform(c, d.h, &d.err);
    if (fclose(d.f) != 0 && rc == ET_OK)
        rc = ET_EIO;
    d.f = NULL;
    if (rc == ET_OK && rename(tmp.data, local_path) != 0) {
        et__util_set_error("cannot rename to %s: %s", local_path, strerror(errno));
        rc = ET_EIO;
    }
out:
    if (d.f)
        fclose(d.f);
    if (rc != ET_OK && tmp.data)
        unlink(tmp.data);
    et__client_put_handle(c, d.h);
    et__dbuf_cleanup(&url);
    et__dbuf_cleanup(&tmp);
    et__dbuf_cleanup(&d.err);
    return rc;
}

int et_artifact_download(et_client *c, const char *run_id, const char *artifact_path,
                         const char *local_path)
{
    char *rel = NULL;

    if (c == NULL || run_id == NULL || artifact_path == NULL || local_path == NULL)
        return ET_EINVAL;
    int rc = artifact_url(c, run_id, artifact_path, NULL, &rel);
    if (rc == ET_OK)
        rc = et__artifact_fetch(c, rel, local_path);
    free(rel);
    return rc;
}

void et_file_list_free(et_file_info *list, size_t n)
{
    for (size_t i = 0; list != NULL && i < n; i++)
        free(list[i].path);
    free(list);
}

int et__artifact_ls(et_client *c, const char *rel, et_file_info **out, size_t *n)
{
    json_t *reply = NULL;

    int rc = et__ctl_get(c, ART_API, "path", rel, NULL, NULL, &reply);
    if (rc != ET_OK)
        return rc;
    const json_t *files = json_object_get(reply, "files");
    size_t cnt = json_array_size(files);
    et_file_info *list = cnt ? calloc(cnt, sizeof *list) : NULL;
    if (cnt && list == NULL)
        rc = ET_ENOMEM;
    for (size_t i = 0; rc == ET_OK && i < cnt; i++) {
        const json_t *f = json_array_get(files, i);
        list[i].path = et__jdup(f, "path");
        list[i].is_dir = json_is_true(json_object_get(f, "is_dir"));
        list[i].size = list[i].is_dir ? -1 : et__jint(f, "file_size");
        if (list[i].path == NULL)
            rc = ET_ENOMEM;
    }
    json_decref(reply);
    if (rc != ET_OK) {
        et_file_list_free(list, cnt);
        return rc;
    }
    *out = list;
    *n = cnt;
    return ET_OK;
}

int et_artifact_list(et_client *c, const char *run_id, const char *dir, et_file_info **out,
                     size_t *n)
{
    char *rel = NULL;

    if (c == NULL || run_id == NULL || out == NULL || n == NULL)
        return ET_EINVAL;
    int rc = artifact_url(c, run_id, dir, NULL, &rel);
    if (rc == ET_OK)
        rc = et__artifact_ls(c, rel, out, n);
    free(rel);
    return rc;
}

int et_spool_sync(et_client *c, const char *dir, size_t *records)
{
    struct et_spool *s = NULL;
    size_t done = 0;
    int rc;

    if (c == NULL || dir == NULL)
        return ET_EINVAL;
    if ((rc = et__spool_open(dir, 0, &s)) != ET_OK)
        return rc;
    for (;;) {
        struct spool_rec r;
        rc = et__spool_peek(s, &r);
        if (rc <= 0)
            break;
        rc = et__ctl_post_text(c, r.path, r.body, r.body_len, r.key, c->opt.control_retry_ms);
        if (rc == ET_ENETWORK || rc == ET_ESERVER || rc == ET_ENOMEM) {
            et__spool_rec_cleanup(&r);
            break;
        }
        /* Delivered, or refused for good (counted as done: resending cannot help). */
        et__spool_rec_cleanup(&r);
        if ((rc = et__spool_ack(s)) != ET_OK)
            break;
        done++;
    }
    if (rc == ET_OK && et__spool_corrupt_count(s) > 0) {
        et__util_set_error("%zu corrupt spool record(s) skipped", et__spool_corrupt_count(s));
        rc = ET_ECORRUPT;
    }
    et__spool_close(s);
    if (records)
        *records = done;
    return rc;
}
