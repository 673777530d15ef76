/* Load generator for exptrackd's metric ingest: N threads, each with its own
 * keep-alive HTTP/1.1 connection (one libcurl easy handle) and its own run,
 * POST runs/log-batch with a fixed number of points per request, and report
 * points/s, requests/s and latency percentiles. With --log-metric, N
 * connections (one run each) send single points from one thread instead
 * (metric_loop.c). It does not read data back; tests/bench/run.sh counts
 * the stored rows afterwards. */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "bench_util.h"
#include "metric_loop.h"

/* Steps and timestamps are written into the request template in the
 * fixed-width fields of bench_util.h, so every request is the same prebuilt
 * body with only those digits patched. */
#define SHARED_RUN_STRIDE 1000000000LL /* step offset per thread on a shared run */
#define RESPONSE_KEEP 4096             /* bytes of a response body kept for errors */

struct options {
    const char *url;        /* base URL, e.g. http://127.0.0.1:5000 */
    int threads;            /* client threads, one connection each */
    double duration;        /* seconds of timed load (0: no time limit) */
    long requests;          /* log-batch requests per thread (0: no count limit) */
    int keys;               /* distinct metric keys per request */
    int steps;              /* steps per request; points = keys x steps */
    const char *run_id;     /* log into this run instead of creating runs */
    const char *experiment; /* create runs in this experiment id instead of a new one */
    bool log_metric;        /* POST runs/log-metric with one point instead of log-batch */
    const char *model_id;   /* every log-batch point also carries this logged model id */
};

struct response {
    char data[RESPONSE_KEEP + 1];
    size_t len;
};

struct body {
    char *buf;
    size_t len;
    size_t *step_off; /* offset of each point's step field */
    size_t *ts_off;   /* offset of each point's timestamp field */
    int npoints;
};

struct worker {
    pthread_t thread;
    int index;
    const struct options *opt;
    CURL *curl;
    struct curl_slist *headers;
    char run_id[128];
    char batch_url[512];
    struct body body;
    long long step_base;
    double *lat_ms; /* latency of each timed request */
    size_t nlat;
    size_t caplat;
    unsigned long long warmup_points; /* stored before timing starts */
    unsigned long long points;
    unsigned long long requests;
    unsigned long long errors;
    struct timespec end;
    bool failed;
};

static pthread_barrier_t g_ready;
static pthread_barrier_t g_go;
static struct timespec g_start;
static char g_experiment_id[64];

static void now(struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct response *r = userdata;
    size_t n = size * nmemb;
    size_t room = RESPONSE_KEEP - r->len;
    size_t take = n < room ? n : room;

    memcpy(r->data + r->len, ptr, take);
    r->len += take;
    r->data[r->len] = '\0';
    return n;
}

/* POSTs body to url on the worker's connection. Returns the HTTP status, or -1
 * on a transport error (logged). The response body lands in *resp. */
static long post(CURL *curl, struct curl_slist *headers, const char *url, const char *body,
                 size_t len, struct response *resp)
{
    long status = -1;
    CURLcode rc;

    resp->len = 0;
    resp->data[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, resp);
    rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        fprintf(stderr, "loadgen: POST %s: %s\n", url, curl_easy_strerror(rc));
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
out:
    return status;
}

/* POSTs a small JSON request and extracts a string member from the reply by a
 * path of object keys. Returns 0 and fills out, or -1 (logged). */
static int post_json_get(CURL *curl, struct curl_slist *headers, const char *base, const char *path,
                         const char *body, const char *const *keys, char *out, size_t outlen)
{
    char url[512];
    struct response resp;
    json_t *root = NULL;
    json_t *node;
    json_error_t jerr;
    long status;
    int ret = -1;
    int n;

    n = snprintf(url, sizeof(url), "%s%s", base, path);
    if (n < 0 || (size_t)n >= sizeof(url)) {
        fprintf(stderr, "loadgen: URL too long\n");
        goto out;
    }
    status = post(curl, headers, url, body, strlen(body), &resp);
    if (status != 200) {
        fprintf(stderr, "loadgen: POST %s -> %ld: %s\n", path, status, resp.data);
        goto out;
    }
    root = json_loads(resp.data, 0, &jerr);
    if (!root) {
        fprintf(stderr, "loadgen: POST %s: bad JSON reply: %s\n", path, jerr.text);
        goto out;
    }
    node = root;
    for (; *keys; keys++)
        node = json_object_get(node, *keys);
    if (!json_is_string(node) || json_string_length(node) >= outlen) {
        fprintf(stderr, "loadgen: POST %s: unexpected reply: %s\n", path, resp.data);
        goto out;
    }
    memcpy(out, json_string_value(node), json_string_length(node) + 1);
    ret = 0;
out:
    json_decref(root);
    return ret;
}

static int buf_append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int buf_append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return -1;
        if ((size_t)n < *cap - *len)
            break;
        size_t ncap = *cap * 2 + (size_t)n;
        char *nbuf = realloc(*buf, ncap);
        if (!nbuf)
            return -1;
        *buf = nbuf;
        *cap = ncap;
    }
    *len += (size_t)n;
    return 0;
}

/* Builds the request template for one run: keys x steps points, step-major
 * (as a training loop logs every key at each step), with patchable step and
 * timestamp fields. Returns 0 or -1 on out-of-memory. */
static int body_build(struct body *b, const char *run_id, int keys, int steps, const char *model_id)
{
    size_t cap = (size_t)keys * (size_t)steps * (model_id ? 160 : 96) + 256;
    size_t len = 0;
    char *buf = malloc(cap);
    int npoints = keys * steps;
    int p = 0;
    int ret = -1;

    b->step_off = calloc((size_t)npoints, sizeof(*b->step_off));
    b->ts_off = calloc((size_t)npoints, sizeof(*b->ts_off));
    if (!buf || !b->step_off || !b->ts_off)
        goto out;
    if (buf_append(&buf, &len, &cap, "{\"run_id\":\"%s\",\"metrics\":[", run_id) < 0)
        goto out;
    for (int s = 0; s < steps; s++) {
        for (int k = 0; k < keys; k++) {
            double value = 1.0 / (1.0 + s) + 0.001 * k + 1e-7 * (double)p;
            if (buf_append(&buf, &len, &cap, "%s{\"key\":\"m%d\",\"value\":%.17g,\"timestamp\":",
                           p ? "," : "", k, value) < 0)
                goto out;
            b->ts_off[p] = len;
            if (buf_append(&buf, &len, &cap, "%*s,\"step\":", BENCH_TS_WIDTH, "") < 0)
                goto out;
            b->step_off[p] = len;
            if (buf_append(&buf, &len, &cap, "%*s", BENCH_STEP_WIDTH, "") < 0)
                goto out;
            if (model_id && buf_append(&buf, &len, &cap, ",\"model_id\":\"%s\"", model_id) < 0)
                goto out;
            if (buf_append(&buf, &len, &cap, "}") < 0)
                goto out;
            p++;
        }
    }
    if (buf_append(&buf, &len, &cap, "]}") < 0)
        goto out;
    b->buf = buf;
    b->len = len;
    b->npoints = npoints;
    buf = NULL;
    ret = 0;
out:
    free(buf);
    return ret;
}

/* Patches the template for the request whose first step is first_step.
 * Returns -1 when a step outgrows its field. */
static int body_set_steps(struct body *b, int keys, long long first_step)
{
    for (int p = 0; p < b->npoints; p++) {
        long long step = first_step + p / keys;
        if (bench_put_fixed(b->buf + b->step_off[p], BENCH_STEP_WIDTH, step) < 0 ||
            bench_put_fixed(b->buf + b->ts_off[p], BENCH_TS_WIDTH, BENCH_TS_BASE + step) < 0) {
            fprintf(stderr, "loadgen: step %lld does not fit the request template\n", step);
            return -1;
        }
    }
    return 0;
}

static void body_cleanup(struct body *b)
{
    free(b->buf);
    free(b->step_off);
    free(b->ts_off);
}

static int record_latency(struct worker *w, double ms)
{
    if (w->nlat == w->caplat) {
        size_t ncap = w->caplat ? w->caplat * 2 : 1024;
        double *n = realloc(w->lat_ms, ncap * sizeof(*n));
        if (!n)
            return -1;
        w->lat_ms = n;
        w->caplat = ncap;
    }
    w->lat_ms[w->nlat++] = ms;
    return 0;
}

/* One log-batch request. Returns 0 on a 200 reply, -1 otherwise (logged for
 * the first few failures only). */
static int send_batch(struct worker *w, long long first_step, bool timed)
{
    static const int max_reports = 5;
    static int reports;
    struct response resp;
    struct timespec t0, t1;
    long status;

    if (body_set_steps(&w->body, w->opt->keys, first_step) < 0)
        return -1;
    now(&t0);
    status = post(w->curl, w->headers, w->batch_url, w->body.buf, w->body.len, &resp);
    now(&t1);
    if (status != 200) {
        if (__atomic_fetch_add(&reports, 1, __ATOMIC_RELAXED) < max_reports)
            fprintf(stderr, "loadgen: thread %d: log-batch -> %ld: %.300s\n", w->index, status,
                    resp.data);
        return -1;
    }
    if (timed && record_latency(w, bench_seconds(&t0, &t1) * 1e3) < 0)
        return -1;
    return 0;
}

/* Opens the connection, creates the run, sends one untimed warm-up request. */
static int worker_setup(struct worker *w)
{
    static const char *const run_path[] = {"run", "info", "run_id", NULL};
    const struct options *opt = w->opt;
    char req[256];
    int n;

    w->curl = curl_easy_init();
    if (!w->curl)
        return -1;
    w->headers = curl_slist_append(NULL, "Content-Type: application/json");
    /* libcurl < 8 sends "Expect: 100-continue" for bodies over 1 KiB: an extra
     * round trip per request that no real client wants. */
    if (w->headers)
        w->headers = curl_slist_append(w->headers, "Expect:");
    if (!w->headers)
        return -1;
    curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(w->curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(w->curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(w->curl, CURLOPT_TIMEOUT, 120L);

    if (opt->run_id) {
        n = snprintf(w->run_id, sizeof(w->run_id), "%s", opt->run_id);
        if (n < 0 || (size_t)n >= sizeof(w->run_id))
            return -1;
        w->step_base = (long long)w->index * SHARED_RUN_STRIDE;
    } else {
        n = snprintf(req, sizeof(req), "{\"experiment_id\":\"%s\",\"run_name\":\"loadgen-%d\"}",
                     g_experiment_id, w->index);
        if (n < 0 || (size_t)n >= sizeof(req))
            return -1;
        if (post_json_get(w->curl, w->headers, opt->url, "/api/2.0/mlflow/runs/create", req,
                          run_path, w->run_id, sizeof(w->run_id)) < 0)
            return -1;
        w->step_base = 0;
    }
    n = snprintf(w->batch_url, sizeof(w->batch_url), "%s/api/2.0/mlflow/runs/log-batch", opt->url);
    if (n < 0 || (size_t)n >= sizeof(w->batch_url))
        return -1;
    if (body_build(&w->body, w->run_id, opt->keys, opt->steps, opt->model_id) < 0)
        return -1;
    /* Warm-up: connects, and makes the server open its database connection. */
    if (send_batch(w, w->step_base, false) < 0)
        return -1;
    w->warmup_points = (unsigned long long)w->body.npoints;
    w->step_base += opt->steps;
    return 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    const struct options *opt = w->opt;
    struct timespec t;
    long long step;

    w->failed = worker_setup(w) < 0;
    pthread_barrier_wait(&g_ready);
    pthread_barrier_wait(&g_go); /* g_start is set */
    if (w->failed)
        goto out;
    step = w->step_base;
    for (long r = 0; opt->requests == 0 || r < opt->requests; r++) {
        if (opt->duration > 0) {
            now(&t);
            if (bench_seconds(&g_start, &t) >= opt->duration)
                break;
        }
        w->requests++;
        if (send_batch(w, step, true) < 0) {
            w->errors++;
            /* A refused connection would spin; stop this worker instead. */
            if (w->errors >= 10)
                break;
        } else {
            w->points += (unsigned long long)w->body.npoints;
        }
        step += opt->steps;
    }
out:
    now(&w->end);
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: loadgen --url http://HOST:PORT [options]\n"
               "  -t, --threads N       client threads, one connection and run each (8)\n"
               "  -d, --duration SEC    timed load duration, 0 = none (20)\n"
               "  -n, --requests N      log-batch requests per thread, 0 = none (0)\n"
               "  -k, --keys N          metric keys per request (10)\n"
               "  -s, --steps N         steps per request; points = keys x steps (100)\n"
               "  -r, --run-id ID       log into this run (threads use disjoint steps)\n"
               "  -e, --experiment ID   create the runs in this experiment\n"
               "  -m, --log-metric      one point per request through runs/log-metric, every\n"
               "                        connection driven from one thread (-t: connections)\n"
               "  -M, --model-id ID     log-batch points also carry model_id ID (MLflow 3)\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},      {"threads", required_argument, NULL, 't'},
        {"duration", required_argument, NULL, 'd'}, {"requests", required_argument, NULL, 'n'},
        {"keys", required_argument, NULL, 'k'},     {"steps", required_argument, NULL, 's'},
        {"run-id", required_argument, NULL, 'r'},   {"experiment", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},           {"log-metric", no_argument, NULL, 'm'},
        {"model-id", required_argument, NULL, 'M'}, {NULL, 0, NULL, 0},
    };
    long v;
    int c;

    *o = (struct options){.threads = 8, .duration = 20, .keys = 10, .steps = 100};
    while ((c = getopt_long(argc, argv, "u:t:d:n:k:s:r:e:hmM:", longopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            o->url = optarg;
            break;
        case 't':
            if (bench_parse_long(optarg, 1, 1024, &v) < 0)
                goto bad;
            o->threads = (int)v;
            break;
        case 'd':
            if (bench_parse_long(optarg, 0, 86400, &v) < 0)
                goto bad;
            o->duration = (double)v;
            break;
        case 'n':
            if (bench_parse_long(optarg, 0, 100000000, &v) < 0)
                goto bad;
            o->requests = v;
            break;
        case 'k':
            if (bench_parse_long(optarg, 1, 1000, &v) < 0)
                goto bad;
            o->keys = (int)v;
            break;
        case 's':
            if (bench_parse_long(optarg, 1, 1000, &v) < 0)
                goto bad;
            o->steps = (int)v;
            break;
        case 'r':
            o->run_id = optarg;
            break;
        case 'e':
            o->experiment = optarg;
            break;
        case 'm':
            o->log_metric = true;
            break;
        case 'M':
            o->model_id = optarg;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            goto bad;
        }
    }
    if (o->log_metric)
        o->keys = o->steps = 1;
    if (optind != argc || !o->url || (o->duration == 0 && o->requests == 0)) {
        usage(stderr);
        return -1;
    }
    return 0;
bad:
    if (c != '?')
        fprintf(stderr, "loadgen: bad value for -%c: %s\n", c, optarg);
    usage(stderr);
    return -1;
}

/* Creates the experiment all runs go into (a fresh name per invocation). */
static int create_experiment(const struct options *opt)
{
    static const char *const id_path[] = {"experiment_id", NULL};
    struct curl_slist *headers = NULL;
    struct timespec t;
    char req[256];
    CURL *curl = curl_easy_init();
    int ret = -1;
    int n;

    if (!curl)
        goto out;
    headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!headers)
        goto out;
    clock_gettime(CLOCK_REALTIME, &t);
    n = snprintf(req, sizeof(req), "{\"name\":\"loadgen-%ld-%lld.%09ld\"}", (long)getpid(),
                 (long long)t.tv_sec, (long)t.tv_nsec);
    if (n < 0 || (size_t)n >= sizeof(req))
        goto out;
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    ret = post_json_get(curl, headers, opt->url, "/api/2.0/mlflow/experiments/create", req, id_path,
                        g_experiment_id, sizeof(g_experiment_id));
out:
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return ret;
}

/* Prints the totals (lat: ascending latencies of the timed requests). */
static void report_totals(unsigned long long points, unsigned long long warmup,
                          unsigned long long requests, unsigned long long errors, double secs,
                          const double *all, size_t nlat, double cpu)
{
    if (secs <= 0)
        secs = 1e-9;
    printf("loadgen: %llu requests (%llu failed), %llu points in %.2f s, client cpu %.2f s\n",
           requests, errors, points, secs, cpu);
    printf("loadgen: %.0f points/s, %.1f requests/s, latency p50 %.2f ms, p99 %.2f ms, max %.2f "
           "ms\n",
           (double)points / secs, (double)(requests - errors) / secs,
           bench_percentile(all, nlat, 0.50), bench_percentile(all, nlat, 0.99),
           nlat ? all[nlat - 1] : 0.0);
    printf("RESULT points=%llu stored_points=%llu requests=%llu errors=%llu seconds=%.3f "
           "points_per_s=%.0f requests_per_s=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f "
           "client_cpu_s=%.2f\n",
           points, points + warmup, requests, errors, secs, (double)points / secs,
           (double)(requests - errors) / secs, bench_percentile(all, nlat, 0.50),
           bench_percentile(all, nlat, 0.99), nlat ? all[nlat - 1] : 0.0, cpu);
    fflush(stdout);
}

static void report(const struct options *opt, struct worker *w, double cpu)
{
    unsigned long long points = 0, warmup = 0, requests = 0, errors = 0;
    struct timespec end = g_start;
    size_t nlat = 0;
    double *all = NULL;

    for (int i = 0; i < opt->threads; i++) {
        points += w[i].points;
        warmup += w[i].warmup_points;
        requests += w[i].requests;
        errors += w[i].errors;
        nlat += w[i].nlat;
        if (bench_seconds(&end, &w[i].end) > 0)
            end = w[i].end;
    }
    all = malloc((nlat ? nlat : 1) * sizeof(*all));
    if (all) {
        size_t k = 0;
        for (int i = 0; i < opt->threads; i++) {
            memcpy(all + k, w[i].lat_ms, w[i].nlat * sizeof(*all));
            k += w[i].nlat;
        }
        qsort(all, nlat, sizeof(*all), bench_cmp_double);
    } else {
        nlat = 0;
    }
    report_totals(points, warmup, requests, errors, bench_seconds(&g_start, &end), all, nlat, cpu);
    free(all);
}

/* --log-metric: a run per connection (or the --run-id one for all), then
 * the single-thread load. Returns main's exit status. */
static int run_log_metric(const struct options *opt)
{
    static const char *const run_path[] = {"run", "info", "run_id", NULL};
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    char **ids = calloc((size_t)opt->threads, sizeof *ids);
    CURL *curl = curl_easy_init();
    struct metric_loop_result res = {0};
    int ret = 2;

    if (!headers || !ids || !curl)
        goto out;
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    for (int i = 0; i < opt->threads; i++) {
        char req[256];
        if (!(ids[i] = calloc(1, 128)))
            goto out;
        if (opt->run_id) {
            snprintf(ids[i], 128, "%s", opt->run_id);
            continue;
        }
        snprintf(req, sizeof req, "{\"experiment_id\":\"%s\",\"run_name\":\"loadgen-%d\"}",
                 g_experiment_id, i);
        if (post_json_get(curl, headers, opt->url, "/api/2.0/mlflow/runs/create", req, run_path,
                          ids[i], 128) < 0)
            goto out;
    }
    printf("loadgen: %s, %d connections from one thread, 1 point/request (log-metric), %.0f s\n",
           opt->url, opt->threads, opt->duration);
    fflush(stdout);
    double cpu0 = bench_cpu_seconds();
    int rc = metric_loop_run(opt->url, ids, opt->threads, opt->duration, &res);
    double cpu = bench_cpu_seconds() - cpu0;
    if (res.requests == 0 && rc < 0)
        goto out;
    qsort(res.lat_ms, res.nlat, sizeof *res.lat_ms, bench_cmp_double);
    report_totals(res.requests - res.errors, res.warmup, res.requests, res.errors, res.seconds,
                  res.lat_ms, res.nlat, cpu);
    ret = rc < 0 || res.errors > 0 || res.requests == 0 ? 1 : 0;
out:
    for (int i = 0; ids && i < opt->threads; i++)
        free(ids[i]);
    free(ids);
    free(res.lat_ms);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return ret;
}

int main(int argc, char **argv)
{
    struct options opt;
    struct worker *w = NULL;
    int started = 0;
    int failed = 0;
    int ret = 2;
    double cpu0;

    switch (parse_args(argc, argv, &opt)) {
    case 0:
        break;
    case 1:
        return 0;
    default:
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "loadgen: curl_global_init failed\n");
        return 2;
    }
    if (opt.experiment) {
        if (snprintf(g_experiment_id, sizeof(g_experiment_id), "%s", opt.experiment) >=
            (int)sizeof(g_experiment_id)) {
            fprintf(stderr, "loadgen: experiment id too long\n");
            goto out;
        }
    } else if (!opt.run_id && create_experiment(&opt) < 0) {
        goto out;
    }
    if (opt.log_metric) {
        ret = run_log_metric(&opt);
        goto out;
    }
    w = calloc((size_t)opt.threads, sizeof(*w));
    if (!w)
        goto out;
    pthread_barrier_init(&g_ready, NULL, (unsigned)opt.threads + 1);
    pthread_barrier_init(&g_go, NULL, (unsigned)opt.threads + 1);
    printf("loadgen: %s, %d threads, %d points/request (%d keys x %d steps), ", opt.url,
           opt.threads, opt.keys * opt.steps, opt.keys, opt.steps);
    if (opt.duration > 0)
        printf("%.0f s", opt.duration);
    if (opt.requests > 0)
        printf("%s%ld requests/thread", opt.duration > 0 ? ", at most " : "", opt.requests);
    printf("\n");
    fflush(stdout);
    for (started = 0; started < opt.threads; started++) {
        w[started].index = started;
        w[started].opt = &opt;
        if (pthread_create(&w[started].thread, NULL, worker_main, &w[started]) != 0) {
            /* Barriers count every thread: a partial start cannot proceed. */
            fprintf(stderr, "loadgen: pthread_create failed\n");
            exit(2);
        }
    }
    pthread_barrier_wait(&g_ready);
    cpu0 = bench_cpu_seconds();
    now(&g_start);
    pthread_barrier_wait(&g_go);
    for (int i = 0; i < started; i++) {
        pthread_join(w[i].thread, NULL);
        failed += w[i].failed;
    }
    if (failed) {
        fprintf(stderr, "loadgen: %d of %d threads failed to set up\n", failed, opt.threads);
        goto out;
    }
    report(&opt, w, bench_cpu_seconds() - cpu0);
    ret = 0;
    for (int i = 0; i < opt.threads; i++)
        if (w[i].errors || w[i].requests == 0)
            ret = 1;
out:
    if (w) {
        for (int i = 0; i < started; i++) {
            curl_easy_cleanup(w[i].curl);
            curl_slist_free_all(w[i].headers);
            body_cleanup(&w[i].body);
            free(w[i].lat_ms);
        }
        pthread_barrier_destroy(&g_ready);
        pthread_barrier_destroy(&g_go);
    }
    free(w);
    curl_global_cleanup();
    return ret;
}
