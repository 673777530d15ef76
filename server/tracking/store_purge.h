/* Permanent deletion of runs in the deleted lifecycle stage ("purge"): the
 * run rows and everything of theirs (metric points, latest metrics, params,
 * tags, dataset inputs, artifact files), then the artifact blobs no file
 * references any more. Returns db_status values and DB_STATE; no HTTP, no
 * JSON. */
#ifndef ET_SERVER_STORE_PURGE_H
#define ET_SERVER_STORE_PURGE_H

#include "db/store.h"

struct purge_result {
    const char **purged; /* 32-hex ids of the runs removed (arena) */
    size_t npurged;
    const char **refused; /* ids that stopped the purge (see the functions) */
    size_t nrefused;
    int64_t points;         /* metric points removed */
    int64_t artifact_files; /* artifact files removed */
    int64_t blobs, bytes;   /* artifact blobs (and their bytes) the gc then removed */
};

/* Purges the runs named by run_ids (n of them, 32 lowercase hex each; the
 * caller has checked the form) in one transaction: all or nothing. Refuses
 * with DB_NOT_FOUND when some id names no run, and with DB_STATE when some
 * run is not deleted; out->refused then lists those ids and nothing is
 * changed. Repeated ids count once. */
int store_purge_runs(const char *const *run_ids, size_t n, struct arena *arena,
                     struct purge_result *out);

/* Purges every deleted run of the experiment whose deleted_time is before
 * older_than (ms since the epoch; has_older 0: all of them), in
 * transactions of up to 100 runs. Runs that are being restored or purged by
 * someone else at the same moment are left alone. DB_NOT_FOUND when the
 * experiment does not exist. */
int store_purge_experiment(int64_t experiment_id, int has_older, int64_t older_than,
                           struct arena *arena, struct purge_result *out);

#endif
