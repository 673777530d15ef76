/* `exptrack export DIR`: an MLflow-API server (exptrackd or MLflow) written
 * out in MLflow's mlruns file-store layout. */
#ifndef ET_CLI_EXPORT_MLRUNS_H
#define ET_CLI_EXPORT_MLRUNS_H

#include "import.h"

struct export_opts {
    const char *dir;
    const char *experiments[64];
    int nexperiments;
    int include_deleted, json, quiet;
    int jobs; /* runs exported in parallel (0 or 1: one at a time) */
};

/* Writes every (selected) experiment, run, param, tag, metric point,
 * dataset input, artifact and registered model read through src into
 * o->dir. Returns the exit status. */
int export_mlruns(struct ih *src, const struct export_opts *o);

#endif
