/* get-history-bulk-interval by walking the series (store_bulk_walk.h).
 *
 * Why not the sampling statement: it reads a packed series, and every
 * series of a several-run read, through metric_points(), which is not
 * inlined there (1 us a point), hashes every point for the step count, and
 * calls metric_points() again for each sampled step of each run. 100,000
 * packed points at 1,000 steps took 0.27-0.31 s that way; the history
 * reader, which unpacks chunks in C, reads them in about 0.02 s a walk
 * (docs/benchmarks.md, "Compaction passes and walked bulk intervals"). */
#include "store_bulk_walk.h"

#include <math.h>
#include <stdlib.h>

#include "common/xalloc.h"
#include "core/clock.h"
#include "db/db.h"
#include "store_history.h"

/* The most distinct steps held for a request (32 MiB); past it the
 * statement, which keeps them in PostgreSQL's memory, serves the request. */
#define UNION_MAX_STEPS ((size_t)4 << 20)

/* Whether the series (run_id, key) has packed chunks. */
static const char packed_sql[] =
    "SELECT EXISTS (SELECT 1 FROM metric_chunks c"
    "  WHERE c.run_id = (SELECT id FROM runs WHERE run_uuid = $1::uuid)"
    "    AND c.key_id = (SELECT id FROM metric_keys WHERE name = $2))";

/* Steps in ascending order, without repeats. */
struct steps {
    int64_t *v;
    size_t n, cap;
};

static void steps_push(struct steps *s, int64_t step)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = step;
}

static int cmp_step(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* One walk of one run's series, in (step, timestamp, value) order up to
 * step hi: counting merges its distinct steps into the steps of the runs
 * walked before (seen + this run = merged); picking keeps its points at the
 * sampled steps. */
struct walk {
    int64_t hi;
    int pick;
    /* counting */
    int64_t steps, first, last; /* this run's distinct steps: how many, the ends */
    const struct steps *seen;
    size_t seen_at;
    struct steps *merged;
    int too_many; /* merged grew past UNION_MAX_STEPS */
    /* picking */
    const struct steps *sampled;
    size_t at;
    int64_t per_run;
    struct metric *points;
    size_t n, cap;
};

/* Takes one point; 0 while the walk goes on, 1 at its end. */
static int visit(struct walk *w, const struct metric *p)
{
    if (p->step > w->hi)
        return 1;
    if (!w->pick) {
        if (w->steps > 0 && p->step == w->last)
            return 0;
        if (w->steps++ == 0)
            w->first = p->step;
        w->last = p->step;
        while (w->seen_at < w->seen->n && w->seen->v[w->seen_at] < p->step)
            steps_push(w->merged, w->seen->v[w->seen_at++]);
        if (w->seen_at < w->seen->n && w->seen->v[w->seen_at] == p->step)
            w->seen_at++;
        steps_push(w->merged, p->step);
        w->too_many = w->merged->n > UNION_MAX_STEPS;
        return w->too_many;
    }
    while (w->at < w->sampled->n && w->sampled->v[w->at] < p->step)
        w->at++;
    if (w->at == w->sampled->n)
        return 1; /* past the last sampled step */
    if (w->sampled->v[w->at] != p->step)
        return 0;
    if ((int64_t)w->n >= w->per_run)
        return 1;
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 1024;
        w->points = xrealloc(w->points, w->cap * sizeof *w->points);
    }
    w->points[w->n++] = *p;
    return 0;
}

/* Walks run_id's series of key from `from` until visit ends it or the
 * series does. A run, key or series that does not exist walks nothing.
 * DB_TIMEOUT once the clock passes deadline_ms (0: none): the request's
 * walks together get the time one statement would. */
static int walk_series(const char *run_id, const char *key, const struct history_start *from,
                       double deadline_ms, struct walk *w)
{
    struct history_cursor *c = NULL;
    int rc = store_history_open(run_id, key, from, 0, &c);
    if (rc == DB_NOT_FOUND)
        return DB_OK;
    if (rc != DB_OK)
        return rc;
    for (;;) {
        const struct metric *pts;
        size_t n;
        int done = 0;
        store_history_next(c, &pts, &n);
        for (size_t i = 0; i < n && !done; i++)
            done = visit(w, &pts[i]);
        rc = store_history_settle(c);
        if (rc != DB_OK || n == 0 || done)
            break;
        if (deadline_ms > 0 && clock_ms() > deadline_ms) {
            rc = DB_TIMEOUT;
            break;
        }
    }
    store_history_close(c);
    return rc;
}

/* Whether one run's request is this file's: its series has chunks. */
static int one_run_is_packed(const char *run_id, const char *key, int *packed)
{
    const char *params[] = {run_id, key};
    PGresult *res = NULL;
    int rc = db_exec_prepared("history_bulk_packed", packed_sql, 2, params, &res);
    if (rc != DB_OK)
        return rc;
    *packed = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return DB_OK;
}

/* Copies a walk's points into the arena as series r. */
static void take_series(struct series *s, size_t r, const char *key, const struct walk *w,
                        struct arena *arena)
{
    const char *k = arena_strdup(arena, key);
    s->run_index = r;
    s->key_index = 0;
    s->n = w->n;
    s->points = arena_alloc(arena, w->n * sizeof *s->points);
    for (size_t i = 0; i < w->n; i++) {
        s->points[i] = w->points[i];
        s->points[i].key = k;
        s->points[i].link = NULL;
    }
}

int store_bulk_walk(const char *const *run_ids, size_t nruns, const char *key, int has_range,
                    int64_t start_step, int64_t end_step, int64_t max_steps, int64_t per_run,
                    struct arena *arena, struct series **out, size_t *n, int *answered)
{
    struct history_start from = {0};
    struct steps all = {0}, next = {0}, sampled = {0};
    struct walk *runs = NULL;
    int rc = DB_OK;

    *answered = 0;
    *out = NULL;
    *n = 0;
    if (nruns == 0)
        return DB_OK;
    if (nruns == 1) {
        int packed;
        rc = one_run_is_packed(run_ids[0], key, &packed);
        if (rc != DB_OK || !packed)
            return rc;
    }
    if (has_range && start_step > INT64_MIN) { /* past every point of the step before */
        from.has_after = 1;
        from.step = start_step - 1;
        from.timestamp = INT64_MAX;
        from.value = NAN;
    }
    int budget = db_statement_timeout();
    double deadline = budget > 0 ? clock_ms() + budget : 0;
    runs = xcalloc(nruns, sizeof *runs);
    for (size_t r = 0; r < nruns; r++) {
        struct walk *w = &runs[r];
        w->hi = has_range ? end_step : INT64_MAX;
        w->seen = &all;
        w->merged = &next;
        next.n = 0;
        rc = walk_series(run_ids[r], key, &from, deadline, w);
        if (rc != DB_OK || w->too_many)
            goto out; /* too_many: not answered, the statement serves it */
        while (w->seen_at < all.n)
            steps_push(&next, all.v[w->seen_at++]);
        struct steps t = all;
        all = next;
        next = t;
    }
    *answered = 1;
    if (all.n == 0)
        goto out;

    /* The statement's rule: all steps when they are few, else every
     * ceil(n / max_steps)-th and the last; and each run's ends. */
    int64_t total = (int64_t)all.n;
    int64_t stride = (int64_t)ceil((double)total / (double)max_steps);
    for (int64_t i = 0; i < total; i++)
        if (total <= max_steps || i % stride == 0 || i == total - 1)
            steps_push(&sampled, all.v[i]);
    for (size_t r = 0; r < nruns; r++) {
        if (runs[r].steps > 0) {
            steps_push(&sampled, runs[r].first);
            steps_push(&sampled, runs[r].last);
        }
    }
    qsort(sampled.v, sampled.n, sizeof *sampled.v, cmp_step);
    size_t kept = 0;
    for (size_t i = 0; i < sampled.n; i++)
        if (kept == 0 || sampled.v[i] != sampled.v[kept - 1])
            sampled.v[kept++] = sampled.v[i];
    sampled.n = kept;

    *out = arena_alloc(arena, nruns * sizeof **out);
    for (size_t r = 0; r < nruns; r++) {
        if (runs[r].steps == 0)
            continue;
        struct walk pick = {.hi = runs[r].last, .pick = 1, .sampled = &sampled, .per_run = per_run};
        rc = walk_series(run_ids[r], key, &from, deadline, &pick);
        if (rc == DB_OK && pick.n > 0)
            take_series(&(*out)[(*n)++], r, key, &pick, arena);
        free(pick.points);
        if (rc != DB_OK)
            goto out;
    }
out:
    if (rc != DB_OK) {
        *answered = 0;
        *out = NULL;
        *n = 0;
    }
    free(runs);
    free(all.v);
    free(next.v);
    free(sampled.v);
    return rc;
}
