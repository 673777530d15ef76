/* The run-setup load of tests/bench/setup.sh (make bench, issue 21): N
 * client threads, each with one keep-alive connection, for a fixed time.
 *
 *   --mode setup   each thread loops: runs/create, one runs/log-batch of 10
 *                  params + 10 metrics + 5 tags, runs/update to FINISHED
 *                  (what an MLflow client does to start and end a run)
 *   --mode metric  each thread loops single-point runs/log-metric on a run
 *                  of its own (the group-committed path, for the ratio)
 *
 * Every answer must be 200; the first other one is printed and the program
 * exits 1.
 *
 * usage: setup_load --url URL --experiment ID [--mode setup|metric]
 *                   [--threads 8] [--duration 10]
 * prints: RESULT mode=M threads=N runs=R requests=Q seconds=S runs_per_s=X
 *         rps=Y p50_ms=A p99_ms=B */
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "bench_util.h"

struct response {
    char *data;
    size_t len, cap;
};

struct worker {
    pthread_t thread;
    int index;
    unsigned long long runs, requests;
    double *lat_ms;
    size_t nlat, cap;
    bool failed;
};

static const char *g_url, *g_experiment;
static bool g_setup = true;
static long g_threads = 8, g_duration = 10;
static struct timespec g_start;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct response *r = userdata;
    size_t n = size * nmemb;
    if (r->len + n + 1 > r->cap) {
        size_t cap = (r->len + n + 1) * 2;
        char *d = realloc(r->data, cap);
        if (d == NULL)
            return 0;
        r->data = d;
        r->cap = cap;
    }
    memcpy(r->data + r->len, ptr, n);
    r->len += n;
    r->data[r->len] = '\0';
    return n;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return bench_seconds(&g_start, &t);
}

/* POSTs body to the API path; 0 when the answer is 200, else -1 (printed). */
static int post(struct worker *w, CURL *c, struct curl_slist *h, struct response *resp,
                const char *path, const char *body)
{
    char url[512];
    long status = 0;
    double t0 = now_s();
    snprintf(url, sizeof url, "%s/api/2.0/mlflow/%s", g_url, path);
    resp->len = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        fprintf(stderr, "setup_load: POST %s -> %ld: %.300s\n", path, status,
                rc != CURLE_OK ? curl_easy_strerror(rc) : (resp->data ? resp->data : ""));
        w->failed = true;
        return -1;
    }
    w->requests++;
    if (w->nlat == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 4096;
        w->lat_ms = realloc(w->lat_ms, w->cap * sizeof *w->lat_ms);
        if (w->lat_ms == NULL) {
            fprintf(stderr, "setup_load: out of memory\n");
            exit(1);
        }
    }
    w->lat_ms[w->nlat++] = (now_s() - t0) * 1000;
    return 0;
}

/* Creates a run in the experiment; its id lands in id (33 bytes). */
static int create_run(struct worker *w, CURL *c, struct curl_slist *h, struct response *resp,
                      long long n, char *id)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"experiment_id\":\"%s\",\"run_name\":\"s%d-%lld\",\"start_time\":%lld}",
             g_experiment, w->index, n, BENCH_TS_BASE + n);
    if (post(w, c, h, resp, "runs/create", body) < 0)
        return -1;
    json_t *root = json_loadb(resp->data, resp->len, 0, NULL);
    const char *s = json_string_value(
        json_object_get(json_object_get(json_object_get(root, "run"), "info"), "run_id"));
    int rc = s != NULL && strlen(s) == 32 ? 0 : -1;
    if (rc == 0)
        memcpy(id, s, 33);
    else
        fprintf(stderr, "setup_load: runs/create: no run id in %.300s\n", resp->data);
    json_decref(root);
    return rc;
}

/* One run's setup: create, log-batch (10 params, 10 metrics, 5 tags), update. */
static int one_setup(struct worker *w, CURL *c, struct curl_slist *h, struct response *resp,
                     long long n)
{
    char id[33], body[4096];
    if (create_run(w, c, h, resp, n, id) < 0)
        return -1;
    int len = snprintf(body, sizeof body, "{\"run_id\":\"%s\",\"params\":[", id);
    for (int i = 0; i < 10; i++)
        len += snprintf(body + len, sizeof body - (size_t)len,
                        "%s{\"key\":\"param_%d\",\"value\":\"%lld\"}", i ? "," : "", i, n * 10 + i);
    len += snprintf(body + len, sizeof body - (size_t)len, "],\"metrics\":[");
    for (int i = 0; i < 10; i++)
        len += snprintf(body + len, sizeof body - (size_t)len,
                        "%s{\"key\":\"metric_%d\",\"value\":%d.5,\"timestamp\":%lld,\"step\":0}",
                        i ? "," : "", i, i, BENCH_TS_BASE + n);
    len += snprintf(body + len, sizeof body - (size_t)len, "],\"tags\":[");
    for (int i = 0; i < 5; i++)
        len += snprintf(body + len, sizeof body - (size_t)len,
                        "%s{\"key\":\"tag_%d\",\"value\":\"v%d\"}", i ? "," : "", i, w->index);
    snprintf(body + len, sizeof body - (size_t)len, "]}");
    if (post(w, c, h, resp, "runs/log-batch", body) < 0)
        return -1;
    snprintf(body, sizeof body, "{\"run_id\":\"%s\",\"status\":\"FINISHED\",\"end_time\":%lld}", id,
             BENCH_TS_BASE + n + 1000);
    if (post(w, c, h, resp, "runs/update", body) < 0)
        return -1;
    w->runs++;
    return 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct response resp = {0};
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    CURL *c = curl_easy_init();
    char id[33], body[512];
    if (c == NULL || h == NULL) {
        w->failed = true;
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    if (!g_setup && create_run(w, c, h, &resp, -1, id) < 0)
        goto out;
    w->requests = 0;
    w->nlat = 0;
    for (long long n = 0; now_s() < (double)g_duration; n++) {
        if (g_setup) {
            if (one_setup(w, c, h, &resp, (long long)w->index * 100000000LL + n) < 0)
                break;
            continue;
        }
        snprintf(body, sizeof body,
                 "{\"run_id\":\"%s\",\"key\":\"loss\",\"value\":0.5,\"timestamp\":%lld,"
                 "\"step\":%lld}",
                 id, BENCH_TS_BASE + n, n);
        if (post(w, c, h, &resp, "runs/log-metric", body) < 0)
            break;
    }
out:
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    free(resp.data);
    return NULL;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},      {"experiment", required_argument, NULL, 'e'},
        {"mode", required_argument, NULL, 'm'},     {"threads", required_argument, NULL, 't'},
        {"duration", required_argument, NULL, 'd'}, {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt == 'u')
            g_url = optarg;
        else if (opt == 'e')
            g_experiment = optarg;
        else if (opt == 'm' && (strcmp(optarg, "setup") == 0 || strcmp(optarg, "metric") == 0))
            g_setup = strcmp(optarg, "setup") == 0;
        else if (opt == 't' && bench_parse_long(optarg, 1, 1024, &g_threads) == 0)
            continue;
        else if (opt == 'd' && bench_parse_long(optarg, 1, 3600, &g_duration) == 0)
            continue;
        else {
            fprintf(stderr, "usage: setup_load --url URL --experiment ID [--mode setup|metric] "
                            "[--threads 8] [--duration 10]\n");
            return 2;
        }
    }
    if (g_url == NULL || g_experiment == NULL) {
        fprintf(stderr, "setup_load: --url and --experiment are required\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct worker *ws = calloc((size_t)g_threads, sizeof *ws);
    if (ws == NULL)
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &g_start);
    for (long i = 0; i < g_threads; i++) {
        ws[i].index = (int)i;
        pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]);
    }
    unsigned long long runs = 0, requests = 0;
    size_t nlat = 0;
    bool failed = false;
    for (long i = 0; i < g_threads; i++) {
        pthread_join(ws[i].thread, NULL);
        runs += ws[i].runs;
        requests += ws[i].requests;
        nlat += ws[i].nlat;
        failed |= ws[i].failed;
    }
    double secs = now_s();
    double *lat = malloc((nlat ? nlat : 1) * sizeof *lat);
    size_t k = 0;
    for (long i = 0; i < g_threads && lat; i++) {
        memcpy(lat + k, ws[i].lat_ms, ws[i].nlat * sizeof *lat);
        k += ws[i].nlat;
        free(ws[i].lat_ms);
    }
    if (lat)
        qsort(lat, k, sizeof *lat, bench_cmp_double);
    printf("RESULT mode=%s threads=%ld runs=%llu requests=%llu seconds=%.2f runs_per_s=%.1f "
           "rps=%.1f p50_ms=%.2f p99_ms=%.2f\n",
           g_setup ? "setup" : "metric", g_threads, runs, requests, secs, runs / secs,
           requests / secs, lat ? bench_percentile(lat, k, 0.5) : 0,
           lat ? bench_percentile(lat, k, 0.99) : 0);
    free(lat);
    free(ws);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
