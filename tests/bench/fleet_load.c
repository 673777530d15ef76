/* The fleet benchmark's load (tests/bench/fleet.sh, issue 20): many runs
 * logging through libexptrack at a steady rate, dashboard watchers holding
 * the live stream open, and clients searching, all at once.
 *
 *   fleet_load log URL EXPERIMENT RUNS RATE SECONDS DIR INDEX
 *       Creates RUNS runs in EXPERIMENT and one probe run with one
 *       libexptrack client, writes the probe's id to DIR/probe.INDEX and
 *       the runs' ids to DIR/runs.INDEX, waits for DIR/go, then logs RATE
 *       points per second to every run ("loss", steps 0, 1, ...) for
 *       SECONDS, the way a training loop does: et_log_metric() and nothing
 *       else. Every 200 ms it also logs the wall-clock time (ms) as the
 *       probe run's "probe" metric, through the same client, so a probe
 *       point waits behind the fleet's points like any other. Ends every
 *       run FINISHED (flushing) and prints what it measured: calls, how long
 *       et_log_metric() took (the caller must never block), how long a point
 *       waited for the server's acknowledgement, and the client's delivery
 *       counters.
 *
 *   fleet_load watch URL EXPERIMENT WATCHERS SECONDS DIR
 *       Opens WATCHERS live streams (GET /api/2.0/exptrack/stream), each on
 *       ten runs read from DIR/runs.* and one probe run (DIR/probe.*), and
 *       reads them for SECONDS after DIR/go (plus 5 s). The first watcher of
 *       each probe run, on every "metrics" event for it, reads the run's
 *       latest "probe" value (runs/get): the live lag is the time from that
 *       et_log_metric() call to the event that announced it.
 *
 *   fleet_load search URL EXPERIMENT CLIENTS SECONDS DIR [INTERVAL_MS]
 *       After DIR/go, CLIENTS threads run runs/search (100 runs, a metric
 *       filter, ordered by the metric) for SECONDS, each starting one search
 *       every INTERVAL_MS (default 1000; 0: back to back).
 *
 * Every mode prints "name value" lines on stdout. */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <exptrack.h>
#include <jansson.h>

#include "bench_util.h"

#define KEY "loss"
#define RUNS_PER_WATCHER 10
#define PROBE_KEY "probe"
#define PROBE_INTERVAL_MS 200
#define MAX_PROBES 64
#define SAMPLE_INTERVAL_MS 20
#define MAX_SAMPLES 200000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void wait_for_file(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    while (stat(path, &st) != 0)
        sleep_ms(10);
}

/* Prints p50, p99 and max of n values (sorted in place) as NAME_p50 ... */
static void print_quantiles(const char *name, double *v, size_t n)
{
    qsort(v, n, sizeof *v, bench_cmp_double);
    printf("%s_count %zu\n", name, n);
    printf("%s_p50 %.3f\n", name, bench_percentile(v, n, 0.50));
    printf("%s_p99 %.3f\n", name, bench_percentile(v, n, 0.99));
    printf("%s_max %.3f\n", name, n ? v[n - 1] : 0.0);
}

/* ---- log ------------------------------------------------------------- */

/* How long a point waits for its acknowledgement: every SAMPLE_INTERVAL_MS
 * the sampler notes the client's queued count and the time; a note is
 * answered when the delivered count reaches it. */
struct ack_sampler {
    et_client *client;
    volatile bool stop;
    double *lat_ms;
    size_t nlat;
};

static void *ack_sampler_main(void *arg)
{
    struct ack_sampler *s = arg;
    uint64_t *want = malloc(MAX_SAMPLES * sizeof *want);
    double *since = malloc(MAX_SAMPLES * sizeof *since);
    size_t head = 0, tail = 0;
    double next = now_s();
    if (want == NULL || since == NULL)
        goto out;
    while (!s->stop || head != tail) {
        et_stats st;
        et_client_stats(s->client, &st);
        double t = now_s();
        while (head != tail && st.delivered + st.dropped >= want[head]) {
            if (s->nlat < MAX_SAMPLES)
                s->lat_ms[s->nlat++] = (t - since[head]) * 1000.0;
            head++;
        }
        if (!s->stop && t >= next && tail < MAX_SAMPLES && st.queued > st.delivered + st.dropped) {
            want[tail] = st.queued;
            since[tail] = t;
            tail++;
            next = t + SAMPLE_INTERVAL_MS / 1000.0;
        }
        if (s->stop && t > next + 60.0)
            break; /* never acknowledged: reported as missing samples */
        sleep_ms(2);
    }
out:
    free(want);
    free(since);
    return NULL;
}

static int write_run_ids(const char *dir, const char *name, long index, et_run **runs, long n)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s.%ld", dir, name, index);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    for (long i = 0; i < n; i++)
        fprintf(f, "%s\n", et_run_id(runs[i]));
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return -1;
    return 0;
}

static int mode_log(const char *url, const char *experiment, long nruns, long rate, long seconds,
                    const char *dir, long index)
{
    et_options o;
    et_client *c = NULL;
    et_run **runs = calloc((size_t)nruns, sizeof *runs);
    et_run *probe = NULL;
    int64_t probes = 0;
    int64_t *steps = calloc((size_t)nruns, sizeof *steps);
    size_t call_cap = (size_t)(nruns * rate * seconds) / 64 + 1024;
    double *call_us = malloc(call_cap * sizeof *call_us);
    struct ack_sampler sampler = {0};
    pthread_t sampler_thread;
    bool sampler_started = false;
    int rc = 1;
    size_t ncalls_sampled = 0;
    uint64_t calls = 0, failed = 0;
    double worst_call_us = 0;

    sampler.lat_ms = malloc(MAX_SAMPLES * sizeof *sampler.lat_ms);
    if (runs == NULL || steps == NULL || call_us == NULL || sampler.lat_ms == NULL)
        goto out;
    et_options_init(&o);
    o.url = url;
    /* a few seconds of this process's points, so a slow acknowledgement
     * never fills the buffer: the caller must not block */
    o.buffer_points = (size_t)(nruns * rate * 4 > 262144 ? nruns * rate * 4 : 262144);
    o.flush_timeout_ms = 120000;
    const char *senders = getenv("FLEET_SENDERS");
    if (senders != NULL)
        o.senders = atoi(senders);
    if (et_client_new_opts(&o, &c) != ET_OK) {
        fprintf(stderr, "fleet_load log: client: %s\n", et_last_error());
        goto out;
    }
    char probe_name[32];
    snprintf(probe_name, sizeof probe_name, "probe-%ld", index);
    if (et_run_create(c, experiment, probe_name, NULL, NULL, 0, &probe) != ET_OK ||
        write_run_ids(dir, "probe", index, &probe, 1) != 0) {
        fprintf(stderr, "fleet_load log: probe run: %s\n", et_last_error());
        goto out;
    }
    for (long i = 0; i < nruns; i++) {
        char name[64];
        snprintf(name, sizeof name, "fleet-%ld-%ld", index, i);
        if (et_run_create(c, experiment, name, NULL, NULL, 0, &runs[i]) != ET_OK) {
            fprintf(stderr, "fleet_load log: run %ld: %s\n", i, et_last_error());
            goto out;
        }
    }
    if (write_run_ids(dir, "runs", index, runs, nruns) != 0) {
        fprintf(stderr, "fleet_load log: cannot write run ids to %s\n", dir);
        goto out;
    }
    wait_for_file(dir, "go");

    sampler.client = c;
    if (pthread_create(&sampler_thread, NULL, ack_sampler_main, &sampler) != 0)
        goto out;
    sampler_started = true;
    double start = now_s(), end = start + (double)seconds;
    for (;;) {
        double t = now_s();
        if (t >= end)
            break;
        if ((t - start) * 1000.0 >= (double)(probes * PROBE_INTERVAL_MS)) {
            (void)et_log_metric(probe, PROBE_KEY, wall_ms(), probes);
            probes++;
        }
        int64_t due = (int64_t)((t - start) * (double)rate) + 1;
        for (long i = 0; i < nruns; i++) {
            while (steps[i] < due) {
                double t0 = now_s();
                if (et_log_metric(runs[i], KEY, 1.0 / (double)(steps[i] + 1), steps[i]) != ET_OK)
                    failed++;
                double us = (now_s() - t0) * 1e6;
                if (us > worst_call_us)
                    worst_call_us = us;
                if ((calls & 63) == 0 && ncalls_sampled < call_cap)
                    call_us[ncalls_sampled++] = us;
                calls++;
                steps[i]++;
            }
        }
        sleep_ms(5);
    }
    double logged_s = now_s() - start;
    if (et_run_end(probe, ET_RUN_FINISHED) != ET_OK)
        fprintf(stderr, "fleet_load log: end probe run: %s\n", et_last_error());
    probe = NULL;
    for (long i = 0; i < nruns; i++) {
        if (et_run_end(runs[i], ET_RUN_FINISHED) != ET_OK)
            fprintf(stderr, "fleet_load log: end run: %s\n", et_last_error());
        runs[i] = NULL;
    }
    sampler.stop = true;
    pthread_join(sampler_thread, NULL);
    sampler_started = false;

    et_stats st;
    et_client_stats(c, &st);
    printf("runs %ld\n", nruns);
    printf("probes %" PRId64 "\n", probes);
    printf("cpu_seconds %.2f\n", bench_cpu_seconds());
    printf("calls %" PRIu64 "\n", calls);
    printf("failed_calls %" PRIu64 "\n", failed);
    printf("seconds %.3f\n", logged_s);
    printf("queued %" PRIu64 "\n", st.queued);
    printf("delivered %" PRIu64 "\n", st.delivered);
    printf("spooled %" PRIu64 "\n", st.spooled);
    printf("dropped %" PRIu64 "\n", st.dropped);
    printf("retries %" PRIu64 "\n", st.retries);
    printf("requests %" PRIu64 "\n", st.requests);
    printf("call_us_worst %.1f\n", worst_call_us);
    print_quantiles("call_us", call_us, ncalls_sampled);
    print_quantiles("ack_ms", sampler.lat_ms, sampler.nlat);
    rc = 0;
out:
    if (sampler_started) {
        sampler.stop = true;
        pthread_join(sampler_thread, NULL);
    }
    if (probe != NULL)
        et_run_detach(probe);
    if (runs != NULL)
        for (long i = 0; i < nruns; i++)
            if (runs[i] != NULL)
                et_run_detach(runs[i]);
    et_client_free(c);
    free(runs);
    free(steps);
    free(call_us);
    free(sampler.lat_ms);
    return rc;
}

/* ---- watch ------------------------------------------------------------ */

struct watch_body {
    char data[65536];
    size_t len;
};

struct watcher {
    int fd;
    char probe_id[33];
    char buf[8192];
    size_t len;
    bool open;
};

/* Reads every run id from DIR/NAME.* (one per line) into a new array. */
static char (*read_run_ids(const char *dir, const char *name, size_t *n))[33]
{
    char(*ids)[33] = NULL;
    size_t cap = 0;
    *n = 0;
    for (int index = 0; index < 1000; index++) {
        char path[4096], line[128];
        snprintf(path, sizeof path, "%s/%s.%d", dir, name, index);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        while (fgets(line, sizeof line, f) != NULL) {
            if (strlen(line) < 32)
                continue;
            if (*n == cap) {
                cap = cap ? cap * 2 : 1024;
                char(*grown)[33] = realloc(ids, cap * sizeof *ids);
                if (grown == NULL) {
                    fclose(f);
                    free(ids);
                    *n = 0;
                    return NULL;
                }
                ids = grown;
            }
            memcpy(ids[*n], line, 32);
            ids[*n][32] = '\0';
            (*n)++;
        }
        fclose(f);
    }
    return ids;
}

static int connect_to(const char *host, const char *port)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    int fd = socket(res->ai_family, res->ai_socktype, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* Splits "http://host:port" into host and port. */
static int parse_url(const char *url, char *host, size_t hn, char *port, size_t pn)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *colon = strrchr(p, ':');
    if (colon == NULL || (size_t)(colon - p) >= hn)
        return -1;
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = '\0';
    snprintf(port, pn, "%.*s", (int)strcspn(colon + 1, "/"), colon + 1);
    return 0;
}

static int open_stream(const char *host, const char *port, const char *probe_id, char (*runs)[33],
                       size_t nruns, size_t first)
{
    char req[4096];
    int len = snprintf(req, sizeof req, "GET /api/2.0/exptrack/stream?run_id=%s", probe_id);
    for (size_t i = 0; i < RUNS_PER_WATCHER && nruns > 0; i++)
        len +=
            snprintf(req + len, sizeof req - (size_t)len, "&run_id=%s", runs[(first + i) % nruns]);
    len += snprintf(req + len, sizeof req - (size_t)len,
                    " HTTP/1.1\r\nHost: %s:%s\r\nAccept: text/event-stream\r\n\r\n", host, port);
    int fd = connect_to(host, port);
    if (fd < 0)
        return -1;
    if (send(fd, req, (size_t)len, MSG_NOSIGNAL) != len) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Appends the body of a runs/get answer. */
static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct watch_body *b = userdata;
    size_t n = size * nmemb;
    if (b->len + n + 1 > sizeof b->data)
        return 0;
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* The latest "probe" value of a run (the wall-clock ms it was logged at),
 * or -1. */
static double latest_probe(CURL *h, const char *url, const char *run_id)
{
    struct watch_body body = {0};
    char target[512];
    long status = 0;
    double v = -1;
    snprintf(target, sizeof target, "%s/api/2.0/mlflow/runs/get?run_id=%s", url, run_id);
    curl_easy_setopt(h, CURLOPT_URL, target);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    if (curl_easy_perform(h) != CURLE_OK ||
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200)
        return -1;
    json_t *root = json_loads(body.data, 0, NULL);
    json_t *metrics =
        json_object_get(json_object_get(json_object_get(root, "run"), "data"), "metrics");
    size_t i;
    json_t *m;
    json_array_foreach(metrics, i, m)
    {
        const char *key = json_string_value(json_object_get(m, "key"));
        if (key != NULL && strcmp(key, PROBE_KEY) == 0)
            v = json_number_value(json_object_get(m, "value"));
    }
    json_decref(root);
    return v;
}

static int mode_watch(const char *url, long nwatchers, long seconds, const char *dir)
{
    char host[256], port[16];
    size_t nruns = 0, nprobes = 0;
    char(*runs)[33] = NULL;
    char(*probes)[33] = NULL;
    struct watcher *w = calloc((size_t)nwatchers, sizeof *w);
    struct pollfd *pfd = calloc((size_t)nwatchers, sizeof *pfd);
    double last_probe[MAX_PROBES];
    size_t lag_cap = MAX_PROBES * (size_t)(seconds * 1000 / PROBE_INTERVAL_MS + 16);
    double *lag_ms = malloc(lag_cap * sizeof *lag_ms);
    size_t nlag = 0;
    uint64_t events = 0, lost_streams = 0;
    CURL *h = curl_easy_init();
    int rc = 1;

    if (w == NULL || pfd == NULL || lag_ms == NULL || h == NULL ||
        parse_url(url, host, sizeof host, port, sizeof port) != 0)
        goto out;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    runs = read_run_ids(dir, "runs", &nruns);
    probes = read_run_ids(dir, "probe", &nprobes);
    if (nprobes == 0 || nprobes > MAX_PROBES) {
        fprintf(stderr, "fleet_load watch: %zu probe runs in %s\n", nprobes, dir);
        goto out;
    }
    for (size_t p = 0; p < nprobes; p++)
        last_probe[p] = -1;
    for (long i = 0; i < nwatchers; i++) {
        snprintf(w[i].probe_id, sizeof w[i].probe_id, "%s", probes[(size_t)i % nprobes]);
        w[i].fd = open_stream(host, port, w[i].probe_id, runs, nruns, (size_t)i * RUNS_PER_WATCHER);
        if (w[i].fd < 0) {
            fprintf(stderr, "fleet_load watch: stream %ld: %s\n", i, strerror(errno));
            goto out;
        }
        w[i].open = true;
    }
    wait_for_file(dir, "go");
    double end = now_s() + (double)seconds + 5.0;
    while (now_s() < end) {
        for (long i = 0; i < nwatchers; i++) {
            pfd[i].fd = w[i].open ? w[i].fd : -1;
            pfd[i].events = POLLIN;
        }
        if (poll(pfd, (nfds_t)nwatchers, 10) < 0 && errno != EINTR)
            break;
        for (long i = 0; i < nwatchers; i++) {
            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t r = recv(w[i].fd, w[i].buf + w[i].len, sizeof w[i].buf - 1 - w[i].len, 0);
            if (r <= 0) {
                w[i].open = false;
                lost_streams++;
                continue;
            }
            w[i].len += (size_t)r;
            w[i].buf[w[i].len] = '\0';
            /* consume whole lines; an event's data line names its run */
            char *line = w[i].buf, *nl;
            while ((nl = strchr(line, '\n')) != NULL) {
                *nl = '\0';
                if (strncmp(line, "data:", 5) == 0 && strstr(line, "\"metrics\"") != NULL) {
                    events++;
                    size_t p = (size_t)i % nprobes;
                    if ((size_t)i < nprobes && strstr(line, w[i].probe_id) != NULL) {
                        double got = wall_ms();
                        double sent = latest_probe(h, url, w[i].probe_id);
                        if (sent > 0 && sent != last_probe[p] && nlag < lag_cap) {
                            lag_ms[nlag++] = got - sent;
                            last_probe[p] = sent;
                        }
                    }
                }
                line = nl + 1;
            }
            w[i].len = strlen(line);
            memmove(w[i].buf, line, w[i].len + 1);
            if (w[i].len == sizeof w[i].buf - 1)
                w[i].len = 0; /* an over-long line: drop it */
        }
    }
    printf("watchers %ld\n", nwatchers);
    printf("events %" PRIu64 "\n", events);
    printf("lost_streams %" PRIu64 "\n", lost_streams);
    print_quantiles("lag_ms", lag_ms, nlag);
    rc = 0;
out:
    for (long i = 0; w != NULL && i < nwatchers; i++)
        if (w[i].fd > 0)
            close(w[i].fd);
    curl_easy_cleanup(h);
    free(runs);
    free(probes);
    free(w);
    free(pfd);
    free(lag_ms);
    return rc;
}

/* ---- search ----------------------------------------------------------- */

struct searcher {
    pthread_t thread;
    const char *url, *experiment;
    double end;
    long interval_ms;
    double *lat_ms;
    size_t n, cap;
    unsigned long failures;
};

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

static void *searcher_main(void *arg)
{
    struct searcher *s = arg;
    char url[1024], body[512];
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    CURL *c = curl_easy_init();
    if (c == NULL || h == NULL)
        goto out;
    snprintf(url, sizeof url, "%s/api/2.0/mlflow/runs/search", s->url);
    snprintf(body, sizeof body,
             "{\"experiment_ids\":[\"%s\"],\"filter\":\"metrics.loss < 0.5\","
             "\"order_by\":[\"metrics.loss ASC\"],\"max_results\":100}",
             s->experiment);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    double next = now_s();
    while (now_s() < s->end) {
        if (s->interval_ms > 0) {
            double wait = next - now_s();
            if (wait > 0)
                sleep_ms((long)(wait * 1000.0));
            next += (double)s->interval_ms / 1000.0;
        }
        double t0 = now_s();
        long status = 0;
        CURLcode rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK || status != 200) {
            s->failures++;
            sleep_ms(100);
            continue;
        }
        if (s->n < s->cap)
            s->lat_ms[s->n++] = (now_s() - t0) * 1000.0;
    }
out:
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    return NULL;
}

static int mode_search(const char *url, const char *experiment, long clients, long seconds,
                       long interval_ms, const char *dir)
{
    struct searcher *s = calloc((size_t)clients, sizeof *s);
    int rc = 1;
    if (s == NULL)
        return 1;
    wait_for_file(dir, "go");
    double end = now_s() + (double)seconds;
    for (long i = 0; i < clients; i++) {
        s[i].url = url;
        s[i].experiment = experiment;
        s[i].end = end;
        s[i].interval_ms = interval_ms;
        s[i].cap = (size_t)seconds * 2000;
        s[i].lat_ms = malloc(s[i].cap * sizeof *s[i].lat_ms);
        if (s[i].lat_ms == NULL || pthread_create(&s[i].thread, NULL, searcher_main, &s[i]) != 0) {
            clients = i;
            goto out;
        }
    }
    rc = 0;
out:;
    size_t total = 0;
    unsigned long failures = 0;
    for (long i = 0; i < clients; i++) {
        pthread_join(s[i].thread, NULL);
        total += s[i].n;
        failures += s[i].failures;
    }
    double *all = malloc((total + 1) * sizeof *all);
    size_t n = 0;
    for (long i = 0; i < clients && all != NULL; i++) {
        memcpy(all + n, s[i].lat_ms, s[i].n * sizeof *all);
        n += s[i].n;
    }
    printf("search_clients %ld\n", clients);
    printf("search_failures %lu\n", failures);
    if (all != NULL)
        print_quantiles("search_ms", all, n);
    for (long i = 0; i < clients; i++)
        free(s[i].lat_ms);
    free(all);
    free(s);
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: fleet_load log URL EXPERIMENT RUNS RATE SECONDS DIR INDEX\n"
                    "       fleet_load watch URL EXPERIMENT WATCHERS SECONDS DIR\n"
                    "       fleet_load search URL EXPERIMENT CLIENTS SECONDS DIR [INTERVAL_MS]\n");
    return 2;
}

int main(int argc, char **argv)
{
    long a, b, c, d;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 9 && strcmp(argv[1], "log") == 0 && bench_parse_long(argv[4], 1, 100000, &a) == 0 &&
        bench_parse_long(argv[5], 1, 100000, &b) == 0 &&
        bench_parse_long(argv[6], 1, 86400, &c) == 0 && bench_parse_long(argv[8], 0, 999, &d) == 0)
        return mode_log(argv[2], argv[3], a, b, c, argv[7], d);
    if (argc == 7 && strcmp(argv[1], "watch") == 0 &&
        bench_parse_long(argv[4], 1, 10000, &a) == 0 &&
        bench_parse_long(argv[5], 1, 86400, &b) == 0)
        return mode_watch(argv[2], a, b, argv[6]);
    if ((argc == 7 || argc == 8) && strcmp(argv[1], "search") == 0 &&
        bench_parse_long(argv[4], 1, 1000, &a) == 0 &&
        bench_parse_long(argv[5], 1, 86400, &b) == 0 &&
        (argc == 7 || bench_parse_long(argv[7], 0, 600000, &c) == 0))
        return mode_search(argv[2], argv[3], a, b, argc == 8 ? c : 1000, argv[6]);
    return usage();
}
