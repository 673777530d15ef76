/* Mixed-traffic load test for exptrackd (tests/bench/mixed.sh, make bench):
 * many keep-alive connections, each request drawn at random as 80% runs/
 * log-batch (100-point batches into a set of runs), 15% runs/search (a few
 * realistic filters over an experiment of a few thousand runs) and 5%
 * artifact downloads (small and medium files). Sets that data up first
 * (untimed), then runs the timed load and reports throughput, p50/p99 latency
 * per kind, every error (any non-2xx answer or transport failure) and, with
 * --server-pid, the server's RSS before and after the load. Exits 1 when any
 * request failed. */
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "bench_util.h"

#define KEYS 10                  /* metric keys per log-batch */
#define STEPS 10                 /* steps per log-batch: 100 points */
#define STEP_STRIDE 1000000000LL /* steps of one connection on a shared run */
#define SETUP_THREADS 32         /* concurrent commits share WAL flushes */
#define MAX_REPORTS 10           /* error messages printed in full */

enum kind { K_BATCH, K_SEARCH, K_ARTIFACT, K__COUNT };
static const char *const kind_names[K__COUNT] = {"log-batch", "runs/search", "artifact read"};

struct options {
    const char *url;
    int threads;      /* connections, one thread each (64) */
    int duration;     /* seconds of timed load (30) */
    int search_runs;  /* runs in the searched experiment (3000) */
    int write_runs;   /* runs the batches go to (16) */
    pid_t server_pid; /* exptrackd, for its RSS; 0: not reported */
};

/* A response body, kept whole (searches are parsed during set-up). */
struct response {
    char *data;
    size_t len, cap;
};

struct stats {
    unsigned long long requests, errors, points, bytes;
    double *lat_ms;
    size_t nlat, cap;
};

struct worker {
    pthread_t thread;
    int index;
    CURL *curl;
    struct curl_slist *headers;
    struct response resp;
    char *batch; /* log-batch body template */
    size_t batch_len;
    size_t step_off[KEYS * STEPS], ts_off[KEYS * STEPS];
    long long next_step;
    uint64_t rng;
    struct stats st[K__COUNT];
    bool failed;
};

struct artifact {
    char url[512];
    size_t size;
};

static struct options opt;
static char search_exp[32], write_exp[32];
static char (*write_run_ids)[40];
static char *searches[8];
static int nsearches;
static struct artifact artifacts[4];
static int nartifacts;
static pthread_barrier_t ready, go;
static struct timespec t_start;
static int reports;

static double seconds_since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return bench_seconds(a, &b);
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct response *r = userdata;
    size_t n = size * nmemb;
    if (r->len + n + 1 > r->cap) {
        size_t cap = (r->len + n + 1) * 2;
        char *d = realloc(r->data, cap);
        if (d == NULL)
            return 0; /* curl reports a write error */
        r->data = d;
        r->cap = cap;
    }
    memcpy(r->data + r->len, ptr, n);
    r->len += n;
    r->data[r->len] = '\0';
    return n;
}

/* A connection with the headers every request sends. Returns NULL on OOM. */
static CURL *open_handle(struct curl_slist **headers)
{
    CURL *c = curl_easy_init();
    *headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (*headers)
        *headers = curl_slist_append(*headers, "Expect:");
    if (c == NULL || *headers == NULL) {
        curl_easy_cleanup(c);
        curl_slist_free_all(*headers);
        return NULL;
    }
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    return c;
}

/* One request on c: method GET (body NULL), POST or PUT (body). Returns the
 * HTTP status, or -1 on a transport error; the body lands in *resp. */
static long request(CURL *c, struct curl_slist *headers, const char *method, const char *url,
                    const char *body, size_t len, struct response *resp, char *err, size_t errlen)
{
    long status = -1;
    resp->len = 0;
    if (resp->data)
        resp->data[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    if (body == NULL) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, strcmp(method, "PUT") == 0 ? "PUT" : NULL);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s", curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

/* POSTs body to base+path and copies the string at the key path of the JSON
 * reply into out. Returns 0, or -1 (printed). */
static int post_get(CURL *c, struct curl_slist *h, struct response *resp, const char *path,
                    const char *body, const char *const *keys, char *out, size_t outlen)
{
    char url[512], err[256];
    int rc = -1;
    snprintf(url, sizeof url, "%s%s", opt.url, path);
    long status = request(c, h, "POST", url, body, strlen(body), resp, err, sizeof err);
    if (status != 200) {
        fprintf(stderr, "mixed: POST %s -> %ld: %.300s\n", path, status,
                status < 0 ? err : resp->data);
        return -1;
    }
    json_t *root = json_loadb(resp->data, resp->len, 0, NULL);
    json_t *node = root;
    for (; keys && *keys; keys++)
        node = json_object_get(node, *keys);
    if (keys == NULL) {
        rc = 0;
    } else if (json_is_string(node) && json_string_length(node) < outlen) {
        memcpy(out, json_string_value(node), json_string_length(node) + 1);
        rc = 0;
    } else {
        fprintf(stderr, "mixed: POST %s: unexpected reply %.300s\n", path, resp->data);
    }
    json_decref(root);
    return rc;
}

static uint64_t next_rand(uint64_t *s)
{
    /* xorshift64*: plenty for picking request kinds */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* --- set-up ---------------------------------------------------------------- */

static int create_experiment(CURL *c, struct curl_slist *h, struct response *resp, const char *what,
                             char *out, size_t outlen)
{
    static const char *const id[] = {"experiment_id", NULL};
    char body[160];
    snprintf(body, sizeof body, "{\"name\":\"mixed-%s-%ld-%ld\"}", what, (long)getpid(),
             (long)time(NULL));
    return post_get(c, h, resp, "/api/2.0/mlflow/experiments/create", body, id, out, outlen);
}

static int create_run(CURL *c, struct curl_slist *h, struct response *resp, const char *exp,
                      const char *name, char *run_id, size_t len)
{
    static const char *const id[] = {"run", "info", "run_id", NULL};
    char body[256];
    snprintf(body, sizeof body,
             "{\"experiment_id\":\"%s\",\"run_name\":\"%s\",\"start_time\":%lld}", exp, name,
             (long long)time(NULL) * 1000);
    return post_get(c, h, resp, "/api/2.0/mlflow/runs/create", body, id, run_id, len);
}

/* One run of the searched experiment: params, a tag, latest metrics and, for
 * two runs in three, status FINISHED. Values cycle so every filter matches
 * a realistic share of the runs. */
static int make_search_run(CURL *c, struct curl_slist *h, struct response *resp, int i)
{
    static const char *const models[] = {"resnet50", "vit-b16", "bert-base", "gpt2-small"};
    static const char *const lrs[] = {"0.1", "0.01", "0.001", "0.0001"};
    static const char *const teams[] = {"vision", "nlp", "speech"};
    char run_id[40], name[32], body[1024];
    snprintf(name, sizeof name, "trial-%d", i);
    if (create_run(c, h, resp, search_exp, name, run_id, sizeof run_id) < 0)
        return -1;
    double loss = 2.0 * (double)((i * 7919) % 1000) / 1000.0;
    double acc = (double)((i * 104729) % 1000) / 1000.0;
    snprintf(body, sizeof body,
             "{\"run_id\":\"%s\",\"params\":[{\"key\":\"model\",\"value\":\"%s\"},"
             "{\"key\":\"lr\",\"value\":\"%s\"},{\"key\":\"batch_size\",\"value\":\"%d\"}],"
             "\"tags\":[{\"key\":\"team\",\"value\":\"%s\"}],"
             "\"metrics\":[{\"key\":\"loss\",\"value\":%.4f,\"timestamp\":%lld,\"step\":100},"
             "{\"key\":\"acc\",\"value\":%.4f,\"timestamp\":%lld,\"step\":100}]}",
             run_id, models[i % 4], lrs[(i / 4) % 4], 32 << (i % 4), teams[i % 3], loss,
             BENCH_TS_BASE + i, acc, BENCH_TS_BASE + i);
    if (post_get(c, h, resp, "/api/2.0/mlflow/runs/log-batch", body, NULL, NULL, 0) < 0)
        return -1;
    if (i % 3 == 2)
        return 0;
    snprintf(body, sizeof body, "{\"run_id\":\"%s\",\"status\":\"FINISHED\",\"end_time\":%lld}",
             run_id, BENCH_TS_BASE + i + 60000);
    return post_get(c, h, resp, "/api/2.0/mlflow/runs/update", body, NULL, NULL, 0);
}

struct setup_job {
    pthread_t thread;
    int first, step;
    int rc;
};

static void *setup_main(void *arg)
{
    struct setup_job *j = arg;
    struct curl_slist *h;
    struct response resp = {0};
    CURL *c = open_handle(&h);
    j->rc = c == NULL ? -1 : 0;
    for (int i = j->first; j->rc == 0 && i < opt.search_runs; i += j->step)
        j->rc = make_search_run(c, h, &resp, i);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    free(resp.data);
    return NULL;
}

/* Uploads the artifacts the load reads: 1 KiB to 1 MiB into the first write
 * run, through the artifact proxy (PUT). */
static int upload_artifacts(CURL *c, struct curl_slist *h, struct response *resp)
{
    static const size_t sizes[] = {1024, 16 * 1024, 256 * 1024, 1024 * 1024};
    char err[256];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct artifact *a = &artifacts[nartifacts];
        char *data = malloc(sizes[i]);
        if (data == NULL)
            return -1;
        for (size_t b = 0; b < sizes[i]; b++)
            data[b] = (char)('a' + (b * 31 + i) % 26);
        snprintf(a->url, sizeof a->url,
                 "%s/api/2.0/mlflow-artifacts/artifacts/%s/%s/artifacts/mixed/file-%zu.txt",
                 opt.url, write_exp, write_run_ids[0], sizes[i]);
        a->size = sizes[i];
        long status = request(c, h, "PUT", a->url, data, sizes[i], resp, err, sizeof err);
        free(data);
        if (status != 200) {
            fprintf(stderr, "mixed: PUT %s -> %ld: %.300s\n", a->url, status,
                    status < 0 ? err : resp->data);
            return -1;
        }
        nartifacts++;
    }
    return 0;
}

/* The searches of the load, and how many runs each finds (printed: a filter
 * that finds nothing measures nothing). */
static int prepare_searches(CURL *c, struct curl_slist *h, struct response *resp)
{
    static const char *const q[][2] = {
        {"metrics.loss < 0.5", "[\"metrics.acc DESC\"]"},
        {"params.model = 'resnet50' and metrics.acc > 0.8", "[]"},
        {"tags.team = 'vision'", "[\"attributes.start_time DESC\"]"},
        {"attributes.status = 'FINISHED' and params.lr = '0.001'", "[\"metrics.loss ASC\"]"},
        {"attributes.run_name LIKE 'trial-1%'", "[]"},
    };
    char url[512], err[256];
    snprintf(url, sizeof url, "%s/api/2.0/mlflow/runs/search", opt.url);
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        if (asprintf(&searches[nsearches],
                     "{\"experiment_ids\":[\"%s\"],\"filter\":\"%s\",\"max_results\":100,"
                     "\"order_by\":%s}",
                     search_exp, q[i][0], q[i][1]) < 0)
            return -1;
        const char *body = searches[nsearches++];
        long status = request(c, h, "POST", url, body, strlen(body), resp, err, sizeof err);
        json_t *root = status == 200 ? json_loadb(resp->data, resp->len, 0, NULL) : NULL;
        size_t n = json_array_size(json_object_get(root, "runs"));
        json_decref(root);
        if (status != 200 || n == 0) {
            fprintf(stderr, "mixed: search %s -> %ld, %zu runs: %.300s\n", q[i][0], status, n,
                    status < 0 ? err : resp->data);
            return -1;
        }
        printf("mixed: search %-55s %3zu runs (page of 100)\n", q[i][0], n);
    }
    return 0;
}

static int setup(void)
{
    struct curl_slist *h;
    struct response resp = {0};
    struct setup_job jobs[SETUP_THREADS];
    struct timespec t0;
    int rc = -1;
    CURL *c = open_handle(&h);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (c == NULL || create_experiment(c, h, &resp, "write", write_exp, sizeof write_exp) < 0 ||
        create_experiment(c, h, &resp, "search", search_exp, sizeof search_exp) < 0)
        goto out;
    write_run_ids = calloc((size_t)opt.write_runs, sizeof *write_run_ids);
    for (int i = 0; write_run_ids && i < opt.write_runs; i++) {
        char name[32];
        snprintf(name, sizeof name, "writer-%d", i);
        if (create_run(c, h, &resp, write_exp, name, write_run_ids[i], sizeof write_run_ids[i]) < 0)
            goto out;
    }
    if (write_run_ids == NULL || upload_artifacts(c, h, &resp) < 0)
        goto out;
    for (int j = 0; j < SETUP_THREADS; j++) {
        jobs[j] = (struct setup_job){.first = j, .step = SETUP_THREADS};
        if (pthread_create(&jobs[j].thread, NULL, setup_main, &jobs[j]) != 0)
            jobs[j].rc = -1;
    }
    rc = 0;
    for (int j = 0; j < SETUP_THREADS; j++) {
        pthread_join(jobs[j].thread, NULL);
        rc |= jobs[j].rc;
    }
    if (rc == 0)
        rc = prepare_searches(c, h, &resp);
    printf("mixed: set-up %.1f s: %d runs searched, %d runs written, %d artifacts (1 KiB..1 "
           "MiB)\n",
           seconds_since(&t0), opt.search_runs, opt.write_runs, nartifacts);
out:
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    free(resp.data);
    return rc;
}

/* --- the load -------------------------------------------------------------- */
/* The worker's log-batch body: KEYS x STEPS points into its run, with step
 * and timestamp fields patched per request. */
static int build_batch(struct worker *w)
{
    size_t cap = KEYS * STEPS * 96 + 256;
    int n = 0, p = 0;
    w->batch = malloc(cap);
    if (w->batch == NULL)
        return -1;
    n += snprintf(w->batch, cap, "{\"run_id\":\"%s\",\"metrics\":[",
                  write_run_ids[w->index % opt.write_runs]);
    for (int s = 0; s < STEPS; s++) {
        for (int k = 0; k < KEYS; k++, p++) {
            n += snprintf(w->batch + n, cap - (size_t)n,
                          "%s{\"key\":\"m%d\",\"value\":%.6f,\"timestamp\":", p ? "," : "", k,
                          1.0 / (1 + s + k));
            w->ts_off[p] = (size_t)n;
            n += snprintf(w->batch + n, cap - (size_t)n, "%*s,\"step\":", BENCH_TS_WIDTH, "");
            w->step_off[p] = (size_t)n;
            n += snprintf(w->batch + n, cap - (size_t)n, "%*s}", BENCH_STEP_WIDTH, "");
        }
    }
    n += snprintf(w->batch + n, cap - (size_t)n, "]}");
    w->batch_len = (size_t)n;
    w->next_step = (long long)(w->index / opt.write_runs) * STEP_STRIDE;
    return 0;
}

static void record(struct stats *s, double ms)
{
    if (s->nlat == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        double *l = realloc(s->lat_ms, cap * sizeof *l);
        if (l == NULL)
            return;
        s->lat_ms = l;
        s->cap = cap;
    }
    s->lat_ms[s->nlat++] = ms;
}

/* One request of kind k; counts it, its latency and whether it failed. */
static void one_request(struct worker *w, enum kind k)
{
    char url[512], err[256];
    const char *body = NULL;
    size_t len = 0;
    struct timespec t0;
    const struct artifact *a = NULL;

    switch (k) {
    case K_BATCH:
        for (int p = 0; p < KEYS * STEPS; p++) {
            long long step = w->next_step + p / KEYS;
            bench_put_fixed(w->batch + w->step_off[p], BENCH_STEP_WIDTH, step);
            bench_put_fixed(w->batch + w->ts_off[p], BENCH_TS_WIDTH, BENCH_TS_BASE + step);
        }
        w->next_step += STEPS;
        snprintf(url, sizeof url, "%s/api/2.0/mlflow/runs/log-batch", opt.url);
        body = w->batch;
        len = w->batch_len;
        break;
    case K_SEARCH:
        snprintf(url, sizeof url, "%s/api/2.0/mlflow/runs/search", opt.url);
        body = searches[next_rand(&w->rng) % (uint64_t)nsearches];
        len = strlen(body);
        break;
    default:
        a = &artifacts[next_rand(&w->rng) % (uint64_t)nartifacts];
        snprintf(url, sizeof url, "%s", a->url);
        break;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long status = request(w->curl, w->headers, body ? "POST" : "GET", url, body, len, &w->resp, err,
                          sizeof err);
    double ms = seconds_since(&t0) * 1e3;
    struct stats *s = &w->st[k];
    s->requests++;
    bool ok = status >= 200 && status < 300 && (a == NULL || w->resp.len == a->size);
    if (!ok) {
        s->errors++;
        if (__atomic_fetch_add(&reports, 1, __ATOMIC_RELAXED) < MAX_REPORTS)
            fprintf(stderr, "mixed: %s -> %ld: %.300s\n", kind_names[k], status,
                    status < 0 ? err : (w->resp.data ? w->resp.data : ""));
        return;
    }
    record(s, ms);
    s->bytes += w->resp.len;
    if (k == K_BATCH)
        s->points += KEYS * STEPS;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    w->curl = open_handle(&w->headers);
    w->rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)(w->index + 1) * 0xBF58476D1CE4E5B9ULL;
    w->failed = w->curl == NULL || build_batch(w) < 0;
    pthread_barrier_wait(&ready);
    pthread_barrier_wait(&go);
    while (!w->failed && seconds_since(&t_start) < opt.duration) {
        uint64_t r = next_rand(&w->rng) % 100;
        one_request(w, r < 80 ? K_BATCH : r < 95 ? K_SEARCH : K_ARTIFACT);
    }
    return NULL;
}

/* --- report ---------------------------------------------------------------- */

/* The server's VmRSS in KiB, or -1. */
static long rss_kib(void)
{
    char path[64], line[256];
    long kib = -1;
    if (opt.server_pid <= 0)
        return -1;
    snprintf(path, sizeof path, "/proc/%ld/status", (long)opt.server_pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static unsigned long long report(struct worker *w, double secs, const long rss[3])
{
    unsigned long long total = 0, errors = 0, points = 0;
    printf("mixed: %-13s %9s %9s %9s %9s %9s %7s\n", "kind", "requests", "req/s", "p50 ms",
           "p99 ms", "max ms", "errors");
    for (int k = 0; k < K__COUNT; k++) {
        struct stats all = {0};
        for (int i = 0; i < opt.threads; i++) {
            all.requests += w[i].st[k].requests;
            all.errors += w[i].st[k].errors;
            all.points += w[i].st[k].points;
            all.bytes += w[i].st[k].bytes;
            all.nlat += w[i].st[k].nlat;
        }
        double *lat = malloc((all.nlat + 1) * sizeof *lat);
        size_t at = 0;
        for (int i = 0; lat && i < opt.threads; i++) {
            memcpy(lat + at, w[i].st[k].lat_ms, w[i].st[k].nlat * sizeof *lat);
            at += w[i].st[k].nlat;
        }
        if (lat)
            qsort(lat, at, sizeof *lat, bench_cmp_double);
        printf("mixed: %-13s %9llu %9.1f %9.2f %9.2f %9.2f %7llu\n", kind_names[k], all.requests,
               (double)(all.requests - all.errors) / secs, bench_percentile(lat, at, 0.5),
               bench_percentile(lat, at, 0.99), at ? lat[at - 1] : 0.0, all.errors);
        printf("RESULT kind=%s requests=%llu errors=%llu req_per_s=%.1f p50_ms=%.3f p99_ms=%.3f "
               "max_ms=%.3f points=%llu bytes=%llu\n",
               k == K_BATCH    ? "log_batch"
               : k == K_SEARCH ? "search"
                               : "artifact",
               all.requests, all.errors, (double)(all.requests - all.errors) / secs,
               bench_percentile(lat, at, 0.5), bench_percentile(lat, at, 0.99),
               at ? lat[at - 1] : 0.0, all.points, all.bytes);
        free(lat);
        total += all.requests;
        errors += all.errors;
        points += all.points;
    }
    printf("mixed: %d connections, %.1f s: %llu requests, %.1f req/s, %.0f points/s, %llu "
           "errors\n",
           opt.threads, secs, total, (double)(total - errors) / secs, (double)points / secs,
           errors);
    if (rss[0] >= 0)
        printf("mixed: exptrackd RSS: at start %.1f MiB, before the load %.1f MiB, right after "
               "%.1f MiB\n",
               rss[0] / 1024.0, rss[1] / 1024.0, rss[2] / 1024.0);
    printf("RESULT kind=all requests=%llu errors=%llu req_per_s=%.1f points_per_s=%.0f "
           "rss_start_kib=%ld rss_before_kib=%ld rss_after_kib=%ld\n",
           total, errors, (double)(total - errors) / secs, (double)points / secs, rss[0], rss[1],
           rss[2]);
    fflush(stdout);
    return errors;
}

/* --- main ------------------------------------------------------------------ */
/* Sets *field from optarg when it is an integer in [min, max]. */
static int set_int(int *field, long min, long max)
{
    long v;
    if (bench_parse_long(optarg, min, max, &v) < 0)
        return -1;
    *field = (int)v;
    return 0;
}

static int parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"threads", required_argument, NULL, 't'},
        {"duration", required_argument, NULL, 'd'},
        {"runs", required_argument, NULL, 'r'},
        {"write-runs", required_argument, NULL, 'w'},
        {"server-pid", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    int c, pid = 0, rc = 0;
    opt = (struct options){.threads = 64, .duration = 30, .search_runs = 3000, .write_runs = 16};
    while (rc == 0 && (c = getopt_long(argc, argv, "u:t:d:r:w:p:", longopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            opt.url = optarg;
            break;
        case 't':
            rc = set_int(&opt.threads, 1, 1024);
            break;
        case 'd':
            rc = set_int(&opt.duration, 1, 3600);
            break;
        case 'r':
            rc = set_int(&opt.search_runs, 10, 1000000);
            break;
        case 'w':
            rc = set_int(&opt.write_runs, 1, 1024);
            break;
        case 'p':
            rc = set_int(&pid, 1, 1 << 30);
            opt.server_pid = (pid_t)pid;
            break;
        default:
            rc = -1;
            break;
        }
    }
    if (rc == 0 && optind == argc && opt.url != NULL)
        return 0;
    fprintf(stderr, "usage: mixed_load --url http://HOST:PORT [--threads 64] [--duration 30]\n"
                    "       [--runs 3000 (searched)] [--write-runs 16] [--server-pid PID]\n");
    return -1;
}

int main(int argc, char **argv)
{
    struct worker *w = NULL;
    long rss[3] = {-1, -1, -1};
    int ret = 2, started = 0, failed = 0;

    if (parse_args(argc, argv) < 0)
        return 2;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 2;
    rss[0] = rss_kib();
    if (setup() < 0) {
        fprintf(stderr, "mixed: set-up failed\n");
        goto out;
    }
    w = calloc((size_t)opt.threads, sizeof *w);
    if (w == NULL)
        goto out;
    pthread_barrier_init(&ready, NULL, (unsigned)opt.threads + 1);
    pthread_barrier_init(&go, NULL, (unsigned)opt.threads + 1);
    for (started = 0; started < opt.threads; started++) {
        w[started].index = started;
        if (pthread_create(&w[started].thread, NULL, worker_main, &w[started]) != 0) {
            fprintf(stderr, "mixed: pthread_create failed\n");
            exit(2); /* the barriers count every thread */
        }
    }
    pthread_barrier_wait(&ready);
    printf("mixed: %s, %d connections, %d s: 80%% log-batch (%d points, %d runs), 15%% "
           "runs/search (%d filters), 5%% artifact reads (%d files)\n",
           opt.url, opt.threads, opt.duration, KEYS * STEPS, opt.write_runs, nsearches, nartifacts);
    fflush(stdout);
    rss[1] = rss_kib();
    clock_gettime(CLOCK_MONOTONIC, &t_start);
    pthread_barrier_wait(&go);
    for (int i = 0; i < started; i++) {
        pthread_join(w[i].thread, NULL);
        failed += w[i].failed;
    }
    double secs = seconds_since(&t_start);
    rss[2] = rss_kib();
    if (failed) {
        fprintf(stderr, "mixed: %d connections failed to set up\n", failed);
        goto out;
    }
    ret = report(w, secs, rss) == 0 ? 0 : 1;
out:
    for (int i = 0; w && i < started; i++) {
        curl_easy_cleanup(w[i].curl);
        curl_slist_free_all(w[i].headers);
        free(w[i].resp.data);
        free(w[i].batch);
        for (int k = 0; k < K__COUNT; k++)
            free(w[i].st[k].lat_ms);
    }
    if (w) {
        pthread_barrier_destroy(&ready);
        pthread_barrier_destroy(&go);
    }
    free(w);
    for (int i = 0; i < nsearches; i++)
        free(searches[i]);
    free(write_run_ids);
    curl_global_cleanup();
    return ret;
}
