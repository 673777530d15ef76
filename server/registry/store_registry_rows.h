/* Row readers and child loaders shared by the registry's store_* files.
 * Store-internal: libpq results in, records in the caller's arena out. */
#ifndef ET_SERVER_REGISTRY_STORE_REGISTRY_ROWS_H
#define ET_SERVER_REGISTRY_STORE_REGISTRY_ROWS_H

#include <libpq-fe.h>

#include "common/sbuf.h"
#include "store_registry.h"

/* The columns su_model_version reads, in order, for a table aliased mv. */
#define MV_COLUMNS                                                                                 \
    "mv.name, mv.version, mv.creation_time, mv.last_updated_time, mv.current_stage,"               \
    " mv.description, mv.source, mv.run_id, mv.run_link, mv.status, mv.status_message"

/* The columns su_registered_model reads, for a table aliased rm. */
#define RM_COLUMNS "rm.name, rm.creation_time, rm.last_updated_time, rm.description"

/* The stage of deleted versions (never returned). */
#define STAGE_DELETED "Deleted_Internal"

/* Reads MV_COLUMNS starting at column col0 of row. */
void rr_model_version(const PGresult *res, int row, int col0, struct arena *arena,
                      struct model_version *out);

/* Reads RM_COLUMNS starting at column 0 of row. */
void rr_registered_model(const PGresult *res, int row, struct arena *arena,
                         struct registered_model *out);

/* Groups rows of (index 1..n, text, text) ordered by index into n lists:
 * lists[i] and counts[i] for element i (arena memory). */
void rr_kv_groups(const PGresult *res, size_t n, struct arena *arena, struct kv ***lists,
                  size_t **counts);

/* Fills the aliases of versions[0..n) (one statement). */
int rr_version_aliases(struct model_version *versions, size_t n, struct arena *arena)
    __attribute__((warn_unused_result));

#endif
