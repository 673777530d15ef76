/* The batching thread: pops points from the buffer, groups them per run into
 * log-batch requests (<= 1000 metrics, the contract's limit), each with its
 * own Idempotency-Key, and sends them in order, retrying network errors, 429
 * and 5xx with backoff. A pop waits for a full request's worth of points per
 * run that the previous pop held (at most ET_POP_MAX points, at most
 * flush_interval_ms): a process logging to many runs at once then sends a
 * few large requests per run and second instead of many small ones. A batch failing past
 * spool_after_ms, or when a producer asks for room under ET_FULL_SPOOL, or at shutdown past the
 * deadline, goes to the disk spool; while the spool holds anything, new
 * batches go there too, so replay keeps the logging order. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define LOG_BATCH_PATH "/api/2.0/mlflow/runs/log-batch"

/* Most points one pop takes: 32 runs' full requests. */
#define ET_POP_MAX (32 * ET_BATCH_MAX)

/* A popped point's run and position, sorted to group points per run. */
struct run_slot {
    const char *run;
    size_t index;
};

struct batcher {
    et_client *c;
    CURL *h;
    struct et_dbuf url;
    struct http_reply rep;
    struct et_point_out *pts, *group;
    struct run_slot *slots;
    size_t runs_last_pop; /* distinct runs in the previous pop */
    int64_t next_replay;
    int replay_attempt;
};

int et__batch_encode(struct et_dbuf *b, const char *run_id, const struct et_point_out *pts,
                     size_t n)
{
    int rc = ET_OK;

    b->len = 0;
    rc |= et__dbuf_add(b, "{\"run_id\":", 10);
    rc |= et__dbuf_add_jstr(b, run_id);
    rc |= et__dbuf_add(b, ",\"metrics\":[", 12);
    for (size_t i = 0; i < n && rc == ET_OK; i++) {
        rc |= et__dbuf_add(b, i ? ",{\"key\":" : "{\"key\":", i ? 8 : 7);
        rc |= et__dbuf_add_jstr(b, pts[i].key);
        rc |= et__dbuf_add(b, ",\"value\":", 9);
        rc |= et__dbuf_add_jdouble(b, pts[i].value);
        rc |= et__dbuf_addf(b, ",\"timestamp\":%lld,\"step\":%lld}", (long long)pts[i].ts,
                            (long long)pts[i].step);
    }
    rc |= et__dbuf_add(b, "]}", 2);
    return rc == ET_OK ? ET_OK : ET_ENOMEM;
}

static int past_close_deadline(et_client *c)
{
    return atomic_load(&c->closing) && et__util_mono_ms() >= atomic_load(&c->close_deadline);
}

static int to_spool(et_client *c, const char *body, size_t len, const char *key, size_t np)
{
    struct spool_rec r = {0};
    r.path = (char *)LOG_BATCH_PATH;
    snprintf(r.key, sizeof r.key, "%s", key);
    r.npoints = (uint32_t)np;
    r.body = (char *)body;
    r.body_len = len;
    int rc = et__client_spool_append(c, &r);
    if (rc == ET_OK)
        atomic_fetch_add(&c->st_spooled, np);
    return rc;
}

/* Waits ms, or less when shutting down (the buffer no longer wakes us then). */
static void pause_ms(et_client *c, int64_t ms)
{
    if (!atomic_load(&c->closing)) {
        et__buffer_nap(c->buf, (int)ms);
        return;
    }
    int64_t left = atomic_load(&c->close_deadline) - et__util_mono_ms();
    if (ms > left)
        ms = left;
    if (ms > 0) {
        struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
}

/* Delivers one encoded batch: sent, spooled, or (refused by the server) dropped. */
static void deliver(struct batcher *bt, const struct et_dbuf *body, size_t np, uint64_t ticket)
{
    et_client *c = bt->c;
    char key[33];
    int64_t started = et__util_mono_ms();

    et__util_random_hex32(key);
    for (int attempt = 1;; attempt++) {
        int spool_now = et__client_spool_busy(c) || past_close_deadline(c) ||
                        et__util_mono_ms() - started >= c->opt.spool_after_ms ||
                        et__buffer_take_spool_request(c->buf);
        if (spool_now) {
            /* Spool in logging order: wait until every earlier batch (other
             * senders') is delivered or spooled. The oldest never waits. */
            while (et__buffer_wait_done(c->buf, ticket, 1000) != ET_OK)
                ;
            if (to_spool(c, body->data, body->len, key, np) == ET_OK)
                return;
            if (past_close_deadline(c)) {
                atomic_fetch_add(&c->st_dropped, np);
                return;
            }
        } else {
            int rc = et__http_request(bt->h, bt->url.data, "POST", body->data, body->len, key,
                                      c->opt.request_timeout_ms, &bt->rep);
            if (rc == ET_OK && bt->rep.status == 200) {
                atomic_fetch_add(&c->st_delivered, np);
                atomic_fetch_add(&c->st_requests, 1);
                return;
            }
            if (rc == ET_OK && !et__http_retryable(bt->rep.status)) {
                (void)et__http_error_code(&bt->rep);
                atomic_fetch_add(&c->st_dropped, np);
                return;
            }
            atomic_fetch_add(&c->st_retries, 1);
        }
        pause_ms(c, et__http_backoff_ms(attempt));
    }
}

static int cmp_run_slot(const void *a, const void *b)
{
    const struct run_slot *x = a, *y = b;
    if (x->run != y->run)
        return x->run < y->run ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Splits popped points per run (keeping order within a run) into requests
 * of at most ET_BATCH_MAX points and delivers them. Runs are interned, so
 * their pointers identify them. */
static int ship(struct batcher *bt, size_t n, uint64_t ticket)
{
    struct et_dbuf body;
    size_t runs = 0;

    for (size_t i = 0; i < n; i++)
        bt->slots[i] = (struct run_slot){bt->pts[i].run, i};
    qsort(bt->slots, n, sizeof *bt->slots, cmp_run_slot);
    et__dbuf_init(&body);
    for (size_t i = 0; i < n;) {
        const char *run = bt->slots[i].run;
        size_t ng = 0;
        while (i < n && bt->slots[i].run == run && ng < ET_BATCH_MAX)
            bt->group[ng++] = bt->pts[bt->slots[i++].index];
        if (i == n || bt->slots[i].run != run)
            runs++;
        while (et__batch_encode(&body, run, bt->group, ng) != ET_OK)
            et__buffer_nap(bt->c->buf, 100); /* out of memory: wait, never drop */
        deliver(bt, &body, ng, ticket);
    }
    et__dbuf_cleanup(&body);
    bt->runs_last_pop = runs;
    return ET_OK;
}

/* Sends the oldest spooled record once. ET_OK when acknowledged (or refused
 * for good), 1 when the spool is empty, else a network/server error. */
static int replay_one(struct batcher *bt)
{
    et_client *c = bt->c;
    struct spool_rec r;
    struct et_dbuf url;

    pthread_mutex_lock(&c->spool_mu);
    int rc = et__spool_peek(c->spool, &r);
    pthread_mutex_unlock(&c->spool_mu);
    if (rc <= 0)
        return rc == 0 ? 1 : rc;
    et__dbuf_init(&url);
    rc = et__dbuf_addf(&url, "%s%s", c->url, r.path);
    if (rc == ET_OK)
        rc = et__http_request(bt->h, url.data, "POST", r.body, r.body_len, r.key,
                              c->opt.request_timeout_ms, &bt->rep);
    if (rc == ET_OK && et__http_retryable(bt->rep.status))
        rc = ET_ESERVER;
    if (rc == ET_OK) {
        if (bt->rep.status == 200) {
            atomic_fetch_add(&c->st_replayed, r.npoints);
        } else {
            (void)et__http_error_code(&bt->rep);
            atomic_fetch_add(&c->st_dropped, r.npoints);
        }
        pthread_mutex_lock(&c->spool_mu);
        rc = et__spool_ack(c->spool);
        pthread_mutex_unlock(&c->spool_mu);
    }
    et__dbuf_cleanup(&url);
    et__spool_rec_cleanup(&r);
    return rc;
}

/* Replays while the server takes it and the buffer is not filling up. */
static void replay_some(struct batcher *bt)
{
    et_client *c = bt->c;

    if (et__util_mono_ms() < bt->next_replay)
        return;
    while (et__buffer_count(c->buf) < ET_BATCH_MAX && !past_close_deadline(c)) {
        int rc = replay_one(bt);
        if (rc == 1)
            return;
        if (rc != ET_OK) {
            bt->replay_attempt++;
            bt->next_replay = et__util_mono_ms() + et__http_backoff_ms(bt->replay_attempt);
            return;
        }
        bt->replay_attempt = 0;
    }
}

static int batcher_init(struct batcher *bt, et_client *c)
{
    memset(bt, 0, sizeof *bt);
    bt->c = c;
    et__dbuf_init(&bt->url);
    et__dbuf_init(&bt->rep.body);
    bt->h = curl_easy_init();
    bt->pts = malloc(ET_POP_MAX * sizeof *bt->pts);
    bt->group = malloc(ET_BATCH_MAX * sizeof *bt->group);
    bt->slots = malloc(ET_POP_MAX * sizeof *bt->slots);
    if (bt->h == NULL || bt->pts == NULL || bt->group == NULL || bt->slots == NULL ||
        et__dbuf_addf(&bt->url, "%s%s", c->url, LOG_BATCH_PATH) != ET_OK)
        return ET_ENOMEM;
    return ET_OK;
}

static void batcher_cleanup(struct batcher *bt)
{
    curl_easy_cleanup(bt->h);
    free(bt->pts);
    free(bt->group);
    free(bt->slots);
    et__dbuf_cleanup(&bt->url);
    et__dbuf_cleanup(&bt->rep.body);
}

void *et__batcher_main(void *arg)
{
    struct batcher bt;
    et_client *c = arg;
    int64_t last_ship = et__util_mono_ms();
    uint64_t ticket = 0;
    /* Sender 0 also replays the spool: one reader keeps replay in order. */
    int replayer = atomic_fetch_add(&c->next_sender, 1) == 0;

    while (batcher_init(&bt, c) != ET_OK) {
        batcher_cleanup(&bt);
        et__buffer_nap(c->buf, 100);
    }
    for (;;) {
        if (replayer && et__client_spool_busy(c))
            replay_some(&bt);
        int64_t now = et__util_mono_ms();
        int64_t timeout = c->opt.flush_interval_ms - (now - last_ship);
        if (replayer && et__client_spool_busy(c) && bt.next_replay - now < timeout)
            timeout = bt.next_replay - now;
        if (timeout < 0)
            timeout = 0;
        size_t want = bt.runs_last_pop > 1 ? bt.runs_last_pop * ET_BATCH_MAX : ET_BATCH_MAX;
        if (want > ET_POP_MAX)
            want = ET_POP_MAX;
        size_t n = et__buffer_pop(c->buf, bt.pts, ET_POP_MAX, want, (int)timeout, &ticket);
        if (n > 0 || et__util_mono_ms() - last_ship >= c->opt.flush_interval_ms)
            last_ship = et__util_mono_ms();
        if (n > 0) {
            ship(&bt, n, ticket);
            et__buffer_done(c->buf, ticket);
        } else if (atomic_load(&c->closing) && et__buffer_count(c->buf) == 0) {
            break;
        }
    }
    /* Last chance to empty the spool before the deadline. */
    while (replayer && et__client_spool_busy(c) && !past_close_deadline(c)) {
        replay_some(&bt);
        if (et__client_spool_busy(c))
            pause_ms(c, 50);
    }
    batcher_cleanup(&bt);
    return NULL;
}
