/* Pieces shared by the artifact handlers (api_artifacts.c: listing,
 * deletion, multipart stubs; api_artifacts_io.c: streamed upload and
 * download). Not for other api_* files. */
#ifndef ET_SERVER_API_ARTIFACTS_H
#define ET_SERVER_API_ARTIFACTS_H

#include <stdint.h>

#include "core/artifact_path.h"
#include "core/input.h"
#include "routes.h"
#include "store_artifacts.h"

/* The largest artifact accepted, in bytes (set by api_artifacts_configure). */
extern int64_t api_artifacts_max_size;

/* A run's or a logged model's artifact named by a request. */
struct art_target {
    struct artifact_proxy_path proxy; /* depth 3 once resolved */
    struct artifact_run run;
    char *rel; /* run-relative path, "" for the root; in the arena */
};

/* Checks a proxy path (artifact_path_check flags) and splits it. Returns 0,
 * or -1 with a 400 INVALID_PARAMETER_VALUE in r. */
int api_art_parse(const char *path, int flags, struct arena *arena, struct art_target *t,
                  struct reply *r);

/* Looks up t's run or model (t->proxy.depth >= 2) and checks it belongs to
 * the experiment the path names. Returns DB_OK, DB_NOT_FOUND (no such run there)
 * or another store failure; sets no reply. */
int api_art_resolve(struct art_target *t, struct arena *arena);

/* The id of t's run or model as the path names it. */
const char *api_art_owner_id(const struct art_target *t);

/* Replies for a failed lookup of t's run or model (404 when absent). */
void api_art_owner_not_found(struct reply *r, int rc, const struct art_target *t);

/* Replies 400 for a path the rules refuse; `why` from artifact_path_check. */
void api_art_bad_path(struct reply *r, const char *path, const char *why);

/* Replies for a failed store call on a run's artifact at path. */
void api_art_store_error(struct reply *r, int rc, const char *run_id, const char *path);

#endif
