/* The batching thread: pops points from the buffer, groups them per run into
 * log-batch requests (<= 1000 metrics, the contract's limit), each with its
 * own Idempotency-Key, and keeps up to opt.senders of them in flight at once
 * on one curl multi handle, retrying network errors, 429 and 5xx with
 * backoff under the same key. A run's requests go one at a time in logging
 * order (the next starts once the one before is acknowledged, spooled or
 * dropped), so a run's points reach the server in order while the requests
 * of many runs share the connections. Only a run that logs faster than one
 * request at a time carries, so that full requests (ET_BATCH_MAX points)
 * queue up behind each other, has up to RUN_FULL_INFLIGHT of them in flight
 * at once; their order among themselves is then the server's.
 *
 * A pop waits for a full request's worth of points per run that the
 * previous pop held (at most ET_POP_MAX points, at most flush_interval_ms):
 * a process logging to many runs at once then sends a few large requests
 * per run and second instead of many small ones. The next pop comes once
 * fewer than opt.senders requests wait to be sent, so points that cannot be
 * sent stay in the buffer, where the full policy applies.
 *
 * A batch failing past spool_after_ms, or when a producer asks for room
 * under ET_FULL_SPOOL, or at shutdown past the deadline, goes to the disk
 * spool; while the spool holds anything, new batches go there too, so
 * replay keeps each run's logging order. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define LOG_BATCH_PATH "/api/2.0/mlflow/runs/log-batch"

/* Most points one pop takes: 32 runs' full requests. */
#define ET_POP_MAX (32 * ET_BATCH_MAX)
/* Full requests of one run in flight at once (the 4 sender threads before
 * this batcher had that many): one hot run logging 2 million points through
 * one request at a time got 33,000 points/s end to end against 76,000 with
 * the 4 senders, on a loaded machine. */
#define RUN_FULL_INFLIGHT 4
/* How long the thread waits on its transfers (a finished one wakes it at
 * once) before it looks at the buffer, flush requests and retry times again
 * while requests are queued or in flight: a flush request or a full pop
 * waits at most this long. */
#define POLL_MS 20

/* A popped point's run and position, sorted to group points per run. */
struct run_slot {
    const char *run;
    size_t index;
};

/* One log-batch request, from its pop until it is handled. */
struct req {
    struct req *prev_of_run, *next_of_run; /* the run's unhandled requests, in order */
    int ahead;                             /* how many of them come before this one */
    int handled;                           /* delivered, spooled or dropped */
    uint32_t run_sid;
    uint64_t ticket; /* the pop it came from */
    size_t np;
    char key[33];
    struct et_dbuf body;
    int attempt;
    int64_t started;    /* first attempt (mono ms), 0 before */
    int64_t not_before; /* the next attempt waits until then (mono ms) */
    CURL *h;            /* while in flight */
    struct curl_slist *hdrs;
    struct et_dbuf reply;
};

/* A pop's requests not yet handled; the pop is done when none are left. */
struct pop_left {
    uint64_t ticket;
    size_t left;
};

struct batcher {
    et_client *c;
    CURLM *multi;
    CURL *h; /* replay's handle */
    CURL **idle;
    int nidle;
    struct et_dbuf url;
    struct http_reply rep;
    struct et_point_out *pts, *group;
    struct run_slot *slots;
    size_t runs_last_pop; /* distinct runs in the previous pop */
    struct req **q;       /* unhandled requests, oldest first */
    size_t nq, capq;
    struct req **last; /* per run intern id: its newest unhandled request */
    size_t nlast;
    struct pop_left pops[ET_MAX_POPS];
    int npops;
    int inflight;
    int64_t next_replay;
    int replay_attempt;
    int replaying; /* replay's record is in flight on bt->h */
    struct spool_rec replay_rec;
    struct curl_slist *replay_hdrs;
    struct et_dbuf replay_url;
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

static int cmp_run_slot(const void *a, const void *b)
{
    const struct run_slot *x = a, *y = b;
    if (x->run != y->run)
        return x->run < y->run ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Grows bt->last to cover run intern id sid. */
static int cover_run(struct batcher *bt, uint32_t sid)
{
    if (sid < bt->nlast)
        return ET_OK;
    size_t n = bt->nlast ? bt->nlast : 64;
    while (n <= sid)
        n *= 2;
    struct req **last = realloc(bt->last, n * sizeof *last);
    if (last == NULL)
        return ET_ENOMEM;
    memset(last + bt->nlast, 0, (n - bt->nlast) * sizeof *last);
    bt->last = last;
    bt->nlast = n;
    return ET_OK;
}

static void req_free(struct req *r)
{
    if (r == NULL)
        return;
    et__dbuf_cleanup(&r->body);
    et__dbuf_cleanup(&r->reply);
    free(r);
}

/* Queues one request of ng points of one run (bt->group) behind the run's
 * earlier ones. */
static int enqueue(struct batcher *bt, const char *run, uint32_t sid, size_t ng, uint64_t ticket)
{
    struct req *r = calloc(1, sizeof *r);
    if (r == NULL || cover_run(bt, sid) != ET_OK)
        goto fail;
    et__dbuf_init(&r->body);
    et__dbuf_init(&r->reply);
    if (et__batch_encode(&r->body, run, bt->group, ng) != ET_OK)
        goto fail;
    if (bt->nq == bt->capq) {
        size_t cap = bt->capq ? bt->capq * 2 : 256;
        struct req **q = realloc(bt->q, cap * sizeof *q);
        if (q == NULL)
            goto fail;
        bt->q = q;
        bt->capq = cap;
    }
    et__util_random_hex32(r->key);
    r->run_sid = sid;
    r->ticket = ticket;
    r->np = ng;
    r->prev_of_run = bt->last[sid];
    if (r->prev_of_run != NULL) {
        r->prev_of_run->next_of_run = r;
        r->ahead = r->prev_of_run->ahead + 1;
    }
    bt->last[sid] = r;
    bt->q[bt->nq++] = r;
    for (int i = 0; i < bt->npops; i++)
        if (bt->pops[i].ticket == ticket)
            bt->pops[i].left++;
    return ET_OK;
fail:
    req_free(r);
    return ET_ENOMEM;
}

/* Marks r handled: the run's next request may start, and a pop whose
 * requests are all handled is done. r stays queued until compact(). */
static void handled(struct batcher *bt, struct req *r)
{
    r->handled = 1;
    for (struct req *later = r->next_of_run; later != NULL; later = later->next_of_run)
        later->ahead--;
    if (r->prev_of_run != NULL)
        r->prev_of_run->next_of_run = r->next_of_run;
    if (r->next_of_run != NULL)
        r->next_of_run->prev_of_run = r->prev_of_run;
    else
        bt->last[r->run_sid] = r->prev_of_run;
    for (int i = 0; i < bt->npops; i++) {
        if (bt->pops[i].ticket == r->ticket && --bt->pops[i].left == 0) {
            et__buffer_done(bt->c->buf, r->ticket);
            bt->pops[i] = bt->pops[--bt->npops];
            break;
        }
    }
}

/* Splits popped points per run (keeping order within a run) into requests
 * of at most ET_BATCH_MAX points and queues them. Runs are interned, so
 * their pointers identify them. */
static void split(struct batcher *bt, size_t n, uint64_t ticket)
{
    size_t runs = 0;

    bt->pops[bt->npops++] = (struct pop_left){ticket, 0};
    for (size_t i = 0; i < n; i++)
        bt->slots[i] = (struct run_slot){bt->pts[i].run, i};
    qsort(bt->slots, n, sizeof *bt->slots, cmp_run_slot);
    for (size_t i = 0; i < n;) {
        const char *run = bt->slots[i].run;
        uint32_t sid = bt->pts[bt->slots[i].index].run_sid;
        size_t ng = 0;
        while (i < n && bt->slots[i].run == run && ng < ET_BATCH_MAX)
            bt->group[ng++] = bt->pts[bt->slots[i++].index];
        if (i == n || bt->slots[i].run != run)
            runs++;
        while (enqueue(bt, run, sid, ng, ticket) != ET_OK)
            et__buffer_nap(bt->c->buf, 100); /* out of memory: wait, never drop */
    }
    bt->runs_last_pop = runs;
    /* a pop with no request left (cannot happen with n > 0) is done at once */
    if (bt->pops[bt->npops - 1].left == 0) {
        et__buffer_done(bt->c->buf, ticket);
        bt->npops--;
    }
}

/* What schedule() knows about spooling while it walks the queue once. */
struct spool_view {
    int busy;     /* the spool holds something: everything goes there */
    int deadline; /* past the shutdown deadline */
    int asked;    /* a producer asked for room (ET_FULL_SPOOL); -1: not looked yet */
};

/* Moves r to the spool when it must go there now: the spool already holds
 * something, the shutdown deadline passed, r has failed for spool_after_ms,
 * or a producer waits for room under ET_FULL_SPOOL (that request is taken,
 * under the buffer's lock, only when no other reason holds). Returns 1 when
 * r was dealt with (spooled, dropped, or to be retried later). */
static int maybe_spool(struct batcher *bt, struct req *r, int64_t now, struct spool_view *v)
{
    et_client *c = bt->c;

    if (!v->busy && !v->deadline &&
        !(r->started > 0 && now - r->started >= c->opt.spool_after_ms)) {
        if (v->asked < 0)
            v->asked = et__buffer_take_spool_request(c->buf);
        if (!v->asked)
            return 0;
    }
    if (to_spool(c, r->body.data, r->body.len, r->key, r->np) == ET_OK) {
        v->busy = 1;
        handled(bt, r);
    } else if (v->deadline) {
        atomic_fetch_add(&c->st_dropped, r->np);
        handled(bt, r);
    } else {
        r->not_before = now + et__http_backoff_ms(++r->attempt);
    }
    return 1;
}

/* Starts r's transfer on the multi handle. */
static int start(struct batcher *bt, struct req *r, int64_t now)
{
    et_client *c = bt->c;
    CURL *h = bt->nidle > 0 ? bt->idle[--bt->nidle] : curl_easy_init();

    if (h == NULL)
        return ET_ENOMEM;
    if (et__http_setup(h, bt->url.data, "POST", r->body.data, r->body.len, r->key,
                       c->opt.request_timeout_ms, &r->reply, &r->hdrs) != ET_OK)
        goto fail;
    curl_easy_setopt(h, CURLOPT_PRIVATE, (void *)r);
    if (curl_multi_add_handle(bt->multi, h) != CURLM_OK) {
        curl_slist_free_all(r->hdrs);
        r->hdrs = NULL;
        goto fail;
    }
    r->h = h;
    if (r->started == 0)
        r->started = now;
    bt->inflight++;
    return ET_OK;
fail:
    bt->idle[bt->nidle++] = h;
    return ET_ENOMEM;
}

/* Starts (or spools) every queued request that may go now, oldest first:
 * not in flight, first of its run's unhandled requests (a full one: among
 * the first RUN_FULL_INFLIGHT), past its backoff, within opt.senders in
 * flight. */
static void schedule(struct batcher *bt)
{
    et_client *c = bt->c;
    int64_t now = et__util_mono_ms();
    struct spool_view v = {et__client_spool_busy(c), past_close_deadline(c), -1};

    for (size_t i = 0; i < bt->nq; i++) {
        struct req *r = bt->q[i];
        if (r->handled || r->h != NULL ||
            r->ahead >= (r->np == ET_BATCH_MAX ? RUN_FULL_INFLIGHT : 1))
            continue;
        if (maybe_spool(bt, r, now, &v))
            continue;
        if (now < r->not_before || bt->inflight >= c->opt.senders)
            continue;
        if (start(bt, r, now) != ET_OK)
            r->not_before = now + 100; /* out of memory: try again soon */
    }
}

/* Ends the replay of the oldest spooled record (bt->replay_rec), whose
 * transfer finished with cc: acknowledged in the spool when the server
 * answered for good (200, or a refusal: dropped), else retried after
 * backoff. */
static void replay_done(struct batcher *bt, CURLcode cc)
{
    et_client *c = bt->c;
    struct spool_rec *r = &bt->replay_rec;

    int rc = et__http_outcome(bt->h, cc, "POST", bt->replay_url.data, &bt->rep.status);
    if (rc == ET_OK && et__http_retryable(bt->rep.status))
        rc = ET_ESERVER;
    if (rc == ET_OK) {
        if (bt->rep.status == 200) {
            atomic_fetch_add(&c->st_replayed, r->npoints);
        } else {
            (void)et__http_error_code(&bt->rep);
            atomic_fetch_add(&c->st_dropped, r->npoints);
        }
        pthread_mutex_lock(&c->spool_mu);
        rc = et__spool_ack(c->spool);
        pthread_mutex_unlock(&c->spool_mu);
    }
    if (rc == ET_OK) {
        bt->replay_attempt = 0;
    } else {
        bt->replay_attempt++;
        bt->next_replay = et__util_mono_ms() + et__http_backoff_ms(bt->replay_attempt);
    }
    curl_slist_free_all(bt->replay_hdrs);
    bt->replay_hdrs = NULL;
    et__spool_rec_cleanup(r);
    bt->replaying = 0;
}

/* Starts replaying the oldest spooled record on the multi handle, beside
 * the new requests, when the spool holds one, its backoff is over and the
 * buffer is not filling up. One record at a time keeps the spool's order. */
static void replay_kick(struct batcher *bt)
{
    et_client *c = bt->c;

    if (bt->replaying || et__util_mono_ms() < bt->next_replay || !et__client_spool_busy(c) ||
        et__buffer_count(c->buf) >= ET_BATCH_MAX || past_close_deadline(c))
        return;
    pthread_mutex_lock(&c->spool_mu);
    int rc = et__spool_peek(c->spool, &bt->replay_rec);
    pthread_mutex_unlock(&c->spool_mu);
    if (rc <= 0) {
        /* empty after all, or unreadable now: look again after a backoff */
        bt->replay_attempt++;
        bt->next_replay = et__util_mono_ms() + et__http_backoff_ms(bt->replay_attempt);
        return;
    }
    bt->replay_url.len = 0;
    if (et__dbuf_addf(&bt->replay_url, "%s%s", c->url, bt->replay_rec.path) != ET_OK ||
        et__http_setup(bt->h, bt->replay_url.data, "POST", bt->replay_rec.body,
                       bt->replay_rec.body_len, bt->replay_rec.key, c->opt.request_timeout_ms,
                       &bt->rep.body, &bt->replay_hdrs) != ET_OK)
        goto retry;
    curl_easy_setopt(bt->h, CURLOPT_PRIVATE, NULL);
    if (curl_multi_add_handle(bt->multi, bt->h) != CURLM_OK) {
        curl_slist_free_all(bt->replay_hdrs);
        bt->replay_hdrs = NULL;
        goto retry;
    }
    bt->replaying = 1;
    return;
retry:
    et__spool_rec_cleanup(&bt->replay_rec);
    bt->next_replay = et__util_mono_ms() + 100;
}

/* Takes the answers of finished transfers: delivered, refused for good
 * (dropped, as the server will never take it), or retried after backoff. */
static void reap(struct batcher *bt)
{
    et_client *c = bt->c;
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(bt->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *h = msg->easy_handle;
        CURLcode cc = msg->data.result;
        char *priv = NULL;
        struct http_reply rep = {0};
        curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv);
        struct req *r = (struct req *)(void *)priv;
        curl_multi_remove_handle(bt->multi, h);
        if (r == NULL) {
            replay_done(bt, cc);
            continue;
        }
        int rc = et__http_outcome(h, cc, "POST", bt->url.data, &rep.status);
        curl_slist_free_all(r->hdrs);
        r->hdrs = NULL;
        r->h = NULL;
        bt->idle[bt->nidle++] = h;
        bt->inflight--;
        if (rc == ET_OK && rep.status == 200) {
            atomic_fetch_add(&c->st_delivered, r->np);
            atomic_fetch_add(&c->st_requests, 1);
            handled(bt, r);
        } else if (rc == ET_OK && !et__http_retryable(rep.status)) {
            rep.body = r->reply;
            (void)et__http_error_code(&rep);
            atomic_fetch_add(&c->st_dropped, r->np);
            handled(bt, r);
        } else {
            atomic_fetch_add(&c->st_retries, 1);
            r->not_before = et__util_mono_ms() + et__http_backoff_ms(++r->attempt);
        }
    }
}

/* Frees handled requests, keeping the order of the rest. */
static void compact(struct batcher *bt)
{
    size_t k = 0;
    for (size_t i = 0; i < bt->nq; i++) {
        if (bt->q[i]->handled)
            req_free(bt->q[i]);
        else
            bt->q[k++] = bt->q[i];
    }
    bt->nq = k;
}

/* Drives the transfers for up to POLL_MS. */
static void run_transfers(struct batcher *bt)
{
    int running;

    curl_multi_perform(bt->multi, &running);
    reap(bt);
    curl_multi_poll(bt->multi, NULL, 0, POLL_MS, NULL);
    curl_multi_perform(bt->multi, &running);
    reap(bt);
    compact(bt);
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
    et__dbuf_init(&bt->replay_url);
    bt->h = curl_easy_init();
    bt->multi = curl_multi_init();
    bt->idle = calloc((size_t)c->opt.senders, sizeof *bt->idle);
    bt->pts = malloc(ET_POP_MAX * sizeof *bt->pts);
    bt->group = malloc(ET_BATCH_MAX * sizeof *bt->group);
    bt->slots = malloc(ET_POP_MAX * sizeof *bt->slots);
    if (bt->h == NULL || bt->multi == NULL || bt->idle == NULL || bt->pts == NULL ||
        bt->group == NULL || bt->slots == NULL ||
        et__dbuf_addf(&bt->url, "%s%s", c->url, LOG_BATCH_PATH) != ET_OK)
        return ET_ENOMEM;
    return ET_OK;
}

static void batcher_cleanup(struct batcher *bt)
{
    for (size_t i = 0; i < bt->nq; i++) {
        if (bt->q[i]->h != NULL) {
            curl_multi_remove_handle(bt->multi, bt->q[i]->h);
            curl_easy_cleanup(bt->q[i]->h);
            curl_slist_free_all(bt->q[i]->hdrs);
        }
        req_free(bt->q[i]);
    }
    if (bt->replaying) {
        curl_multi_remove_handle(bt->multi, bt->h);
        curl_slist_free_all(bt->replay_hdrs);
        et__spool_rec_cleanup(&bt->replay_rec);
    }
    for (int i = 0; i < bt->nidle; i++)
        curl_easy_cleanup(bt->idle[i]);
    if (bt->multi != NULL)
        curl_multi_cleanup(bt->multi);
    curl_easy_cleanup(bt->h);
    free(bt->idle);
    free(bt->q);
    free(bt->last);
    free(bt->pts);
    free(bt->group);
    free(bt->slots);
    et__dbuf_cleanup(&bt->url);
    et__dbuf_cleanup(&bt->rep.body);
    et__dbuf_cleanup(&bt->replay_url);
}

/* Points one pop waits for: a full request per run the previous pop held. */
static size_t pop_want(const struct batcher *bt)
{
    size_t want = bt->runs_last_pop > 1 ? bt->runs_last_pop * ET_BATCH_MAX : ET_BATCH_MAX;
    return want > ET_POP_MAX ? ET_POP_MAX : want;
}

void *et__batcher_main(void *arg)
{
    struct batcher bt;
    et_client *c = arg;
    int64_t last_ship = et__util_mono_ms();
    uint64_t ticket = 0;

    while (batcher_init(&bt, c) != ET_OK) {
        batcher_cleanup(&bt);
        et__buffer_nap(c->buf, 100);
    }
    for (;;) {
        replay_kick(&bt);
        int64_t now = et__util_mono_ms();
        int64_t timeout = c->opt.flush_interval_ms - (now - last_ship);
        size_t n = 0;
        if (bt.nq == 0 && !bt.replaying) {
            /* Nothing queued: wait in the buffer for a pop's worth. */
            if (et__client_spool_busy(c) && bt.next_replay - now < timeout)
                timeout = bt.next_replay - now;
            n = et__buffer_pop(c->buf, bt.pts, ET_POP_MAX, pop_want(&bt),
                               (int)(timeout < 0 ? 0 : timeout), &ticket);
            if (n > 0 || et__util_mono_ms() - last_ship >= c->opt.flush_interval_ms)
                last_ship = et__util_mono_ms();
            if (n == 0 && atomic_load(&c->closing) && et__buffer_count(c->buf) == 0)
                break;
        } else if ((int)(bt.nq - (size_t)bt.inflight) < c->opt.senders && bt.npops < ET_MAX_POPS &&
                   (timeout <= 0 || et__buffer_ready(c->buf, pop_want(&bt)))) {
            /* Transfers in flight, room for more requests: pop without waiting. */
            n = et__buffer_pop(c->buf, bt.pts, ET_POP_MAX, 0, 0, &ticket);
            last_ship = now;
        }
        if (n > 0)
            split(&bt, n, ticket);
        schedule(&bt);
        if (bt.nq > 0 || bt.replaying)
            run_transfers(&bt);
    }
    /* Last chance to empty the spool before the deadline. */
    while (et__client_spool_busy(c) && !past_close_deadline(c)) {
        replay_some(&bt);
        if (et__client_spool_busy(c))
            pause_ms(c, 50);
    }
    batcher_cleanup(&bt);
    return NULL;
}
