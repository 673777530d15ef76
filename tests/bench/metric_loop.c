/* loadgen --log-metric's load: one thread, epoll, a keep-alive HTTP/1.1
 * connection per run (metric_loop.h). Requests are one prebuilt text per
 * connection whose fixed-width step and timestamp fields are rewritten in
 * place; replies are read up to their Content-Length (exptrackd sends one
 * on every JSON reply; anything else fails the connection). */
#include "metric_loop.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define REPLY_MAX 8192           /* bytes of one reply: log-metric answers "{}" */
#define MAX_REPORTS 5            /* failures printed; the rest only counted */
#define STEP_STRIDE 1000000000LL /* first step of connection i: i x this (runs may be shared) */
#define STALL_SECONDS 60         /* replies still out this long after the end: a failure */

struct conn {
    int fd;
    char *req; /* headers and body, step and timestamp patched per request */
    size_t req_len;
    size_t step_off, ts_off;
    size_t sent;
    long long step;
    char reply[REPLY_MAX];
    size_t have;
    struct timespec t0;
    bool busy;  /* a request is out */
    bool timed; /* ... and it counts */
    bool dead;
};

struct loop {
    int epfd;
    struct conn *conns;
    int n;
    int busy;
    int reports;
    struct metric_loop_result *out;
    size_t caplat;
};

/* Splits "http://HOST:PORT[/...]" into host and port strings. 0 or -1. */
static int parse_url(const char *url, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *p = strncmp(url, "http://", 7) == 0 ? url + 7 : NULL;
    if (p == NULL)
        return -1;
    const char *colon = strchr(p, ':');
    if (colon == NULL || (size_t)(colon - p) >= hostlen)
        return -1;
    size_t plen = strcspn(colon + 1, "/");
    if (plen == 0 || plen >= portlen)
        return -1;
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = '\0';
    memcpy(port, colon + 1, plen);
    port[plen] = '\0';
    return 0;
}

/* A connected, non-blocking TCP socket with Nagle off, or -1. */
static int open_conn(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int fd = -1, one = 1;

    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    for (struct addrinfo *a = res; a != NULL && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) < 0 && errno != EINPROGRESS) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd >= 0)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* The request text of one connection's run. 0 or -1. */
static int build_request(struct conn *c, const char *hostport, const char *run_id)
{
    char body[256];
    int blen = snprintf(body, sizeof body,
                        "{\"run_id\":\"%s\",\"key\":\"m0\",\"value\":0.5,\"timestamp\":%*s,"
                        "\"step\":%*s}",
                        run_id, BENCH_TS_WIDTH, "", BENCH_STEP_WIDTH, "");
    if (blen < 0 || (size_t)blen >= sizeof body)
        return -1;
    char head[512];
    int hlen = snprintf(head, sizeof head,
                        "POST /api/2.0/mlflow/runs/log-metric HTTP/1.1\r\nHost: %s\r\n"
                        "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n",
                        hostport, blen);
    if (hlen < 0 || (size_t)hlen >= sizeof head)
        return -1;
    c->req_len = (size_t)hlen + (size_t)blen;
    c->req = malloc(c->req_len + 1);
    if (c->req == NULL)
        return -1;
    memcpy(c->req, head, (size_t)hlen);
    memcpy(c->req + hlen, body, (size_t)blen + 1);
    c->ts_off = (size_t)hlen + (size_t)(strstr(body, "\"timestamp\":") - body) + 12;
    c->step_off = (size_t)hlen + (size_t)(strstr(body, "\"step\":") - body) + 7;
    return 0;
}

static void fail_conn(struct loop *l, struct conn *c, const char *what)
{
    if (l->reports++ < MAX_REPORTS)
        fprintf(stderr, "loadgen: connection %d: %s\n", (int)(c - l->conns), what);
    if (c->busy) {
        l->busy--;
        if (c->timed)
            l->out->errors++;
    }
    c->busy = false;
    c->dead = true;
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
}

/* Writes what is left of the request; waits for EPOLLOUT when the socket is
 * full. */
static void push(struct loop *l, struct conn *c)
{
    while (c->sent < c->req_len) {
        ssize_t n = send(c->fd, c->req + c->sent, c->req_len - c->sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT,
                                     .data.u32 = (uint32_t)(c - l->conns)};
            epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &ev);
            return;
        }
        if (n <= 0) {
            fail_conn(l, c, strerror(errno));
            return;
        }
        c->sent += (size_t)n;
    }
}

static void send_next(struct loop *l, struct conn *c, bool timed)
{
    if (bench_put_fixed(c->req + c->step_off, BENCH_STEP_WIDTH, c->step) < 0 ||
        bench_put_fixed(c->req + c->ts_off, BENCH_TS_WIDTH, BENCH_TS_BASE + c->step) < 0) {
        fail_conn(l, c, "step outgrew the request template");
        return;
    }
    c->step++;
    c->sent = 0;
    c->have = 0;
    c->busy = true;
    c->timed = timed;
    l->busy++;
    if (timed)
        l->out->requests++;
    clock_gettime(CLOCK_MONOTONIC, &c->t0);
    push(l, c);
}

static int record(struct loop *l, double ms)
{
    struct metric_loop_result *o = l->out;
    if (o->nlat == l->caplat) {
        size_t cap = l->caplat ? l->caplat * 2 : 4096;
        double *p = realloc(o->lat_ms, cap * sizeof *p);
        if (p == NULL)
            return -1;
        o->lat_ms = p;
        l->caplat = cap;
    }
    o->lat_ms[o->nlat++] = ms;
    return 0;
}

/* The status of a complete reply in c->reply, 0 while it is incomplete,
 * -1 when it cannot be read (no Content-Length, too long). */
static int reply_status(const struct conn *c)
{
    const char *end = memmem(c->reply, c->have, "\r\n\r\n", 4);
    if (end == NULL)
        return c->have < REPLY_MAX ? 0 : -1;
    size_t head = (size_t)(end - c->reply) + 4;
    long length = -1;
    for (const char *p = c->reply; p < end;) {
        const char *eol = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);
        if (strncasecmp(p, "content-length:", 15) == 0)
            length = strtol(p + 15, NULL, 10);
        p = eol + 2;
    }
    if (length < 0 || head + (size_t)length > REPLY_MAX)
        return -1;
    if (c->have < head + (size_t)length)
        return 0;
    int status = 0;
    if (sscanf(c->reply, "HTTP/1.%*d %d", &status) != 1 || status <= 0)
        return -1;
    return status;
}

/* Reads what arrived; on a whole reply, counts it and sends the next
 * request while the clock allows. */
static void on_readable(struct loop *l, struct conn *c, const struct timespec *start,
                        double duration, struct timespec *last)
{
    ssize_t n = recv(c->fd, c->reply + c->have, REPLY_MAX - c->have, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        fail_conn(l, c, n == 0 ? "closed by the server" : strerror(errno));
        return;
    }
    c->have += (size_t)n;
    int status = reply_status(c);
    if (status == 0)
        return;
    if (status < 0) {
        fail_conn(l, c, "unreadable reply");
        return;
    }
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    c->busy = false;
    l->busy--;
    if (status != 200) {
        if (l->reports++ < MAX_REPORTS)
            fprintf(stderr, "loadgen: log-metric -> %d: %.200s\n", status, c->reply);
        if (c->timed)
            l->out->errors++;
        else
            c->dead = true; /* a failed warm-up: this connection is not used */
    } else if (c->timed && record(l, bench_seconds(&c->t0, &t) * 1e3) < 0) {
        fail_conn(l, c, "out of memory");
        return;
    }
    if (c->timed)
        *last = t;
    if (c->timed && !c->dead && bench_seconds(start, &t) < duration)
        send_next(l, c, true);
}

/* Runs the loop until no request is out. */
static void drain(struct loop *l, const struct timespec *start, double duration,
                  struct timespec *last)
{
    struct epoll_event evs[64];
    while (l->busy > 0) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (bench_seconds(start, &t) > duration + STALL_SECONDS) {
            for (int i = 0; i < l->n; i++)
                if (l->conns[i].busy)
                    fail_conn(l, &l->conns[i], "no reply");
            break;
        }
        int n = epoll_wait(l->epfd, evs, 64, 1000);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            struct conn *c = &l->conns[evs[i].data.u32];
            if (c->dead)
                continue;
            if (evs[i].events & EPOLLOUT) {
                struct epoll_event ev = {.events = EPOLLIN, .data.u32 = evs[i].data.u32};
                epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &ev);
                push(l, c);
            }
            if (!c->dead && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                on_readable(l, c, start, duration, last);
        }
    }
}

int metric_loop_run(const char *url, char *const *run_ids, int nconns, double duration,
                    struct metric_loop_result *out)
{
    char host[256], port[16], hostport[300];
    struct loop l = {.epfd = -1, .n = nconns, .out = out};
    struct timespec start, last;
    int ret = -1;

    memset(out, 0, sizeof *out);
    if (parse_url(url, host, sizeof host, port, sizeof port) < 0) {
        fprintf(stderr, "loadgen: --log-metric needs an http://HOST:PORT URL\n");
        return -1;
    }
    snprintf(hostport, sizeof hostport, "%s:%s", host, port);
    l.conns = calloc((size_t)nconns, sizeof *l.conns);
    l.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l.conns == NULL || l.epfd < 0)
        goto out;
    for (int i = 0; i < nconns; i++)
        l.conns[i].fd = -1;
    for (int i = 0; i < nconns; i++) {
        struct conn *c = &l.conns[i];
        c->step = i * STEP_STRIDE;
        c->fd = open_conn(host, port);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (c->fd < 0 || build_request(c, hostport, run_ids[i]) < 0 ||
            epoll_ctl(l.epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
            fprintf(stderr, "loadgen: cannot set up connection %d to %s\n", i, hostport);
            goto out;
        }
    }
    /* warm-up: every connection open and one point logged, untimed */
    clock_gettime(CLOCK_MONOTONIC, &start);
    last = start;
    for (int i = 0; i < nconns; i++)
        send_next(&l, &l.conns[i], false);
    drain(&l, &start, duration, &last);
    for (int i = 0; i < nconns; i++) {
        if (l.conns[i].dead) {
            fprintf(stderr, "loadgen: connection %d failed its warm-up request\n", i);
            goto out;
        }
    }
    out->warmup = (unsigned long long)nconns;
    /* timed: every connection busy until the duration is over */
    clock_gettime(CLOCK_MONOTONIC, &start);
    last = start;
    for (int i = 0; i < nconns; i++)
        send_next(&l, &l.conns[i], true);
    drain(&l, &start, duration, &last);
    out->seconds = bench_seconds(&start, &last);
    ret = 0;
    for (int i = 0; i < nconns; i++)
        if (l.conns[i].dead)
            ret = -1;
out:
    for (int i = 0; l.conns != NULL && i < nconns; i++) {
        if (l.conns[i].fd >= 0)
            close(l.conns[i].fd);
        free(l.conns[i].req);
    }
    free(l.conns);
    if (l.epfd >= 0)
        close(l.epfd);
    return ret;
}
