/* The pieces export_mlruns.c shares with export_logged_models.c: the
 * exporter's state and its file and JSON helpers. */
#ifndef ET_CLI_EXPORT_INTERNAL_H
#define ET_CLI_EXPORT_INTERNAL_H

#include "export_mlruns.h"

/* One exporter; each --jobs thread has its own copy with its own src. */
struct ex {
    struct ih *src;
    const struct export_opts *o;
    struct iprog *prog; /* shared */
    char root[4096];    /* absolute */
    json_t *pending;    /* runs queued for the --jobs threads */
    const char *pending_dir;
    struct istate *done; /* logged models recorded there ("lm") are left out; may be NULL */
};

/* mkdir -p of the folder part of path (of path itself when whole). 0/-1. */
int ex_mkdirs(const char *path, int whole);
/* Creates path (and its folders) for writing; NULL on failure. */
FILE *ex_create(const char *path);
/* Writes value to dir/<key> (keys with '/' make subfolders; ".." and
 * absolute keys are left out). 0 or -1. */
int ex_write_value(const char *dir, const char *key, const char *value);
/* An int64 field given as a number or a decimal string (else fallback). */
int64_t ex_jint(const json_t *o, const char *key, int64_t fallback);
/* A string field, "" when absent. */
const char *ex_jstr(const json_t *o, const char *key);
/* A metric value: a number or "NaN", "Infinity", "-Infinity". */
double ex_jdouble(const json_t *v);
/* Writes v as MLflow's metric files do (nan, inf, -inf, %.17g). */
void ex_put_double(FILE *f, double v);
/* POSTs body (stolen) to path page after page, calling each(x, item, ctx)
 * for every element of the reply's list field. 0 or -1. */
int ex_paged(struct ex *x, const char *path, json_t *body, const char *field,
             int (*each)(struct ex *, const json_t *, void *), void *ctx);
/* One metric point as a history page gives it. */
struct ipoint {
    double value;
    int64_t timestamp, step;
};

/* A growable array of points (zero-initialise; free pts). */
struct ipoints {
    struct ipoint *pts;
    size_t n, cap;
};

/* Parses a get-history reply text into pp (emptied first; its array
 * reused) and *token (the next_page_token, NULL when none or empty; the
 * caller frees). A scanner reads the shape servers send; any other text
 * goes through jansson with the same defaults (a missing value is NaN, a
 * missing timestamp or step 0). 0, or -1 when the text is not JSON or
 * memory ran out. */
int ihist_parse(const char *text, struct ipoints *pp, char **token);
/* Reads the whole history of metric key of run_id from src as the MLflow
 * client does (get-history, max_results=25000, page tokens), calling
 * page(ctx, pts, n) with each page's points. Returns 0; -1 when a read
 * failed or a reply was not a history (src->err says why; the caller words
 * the message); or the first non-zero return of page, which stops the
 * reading. */
int ex_history_pages(struct ih *src, const char *run_id, const char *key,
                     int (*page)(void *ctx, const struct ipoint *pts, size_t n), void *ctx);
/* Downloads every artifact under the proxy path rel into the folder local,
 * streamed. 0 or -1 (a listing refused is a skip). */
int ex_artifacts(struct ex *x, const char *rel, const char *local);

/* Writes the registered models, their versions, tags and aliases under
 * root/models/. 0 or -1. */
int export_registry(struct ex *x);

/* Writes the experiment's MLflow 3 logged models (active ones: search
 * does not list deleted models) under exp_dir/models/<model id>/. 0/-1. */
int export_logged_models(struct ex *x, const char *exp_id, const char *exp_dir);
/* Writes a run's model links: outputs/<model id>/meta.yaml per
 * outputs.model_outputs entry, inputs/<id>/meta.yaml per model input. */
int export_model_links(const json_t *run, const char *run_dir);

#endif
