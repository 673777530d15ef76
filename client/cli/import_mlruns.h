/* `exptrack import mlruns DIR` and the options every import shares. */
#ifndef ET_CLI_IMPORT_MLRUNS_H
#define ET_CLI_IMPORT_MLRUNS_H

#include "import.h"

struct import_opts {
    const char *url; /* destination exptrackd */
    const char *dir; /* the mlruns directory */
    const char *state_path, *mapping_path;
    const char *experiments[64];
    int nexperiments;
    int include_deleted, dry_run, jobs, json;
};

/* Reads the head of a metric file line, "timestamp value [step]" (value as
 * strtod reads MLflow's nan, inf and -inf; a missing step is 0), and moves
 * *p past it, to what follows (the run id and dataset of a logged model's
 * metric). 0, or -1 when the line has no timestamp or value. */
int imlruns_metric_line(char **p, int64_t *ts, double *v, int64_t *step);

/* Imports the file store at o->dir into o->url. Returns the exit status. */
int import_mlruns(const struct import_opts *o);

/* `import mlflow --from`: copies the server src reads into o->url, run by
 * run (--jobs threads), staging logged models, the registry and run links
 * in work (NULL: a temporary folder, removed at the end). Returns the exit
 * status. */
int import_rest(const struct import_opts *o, struct ih *src, const char *work);

/* Imports the file-based registry (o->dir/models) through w: models,
 * versions (their run ids mapped through the state), stages, tags, aliases.
 * 0 or -1. */
int import_mlruns_registry(const struct import_opts *o, struct iw *w);

/* Imports the MLflow 3 logged models under exp_dir/models (metadata,
 * params, tags, metric rows, artifacts) into the destination experiment
 * dst_exp; deleted ones only with include_deleted. Run ids inside are
 * mapped through the state, a taken model id is derived anew and listed in
 * the mapping file; finished models are recorded as "lm". 0 or -1. */
int import_mlruns_logged_models(struct iw *w, const char *exp_dir, const char *dst_exp,
                                int include_deleted);

/* Links the imported run src_run (its folder run_dir) to its logged models:
 * runs/outputs entries the destination lacks, and model inputs. Recorded as
 * "links" in the state. 0 or -1. */
int import_mlruns_model_links(struct iw *w, const char *run_dir, const char *src_run);

#endif
