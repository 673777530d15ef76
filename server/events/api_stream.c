/* The live-update stream: validation, the read check per experiment, and
 * the server-sent-events framing of what the hub queues for a subscriber.
 * No SQL here (the checks go through the store and auth). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "tracking/api_common.h"
#include "core/arena.h"
#include "auth/auth.h"
#include "notify.h"
#include "auth/store_auth.h"
#include "tracking/store_experiments.h"
#include "core/validate.h"
#include "core/wake.h"
#include "common/xalloc.h"

#define STREAM_MAX_IDS 100 /* run_id and experiment_id values each */

#define STREAM_RETRY_MS 2000
#define EVENT_MAX 256 /* one framed event; payloads are short and fixed in shape */

/* One open stream: the subscription and the framed text not yet sent. */
struct stream {
    struct notify_sub *sub;
    char out[EVENT_MAX];
    size_t out_len, out_off;
    int ended;
};

/* The ids of the request. */
struct watch_set {
    const char **runs;
    size_t nruns;
    int64_t *experiments; /* the requested ones, then the runs' own */
    size_t nexps, nrun_exps;
    int registry; /* registry=true: registry changes too */
    int traces;   /* traces=true: trace changes in the watched experiments too */
    int models;   /* models=true: logged-model changes in the watched experiments too */
};

static void wake_cb(void *arg)
{
    wake_up(arg);
}

static void release_cb(void *arg)
{
    wake_unref(arg);
}

/* Frames the hub's next item into s->out; returns 0 when there is none now. */
static int next_frame(struct stream *s)
{
    struct notify_event ev;
    int n = 0;

    switch (notify_next(s->sub, &ev)) {
    case NOTIFY_EVENT:
        if (ev.kind == NOTIFY_TRACES || ev.kind == NOTIFY_MODELS) {
            const char *k = notify_kind_names[ev.kind];
            n = snprintf(s->out, sizeof s->out,
                         "event: %s\ndata: {\"experiment_id\": \"%lld\", \"kind\": "
                         "\"%s\"}\n\n",
                         k, (long long)ev.experiment_id, k);
            break;
        }
        n = snprintf(s->out, sizeof s->out,
                     "event: run\ndata: {\"run_id\": \"%s\", \"experiment_id\": \"%lld\", "
                     "\"kind\": \"%s\"}\n\n",
                     ev.run_id, (long long)ev.experiment_id, notify_kind_names[ev.kind]);
        break;
    case NOTIFY_RESYNC:
        n = snprintf(s->out, sizeof s->out, "event: resync\ndata: {\"kind\": \"resync\"}\n\n");
        break;
    case NOTIFY_REGISTRY:
        n = snprintf(s->out, sizeof s->out, "event: registry\ndata: {\"kind\": \"registry\"}\n\n");
        break;
    case NOTIFY_PING:
        n = snprintf(s->out, sizeof s->out, ": ping\n\n");
        break;
    case NOTIFY_CLOSED:
        s->ended = 1;
        return 0;
    case NOTIFY_NONE:
        return 0;
    }
    s->out_len = n > 0 && (size_t)n < sizeof s->out ? (size_t)n : 0;
    s->out_off = 0;
    return s->out_len > 0;
}

/* reply_stream_fn: as many framed items as fit, or a pause when none waits. */
static ssize_t stream_read(void *state, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = state;
    size_t done = 0;

    (void)pos;
    while (done < max && !s->ended) {
        if (s->out_off == s->out_len && !next_frame(s))
            break;
        size_t n = s->out_len - s->out_off;
        if (n > max - done)
            n = max - done;
        memcpy(buf + done, s->out + s->out_off, n);
        s->out_off += n;
        done += n;
    }
    if (done > 0)
        return (ssize_t)done;
    return s->ended ? 0 : REPLY_STREAM_PAUSE;
}

static void stream_free(void *state)
{
    struct stream *s = state;
    notify_unsubscribe(s->sub);
    free(s);
}

/* Reads a repeated id field into arena storage. */
static int read_ids(const struct input *in, const char *field, struct arena *arena,
                    const char ***out, size_t *n, struct reply *r)
{
    const json_t *arr;
    int rc = jx_array(in, field, &arr, r);
    if (rc == JX_BAD)
        return JX_BAD;
    *n = rc == JX_OK ? json_array_size(arr) : 0;
    if (*n > STREAM_MAX_IDS) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter '%s': give at most %d values", field,
                    STREAM_MAX_IDS);
        return JX_BAD;
    }
    *out = arena_alloc(arena, (*n + 1) * sizeof **out);
    for (size_t i = 0; i < *n; i++) {
        char buf[32];
        const char *s;
        if (jx_array_id(arr, i, field, buf, &s, r) != JX_OK)
            return JX_BAD;
        (*out)[i] = arena_strdup(arena, s);
    }
    return JX_OK;
}

/* Validates the ids and resolves every run's experiment. */
static int read_watch_set(const struct request *req, struct arena *arena, struct watch_set *ws,
                          struct reply *r)
{
    struct input in = input_from(req);
    const char **exps;

    if (read_ids(&in, "run_id", arena, &ws->runs, &ws->nruns, r) != JX_OK ||
        read_ids(&in, "experiment_id", arena, &exps, &ws->nexps, r) != JX_OK ||
        jx_bool(&in, "registry", &ws->registry, r) == JX_BAD ||
        jx_bool(&in, "traces", &ws->traces, r) == JX_BAD ||
        jx_bool(&in, "models", &ws->models, r) == JX_BAD)
        return -1;
    if (ws->models && ws->nexps == 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'models': logged-model events are per "
                    "experiment; give the experiment_id to watch");
        return -1;
    }
    if (ws->traces && ws->nexps == 0) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Invalid value for parameter 'traces': trace events are per experiment; "
                    "give the experiment_id to watch");
        return -1;
    }
    if (ws->nruns + ws->nexps == 0 && !ws->registry) {
        reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                    "Missing value for required parameter 'run_id' or 'experiment_id': give "
                    "the runs or experiments to watch, or registry=true");
        return -1;
    }
    ws->experiments = arena_alloc(arena, (ws->nexps + ws->nruns + 1) * sizeof *ws->experiments);
    for (size_t i = 0; i < ws->nexps; i++)
        if (!(exps[i][0] >= '0' && exps[i][0] <= '9') ||
            jx_parse_int64_text(exps[i], &ws->experiments[i]) != 0) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "Invalid value for parameter 'experiment_id': '%.64s' is not an "
                        "experiment id (a non-negative integer)",
                        exps[i]);
            return -1;
        }
    for (size_t i = 0; i < ws->nruns; i++)
        if (!validate_is_run_id(ws->runs[i])) {
            reply_error(r, ERR_INVALID_PARAMETER_VALUE,
                        "Invalid value for parameter 'run_id': '%.64s' is not a run id (32 "
                        "lowercase hex digits)",
                        ws->runs[i]);
            return -1;
        }
    return 0;
}

/* Every run and experiment exists, and the caller may read each. */
static int check_watch_set(const struct request *req, struct arena *arena, struct watch_set *ws,
                           struct reply *r)
{
    for (size_t i = 0; i < ws->nexps; i++) {
        struct experiment e;
        int rc = store_experiment_get(ws->experiments[i], arena, &e);
        if (rc != DB_OK) {
            reply_store_experiment_not_found(r, rc, ws->experiments[i]);
            return -1;
        }
    }
    for (size_t i = 0; i < ws->nruns; i++) {
        int64_t *id = &ws->experiments[ws->nexps + ws->nrun_exps];
        int rc = store_auth_run_experiment(ws->runs[i], id);
        if (rc != DB_OK) {
            api_run_not_found(r, rc, ws->runs[i]);
            return -1;
        }
        ws->nrun_exps++;
    }
    size_t n = ws->nexps + ws->nrun_exps;
    unsigned char *readable = arena_alloc(arena, n + 1);
    auth_can_read_many(req, ws->experiments, n, readable);
    for (size_t i = 0; i < n; i++)
        if (!readable[i]) {
            reply_error(r, ERR_PERMISSION_DENIED,
                        "permission denied: the stream needs READ on experiment %lld",
                        (long long)ws->experiments[i]);
            return -1;
        }
    return 0;
}

void api_stream(const struct request *req, struct reply *r)
{
    struct arena arena;
    struct watch_set ws = {0};

    arena_init(&arena);
    if (read_watch_set(req, &arena, &ws, r) < 0 || check_watch_set(req, &arena, &ws, r) < 0)
        goto out;
    struct wake *w = request_wake(req);
    struct stream *s = xcalloc(1, sizeof *s);
    s->sub = notify_subscribe(ws.runs, ws.nruns, ws.experiments, ws.nexps, wake_cb, release_cb, w);
    if (s->sub == NULL) {
        wake_unref(w);
        free(s);
        reply_error(r, ERR_TEMPORARILY_UNAVAILABLE,
                    "live updates are not available now (shutting down, or too many streams)");
        r->retry_after = 5;
        goto out;
    }
    if (ws.registry)
        notify_watch_registry(s->sub);
    if (ws.traces)
        notify_watch_traces(s->sub);
    if (ws.models)
        notify_watch_models(s->sub);
    s->out_len = (size_t)snprintf(s->out, sizeof s->out, "retry: %d\n\n", STREAM_RETRY_MS);
    reply_stream(r, "text/event-stream", -1, stream_read, stream_free, s);
    reply_header(r, "Cache-Control", "no-store");
    reply_header(r, "X-Accel-Buffering", "no");
out:
    arena_cleanup(&arena);
}
