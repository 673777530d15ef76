/* Queries: run and experiment search (filters compiled by server/search/),
 * keyset paging cursors, bulk and downsampled metric history, and the
 * distinct keys of experiments. Returns db_status values; never JSON. */
#ifndef ET_SERVER_STORE_SEARCH_H
#define ET_SERVER_STORE_SEARCH_H

#include "search/search.h"
#include "db/store.h"

/* Which keys of run.data a search returns. A NULL list means every key;
 * a list (possibly empty) means only those keys. */
struct key_select {
    const char *const *metrics;
    size_t nmetrics;
    const char *const *params;
    size_t nparams;
    const char *const *tags;
    size_t ntags;
    int all_metrics, all_params, all_tags; /* 1: ignore the list */
};

/* The position after a row in a search's total order: one (class, value)
 * per sort key, tie-breaks included. class 0 = value, 1 = NaN, 2 = missing;
 * value is the key's text form (NULL unless class 0). */
struct search_cursor {
    size_t n;
    int *klass;
    const char **value;
};

struct run_search {
    const int64_t *experiment_ids;
    size_t nexp;
    enum view_type view;
    const struct search_node *filter; /* NULL: every run */
    const struct search_order *order; /* the caller's keys; tie-breaks are added */
    size_t norder;
    const struct search_cursor *after; /* NULL: first page */
    int64_t limit;
    const struct key_select *select; /* NULL: every key */
};

/* A run as a search returns it. Each list is sorted by key (bytewise). */
struct search_run {
    struct run_info info;
    struct metric *metrics; /* latest value per key */
    size_t nmetrics;
    struct kv *params;
    size_t nparams;
    struct kv *tags;
    size_t ntags;
    struct dataset_input *inputs;
    size_t ninputs;
    struct model_link *model_outputs; /* runs/outputs, in the order logged */
    size_t nmodel_outputs;
    struct model_link *model_inputs; /* runs/log-inputs "models", by id */
    size_t nmodel_inputs;
};

/* Loads params, tags, latest metrics (only the keys select names; all when
 * select is NULL), dataset inputs and logged-model outputs and inputs of
 * runs[0..n) (info filled, lists zero): one statement, two more when a run
 * has inputs, one more when a run has model links. Everything lives in the
 * arena. Implemented in store_search_load.c. */
int store_search_load_runs(struct search_run *runs, size_t n, const struct key_select *select,
                           struct arena *arena);

/* The same for struct run, as runs/get needs. */
int store_search_load_children(struct run *runs, size_t n, const struct key_select *select,
                               struct arena *arena);

/* Number of sort keys (tie-breaks included) a cursor of this search has. */
size_t store_run_search_nkeys(const struct search_order *order, size_t norder);

/* Runs matching q in its order (caller keys, then start_time DESC unless
 * given, then run id ASC), strictly after q->after, at most q->limit, loaded
 * with the keys q->select names into *out (arena). *last gets the cursor
 * of the last row returned (arena; n = 0 when no rows). DB_INVALID: the
 * cursor does not fit. */
int store_run_search(const struct run_search *q, struct arena *arena, struct search_run **out,
                     size_t *n, struct search_cursor *last);

struct experiment_search {
    enum view_type view;
    const struct search_node *filter;
    const struct search_order *order; /* the caller's keys; tie-breaks are added */
    size_t norder;
    const struct search_cursor *after; /* NULL: first page */
    int64_t limit;
};

/* Number of sort keys (tie-break included) a cursor of this search has. */
size_t store_experiment_search_nkeys(const struct search_order *order, size_t norder);

/* Experiments matching q in its order (caller keys or creation_time DESC,
 * then experiment id ASC unless given), strictly after q->after, at most
 * q->limit, with tags. cursors[i] (arena) is the position of row i, from
 * which the next page starts. DB_INVALID: the cursor does not fit. */
int store_experiment_search(const struct experiment_search *q, struct arena *arena,
                            struct experiment **out, struct search_cursor **cursors, size_t *n);

/* One series of points, for the history endpoints. */
struct series {
    size_t run_index; /* into the caller's run id list */
    size_t key_index; /* into the caller's key list */
    struct metric *points;
    size_t n;
};

/* get-history-bulk-interval (mlflow-api.md §9): points of one key for runs,
 * at no more than max_steps sampled steps in [start_step, end_step] (both
 * NULL-able: has_range 0 = all), always including each run's first and
 * last step; per run ordered by (step, timestamp, value), at most per_run
 * points each. One series per run that has points. */
int store_history_bulk_interval(const char *const *run_ids, size_t nruns, const char *key,
                                int has_range, int64_t start_step, int64_t end_step,
                                int64_t max_steps, int64_t per_run, struct arena *arena,
                                struct series **out, size_t *n);

/* Downsampled history of several runs and keys: per series all points when
 * it has at most max_points, else for each of max_points/4 equal step
 * buckets its first, last, minimum and maximum point (deduplicated), in
 * (step, timestamp) order. *totals gets each series' full point count. */
int store_history_downsample(const char *const *run_ids, size_t nruns, const char *const *keys,
                             size_t nkeys, int64_t max_points, struct arena *arena,
                             struct series **out, size_t *n, int64_t **totals);

/* Distinct metric, param and tag keys used by runs of the experiments
 * (all runs, any lifecycle), each list sorted. */
int store_experiment_keys(const int64_t *experiment_ids, size_t nexp, struct arena *arena,
                          const char ***metrics, size_t *nmetrics, const char ***params,
                          size_t *nparams, const char ***tags, size_t *ntags);

#endif
