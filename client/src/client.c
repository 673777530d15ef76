/* The client object: options and environment, the pool of reusable curl
 * handles for control calls, the synchronous request helper with retries,
 * and start/stop of the batching thread. Resource calls live in control.c,
 * query.c and artifacts.c; the metric path in run.c and batcher.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void curl_init_once(void)
{
    curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

void et_options_init(et_options *o)
{
    memset(o, 0, sizeof *o);
    o->buffer_points = 262144;
    o->flush_interval_ms = 1000;
    o->flush_timeout_ms = 30000;
    o->spool_after_ms = 30000;
    o->request_timeout_ms = 30000;
    o->control_retry_ms = 60000;
    o->senders = 32;
    o->full_policy = ET_FULL_BLOCK;
}

const char *et_strerror(int code)
{
    switch (code) {
    case ET_OK:
        return "success";
    case ET_ENOMEM:
        return "out of memory";
    case ET_EINVAL:
        return "invalid argument";
    case ET_ENETWORK:
        return "server unreachable";
    case ET_ESERVER:
        return "server error";
    case ET_ENOTFOUND:
        return "not found";
    case ET_EEXISTS:
        return "already exists";
    case ET_EREJECTED:
        return "request rejected by the server";
    case ET_EPROTOCOL:
        return "unexpected server reply";
    case ET_ETIMEDOUT:
        return "timed out";
    case ET_EIO:
        return "local I/O error";
    case ET_ECORRUPT:
        return "corrupt spool record";
    case ET_ECLOSED:
        return "client is closing";
    default:
        return "unknown error";
    }
}

/* Env integer override, ignoring junk. */
static void env_int(const char *name, int *v)
{
    const char *s = getenv(name);
    char *end;
    if (s == NULL || *s == '\0')
        return;
    long n = strtol(s, &end, 10);
    if (*end == '\0' && n > 0 && n < 1000000000)
        *v = (int)n;
}

/* The spool directory: option, env, else a per-server directory under the
 * XDG state dir (~/.local/state), so a spool is only replayed to the server it
 * was written for. malloc'd. */
static char *spool_dir_for(const et_options *o, const char *url)
{
    const char *s = o->spool_dir ? o->spool_dir : getenv("EXPTRACK_SPOOL_DIR");
    char buf[4096], host[256];
    size_t n = 0;

    if (s != NULL && *s)
        return et__util_strdup(s);
    for (const char *p = strstr(url, "://") + 3; *p && n + 1 < sizeof host; p++)
        host[n++] = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ? *p : '_';
    host[n] = '\0';
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    if (xdg != NULL && *xdg)
        snprintf(buf, sizeof buf, "%s/exptrack/spool/%s", xdg, host);
    else if (home != NULL && *home)
        snprintf(buf, sizeof buf, "%s/.local/state/exptrack/spool/%s", home, host);
    else
        snprintf(buf, sizeof buf, "/tmp/exptrack-spool-%d/%s", (int)getuid(), host);
    return et__util_strdup(buf);
}

/* The base URL, without trailing slashes. malloc'd or NULL. */
static char *base_url(const char *url)
{
    if (url == NULL || *url == '\0')
        url = getenv("EXPTRACK_URL");
    if (url == NULL || *url == '\0')
        url = getenv("MLFLOW_TRACKING_URI");
    if (url == NULL || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
        return NULL;
    char *u = et__util_strdup(url);
    if (u != NULL) {
        size_t n = strlen(u);
        while (n > 0 && u[n - 1] == '/')
            u[--n] = '\0';
    }
    return u;
}

int et_client_new(const char *url, et_client **out)
{
    et_options o;
    et_options_init(&o);
    o.url = url;
    return et_client_new_opts(&o, out);
}

int et_client_new_opts(const et_options *opts, et_client **out)
{
    et_options o;
    int rc = ET_ENOMEM;

    if (out == NULL)
        return ET_EINVAL;
    *out = NULL;
    if (opts == NULL)
        et_options_init(&o);
    else
        o = *opts;
    env_int("EXPTRACK_FLUSH_MS", &o.flush_interval_ms);
    env_int("EXPTRACK_SENDERS", &o.senders);
    pthread_once(&curl_once, curl_init_once);
    if (!curl_ok)
        return ET_ENOMEM;
    et_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return ET_ENOMEM;
    pthread_mutex_init(&c->pool_mu, NULL);
    pthread_mutex_init(&c->spool_mu, NULL);
    c->url = base_url(o.url);
    if (c->url == NULL) {
        et__util_set_error("no server URL (pass one, or set EXPTRACK_URL or MLFLOW_TRACKING_URI)");
        rc = ET_EINVAL;
        goto fail;
    }
    c->spool_dir = spool_dir_for(&o, c->url);
    c->opt = o;
    c->opt.url = c->opt.spool_dir = NULL;
    if (c->spool_dir == NULL || et__buffer_new(o.buffer_points, &c->buf) != ET_OK)
        goto fail;
    if ((rc = et__spool_open(c->spool_dir, 1, &c->spool)) != ET_OK) {
        et__util_set_error("cannot open spool directory %s", c->spool_dir);
        goto fail;
    }
    if (c->opt.senders < 1 || c->opt.senders > ET_MAX_INFLIGHT)
        c->opt.senders = c->opt.senders < 1 ? 1 : ET_MAX_INFLIGHT;
    if (pthread_create(&c->thread, NULL, et__batcher_main, c) != 0) {
        rc = ET_ENOMEM;
        goto fail;
    }
    c->started = 1;
    *out = c;
    return ET_OK;
fail:
    et_client_free(c);
    return rc;
}

void et_client_free(et_client *c)
{
    if (c == NULL)
        return;
    if (c->started) {
        atomic_store(&c->close_deadline, et__util_mono_ms() + c->opt.flush_timeout_ms);
        atomic_store(&c->closing, 1);
        et__buffer_close(c->buf);
        pthread_join(c->thread, NULL);
    }
    et__spool_close(c->spool);
    et__buffer_free(c->buf);
    for (int i = 0; i < c->npool; i++)
        curl_easy_cleanup(c->pool[i]);
    pthread_mutex_destroy(&c->pool_mu);
    pthread_mutex_destroy(&c->spool_mu);
    free(c->spool_dir);
    free(c->url);
    free(c);
}

const char *et_client_url(const et_client *c)
{
    return c ? c->url : NULL;
}

void et_client_stats(et_client *c, et_stats *out)
{
    out->queued = et__buffer_pushed(c->buf);
    out->delivered = atomic_load(&c->st_delivered);
    out->spooled = atomic_load(&c->st_spooled);
    out->replayed = atomic_load(&c->st_replayed);
    out->dropped = atomic_load(&c->st_dropped);
    out->retries = atomic_load(&c->st_retries);
    out->requests = atomic_load(&c->st_requests);
}

CURL *et__client_get_handle(et_client *c)
{
    CURL *h = NULL;
    pthread_mutex_lock(&c->pool_mu);
    if (c->npool > 0)
        h = c->pool[--c->npool];
    pthread_mutex_unlock(&c->pool_mu);
    return h != NULL ? h : curl_easy_init();
}

void et__client_put_handle(et_client *c, CURL *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&c->pool_mu);
    if (c->npool < (int)(sizeof c->pool / sizeof c->pool[0])) {
        c->pool[c->npool++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->pool_mu);
    if (h != NULL)
        curl_easy_cleanup(h);
}

static void nap_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Sends once per attempt until success, a final answer, or retry_ms pass. */
static int send_retrying(et_client *c, const char *method, const char *url, const char *body,
                         size_t len, const char *idem, int retry_ms, struct http_reply *rep)
{
    int64_t until = et__util_mono_ms() + retry_ms;
    CURL *h = et__client_get_handle(c);
    int rc;

    if (h == NULL)
        return ET_ENOMEM;
    for (int attempt = 1;; attempt++) {
        rc = et__http_request(h, url, method, body, len, idem, c->opt.request_timeout_ms, rep);
        if (rc == ET_ENOMEM || (rc == ET_OK && !et__http_retryable(rep->status)))
            break;
        int64_t wait = et__http_backoff_ms(attempt);
        if (et__util_mono_ms() + wait > until || atomic_load(&c->closing))
            break;
        nap_ms(wait);
    }
    et__client_put_handle(c, h);
    if (rc == ET_OK && rep->status != 200)
        rc = et__http_error_code(rep);
    return rc;
}

int et__ctl_call(et_client *c, const char *method, const char *path, json_t *body,
                 const char *query, json_t **reply)
{
    struct http_reply rep = {0};
    struct et_dbuf url;
    char *text = NULL;
    int rc;

    if (reply)
        *reply = NULL;
    et__dbuf_init(&url);
    et__dbuf_init(&rep.body);
    if (et__dbuf_addf(&url, "%s%s%s%s", c->url, path, query ? "?" : "", query ? query : "") !=
        ET_OK)
        return ET_ENOMEM;
    if (body != NULL && (text = json_dumps(body, JSON_COMPACT)) == NULL) {
        rc = ET_ENOMEM;
        goto out;
    }
    rc = send_retrying(c, method, url.data, text, text ? strlen(text) : 0, NULL,
                       c->opt.control_retry_ms, &rep);
    if (rc != ET_OK)
        goto out;
    json_t *j = json_loadb(rep.body.data ? rep.body.data : "", rep.body.len, 0, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        et__util_set_error("%s %s: reply is not a JSON object", method, path);
        rc = ET_EPROTOCOL;
        goto out;
    }
    if (reply)
        *reply = j;
    else
        json_decref(j);
out:
    free(text);
    et__dbuf_cleanup(&url);
    et__dbuf_cleanup(&rep.body);
    return rc;
}

int et__ctl_post_text(et_client *c, const char *path, const char *body, size_t len,
                      const char *idem_key, int retry_ms)
{
    struct http_reply rep = {0};
    struct et_dbuf url;
    int rc;

    et__dbuf_init(&url);
    et__dbuf_init(&rep.body);
    if (et__dbuf_addf(&url, "%s%s", c->url, path) != ET_OK)
        return ET_ENOMEM;
    rc = send_retrying(c, "POST", url.data, body, len, idem_key, retry_ms, &rep);
    et__dbuf_cleanup(&url);
    et__dbuf_cleanup(&rep.body);
    return rc;
}

int et__client_spool_append(et_client *c, const struct spool_rec *r)
{
    pthread_mutex_lock(&c->spool_mu);
    int rc = et__spool_append(c->spool, r);
    pthread_mutex_unlock(&c->spool_mu);
    return rc;
}

int et__client_spool_busy(et_client *c)
{
    pthread_mutex_lock(&c->spool_mu);
    int busy = et__spool_pending(c->spool, 0) > 0;
    pthread_mutex_unlock(&c->spool_mu);
    return busy;
}
