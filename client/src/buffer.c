/* The bounded in-memory metric buffer between et_log_metric() (many
 * producers) and the batcher (one consumer): a ring of fixed-size points
 * under one mutex, plus the interned strings (run ids, keys) points refer
 * to. It does no I/O; delivery is batcher.c's job. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

struct point {
    uint32_t run, key;
    int64_t step, ts;
    double value;
};

struct et_buffer {
    pthread_mutex_t mu;
    pthread_cond_t wake_consumer; /* points, kick, close, spool request */
    pthread_cond_t not_full;
    pthread_cond_t done_cv;
    struct point *ring;
    size_t cap, head, count;
    uint64_t pushed, popped;
    uint64_t inflight[ET_MAX_POPS]; /* first sequence number of each popped, unhandled batch */
    int ninflight;
    int kicked, closed, spool_req;
    /* interned strings: names[id]; open-addressing table of ids (id + 1, 0 = empty) */
    char **names;
    size_t nnames, names_cap;
    uint32_t *slots;
    size_t nslots;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static int cond_init_mono(pthread_cond_t *cv)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return ET_ENOMEM;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
    return rc == 0 ? ET_OK : ET_ENOMEM;
}

int et__buffer_new(size_t capacity, struct et_buffer **out)
{
    struct et_buffer *b = calloc(1, sizeof *b);
    if (b == NULL)
        return ET_ENOMEM;
    b->cap = capacity < 16 ? 16 : capacity;
    b->ring = malloc(b->cap * sizeof *b->ring);
    b->nslots = 1024;
    b->slots = calloc(b->nslots, sizeof *b->slots);
    if (b->ring == NULL || b->slots == NULL || pthread_mutex_init(&b->mu, NULL) != 0)
        goto fail;
    if (cond_init_mono(&b->wake_consumer) || cond_init_mono(&b->not_full) ||
        cond_init_mono(&b->done_cv))
        goto fail;
    *out = b;
    return ET_OK;
fail:
    free(b->ring);
    free(b->slots);
    free(b);
    return ET_ENOMEM;
}

void et__buffer_free(struct et_buffer *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->nnames; i++)
        free(b->names[i]);
    free(b->names);
    free(b->slots);
    free(b->ring);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->wake_consumer);
    pthread_cond_destroy(&b->not_full);
    pthread_cond_destroy(&b->done_cv);
    free(b);
}

static int rehash(struct et_buffer *b)
{
    size_t n = b->nslots * 2;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (slots == NULL)
        return ET_ENOMEM;
    for (size_t id = 0; id < b->nnames; id++) {
        size_t i = hash_str(b->names[id]) & (n - 1);
        while (slots[i] != 0)
            i = (i + 1) & (n - 1);
        slots[i] = (uint32_t)id + 1;
    }
    free(b->slots);
    b->slots = slots;
    b->nslots = n;
    return ET_OK;
}

/* Interns s with b->mu held; a new metric key (is_key) must pass MLflow's
 * key rules first (ET_EINVAL), so each key is checked once per client. */
static int intern_locked(struct et_buffer *b, const char *s, uint32_t *id, int is_key)
{
    size_t i = hash_str(s) & (b->nslots - 1);
    for (; b->slots[i] != 0; i = (i + 1) & (b->nslots - 1)) {
        if (strcmp(b->names[b->slots[i] - 1], s) == 0) {
            *id = b->slots[i] - 1;
            return ET_OK;
        }
    }
    if (is_key && et__util_check_key(s) != ET_OK)
        return ET_EINVAL;
    if (b->nnames == b->names_cap) {
        size_t cap = b->names_cap ? b->names_cap * 2 : 64;
        char **names = realloc(b->names, cap * sizeof *names);
        if (names == NULL)
            return ET_ENOMEM;
        b->names = names;
        b->names_cap = cap;
    }
    char *copy = et__util_strdup(s);
    if (copy == NULL)
        return ET_ENOMEM;
    b->names[b->nnames] = copy;
    b->slots[i] = (uint32_t)b->nnames + 1;
    *id = (uint32_t)b->nnames++;
    if (b->nnames * 2 > b->nslots && rehash(b) != ET_OK)
        return ET_OK; /* still interned; the table is just fuller */
    return ET_OK;
}

int et__buffer_intern(struct et_buffer *b, const char *s, uint32_t *id)
{
    pthread_mutex_lock(&b->mu);
    int rc = intern_locked(b, s, id, 0);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

int et__buffer_push(struct et_buffer *b, uint32_t run, const char *key, double value, int64_t step,
                    int64_t ts, et_full_policy policy)
{
    uint32_t kid;
    int rc;

    pthread_mutex_lock(&b->mu);
    while (b->count == b->cap && !b->closed) {
        if (policy == ET_FULL_SPOOL)
            b->spool_req = 1;
        pthread_cond_signal(&b->wake_consumer);
        pthread_cond_wait(&b->not_full, &b->mu);
    }
    if (b->closed) {
        rc = ET_ECLOSED;
        goto out;
    }
    if ((rc = intern_locked(b, key, &kid, 1)) != ET_OK)
        goto out;
    size_t tail = b->head + b->count;
    if (tail >= b->cap)
        tail -= b->cap;
    b->ring[tail] = (struct point){run, kid, step, ts, value};
    b->count++;
    b->pushed++;
    if (b->count == ET_BATCH_MAX || b->count == b->cap)
        pthread_cond_signal(&b->wake_consumer);
out:
    pthread_mutex_unlock(&b->mu);
    return rc;
}

size_t et__buffer_pop(struct et_buffer *b, struct et_point_out *out, size_t max, size_t want,
                      int timeout_ms, uint64_t *ticket)
{
    struct timespec until;
    size_t n = 0;

    et__util_deadline(&until, timeout_ms);
    pthread_mutex_lock(&b->mu);
    while (b->count < want && !b->kicked && !b->closed && !b->spool_req) {
        if (pthread_cond_timedwait(&b->wake_consumer, &b->mu, &until) != 0)
            break;
    }
    b->kicked = 0;
    while (n < max && b->count > 0 && b->ninflight < ET_MAX_POPS) {
        const struct point *p = &b->ring[b->head];
        out[n++] = (struct et_point_out){
            b->names[p->run], b->names[p->key], p->value, p->step, p->ts, p->run};
        b->head = b->head + 1 == b->cap ? 0 : b->head + 1;
        b->count--;
    }
    if (n > 0) {
        *ticket = b->popped;
        b->inflight[b->ninflight++] = b->popped;
        b->popped += n;
        pthread_cond_broadcast(&b->not_full);
    }
    pthread_mutex_unlock(&b->mu);
    return n;
}

int et__buffer_ready(struct et_buffer *b, size_t want)
{
    pthread_mutex_lock(&b->mu);
    int ready = b->count >= want || b->kicked || b->closed || b->spool_req;
    pthread_mutex_unlock(&b->mu);
    return ready;
}

int et__buffer_pops_out(struct et_buffer *b)
{
    pthread_mutex_lock(&b->mu);
    int n = b->ninflight;
    pthread_mutex_unlock(&b->mu);
    return n;
}

void et__buffer_done(struct et_buffer *b, uint64_t ticket)
{
    pthread_mutex_lock(&b->mu);
    for (int i = 0; i < b->ninflight; i++) {
        if (b->inflight[i] == ticket) {
            b->inflight[i] = b->inflight[--b->ninflight];
            break;
        }
    }
    pthread_cond_broadcast(&b->done_cv);
    pthread_mutex_unlock(&b->mu);
}

/* Every point below this sequence number is handled (with b->mu held):
 * batches finish out of order when requests of several run in parallel. */
static uint64_t handled_locked(const struct et_buffer *b)
{
    uint64_t low = b->popped;
    for (int i = 0; i < b->ninflight; i++)
        if (b->inflight[i] < low)
            low = b->inflight[i];
    return low;
}

uint64_t et__buffer_pushed(struct et_buffer *b)
{
    pthread_mutex_lock(&b->mu);
    uint64_t n = b->pushed;
    pthread_mutex_unlock(&b->mu);
    return n;
}

int et__buffer_wait_done(struct et_buffer *b, uint64_t target, int timeout_ms)
{
    struct timespec until;
    int rc = ET_OK;

    et__util_deadline(&until, timeout_ms);
    pthread_mutex_lock(&b->mu);
    b->kicked = 1;
    pthread_cond_signal(&b->wake_consumer);
    while (handled_locked(b) < target) {
        if (pthread_cond_timedwait(&b->done_cv, &b->mu, &until) != 0) {
            rc = handled_locked(b) < target ? ET_ETIMEDOUT : ET_OK;
            break;
        }
    }
    pthread_mutex_unlock(&b->mu);
    return rc;
}

void et__buffer_close(struct et_buffer *b)
{
    pthread_mutex_lock(&b->mu);
    b->closed = 1;
    pthread_cond_broadcast(&b->wake_consumer);
    pthread_cond_broadcast(&b->not_full);
    pthread_mutex_unlock(&b->mu);
}

int et__buffer_take_spool_request(struct et_buffer *b)
{
    pthread_mutex_lock(&b->mu);
    int r = b->spool_req;
    b->spool_req = 0;
    pthread_mutex_unlock(&b->mu);
    return r;
}

size_t et__buffer_count(struct et_buffer *b)
{
    pthread_mutex_lock(&b->mu);
    size_t n = b->count;
    pthread_mutex_unlock(&b->mu);
    return n;
}

void et__buffer_nap(struct et_buffer *b, int ms)
{
    struct timespec until;

    et__util_deadline(&until, ms);
    pthread_mutex_lock(&b->mu);
    /* Flush kicks do not cut a retry backoff short; closing and spooling do. */
    while (!b->closed && !b->spool_req) {
        if (pthread_cond_timedwait(&b->wake_consumer, &b->mu, &until) != 0)
            break;
    }
    pthread_mutex_unlock(&b->mu);
}
