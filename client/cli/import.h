/* `exptrack import` and `exptrack export`: the shared pieces. A source
 * (an mlruns directory, or an MLflow server through export-to-disk) hands
 * experiments, runs, params, tags, metric points, artifacts and registry
 * objects to the writer (import_writer.c), which sends them to exptrackd's
 * API; the state file (import_state.c) remembers finished runs and the
 * progress reporter (import_progress.c) counts. */
#ifndef ET_CLI_IMPORT_H
#define ET_CLI_IMPORT_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "import_http.h"
#include "common/sbuf.h"

/* ---- state file: finished work, one line each, appended and flushed ---- */
struct istate;

/* Opens (creating) path and reads what an earlier run recorded; NULL path
 * gives an in-memory state. NULL on failure (message printed). */
struct istate *istate_open(const char *path);
/* The destination id recorded for kind ("exp", "run") and source id, or NULL. */
const char *istate_get(struct istate *s, const char *kind, const char *src);
/* Records kind/src -> dst (thread-safe); 0 or -1 when the file write failed. */
int istate_put(struct istate *s, const char *kind, const char *src, const char *dst);
void istate_close(struct istate *s);

/* ---- progress: counters shared by the worker threads ---- */
struct iprog {
    pthread_mutex_t mu;
    int64_t experiments, runs, runs_total, points, params, tags, files, bytes;
    int64_t runs_skipped, files_skipped, remapped, failed, logged_models;
    int64_t started_ms, last_print_ms;
    int tty;
    char skips[4096]; /* "reason" lines for the summary (truncated) */
};
void iprog_init(struct iprog *p);
/* Adds to the counters (any may be 0) and prints when a second has passed. */
void iprog_add(struct iprog *p, int64_t runs, int64_t points, int64_t files, int64_t bytes);
/* Records a skip with its reason for the summary. */
void iprog_skip(struct iprog *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the final line and the summary (to stderr; JSON on stdout with json). */
void iprog_summary(struct iprog *p, const char *verb, int dry_run, int json);
int64_t iprog_now_ms(void);

/* ---- what a source hands the writer ---- */
struct ikv {
    char *key, *value;
};

struct iexperiment {
    char *id, *name, *lifecycle; /* lifecycle "active" or "deleted" */
    int64_t creation_time, last_update_time;
    struct ikv *tags;
    size_t ntags;
};

struct irun {
    char *run_id, *experiment_id, *name, *user, *lifecycle;
    int status;                   /* 1..5 */
    int64_t start_time, end_time; /* end_time -1: unset */
};

/* Reads every file under dir as key (its path below dir, with prefix) and
 * value (its content), appended to *kv / *n; subfolders make keys with
 * '/'. Unreadable entries are left out. */
void ikv_read_dir(const char *dir, const char *prefix, struct ikv **kv, size_t *n);
/* Frees what ikv_read_dir made and zeroes *kv and *n. */
void ikv_free(struct ikv **kv, size_t *n);

/* ---- the writer: one per thread ---- */
struct iw {
    struct ih dst;
    struct istate *state;
    struct iprog *prog;
    FILE *mapping; /* shared; writes under prog->mu */
    int dry_run;
    /* the run being written */
    char src_run[300], dst_run[40], dst_exp[32];
    uint64_t run_hash;
    struct sbuf batch; /* pending metrics: a log-batch body without its "]}" */
    size_t batch_n;    /* points in it */
    int batch_index;
    int64_t run_points;
};

/* Opens a writer against the destination URL (credentials from
 * $EXPTRACK_USERNAME/$EXPTRACK_PASSWORD or $EXPTRACK_TOKEN, else the
 * $MLFLOW_TRACKING_* variables). 0 or -1. */
int iw_open(struct iw *w, const char *url, struct istate *st, struct iprog *p, FILE *mapping,
            int dry_run);
void iw_close(struct iw *w);

/* Creates (or finds, on a rerun) the experiment; dst gets its id there.
 * Keeps the source id when free, else maps by name or creates a new one
 * and writes a mapping line. 0 or -1. */
int iw_experiment(struct iw *w, const struct iexperiment *e, char dst[32]);
/* Ends an experiment import: deletes it when the source had it deleted. */
int iw_experiment_finish(struct iw *w, const struct iexperiment *e, const char *dst);

/* Starts a run under dst_exp. Returns 1 when it was finished by an earlier
 * import (skip it), 0 to write it, -1 on error. */
int iw_run_begin(struct iw *w, const struct irun *run, const char *dst_exp);
/* Params and tags (each sent in batches of 100). */
int iw_params(struct iw *w, const struct ikv *kv, size_t n);
int iw_tags(struct iw *w, const struct ikv *kv, size_t n);
/* Queues one point; full batches of 1,000 go out with a deterministic
 * Idempotency-Key (source run, destination run, batch index). */
int iw_point(struct iw *w, const char *key, double value, int64_t timestamp, int64_t step);
/* A dataset input (the log-inputs shapes; tags may be NULL). */
int iw_input(struct iw *w, const json_t *dataset, const struct ikv *tags, size_t ntags);
/* Uploads a local file as artifact rel unless the destination already holds
 * the same bytes (size + sha256). */
int iw_artifact(struct iw *w, const char *local, const char *rel);
/* The same for any artifact folder: uploads local as prefix/rel, where
 * prefix is a proxy path such as "<exp>/models/<model id>/artifacts". */
int iw_artifact_at(struct iw *w, const char *local, const char *prefix, const char *rel);
/* Uploads every file under the local folder dir (recursively) as
 * prefix/<rel><path> (prefix NULL: the current run's artifacts). 0 or -1. */
int iw_artifact_dir(struct iw *w, const char *dir, const char *prefix, const char *rel);
/* Flushes points, deletes the run when the source had it deleted, records
 * it as done. */
int iw_run_end(struct iw *w, const struct irun *run);

/* Registry: a model, then its versions (source run ids mapped), aliases. */
int iw_model(struct iw *w, json_t *model);
int iw_model_version(struct iw *w, const char *name, json_t *version);
int iw_model_alias(struct iw *w, const char *name, const char *alias, const char *version);

/* A metric value as the API takes it: a number, or "NaN", "Infinity",
 * "-Infinity" (a new reference). */
json_t *ijson_double(double v);

/* vsnprintf into buf (paths and URLs); 0, or -1 when it was cut short. */
int ipathf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* FNV-1a 64 of s, continuing from h (start with 1469598103934665603). */
uint64_t ifnv(uint64_t h, const char *s);

#endif
