/* Purging deleted runs: lock them, remove their metric points (narrow rows
 * and compacted chunks) and step blocks (none of those tables has a foreign
 * key to runs, for ingest speed),
 * delete the run rows (every other child table cascades: latest_metrics,
 * params, tags, run_inputs, input_tags, artifact_files), commit, then let
 * the artifact gc remove the blobs no file points at any more (it is safe
 * against concurrent uploads, see store_artifact_gc). */
#include "store_purge.h"

#include <string.h>

#include "common/sbuf.h"
#include "artifacts/store_artifacts.h"
#include "db/store_util.h"

#define PURGE_BATCH "100"
#define PURGE_GC_GRACE_SECONDS 3600 /* pending uploads: as `exptrackd gc` */

static void add_id(const char ***list, size_t *n, size_t cap, const char *id, struct arena *arena)
{
    if (*n < cap)
        (*list)[(*n)++] = arena_strdup(arena, id);
}

/* Removes the locked runs whose internal ids are in the array literal ids:
 * points, chunks and blocks first, then the rows (children cascade). Inside a
 * transaction. */
static int remove_locked(const char *ids, struct purge_result *out)
{
    const char *params[] = {ids};
    PGresult *res = NULL;

    int rc = db_exec("WITH d AS (DELETE FROM metrics WHERE run_id = ANY($1::bigint[]) RETURNING 1)"
                     " SELECT count(*) FROM d",
                     1, params, &res);
    if (rc != DB_OK)
        return rc;
    out->points += su_int64(res, 0, 0);
    PQclear(res);
    rc =
        db_exec("WITH d AS (DELETE FROM metric_chunks WHERE run_id = ANY($1::bigint[]) RETURNING n)"
                " SELECT coalesce(sum(n), 0) FROM d",
                1, params, &res);
    if (rc != DB_OK)
        return rc;
    out->points += su_int64(res, 0, 0);
    PQclear(res);
    rc = db_exec("DELETE FROM metric_blocks WHERE run_id = ANY($1::bigint[])", 1, params, &res);
    PQclear(res);
    if (rc != DB_OK)
        return rc;
    rc = db_exec("SELECT count(*) FROM artifact_files WHERE run_id = ANY($1::bigint[])", 1, params,
                 &res);
    if (rc != DB_OK)
        return rc;
    out->artifact_files += su_int64(res, 0, 0);
    PQclear(res);
    rc = db_exec("DELETE FROM runs WHERE id = ANY($1::bigint[])", 1, params, &res);
    PQclear(res);
    return rc;
}

/* After a purge that removed artifact files: drop the blobs nobody uses. */
static void collect_blobs(struct purge_result *out)
{
    struct artifact_gc_stats st;

    if (out->artifact_files == 0 || store_artifact_gc(PURGE_GC_GRACE_SECONDS, &st) != DB_OK)
        return; /* what is left is removed by the next gc */
    out->blobs = st.blobs;
    out->bytes = st.bytes;
}

/* Locks the runs named by the uuid array literal and sorts them into
 * purgeable (internal ids into ids_lit, 32-hex ids into out->purged) and
 * refused ones. Returns DB_OK, DB_NOT_FOUND or DB_STATE (out->refused set). */
static int lock_named(const char *const *run_ids, size_t n, const char *uuids, struct sbuf *ids_lit,
                      struct arena *arena, struct purge_result *out)
{
    const char *params[] = {uuids};
    PGresult *res = NULL;

    int rc = db_exec("SELECT id, run_uuid, lifecycle_stage FROM runs"
                     " WHERE run_uuid = ANY($1::uuid[]) ORDER BY id FOR UPDATE",
                     1, params, &res);
    if (rc != DB_OK)
        return rc;
    int rows = PQntuples(res);
    char(*found)[33] = arena_alloc(arena, ((size_t)rows + 1) * sizeof *found);
    out->purged = arena_alloc(arena, ((size_t)rows + 1) * sizeof *out->purged);
    out->refused = arena_alloc(arena, (n + 1) * sizeof *out->refused);
    for (int i = 0; i < rows; i++) {
        su_run_id(PQgetvalue(res, i, 1), found[i]);
        if (su_active(res, i, 2)) {
            add_id(&out->refused, &out->nrefused, n, found[i], arena);
            continue;
        }
        su_array_int64(ids_lit, su_int64(res, i, 0), out->npurged == 0);
        add_id(&out->purged, &out->npurged, (size_t)rows, found[i], arena);
    }
    PQclear(res);
    if (out->nrefused > 0)
        return DB_STATE;
    for (size_t i = 0; i < n; i++) { /* ids that name no run */
        int known = 0;
        for (int j = 0; j < rows && !known; j++)
            known = strcmp(run_ids[i], found[j]) == 0;
        int listed = 0;
        for (size_t j = 0; j < out->nrefused && !listed; j++)
            listed = strcmp(run_ids[i], out->refused[j]) == 0;
        if (!known && !listed)
            add_id(&out->refused, &out->nrefused, n, run_ids[i], arena);
    }
    return out->nrefused > 0 ? DB_NOT_FOUND : DB_OK;
}

int store_purge_runs(const char *const *run_ids, size_t n, struct arena *arena,
                     struct purge_result *out)
{
    struct sbuf uuids, ids;
    int rc;

    memset(out, 0, sizeof *out);
    sbuf_init(&uuids);
    sbuf_init(&ids);
    sbuf_addc(&uuids, '{');
    for (size_t i = 0; i < n; i++)
        su_array_text(&uuids, run_ids[i], i == 0);
    sbuf_addc(&uuids, '}');
    sbuf_addc(&ids, '{');
    if ((rc = db_begin()) != DB_OK)
        goto out;
    rc = lock_named(run_ids, n, uuids.data, &ids, arena, out);
    sbuf_addc(&ids, '}');
    if (rc == DB_OK && out->npurged > 0)
        rc = remove_locked(ids.data, out);
    if (rc == DB_OK)
        rc = db_commit();
    else
        db_rollback();
    if (rc != DB_OK)
        out->npurged = 0;
    else
        collect_blobs(out);
out:
    sbuf_cleanup(&uuids);
    sbuf_cleanup(&ids);
    return rc;
}

/* One transaction of the experiment purge: up to PURGE_BATCH deleted runs.
 * *count gets the number purged (0: none left). */
static int purge_batch(const char *const params[3], struct arena *arena, struct purge_result *out,
                       size_t *cap, int *count)
{
    PGresult *res = NULL;
    struct sbuf ids;

    *count = 0;
    int rc = db_begin();
    if (rc != DB_OK)
        return rc;
    rc = db_exec("SELECT id, run_uuid FROM runs WHERE experiment_id = $1"
                 "   AND lifecycle_stage = 'deleted'"
                 "   AND ($2::int = 0 OR coalesce(deleted_time, 0) < $3::bigint)"
                 " ORDER BY id LIMIT " PURGE_BATCH " FOR UPDATE SKIP LOCKED",
                 3, params, &res);
    if (rc != DB_OK) {
        db_rollback();
        return rc;
    }
    int rows = PQntuples(res);
    sbuf_init(&ids);
    sbuf_addc(&ids, '{');
    for (int i = 0; i < rows; i++)
        su_array_int64(&ids, su_int64(res, i, 0), i == 0);
    sbuf_addc(&ids, '}');
    rc = rows > 0 ? remove_locked(ids.data, out) : DB_OK;
    rc = rc == DB_OK ? db_commit() : (db_rollback(), rc);
    if (rc == DB_OK) {
        if (out->npurged + (size_t)rows > *cap) {
            size_t grown = (*cap + (size_t)rows) * 2;
            const char **list = arena_alloc(arena, grown * sizeof *list);
            if (out->npurged > 0)
                memcpy(list, out->purged, out->npurged * sizeof *list);
            out->purged = list;
            *cap = grown;
        }
        for (int i = 0; i < rows; i++) {
            char id[33];
            su_run_id(PQgetvalue(res, i, 1), id);
            out->purged[out->npurged++] = arena_strdup(arena, id);
        }
        *count = rows;
    }
    PQclear(res);
    sbuf_cleanup(&ids);
    return rc;
}

int store_purge_experiment(int64_t experiment_id, int has_older, int64_t older_than,
                           struct arena *arena, struct purge_result *out)
{
    char exp[24], older[24];
    const char *params[] = {su_i64(exp, experiment_id), has_older ? "1" : "0",
                            su_i64(older, older_than)};
    PGresult *res = NULL;
    size_t cap = 0;
    int count;

    memset(out, 0, sizeof *out);
    int rc = db_exec("SELECT 1 FROM experiments WHERE experiment_id = $1", 1, params, &res);
    if (rc != DB_OK)
        return rc;
    int exists = PQntuples(res) > 0;
    PQclear(res);
    if (!exists)
        return DB_NOT_FOUND;
    do
        rc = purge_batch(params, arena, out, &cap, &count);
    while (rc == DB_OK && count > 0);
    if (out->npurged > 0)
        collect_blobs(out);
    return rc;
}
