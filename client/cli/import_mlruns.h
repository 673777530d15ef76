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

/* Imports the file store at o->dir into o->url. Returns the exit status. */
int import_mlruns(const struct import_opts *o);

/* Imports the file-based registry (o->dir/models) through w: models,
 * versions (their run ids mapped through the state), stages, tags, aliases.
 * 0 or -1. */
int import_mlruns_registry(const struct import_opts *o, struct iw *w);

#endif
