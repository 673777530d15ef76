/* The delivery threads: take a due outbox row, check its URL again, POST
 * it, and record delivered / retry later / failed. A commit that wrote
 * outbox rows kicks them (webhook_delivery_kick); otherwise they look every
 * second, which also picks up rows written by other exptrackd processes and
 * retries that came due. */
#include "delivery.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <uuid/uuid.h>

#include "core/b64.h"
#include "core/log.h"
#include "core/worker.h"
#include "db/db.h"
#include "ops/metrics.h"
#include "secret_box.h"
#include "store_webhooks.h"
#include "webhook_url.h"

#define POLL_MS 1000
#define BACKOFF_CAP_S 60
#define LEASE_EXTRA_S 30  /* beyond the request timeout, before a claimed row is due again */
#define PRUNE_EVERY_S 600 /* how often delivered rows past their keeping time are removed */
#define KEEP_DELIVERED_DAYS 7

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct worker workers = WORKER_INIT(&mu, &cv);
static unsigned long long kicks; /* generation: raised by every kick */
static time_t last_prune;        /* under mu */
static atomic_int shutting_down; /* aborts requests in flight */
static int timeout_s = 30;
static int max_retries = 3;
static __thread unsigned jitter_seed; /* per thread: rand_r */

void webhook_sign(const char *secret, const char *delivery_id, const char *timestamp,
                  const char *body, char *out, size_t out_len)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    size_t id_len = strlen(delivery_id), ts_len = strlen(timestamp), body_len = strlen(body);
    size_t len = id_len + ts_len + body_len + 2;
    char *msg = malloc(len + 1);
    char b64[B64_ENCODED_LEN(EVP_MAX_MD_SIZE) + 1];

    if (msg == NULL) {
        snprintf(out, out_len, "v1,");
        return;
    }
    snprintf(msg, len + 1, "%s.%s.%s", delivery_id, timestamp, body);
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg, len, mac, &mac_len);
    free(msg);
    b64_encode(b64, mac, mac_len);
    snprintf(out, out_len, "v1,%s", b64);
}

struct capture {
    struct webhook_result *out;
    size_t len;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct capture *c = arg;
    size_t n = size * nmemb;
    size_t room = sizeof c->out->body - 1 - c->len;
    size_t take = n < room ? n : room;
    memcpy(c->out->body + c->len, data, take);
    c->len += take;
    c->out->body[c->len] = '\0';
    return n;
}

/* libcurl's progress callback: a non-zero answer aborts the transfer. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)arg;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return atomic_load(&shutting_down) ? 1 : 0;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    struct capture *c = arg;
    size_t n = size * nmemb;
    if (n > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
        char buf[32];
        size_t len = n - 12 < sizeof buf - 1 ? n - 12 : sizeof buf - 1;
        memcpy(buf, data + 12, len);
        buf[len] = '\0';
        char *end;
        long v = strtol(buf, &end, 10);
        if (end != buf && v >= 0)
            c->out->retry_after = v; /* an HTTP date is ignored: backoff applies */
    }
    return n;
}

void webhook_send(const char *url, const char *secret, const char *body, struct webhook_result *out)
{
    char pin[600], why[512], id[37], ts[24], sig[128], line[200];
    struct curl_slist *headers = NULL, *resolve = NULL;
    struct capture cap = {out, 0};
    uuid_t u;

    memset(out, 0, sizeof *out);
    out->retry_after = -1;
    if (webhook_url_check(url, why, sizeof why, pin, sizeof pin) < 0) {
        snprintf(out->error, sizeof out->error, "%s", why);
        return;
    }
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        snprintf(out->error, sizeof out->error, "could not start an HTTP request");
        return;
    }
    uuid_generate_random(u);
    uuid_unparse_lower(u, id);
    snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
    headers = curl_slist_append(headers, "Content-Type: application/json");
    snprintf(line, sizeof line, "X-MLflow-Delivery-Id: %s", id);
    headers = curl_slist_append(headers, line);
    snprintf(line, sizeof line, "X-MLflow-Timestamp: %s", ts);
    headers = curl_slist_append(headers, line);
    if (secret != NULL && secret[0] != '\0') {
        webhook_sign(secret, id, ts, body, sig, sizeof sig);
        snprintf(line, sizeof line, "X-MLflow-Signature: %s", sig);
        headers = curl_slist_append(headers, line);
    }
    headers = curl_slist_append(headers, "Expect:");
    if (pin[0] != '\0')
        resolve = curl_slist_append(resolve, pin);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)timeout_s);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "exptrack-webhooks");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &cap);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &cap);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    CURLcode cc = curl_easy_perform(curl);
    if (cc == CURLE_OK) {
        out->sent = 1;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    } else {
        snprintf(out->error, sizeof out->error, "%s", curl_easy_strerror(cc));
    }
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    curl_slist_free_all(resolve);
}

static int retryable(const struct webhook_result *r)
{
    if (!r->sent)
        return r->status != -1;
    return r->status == 429 || r->status == 500 || r->status == 502 || r->status == 503 ||
           r->status == 504;
}

/* Milliseconds before attempt number attempts + 1: Retry-After when the
 * receiver gave one, else 1 s doubling per attempt; capped at 60 s, plus up
 * to 1 s of jitter. */
static int64_t backoff_ms(int attempts, long retry_after)
{
    int64_t s = retry_after >= 0 ? retry_after : (int64_t)1 << (attempts < 7 ? attempts - 1 : 6);
    if (s > BACKOFF_CAP_S)
        s = BACKOFF_CAP_S;
    if (jitter_seed == 0)
        jitter_seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)&s;
    return s * 1000 + rand_r(&jitter_seed) % 1000;
}

/* Delivers one claimed row and records the outcome. */
static void deliver(const struct webhook_delivery *d)
{
    struct webhook_result res;
    enum webhook_outcome outcome;
    int64_t retry = 0;
    char error[600] = "";

    char *secret = NULL;
    if (d->secret_sealed && secret_box_open(d->secret, d->webhook_id, &secret) != 0) {
        memset(&res, 0, sizeof res);
        snprintf(
            res.error, sizeof res.error,
            "the webhook's secret cannot be decrypted (is --webhook-secret-key-file the key it "
            "was stored with?)");
        res.status = -1; /* not retryable: no attempt can succeed */
    } else {
        webhook_send(d->url, secret ? secret : d->secret, d->body, &res);
    }
    if (secret != NULL)
        OPENSSL_cleanse(secret, strlen(secret));
    free(secret);
    if (res.sent && res.status >= 200 && res.status < 300) {
        outcome = WEBHOOK_DELIVERED;
    } else if (retryable(&res) && d->attempts <= max_retries) {
        outcome = WEBHOOK_RETRY;
        retry = backoff_ms(d->attempts, res.sent ? res.retry_after : -1);
    } else {
        outcome = WEBHOOK_FAILED;
    }
    if (!res.sent)
        snprintf(error, sizeof error, "%s", res.error);
    else if (outcome != WEBHOOK_DELIVERED)
        snprintf(error, sizeof error, "HTTP %ld", res.status);
    if (outcome == WEBHOOK_FAILED)
        log_warn("webhooks: delivery %lld to %s failed for good after %d attempt(s): %s",
                 (long long)d->id, d->url, d->attempts, error);
    metrics_webhook_delivery(outcome == WEBHOOK_DELIVERED ? 0 : outcome == WEBHOOK_RETRY ? 1 : 2);
    if (store_webhook_finish(d->id, outcome, res.sent ? (int)res.status : 0,
                             error[0] ? error : NULL, retry) != DB_OK)
        log_warn("webhooks: could not record the outcome of delivery %lld (it will be sent again)",
                 (long long)d->id);
}

/* Delivers every due row; returns when none is left or the database fails. */
static void drain(void)
{
    for (;;) {
        struct arena arena;
        struct webhook_delivery d;
        arena_init(&arena);
        int rc = store_webhook_claim(timeout_s + LEASE_EXTRA_S, &arena, &d);
        if (rc == DB_OK)
            deliver(&d);
        arena_cleanup(&arena);
        if (rc != DB_OK)
            return;
        pthread_mutex_lock(&mu);
        int stop = worker_stopping(&workers);
        pthread_mutex_unlock(&mu);
        if (stop)
            return;
    }
}

/* Removes delivered rows past their keeping time, every PRUNE_EVERY_S (one
 * thread does it). Failed rows stay for inspection. */
static void maybe_prune(void)
{
    time_t now = time(NULL);
    pthread_mutex_lock(&mu);
    int due = now - last_prune >= PRUNE_EVERY_S;
    if (due)
        last_prune = now;
    pthread_mutex_unlock(&mu);
    if (due && store_webhook_prune(KEEP_DELIVERED_DAYS) != DB_OK)
        log_warn("webhooks: could not remove old delivered outbox rows");
}

static void *run(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!worker_stopping(&workers)) {
        unsigned long long seen = kicks;
        pthread_mutex_unlock(&mu);
        drain();
        maybe_prune();
        pthread_mutex_lock(&mu);
        if (kicks != seen)
            continue;
        struct timespec deadline;
        worker_deadline(&deadline, POLL_MS);
        worker_wait(&workers, &deadline);
    }
    pthread_mutex_unlock(&mu);
    db_thread_close();
    return NULL;
}

int webhook_delivery_start(const struct webhook_options *o)
{
    int rc = 0;

    if (secret_box_configure(o->secret_key_file) < 0)
        return -1;
    webhook_url_configure(o->allowed_schemes, o->allow_private_ips);
    timeout_s = o->timeout_s;
    atomic_store(&shutting_down, 0);
    max_retries = o->max_retries;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_mutex_lock(&mu);
    for (int i = 0; i < o->workers && i < WEBHOOK_MAX_WORKERS; i++)
        if (worker_start(&workers, run, NULL) != 0) {
            log_error("webhooks: could not start a delivery thread");
            rc = -1;
            break;
        }
    pthread_mutex_unlock(&mu);
    return rc;
}

void webhook_delivery_stop(void)
{
    atomic_store(&shutting_down, 1); /* requests in flight end now; their rows are retried */
    if (worker_stop(&workers))
        curl_global_cleanup();
}

void webhook_delivery_kick(int n)
{
    if (n <= 0)
        return;
    metrics_webhook_queued((size_t)n);
    pthread_mutex_lock(&mu);
    kicks++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}
