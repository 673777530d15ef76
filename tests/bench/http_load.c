/* A small closed-loop HTTP/1.1 load generator for the registry benchmark
 * (tests/bench/registry.sh): N threads, each with one keep-alive TCP
 * connection of its own, send requests read from a file back to back for a
 * fixed time and report requests/s and latency percentiles. Plain sockets,
 * no libcurl: at tens of thousands of tiny requests per second on two
 * shared cores, the client's own cost must stay small next to the
 * server's, and the same program measures the baseline (/health) and the
 * endpoint under test, so the ratio of the two is what it is about.
 *
 * The request file has one request per line: METHOD<TAB>PATH[<TAB>BODY]
 * (BODY is sent as application/json). Thread i starts at line i and walks
 * the file round robin; with --per-thread it sends only line i % lines.
 * Replies must carry Content-Length (exptrackd's JSON replies do); any
 * status other than 200 counts as an error, and the first one is printed.
 *
 * usage: http_load --url http://127.0.0.1:PORT --requests FILE
 *                  [--threads 64] [--duration 10] [--warmup 2] [--per-thread]
 *                  [--label NAME]
 * prints: RESULT label=NAME threads=N requests=R errors=E seconds=S rps=X
 *         p50_ms=A p99_ms=B client_cpu_s=C
 * exit status: 0, or 1 when a request failed or the connection broke. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define READ_BUF 65536
#define ERROR_KEEP 512

struct request_line {
    char *wire; /* the whole request as sent */
    size_t len;
};

struct options {
    char host[256];
    char port[16];
    const char *file;
    const char *label;
    long threads;
    long duration;
    long warmup;
    bool per_thread;
};

struct worker {
    pthread_t thread;
    long index;
    int fd;
    char *buf;
    double *lat_ms;
    size_t nlat;
    size_t caplat;
    unsigned long long requests;
    unsigned long long errors;
    bool failed;
    char first_error[ERROR_KEEP];
};

static struct options g_opt;
static struct request_line *g_lines;
static size_t g_nlines;
static pthread_barrier_t g_ready;
static struct timespec g_warm_from; /* start of the warmup */

static void now(struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
}

/* Splits http://host:port[/...] into g_opt.host and g_opt.port. */
static int parse_url(const char *url)
{
    const char *p = url;
    if (strncmp(p, "http://", 7) != 0)
        return -1;
    p += 7;
    const char *colon = strchr(p, ':');
    const char *slash = strchr(p, '/');
    if (!colon || (slash && slash < colon) || (size_t)(colon - p) >= sizeof g_opt.host)
        return -1;
    memcpy(g_opt.host, p, (size_t)(colon - p));
    g_opt.host[colon - p] = '\0';
    size_t plen = slash ? (size_t)(slash - colon - 1) : strlen(colon + 1);
    if (plen == 0 || plen >= sizeof g_opt.port)
        return -1;
    memcpy(g_opt.port, colon + 1, plen);
    g_opt.port[plen] = '\0';
    return 0;
}

/* Builds the wire form of one "METHOD\tPATH[\tBODY]" line. */
static int build_request(char *line, struct request_line *out)
{
    char *method = line, *path, *body = NULL;

    path = strchr(method, '\t');
    if (!path)
        return -1;
    *path++ = '\0';
    char *tab = strchr(path, '\t');
    if (tab) {
        *tab = '\0';
        body = tab + 1;
    }
    size_t blen = body ? strlen(body) : 0;
    size_t cap = strlen(method) + strlen(path) + strlen(g_opt.host) + blen + 256;
    out->wire = malloc(cap);
    if (!out->wire)
        return -1;
    int n;
    if (body)
        n = snprintf(out->wire, cap,
                     "%s %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     method, path, g_opt.host, g_opt.port, blen, body);
    else
        n = snprintf(out->wire, cap, "%s %s HTTP/1.1\r\nHost: %s:%s\r\n\r\n", method, path,
                     g_opt.host, g_opt.port);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    out->len = (size_t)n;
    return 0;
}

static int load_requests(const char *file)
{
    FILE *f = fopen(file, "r");
    char *line = NULL;
    size_t cap = 0, alloc = 0;
    ssize_t len;
    int rc = -1;

    if (!f) {
        perror(file);
        return -1;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        if (g_nlines == alloc) {
            alloc = alloc ? alloc * 2 : 64;
            struct request_line *grown = realloc(g_lines, alloc * sizeof *g_lines);
            if (!grown)
                goto out;
            g_lines = grown;
        }
        if (build_request(line, &g_lines[g_nlines]) != 0) {
            fprintf(stderr, "http_load: bad request line %zu\n", g_nlines + 1);
            goto out;
        }
        g_nlines++;
    }
    rc = g_nlines ? 0 : -1;
    if (rc)
        fprintf(stderr, "http_load: %s has no requests\n", file);
out:
    free(line);
    fclose(f);
    return rc;
}

static int connect_server(void)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    int fd = -1;

    if (getaddrinfo(g_opt.host, g_opt.port, &hints, &ai) != 0)
        return -1;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads one reply; returns its status (>= 100) or -1. The body is left in
 * w->buf (NUL-terminated, cut at READ_BUF - 1 bytes). */
static int read_reply(struct worker *w)
{
    size_t have = 0;
    char *end = NULL;

    while (!end) {
        if (have >= READ_BUF - 1)
            return -1;
        ssize_t n = recv(w->fd, w->buf + have, READ_BUF - 1 - have, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        have += (size_t)n;
        w->buf[have] = '\0';
        end = strstr(w->buf, "\r\n\r\n");
    }
    int status = 0;
    if (sscanf(w->buf, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    long long clen = -1;
    for (char *h = strstr(w->buf, "\r\n"); h && h < end; h = strstr(h + 2, "\r\n")) {
        if (strncasecmp(h + 2, "Content-Length:", 15) == 0)
            clen = atoll(h + 17);
    }
    if (clen < 0)
        return -1;
    size_t head = (size_t)(end + 4 - w->buf);
    size_t got = have - head;
    /* Keep the first READ_BUF - 1 bytes of the body, drain the rest. */
    memmove(w->buf, w->buf + head, got);
    while ((long long)got < clen) {
        char sink[READ_BUF];
        char *dst = got < READ_BUF - 1 ? w->buf + got : sink;
        size_t room = got < READ_BUF - 1 ? READ_BUF - 1 - got : sizeof sink;
        if ((long long)room > clen - (long long)got)
            room = (size_t)(clen - (long long)got);
        ssize_t n = recv(w->fd, dst, room, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    w->buf[got < READ_BUF - 1 ? got : READ_BUF - 1] = '\0';
    return status;
}

static int record(struct worker *w, double ms)
{
    if (w->nlat == w->caplat) {
        size_t cap = w->caplat ? w->caplat * 2 : 65536;
        double *grown = realloc(w->lat_ms, cap * sizeof *grown);
        if (!grown)
            return -1;
        w->lat_ms = grown;
        w->caplat = cap;
    }
    w->lat_ms[w->nlat++] = ms;
    return 0;
}

static void *run_worker(void *arg)
{
    struct worker *w = arg;
    size_t at = (size_t)w->index % g_nlines;
    struct timespec t0, t1;

    w->fd = connect_server();
    if (w->fd < 0) {
        snprintf(w->first_error, sizeof w->first_error, "connect failed");
        w->failed = true;
    }
    pthread_barrier_wait(&g_ready);
    if (w->failed)
        return NULL;
    double warm = (double)g_opt.warmup, total = (double)(g_opt.warmup + g_opt.duration);
    for (;;) {
        now(&t0);
        double since = bench_seconds(&g_warm_from, &t0);
        if (since >= total)
            break;
        bool timed = since >= warm;
        const struct request_line *rq = &g_lines[at];
        if (send_all(w->fd, rq->wire, rq->len) != 0) {
            snprintf(w->first_error, sizeof w->first_error, "send failed: %s", strerror(errno));
            w->failed = true;
            break;
        }
        int status = read_reply(w);
        now(&t1);
        if (status < 0) {
            snprintf(w->first_error, sizeof w->first_error, "connection broke or bad reply");
            w->failed = true;
            break;
        }
        if (status != 200) {
            if (!w->errors)
                snprintf(w->first_error, sizeof w->first_error, "HTTP %d: %.400s", status, w->buf);
            w->errors++;
        }
        if (timed) {
            w->requests++;
            if (record(w, bench_seconds(&t0, &t1) * 1e3) != 0) {
                w->failed = true;
                break;
            }
        }
        if (!g_opt.per_thread)
            at = (at + 1) % g_nlines;
    }
    close(w->fd);
    return NULL;
}

static int usage(void)
{
    fprintf(stderr, "usage: http_load --url http://HOST:PORT --requests FILE [--threads 64]\n"
                    "       [--duration 10] [--warmup 2] [--per-thread] [--label NAME]\n");
    return 2;
}

static int parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},     {"requests", required_argument, NULL, 'r'},
        {"threads", required_argument, NULL, 't'}, {"duration", required_argument, NULL, 'd'},
        {"warmup", required_argument, NULL, 'w'},  {"per-thread", no_argument, NULL, 'p'},
        {"label", required_argument, NULL, 'l'},   {NULL, 0, NULL, 0},
    };
    int c;

    g_opt.threads = 64;
    g_opt.duration = 10;
    g_opt.warmup = 2;
    g_opt.label = "load";
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            if (parse_url(optarg) != 0)
                return -1;
            break;
        case 'r':
            g_opt.file = optarg;
            break;
        case 't':
            if (bench_parse_long(optarg, 1, 4096, &g_opt.threads) != 0)
                return -1;
            break;
        case 'd':
            if (bench_parse_long(optarg, 1, 3600, &g_opt.duration) != 0)
                return -1;
            break;
        case 'w':
            if (bench_parse_long(optarg, 0, 600, &g_opt.warmup) != 0)
                return -1;
            break;
        case 'p':
            g_opt.per_thread = true;
            break;
        case 'l':
            g_opt.label = optarg;
            break;
        default:
            return -1;
        }
    }
    return g_opt.host[0] && g_opt.file && optind == argc ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct worker *workers = NULL;
    double *all = NULL;
    int rc = 1;

    if (parse_args(argc, argv) != 0)
        return usage();
    if (load_requests(g_opt.file) != 0)
        return 1;
    size_t n = (size_t)g_opt.threads;
    workers = calloc(n, sizeof *workers);
    if (!workers)
        goto out;
    pthread_barrier_init(&g_ready, NULL, (unsigned)n + 1);
    double cpu0 = bench_cpu_seconds();
    size_t started = 0;
    for (; started < n; started++) {
        workers[started].index = (long)started;
        workers[started].buf = malloc(READ_BUF);
        if (!workers[started].buf ||
            pthread_create(&workers[started].thread, NULL, run_worker, &workers[started]) != 0)
            break;
    }
    if (started < n) {
        fprintf(stderr, "http_load: could not start thread %zu\n", started);
        exit(1); /* the barrier can never open; nothing to clean up worth the code */
    }
    now(&g_warm_from); /* read by the threads only after the barrier */
    pthread_barrier_wait(&g_ready);
    for (size_t i = 0; i < n; i++)
        pthread_join(workers[i].thread, NULL);

    unsigned long long requests = 0, errors = 0;
    size_t total = 0;
    bool failed = false;
    for (size_t i = 0; i < n; i++) {
        requests += workers[i].requests;
        errors += workers[i].errors;
        total += workers[i].nlat;
        if ((workers[i].failed || workers[i].errors) && workers[i].first_error[0]) {
            fprintf(stderr, "http_load: thread %zu: %s\n", i, workers[i].first_error);
            failed = true;
        }
    }
    all = malloc((total + 1) * sizeof *all);
    if (!all)
        goto out;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(all + k, workers[i].lat_ms, workers[i].nlat * sizeof *all);
        k += workers[i].nlat;
    }
    qsort(all, total, sizeof *all, bench_cmp_double);
    double secs = (double)g_opt.duration;
    printf("RESULT label=%s threads=%ld requests=%llu errors=%llu seconds=%.1f rps=%.0f "
           "p50_ms=%.3f p99_ms=%.3f client_cpu_s=%.2f\n",
           g_opt.label, g_opt.threads, requests, errors, secs, (double)requests / secs,
           bench_percentile(all, total, 0.50), bench_percentile(all, total, 0.99),
           bench_cpu_seconds() - cpu0);
    rc = failed || errors ? 1 : 0;
out:
    if (workers) {
        for (size_t i = 0; i < n; i++) {
            free(workers[i].buf);
            free(workers[i].lat_ms);
        }
    }
    free(workers);
    free(all);
    for (size_t i = 0; i < g_nlines; i++)
        free(g_lines[i].wire);
    free(g_lines);
    return rc;
}
