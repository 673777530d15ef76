/* Artifact files of runs: lookups, listings, deletions and the file/directory
 * conflict rule. Directories are implicit: a directory "d" is the key range
 * ['d/', 'd0') of the bytewise-ordered path column ('0' follows '/'). Blob
 * and chunk SQL lives in store_artifact_blobs.c. */
#include "store_artifacts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"
#include "db/store_util.h"
#include "core/xalloc.h"

int store_artifact_run(const char *run_id, struct arena *arena, struct artifact_run *out)
{
    const char *params[] = {run_id};
    PGresult *res = NULL;

    memset(out, 0, sizeof *out);
    int rc = db_exec("SELECT id, experiment_id, lifecycle_stage, artifact_uri FROM runs"
                     " WHERE run_uuid = $1::uuid",
                     1, params, &res);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return DB_NOT_FOUND;
    }
    out->internal_id = su_int64(res, 0, 0);
    out->experiment_id = su_int64(res, 0, 1);
    out->deleted = !su_active(res, 0, 2);
    out->artifact_uri = su_str(res, 0, 3, arena);
    PQclear(res);
    return DB_OK;
}

int store_artifact_stat(int64_t run, const char *path, struct artifact_file *out)
{
    char id[24];
    const char *params[] = {su_i64(id, run), path};
    PGresult *res = NULL;

    memset(out, 0, sizeof *out);
    int rc = db_exec("SELECT f.blob_id, f.size, f.created, b.chunk_size, encode(b.sha256, 'hex')"
                     " FROM artifact_files f JOIN artifact_blobs b ON b.id = f.blob_id"
                     " WHERE f.run_id = $1 AND f.path = $2",
                     2, params, &res);
    if (rc != DB_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return DB_NOT_FOUND;
    }
    out->blob_id = su_int64(res, 0, 0);
    out->size = su_int64(res, 0, 1);
    out->created = su_int64(res, 0, 2);
    out->chunk_size = (int)su_int64(res, 0, 3);
    snprintf(out->sha256, sizeof out->sha256, "%s", PQgetvalue(res, 0, 4));
    PQclear(res);
    return DB_OK;
}

/* "dir/" and its upper bound "dir0" (the key range of everything below dir);
 * both empty strings for the root. Caller frees both. */
static void dir_range(const char *dir, char **lo, char **hi)
{
    if (dir[0] == '\0') {
        *lo = xstrdup("");
        *hi = NULL;
        return;
    }
    *lo = xasprintf("%s/", dir);
    *hi = xasprintf("%s0", dir);
}

int store_artifact_list(int64_t run, const char *dir, struct arena *arena,
                        struct artifact_entry **out, size_t *n)
{
    char id[24];
    char *lo, *hi;
    PGresult *res = NULL;

    *out = NULL;
    *n = 0;
    dir_range(dir, &lo, &hi);
    const char *params[] = {su_i64(id, run), lo, hi};
    int rc = db_exec("SELECT split_part(substr(path, char_length($2) + 1), '/', 1) AS name,"
                     "   bool_or(strpos(substr(path, char_length($2) + 1), '/') > 0), max(size)"
                     " FROM artifact_files"
                     " WHERE run_id = $1 AND path >= $2 COLLATE \"C\""
                     "   AND ($3::text IS NULL OR path < $3 COLLATE \"C\")"
                     " GROUP BY 1 ORDER BY 1",
                     3, params, &res);
    free(lo);
    free(hi);
    if (rc != DB_OK)
        return rc;
    size_t rows = (size_t)PQntuples(res);
    *out = arena_alloc(arena, (rows ? rows : 1) * sizeof **out);
    for (size_t i = 0; i < rows; i++) {
        (*out)[i].name = su_str(res, (int)i, 0, arena);
        (*out)[i].is_dir = PQgetvalue(res, (int)i, 1)[0] == 't';
        (*out)[i].size = su_int64(res, (int)i, 2);
    }
    *n = rows;
    PQclear(res);
    return DB_OK;
}

int store_artifact_delete(int64_t run, const char *path, int64_t *removed)
{
    char id[24];
    char *lo, *hi;
    PGresult *res = NULL;

    *removed = 0;
    dir_range(path, &lo, &hi);
    const char *params[] = {su_i64(id, run), path, lo, hi};
    int rc = db_exec("WITH d AS (DELETE FROM artifact_files WHERE run_id = $1 AND ($2 = ''"
                     "   OR path = $2 OR (path >= $3 COLLATE \"C\" AND path < $4 COLLATE \"C\"))"
                     "   RETURNING 1)"
                     " SELECT count(*) FROM d",
                     4, params, &res);
    free(lo);
    free(hi);
    if (rc != DB_OK)
        return rc;
    *removed = su_int64(res, 0, 0);
    PQclear(res);
    return DB_OK;
}

/* The paths of path's parent directories as a text[] literal ("{}" for a
 * top-level name). */
static void parents_array(const char *path, struct sbuf *b)
{
    int first = 1;
    sbuf_addc(b, '{');
    for (const char *p = strchr(path, '/'); p != NULL; p = strchr(p + 1, '/')) {
        char *parent = xstrndup(path, (size_t)(p - path));
        su_array_text(b, parent, first);
        free(parent);
        first = 0;
    }
    sbuf_addc(b, '}');
}

int store_artifact_check_path(int64_t run, const char *path)
{
    char id[24];
    char *lo, *hi;
    struct sbuf parents;
    PGresult *res = NULL;

    sbuf_init(&parents);
    parents_array(path, &parents);
    dir_range(path, &lo, &hi);
    const char *params[] = {su_i64(id, run), parents.data, lo, hi};
    int rc = db_exec("SELECT 1 FROM artifact_files WHERE run_id = $1 AND (path = ANY($2::text[])"
                     "   OR (path >= $3 COLLATE \"C\" AND path < $4 COLLATE \"C\")) LIMIT 1",
                     4, params, &res);
    free(lo);
    free(hi);
    sbuf_cleanup(&parents);
    if (rc != DB_OK)
        return rc;
    rc = PQntuples(res) > 0 ? DB_ARTIFACT_CONFLICT : DB_OK;
    PQclear(res);
    return rc;
}
