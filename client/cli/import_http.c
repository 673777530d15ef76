/* libcurl glue for import and export: JSON calls with retry, streamed
 * artifact transfers, percent-encoding. */
#include "import_http.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct membuf {
    char *data;
    size_t len, cap;
};

static size_t to_mem(char *p, size_t size, size_t n, void *ud)
{
    struct membuf *b = ud;
    size_t add = size * n;
    if (b->len + add + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + add + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (d == NULL)
            return 0;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

static char *dup_or_null(const char *s)
{
    return s != NULL && s[0] ? strdup(s) : NULL;
}

int ih_open(struct ih *c, const char *base, const char *user, const char *pass, const char *token)
{
    memset(c, 0, sizeof *c);
    c->h = curl_easy_init();
    c->base = strdup(base);
    if (c->h == NULL || c->base == NULL)
        return -1;
    size_t n = strlen(c->base);
    while (n > 0 && c->base[n - 1] == '/')
        c->base[--n] = '\0';
    c->user = dup_or_null(user);
    c->pass = pass != NULL ? strdup(pass) : NULL;
    c->token = dup_or_null(token);
    return 0;
}

void ih_close(struct ih *c)
{
    if (c->h != NULL)
        curl_easy_cleanup(c->h);
    free(c->base);
    free(c->user);
    free(c->pass);
    free(c->token);
    memset(c, 0, sizeof *c);
}

/* Resets the handle and sets what every request shares. */
static void prepare(struct ih *c, const char *path)
{
    size_t base_len = strlen(c->base), path_len = strlen(path);
    char *url = malloc(base_len + path_len + 1);
    curl_easy_reset(c->h);
    if (url != NULL) {
        memcpy(url, c->base, base_len);
        memcpy(url + base_len, path, path_len + 1);
        curl_easy_setopt(c->h, CURLOPT_URL, url);
        free(url);
    }
    curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(c->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c->h, CURLOPT_LOW_SPEED_TIME, 120L);
    if (c->user != NULL) {
        curl_easy_setopt(c->h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c->h, CURLOPT_USERNAME, c->user);
        curl_easy_setopt(c->h, CURLOPT_PASSWORD, c->pass ? c->pass : "");
    } else if (c->token != NULL) {
        curl_easy_setopt(c->h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
        curl_easy_setopt(c->h, CURLOPT_XOAUTH2_BEARER, c->token);
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

const char *ih_error_code(const json_t *reply)
{
    const char *s = json_string_value(json_object_get(reply, "error_code"));
    return s ? s : "";
}

long ih_text(struct ih *c, const char *method, const char *path, const char *text,
             const char *idem_key, json_t **out, char **raw)
{
    long status = -1, wait = 200;
    char idem[320];

    if (out)
        *out = NULL;
    if (raw)
        *raw = NULL;
    for (int attempt = 0; attempt < 12; attempt++) {
        struct membuf mb = {0};
        struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
        prepare(c, path);
        if (text != NULL) {
            hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
            hdrs = curl_slist_append(hdrs, "Expect:");
            curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, text);
        }
        if (idem_key != NULL) {
            snprintf(idem, sizeof idem, "Idempotency-Key: %s", idem_key);
            hdrs = curl_slist_append(hdrs, idem);
        }
        if (strcmp(method, "GET") != 0 && text == NULL)
            curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, "{}");
        curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, to_mem);
        curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &mb);
        curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, 120000L);
        CURLcode cc = curl_easy_perform(c->h);
        curl_slist_free_all(hdrs);
        status = -1;
        if (cc == CURLE_OK)
            curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
        else
            snprintf(c->err, sizeof c->err, "%s %s: %s", method, path, curl_easy_strerror(cc));
        int retry = status == -1 || status == 429 || status >= 500;
        if (!retry || attempt == 11) {
            if (status == 200 && raw != NULL) {
                *raw = mb.data ? mb.data : strdup("");
                break;
            }
            json_t *j = mb.data ? json_loads(mb.data, 0, NULL) : NULL;
            if (status != 200) {
                const char *msg = json_string_value(json_object_get(j, "message"));
                if (status != -1)
                    snprintf(c->err, sizeof c->err, "%s %s: HTTP %ld %s: %.300s", method, path,
                             status, ih_error_code(j), msg ? msg : (mb.data ? mb.data : ""));
            }
            if (out)
                *out = j;
            else
                json_decref(j);
            free(mb.data);
            break;
        }
        free(mb.data);
        sleep_ms(wait);
        wait = wait < 5000 ? wait * 2 : 5000;
    }
    return status;
}

long ih_json(struct ih *c, const char *method, const char *path, json_t *body, const char *idem_key,
             json_t **out)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    long status = ih_text(c, method, path, text, idem_key, out, NULL);
    free(text);
    return status;
}

/* Runs a prepared transfer with retries only when nothing reached the
 * caller's sink (a failed connect). */
static long perform(struct ih *c, const char *what)
{
    long status = -1;
    CURLcode cc = curl_easy_perform(c->h);
    if (cc != CURLE_OK) {
        snprintf(c->err, sizeof c->err, "%s: %s", what, curl_easy_strerror(cc));
        return -1;
    }
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200)
        snprintf(c->err, sizeof c->err, "%s: HTTP %ld", what, status);
    return status;
}

static size_t to_file(char *p, size_t size, size_t n, void *ud)
{
    return fwrite(p, size, n, ud) * size;
}

long ih_download(struct ih *c, const char *path, FILE *f)
{
    prepare(c, path);
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, to_file);
    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(c->h, CURLOPT_FAILONERROR, 1L);
    long st = perform(c, path);
    if (st == -1 && curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &st) != CURLE_OK)
        st = -1;
    return st == 0 ? -1 : st;
}

/* Refuses every body byte, so a transfer that starts one stops there. */
static size_t abort_body(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)size;
    (void)n;
    (void)ud;
    return 0;
}

long ih_if_none_match(struct ih *c, const char *path, const char *sha256_hex)
{
    char hdr[128];
    struct curl_slist *hdrs;
    long st = -1;
    snprintf(hdr, sizeof hdr, "If-None-Match: \"%s\"", sha256_hex);
    hdrs = curl_slist_append(NULL, hdr);
    prepare(c, path);
    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs);
    /* A differing file starts a body: stop reading it at once. */
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, abort_body);
    CURLcode cc = curl_easy_perform(c->h);
    if (cc == CURLE_OK || cc == CURLE_WRITE_ERROR)
        curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &st);
    curl_slist_free_all(hdrs);
    return st;
}

long ih_upload(struct ih *c, const char *path, FILE *f, int64_t size)
{
    struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
    struct membuf mb = {0};
    prepare(c, path);
    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c->h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c->h, CURLOPT_READDATA, f);
    curl_easy_setopt(c->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, to_mem);
    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &mb);
    long st = perform(c, path);
    if (st != 200 && st != -1 && mb.data != NULL)
        snprintf(c->err, sizeof c->err, "PUT %s: HTTP %ld: %.300s", path, st, mb.data);
    free(mb.data);
    curl_slist_free_all(hdrs);
    return st;
}

int ih_escape(char *buf, size_t n, const char *s, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~' ||
                    (keep_slash && *p == '/');
        if (o + 4 > n)
            return -1;
        if (plain) {
            buf[o++] = (char)*p;
        } else {
            buf[o++] = '%';
            buf[o++] = hex[*p >> 4];
            buf[o++] = hex[*p & 15];
        }
    }
    buf[o] = '\0';
    return 0;
}
