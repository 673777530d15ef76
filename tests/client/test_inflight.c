/* Unit tests of the batcher's requests in flight, against a small fake
 * log-batch server on loopback (a thread here) that answers each request
 * after a random delay, sometimes with 503, sometimes by closing the
 * connection without an answer, and sometimes only after "committing" it
 * (an answer lost after the commit). Like exptrackd, it keeps the
 * Idempotency-Keys it committed and answers a repeat 200 without storing it
 * again. It checks that several requests were in flight at once, that each
 * run's points were committed in logging order (unless one run logs faster
 * than one request at a time carries), and that every point was committed
 * exactly once. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"

#define RUNS 12
#define POINTS 6000 /* per run */
#define MAX_CONNS 64
#define MAX_KEYS 65536

enum fate { ANSWER_200, ANSWER_503, CLOSE_UNANSWERED, COMMIT_THEN_CLOSE };

struct conn {
    int fd;
    char *buf;
    size_t len, cap;
    int64_t answer_at; /* ms: the parsed request is answered then; 0: reading */
    enum fate fate;
    size_t body_off, body_len;
};

struct fake {
    int lfd, port;
    volatile int stop;
    pthread_t thread;
    struct conn conns[MAX_CONNS];
    int peak_pending;        /* most requests read and not yet answered at once */
    int64_t next_step[RUNS]; /* per run: the step the next committed point must carry */
    long committed, refused, disorder, doubled, faults; /* faults: the fake's own checks */
    unsigned char seen[RUNS * POINTS];                  /* steps committed: [run * POINTS + step] */
    char keys[MAX_KEYS][33];
    int nkeys;
    unsigned seed;
    int hang; /* read requests and never answer them */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int key_seen(struct fake *f, const char *key)
{
    for (int i = 0; i < f->nkeys; i++)
        if (strcmp(f->keys[i], key) == 0)
            return 1;
    return 0;
}

/* Stores a log-batch body: checks each point's step against its run's next. */
static void commit(struct fake *f, const char *body, size_t len, const char *key)
{
    if (key_seen(f, key))
        return; /* a retry of a committed request: answered, not stored */
    if (f->nkeys < MAX_KEYS)
        snprintf(f->keys[f->nkeys++], 33, "%s", key);
    json_t *j = json_loadb(body, len, 0, NULL);
    const char *run = json_string_value(json_object_get(j, "run_id"));
    int r = run != NULL ? atoi(run + 24) : -1; /* run ids end in their index */
    json_t *m = json_object_get(j, "metrics");
    for (size_t i = 0; i < json_array_size(m) && r >= 0 && r < RUNS; i++) {
        int64_t step = json_integer_value(json_object_get(json_array_get(m, i), "step"));
        if (step != f->next_step[r])
            f->disorder++;
        int64_t at = (int64_t)r * POINTS + step;
        if (at >= 0 && at < RUNS * POINTS && f->seen[at]++)
            f->doubled++;
        f->next_step[r] = step + 1;
        f->committed++;
    }
    json_decref(j);
}

/* When c->buf holds a whole request, picks its fate and answer time. */
static void parse(struct fake *f, struct conn *c)
{
    c->buf[c->len] = '\0';
    char *end = strstr(c->buf, "\r\n\r\n");
    if (end == NULL)
        return;
    char *cl = strstr(c->buf, "Content-Length:");
    size_t body_len = cl != NULL && cl < end ? strtoul(cl + 15, NULL, 10) : 0;
    c->body_off = (size_t)(end + 4 - c->buf);
    if (c->len < c->body_off + body_len)
        return;
    c->body_len = body_len;
    int roll = (int)(rand_r(&f->seed) % 100);
    c->fate = roll < 8    ? ANSWER_503
              : roll < 12 ? CLOSE_UNANSWERED
              : roll < 16 ? COMMIT_THEN_CLOSE
                          : ANSWER_200;
    c->answer_at = now_ms() + 1 + rand_r(&f->seed) % 20 + (f->hang ? 3600000 : 0);
}

static void drop(struct conn *c)
{
    close(c->fd);
    c->fd = -1;
    c->len = 0;
    c->answer_at = 0;
}

static void answer(struct fake *f, struct conn *c)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             "Content-Length: 2\r\n\r\n{}";
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: "
                               "application/json\r\nContent-Length: 2\r\n\r\n{}";
    char key[33] = "";
    char *k = strstr(c->buf, "Idempotency-Key: ");
    if (k != NULL)
        snprintf(key, sizeof key, "%.32s", k + 17);
    if (strlen(key) != 32)
        f->faults++; /* every batch carries one */
    if (c->fate == ANSWER_200 || c->fate == COMMIT_THEN_CLOSE)
        commit(f, c->buf + c->body_off, c->body_len, key);
    if (c->fate == ANSWER_503)
        f->refused++;
    if (c->fate == CLOSE_UNANSWERED || c->fate == COMMIT_THEN_CLOSE) {
        drop(c);
        return;
    }
    const char *reply = c->fate == ANSWER_200 ? ok : busy;
    size_t n = strlen(reply);
    if (send(c->fd, reply, n, MSG_NOSIGNAL) != (ssize_t)n)
        f->faults++;
    size_t used = c->body_off + c->body_len; /* keep a pipelined next request */
    memmove(c->buf, c->buf + used, c->len - used);
    c->len -= used;
    c->answer_at = 0;
    parse(f, c);
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    struct pollfd pfd[MAX_CONNS + 1];

    while (!f->stop) {
        int pending = 0;
        pfd[0] = (struct pollfd){.fd = f->lfd, .events = POLLIN};
        for (int i = 0; i < MAX_CONNS; i++) {
            struct conn *c = &f->conns[i];
            pfd[i + 1] = (struct pollfd){.fd = c->answer_at ? -1 : c->fd, .events = POLLIN};
            pending += c->fd >= 0 && c->answer_at != 0;
        }
        if (pending > f->peak_pending)
            f->peak_pending = pending;
        poll(pfd, MAX_CONNS + 1, 1);
        if (pfd[0].revents & POLLIN) {
            int fd = accept(f->lfd, NULL, NULL);
            for (int i = 0; fd >= 0 && i < MAX_CONNS; i++) {
                if (f->conns[i].fd < 0) {
                    f->conns[i].fd = fd;
                    fd = -1;
                }
            }
            if (fd >= 0)
                close(fd); /* full: the client retries */
        }
        for (int i = 0; i < MAX_CONNS; i++) {
            struct conn *c = &f->conns[i];
            if (c->fd >= 0 && c->answer_at == 0 && (pfd[i + 1].revents & (POLLIN | POLLHUP))) {
                if (c->cap - c->len < 65536) {
                    c->cap = c->cap * 2 + 65536;
                    char *grown = realloc(c->buf, c->cap + 1);
                    if (grown == NULL) {
                        f->faults++;
                        drop(c);
                        continue;
                    }
                    c->buf = grown;
                }
                ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
                if (r <= 0) {
                    drop(c);
                    continue;
                }
                c->len += (size_t)r;
                parse(f, c);
            }
            if (c->fd >= 0 && c->answer_at != 0 && now_ms() >= c->answer_at)
                answer(f, c);
        }
    }
    return NULL;
}

static void fake_start(struct fake *f)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    f->seed = 12345;
    for (int i = 0; i < MAX_CONNS; i++)
        f->conns[i].fd = -1;
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->lfd >= 0);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(f->lfd, 128), 0);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &sl), 0);
    f->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
    f->stop = 1;
    pthread_join(f->thread, NULL);
    for (int i = 0; i < MAX_CONNS; i++) {
        if (f->conns[i].fd >= 0)
            close(f->conns[i].fd);
        free(f->conns[i].buf);
    }
    close(f->lfd);
}

/* Logs points points to each of nruns runs through a client with buffer
 * room for buffer_points, run r logging r + 1 points per round, and
 * flushes; *st gets the client's counters. */
static void log_runs(struct fake *f, int nruns, int64_t points, size_t buffer_points, et_stats *st)
{
    char dir[] = "/tmp/et-inflight-test-XXXXXX", url[64];
    et_options o;
    et_client *c;
    et_run *runs[RUNS];
    int64_t step[RUNS] = {0};

    assert_non_null(mkdtemp(dir));
    unsetenv("EXPTRACK_SENDERS"); /* the options below hold */
    unsetenv("EXPTRACK_FLUSH_MS");
    snprintf(url, sizeof url, "http://127.0.0.1:%d", f->port);
    et_options_init(&o);
    o.url = url;
    o.spool_dir = dir;
    o.flush_interval_ms = 20;
    o.senders = 8;
    o.buffer_points = buffer_points;
    assert_int_equal(et_client_new_opts(&o, &c), ET_OK);
    for (int r = 0; r < nruns; r++) {
        char id[48]; /* 32 characters: r < RUNS */
        snprintf(id, sizeof id, "0123456789abcdef01234567%08d", r);
        assert_int_equal(et_run_attach(c, id, &runs[r]), ET_OK);
    }
    for (int done = 0; !done;) {
        done = 1;
        for (int r = 0; r < nruns; r++) {
            for (int k = 0; k <= r && step[r] < points; k++, step[r]++)
                assert_int_equal(et_log_metric(runs[r], "m", (double)step[r], step[r]), ET_OK);
            done &= step[r] == points;
        }
    }
    for (int r = 0; r < nruns; r++)
        assert_int_equal(et_run_flush(runs[r], 60000), ET_OK);
    et_client_stats(c, st);
    for (int r = 0; r < nruns; r++)
        et_run_detach(runs[r]);
    et_client_free(c);
    rmdir(dir);
}

/* Checks that the fake committed all n points once, after refusals and
 * hang-ups, with several requests in flight. */
static void check_each_once(const struct fake *f, int64_t n, const et_stats *st)
{
    assert_int_equal(st->queued, n);
    assert_int_equal(st->delivered, n);
    assert_int_equal(st->spooled + st->dropped, 0);
    assert_true(st->retries > 0); /* the fake refused and hung up some */
    assert_true(f->refused > 0);
    assert_true(f->peak_pending > 1); /* several requests were in flight */
    assert_int_equal(f->faults, 0);
    assert_int_equal(f->doubled, 0);
    assert_int_equal(f->committed, n); /* each point once */
}

/* Twelve runs at uneven rates through a buffer smaller than one full
 * request: each run's points are committed in logging order. */
static void runs_stay_in_order_with_requests_in_flight(void **state)
{
    struct fake *f = calloc(1, sizeof *f);
    et_stats st;

    assert_non_null(f);
    fake_start(f);
    log_runs(f, RUNS, POINTS, 512, &st);
    fake_stop(f);
    check_each_once(f, RUNS * POINTS, &st);
    assert_int_equal(f->disorder, 0);
    for (int r = 0; r < RUNS; r++)
        assert_int_equal(f->next_step[r], POINTS);
    free(f);
}

/* One run logging as fast as it can: its full requests travel several at
 * once (their order is the server's), and each point is committed once. */
static void a_hot_run_has_full_requests_in_flight(void **state)
{
    struct fake *f = calloc(1, sizeof *f);
    et_stats st;

    assert_non_null(f);
    fake_start(f);
    log_runs(f, 1, RUNS * POINTS, 262144, &st);
    fake_stop(f);
    check_each_once(f, RUNS * POINTS, &st);
    free(f);
}

/* A server that takes requests and never answers, a tiny buffer and
 * ET_FULL_SPOOL: the calls wait at most for a request's timeout, the points
 * go to the spool, each run's in logging order, none lost. */
static void full_buffer_spools_while_requests_hang(void **state)
{
    char dir[] = "/tmp/et-inflight-test-XXXXXX", url[64];
    struct fake *f = calloc(1, sizeof *f);
    et_options o;
    et_client *c;
    et_run *runs[3];
    const int n = 3000; /* per run */
    int64_t worst_ms = 0;

    assert_non_null(f);
    assert_non_null(mkdtemp(dir));
    unsetenv("EXPTRACK_SENDERS");
    unsetenv("EXPTRACK_FLUSH_MS");
    f->hang = 1;
    fake_start(f);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", f->port);
    et_options_init(&o);
    o.url = url;
    o.spool_dir = dir;
    o.flush_interval_ms = 20;
    o.senders = 2;
    o.buffer_points = 64;
    o.full_policy = ET_FULL_SPOOL;
    o.request_timeout_ms = 1000; /* the hung requests fail, then spool at shutdown */
    o.flush_timeout_ms = 500;
    assert_int_equal(et_client_new_opts(&o, &c), ET_OK);
    for (int r = 0; r < 3; r++) {
        char id[48]; /* 32 characters */
        snprintf(id, sizeof id, "fedcba9876543210fedcba98%08d", r);
        assert_int_equal(et_run_attach(c, id, &runs[r]), ET_OK);
    }
    for (int i = 0; i < n; i++) {
        for (int r = 0; r < 3; r++) {
            int64_t t0 = et__util_mono_ms();
            assert_int_equal(et_log_metric(runs[r], "m", i, i), ET_OK);
            if (et__util_mono_ms() - t0 > worst_ms)
                worst_ms = et__util_mono_ms() - t0;
        }
    }
    for (int r = 0; r < 3; r++)
        et_run_detach(runs[r]);
    et_client_free(c);
    fake_stop(f);
    free(f);
    /* A run's later batches wait for its hung request (their order), up to
     * request_timeout_ms, as the senders before did; never for the server. */
    assert_true(worst_ms < 5000);

    /* Everything is in the spool: per run, steps 0..n-1 in order. */
    struct et_spool *s;
    struct spool_rec rec;
    int64_t next[3] = {0};
    assert_int_equal(et__spool_open(dir, 0, &s), ET_OK);
    while (et__spool_peek(s, &rec) == 1) {
        json_t *j = json_loads(rec.body, 0, NULL);
        json_t *m = json_object_get(j, "metrics");
        int r = atoi(json_string_value(json_object_get(j, "run_id")) + 24);
        for (size_t i = 0; i < json_array_size(m); i++)
            assert_int_equal(json_integer_value(json_object_get(json_array_get(m, i), "step")),
                             next[r]++);
        json_decref(j);
        et__spool_rec_cleanup(&rec);
        assert_int_equal(et__spool_ack(s), ET_OK);
    }
    et__spool_close(s);
    for (int r = 0; r < 3; r++)
        assert_int_equal(next[r], n);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(runs_stay_in_order_with_requests_in_flight),
        cmocka_unit_test(a_hot_run_has_full_requests_in_flight),
        cmocka_unit_test(full_buffer_spools_while_requests_hang),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
