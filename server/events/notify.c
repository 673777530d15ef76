/* The live-update hub: a LISTEN connection on its own thread, a registry of
 * subscribers keyed by watched run and experiment, and per-subscriber
 * coalescing queues. One mutex guards the registry and every queue; wake
 * callbacks run outside it, on a reference that keeps the subscriber alive. */
#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/worker.h"
#include "common/xalloc.h"

#define NBUCKETS 1024 /* per table; chains stay short for thousands of watches */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define STOP_WAIT_MS 2000 /* how long a stop waits for open streams to end */

const char *const notify_kind_names[NOTIFY_KINDS] = {
    "metrics", "params", "tags", "status", "created", "deleted", "restored", "traces", "models",
};

/* One watched run or experiment of one subscriber, in a hash chain. */
struct watch {
    struct watch *next, **pprev;
    struct notify_sub *sub;
    int is_run;
    int64_t experiment_id;
    char run_id[33];
};

struct notify_sub {
    atomic_int refs; /* the subscriber's own, plus one per wake call running */
    int closed, resync, ping;
    int waiting;                    /* notify_next answered NOTIFY_NONE: wake on the next item */
    int registry, registry_changed; /* wants registry changes; one is waiting */
    int traces;                     /* wants its experiments' trace events */
    int models;                     /* wants its experiments' logged-model events */
    struct notify_event *queue;
    size_t qhead, qlen, qcap; /* ring buffer */
    struct watch *watches;
    size_t nwatches;
    void (*wake)(void *arg);
    void (*release)(void *arg);
    void *arg;
    struct notify_sub *next, *prev; /* every subscriber, for broadcasts */
};

/* Subscribers to wake once the lock is dropped. */
struct wake_list {
    struct notify_sub **subs;
    size_t n, cap;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t all_gone; /* nsubs fell to 0 */
    struct watch *runs[NBUCKETS];
    struct watch *experiments[NBUCKETS];
    struct notify_sub *subs;
    size_t nsubs;
    int running; /* accepting subscribers */
    int started; /* the thread exists */
    pthread_t thread;
    int stop_pipe[2];
    char *conninfo;
    PGconn *conn; /* the hub thread's only */
    struct notify_registry_hooks reg;
} hub = {
    .lock = PTHREAD_MUTEX_INITIALIZER, .all_gone = PTHREAD_COND_INITIALIZER, .stop_pipe = {-1, -1}};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t hash_experiment(int64_t id)
{
    return (uint64_t)id * 11400714819323198485ULL >> 20;
}

/* ---- subscribers (call with the lock held unless said otherwise) ---- */

static void sub_unref(struct notify_sub *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    if (s->release != NULL)
        s->release(s->arg);
    free(s->queue);
    free(s->watches);
    free(s);
}

/* Marks s as having something; adds it to wl when its consumer waits. */
static void sub_signal(struct notify_sub *s, struct wake_list *wl)
{
    if (!s->waiting)
        return;
    s->waiting = 0;
    if (wl->n == wl->cap) {
        wl->cap = wl->cap ? wl->cap * 2 : 16;
        wl->subs = xrealloc(wl->subs, wl->cap * sizeof *wl->subs);
    }
    atomic_fetch_add(&s->refs, 1);
    wl->subs[wl->n++] = s;
}

/* Calls the wake callbacks collected under the lock; without the lock. */
static void wake_all(struct wake_list *wl)
{
    for (size_t i = 0; i < wl->n; i++) {
        struct notify_sub *s = wl->subs[i];
        s->wake(s->arg);
        sub_unref(s);
    }
    free(wl->subs);
    wl->subs = NULL;
    wl->n = wl->cap = 0;
}

/* Queues ev unless the same run (or, for trace events, experiment) and kind
 * is already waiting; a full queue turns into a resync. */
static void sub_push(struct notify_sub *s, const struct notify_event *ev, struct wake_list *wl)
{
    if (s->closed || s->resync)
        return;
    for (size_t i = 0; i < s->qlen; i++) {
        const struct notify_event *q = &s->queue[(s->qhead + i) % s->qcap];
        if (q->kind == ev->kind && strcmp(q->run_id, ev->run_id) == 0 &&
            q->experiment_id == ev->experiment_id)
            return;
    }
    if (s->qlen == NOTIFY_QUEUE_MAX) {
        s->resync = 1;
        s->qlen = 0;
        sub_signal(s, wl);
        return;
    }
    if (s->qlen == s->qcap) { /* grow, unrolling the ring */
        size_t cap = s->qcap ? s->qcap * 2 : 8;
        struct notify_event *q = xmalloc(cap * sizeof *q);
        for (size_t i = 0; i < s->qlen; i++)
            q[i] = s->queue[(s->qhead + i) % s->qcap];
        free(s->queue);
        s->queue = q;
        s->qcap = cap;
        s->qhead = 0;
    }
    s->queue[(s->qhead + s->qlen) % s->qcap] = *ev;
    s->qlen++;
    sub_signal(s, wl);
}

/* Sets a flag (resync, ping or closed) on every subscriber. */
static void broadcast(enum notify_next_result what)
{
    struct wake_list wl = {0};
    pthread_mutex_lock(&hub.lock);
    for (struct notify_sub *s = hub.subs; s != NULL; s = s->next) {
        if (what == NOTIFY_RESYNC) {
            s->resync = 1;
            s->qlen = 0;
        } else if (what == NOTIFY_PING) {
            s->ping = 1;
        } else {
            s->closed = 1;
        }
        sub_signal(s, &wl);
    }
    pthread_mutex_unlock(&hub.lock);
    wake_all(&wl);
}

/* Tells every subscriber that watches the registry about a change. */
static void dispatch_registry(void)
{
    struct wake_list wl = {0};
    pthread_mutex_lock(&hub.lock);
    for (struct notify_sub *s = hub.subs; s != NULL; s = s->next)
        if (s->registry && !s->closed) {
            s->registry_changed = 1;
            sub_signal(s, &wl);
        }
    pthread_mutex_unlock(&hub.lock);
    wake_all(&wl);
}

/* Hands ev to every subscriber watching its run or its experiment; a trace
 * (logged-model) event only to those watching its experiment that asked for
 * traces (models). */
static void dispatch(const struct notify_event *ev)
{
    struct wake_list wl = {0};
    int traces = ev->kind == NOTIFY_TRACES, models = ev->kind == NOTIFY_MODELS;
    pthread_mutex_lock(&hub.lock);
    if (!traces && !models)
        for (struct watch *w = hub.runs[hash_fnv1a_str(ev->run_id) % NBUCKETS]; w != NULL;
             w = w->next)
            if (strcmp(w->run_id, ev->run_id) == 0)
                sub_push(w->sub, ev, &wl);
    for (struct watch *w = hub.experiments[hash_experiment(ev->experiment_id) % NBUCKETS];
         w != NULL; w = w->next)
        if (w->experiment_id == ev->experiment_id && (!traces || w->sub->traces) &&
            (!models || w->sub->models))
            sub_push(w->sub, ev, &wl);
    pthread_mutex_unlock(&hub.lock);
    wake_all(&wl);
}

static void watch_link(struct watch *w, struct watch **head)
{
    w->next = *head;
    w->pprev = head;
    if (*head != NULL)
        (*head)->pprev = &w->next;
    *head = w;
}

static void watch_unlink(struct watch *w)
{
    *w->pprev = w->next;
    if (w->next != NULL)
        w->next->pprev = w->pprev;
}

struct notify_sub *notify_subscribe(const char *const *run_ids, size_t nruns,
                                    const int64_t *experiment_ids, size_t nexps,
                                    void (*wake)(void *arg), void (*release)(void *arg), void *arg)
{
    struct notify_sub *s = xcalloc(1, sizeof *s);
    atomic_init(&s->refs, 1);
    s->wake = wake;
    s->release = release;
    s->arg = arg;
    s->nwatches = nruns + nexps;
    s->watches = xcalloc(s->nwatches ? s->nwatches : 1, sizeof *s->watches);

    pthread_mutex_lock(&hub.lock);
    if (!hub.running || hub.nsubs >= NOTIFY_MAX_SUBS) {
        pthread_mutex_unlock(&hub.lock);
        s->release = NULL; /* the caller keeps arg */
        sub_unref(s);
        return NULL;
    }
    for (size_t i = 0; i < s->nwatches; i++) {
        struct watch *w = &s->watches[i];
        w->sub = s;
        if (i < nruns) {
            w->is_run = 1;
            snprintf(w->run_id, sizeof w->run_id, "%s", run_ids[i]);
            watch_link(w, &hub.runs[hash_fnv1a_str(w->run_id) % NBUCKETS]);
        } else {
            w->experiment_id = experiment_ids[i - nruns];
            watch_link(w, &hub.experiments[hash_experiment(w->experiment_id) % NBUCKETS]);
        }
    }
    s->next = hub.subs;
    if (hub.subs != NULL)
        hub.subs->prev = s;
    hub.subs = s;
    hub.nsubs++;
    pthread_mutex_unlock(&hub.lock);
    return s;
}

void notify_watch_registry(struct notify_sub *s)
{
    pthread_mutex_lock(&hub.lock);
    s->registry = 1;
    pthread_mutex_unlock(&hub.lock);
}

void notify_watch_traces(struct notify_sub *s)
{
    pthread_mutex_lock(&hub.lock);
    s->traces = 1;
    pthread_mutex_unlock(&hub.lock);
}

void notify_watch_models(struct notify_sub *s)
{
    pthread_mutex_lock(&hub.lock);
    s->models = 1;
    pthread_mutex_unlock(&hub.lock);
}

enum notify_next_result notify_next(struct notify_sub *s, struct notify_event *ev)
{
    enum notify_next_result res = NOTIFY_NONE;
    pthread_mutex_lock(&hub.lock);
    if (s->closed) {
        res = NOTIFY_CLOSED;
    } else if (s->resync) {
        s->resync = 0;
        s->qlen = 0;
        res = NOTIFY_RESYNC;
    } else if (s->qlen > 0) {
        *ev = s->queue[s->qhead];
        s->qhead = (s->qhead + 1) % s->qcap;
        s->qlen--;
        res = NOTIFY_EVENT;
    } else if (s->registry_changed) {
        s->registry_changed = 0;
        res = NOTIFY_REGISTRY;
    } else if (s->ping) {
        s->ping = 0;
        res = NOTIFY_PING;
    } else {
        s->waiting = 1;
    }
    pthread_mutex_unlock(&hub.lock);
    return res;
}

void notify_unsubscribe(struct notify_sub *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&hub.lock);
    for (size_t i = 0; i < s->nwatches; i++)
        watch_unlink(&s->watches[i]);
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        hub.subs = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    if (--hub.nsubs == 0)
        pthread_cond_broadcast(&hub.all_gone);
    s->waiting = 0; /* no new wake call */
    pthread_mutex_unlock(&hub.lock);
    sub_unref(s);
}

size_t notify_subscriber_count(void)
{
    pthread_mutex_lock(&hub.lock);
    size_t n = hub.nsubs;
    pthread_mutex_unlock(&hub.lock);
    return n;
}

/* ---- the LISTEN connection ---- */

void notify_set_registry_hooks(const struct notify_registry_hooks *hooks)
{
    hub.reg = *hooks;
}

static void registry_listening(int on)
{
    if (hub.reg.listening != NULL)
        hub.reg.listening(on);
}

/* Parses a payload of store_notify_runs(). Returns 0, or -1. */
static int parse_payload(const char *payload, struct notify_event *ev)
{
    json_t *obj = json_loads(payload, 0, NULL);
    const char *run = json_string_value(json_object_get(obj, "run_id"));
    const char *exp = json_string_value(json_object_get(obj, "experiment_id"));
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    int rc = -1;

    if (run == NULL || exp == NULL || kind == NULL || strlen(run) != 32 ||
        jx_parse_int64_text(exp, &ev->experiment_id) != 0)
        goto out;
    memcpy(ev->run_id, run, 33);
    for (int k = 0; k < NOTIFY_KINDS; k++)
        if (k != NOTIFY_TRACES && k != NOTIFY_MODELS && strcmp(kind, notify_kind_names[k]) == 0) {
            ev->kind = (enum notify_kind)k;
            rc = 0;
        }
out:
    json_decref(obj);
    return rc;
}

/* An experiment-wide notification's payload: the experiment id (trace
 * writes) or "models:" and the id (logged-model changes). */
static int parse_traces_payload(const char *payload, struct notify_event *ev)
{
    static const char models[] = "models:";
    *ev = (struct notify_event){.kind = NOTIFY_TRACES};
    if (strncmp(payload, models, sizeof models - 1) == 0) {
        ev->kind = NOTIFY_MODELS;
        payload += sizeof models - 1;
    }
    return jx_parse_int64_text(payload, &ev->experiment_id);
}

/* A new connection that LISTENs, or NULL (logged once per outage by the caller). */
static PGconn *hub_connect(char *why, size_t max)
{
    const char *keys[] = {
        "dbname",          "connect_timeout",     "application_name", "keepalives",
        "keepalives_idle", "keepalives_interval", "keepalives_count", NULL};
    const char *vals[] = {hub.conninfo, "5", "exptrackd-notify", "1", "30", "10", "3", NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    PGresult *res = NULL;

    if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
        goto fail;
    res = PQexec(conn, "LISTEN " NOTIFY_CHANNEL "; LISTEN " NOTIFY_REGISTRY_CHANNEL
                       "; LISTEN " NOTIFY_TRACES_CHANNEL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        goto fail;
    PQclear(res);
    return conn;
fail:
    snprintf(why, max, "%s", conn ? PQerrorMessage(conn) : "out of memory");
    why[strcspn(why, "\n")] = '\0';
    PQclear(res);
    PQfinish(conn);
    return NULL;
}

/* Reads what arrived and dispatches every notification. Returns 0, or -1
 * when the connection broke. */
static int hub_read(void)
{
    int ok = PQconsumeInput(hub.conn);
    PGnotify *n;
    while ((n = PQnotifies(hub.conn)) != NULL) {
        struct notify_event ev;
        if (strcmp(n->relname, NOTIFY_REGISTRY_CHANNEL) == 0) {
            if (hub.reg.changed != NULL)
                hub.reg.changed();
            dispatch_registry();
        } else if (strcmp(n->relname, NOTIFY_TRACES_CHANNEL) == 0) {
            if (parse_traces_payload(n->extra, &ev) == 0)
                dispatch(&ev);
        } else if (parse_payload(n->extra, &ev) == 0)
            dispatch(&ev);
        PQfreemem(n);
    }
    return ok && PQstatus(hub.conn) == CONNECTION_OK ? 0 : -1;
}

static void *hub_main(void *unused)
{
    (void)unused;
    long long next_ping = now_ms() + NOTIFY_PING_SECONDS * 1000LL, retry_at = 0;
    int backoff = 0, warned = 0;
    char why[256];

    for (;;) {
        long long now = now_ms();
        if (hub.conn == NULL && now >= retry_at) {
            hub.conn = hub_connect(why, sizeof why);
            if (hub.conn != NULL) {
                log_info("notify: listening again on %s", NOTIFY_CHANNEL);
                backoff = warned = 0;
                registry_listening(1);
                broadcast(NOTIFY_RESYNC); /* whatever came meanwhile was missed */
            } else {
                if (!warned++)
                    log_warn("notify: cannot listen (%s); retrying", why);
                backoff = backoff ? backoff * 2 : BACKOFF_MIN_MS;
                if (backoff > BACKOFF_MAX_MS)
                    backoff = BACKOFF_MAX_MS;
                retry_at = now + backoff;
            }
        }
        long long until = hub.conn ? next_ping : (retry_at < next_ping ? retry_at : next_ping);
        struct pollfd fds[2] = {{hub.stop_pipe[0], POLLIN, 0},
                                {hub.conn ? PQsocket(hub.conn) : -1, POLLIN, 0}};
        int timeout = until > now ? (int)(until - now) : 0;
        if (poll(fds, hub.conn ? 2 : 1, timeout) < 0 && errno != EINTR)
            log_warn("notify: poll: %s", strerror(errno));
        if (fds[0].revents != 0)
            break;
        if (hub.conn != NULL && fds[1].revents != 0 && hub_read() < 0) {
            log_warn("notify: lost the LISTEN connection: %s", PQerrorMessage(hub.conn));
            registry_listening(0);
            PQfinish(hub.conn);
            hub.conn = NULL;
            retry_at = 0;
        }
        if (now_ms() >= next_ping) {
            broadcast(NOTIFY_PING);
            next_ping = now_ms() + NOTIFY_PING_SECONDS * 1000LL;
        }
    }
    return NULL;
}

int notify_start(const char *conninfo)
{
    char why[256];

    if (pipe(hub.stop_pipe) < 0) {
        log_error("notify: pipe: %s", strerror(errno));
        return -1;
    }
    fcntl(hub.stop_pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(hub.stop_pipe[1], F_SETFD, FD_CLOEXEC);
    hub.conninfo = xstrdup(conninfo);
    hub.conn = hub_connect(why, sizeof why);
    if (hub.conn == NULL)
        log_warn("notify: cannot listen yet (%s); retrying", why);
    else
        registry_listening(1);
    hub.running = 1;
    if (pthread_create(&hub.thread, NULL, hub_main, NULL) != 0) {
        log_error("notify: cannot start the hub thread");
        hub.running = 0;
        return -1;
    }
    hub.started = 1;
    return 0;
}

/* Waits, at most ms, until every subscriber is gone: each stream, woken
 * with NOTIFY_CLOSED, has sent its end and been freed by the HTTP server.
 * Stopping the HTTP server before that cuts a stream short of its last
 * chunk, which a client reads as an error, not an end. A stream whose
 * client does not read holds the stop no longer than ms. */
static void wait_subscribers_gone(long ms)
{
    struct timespec deadline;
    worker_deadline(&deadline, ms);
    pthread_mutex_lock(&hub.lock);
    while (hub.nsubs > 0)
        if (pthread_cond_timedwait(&hub.all_gone, &hub.lock, &deadline) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&hub.lock);
}

void notify_stop(void)
{
    pthread_mutex_lock(&hub.lock);
    hub.running = 0;
    pthread_mutex_unlock(&hub.lock);
    broadcast(NOTIFY_CLOSED);
    registry_listening(0);
    if (hub.started) {
        ssize_t w = write(hub.stop_pipe[1], "x", 1);
        (void)w;
        pthread_join(hub.thread, NULL);
        hub.started = 0;
    }
    PQfinish(hub.conn);
    hub.conn = NULL;
    for (int i = 0; i < 2; i++)
        if (hub.stop_pipe[i] >= 0) {
            close(hub.stop_pipe[i]);
            hub.stop_pipe[i] = -1;
        }
    free(hub.conninfo);
    hub.conninfo = NULL;
    wait_subscribers_gone(STOP_WAIT_MS);
}
