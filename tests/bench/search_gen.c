/* Data generator of the search benchmark (tests/bench/search_bench.mjs): fills
 * one experiment with N runs of 20 params, 20 metrics and one tag, through
 * the API: runs/create (with the tag), one runs/log-batch with all 40 values,
 * and runs/update to FINISHED for every third run. T threads, each with its
 * own keep-alive connection, take run numbers from a shared counter. Values
 * are a pure function of the run number, so every invocation builds the
 * same data (run ids and creation order aside).
 *
 * usage: search_gen --url URL --experiment ID --runs N [--threads T]
 * prints progress to stderr and one "RESULT ..." line to stdout; exits 1
 * when any request failed. */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "bench_util.h"

#define NPARAMS 20
#define NMETRICS 20
#define NGROUPS 100      /* distinct values of tag t1: group-0 .. group-99 */
#define NPARAM_VALUES 20 /* distinct values of each param: v0 .. v19 */
#define END_TIME 1800000000000LL
#define RESPONSE_KEEP 8192
#define PROGRESS_EVERY 10000

struct options {
    const char *url;
    const char *experiment;
    long runs;
    int threads;
};

struct response {
    char data[RESPONSE_KEEP + 1];
    size_t len;
};

/* A growable request body. */
struct body {
    char *buf;
    size_t len, cap;
};

struct worker {
    pthread_t thread;
    const struct options *opt;
    CURL *curl;
    struct curl_slist *headers;
    struct body body;
    struct response resp;
    char create_url[512], batch_url[512], update_url[512];
    long requests;
    int failed;
};

static atomic_long g_next;
static atomic_long g_done;
static atomic_int g_stop;
static struct timespec g_start;

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* splitmix64: a well-mixed 64-bit value for each (run, slot), so values of
 * neighbouring runs are unrelated (a plain LCG seeded with the run number
 * makes the first draw grow with it, i.e. with start_time). */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Uniform in [0, 1) for slot of run i. */
static double draw(long i, int slot)
{
    return (double)(mix((uint64_t)i * 64 + (uint64_t)slot) >> 11) / 9007199254740992.0;
}

static int body_add(struct body *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int body_add(struct body *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return -1;
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return 0;
        }
        size_t cap = b->cap * 2 + (size_t)n + 1;
        char *p = realloc(b->buf, cap);
        if (p == NULL)
            return -1;
        b->buf = p;
        b->cap = cap;
    }
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct response *r = userdata;
    size_t n = size * nmemb, room = RESPONSE_KEEP - r->len, take = n < room ? n : room;
    memcpy(r->data + r->len, ptr, take);
    r->len += take;
    r->data[r->len] = '\0';
    return n;
}

/* POSTs the worker's body to url; 0 on HTTP 200, else -1 (logged). */
static int post(struct worker *w, const char *url)
{
    long status = -1;
    w->resp.len = 0;
    w->resp.data[0] = '\0';
    curl_easy_setopt(w->curl, CURLOPT_URL, url);
    curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, w->body.buf);
    curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)w->body.len);
    CURLcode rc = curl_easy_perform(w->curl);
    w->requests++;
    if (rc != CURLE_OK) {
        fprintf(stderr, "search_gen: POST %s: %s\n", url, curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        fprintf(stderr, "search_gen: POST %s -> %ld: %.300s\n", url, status, w->resp.data);
        return -1;
    }
    return 0;
}

/* The run id of a runs/create reply, into out (33 bytes). */
static int reply_run_id(const struct response *resp, char *out)
{
    json_error_t err;
    json_t *root = json_loadb(resp->data, resp->len, 0, &err);
    const char *id = json_string_value(
        json_object_get(json_object_get(json_object_get(root, "run"), "info"), "run_id"));
    int rc = -1;
    if (id != NULL && strlen(id) == 32) {
        memcpy(out, id, 33);
        rc = 0;
    } else {
        fprintf(stderr, "search_gen: unexpected runs/create reply: %.300s\n", resp->data);
    }
    json_decref(root);
    return rc;
}

static int create_run(struct worker *w, long i, char *run_id)
{
    w->body.len = 0;
    if (body_add(&w->body,
                 "{\"experiment_id\":\"%s\",\"start_time\":%lld,\"run_name\":\"run-%ld\","
                 "\"tags\":[{\"key\":\"t1\",\"value\":\"group-%d\"}]}",
                 w->opt->experiment, BENCH_TS_BASE + (long long)(i / 2) * 1000, i,
                 (int)(draw(i, 63) * NGROUPS)) < 0)
        return -1;
    if (post(w, w->create_url) < 0)
        return -1;
    return reply_run_id(&w->resp, run_id);
}

static int log_batch(struct worker *w, long i, const char *run_id)
{
    w->body.len = 0;
    int rc = body_add(&w->body, "{\"run_id\":\"%s\",\"metrics\":[", run_id);
    for (int k = 0; k < NMETRICS && rc == 0; k++)
        rc = body_add(&w->body, "%s{\"key\":\"m%d\",\"value\":%.17g,\"timestamp\":%lld,\"step\":0}",
                      k ? "," : "", k, draw(i, k), BENCH_TS_BASE + (long long)i);
    if (rc == 0)
        rc = body_add(&w->body, "],\"params\":[");
    for (int k = 0; k < NPARAMS && rc == 0; k++)
        rc = body_add(&w->body, "%s{\"key\":\"p%d\",\"value\":\"v%d\"}", k ? "," : "", k,
                      (int)(draw(i, 32 + k) * NPARAM_VALUES));
    if (rc == 0)
        rc = body_add(&w->body, "]}");
    return rc == 0 ? post(w, w->batch_url) : -1;
}

static int finish_run(struct worker *w, const char *run_id)
{
    w->body.len = 0;
    if (body_add(&w->body, "{\"run_id\":\"%s\",\"status\":\"FINISHED\",\"end_time\":%lld}", run_id,
                 END_TIME) < 0)
        return -1;
    return post(w, w->update_url);
}

static int make_run(struct worker *w, long i)
{
    char run_id[33];
    if (create_run(w, i, run_id) < 0 || log_batch(w, i, run_id) < 0)
        return -1;
    return i % 3 == 0 ? finish_run(w, run_id) : 0;
}

static void progress(long done, long total)
{
    if (done % PROGRESS_EVERY != 0 && done != total)
        return;
    double s = since(&g_start);
    fprintf(stderr, "search_gen: %ld/%ld runs (%.0f runs/s)\n", done, total,
            s > 0 ? (double)done / s : 0.0);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (;;) {
        long i = atomic_fetch_add(&g_next, 1);
        if (i >= w->opt->runs || atomic_load(&g_stop))
            break;
        if (make_run(w, i) < 0) {
            w->failed = 1;
            atomic_store(&g_stop, 1);
            break;
        }
        progress(atomic_fetch_add(&g_done, 1) + 1, w->opt->runs);
    }
    return NULL;
}

static int worker_init(struct worker *w, const struct options *opt)
{
    w->opt = opt;
    w->curl = curl_easy_init();
    w->headers = curl_slist_append(NULL, "Content-Type: application/json");
    /* no "Expect: 100-continue" round trip for bodies over 1 KiB */
    if (w->headers != NULL)
        w->headers = curl_slist_append(w->headers, "Expect:");
    w->body.cap = 4096;
    w->body.buf = malloc(w->body.cap);
    if (w->curl == NULL || w->headers == NULL || w->body.buf == NULL)
        return -1;
    curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(w->curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(w->curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(w->curl, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(w->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, w->headers);
    curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, &w->resp);
    snprintf(w->create_url, sizeof w->create_url, "%s/api/2.0/mlflow/runs/create", opt->url);
    snprintf(w->batch_url, sizeof w->batch_url, "%s/api/2.0/mlflow/runs/log-batch", opt->url);
    snprintf(w->update_url, sizeof w->update_url, "%s/api/2.0/mlflow/runs/update", opt->url);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: search_gen --url URL --experiment ID --runs N [--threads T]\n"
               "  fills experiment ID with N runs x 20 params x 20 metrics through\n"
               "  runs/create + runs/log-batch (+ runs/update for every third run)\n"
               "  from T connections (default 32)\n");
}

static int parse_args(int argc, char **argv, struct options *opt)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},  {"experiment", required_argument, NULL, 'e'},
        {"runs", required_argument, NULL, 'n'}, {"threads", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    int c;
    memset(opt, 0, sizeof *opt);
    opt->threads = 32;
    while ((c = getopt_long(argc, argv, "u:e:n:t:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            opt->url = optarg;
            break;
        case 'e':
            opt->experiment = optarg;
            break;
        case 'n':
            opt->runs = strtol(optarg, NULL, 10);
            break;
        case 't':
            opt->threads = (int)strtol(optarg, NULL, 10);
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return -1;
        }
    }
    if (opt->url == NULL || opt->experiment == NULL || opt->runs < 1 || opt->threads < 1 ||
        opt->threads > 1024 || strlen(opt->url) > 400 || strlen(opt->experiment) > 32) {
        usage(stderr);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct options opt;
    struct worker *w = NULL;
    int started = 0, failed = 0, ret = 2;
    long requests = 0;

    switch (parse_args(argc, argv, &opt)) {
    case 0:
        break;
    case 1:
        return 0;
    default:
        return 2;
    }
    if (opt.threads > opt.runs)
        opt.threads = (int)opt.runs;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 2;
    w = calloc((size_t)opt.threads, sizeof *w);
    if (w == NULL)
        goto out;
    for (int i = 0; i < opt.threads; i++)
        if (worker_init(&w[i], &opt) < 0)
            goto out;
    double cpu0 = bench_cpu_seconds();
    clock_gettime(CLOCK_MONOTONIC, &g_start);
    for (started = 0; started < opt.threads; started++)
        if (pthread_create(&w[started].thread, NULL, worker_main, &w[started]) != 0)
            break;
    for (int i = 0; i < started; i++) {
        pthread_join(w[i].thread, NULL);
        failed += w[i].failed;
        requests += w[i].requests;
    }
    double secs = since(&g_start);
    long done = atomic_load(&g_done);
    printf("RESULT runs=%ld requests=%ld seconds=%.1f runs_per_s=%.0f client_cpu_s=%.1f\n", done,
           requests, secs, secs > 0 ? (double)done / secs : 0.0, bench_cpu_seconds() - cpu0);
    ret = failed || started < opt.threads || done != opt.runs ? 1 : 0;
out:
    if (w != NULL) {
        for (int i = 0; i < opt.threads; i++) {
            if (w[i].curl != NULL)
                curl_easy_cleanup(w[i].curl);
            curl_slist_free_all(w[i].headers);
            free(w[i].body.buf);
        }
    }
    free(w);
    curl_global_cleanup();
    return ret;
}
