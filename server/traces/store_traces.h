/* MLflow 3 traces in PostgreSQL (schema/0018_traces.sql): trace infos with
 * their tags, metadata and run/prompt links, assessments, spans, the search
 * and the rollups. Plain records in and out (strings in the caller's arena,
 * JSON values as their text); returns db_status values and the codes
 * below. Never JSON objects, never HTTP. */
#ifndef ET_SERVER_TRACES_STORE_TRACES_H
#define ET_SERVER_TRACES_STORE_TRACES_H

#include <stddef.h>
#include <stdint.h>

#include "db/store.h"
#include "filter.h"

/* delete-tag: the trace exists, the tag does not. */
#define DB_TRACE_NO_TAG (-40)
/* link-to-run: no such run */
#define DB_TRACE_NO_RUN (-42)
/* a span batch names a trace stored in another experiment */
#define DB_TRACE_OTHER_EXPERIMENT (-41)
/* search, stats: the filter and order need more bound parameters than one
 * statement takes (nothing was run) */
#define DB_TRACE_TOO_MANY_PARAMS (-43)

/* State numbers, as on the wire (V2 TraceStatus uses the same numbers). */
enum trace_state {
    TRACE_STATE_UNSPECIFIED = 0,
    TRACE_STATE_OK = 1,
    TRACE_STATE_ERROR = 2,
    TRACE_STATE_IN_PROGRESS = 3,
};

/* An assessment (mlflow-models-api.md 3.7). value and extra are JSON text
 * (NULL when absent); kind 1 feedback, 2 expectation, 3 issue. */
struct trace_assessment {
    const char *assessment_id;
    const char *trace_id;
    const char *name;
    const char *span_id;
    int source_type;
    const char *source_id;
    int kind;
    const char *value;
    const char *extra;
    const char *rationale;
    const char *metadata; /* JSON object text */
    const char *overrides;
    int valid;
    int64_t create_time;
    int64_t last_update_time;
};

struct trace_info {
    const char *trace_id;
    int64_t experiment_id;
    int64_t request_time;
    int64_t execution_duration; /* -1: NULL */
    int state;
    const char *client_request_id;
    const char *request_preview;
    const char *response_preview;
    struct kv *tags;
    size_t ntags;
    struct kv *metadata;
    size_t nmetadata;
    struct trace_assessment *assessments;
    size_t nassessments;
};

/* What start (V2) and create (V3) write. The server tag
 * mlflow.artifactLocation is added by the store. */
struct trace_write {
    const char *trace_id;
    int64_t experiment_id;
    int64_t request_time;
    int64_t execution_duration; /* -1: NULL */
    int state;
    const char *client_request_id; /* NULL: none */
    const char *request_preview;
    const char *response_preview;
    const struct kv *tags;
    size_t ntags;
    const struct kv *metadata;
    size_t nmetadata;
    const struct trace_assessment *assessments; /* ids made by the caller */
    size_t nassessments;
};

/* Creates a trace (V2 start: merge 0, an existing id is DB_EXISTS) or
 * creates-or-merges it (V3 create: merge 1; given fields win, tags and
 * metadata upserted, existing values the request lacks kept). One
 * transaction. DB_NOT_FOUND: no experiment; DB_STATE: it is deleted;
 * DB_TRACE_OTHER_EXPERIMENT: the id exists in another experiment. */
int store_trace_write(const struct trace_write *w, int merge);

/* V2 end: execution_duration = end_ms - request_time, the state, and the
 * tags and metadata upserted; *experiment_id is the trace's experiment.
 * DB_NOT_FOUND when absent. */
int store_trace_end(const char *trace_id, int64_t end_ms, int state, const struct kv *metadata,
                    size_t nmetadata, const struct kv *tags, size_t ntags, int64_t *experiment_id);

/* Reads a trace info with tags, metadata and assessments. */
int store_trace_get(const char *trace_id, struct arena *arena, struct trace_info *out);

/* The experiment of a trace. DB_NOT_FOUND when absent. */
int store_trace_experiment(const char *trace_id, int64_t *experiment_id);

/* delete-traces: by age (ids NULL: request_time <= max_ms, oldest first,
 * at most max_traces when > 0) or by ids, within experiment_id. */
int store_trace_delete(int64_t experiment_id, int64_t max_ms, int64_t max_traces,
                       const char *const *ids, size_t nids, int64_t *deleted);

/* Upserts one tag. DB_NOT_FOUND when the trace is absent. */
int store_trace_set_tag(const char *trace_id, const char *key, const char *value);

/* Deletes one tag. DB_NOT_FOUND: no trace; DB_TRACE_NO_TAG: no such key. */
int store_trace_delete_tag(const char *trace_id, const char *key);

/* Links traces to a run (pairs already linked skipped). DB_NOT_FOUND when
 * a trace id is unknown, DB_TRACE_NO_RUN when the run is (nothing written).
 * run_id: 32 hex digits. */
int store_trace_link_runs(const char *const *trace_ids, size_t n, const char *run_id);

/* Links a trace to prompt versions (names[i], versions[i]), skipping known
 * pairs. DB_NOT_FOUND when the trace is unknown. */
int store_trace_link_prompts(const char *trace_id, const char *const *names,
                             const char *const *versions, size_t n);

/* Assessments. create: the trace must exist (DB_NOT_FOUND); with
 * overrides, that assessment of the same trace is marked invalid
 * (DB_TRACE_NO_TAG when absent). */
int store_assessment_create(const struct trace_assessment *a);
int store_assessment_get(const char *trace_id, const char *assessment_id, struct arena *arena,
                         struct trace_assessment *out);
/* Changes the fields whose mask bit is set (ASSESS_* below); metadata is
 * merged. DB_NOT_FOUND when absent. */
#define ASSESS_NAME 1
#define ASSESS_VALUE 2 /* with kind, value and extra */
#define ASSESS_RATIONALE 4
#define ASSESS_METADATA 8
#define ASSESS_VALID 16
int store_assessment_update(const struct trace_assessment *a, int mask);
int store_assessment_delete(const char *trace_id, const char *assessment_id);

/* One span as stored: ids as lowercase hex, attributes and events as JSON
 * text, tokens -1 when absent. */
struct trace_span {
    const char *trace_id; /* "tr-" + 32 hex */
    const char *span_id;
    const char *parent_span_id; /* NULL: a root */
    const char *name;
    const char *span_type; /* NULL: none */
    int kind;
    const char *trace_state;
    int status_code;
    const char *status_message;
    int64_t start_ns;
    int64_t end_ns;
    const char *attributes;
    const char *events;
    int64_t input_tokens;
    int64_t output_tokens;
    int64_t cache_read_tokens;     /* cache_read_input_tokens; -1: none */
    int64_t cache_creation_tokens; /* cache_creation_input_tokens; -1: none */
};

/* What a span batch says about one trace (computed by the caller). */
struct span_trace {
    const char *trace_id;
    int64_t start_ns; /* earliest span start */
    int64_t end_ns;   /* latest span end */
    int has_root;
    int root_state;               /* with has_root */
    const char *request_preview;  /* root's inputs, or NULL */
    const char *response_preview; /* root's outputs, or NULL */
    const char *trace_name;       /* root's name, or NULL */
    const char *session;          /* first session.id, or NULL */
    int foreign;                  /* set by store_spans_ingest: stored in another experiment */
    int fresh;                    /* set by store_spans_ingest: created by this batch */
};

/* Stores a span batch in one transaction: trace rows created or widened,
 * tags mlflow.trace.spansLocation and mlflow.artifactLocation, spans
 * upserted by (trace_id, span_id) (those of the traces the batch creates
 * by binary COPY, the others in one statement; span ids must be unique in
 * the batch), token columns and metadata mlflow.trace.tokenUsage and
 * mlflow.trace.cost recomputed from the stored spans. Sets fresh on the
 * traces the batch created. traces and spans are sorted by trace id
 * (spans then by span id). A trace
 * stored in another experiment is left alone: its foreign flag is set and
 * its spans are not written; the rest is stored. DB_NOT_FOUND: no
 * experiment; DB_STATE: deleted; DB_TRACE_OTHER_EXPERIMENT: every trace
 * lives in another experiment (nothing stored). */
int store_spans_ingest(int64_t experiment_id, struct span_trace *traces, size_t ntraces,
                       const struct trace_span *spans, size_t nspans);

/* Replaces the stored spans of one trace with spans[0..n) (their trace_id
 * is trace_id) and recomputes its token columns and mlflow.trace.tokenUsage,
 * in one transaction (the traces.json upload); *experiment_id is the trace's
 * experiment. DB_NOT_FOUND: no trace. */
int store_spans_replace(const char *trace_id, const struct trace_span *spans, size_t n,
                        int64_t *experiment_id);

/* The stored spans of one trace, read by one statement and handed out
 * one at a time: the roots first, then by start time and span id. */
struct span_cursor;

/* Reads the spans of trace_id into a new cursor (*out; DB_OK also when the
 * trace has no spans). On failure *out is NULL. */
int store_spans_open(const char *trace_id, struct span_cursor **out);

/* How many spans the cursor holds in all. */
size_t store_spans_count(const struct span_cursor *c);

/* Fills *s with the next span and returns 1, or returns 0 at the end. The
 * strings point into the cursor and live until store_spans_close. */
int store_spans_next(struct span_cursor *c, struct trace_span *s);

/* Frees the cursor and its rows (NULL is fine). */
void store_spans_close(struct span_cursor *c);

/* Trace search (filter.h). */
struct trace_search {
    const int64_t *experiment_ids;
    size_t nexperiments;
    const struct trace_filter *filter;
    const struct trace_order *order;
    size_t norder;
    int64_t offset;
    int64_t limit;
    /* Keyset of the previous page's last row (after_id non-NULL): used
     * instead of offset when the order is the default one. */
    const char *after_id;
    int64_t after_time;
};

/* Whether q orders by the default keys only (request_time DESC, trace_id
 * ASC), so that a keyset page token applies. */
int trace_search_keyset_order(const struct trace_search *q);

/* One statement: traces of the experiments matching every condition,
 * ordered (request_time DESC, trace_id ASC appended), up to limit + 1
 * rows after the keyset (default order) or from offset; *more tells
 * whether a next page exists. Infos come with tags, metadata and
 * assessments (loaded for the page's rows only). DB_TRACE_TOO_MANY_PARAMS
 * when the filter and order need more parameters than the statement
 * takes. */
int store_trace_search(const struct trace_search *q, struct arena *arena, struct trace_info **out,
                       size_t *n, int *more);

/* A rollup group of the stats endpoint. */
struct trace_stats_row {
    const char *group; /* NULL: no group value (or no grouping) */
    int64_t traces;
    int64_t errors;
    int64_t input_tokens;
    int64_t output_tokens;
    int64_t total_tokens;
    double p50, p90, p99; /* ms; NaN when no finished trace */
    /* USD: per trace its metadata mlflow.trace.cost, else the sum of its
     * spans' mlflow.llm.cost; 0 when none recorded */
    double input_cost, output_cost, total_cost;
};

/* Rollups of one experiment's traces matching filter, grouped by a tag
 * (group_kind 1) or metadata (2) key, or not at all (0).
 * DB_TRACE_TOO_MANY_PARAMS as store_trace_search. */
int store_trace_stats(int64_t experiment_id, const struct trace_filter *filter, int group_kind,
                      const char *group_key, struct arena *arena, struct trace_stats_row **out,
                      size_t *n);

/* A run the trace names: its source run (metadata mlflow.sourceRun) or a
 * run linked by link-to-run, or both. */
struct trace_run_row {
    const char *run_id;          /* as stored (the link's text) */
    int source;                  /* 1: the trace's mlflow.sourceRun */
    int linked;                  /* 1: linked by link-to-run */
    int64_t experiment_id;       /* -1: no such run (deleted for good) */
    const char *name;            /* NULL unless the run is in the trace's experiment */
    const char *lifecycle_stage; /* "active", "deleted"; NULL: no such run */
};

/* The runs trace_id names (source first, then by id; at most 1,000),
 * allocated in arena. DB_NOT_FOUND when the trace is absent. */
int store_trace_runs(const char *trace_id, struct arena *arena, struct trace_run_row **out,
                     size_t *n);

#endif
