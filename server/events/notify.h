/* The live-update hub: one thread with its own PostgreSQL connection that
 * LISTENs on NOTIFY_CHANNEL (fed by every exptrackd's change feed,
 * change_feed.h, so writes through any of them arrive) and hands each
 * notification to the subscribers watching its run or experiment. Each
 * subscriber has a small queue that coalesces repeats of one run and kind,
 * so a fast writer cannot grow it without bound; when it overflows, or the
 * hub had to reconnect (notifications may have been missed), the subscriber
 * gets a resync instead. It also LISTENs on NOTIFY_REGISTRY_CHANNEL and
 * tells registered hooks (notify_set_registry_hooks) about registry
 * changes and about whether it is listening, and on NOTIFY_TRACES_CHANNEL,
 * whose experiment-wide trace events go to the subscribers that asked for
 * them (notify_watch_traces). Knows nothing of HTTP. */
#ifndef ET_SERVER_NOTIFY_H
#define ET_SERVER_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "store_notify.h"

#define NOTIFY_CHANNEL STORE_NOTIFY_CHANNEL
#define NOTIFY_REGISTRY_CHANNEL STORE_REGISTRY_CHANNEL
#define NOTIFY_TRACES_CHANNEL STORE_TRACES_CHANNEL
#define NOTIFY_QUEUE_MAX 256   /* distinct (run, kind) events a subscriber may have waiting */
#define NOTIFY_PING_SECONDS 15 /* every subscriber gets a ping this often */
#define NOTIFY_MAX_SUBS 10000  /* open subscriptions per process */

enum notify_kind {
    NOTIFY_METRICS,
    NOTIFY_PARAMS,
    NOTIFY_TAGS,
    NOTIFY_STATUS,
    NOTIFY_CREATED,
    NOTIFY_DELETED,
    NOTIFY_RESTORED,
    NOTIFY_TRACES, /* traces of the experiment changed: no run */
    NOTIFY_MODELS, /* logged models of the experiment changed: no run */
    NOTIFY_KINDS
};

/* The kinds' names as in the payloads and on the wire ("metrics", ...). */
extern const char *const notify_kind_names[NOTIFY_KINDS];

struct notify_event {
    char run_id[33]; /* 32 lowercase hex digits; "" for NOTIFY_TRACES and NOTIFY_MODELS */
    int64_t experiment_id;
    enum notify_kind kind;
};

/* What notify_next found for a subscriber. */
enum notify_next_result {
    NOTIFY_NONE,     /* nothing now: the wake callback runs when something comes */
    NOTIFY_EVENT,    /* *ev is filled */
    NOTIFY_RESYNC,   /* events may have been lost: the client should reload */
    NOTIFY_PING,     /* keep-alive time */
    NOTIFY_REGISTRY, /* a registry change was committed (subscribers of notify_watch_registry) */
    NOTIFY_CLOSED,   /* the hub is stopping: end the stream */
};

struct notify_sub;

/* What the hub tells the registry's read cache; both called on the hub's
 * thread (listening also on the caller's of notify_start and notify_stop). */
struct notify_registry_hooks {
    void (*listening)(int on); /* 1: LISTEN just succeeded; 0: the connection is gone */
    void (*changed)(void);     /* a registry change was committed (any process) */
};

/* Sets the hooks (copied). Call once before notify_start. */
void notify_set_registry_hooks(const struct notify_registry_hooks *hooks);

/* Starts the hub on conninfo (the database exptrackd uses): connects and
 * LISTENs once before returning (so a stream opened as soon as the server
 * answers sees every later write), then keeps the connection on a thread,
 * reconnecting with backoff. Returns 0, or -1 (logged) when the thread
 * cannot start; a database that does not answer yet is not an error. */
int notify_start(const char *conninfo) __attribute__((warn_unused_result));

/* Ends every subscription (each gets NOTIFY_CLOSED and is woken), refuses
 * new ones, stops the thread and waits (2 s at most) for the subscribers
 * to be released, i.e. for open streams to have sent their end. Call
 * before stopping the HTTP server, so open streams end cleanly instead of
 * holding it up or being cut. Safe when never started. */
void notify_stop(void);

/* Subscribes to the events of nruns runs (32 lowercase hex) and of every
 * run of nexps experiments. wake(arg) is called (from the hub thread, no
 * lock held) when the subscriber has something after notify_next last
 * answered NOTIFY_NONE; release(arg) once the subscriber is freed (may be
 * NULL). Returns NULL when the hub is not running or is full. */
struct notify_sub *notify_subscribe(const char *const *run_ids, size_t nruns,
                                    const int64_t *experiment_ids, size_t nexps,
                                    void (*wake)(void *arg), void (*release)(void *arg), void *arg);

/* Also tells s about registry changes (NOTIFY_REGISTRY from notify_next;
 * repeats coalesce into one while it is not read). Call right after
 * notify_subscribe. */
void notify_watch_registry(struct notify_sub *s);

/* Also tells s about trace changes in the experiments it watches
 * (NOTIFY_EVENT with kind NOTIFY_TRACES, one per experiment while unread).
 * Call right after notify_subscribe. */
void notify_watch_traces(struct notify_sub *s);

/* Also tells s about logged-model changes in the experiments it watches
 * (NOTIFY_EVENT with kind NOTIFY_MODELS, one per experiment while unread).
 * Call right after notify_subscribe. */
void notify_watch_models(struct notify_sub *s);

/* Takes the subscriber's next item: closed first, then a resync (which
 * replaces every event queued before it), queued events in arrival order,
 * a registry change, then a ping. Any thread; never blocks for long. */
enum notify_next_result notify_next(struct notify_sub *s, struct notify_event *ev);

/* Ends a subscription: no more wake calls start after it returns, and the
 * subscriber is freed (release called) once none is running. NULL is a no-op. */
void notify_unsubscribe(struct notify_sub *s);

/* Open subscriptions now (for /metrics). */
size_t notify_subscriber_count(void);

#endif
